#include "lens.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "error.h"
#include "kernels.h"

namespace hl {

namespace {

// Rows lensed at once: bounds the scratch logits to kRowsPerChunk x V
// floats (12.9 MB for GPT-2's vocabulary) whatever T is.
constexpr int kRowsPerChunk = 64;

}  // namespace

void summarise_logits(const float* logits, int V, int K, int answer, float* exp_row, int* top_ids,
                      float* top_probs, int* answer_rank, float* answer_prob) {
  const float max = row_max(logits, V);
  const double sum = exp_shift_sum_f64(exp_row, logits, V, max);  // as the session's softmax

  // The K best by a sorted insertion (K is small); a tie keeps the lower id first.
  int filled = 0;
  for (int v = 0; v < V; v++) {
    const float logit = logits[v];
    if (filled == K && !(logit > logits[top_ids[K - 1]])) continue;
    int i = filled < K ? filled++ : K - 1;
    for (; i > 0 && logit > logits[top_ids[i - 1]]; i--) top_ids[i] = top_ids[i - 1];
    top_ids[i] = v;
  }
  for (int k = 0; k < K; k++) top_probs[k] = static_cast<float>(exp_row[top_ids[k]] / sum);

  if (answer < 0) return;
  const float a = logits[answer];
  int above = 0;
  for (int v = 0; v < V; v++) above += logits[v] > a;
  *answer_rank = 1 + above;
  *answer_prob = static_cast<float>(exp_row[answer] / sum);
}

LogitLens logit_lens(const Model& model, const Trace& trace, int top_k, int answer,
                     const std::vector<int>& positions) {
  const ModelConfig& cfg = model.config;
  const int L = cfg.n_layer, C = cfg.n_embd, V = cfg.vocab_size, T = trace.T;
  if (top_k < 1 || top_k > V) {
    throw Error("logit lens: top_k " + std::to_string(top_k) + " is outside 1.." +
                std::to_string(V));
  }
  if (answer < -1 || answer >= V) {
    throw Error("logit lens: answer id " + std::to_string(answer) + " is outside 0.." +
                std::to_string(V - 1));
  }
  LogitLens lens;
  lens.n_rows = L + 1;
  lens.top_k = top_k;
  lens.answer = answer;
  if (positions.empty()) {
    for (int t = 0; t < T; t++) lens.positions.push_back(t);
  } else {
    for (int t : positions) {
      if (t < 0 || t >= T) {
        throw Error("logit lens: position " + std::to_string(t) + " is outside 0.." +
                    std::to_string(T - 1) + " (the text is " + std::to_string(T) + " tokens)");
      }
    }
    lens.positions = positions;
  }
  const int P = static_cast<int>(lens.positions.size()), K = top_k;
  const size_t n_cells = static_cast<size_t>(L + 1) * P;
  lens.top_k_ids.resize(n_cells * K);
  lens.top_k_probs.resize(n_cells * K);
  if (answer >= 0) {
    lens.answer_rank.resize(n_cells);
    lens.answer_prob.resize(n_cells);
  }

  // Cells (l, p) for l < L in chunks of rows: one GEMM streams the packed
  // LM head once per chunk, so lensing one position at every layer is one
  // (L, C) x (C, V) product, not L products of one row each.
  const size_t n_lensed = static_cast<size_t>(L) * P;
  const int chunk = static_cast<int>(std::min<size_t>(n_lensed, kRowsPerChunk));
  std::vector<float> rows(static_cast<size_t>(chunk) * C);    // (chunk, C) residual rows
  std::vector<float> normed(static_cast<size_t>(chunk) * C);  // (chunk, C) ln_f of them
  std::vector<float> logits(static_cast<size_t>(chunk) * V);  // (chunk, V)
  std::vector<float> exp_row(V);
  int rank_unused = 0;
  float prob_unused = 0.0f;
  const auto summarise = [&](size_t cell, const float* row_logits) {
    summarise_logits(row_logits, V, K, answer, exp_row.data(), lens.top_k_ids.data() + cell * K,
                     lens.top_k_probs.data() + cell * K,
                     answer >= 0 ? &lens.answer_rank[cell] : &rank_unused,
                     answer >= 0 ? &lens.answer_prob[cell] : &prob_unused);
  };
  for (size_t c0 = 0; c0 < n_lensed; c0 += chunk) {
    const int n = static_cast<int>(std::min<size_t>(chunk, n_lensed - c0));
    for (int i = 0; i < n; i++) {
      const size_t cell = c0 + i;  // l * P + p
      const int l = static_cast<int>(cell / P), t = lens.positions[cell % P];
      const float* x = trace.residual.data() + (static_cast<size_t>(l) * T + t) * C;
      std::copy(x, x + C, rows.data() + static_cast<size_t>(i) * C);
    }
    layernorm_forward(normed.data(), nullptr, nullptr, rows.data(), model.weights.ln_f_w,
                      model.weights.ln_f_b, n, C, cfg.layer_norm_epsilon);
    gemm_packed(logits.data(), normed.data(), model.packed_lm_head.data(), nullptr, n, C, V);
    for (int i = 0; i < n; i++) summarise(c0 + i, logits.data() + static_cast<size_t>(i) * V);
  }
  // Row L is the trace's own logits: ln_f and the same GEMM row give them.
  for (int p = 0; p < P; p++) {
    summarise(n_lensed + p, trace.logits.data() + static_cast<size_t>(lens.positions[p]) * V);
  }
  return lens;
}

}  // namespace hl
