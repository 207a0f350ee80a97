// Which heads matter: the exact ablation scan (every head ablated alone, the
// change in mean loss and in the log-probability of one next token) and the
// pruning curve (heads removed one by one, least important first, against a
// random order). Definitions in docs/heads.md ("Ablation"). Shapes use the
// letters of config.h.
//
// Exact means: the scan's figure for a head is the one a Session gives after
// set_head_gain(l, h, 0) (zero) or set_head_z(l, h, mean) (mean) and a rerun,
// bit for bit. The scan gets there faster by reusing what the base pass
// already has: head (l, h) changes nothing below layer l, so it starts from
// the trace's residual[l] and head_z[l] (layer l's attention is unchanged),
// and the heads of a layer go through the layers above as one batch of
// sequences (block_forward takes B sequences; every kernel is row-wise, so a
// row's bits do not depend on the rows beside it).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model.h"
#include "session.h"

namespace hl {

// How a head is removed: zero (gain 0) or mean (z replaced by its mean over
// a reference text, computed by the unedited model).
enum class AblationMode { zero, mean };
const char* ablation_mode_name(AblationMode mode);
// "zero" or "mean"; anything else throws hl::Error naming it.
AblationMode parse_ablation_mode(const std::string& name);

// The unedited model's head outputs on ids: the trace's head_z (L, T, H, D)
// (T = ids cut to n_positions), the source of resample ablation.
std::vector<float> unedited_head_z(std::shared_ptr<const Model> model, const std::vector<int>& ids);
// Each head's z averaged over the T positions: (L, H, D) from head_z (L, T, H, D).
std::vector<float> mean_head_z(const std::vector<float>& head_z, const ModelConfig& cfg, int T);
// Head (l, h)'s rows of head_z (L, T, H, D): (T, D), for Session::set_head_z.
std::vector<float> head_rows(const std::vector<float>& head_z, const ModelConfig& cfg, int T,
                             int layer, int head);

// Ablates head (layer, head) in session: gain 0 (zero) or z replaced by its
// (D) row of means (L, H, D) (mean); the session's other edits stay.
void ablate_head(Session& session, int layer, int head, AblationMode mode,
                 const std::vector<float>& means);

struct AblationScan {
  AblationMode mode = AblationMode::zero;
  int position = 0;          // p: the next token is ids[p + 1]
  float mean_loss = 0.0f;    // the base pass (the session's edits)
  float logprob = 0.0f;      // log p(ids[p + 1]) of the base pass
  // (L, H) each head ablated alone on top of the base edits, minus the base:
  // mean loss, and log p(ids[p + 1]). NaN for heads skipped.
  std::vector<float> delta_mean_loss;
  std::vector<float> delta_logprob;
};

// Scans every head of session's model (those with skip[l * H + h] set
// excepted, when skip is not empty) on top of session's edits, from its
// current trace (a pending update is finished first). means is (L, H, D)
// for mean mode (may be empty for zero). position in [0, T - 2]; T >= 2.
// The heads of a layer go through the layers above in groups of at most
// max_batch_rows rows (G sequences of T - 1 positions, at least one): that
// bounds the scratch (GPT-2 small at 1024 tokens: one head at a time)
// without costing small models; the figures do not depend on it.
AblationScan ablation_scan(Session& session, AblationMode mode, const std::vector<float>& means,
                           int position, const std::vector<char>& skip = {},
                           int max_batch_rows = 1024);

struct PruningOptions {
  AblationMode mode = AblationMode::zero;
  int rescan_every = 4;  // k: heads removed between two exact scans
  uint64_t seed = 1;     // the random order's
};

struct PruningCurve {
  AblationMode mode = AblationMode::zero;
  int rescan_every = 4;
  // Heads as l * H + h, in the order removed. Importance order: at each
  // scan, the remaining heads whose removal raises the mean loss least come
  // first (Michel et al. 2019 prune the least important heads first).
  std::vector<int> order;                // (L * H)
  std::vector<float> mean_loss;          // (L * H + 1) [k]: the first k of order removed
  std::vector<int> random_order;         // (L * H) a seeded shuffle
  std::vector<float> random_mean_loss;   // (L * H + 1)
};

// Both curves on ids, starting from the unedited model. means (L, H, D) for
// mean mode. Throws for fewer than 2 tokens or rescan_every < 1. The same
// figures as a PruningRun stepped to the end, bit for bit (it is one).
PruningCurve pruning_curve(std::shared_ptr<const Model> model, const std::vector<int>& ids,
                           const PruningOptions& options, const std::vector<float>& means);

// The pruning curves in parts, so a caller can report progress and stop
// between them (the page's worker). A part removes up to rescan_every heads:
// first, one exact scan of the remaining heads and the removal of the
// lowest; once the importance order is complete, the next heads of the
// random order. The session does the same operations in the same order
// however the parts are grouped, so every figure equals pruning_curve's.
class PruningRun {
 public:
  // Runs ids with the unedited model (the curves' point 0). Throws as pruning_curve.
  PruningRun(std::shared_ptr<const Model> model, const std::vector<int>& ids,
             const PruningOptions& options, std::vector<float> means);

  // Up to n_parts more parts (n_parts >= 1); returns done().
  bool step(int n_parts);
  bool done() const { return static_cast<int>(curve_.random_order.size()) == n_heads_; }
  // Heads removed so far over both curves, out of total() = 2 * L * H.
  int removed() const {
    return static_cast<int>(curve_.order.size() + curve_.random_order.size());
  }
  int total() const { return 2 * n_heads_; }
  // The curves so far; complete once done().
  const PruningCurve& curve() const { return curve_; }

 private:
  void remove(int head, std::vector<int>& order, std::vector<float>& losses);
  void importance_part();
  void random_part();

  Session session_;
  PruningOptions options_;
  std::vector<float> means_;  // (L, H, D) for mean mode
  int n_heads_ = 0;           // L * H
  std::vector<char> removed_; // (L * H) of the importance order
  std::vector<int> shuffled_; // (L * H) the random order, drawn at the start
  PruningCurve curve_;
};

}  // namespace hl
