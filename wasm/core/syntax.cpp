// Syntax probing on part-of-speech tags: see syntax.h.
#include "syntax.h"

#include <algorithm>
#include <string>

#include "error.h"
#include "json_limits.h"

namespace hl {

namespace {

using Json = nlohmann::json;

int int_field(const Json& value, const std::string& where) {
  if (!value.is_number_integer()) throw Error(where + " must be a whole number, got " + describe_json(value));
  const auto v = value.get<long long>();
  if (v < 0 || v > (1 << 30)) throw Error(where + " is out of range: " + describe_json(value));
  return static_cast<int>(v);
}

}  // namespace

PosProbe parse_pos_probe(const std::string& json) {
  const Json doc = parse_json_bounded(json.data(), json.data() + json.size(), JsonLimits{},
                                      "probe file", "probe file: not valid JSON")
                       .value;
  if (!doc.is_object()) throw Error("probe file: expected a JSON object");
  if (doc.value("format", std::string()) != "headlight-pos-probe-1")
    throw Error("probe file: format must be \"headlight-pos-probe-1\"");
  const Json& tags = doc.contains("tags") ? doc["tags"] : Json();
  if (!tags.is_array() || tags.empty() || tags.size() > kMaxProbeTags)
    throw Error("probe file: tags must be an array of 1.." + std::to_string(kMaxProbeTags) + " names");
  PosProbe probe;
  for (const Json& t : tags) {
    if (!t.is_string()) throw Error("probe file: a tag is not a string: " + describe_json(t));
    probe.tags.push_back(t.get<std::string>());
  }
  const Json& sentences = doc.contains("sentences") ? doc["sentences"] : Json();
  if (!sentences.is_array() || sentences.empty())
    throw Error("probe file: sentences must be a non-empty array");
  if (sentences.size() > kMaxProbeSentences)
    throw Error("probe file: more than " + std::to_string(kMaxProbeSentences) + " sentences");
  const int G = static_cast<int>(probe.tags.size());
  for (size_t s = 0; s < sentences.size(); ++s) {
    const std::string where = "probe file: sentence " + std::to_string(s);
    const Json& sentence = sentences[s];
    if (!sentence.is_object() || !sentence.contains("text") || !sentence["text"].is_string() ||
        !sentence.contains("words") || !sentence["words"].is_array())
      throw Error(where + " needs a text string and a words array");
    TaggedSentence out;
    out.text = sentence["text"].get<std::string>();
    if (out.text.empty()) throw Error(where + " has an empty text");
    int previous_end = 0;
    for (size_t w = 0; w < sentence["words"].size(); ++w) {
      const std::string at = where + " word " + std::to_string(w);
      const Json& word = sentence["words"][w];
      if (!word.is_array() || word.size() != 3) throw Error(at + " must be [start, end, tag]");
      TaggedWord tw{int_field(word[0], at + " start"), int_field(word[1], at + " end"),
                    int_field(word[2], at + " tag")};
      if (tw.start < previous_end || tw.end <= tw.start || tw.end > static_cast<int>(out.text.size()))
        throw Error(at + " spans bytes " + std::to_string(tw.start) + ".." + std::to_string(tw.end) +
                    ": out of order or outside the text's " + std::to_string(out.text.size()) + " bytes");
      if (tw.tag >= G) throw Error(at + " has tag " + std::to_string(tw.tag) + " of " + std::to_string(G));
      previous_end = tw.end;
      out.words.push_back(tw);
    }
    probe.sentences.push_back(std::move(out));
  }
  return probe;
}

std::vector<int> token_tags(const Tokenizer& tokenizer, const std::vector<int>& ids,
                            const TaggedSentence& sentence) {
  std::vector<int> tags(ids.size(), -1);
  const std::string& text = sentence.text;
  size_t byte = 0, word = 0;
  for (size_t t = 0; t < ids.size(); ++t) {
    const size_t end = std::min(text.size(), byte + tokenizer.token_bytes(ids[t]).size());
    size_t first = byte;  // the token's first non-space byte
    while (first < end && (text[first] == ' ' || text[first] == '\t' || text[first] == '\n')) ++first;
    if (first < end) {
      while (word < sentence.words.size() && sentence.words[word].end <= static_cast<int>(first)) ++word;
      if (word < sentence.words.size() && sentence.words[word].start <= static_cast<int>(first))
        tags[t] = sentence.words[word].tag;
    }
    byte = end;
  }
  return tags;
}

SyntaxAccumulator::SyntaxAccumulator(int n_layer, int n_head, int n_tags, int max_T_)
    : L(n_layer), H(n_head), G(n_tags), max_T(max_T_),
      mass(static_cast<size_t>(n_layer) * n_head * n_tags * n_tags, 0.0),
      attn_sum(static_cast<size_t>(n_layer) * n_head * max_T_ * max_T_, 0.0),
      sentences_longer_than(max_T_, 0) {}

void SyntaxAccumulator::add(const float* attn, const std::vector<int>& tags) {
  add_sentence(tags);
  const size_t HTT = static_cast<size_t>(H) * tags.size() * tags.size();
  for (int l = 0; l < L; ++l) add_layer(l, attn + l * HTT, tags);
}

void SyntaxAccumulator::add_sentence(const std::vector<int>& tags) {
  const int T = static_cast<int>(tags.size());
  if (T > max_T) throw Error("syntax probe: a sentence of " + std::to_string(T) + " tokens, more than " +
                             std::to_string(max_T));
  for (int q = 0; q < T; ++q) sentences_longer_than[q] += 1;
  sentence_tags.push_back(tags);
}

void SyntaxAccumulator::add_layer(int layer, const float* attn, const std::vector<int>& tags) {
  const int T = static_cast<int>(tags.size());
  if (T > max_T || layer < 0 || layer >= L)
    throw Error("syntax probe: layer " + std::to_string(layer) + " of a sentence of " + std::to_string(T) +
                " tokens does not fit " + std::to_string(L) + " layers of at most " + std::to_string(max_T));
  const size_t TT = static_cast<size_t>(T) * T, MM = static_cast<size_t>(max_T) * max_T;
  for (int i = layer * H; i < (layer + 1) * H; ++i) {
    const float* A = attn + (i - layer * H) * TT;
    double* pairs = mass.data() + static_cast<size_t>(i) * G * G;
    double* sum = attn_sum.data() + i * MM;
    for (int q = 1; q < T; ++q) {
      for (int k = 0; k <= q; ++k) {
        const double a = A[static_cast<size_t>(q) * T + k];
        sum[static_cast<size_t>(q) * max_T + k] += a;
        if (tags[q] >= 0 && tags[k] >= 0) pairs[tags[q] * G + tags[k]] += a;
      }
    }
  }
}

SyntaxProbeResult syntax_result(const SyntaxAccumulator& acc, const std::vector<std::string>& tags) {
  if (static_cast<int>(tags.size()) != acc.G) throw Error("syntax probe: tag names do not match");
  SyntaxProbeResult r;
  r.L = acc.L, r.H = acc.H, r.G = acc.G, r.tags = tags;
  r.n_sentences = static_cast<int>(acc.sentence_tags.size());
  r.queries.assign(acc.G, 0);
  for (const std::vector<int>& st : acc.sentence_tags) {
    r.n_tokens += static_cast<int>(st.size());
    for (size_t q = 0; q < st.size(); ++q) {
      if (st[q] < 0) r.n_untagged += 1;
      else if (q >= 1) r.queries[st[q]] += 1;
    }
  }
  r.mass = acc.mass;
  r.chance.assign(r.mass.size(), 0.0);
  const int M = acc.max_T, G = acc.G;
  // The profile P[q][k] = attn_sum[q][k] / sentences with T > q, summed
  // over every sentence's (a-query, b-key) positions.
  std::vector<double> profile(static_cast<size_t>(M) * M);
  for (int i = 0; i < acc.L * acc.H; ++i) {
    const double* sum = acc.attn_sum.data() + static_cast<size_t>(i) * M * M;
    for (int q = 0; q < M; ++q) {
      const int n = acc.sentences_longer_than[q];
      for (int k = 0; k < M; ++k)
        profile[static_cast<size_t>(q) * M + k] = n > 0 ? sum[static_cast<size_t>(q) * M + k] / n : 0.0;
    }
    double* chance = r.chance.data() + static_cast<size_t>(i) * G * G;
    for (const std::vector<int>& st : acc.sentence_tags) {
      for (size_t q = 1; q < st.size(); ++q) {
        if (st[q] < 0) continue;
        for (size_t k = 0; k <= q; ++k)
          if (st[k] >= 0) chance[st[q] * G + st[k]] += profile[q * M + k];
      }
    }
  }
  return r;
}

std::vector<SyntaxPair> SyntaxProbeResult::top_pairs(int layer, int head, int n) const {
  if (layer < 0 || layer >= L || head < 0 || head >= H)
    throw Error("syntax probe: no head " + std::to_string(layer) + "." + std::to_string(head));
  const size_t base = (static_cast<size_t>(layer) * H + head) * G * G;
  std::vector<SyntaxPair> pairs;
  for (int a = 0; a < G; ++a) {
    if (queries[a] < kSyntaxMinQueries) continue;
    for (int b = 0; b < G; ++b) {
      const double m = mass[base + a * G + b], c = chance[base + a * G + b];
      SyntaxPair p{a, b, m / queries[a], c / queries[a], c > 0 ? m / c : 0.0};
      if (p.share >= kSyntaxMinShare) pairs.push_back(p);
    }
  }
  // Highest ratio first; ties (exact ones: a positional head's 1s) by share.
  std::stable_sort(pairs.begin(), pairs.end(), [](const SyntaxPair& x, const SyntaxPair& y) {
    return x.ratio != y.ratio ? x.ratio > y.ratio : x.share > y.share;
  });
  if (static_cast<int>(pairs.size()) > n) pairs.resize(std::max(n, 0));
  return pairs;
}

bool SyntaxProbeResult::is_syntactic(int layer, int head) const {
  const std::vector<SyntaxPair> best = top_pairs(layer, head, 1);
  return !best.empty() && best[0].ratio >= kSyntaxRatio;
}

}  // namespace hl
