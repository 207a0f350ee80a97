// Activation patching between a clean and a corrupted text: see patching.h.
#include "patching.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "batch_scratch.h"
#include "block.h"
#include "error.h"
#include "kernels.h"
#include "patching_detail.h"

namespace hl {

using patching_detail::check_index;
using patching_detail::last_layer_for_metric;

namespace {

// Sequences per batch: at most max_batch_rows rows, at least one sequence.
int batch_of(int count, int T, int max_batch_rows) {
  return std::max(1, std::min(count, max_batch_rows / T));
}

void check_token(int id, int V) {
  if (id < 0 || id >= V) {
    throw Error("patching: token id " + std::to_string(id) + " is outside 0.." +
                std::to_string(V - 1));
  }
}

}  // namespace

namespace patching_detail {

bool same_row(const float* a, const float* b, int C) {
  return std::memcmp(a, b, static_cast<size_t>(C) * sizeof(float)) == 0;
}

void last_layer_for_metric(const BlockPass& pass, const BlockActivations& a, int t0) {
  const int T = pass.T, C = pass.cfg.n_embd;
  block_ln_1_forward(pass, a, t0, T);
  if (C % gemm_panel_width() == 0) {
    block_qkv_forward(pass, a, t0, T, C, 3 * C);
    block_qkv_forward(pass, a, T - 1, T, 0, C);
  } else {
    block_qkv_forward(pass, a, t0, T, 0, 3 * C);
  }
  block_after_qkv_forward(pass, a, T - 1, T, /*attend=*/true);
}

void check_index(const char* what, int i, int n) {
  if (i < 0 || i >= n) {
    throw Error(std::string("patching: ") + what + " " + std::to_string(i) + " is outside 0.." +
                std::to_string(n - 1));
  }
}

}  // namespace patching_detail

PatchMetric patch_metric_from_name(const std::string& name) {
  if (name == "logit_diff") return PatchMetric::logit_diff;
  if (name == "logprob") return PatchMetric::logprob;
  throw Error("unknown metric '" + name + "' (expected logit_diff or logprob)");
}

const char* patch_metric_name(PatchMetric metric) {
  return metric == PatchMetric::logprob ? "logprob" : "logit_diff";
}

float patch_recovery(float patched, float clean, float corrupted) {
  if (clean == corrupted) return std::numeric_limits<float>::quiet_NaN();
  return (patched - corrupted) / (clean - corrupted);
}

ActivationPatcher::ActivationPatcher(std::shared_ptr<const Model> model,
                                     std::vector<int> clean_ids, std::vector<int> corrupted_ids,
                                     int answer, int foil, PatchMetric metric)
    : model_(std::move(model)),
      clean_ids_(std::move(clean_ids)),
      corrupted_ids_(std::move(corrupted_ids)),
      answer_(answer),
      foil_(metric == PatchMetric::logprob ? -1 : foil),
      metric_(metric),
      T_(static_cast<int>(clean_ids_.size())) {
  const ModelConfig& cfg = model_->config;
  if (clean_ids_.size() != corrupted_ids_.size()) {
    throw Error("the clean text is " + std::to_string(clean_ids_.size()) +
                " tokens and the corrupted text " + std::to_string(corrupted_ids_.size()) +
                ": patching needs the same token count");
  }
  if (T_ < 1) throw Error("patching: the texts are empty");
  if (T_ > cfg.n_positions) {
    throw Error("patching: the texts are " + std::to_string(T_) +
                " tokens; the model reads at most " + std::to_string(cfg.n_positions) +
                " (n_positions)");
  }
  for (const std::vector<int>* ids : {&clean_ids_, &corrupted_ids_}) {
    for (const int id : *ids) check_token(id, cfg.vocab_size);
  }
  check_token(answer_, cfg.vocab_size);
  if (metric_ == PatchMetric::logit_diff) check_token(foil_, cfg.vocab_size);
  run_both();
  const size_t last = (static_cast<size_t>(cfg.n_layer) * T_ + T_ - 1) * cfg.n_embd;
  clean_metric_ = metric_of_row(clean_.residual.data() + last);
  corrupted_metric_ = metric_of_row(corrupted_.residual.data() + last);
}

void ActivationPatcher::run_both() {
  const ModelConfig& cfg = model_->config;
  const Weights& w = model_->weights;
  const int L = cfg.n_layer, C = cfg.n_embd, T = T_;
  const size_t TC = static_cast<size_t>(T) * C;
  Run* runs[2] = {&clean_, &corrupted_};
  const std::vector<int>* ids[2] = {&clean_ids_, &corrupted_ids_};
  BatchScratch s(cfg, 2, T);
  for (int b = 0; b < 2; b++) {
    runs[b]->residual.resize((L + 1) * TC);
    runs[b]->head_z.resize(L * TC);
    // residual[0] = wte[id] + wpe[t], as the Session's run computes it
    for (int t = 0; t < T; t++) {
      const float* tok = w.wte + static_cast<size_t>((*ids[b])[t]) * C;
      const float* pos = w.wpe + static_cast<size_t>(t) * C;
      float* x = s.x_out.data() + (static_cast<size_t>(b) * T + t) * C;
      for (int c = 0; c < C; c++) x[c] = tok[c] + pos[c];
    }
    std::copy(s.x_out.begin() + b * TC, s.x_out.begin() + (b + 1) * TC, runs[b]->residual.begin());
  }
  corrupted_qkv_.resize(static_cast<size_t>(L) * 3 * TC);
  SerialRows rows;
  for (int l = 0; l < L; l++) {
    std::swap(s.x_in, s.x_out);
    const BlockPass pass{cfg, w.layers[l], model_->packed[l], 2, T, nullptr, !cfg.attn_only, rows};
    block_forward(pass, s.block());
    for (int b = 0; b < 2; b++) {
      std::copy(s.x_out.begin() + b * TC, s.x_out.begin() + (b + 1) * TC,
                runs[b]->residual.begin() + (l + 1) * TC);
      std::copy(s.z.begin() + b * TC, s.z.begin() + (b + 1) * TC, runs[b]->head_z.begin() + l * TC);
    }
    // The corrupted run's q, k, v: the keys and values a one-row patch from
    // position t reads for the rows before t.
    std::copy(s.qkv.begin() + 3 * TC, s.qkv.begin() + 6 * TC, corrupted_qkv_.begin() + l * 3 * TC);
  }
}

float ActivationPatcher::metric_of_row(const float* x) const {
  const ModelConfig& cfg = model_->config;
  const Weights& w = model_->weights;
  const int C = cfg.n_embd;
  std::vector<float> ln(C);  // (C) ln_f(x)
  layernorm_forward(ln.data(), nullptr, nullptr, x, w.ln_f_w, w.ln_f_b, 1, C,
                    cfg.layer_norm_epsilon);
  if (metric_ == PatchMetric::logprob) {
    // Every logit (V) through the Session's LM head GEMM, then a stable
    // log-sum-exp in double: log p(answer) = logit(answer) - max - log Σ exp(logit - max).
    const int V = cfg.vocab_size;
    std::vector<float> logits(V);
    gemm_packed(logits.data(), ln.data(), model_->packed_lm_head.data(), nullptr, 1, C, V);
    const float top = *std::max_element(logits.begin(), logits.end());
    double sum = 0.0;
    for (const float z : logits) sum += std::exp(static_cast<double>(z) - top);
    return static_cast<float>(static_cast<double>(logits[answer_]) - top - std::log(sum));
  }
  // The tied LM head: logit(v) = ln_f(x) . wte[v]; only the two rows the metric reads.
  const float* a = w.wte + static_cast<size_t>(answer_) * C;
  const float* f = w.wte + static_cast<size_t>(foil_) * C;
  double diff = 0.0;
  for (int c = 0; c < C; c++) diff += static_cast<double>(ln[c]) * (a[c] - f[c]);
  return static_cast<float>(diff);
}

namespace {

// What the patched runs of one layer share: the model, both runs, T.
struct LayerPatch {
  const Model& model;
  int T;
  const std::vector<float>& corrupt_residual;  // (L + 1, T, C)
  const std::vector<float>& corrupt_z;         // (L, T, H, D)
};

// Layer l's runs, sequence i with its heads' z replaced where zreps[i] (H)
// says; the final residual streams in s.x_out (n, T, C). for_metric: only
// what the metric reads, row T - 1 of the final stream (the last layer's
// keys and values, its last query row); else every row, the plain way.
void patch_heads(const LayerPatch& p, int l, const std::vector<std::vector<ZReplacement>>& zreps,
                 BatchScratch& s, bool for_metric) {
  const ModelConfig& cfg = p.model.config;
  const int L = cfg.n_layer, T = p.T;
  const size_t TC = static_cast<size_t>(T) * cfg.n_embd;
  const int n = static_cast<int>(zreps.size());
  const bool last_row = for_metric && l == L - 1;  // the patched layer is the last
  SerialRows rows;
  // Layer l's attention is the corrupted run's (its input is unchanged):
  // start after c_attn from its z, as the Session's first rerun layer does.
  std::copy(p.corrupt_z.begin() + l * TC, p.corrupt_z.begin() + (l + 1) * TC, s.z.begin());
  for (size_t i = 0; i < zreps.size(); i++) {
    const BlockPass pass{cfg, p.model.weights.layers[l], p.model.packed[l], 1, p.T, nullptr,
                         !cfg.attn_only, rows, zreps[i].data()};
    BlockActivations a = s.block();
    a.input = p.corrupt_residual.data() + l * TC;
    a.residual_2 = a.output = s.x_out.data() + i * TC;
    block_after_qkv_forward(pass, a, last_row ? T - 1 : 0, T, /*attend=*/false);
  }
  if (!for_metric || l == L - 1) {
    run_layers_batched(p.model, l + 1, L, n, T, s);
    return;
  }
  run_layers_batched(p.model, l + 1, L - 1, n, T, s);
  std::swap(s.x_in, s.x_out);
  const BlockPass pass{cfg, p.model.weights.layers[L - 1], p.model.packed[L - 1], 1, T, nullptr,
                       !cfg.attn_only, rows};
  for (int i = 0; i < n; i++) {
    // Sequence i's rows of every buffer (block.h: row i * T + t).
    const BlockActivations all = s.block();
    BlockActivations a = all;
    a.input = all.input + i * TC;
    a.ln_1 = a.ln_2 = all.ln_1 + i * TC;
    a.qkv = all.qkv + 3 * i * TC;
    a.attn_probs = all.attn_probs + static_cast<size_t>(i) * cfg.n_head * T * T;
    a.z = all.z + i * TC;
    a.z_gained = all.z_gained + i * TC;
    a.residual_2 = a.output = all.output + i * TC;
    if (all.fc) a.fc = a.fc_gelu = all.fc + static_cast<size_t>(i) * T * cfg.d_mlp();
    last_layer_for_metric(pass, a, 0);
  }
}

}  // namespace

float ActivationPatcher::head_z_patched(int layer, const std::vector<int>& heads) const {
  std::vector<int> every(T_);
  for (int t = 0; t < T_; t++) every[t] = t;
  return head_z_patched_at(layer, heads, every);
}

float ActivationPatcher::head_z_patched_at(int layer, const std::vector<int>& heads,
                                           const std::vector<int>& positions) const {
  const ModelConfig& cfg = model_->config;
  const int H = cfg.n_head, D = cfg.d_head(), C = cfg.n_embd;
  check_index("layer", layer, cfg.n_layer);
  for (const int h : heads) check_index("head", h, H);
  for (const int t : positions) check_index("position", t, T_);
  // Each patched head reads a (T, D) block: the corrupted z, the clean z at `positions`.
  std::vector<std::vector<float>> blocks;
  std::vector<ZReplacement> zrep(H);  // (H)
  blocks.reserve(heads.size());
  for (const int h : heads) {
    std::vector<float> block(static_cast<size_t>(T_) * D);  // (T, D)
    for (int t = 0; t < T_; t++) {
      const size_t at = (static_cast<size_t>(layer) * T_ + t) * C + h * D;
      std::copy(corrupted_.head_z.begin() + at, corrupted_.head_z.begin() + at + D,
                block.begin() + static_cast<size_t>(t) * D);
    }
    for (const int t : positions) {
      const size_t at = (static_cast<size_t>(layer) * T_ + t) * C + h * D;
      std::copy(clean_.head_z.begin() + at, clean_.head_z.begin() + at + D,
                block.begin() + static_cast<size_t>(t) * D);
    }
    blocks.push_back(std::move(block));
    zrep[h] = ZReplacement{blocks.back().data(), D};
  }
  BatchScratch s(cfg, 1, T_);
  patch_heads(LayerPatch{*model_, T_, corrupted_.residual, corrupted_.head_z}, layer, {zrep}, s,
              /*for_metric=*/false);
  return metric_of_row(s.x_out.data() + static_cast<size_t>(T_ - 1) * C);
}

float ActivationPatcher::residual_patched(int layer, const std::vector<int>& positions) const {
  const ModelConfig& cfg = model_->config;
  check_index("layer", layer, cfg.n_layer + 1);
  for (const int t : positions) check_index("position", t, T_);
  // The plain way, every row of every layer from `layer` on: the maps'
  // shortcuts are checked against it.
  const int C = cfg.n_embd;
  const size_t TC = static_cast<size_t>(T_) * C;
  BatchScratch s(cfg, 1, T_);
  std::copy(corrupted_.residual.begin() + layer * TC, corrupted_.residual.begin() + (layer + 1) * TC,
            s.x_out.begin());
  for (const int t : positions) {
    const size_t at = layer * TC + static_cast<size_t>(t) * C;
    std::copy(clean_.residual.begin() + at, clean_.residual.begin() + at + C,
              s.x_out.begin() + static_cast<size_t>(t) * C);
  }
  run_layers_batched(*model_, layer, cfg.n_layer, 1, T_, s);
  return metric_of_row(s.x_out.data() + static_cast<size_t>(T_ - 1) * C);
}

std::vector<float> ActivationPatcher::head_z_map(int max_batch_rows) const {
  const ModelConfig& cfg = model_->config;
  const int L = cfg.n_layer, H = cfg.n_head, C = cfg.n_embd;
  const size_t TC = static_cast<size_t>(T_) * C;
  const int G = batch_of(H, T_, max_batch_rows);
  BatchScratch s(cfg, G, T_);
  const LayerPatch p{*model_, T_, corrupted_.residual, corrupted_.head_z};
  std::vector<float> out(static_cast<size_t>(L) * H);  // (L, H)
  for (int l = 0; l < L; l++) {
    for (int first = 0; first < H; first += G) {
      const int n = std::min(G, H - first);
      // Sequence i: head first + i reads the clean z (row t at (l, t, h): a stride of C floats).
      std::vector<std::vector<ZReplacement>> zreps(n, std::vector<ZReplacement>(H));
      for (int i = 0; i < n; i++) {
        const int h = first + i;
        zreps[i][h] = ZReplacement{clean_.head_z.data() + l * TC + h * cfg.d_head(), C};
      }
      patch_heads(p, l, zreps, s, /*for_metric=*/true);
      for (int i = 0; i < n; i++) {
        out[static_cast<size_t>(l) * H + first + i] = metric_of_row(s.x_out.data() + i * TC + TC - C);
      }
    }
  }
  return out;
}

PatchingMaps ActivationPatcher::maps(bool head_z, bool residual, bool head_z_pos) const {
  PatchingMaps m;
  m.clean_ids = clean_ids_;
  m.corrupted_ids = corrupted_ids_;
  m.answer = answer_;
  m.foil = foil_;
  m.metric = metric_;
  m.clean = clean_metric_;
  m.corrupted = corrupted_metric_;
  if (head_z) m.head_z_metric = head_z_map();
  if (residual) m.residual_metric = residual_map();
  if (head_z_pos) m.head_z_pos_metric = head_z_position_map();
  const auto recover = [&](const std::vector<float>& metric) {
    std::vector<float> r(metric.size());
    for (size_t i = 0; i < metric.size(); i++) {
      r[i] = patch_recovery(metric[i], clean_metric_, corrupted_metric_);
    }
    return r;
  };
  m.head_z = recover(m.head_z_metric);
  m.residual = recover(m.residual_metric);
  m.head_z_pos = recover(m.head_z_pos_metric);
  return m;
}

}  // namespace hl
