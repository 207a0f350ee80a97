#include "engine.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "error.h"
#include "importance.h"
#include "kernels.h"

namespace hl {

std::string token_display(const Model& model, int id) {
  if (id < model.tokenizer.vocab_size()) return model.tokenizer.token_display(id);
  return "<unused id " + std::to_string(id) + ">";
}

Engine::Engine(std::shared_ptr<const Model> model)
    : model_(std::move(model)), session_(model_, kDefaultTopK) {}

void Engine::run(const std::vector<int>& ids, int top_k) {
  const int V = model_->config.vocab_size;
  if (top_k < 1 || top_k > V) {
    throw Error("topK " + std::to_string(top_k) + " is outside 1.." + std::to_string(V));
  }
  session_.set_top_k(top_k);
  // Whatever fails below leaves no half-written trace or stale baseline readable.
  has_trace_ = false;
  has_baseline_ = false;
  runs_++;
  session_.run(ids);
  has_trace_ = true;
}

int Engine::run_with_baseline(const std::vector<int>& ids, int top_k) {
  const HeadEdits edits = session_.head_edits();  // put back below
  const bool edited = session_.edited();
  if (edited) session_.clear_head_edits();
  try {
    run(ids, top_k);
    keep_baseline();
  } catch (...) {
    session_.set_head_edits(edits);  // the caller's edits stay, as run() keeps them
    throw;
  }
  has_baseline_ = true;
  if (!edited) return model_->config.n_layer;
  session_.set_head_edits(edits);
  return session_.update();
}

void Engine::keep_baseline() {
  const Trace& tr = session_.trace();
  const int T = tr.T, V = model_->config.vocab_size;
  Baseline& b = baseline_;
  b.T = T;
  b.top_k = tr.top_k;
  b.token_loss = tr.token_loss;
  b.mean_loss = tr.mean_loss;
  b.top_k_ids = tr.top_k_ids;
  b.top_k_probs = tr.top_k_probs;
  b.logits.clear();
  b.log_sum_exp.clear();
  if (static_cast<double>(T) * V > static_cast<double>(kMaxBaselineLogits)) return;
  b.logits = tr.logits;
  b.log_sum_exp.resize(T);
  std::vector<float> e(V);  // (V) exp(row - max) of one position
  for (int t = 0; t < T; t++) {
    const float* row = b.logits.data() + static_cast<size_t>(t) * V;
    const float max = row_max(row, V);
    const double sum = exp_shift_sum_f64(e.data(), row, V, max);  // as the session's softmax
    b.log_sum_exp[t] = max + std::log(sum);
  }
}

float Engine::baseline_prob(int t, int id) const {
  const Baseline& b = baseline_;
  const int V = model_->config.vocab_size, K = b.top_k;
  if (!b.logits.empty()) {
    const double logit = b.logits[static_cast<size_t>(t) * V + id];
    return static_cast<float>(std::exp(logit - b.log_sum_exp[t]));
  }
  for (int k = 0; k < K; k++) {
    const size_t i = static_cast<size_t>(t) * K + k;
    if (b.top_k_ids[i] == id) return b.top_k_probs[i];
  }
  return std::numeric_limits<float>::quiet_NaN();
}

const Baseline& Engine::baseline() const {
  if (!has_baseline_) throw Error("no baseline: call runWithBaseline() first");
  return baseline_;
}

std::vector<float> Engine::baseline_probs_of_top_k() {
  const Trace& tr = trace();
  baseline();  // throws without one
  const int T = tr.T, K = tr.top_k;
  std::vector<float> probs(static_cast<size_t>(T) * K);  // (T, K)
  for (size_t i = 0; i < probs.size(); i++) {
    probs[i] = baseline_prob(static_cast<int>(i / K), tr.top_k_ids[i]);
  }
  return probs;
}

void Engine::set_head_gain(int layer, int head, float gain) {
  session_.set_head_gain(layer, head, gain);
}

void Engine::set_head_gains(const float* gains, size_t n) {
  const ModelConfig& cfg = model_->config;
  const size_t expected = static_cast<size_t>(cfg.n_layer) * cfg.n_head;
  if (n != expected) {
    throw Error("expected " + std::to_string(expected) + " head gains (" +
                std::to_string(cfg.n_layer) + " x " + std::to_string(cfg.n_head) + "), got " +
                std::to_string(n));
  }
  // Session::set_head_gain marks a layer to rerun only when its gain changed.
  for (size_t i = 0; i < n; i++) {
    session_.set_head_gain(static_cast<int>(i / cfg.n_head), static_cast<int>(i % cfg.n_head),
                           gains[i]);
  }
}

void Engine::clear_head_gains() { session_.clear_head_gains(); }

const std::vector<float>& Engine::reference_head_z(const std::vector<int>& ids, int* T) {
  const ModelConfig& cfg = model_->config;
  std::vector<int> ref = ids;
  if (ref.empty()) {
    if (!has_trace_) throw Error("no text run yet: run one or give a reference text");
    ref = session_.trace().ids;
  }
  if (ref.size() > static_cast<size_t>(cfg.n_positions)) ref.resize(cfg.n_positions);
  if (ref != reference_ids_ || reference_z_.empty()) {
    reference_z_ = unedited_head_z(model_, ref);
    reference_ids_ = ref;
  }
  *T = static_cast<int>(reference_ids_.size());
  return reference_z_;
}

std::vector<float> Engine::reference_means(const std::vector<int>& ids) {
  int T = 0;
  const std::vector<float>& head_z = reference_head_z(ids, &T);
  return mean_head_z(head_z, model_->config, T);
}

void Engine::set_head_mean(int layer, int head, const std::vector<int>& reference_ids) {
  session_.head_gain(layer, head);  // names an out-of-range head first
  ablate_head(session_, layer, head, AblationMode::mean, reference_means(reference_ids));
}

void Engine::set_head_resample(int layer, int head, const std::vector<int>& other_ids) {
  session_.head_gain(layer, head);
  if (other_ids.empty()) {
    throw Error("resample ablation of head " + std::to_string(layer) + "." +
                std::to_string(head) + " needs another text");
  }
  int T = 0;
  const std::vector<float>& head_z = reference_head_z(other_ids, &T);
  session_.set_head_z(layer, head, head_rows(head_z, model_->config, T, layer, head));
}

void Engine::clear_head_z(int layer, int head) { session_.set_head_z(layer, head, {}); }

void Engine::clear_head_edits() { session_.clear_head_edits(); }

AblationScan Engine::ablation_scan(AblationMode mode, int position,
                                   const std::vector<int>& mean_reference,
                                   const std::vector<char>& skip) {
  check_trace();
  session_.update();  // the trace of the current edits
  const std::vector<float> means =
      mode == AblationMode::mean ? reference_means(mean_reference) : std::vector<float>{};
  return hl::ablation_scan(session_, mode, means,
                           position == -1 ? session_.trace().T - 2 : position, skip);
}

PatchingMaps Engine::activation_patching(const std::vector<int>& clean_ids,
                                          const std::vector<int>& corrupted_ids, int answer,
                                          int foil, bool head_z, bool residual,
                                          bool head_z_pos, PatchMetric metric) const {
  return ActivationPatcher(model_, clean_ids, corrupted_ids, answer, foil, metric)
      .maps(head_z, residual, head_z_pos);
}

PathPatchResult Engine::path_patching(const std::vector<int>& clean_ids,
                                      const std::vector<int>& corrupted_ids, int answer, int foil,
                                      const PathPatch& path, PatchMetric metric) const {
  const ActivationPatcher patcher(model_, clean_ids, corrupted_ids, answer, foil, metric);
  PathPatchResult r;
  r.clean = patcher.clean_metric();
  r.corrupted = patcher.corrupted_metric();
  r.metric = patcher.path_patched(path);
  r.recovery = patch_recovery(r.metric, r.clean, r.corrupted);
  return r;
}

std::vector<float> Engine::head_attention(const std::vector<int>& ids, int layer, int head,
                                          bool edited, std::vector<int>* ids_run) const {
  const ModelConfig& cfg = model_->config;
  if (layer < 0 || layer >= cfg.n_layer || head < 0 || head >= cfg.n_head) {
    throw Error("head " + std::to_string(layer) + "." + std::to_string(head) +
                " is outside this model (" + std::to_string(cfg.n_layer) + " layers x " +
                std::to_string(cfg.n_head) + " heads)");
  }
  Session own(model_, 1);
  if (edited) own.set_head_edits(session_.head_edits());
  own.run(ids);
  const Trace& trace = own.trace();
  const size_t TT = static_cast<size_t>(trace.T) * trace.T;
  const float* pattern =
      trace.attn_probs.data() + (static_cast<size_t>(layer) * cfg.n_head + head) * TT;
  if (ids_run) *ids_run = trace.ids;
  return std::vector<float>(pattern, pattern + TT);
}

PruningCurve Engine::pruning_curve(const PruningOptions& options,
                                   const std::vector<int>& mean_reference) {
  check_trace();
  const std::vector<float> means =
      options.mode == AblationMode::mean ? reference_means(mean_reference) : std::vector<float>{};
  return hl::pruning_curve(model_, session_.trace().ids, options, means);
}

std::vector<float> Engine::gradient_importance() {
  check_trace();
  const HeadEdits& edits = session_.head_edits();
  return hl::gradient_importance(*model_, session_.trace().ids, edits.gains, edits.z);
}

const PruningRun& Engine::start_pruning(const PruningOptions& options,
                                        const std::vector<int>& mean_reference) {
  check_trace();
  const std::vector<float> means =
      options.mode == AblationMode::mean ? reference_means(mean_reference) : std::vector<float>{};
  pruning_run_.reset();
  pruning_run_ = std::make_unique<PruningRun>(model_, session_.trace().ids, options, means);
  return *pruning_run_;
}

const PruningRun& Engine::step_pruning(int n_parts) {
  if (!pruning_run_) throw Error("no pruning run: call start_pruning() first");
  pruning_run_->step(n_parts);
  return *pruning_run_;
}

const CopyingRun& Engine::step_copying(int n_parts) {
  if (!copying_run_) copying_run_ = std::make_unique<CopyingRun>(model_);
  copying_run_->step(n_parts);
  return *copying_run_;
}

const SyntaxRun& Engine::start_syntax(const PosProbe& probe) {
  syntax_run_ = std::make_unique<SyntaxRun>(model_, probe);
  return *syntax_run_;
}

const SyntaxRun& Engine::step_syntax(int n_parts) {
  if (!syntax_run_) throw Error("syntax probe: no run begun (start_syntax first)");
  syntax_run_->step(n_parts);
  return *syntax_run_;
}

void Engine::check_trace() const {
  if (!has_trace_) throw Error("nothing to update: call run() first");
}

int Engine::update() {
  check_trace();
  return session_.update();
}

PositionPredictions Engine::update_at(int t) {
  check_trace();
  const int position = t == -1 ? session_.trace().T - 1 : t;
  PositionPredictions p;
  p.from_layer = session_.update_at(position);
  p.position = position;
  const Trace& tr = session_.trace();
  const int K = tr.top_k;
  const size_t row = static_cast<size_t>(position) * K;
  p.top_k_ids.assign(tr.top_k_ids.begin() + row, tr.top_k_ids.begin() + row + K);
  p.top_k_probs.assign(tr.top_k_probs.begin() + row, tr.top_k_probs.begin() + row + K);
  p.loss = tr.token_loss[position];
  p.has_baseline = has_baseline_;
  if (has_baseline_) {
    p.baseline_loss = baseline_.token_loss[position];
    p.baseline_probs.resize(K);
    for (int k = 0; k < K; k++) p.baseline_probs[k] = baseline_prob(position, p.top_k_ids[k]);
  }
  return p;
}

void Engine::finish_update() {
  check_trace();
  session_.finish_head();
}

const Trace& Engine::trace() {
  if (!has_trace_) throw Error("no trace yet: call run() first");
  session_.finish_head();
  return session_.trace();
}

void Engine::hold_attention() {
  held_run_ = runs_;
  held_edits_ = session_.head_edits();
}

int Engine::attention_changed_from() const {
  const ModelConfig& cfg = model_->config;
  if (held_run_ != runs_) return 0;
  const HeadEdits& edits = session_.head_edits();
  for (size_t i = 0; i < edits.gains.size(); i++) {
    // Bits, as Session compares gains: 0 and -0 are different edits to it.
    if (std::memcmp(&edits.gains[i], &held_edits_.gains[i], sizeof(float)) != 0 ||
        edits.z[i] != held_edits_.z[i]) {
      return std::min(cfg.n_layer, static_cast<int>(i / cfg.n_head) + 1);
    }
  }
  return cfg.n_layer;
}

}  // namespace hl
