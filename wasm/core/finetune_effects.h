// What fine-tuning heads did (issue 18): the model before and after on the
// examples and on a held-out text. The edit is meant to lower the examples'
// loss; its side effects are the held-out loss moving and other heads'
// patterns moving (their inputs changed: the edited heads write into the
// residual stream every later layer reads).
//
// moved[l][h] = the mean over query rows t of the JS distance
// sqrt(JSD(before[t], after[t]) / ln 2) (run_compare.h) of head (l, h)'s
// attention on the held-out text, in [0, 1]; 0 for an unchanged pattern.
//
// Shapes (config.h letters): E examples, K edited heads, T_e example e's
// tokens, T the held-out text's (at most P).
#pragma once
#include <memory>
#include <vector>

#include "head_finetune.h"
#include "model.h"

namespace hl {

struct FineTuneEffects {
  // Mean next-token loss (nats/token) over every example's targets.
  float examples_loss_before = 0.0f, examples_loss_after = 0.0f;
  float heldout_loss_before = 0.0f, heldout_loss_after = 0.0f;
  int heldout_tokens = 0;                 // T: the held-out ids run (at most P)
  std::vector<float> moved;               // (L, H) mean JS distance on the held-out text
  std::vector<int> example_token_counts;  // (E) T_e: each example's tokens as run
  // For each example e, for each edited head k in order: (T_e, T_e), one
  // after another (example-major).
  std::vector<float> edited_before, edited_after;
};

// examples: each at most P + 1 tokens (finetune_batch's tokens_used; only
// the first P run); heldout: at least 2 tokens, cut to P. Throws hl::Error
// for models of different shapes or a held-out text of fewer than 2 tokens.
FineTuneEffects finetune_effects(std::shared_ptr<const Model> before,
                                 std::shared_ptr<const Model> after,
                                 const std::vector<HeadIndex>& heads,
                                 const std::vector<std::vector<int>>& examples,
                                 const std::vector<int>& heldout);

}  // namespace hl
