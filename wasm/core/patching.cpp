// Activation patching between a clean and a corrupted text: see patching.h.
#include "patching.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "batch_scratch.h"
#include "block.h"
#include "error.h"
#include "kernels.h"
#include "session.h"

namespace hl {

namespace {

// Sequences per batch: at most max_batch_rows rows, at least one sequence.
int batch_of(int count, int T, int max_batch_rows) {
  return std::max(1, std::min(count, max_batch_rows / T));
}

bool same_row(const float* a, const float* b, int C) {
  return std::memcmp(a, b, static_cast<size_t>(C) * sizeof(float)) == 0;
}

// The last layer as far as the metric reads it, for one sequence: rows
// [t0, T) as keys and values (a.qkv holds the rows before t0), the query and
// everything after c_attn of row T - 1 only. The keys and values alone when
// the columns split on GEMM panels.
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
  BatchScratch s(cfg, 1, T_);
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
    const BlockPass pass{cfg,  p.model.weights.layers[l], p.model.packed[l], 1, p.T, nullptr,
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

void check_index(const char* what, int i, int n) {
  if (i < 0 || i >= n) {
    throw Error(std::string("patching: ") + what + " " + std::to_string(i) + " is outside 0.." +
                std::to_string(n - 1));
  }
}

std::string head_name(int layer, int head) {
  return std::to_string(layer) + "." + std::to_string(head);
}

}  // namespace

// The working buffers of run_from_row, for one sequence of T tokens.
struct ActivationPatcher::RowRun {
  BatchScratch s;                // the layers above the patched one
  std::vector<float> qkv;        // (L, T, 3C) the corrupted run's c_attn output, except
  std::vector<int> dirty_from;   // (L) rows from here on, which a run wrote
  std::vector<float> input;      // (T, C) the corrupted residual[input_layer]
  int input_layer = -1;

