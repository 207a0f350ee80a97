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

#include "model.h"
#include "session.h"

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
  // else the layer after the lowest one whose gains differ (a gain acts
  // after its layer's attention), L when none do.
  void hold_attention();
  int attention_changed_from() const;

 private:
  void check_trace() const;
  void keep_baseline();
  // Unedited probability of token id at position t; NaN when unknown.
  float baseline_prob(int t, int id) const;

  std::shared_ptr<const Model> model_;
  Session session_;
  bool has_trace_ = false;
  bool has_baseline_ = false;
  Baseline baseline_;
  // Full runs so far, and which one (and gains) the held attention is of.
  long runs_ = 0;
  long held_run_ = -1;
  std::vector<float> held_gains_;  // (L, H)
};

}  // namespace hl
