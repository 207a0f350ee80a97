// Activation patching between two prompts: which heads and which positions
// carry the difference between a clean and a corrupted text, and path
// patching (one head's clean output into chosen inputs of other heads).
// Definitions in docs/circuits.md ("Activation patching", "Path
// patching"). Shapes use the letters of config.h.
//
// Both texts have T tokens. The metric (PatchMetric) is logit(answer) -
// logit(foil) at the last position (T - 1), read from the final residual row
// through ln_f and the two tied unembedding rows, or the answer's log-prob
// there (ln_f, every row of the tied LM head, log-softmax). A patched run is the corrupted run with
// some activation replaced by the clean run's, the unedited model (every
// gain 1); its figure is reported as recovery
//   (patched - corrupted) / (clean - corrupted)
// (1: the patch restores the clean metric, 0: it changes nothing).
//
// A patch at layer l changes nothing below l, so every patched run starts
// from the corrupted trace's residual[l] (and, for a head's z, layer l's
// attention, which its input does not change). The head runs of one layer go
// through the layers above as one batch of sequences. A patch of one row t
// (the residual map, the per-position head map) changes no row before t
// (attention is causal): those rows' keys and values are the corrupted
// run's, kept per layer; in the patched layer only row t's q, k, v change
// (the other rows' input is the corrupted run's); the rows t.. of many such
// patches run stacked, as one batch of rows, through the row-wise parts
// (ln, c_attn, c_proj, MLP) and one patch at a time through attention. In
// every map the last layer runs as the metric reads it: only the last query
// row feeds the metric, so the rows before it compute their keys and values
// only (and a head patched in the last layer, its last row only). Every
// kernel of the block is row-wise (and a GEMM's columns are computed alike
// whichever columns a call asks for), so none of this changes a bit of the
// result: each map entry equals the single patch run over every row
// (head_z_patched, head_z_patched_at, residual_patched).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "model.h"

namespace hl {

// What a patched run is measured by, at the last position: logit(answer) -
// logit(foil), or log p(answer) over the whole vocabulary (the foil unused).
enum class PatchMetric { logit_diff, logprob };

// "logit_diff" or "logprob"; hl::Error naming the value otherwise.
PatchMetric patch_metric_from_name(const std::string& name);
const char* patch_metric_name(PatchMetric metric);

struct PatchingMaps {
  std::vector<int> clean_ids;      // (T)
  std::vector<int> corrupted_ids;  // (T)
  int answer = 0, foil = 0;  // foil -1: none (PatchMetric::logprob)
  PatchMetric metric = PatchMetric::logit_diff;
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
  // (L, H, T) the corrupted run with head (l, h)'s z at position t only
  // replaced by the clean run's (asked for separately: L * H * T runs).
  std::vector<float> head_z_pos_metric;
  std::vector<float> head_z_pos;
};

// Path patching (docs/circuits.md): the sender head's clean output, only
// as the receivers read it. With d (T, C) = (z_clean - z_corrupted) of the
// sender through its slice of c_proj, a receiver (l, h)'s chosen inputs
// (q, k and/or v) are computed from ln_1(corrupted residual[l] + d) at every
// position; everything else is the corrupted run's up to the lowest
// receiver layer and recomputed from there (the receivers' other inputs and
// the other heads read the patched run's own stream).
struct PathPatch {
  int sender_layer = 0, sender_head = 0;
  std::vector<int> receivers;  // heads as l * H + h, each in a layer above the sender's
  bool q = true, k = true, v = true;  // which inputs of the receivers read the sender
};

struct PathPatchResult {
  float clean = 0.0f, corrupted = 0.0f;  // the two runs' metrics
  float metric = 0.0f;                   // the path-patched run's
  float recovery = 0.0f;                 // (metric - corrupted) / (clean - corrupted)
};

// (patched - corrupted) / (clean - corrupted); NaN when clean == corrupted
// (there is no difference to recover).
float patch_recovery(float patched, float clean, float corrupted);

// The two runs of a clean and a corrupted text, kept for patching.
class ActivationPatcher {
 public:
  // Throws hl::Error when the texts' token counts differ (naming both), a
  // text is empty or longer than n_positions, or a text's id, answer or
  // foil is not a token id of the model. With PatchMetric::logprob the foil
  // is not read (any value, -1 for none).
  ActivationPatcher(std::shared_ptr<const Model> model, std::vector<int> clean_ids,
                    std::vector<int> corrupted_ids, int answer, int foil,
                    PatchMetric metric = PatchMetric::logit_diff);

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
  // The metric of the corrupted run with the z of the heads in `heads` of
  // `layer` replaced by the clean run's at `positions` only (every position:
  // head_z_patched bit for bit).
  float head_z_patched_at(int layer, const std::vector<int>& heads,
                          const std::vector<int>& positions) const;
  // The metric of the path patch. Throws hl::Error naming a sender or a
  // receiver out of range, or a receiver not above the sender. No receiver
  // (or no input chosen) gives the corrupted metric bit for bit.
  float path_patched(const PathPatch& path) const;

