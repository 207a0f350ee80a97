// Syntax probing: which part-of-speech pairs does each head attend between,
// above chance? On a set of tagged sentences (the Brown probe,
// web/public/probes/brown-pos.json, made by models/recipes/build-syntax-probe.mjs),
// each sentence run alone by the unedited model. Definitions (docs/heads.md,
// "Syntactic heads"; G tags, a and b tag indices):
//
//   token tags   a token takes the tag of the word holding its first
//                non-space byte, so every token of a word split into several
//                tokens carries the word's tag; a token of spaces only is
//                untagged (it is neither a query nor a key of any pair, but
//                keeps its attention: shares need not sum to 1)
//   mass[a][b]   sum, over the queries q >= 1 of tag a of every sentence, of
//                the head's attention from q to the keys k <= q of tag b
//   chance[a][b] the same sum for the head's positional profile P, the mean
//                of its attention over the probe's sentences at each (query
//                position, key position): P[q][k] = mean over the sentences
//                of more than q tokens of A[q][k]. P attends by position
//                alone, the same in every sentence, so it keeps what is
//                positional (previous token, first token, a recency slope)
//                and forgets which words are where: a pure previous-token
//                head has chance = mass and ratio 1 for every pair.
//   share        mass[a][b] / (queries of tag a): the part of an a-query's
//                attention that goes to b-keys, in [0, 1]
//   ratio        mass[a][b] / chance[a][b]
// A pair counts when its query tag has at least kSyntaxMinQueries queries
// and its share is at least kSyntaxMinShare; a head is syntactic when one of
// its counted pairs has a ratio of at least kSyntaxRatio.
#pragma once
#include <string>
#include <vector>

#include "model.h"

namespace hl {

constexpr double kSyntaxRatio = 2.0;
constexpr double kSyntaxMinShare = 0.1;
constexpr int kSyntaxMinQueries = 20;
// Pairs a head lists (the page's view, the command line's default).
constexpr int kSyntaxTopPairs = 5;

// One tagged sentence of a probe file: its text (UTF-8) and its words as
// byte spans [start, end) of the text, in order, each with a tag index.
struct TaggedWord {
  int start = 0, end = 0, tag = 0;
};
struct TaggedSentence {
  std::string text;
  std::vector<TaggedWord> words;
};
struct PosProbe {
  std::vector<std::string> tags;  // (G)
  std::vector<TaggedSentence> sentences;
};

// The probe file (format "headlight-pos-probe-1"); throws hl::Error naming
// the sentence and word that is wrong (spans out of the text or out of
// order, a tag outside tags, more than kMaxProbeSentences sentences).
constexpr int kMaxProbeSentences = 10000;
constexpr int kMaxProbeTags = 64;
PosProbe parse_pos_probe(const std::string& json);

// (T) tag of each token of a sentence given as ids: token t covers the next
// token_bytes(ids[t]).size() bytes of the text; -1 = untagged.
std::vector<int> token_tags(const Tokenizer& tokenizer, const std::vector<int>& ids,
                            const TaggedSentence& sentence);

// Sums of one probe over its sentences, before chance: every sentence's
// tags, and per head the pair masses and the attention summed by
// (query position, key position).
class SyntaxAccumulator {
 public:
  // max_T: the longest sentence that will be added.
  SyntaxAccumulator(int n_layer, int n_head, int n_tags, int max_T);
  // One sentence: attn (L, H, T, T) as in the Trace, tags (T) in -1..G-1.
  // The same as add_sentence, then add_layer for every layer.
  void add(const float* attn, const std::vector<int>& tags);
  // A sentence's tags (T), before its layers are added.
  void add_sentence(const std::vector<int>& tags);
  // One layer of a sentence: attn (H, T, T), tags (T). The sums of a head
  // take its sentences in the order they come, so adding every sentence's
  // layer l in probe order gives the bits of add() a sentence at a time.
  void add_layer(int layer, const float* attn, const std::vector<int>& tags);

  int L, H, G, max_T;
  std::vector<std::vector<int>> sentence_tags;  // every sentence added, (T) each
  std::vector<double> mass;                     // (L, H, G, G)
  std::vector<double> attn_sum;                 // (L, H, max_T, max_T)
  std::vector<int> sentences_longer_than;       // (max_T) sentences with T > q
};

struct SyntaxPair {
  int query_tag = 0, key_tag = 0;
  double share = 0;         // mass / queries of query_tag
  double chance_share = 0;  // chance / queries of query_tag
  double ratio = 0;         // mass / chance (0 when chance is 0)
};

struct SyntaxProbeResult {
  int L = 0, H = 0, G = 0;
  std::vector<std::string> tags;  // (G)
  int n_sentences = 0, n_tokens = 0, n_untagged = 0;
  std::vector<int> queries;       // (G) queries q >= 1 of each tag
  std::vector<double> mass;       // (L, H, G, G)
  std::vector<double> chance;     // (L, H, G, G)

  // Head (l, h)'s counted pairs (see above), highest ratio first, at most n.
  std::vector<SyntaxPair> top_pairs(int layer, int head, int n) const;
  bool is_syntactic(int layer, int head) const;
};

// The masses and chance of an accumulator (the second pass: the chance
// needs every sentence's profile first).
SyntaxProbeResult syntax_result(const SyntaxAccumulator& acc, const std::vector<std::string>& tags);

// The whole probe on a model, in one call or in parts: syntax_run.h.

}  // namespace hl
