// Direct logit attribution: how much each part of the residual stream at one
// position pushes logit(answer) - logit(foil), with the final LayerNorm's
// scale frozen at its value on the real final residual. Definitions:
// docs/circuits.md. Shapes use the letters of config.h.
//
// The final residual x = residual[L][t] is a sum of parts: the embeddings
// wte[id] + wpe[t]; each head's output gain * z[t, h*D:(h+1)*D] @
// c_proj_w[h*D:(h+1)*D, :]; each layer's attention bias c_proj_b; each MLP's
// output (before its bias); each MLP's bias mlp.c_proj_b. With s = 1 / std(x)
// (ln_f's own, frozen) and d = wte[answer] - wte[foil],
//   logit diff = ((x - mean(x)) * s * ln_f_w) . d + ln_f_b . d
// is linear in x: a part p contributes (p - mean(p)) . u, u = s * ln_f_w * d
// (its own mean over C subtracted, since LayerNorm's centring is linear),
// which equals p . (u - mean(u)). ln_f_b . d goes to `bias` with the other
// biases. The parts therefore sum to the real logit difference.
#pragma once
#include <vector>

#include "model.h"
#include "session.h"

namespace hl {

struct LogitAttribution {
  int position = 0;           // t
  int answer = 0, foil = 0;   // token ids
  std::vector<double> heads;  // (L, H) each head, with its gain (what the edited model adds)
  std::vector<double> mlps;   // (L) each MLP without its bias; 0 for attn_only models
  double embed = 0.0;         // wte[ids[t]] + wpe[t]
  double bias = 0.0;          // every c_proj_b and mlp.c_proj_b, and ln_f_b . d
  double total = 0.0;         // the sum of every part above
  double actual = 0.0;        // logits[t][answer] - logits[t][foil] of the trace
};

// Attribution at position t of trace, a pass of model with head_gains (L, H)
// (the gains the trace was run with: head_z is before gains); the trace
// must be a whole pass (Engine::trace(), not a Session with head_pending()).
// The MLPs' outputs at t are recomputed from the trace (residual, gained z),
// not taken as a difference of residuals, so `total` against `actual` checks
// the whole decomposition. Cost: about 10 C^2 per layer and nothing
// vocabulary-sized, far below one forward pass. t outside [0, T), an answer
// or foil outside the vocabulary, answer == foil, or gains of the wrong
// size: hl::Error.
LogitAttribution direct_logit_attribution(const Model& model, const Trace& trace,
                                          const std::vector<float>& head_gains, int position,
                                          int answer, int foil);

}  // namespace hl