  // Every head alone: (L, H) patched metrics, each bit-equal to
  // head_z_patched(l, {h}). Runs of a layer are batched, at most
  // max_batch_rows rows (G sequences of T tokens, at least one) at a time.
  std::vector<float> head_z_map(int max_batch_rows = 1024) const;
  // Every (layer, position) alone: (L + 1, T), each bit-equal to
  // residual_patched(l, {t}).
  std::vector<float> residual_map() const;
  // Every head at every position alone: (L, H, T), each bit-equal to
  // head_z_patched_at(l, {h}, {t}).
  std::vector<float> head_z_position_map() const;

  // The maps asked for, with recovery (a map not asked for stays empty).
  PatchingMaps maps(bool head_z = true, bool residual = true, bool head_z_pos = false) const;

 private:
  struct Run {
    std::vector<float> residual;  // (L + 1, T, C)
    std::vector<float> head_z;    // (L, T, H, D)
  };
  struct RowBatch;  // the working buffers of run_row_patches (patching.cpp)
  // Row t of the stream entering a layer replaced by x (C).
  struct RowPatch {
    int t;
    const float* x;
  };
  // Both texts through the unedited model as one batch of two sequences
  // (the Session's pass, the same bits, without its LM head): clean_,
  // corrupted_ and corrupted_qkv_.
  void run_both();
  // The metric of final residual row x (C).
  float metric_of_row(const float* x) const;
  // The metrics (into metrics, one per patch) of the corrupted run with one
  // row of residual[layer] replaced, for each patch alone, computing only
  // what that row changes (see the top of this file). The patches' rows run
  // stacked as one batch of rows through every row-wise part of the layers
  // (ln, c_attn, c_proj, MLP) and one patch at a time through attention.
  void run_row_patches(int layer, const std::vector<RowPatch>& patches, float* metrics,
                       RowBatch& w) const;
  // out[at[i]] = the metric of patches[i] alone, every patch of residual[layer]
  // (a row equal to the corrupted run's, or of ln_f's input, needs no run),
  // run in batches of at most w's rows.
  void run_row_patches_batched(int layer, const std::vector<RowPatch>& patches,
                               const std::vector<size_t>& at, std::vector<float>& out,
                               RowBatch& w) const;

  std::shared_ptr<const Model> model_;
  std::vector<int> clean_ids_, corrupted_ids_;
  int answer_, foil_;
  PatchMetric metric_;
  int T_;
  Run clean_, corrupted_;
  std::vector<float> corrupted_qkv_;  // (L, T, 3C) c_attn output of the corrupted run
  float clean_metric_ = 0.0f, corrupted_metric_ = 0.0f;
};

}  // namespace hl
