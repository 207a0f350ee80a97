// The engine the page (through wasm/bindings/embind.cpp) and the command
// line (wasm/tools/cmd_run.cpp) drive: one loaded model, its Session, and
// the policy around them that both front doors share. The engine, not its
// callers, knows a run's state: the head gains, whether a trace is readable,
// the unedited baseline of the ids run (the page's ghost bars), the first
// layer a rerun recomputed, and which layers' attention changed since a pass
// the caller holds. Shapes use the letters of config.h.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "ablation.h"
#include "copying.h"
#include "model.h"
#include "patching.h"
#include "session.h"
#include "syntax_run.h"

namespace hl {

// Display text of token `id`. A checkpoint's vocab_size may exceed the
// tokenizer's (nanoGPT pads GPT-2's 50257 to 50304): those ids can still win
// a top-k and show as "<unused id N>".
std::string token_display(const Model& model, int id);

// The unedited model (every head gain 1) on the ids of the last
// run_with_baseline(): what an edit is compared with.
struct Baseline {
  int T = 0;
  int top_k = 0;                   // K
  std::vector<float> token_loss;   // (T) NaN at T-1
  float mean_loss = 0.0f;
  std::vector<int> top_k_ids;      // (T, K)
  std::vector<float> top_k_probs;  // (T, K)
  // (T, V) logits and (T) log(sum(exp(logits row))), kept only while T x V
  // is at most Engine::kMaxBaselineLogits floats (64 MB); else empty, and
  // the baseline knows the probabilities of its own top-k only.
  std::vector<float> logits;
  std::vector<double> log_sum_exp;
};

// The predictions at one position after the first phase of a rerun
// (Engine::update_at), with the baseline's figures for the same tokens.
struct PositionPredictions {
  int from_layer = 0;              // first layer rerun; L when nothing was edited
  int position = 0;                // t
  std::vector<int> top_k_ids;      // (K)
  std::vector<float> top_k_probs;  // (K)
  float loss = 0.0f;               // -log p(ids[t + 1]); NaN at T-1
  bool has_baseline = false;       // false: the two below are empty / NaN
  float baseline_loss = 0.0f;
  std::vector<float> baseline_probs;  // (K) unedited p of each top_k_ids; NaN unknown
};

class Engine {
 public:
  static constexpr int kDefaultTopK = 5;
  static constexpr size_t kMaxBaselineLogits = 16 * 1024 * 1024;

  explicit Engine(std::shared_ptr<const Model> model);

  const Model& model() const { return *model_; }

  // A forward pass with the current gains. top_k must be in 1..V; a new K
  // keeps the gains. Ids as Session::run. Drops the baseline.
  void run(const std::vector<int>& ids, int top_k);
  // The unedited model first (kept as the baseline), then the current gains
  // on top of it as a rerun from the lowest edited layer, which equals a
  // full run with them bit for bit. Returns the first layer rerun (L when
  // nothing is edited).
  int run_with_baseline(const std::vector<int>& ids, int top_k);

  // Head gains, as Session's. set_head_gains takes all (L, H) at once and
  // changes only those that differ (bit for bit).
  void set_head_gain(int layer, int head, float gain);
  void set_head_gains(const float* gains, size_t n);
  void clear_head_gains();
  const std::vector<float>& head_gains() const { return session_.head_gains(); }

  // Mean ablation: head (layer, head)'s z replaced by its mean over all
  // positions of reference_ids, computed by the unedited model; empty
  // reference_ids: the ids of the trace (the current text).
  void set_head_mean(int layer, int head, const std::vector<int>& reference_ids);
  // Resample ablation: z taken from the same position of the unedited model
  // run on other_ids, which must have as many tokens as the text it is run
  // with (else the run throws naming the head).
  void set_head_resample(int layer, int head, const std::vector<int>& other_ids);
  // The head's own z again (its gain stays).
  void clear_head_z(int layer, int head);
  // Every edit: gains 1, every head its own z.
  void clear_head_edits();
  const HeadEdits& head_edits() const { return session_.head_edits(); }

