// Activation patching between a clean and a corrupted text: see patching.h.
#include "patching.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "block.h"
#include "error.h"
#include "kernels.h"
#include "session.h"

namespace hl {

namespace {

// The patched runs' activations for G sequences of T tokens (N = G * T rows).
struct PatchScratch {
  std::vector<float> x_in, x_out;  // (N, C) residual stream entering / leaving a block
  std::vector<float> ln;           // (N, C) ln_1 / ln_2 output
  std::vector<float> qkv;          // (N, 3C)
  std::vector<float> attn;         // (G, H, T, T)
  std::vector<float> z;            // (N, C) head outputs; (T, C) of the patched layer first
  std::vector<float> z_gained;     // (N, C) c_proj's input
  std::vector<float> fc;           // (N, F) c_fc, GELU in place; empty without MLP

  PatchScratch(const ModelConfig& cfg, int G, int T) {
    const size_t N = static_cast<size_t>(G) * T, C = cfg.n_embd;
    x_in.resize(N * C);
    x_out.resize(N * C);
    ln.resize(N * C);
    qkv.resize(N * 3 * C);
    attn.resize(static_cast<size_t>(G) * cfg.n_head * T * T);
    z.resize(N * C);
    z_gained.resize(N * C);
    if (!cfg.attn_only) fc.resize(N * cfg.d_mlp());
  }

  // A block over the rows of x_in into x_out (residual_2 is the output).
  BlockActivations block() {
    BlockActivations a;
    a.input = x_in.data();
    a.ln_1 = a.ln_2 = ln.data();
    a.qkv = qkv.data();
    a.attn_probs = attn.data();
    a.z = z.data();
    a.z_gained = z_gained.data();
    a.residual_2 = a.output = x_out.data();
    a.fc = a.fc_gelu = fc.data();
    return a;
  }
};

// Sequences per batch: at most max_batch_rows rows, at least one sequence.
int batch_of(int count, int T, int max_batch_rows) {
  return std::max(1, std::min(count, max_batch_rows / T));
}

// Layers [from, L) of the unedited model over the n sequences held in
// s.x_out; the final residual stream ends in s.x_out.
void run_layers(const Model& model, int from, int n, int T, PatchScratch& s) {
  const ModelConfig& cfg = model.config;
  SerialRows rows;
  for (int l = from; l < cfg.n_layer; l++) {
    std::swap(s.x_in, s.x_out);
    const BlockPass pass{cfg, model.weights.layers[l], model.packed[l], n, T, nullptr,
                         !cfg.attn_only, rows};
    block_forward(pass, s.block());
  }
}

}  // namespace

float patch_recovery(float patched, float clean, float corrupted) {
  if (clean == corrupted) return std::numeric_limits<float>::quiet_NaN();
  return (patched - corrupted) / (clean - corrupted);
}

ActivationPatcher::ActivationPatcher(std::shared_ptr<const Model> model,
                                     std::vector<int> clean_ids, std::vector<int> corrupted_ids,
                                     int answer, int foil)
    : model_(std::move(model)),
      clean_ids_(std::move(clean_ids)),
      corrupted_ids_(std::move(corrupted_ids)),
      answer_(answer),
      foil_(foil),
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
  for (const int id : {answer_, foil_}) {
    if (id < 0 || id >= cfg.vocab_size) {
      throw Error("patching: token id " + std::to_string(id) + " is outside 0.." +
                  std::to_string(cfg.vocab_size - 1));
    }
  }
  clean_ = run_unedited(clean_ids_);
  corrupted_ = run_unedited(corrupted_ids_);
  // The corrupted run's q, k, v at every layer, as its pass computed them
  // (ln_1 and c_attn are row-wise): the keys and values a residual patch
  // from position t reads for rows before t.
  const int L = cfg.n_layer, C = cfg.n_embd;
  const size_t TC = static_cast<size_t>(T_) * C;
  corrupted_qkv_.resize(static_cast<size_t>(L) * 3 * TC);
  PatchScratch s(cfg, 1, T_);
  SerialRows rows;
  for (int l = 0; l < L; l++) {
    const BlockPass pass{cfg, model_->weights.layers[l], model_->packed[l], 1, T_, nullptr,
                         !cfg.attn_only, rows};
    BlockActivations a = s.block();
    a.input = corrupted_.residual.data() + l * TC;
    a.qkv = corrupted_qkv_.data() + l * 3 * TC;
    block_ln_1_forward(pass, a, 0, T_);
    block_qkv_forward(pass, a, 0, T_, 0, 3 * C);
  }
  const size_t last = (static_cast<size_t>(cfg.n_layer) * T_ + T_ - 1) * cfg.n_embd;
  clean_metric_ = metric_of_row(clean_.residual.data() + last);
  corrupted_metric_ = metric_of_row(corrupted_.residual.data() + last);
}

