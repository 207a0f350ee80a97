// The logit lens (nostalgebraist, 2020, "interpreting GPT: the logit lens"):
// the residual stream read as if it were the last one. The residual entering
// each layer, and the one leaving the last (the Trace's residual, (L+1, T, C)),
// goes through the final LayerNorm ln_f and the unembedding (the tied wte)
// with its own mean and scale, and the softmax of those logits says what the
// model "would predict" after that many layers. Definitions: docs/circuits.md.
// Shapes use the letters of config.h, plus K = top-k and P = positions lensed.
#pragma once
#include <vector>

#include "model.h"
#include "session.h"

namespace hl {

struct LogitLens {
  int n_rows = 0;                  // L + 1: residual[l] enters layer l; [L] enters ln_f
  int top_k = 0;                   // K
  int answer = -1;                 // token whose rank and probability are kept; -1 none
  std::vector<int> positions;      // (P) the positions lensed, as asked
  std::vector<int> top_k_ids;      // (L+1, P, K) most probable tokens, best first
  std::vector<float> top_k_probs;  // (L+1, P, K)
  std::vector<int> answer_rank;    // (L+1, P) 1 = most probable; empty without answer
  std::vector<float> answer_prob;  // (L+1, P); empty without answer
};

// The lens of trace (a pass of model) at `positions` (empty: every position
// 0..T-1), at every layer. Row [L] is the model's own prediction: it reuses
// the trace's logits, which ln_f and wte give bit for bit the same (so the
// trace must be a whole pass: Engine::trace(), not a Session with
// head_pending()).
// Cost: L * P * V * C multiply-adds (the LM head once per layer and
// position), so a caller that wants to stay within a forward pass lenses the
// selected position only (P = 1: L * V * C); every position is L times the
// LM head of the forward pass (for GPT-2 small, 4x a whole forward pass).
// top_k in 1..V, answer in -1..V-1, positions in [0, T): hl::Error otherwise.
LogitLens logit_lens(const Model& model, const Trace& trace, int top_k, int answer,
                     const std::vector<int>& positions = {});

// Softmax of one logits row (V) summarised: the K most probable ids, best
// first (ties: lower id first), their probabilities, and (answer >= 0) the
// answer's rank (1 + the number of strictly larger logits) and probability.
// exp_row is scratch of V floats. The sum of exponentials is in double.
void summarise_logits(const float* logits, int V, int K, int answer, float* exp_row, int* top_ids,
                      float* top_probs, int* answer_rank, float* answer_prob);

}  // namespace hl
