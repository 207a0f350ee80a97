// Activation patching between two prompts: which heads and which positions
// carry the difference between a clean and a corrupted text. Definitions in
// docs/circuits.md ("Activation patching"). Shapes use the letters of
// config.h.
//
// Both texts have T tokens. The metric is logit(answer) - logit(foil) at the
// last position (T - 1), read from the final residual row through ln_f and
// the two tied unembedding rows. A patched run is the corrupted run with
// some activation replaced by the clean run's, the unedited model (every
// gain 1); its figure is reported as recovery
//   (patched - corrupted) / (clean - corrupted)
// (1: the patch restores the clean metric, 0: it changes nothing).
//
// A patch at layer l changes nothing below l, so every patched run starts
// from the corrupted trace's residual[l] (and, for a head's z, layer l's
// attention, which its input does not change). The head runs of one layer go
// through the layers above as one batch of sequences; a residual patch from
// position t recomputes only rows t..T-1 (rows before t, and their keys and
// values, are the corrupted run's: attention is causal) and, in the last
// layer, only the last query row (the metric's). Every kernel of the block
// is row-wise, so none of this changes a bit of the result.
#pragma once
#include <memory>
#include <vector>

#include "model.h"

namespace hl {

struct PatchingMaps {
  std::vector<int> clean_ids;      // (T)
  std::vector<int> corrupted_ids;  // (T)
  int answer = 0, foil = 0;
  float clean = 0.0f;      // the metric of the clean run
  float corrupted = 0.0f;  // the metric of the corrupted run
  // (L, H) the corrupted run with head (l, h)'s z replaced by the clean
  // run's at every position: patched metric and recovery.
  std::vector<float> head_z_metric;
  std::vector<float> head_z;
  // (L + 1, T) the corrupted run with residual[l][t] (the stream entering
  // layer l; l = L: ln_f's input) replaced by the clean run's.
  std::vector<float> residual_metric;
  std::vector<float> residual;
};

// (patched - corrupted) / (clean - corrupted); NaN when clean == corrupted
// (there is no difference to recover).
float patch_recovery(float patched, float clean, float corrupted);

// The two runs of a clean and a corrupted text, kept for patching.
class ActivationPatcher {
 public:
  // Throws hl::Error when the texts' token counts differ (naming both), a
  // text is empty or longer than n_positions, or answer or foil is not a
  // token id of the model.
  ActivationPatcher(std::shared_ptr<const Model> model, std::vector<int> clean_ids,
                    std::vector<int> corrupted_ids, int answer, int foil);

  int T() const { return T_; }
  float clean_metric() const { return clean_metric_; }
  float corrupted_metric() const { return corrupted_metric_; }

  // The metric of the corrupted run with the z of every head in `heads` of
  // layer `layer` replaced by the clean run's at every position.
  float head_z_patched(int layer, const std::vector<int>& heads) const;
  // The metric of the corrupted run with residual[layer] (0..L) replaced by
  // the clean run's at `positions`. Every position: the clean metric bit for
  // bit; none: the corrupted one.
  float residual_patched(int layer, const std::vector<int>& positions) const;

  // Every head alone: (L, H) patched metrics, each bit-equal to
  // head_z_patched(l, {h}). Runs of a layer are batched, at most
  // max_batch_rows rows (G sequences of T tokens, at least one) at a time.
  std::vector<float> head_z_map(int max_batch_rows = 1024) const;
  // Every (layer, position) alone: (L + 1, T), each bit-equal to
  // residual_patched(l, {t}).
  std::vector<float> residual_map() const;

  // The maps asked for, with recovery (a map not asked for stays empty).
  PatchingMaps maps(bool head_z = true, bool residual = true) const;

 private:
  struct Run {
    std::vector<float> residual;  // (L + 1, T, C)
    std::vector<float> head_z;    // (L, T, H, D)
  };
  Run run_unedited(const std::vector<int>& ids) const;
  // The metric of final residual row x (C).
  float metric_of_row(const float* x) const;
  // residual_patched in scratch sized for one sequence (struct PatchScratch).
  template <typename Scratch>
  float residual_patched_in(int layer, const std::vector<int>& positions, Scratch& s) const;

  std::shared_ptr<const Model> model_;
  std::vector<int> clean_ids_, corrupted_ids_;
  int answer_, foil_;
  int T_;
  Run clean_, corrupted_;
  std::vector<float> corrupted_qkv_;  // (L, T, 3C) c_attn output of the corrupted run
  float clean_metric_ = 0.0f, corrupted_metric_ = 0.0f;
};

}  // namespace hl
