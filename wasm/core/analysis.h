// What the heads of a model do, measured: per-head attention scores on
// synthetic probes (previous-token, induction, first-token), the in-context
// learning score on repeated random sequences (validation loss: validation.h).
//
// The probe follows Olsson et al. (2022), "In-context learning and induction
// heads": a sequence of n uniformly random tokens followed by the same n
// tokens again. In the second copy, an induction head at position q attends to
// the token AFTER the earlier occurrence of the current token, q - n + 1, and
// the model can predict every token but the first of the copy.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "head_types.h"
#include "model.h"
#include "validation.h"

namespace hl {

// ---- scores of one attention pattern -------------------------------------
// attn_probs is (L, H, T, T), rows are queries, causal. Each function returns
// (L, H) means over the queries q in [q_begin, q_end).

// Mean of attn_probs[l][h][q][q - offset]: offset 1 is the previous-token
// score, offset n - 1 the induction score on a sequence repeated with period n.
// Needs q_begin >= offset.
std::vector<float> diagonal_attention_score(const float* attn_probs, int n_layer, int n_head,
                                            int T, int offset, int q_begin, int q_end);

// Mean of attn_probs[l][h][q][key]: key 0 is the first-token score (heads
// that park attention on position 0 when they have nothing to do).
std::vector<float> column_attention_score(const float* attn_probs, int n_layer, int n_head, int T,
                                          int key, int q_begin, int q_end);

// Mean of token_loss[t] for t in [t_begin, t_end); token_loss[t] is the loss
// of predicting token t + 1 (session.h).
double mean_token_loss(const std::vector<float>& token_loss, int t_begin, int t_end);

// ---- the repeated random-token probe ---------------------------------------
struct RepeatedSequenceProbe {
  int half_len = 64;      // n: tokens per copy; the sequence has 2n tokens
  int n_sequences = 16;   // scores are means over this many sequences
  uint64_t seed = 1;
};

struct HeadScores {
  int n_layer = 0;
  int n_head = 0;
  std::vector<float> prev_token;   // (L, H) queries 1 .. 2n-1
  std::vector<float> induction;    // (L, H) queries in the second copy
  std::vector<float> first_token;  // (L, H) queries 1 .. 2n-1 (query 0 has no choice)
};

struct ProbeResult {
  HeadScores heads;
  // Mean loss (nats/token) of the n - 1 predictions inside each copy: tokens
  // 1 .. n-1 of the first copy, tokens 1 .. n-1 of the second. The first token
  // of each copy is left out of both (it cannot be predicted in either).
  double loss_first_half = 0.0;
  double loss_second_half = 0.0;
  // In-context learning score: second minus first; negative = the model
  // learns from the context (copies the earlier occurrence).
  double icl_score() const { return loss_second_half - loss_first_half; }
};

// Token ids of one probe sequence (2n), drawn uniformly from the vocabulary
// except the ids in excluded (special tokens such as <|endoftext|>), with a
// generator of our own so that a seed gives the same tokens everywhere.
std::vector<int> repeated_random_tokens(int half_len, int vocab_size,
                                        const std::vector<int>& excluded, uint64_t seed);

// Sequence s (0 .. n_sequences-1) of the probe on model: each has its own
// stream, so adding sequences keeps the first ones.
std::vector<int> probe_sequence(const Model& model, const RepeatedSequenceProbe& probe, int s);

// Every head's six type scores (head_types.h) on the probe, averaged over its
// sequences: (L * H), as head_type_scores_all. Same checks as below.
std::vector<HeadTypeScores> probe_head_type_scores(std::shared_ptr<const Model> model,
                                                   const RepeatedSequenceProbe& probe);

// Runs the probe on model. Throws hl::Error if 2 * half_len exceeds
// n_positions or half_len < 2.
ProbeResult run_repeated_sequence_probe(std::shared_ptr<const Model> model,
                                        const RepeatedSequenceProbe& probe);

// Ids of the special tokens of a vocabulary (today: <|endoftext|> if present).
std::vector<int> special_token_ids(const Tokenizer& tokenizer);

}  // namespace hl