  // The exact ablation scan (ablation.h) on top of the current edits, at
  // position (-1: T - 2, the last with a next token), means for mean mode
  // from mean_reference (empty: the trace's ids). skip (L x H, empty: none):
  // heads left out (NaN), so a caller can scan in parts between which it
  // can stop (the page's worker scans a layer at a time).
  AblationScan ablation_scan(AblationMode mode, int position,
                             const std::vector<int>& mean_reference,
                             const std::vector<char>& skip = {});
  // Activation patching (patching.h) between two texts of the same token
  // count, on the unedited model: the maps asked for and their recovery.
  // Independent of the trace and the edits.
  PatchingMaps activation_patching(const std::vector<int>& clean_ids,
                                   const std::vector<int>& corrupted_ids, int answer, int foil,
                                   bool head_z = true, bool residual = true,
                                   bool head_z_pos = false,
                                   PatchMetric metric = PatchMetric::logit_diff) const;
  // Path patching (patching.h PathPatch) between the same two texts.
  PathPatchResult path_patching(const std::vector<int>& clean_ids, const std::vector<int>& corrupted_ids,
                      int answer, int foil, const PathPatch& path,
                      PatchMetric metric = PatchMetric::logit_diff) const;
  // d mean loss / d gain (importance.h) of every head (L, H) on the trace's
  // ids at the current edits: the gains and every replaced z (mean,
  // resample) as the trace ran them.
  std::vector<float> gradient_importance();
  // One head's attention (T, T) on ids (cut to n_positions, as run()) in a
  // Session of its own, with the current edits (edited) or none (the
  // unedited model): compare two runs (run_compare.h) without touching the
  // engine's trace, baseline or edits. The Trace's ids in *ids. A head
  // outside the model throws naming it; so does a resample edit of another
  // token count.
  std::vector<float> head_attention(const std::vector<int>& ids, int layer, int head, bool edited,
                                    std::vector<int>* ids_run) const;
  // The pruning curves (ablation.h) on the trace's ids, from the unedited model.
  PruningCurve pruning_curve(const PruningOptions& options, const std::vector<int>& mean_reference);
  // The same curves in parts (ablation.h PruningRun), so a caller can report
  // progress and stop between parts: start_pruning begins a run on the
  // trace's ids (replacing one held), step_pruning runs n_parts more parts of
  // it. The run keeps its own session: the trace and edits stay as they are.
  const PruningRun& start_pruning(const PruningOptions& options,
                                  const std::vector<int>& mean_reference);
  const PruningRun& step_pruning(int n_parts);
  // The model's copying scores (copying.h) in parts: n_parts more parts of
  // the run begun at the first call (the page's worker, between the
  // reader's requests, for a model too large to score at load). The trace
  // and edits are not touched.
  const CopyingRun& step_copying(int n_parts);
  // The syntax probe (syntax_run.h) of the unedited model in parts:
  // start_syntax tokenizes the probe and begins a run (replacing one held),
  // step_syntax runs n_parts more parts of it (throws when none was begun).
  // The trace and edits are not touched.
  const SyntaxRun& start_syntax(const PosProbe& probe);
  const SyntaxRun& step_syntax(int n_parts);

  // Session::update: reruns from the lowest edited layer; returns it (L if none).
  int update();
  // The rerun's first phase (Session::update_at) at position t, -1 = the
  // last, and that position's predictions; finish_update() does the rest,
  // or the next trace() read.
  PositionPredictions update_at(int t);
  void finish_update();

  // True after a pass that succeeded (a failed run leaves none readable).
  bool has_trace() const { return has_trace_; }
  // The trace, every position of one pass (a pending update_at finished).
  const Trace& trace();

  // True while the baseline is that of the trace's ids and top-k.
  bool has_baseline() const { return has_baseline_; }
  const Baseline& baseline() const;
  // (T, K) the unedited probability of each token of the trace's top-k
  // (NaN where unknown: see Baseline::logits).
  std::vector<float> baseline_probs_of_top_k();

  // The caller keeps this pass's attention (e.g. the page drew it).
  // attention_changed_from() then says from which layer the attention of the
  // current pass may differ from it: 0 after a run since (or none held),
  // else the layer after the lowest one whose edits differ (gain or
  // replaced z, both act after their layer's attention), L when none do.
  void hold_attention();
  int attention_changed_from() const;

 private:
  void check_trace() const;
  void keep_baseline();
  // Unedited probability of token id at position t; NaN when unknown.
  float baseline_prob(int t, int id) const;
  // The unedited model's head_z (L, T', H, D) on ids (empty: the trace's),
  // kept for the last ids asked; T' in *T.
  const std::vector<float>& reference_head_z(const std::vector<int>& ids, int* T);
  // Each head's mean z (L, H, D) over reference ids (empty: the trace's).
  std::vector<float> reference_means(const std::vector<int>& ids);

  std::shared_ptr<const Model> model_;
  Session session_;
  bool has_trace_ = false;
  bool has_baseline_ = false;
  Baseline baseline_;
  // Full runs so far, and which one (and gains) the held attention is of.
  long runs_ = 0;
  long held_run_ = -1;
  HeadEdits held_edits_;
  std::vector<int> reference_ids_;     // ids of reference_z_ (cut to n_positions)
  std::vector<float> reference_z_;     // (L, T', H, D)
  std::unique_ptr<PruningRun> pruning_run_;  // the last start_pruning's
  std::unique_ptr<CopyingRun> copying_run_;  // begun by the first step_copying
  std::unique_ptr<SyntaxRun> syntax_run_;    // the last start_syntax's
};

}  // namespace hl
