// The model before and after fine-tuning heads, side by side
// (finetune_effects.h).
#include "finetune_effects.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "error.h"
#include "run_compare.h"
#include "session.h"

namespace hl {

namespace {

// Sum and count of the defined token losses of ids (cut to P) in session.
void add_losses(Session& session, const std::vector<int>& ids, double& sum, int& count) {
  session.run(ids);
  const Trace& trace = session.trace();
  for (int t = 0; t + 1 < trace.T; ++t) sum += trace.token_loss[t];
  count += std::max(0, trace.T - 1);
}

}  // namespace

FineTuneEffects finetune_effects(std::shared_ptr<const Model> before,
                                 std::shared_ptr<const Model> after,
                                 const std::vector<HeadIndex>& heads,
                                 const std::vector<std::vector<int>>& examples,
                                 const std::vector<int>& heldout) {
  const ModelConfig& cfg = before->config;
  if (after->weights.block.size() != before->weights.block.size() ||
      after->config.n_layer != cfg.n_layer || after->config.n_head != cfg.n_head)
    throw Error("fine-tune: the models before and after differ in shape");
  if (heldout.size() < 2) throw Error("fine-tune: the held-out text needs at least 2 tokens");
  const int L = cfg.n_layer, H = cfg.n_head, P = cfg.n_positions;
  Session session_before(before, 1), session_after(after, 1);
  FineTuneEffects out;

  // The examples: losses, and the edited heads' patterns.
  double sum_before = 0.0, sum_after = 0.0;
  int count_before = 0, count_after = 0;
  for (const std::vector<int>& ids : examples) {
    add_losses(session_before, ids, sum_before, count_before);
    add_losses(session_after, ids, sum_after, count_after);
    const Trace& a = session_before.trace();
    const Trace& b = session_after.trace();
    const int T = a.T;
    out.example_token_counts.push_back(T);
    const size_t TT = static_cast<size_t>(T) * T;
    for (const HeadIndex& hd : heads) {
      const size_t at = (static_cast<size_t>(hd.layer) * H + hd.head) * TT;
      out.edited_before.insert(out.edited_before.end(), a.attn_probs.begin() + at,
                               a.attn_probs.begin() + at + TT);
      out.edited_after.insert(out.edited_after.end(), b.attn_probs.begin() + at,
                              b.attn_probs.begin() + at + TT);
    }
  }
  out.examples_loss_before = static_cast<float>(sum_before / std::max(1, count_before));
  out.examples_loss_after = static_cast<float>(sum_after / std::max(1, count_after));

  // The held-out text: loss and every head's movement.
  const std::vector<int> held(heldout.begin(), heldout.begin() + std::min<size_t>(heldout.size(), P));
  double hb = 0.0, ha = 0.0;
  int nb = 0, na = 0;
  add_losses(session_before, held, hb, nb);
  add_losses(session_after, held, ha, na);
  out.heldout_loss_before = static_cast<float>(hb / nb);
  out.heldout_loss_after = static_cast<float>(ha / na);
  const int T = session_before.trace().T;
  out.heldout_tokens = T;
  const size_t TT = static_cast<size_t>(T) * T;
  out.moved.assign(static_cast<size_t>(L) * H, 0.0f);
  for (int i = 0; i < L * H; ++i) {
    const float* a = session_before.trace().attn_probs.data() + i * TT;
    const float* b = session_after.trace().attn_probs.data() + i * TT;
    const RunComparison c = compare_head_runs(a, held, b, held, 0);
    double sum = 0.0;
    for (float d : c.js_distance) sum += d;
    out.moved[i] = static_cast<float>(sum / T);
  }
  return out;
}

}  // namespace hl