ActivationPatcher::Run ActivationPatcher::run_unedited(const std::vector<int>& ids) const {
  Session session(model_, 1);
  session.run(ids);
  const Trace& tr = session.trace();
  return Run{tr.residual, tr.head_z};
}

float ActivationPatcher::metric_of_row(const float* x) const {
  const ModelConfig& cfg = model_->config;
  const Weights& w = model_->weights;
  const int C = cfg.n_embd;
  std::vector<float> ln(C);  // (C) ln_f(x)
  layernorm_forward(ln.data(), nullptr, nullptr, x, w.ln_f_w, w.ln_f_b, 1, C,
                    cfg.layer_norm_epsilon);
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
  const std::vector<float>& clean_residual;   // (L + 1, T, C)
  const std::vector<float>& clean_z;          // (L, T, H, D)
  const std::vector<float>& corrupt_residual;  // (L + 1, T, C)
  const std::vector<float>& corrupt_z;         // (L, T, H, D)
};

// Layer l's runs, sequence i with the z of the heads groups[i] replaced by
// the clean run's; the final residual streams in s.x_out (n, T, C).
void patch_heads(const LayerPatch& p, int l, const std::vector<std::vector<int>>& groups,
                 PatchScratch& s) {
  const ModelConfig& cfg = p.model.config;
  const int H = cfg.n_head, D = cfg.d_head(), C = cfg.n_embd, T = p.T;
  const size_t TC = static_cast<size_t>(T) * C;
  SerialRows rows;
  // Layer l's attention is the corrupted run's (its input is unchanged):
  // start after c_attn from its z, as the Session's first rerun layer does.
  std::copy(p.corrupt_z.begin() + l * TC, p.corrupt_z.begin() + (l + 1) * TC, s.z.begin());
  std::vector<ZReplacement> zrep(H);  // (H)
  for (size_t i = 0; i < groups.size(); i++) {
    std::fill(zrep.begin(), zrep.end(), ZReplacement{});
    // Row t of head h reads the clean z at (l, t, h): a stride of C floats.
    for (const int h : groups[i]) zrep[h] = ZReplacement{p.clean_z.data() + l * TC + h * D, C};
    const BlockPass pass{cfg, p.model.weights.layers[l], p.model.packed[l], 1, T, nullptr,
                         !cfg.attn_only, rows, zrep.data()};
    BlockActivations a = s.block();
    a.input = p.corrupt_residual.data() + l * TC;
    a.residual_2 = a.output = s.x_out.data() + i * TC;
    block_after_qkv_forward(pass, a, 0, T, /*attend=*/false);
  }
  run_layers(p.model, l + 1, static_cast<int>(groups.size()), T, s);
}

void check_index(const char* what, int i, int n) {
  if (i < 0 || i >= n) {
    throw Error(std::string("patching: ") + what + " " + std::to_string(i) + " is outside 0.." +
                std::to_string(n - 1));
  }
}

}  // namespace

float ActivationPatcher::head_z_patched(int layer, const std::vector<int>& heads) const {
  const ModelConfig& cfg = model_->config;
  check_index("layer", layer, cfg.n_layer);
  for (const int h : heads) check_index("head", h, cfg.n_head);
  PatchScratch s(cfg, 1, T_);
  const LayerPatch p{*model_, T_, clean_.residual, clean_.head_z, corrupted_.residual,
                     corrupted_.head_z};
  patch_heads(p, layer, {heads}, s);
  return metric_of_row(s.x_out.data() + static_cast<size_t>(T_ - 1) * cfg.n_embd);
}

float ActivationPatcher::residual_patched(int layer, const std::vector<int>& positions) const {
  const ModelConfig& cfg = model_->config;
  check_index("layer", layer, cfg.n_layer + 1);
  for (const int t : positions) check_index("position", t, T_);
  PatchScratch s(cfg, 1, T_);
  return residual_patched_in(layer, positions, s);
}

