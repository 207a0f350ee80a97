// Which heads matter, from one backward pass: the gradient of the mean loss
// with respect to every head's gain (Michel, Levy and Neubig 2019, "Are
// Sixteen Heads Really Better than One?", head importance: each head's output
// is multiplied by a gate xi_h, and I_h = |d L / d xi_h|). Headlight's gain
// is that gate: it multiplies the head's z before c_proj (block.h), so
//
//   d mean_loss / d gain[l][h] = sum over t < T-1, d < D of
//       d mean_loss / d z_gained[l][t][h*D + d] * z[l][t][h*D + d]
//
// where z is the head's output before gains (its replacement when the edits
// replace it: mean or resample ablation) and z_gained = gain * z is c_proj's
// input. mean_loss is Trace::mean_loss: the mean of the T-1
// next-token losses of the text. The first-order change of the mean loss
// when head (l, h) is muted from gain g is -g * d mean_loss / d gain[l][h];
// the exact change is what a mute-and-rerun gives (docs/heads.md compares
// the two).
//
// The backward pass is the Trainer's (train.h), the same one that trains the
// models, run on a loaded model in place: a forward with the gains, backward
// from the mean loss to each layer's c_proj input, no parameter gradients.
// Cost: one forward and about one backward of activations only.
#pragma once
#include <vector>

#include "model.h"

namespace hl {

// (L, H) d mean_loss / d gain for every head at gains (L, H), on ids (ids
// beyond n_positions are dropped, as Session::run truncates them). The sign
// is kept: positive means a larger gain raises the loss. Throws hl::Error
// for fewer than 2 ids (no next-token loss), an id outside the vocabulary,
// gains of the wrong size or a non-finite gain.
//
// replaced_z (empty, or L * H entries as HeadEdits::z: each empty, (D) or
// (T, D)) are the heads whose z the edits replace (mean or resample
// ablation), before their gains, as the Session runs them: the loss is that
// of the edited model, a replaced head's gradient is the sum of
// d mean_loss / d z_gained * (its replaced z), and no gradient flows through
// a replaced head into its attention (its z no longer depends on it).
std::vector<float> gradient_importance(const Model& model, const std::vector<int>& ids,
                                       const std::vector<float>& gains,
                                       const std::vector<std::vector<float>>& replaced_z = {});

// Spearman's rank correlation of a and b (same length n >= 2): the Pearson
// correlation of their ranks, tied values sharing the mean of their ranks;
// how well the gradient's order of heads matches an exact scan's. NaN when
// either has every value equal. hl::Error for lengths that differ or < 2.
double spearman_rho(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace hl