  RowRun(const ModelConfig& cfg, int T, const std::vector<float>& corrupted_qkv)
      : s(cfg, 1, T), qkv(corrupted_qkv), dirty_from(cfg.n_layer, T),
        input(static_cast<size_t>(T) * cfg.n_embd) {}
};

float ActivationPatcher::run_from_row(int layer, int t, const float* x, RowRun& w) const {
  const ModelConfig& cfg = model_->config;
  const int L = cfg.n_layer, C = cfg.n_embd, T = T_;
  const size_t TC = static_cast<size_t>(T) * C, C3 = 3 * static_cast<size_t>(C);
  const float* corrupted = corrupted_.residual.data() + layer * TC;  // (T, C)
  // The same row as the corrupted run's gives its bits: nothing to run.
  if (same_row(x, corrupted + static_cast<size_t>(t) * C, C)) return corrupted_metric_;
  // ln_f's input: the metric reads its last row only.
  if (layer == L) return t == T - 1 ? metric_of_row(x) : corrupted_metric_;

  if (w.input_layer != layer) {
    std::copy(corrupted, corrupted + TC, w.input.begin());
    w.input_layer = layer;
  }
  // Every layer's keys and values of the rows before t (and, in the patched
  // layer, of every row but t) must be the corrupted run's: put back the
  // rows earlier runs wrote. This run writes rows t.. of the layers above.
  for (int l = layer; l < L; l++) {
    const int from = w.dirty_from[l], to = l == layer ? T : t;
    if (from < to) {
      std::copy(corrupted_qkv_.begin() + (l * T + from) * C3,
                corrupted_qkv_.begin() + (l * T + to) * C3, w.qkv.begin() + (l * T + from) * C3);
    }
    w.dirty_from[l] = to;
  }
  std::copy(x, x + C, w.input.begin() + static_cast<size_t>(t) * C);
  BatchScratch& s = w.s;
  SerialRows rows;
  for (int l = layer; l < L; l++) {
    const bool last = l == L - 1;
    const BlockPass pass{cfg, model_->weights.layers[l], model_->packed[l], 1, T, nullptr,
                         !cfg.attn_only, rows};
    if (l > layer) std::swap(s.x_in, s.x_out);
    BlockActivations a = s.block();
    a.qkv = w.qkv.data() + l * T * C3;
    if (l == layer) {
      // Only row t's input differs: its q, k, v; the other rows keep theirs.
      a.input = w.input.data();
      block_ln_1_forward(pass, a, t, t + 1);
      block_qkv_forward(pass, a, t, t + 1, 0, 3 * C);
      block_after_qkv_forward(pass, a, last ? T - 1 : t, T, /*attend=*/true);
    } else if (last) {
      last_layer_for_metric(pass, a, t);
    } else {
      block_ln_1_forward(pass, a, t, T);
      block_qkv_forward(pass, a, t, T, 0, 3 * C);
      block_after_qkv_forward(pass, a, t, T, /*attend=*/true);
    }
  }
  // Put back the patched layer's input row and its row t of q, k, v.
  std::copy(corrupted + static_cast<size_t>(t) * C, corrupted + static_cast<size_t>(t + 1) * C,
            w.input.begin() + static_cast<size_t>(t) * C);
  std::copy(corrupted_qkv_.begin() + (layer * T + t) * C3,
            corrupted_qkv_.begin() + (layer * T + t + 1) * C3,
            w.qkv.begin() + (layer * T + t) * C3);
  return metric_of_row(s.x_out.data() + static_cast<size_t>(T - 1) * C);
}

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

float ActivationPatcher::path_patched(const PathPatch& path) const {
  const ModelConfig& cfg = model_->config;
  const int L = cfg.n_layer, H = cfg.n_head, D = cfg.d_head(), C = cfg.n_embd, T = T_;
  const size_t TC = static_cast<size_t>(T) * C, C3 = 3 * static_cast<size_t>(C);
  const int ls = path.sender_layer, hs = path.sender_head;
  check_index("sender layer", ls, L);
  check_index("sender head", hs, H);
  int start = L;  // the lowest receiver layer: below it the run is the corrupted one
  for (const int r : path.receivers) {
    check_index("receiver head (l * H + h)", r, L * H);
    if (r / H <= ls) {
      throw Error("path patching: receiver " + head_name(r / H, r % H) +
                  " is not in a layer above the sender " + head_name(ls, hs) +
                  " (it cannot read the sender's output)");
    }
    start = std::min(start, r / H);
  }
  if (start == L) return corrupted_metric_;

  // d (T, C): the sender's clean minus corrupted z through its rows of c_proj
  // (Conv1D (C, C): row k is input feature k); c_proj's bias cancels.
  const float* w_proj = model_->weights.layers[ls].c_proj_w;
  std::vector<float> d(TC, 0.0f);
  for (int t = 0; t < T; t++) {
    float* row = d.data() + static_cast<size_t>(t) * C;
    for (int j = 0; j < D; j++) {
      const size_t at = (static_cast<size_t>(ls) * T + t) * C + hs * D + j;
      const float diff = clean_.head_z[at] - corrupted_.head_z[at];
      const float* w = w_proj + static_cast<size_t>(hs * D + j) * C;
      for (int c = 0; c < C; c++) row[c] += diff * w[c];
    }
  }
  const bool parts[3] = {path.q, path.k, path.v};  // q | k | v column blocks of c_attn

  BatchScratch s(cfg, 1, T), sender(cfg, 1, T);  // the patched run; the receivers' inputs
  std::copy(corrupted_.residual.begin() + start * TC,
            corrupted_.residual.begin() + (start + 1) * TC, s.x_out.begin());
  SerialRows rows;
  for (int l = start; l < L; l++) {
    const BlockPass pass{cfg, model_->weights.layers[l], model_->packed[l], 1, T, nullptr,
                         !cfg.attn_only, rows};
    std::swap(s.x_in, s.x_out);
    const BlockActivations a = s.block();
    block_ln_1_forward(pass, a, 0, T);
    block_qkv_forward(pass, a, 0, T, 0, 3 * C);
    std::vector<int> heads;  // this layer's receivers
    for (const int r : path.receivers) {
      if (r / H == l) heads.push_back(r % H);
    }
    if (!heads.empty()) {
      // The receivers' chosen inputs read ln_1(corrupted residual[l] + d).
      const float* corrupted = corrupted_.residual.data() + l * TC;
      for (size_t i = 0; i < TC; i++) sender.x_in[i] = corrupted[i] + d[i];
      const BlockActivations b = sender.block();
      block_ln_1_forward(pass, b, 0, T);
      block_qkv_forward(pass, b, 0, T, 0, 3 * C);
      for (const int h : heads) {
        for (int part = 0; part < 3; part++) {
          if (!parts[part]) continue;
          for (int t = 0; t < T; t++) {
            const size_t at = t * C3 + static_cast<size_t>(part) * C + h * D;
            std::copy(sender.qkv.begin() + at, sender.qkv.begin() + at + D, s.qkv.begin() + at);
          }
        }
      }
    }
    block_after_qkv_forward(pass, a, 0, T, /*attend=*/true);
  }
  return metric_of_row(s.x_out.data() + static_cast<size_t>(T - 1) * C);
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

std::vector<float> ActivationPatcher::residual_map() const {
  const ModelConfig& cfg = model_->config;
  const int C = cfg.n_embd;
  const size_t TC = static_cast<size_t>(T_) * C;
  RowRun w(cfg, T_, corrupted_qkv_);
  std::vector<float> out(static_cast<size_t>(cfg.n_layer + 1) * T_);  // (L + 1, T)
  for (int l = 0; l <= cfg.n_layer; l++) {
    // Last position first: each run then rewrites the rows the previous one wrote.
    for (int t = T_ - 1; t >= 0; t--) {
      const float* x = clean_.residual.data() + l * TC + static_cast<size_t>(t) * C;
      out[static_cast<size_t>(l) * T_ + t] = run_from_row(l, t, x, w);
    }
  }
  return out;
}

std::vector<float> ActivationPatcher::head_z_position_map() const {
  const ModelConfig& cfg = model_->config;
  const int L = cfg.n_layer, H = cfg.n_head, D = cfg.d_head(), C = cfg.n_embd, T = T_;
  const size_t TC = static_cast<size_t>(T) * C;
  RowRun w(cfg, T, corrupted_qkv_);
  BatchScratch one(cfg, 1, T);  // layer l's row t with the patched head
  std::vector<ZReplacement> zrep(H);  // (H)
  SerialRows rows;
  std::vector<float> out(static_cast<size_t>(L) * H * T);  // (L, H, T)
  for (int l = 0; l < L; l++) {
    std::copy(corrupted_.head_z.begin() + l * TC, corrupted_.head_z.begin() + (l + 1) * TC,
              one.z.begin());
    for (int t = T - 1; t >= 0; t--) {
      for (int h = 0; h < H; h++) {
        // Layer l at row t only (no other row's input or z changes): its
        // attention is the corrupted run's, head h's z the clean run's.
        std::fill(zrep.begin(), zrep.end(), ZReplacement{});
        zrep[h] = ZReplacement{clean_.head_z.data() + l * TC + h * D, C};
        const BlockPass pass{cfg, model_->weights.layers[l], model_->packed[l], 1, T, nullptr,
                             !cfg.attn_only, rows, zrep.data()};
        BlockActivations a = one.block();
        a.input = corrupted_.residual.data() + l * TC;
        block_after_qkv_forward(pass, a, t, t + 1, /*attend=*/false);
        const float* x = one.x_out.data() + static_cast<size_t>(t) * C;  // residual[l + 1][t]
        out[(static_cast<size_t>(l) * H + h) * T + t] = run_from_row(l + 1, t, x, w);
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