template <typename Scratch>
float ActivationPatcher::residual_patched_in(int layer, const std::vector<int>& positions,
                                             Scratch& s) const {
  const ModelConfig& cfg = model_->config;
  const int L = cfg.n_layer, C = cfg.n_embd, T = T_;
  const size_t TC = static_cast<size_t>(T) * C;
  const float* clean = clean_.residual.data() + layer * TC;         // (T, C)
  const float* corrupted = corrupted_.residual.data() + layer * TC;  // (T, C)
  // The first patched row that differs: rows the two runs share change
  // nothing, and a pass on the same inputs gives the same bits.
  int t0 = T;
  for (const int t : positions) {
    const size_t at = static_cast<size_t>(t) * C;
    if (t < t0 && !std::equal(clean + at, clean + at + C, corrupted + at)) t0 = t;
  }
  if (t0 == T) return corrupted_metric_;
  std::copy(corrupted, corrupted + TC, s.x_out.begin());
  for (const int t : positions) {
    std::copy(clean + static_cast<size_t>(t) * C, clean + static_cast<size_t>(t + 1) * C,
              s.x_out.begin() + static_cast<size_t>(t) * C);
  }
  SerialRows rows;
  for (int l = layer; l < L; l++) {
    // Rows t0..T-1 of layer l; keys and values of rows before t0 are the
    // corrupted run's; the last layer feeds the metric, its last row only.
    std::swap(s.x_in, s.x_out);
    const BlockPass pass{cfg, model_->weights.layers[l], model_->packed[l], 1, T, nullptr,
                         !cfg.attn_only, rows};
    const BlockActivations a = s.block();
    const size_t qkv_rows = static_cast<size_t>(t0) * 3 * C;
    std::copy(corrupted_qkv_.begin() + l * 3 * TC, corrupted_qkv_.begin() + l * 3 * TC + qkv_rows,
              s.qkv.begin());
    block_ln_1_forward(pass, a, t0, T);
    block_qkv_forward(pass, a, t0, T, 0, 3 * C);
    block_after_qkv_forward(pass, a, l == L - 1 ? T - 1 : t0, T, /*attend=*/true);
  }
  return metric_of_row(s.x_out.data() + static_cast<size_t>(T - 1) * C);
}

namespace {

// For each layer in [0, layers), the items 0..count-1 patched one at a time in
// batches of G sequences by run(l, groups, s): out (layers, count) metrics.
template <typename RunBatch, typename Metric>
std::vector<float> scan_map(const ModelConfig& cfg, int layers, int count, int T,
                            int max_batch_rows, RunBatch run, Metric metric) {
  const int G = batch_of(count, T, max_batch_rows);
  PatchScratch s(cfg, G, T);
  std::vector<float> out(static_cast<size_t>(layers) * count);
  const size_t TC = static_cast<size_t>(T) * cfg.n_embd;
  for (int l = 0; l < layers; l++) {
    for (int first = 0; first < count; first += G) {
      const int n = std::min(G, count - first);
      std::vector<std::vector<int>> groups(n);
      for (int i = 0; i < n; i++) groups[i] = {first + i};
      run(l, groups, s);
      for (int i = 0; i < n; i++) {
        out[static_cast<size_t>(l) * count + first + i] =
            metric(s.x_out.data() + i * TC + TC - cfg.n_embd);
      }
    }
  }
  return out;
}

}  // namespace

std::vector<float> ActivationPatcher::head_z_map(int max_batch_rows) const {
  const ModelConfig& cfg = model_->config;
  const LayerPatch p{*model_, T_, clean_.residual, clean_.head_z, corrupted_.residual,
                     corrupted_.head_z};
  return scan_map(
      cfg, cfg.n_layer, cfg.n_head, T_, max_batch_rows,
      [&](int l, const std::vector<std::vector<int>>& g, PatchScratch& s) {
        patch_heads(p, l, g, s);
      },
      [&](const float* x) { return metric_of_row(x); });
}

std::vector<float> ActivationPatcher::residual_map() const {
  const ModelConfig& cfg = model_->config;
  PatchScratch s(cfg, 1, T_);
  std::vector<float> out(static_cast<size_t>(cfg.n_layer + 1) * T_);  // (L + 1, T)
  for (int l = 0; l <= cfg.n_layer; l++) {
    for (int t = 0; t < T_; t++) out[static_cast<size_t>(l) * T_ + t] = residual_patched_in(l, {t}, s);
  }
  return out;
}

PatchingMaps ActivationPatcher::maps(bool head_z, bool residual) const {
  PatchingMaps m;
  m.clean_ids = clean_ids_;
  m.corrupted_ids = corrupted_ids_;
  m.answer = answer_;
  m.foil = foil_;
  m.clean = clean_metric_;
  m.corrupted = corrupted_metric_;
  if (head_z) m.head_z_metric = head_z_map();
  if (residual) m.residual_metric = residual_map();
  const auto recover = [&](const std::vector<float>& metric) {
    std::vector<float> r(metric.size());
    for (size_t i = 0; i < metric.size(); i++) {
      r[i] = patch_recovery(metric[i], clean_metric_, corrupted_metric_);
    }
    return r;
  };
  m.head_z = recover(m.head_z_metric);
  m.residual = recover(m.residual_metric);
  return m;
}

}  // namespace hl
