#include "analysis.h"

#include <algorithm>
#include <cmath>

#include "error.h"
#include "random.h"
#include "session.h"

namespace hl {

namespace {

void check_query_range(const char* what, int T, int q_begin, int q_end, int lowest_q) {
  if (q_begin < lowest_q || q_end > T || q_begin >= q_end) {
    throw Error(std::string(what) + ": query range [" + std::to_string(q_begin) + ", " +
                std::to_string(q_end) + ") must be non-empty, start at " +
                std::to_string(lowest_q) + " or later and end by T = " + std::to_string(T));
  }
}

}  // namespace

std::vector<float> diagonal_attention_score(const float* attn_probs, int n_layer, int n_head,
                                            int T, int offset, int q_begin, int q_end) {
  check_query_range("diagonal_attention_score", T, q_begin, q_end, offset);
  std::vector<float> score(static_cast<size_t>(n_layer) * n_head);  // (L, H)
  for (int lh = 0; lh < n_layer * n_head; ++lh) {
    const float* att = attn_probs + static_cast<size_t>(lh) * T * T;  // (T, T)
    double sum = 0.0;
    for (int q = q_begin; q < q_end; ++q) sum += att[static_cast<size_t>(q) * T + (q - offset)];
    score[lh] = static_cast<float>(sum / (q_end - q_begin));
  }
  return score;
}

std::vector<float> column_attention_score(const float* attn_probs, int n_layer, int n_head, int T,
                                          int key, int q_begin, int q_end) {
  check_query_range("column_attention_score", T, q_begin, q_end, key);
  std::vector<float> score(static_cast<size_t>(n_layer) * n_head);  // (L, H)
  for (int lh = 0; lh < n_layer * n_head; ++lh) {
    const float* att = attn_probs + static_cast<size_t>(lh) * T * T;  // (T, T)
    double sum = 0.0;
    for (int q = q_begin; q < q_end; ++q) sum += att[static_cast<size_t>(q) * T + key];
    score[lh] = static_cast<float>(sum / (q_end - q_begin));
  }
  return score;
}

double mean_token_loss(const std::vector<float>& token_loss, int t_begin, int t_end) {
  if (t_begin < 0 || t_end > static_cast<int>(token_loss.size()) || t_begin >= t_end) {
    throw Error("mean_token_loss: range [" + std::to_string(t_begin) + ", " +
                std::to_string(t_end) + ") is empty or outside the " +
                std::to_string(token_loss.size()) + " losses");
  }
  double sum = 0.0;
  for (int t = t_begin; t < t_end; ++t) sum += token_loss[t];
  return sum / (t_end - t_begin);
}

std::vector<int> repeated_random_tokens(int half_len, int vocab_size,
                                        const std::vector<int>& excluded, uint64_t seed) {
  std::vector<int> allowed;
  allowed.reserve(vocab_size);
  for (int id = 0; id < vocab_size; ++id) {
    if (std::find(excluded.begin(), excluded.end(), id) == excluded.end()) allowed.push_back(id);
  }
  if (allowed.empty()) throw Error("repeated_random_tokens: every token id is excluded");
  uint64_t state = seed;
  std::vector<int> ids(2 * static_cast<size_t>(half_len));
  for (int i = 0; i < half_len; ++i) {
    // Modulo bias is below 1e-15 for vocabularies of thousands of tokens.
    ids[i] = allowed[splitmix64(state) % allowed.size()];
    ids[half_len + i] = ids[i];
  }
  return ids;
}

std::vector<int> special_token_ids(const Tokenizer& tokenizer) {
  std::vector<int> ids;
  for (int id = tokenizer.vocab_size() - 1; id >= 0; --id) {
    // GPT-2 puts <|endoftext|> last; look at the last few ids only.
    if (tokenizer.token_bytes(id) == "<|endoftext|>") ids.push_back(id);
    if (id < tokenizer.vocab_size() - 8) break;
  }
  return ids;
}

std::vector<int> probe_sequence(const Model& model, const RepeatedSequenceProbe& probe, int s) {
  return repeated_random_tokens(probe.half_len, model.config.vocab_size,
                                special_token_ids(model.tokenizer),
                                probe.seed * 1000003ull + static_cast<uint64_t>(s));
}

namespace {

void check_probe(const ModelConfig& cfg, const RepeatedSequenceProbe& probe) {
  const int n = probe.half_len;
  if (n < 2 || 2 * n > cfg.n_positions) {
    throw Error("repeated-sequence probe: half length " + std::to_string(n) +
                " must be >= 2 with 2n <= n_positions = " + std::to_string(cfg.n_positions));
  }
  if (probe.n_sequences < 1) throw Error("repeated-sequence probe: needs at least one sequence");
}

}  // namespace

std::vector<HeadTypeScores> probe_head_type_scores(std::shared_ptr<const Model> model,
                                                   const RepeatedSequenceProbe& probe) {
  const ModelConfig& cfg = model->config;
  check_probe(cfg, probe);
  std::vector<HeadTypeScores> mean(static_cast<size_t>(cfg.n_layer) * cfg.n_head);  // (L * H)
  Session session(model, 1);
  for (int s = 0; s < probe.n_sequences; ++s) {
    const std::vector<int> ids = probe_sequence(*model, probe, s);
    session.run(ids);
    const std::vector<HeadTypeScores> scores = head_type_scores_all(
        session.trace().attn_probs.data(), cfg.n_layer, cfg.n_head, ids);
    const float w = 1.0f / probe.n_sequences;
    for (size_t i = 0; i < mean.size(); ++i) {
      mean[i].previous_token += scores[i].previous_token * w;
      mean[i].first_token += scores[i].first_token * w;
      mean[i].duplicate_token += scores[i].duplicate_token * w;
      mean[i].induction += scores[i].induction * w;
      mean[i].local += scores[i].local * w;
      mean[i].entropy += scores[i].entropy * w;
    }
  }
  return mean;
}

ProbeResult run_repeated_sequence_probe(std::shared_ptr<const Model> model,
                                        const RepeatedSequenceProbe& probe) {
  const ModelConfig& cfg = model->config;
  const int n = probe.half_len;
  const int T = 2 * n;
  check_probe(cfg, probe);
  const int LH = cfg.n_layer * cfg.n_head;

  ProbeResult result;
  result.heads.n_layer = cfg.n_layer;
  result.heads.n_head = cfg.n_head;
  result.heads.prev_token.assign(LH, 0.0f);
  result.heads.induction.assign(LH, 0.0f);
  result.heads.first_token.assign(LH, 0.0f);
  Session session(model, 1);
  for (int s = 0; s < probe.n_sequences; ++s) {
    const std::vector<int> ids = probe_sequence(*model, probe, s);
    session.run(ids);
    const Trace& trace = session.trace();
    const float* att = trace.attn_probs.data();  // (L, H, T, T)
    const std::vector<float> prev =
        diagonal_attention_score(att, cfg.n_layer, cfg.n_head, T, 1, 1, T);
    // Query q = n + j (second copy) sees token j+1 after the earlier copy of its token j.
    const std::vector<float> induction =
        diagonal_attention_score(att, cfg.n_layer, cfg.n_head, T, n - 1, n, T);
    const std::vector<float> first = column_attention_score(att, cfg.n_layer, cfg.n_head, T, 0, 1, T);
    for (int lh = 0; lh < LH; ++lh) {
      result.heads.prev_token[lh] += prev[lh] / probe.n_sequences;
      result.heads.induction[lh] += induction[lh] / probe.n_sequences;
      result.heads.first_token[lh] += first[lh] / probe.n_sequences;
    }
    // token_loss[t] predicts token t+1: the first copy's tokens 1..n-1 are
    // t in [0, n-1), the second copy's tokens 1..n-1 are t in [n, 2n-1).
    result.loss_first_half += mean_token_loss(trace.token_loss, 0, n - 1) / probe.n_sequences;
    result.loss_second_half += mean_token_loss(trace.token_loss, n, T - 1) / probe.n_sequences;
  }
  return result;
}

}  // namespace hl
