// Activation patching of one row at a time (the residual map, the
// per-position head map): the rows t.. of many patches stacked as one batch
// of rows; see patching.h.
#include <algorithm>
#include <vector>

#include "batch_scratch.h"
#include "block.h"
#include "kernels.h"
#include "patching.h"
#include "patching_detail.h"

namespace hl {

using patching_detail::last_layer_for_metric;
using patching_detail::same_row;

void ActivationPatcher::run_row_patches(int layer, const std::vector<RowPatch>& patches,
                                        float* metrics, RowBatch& w) const {
  const ModelConfig& cfg = model_->config;
  const int L = cfg.n_layer, C = cfg.n_embd, H = cfg.n_head, T = T_;
  const size_t TC = static_cast<size_t>(T) * C, C3 = 3 * static_cast<size_t>(C);
  const int G = static_cast<int>(patches.size());
  // Patch b's rows t..T-1 are stacked rows off[b]..off[b + 1] - 1.
  std::vector<int> off(G + 1, 0);
  for (int b = 0; b < G; b++) off[b + 1] = off[b] + T - patches[b].t;
  const int N = off[G];
  BatchScratch& s = w.stacked;
  BatchScratch& g = w.gathered;
  const float* corrupted = corrupted_.residual.data() + layer * TC;  // (T, C)
  for (int b = 0; b < G; b++) {
    const int t = patches[b].t;
    std::copy(corrupted + static_cast<size_t>(t) * C, corrupted + TC,
              s.x_out.begin() + static_cast<size_t>(off[b]) * C);
    std::copy(patches[b].x, patches[b].x + C, s.x_out.begin() + static_cast<size_t>(off[b]) * C);
  }
  // One patch's attention at layer l from query row `from`: its keys and
  // values are the corrupted run's but new_count new rows from first_new
  // (its stacked rows t.., or in the patched layer its row t); z rows
  // from.. into seq_z.
  // seq_qkv keeps the corrupted rows of layer w.seq_layer between patches
  // (and calls): only the rows the last patch wrote, [w.dirty_begin,
  // w.dirty_end), are put back, and only those this patch does not write
  // again, instead of copying all T rows per patch and layer. What attention
  // reads is the same bits either way.
  const auto attend = [&](int l, int from, const float* new_rows, int first_new,
                          int new_count) {
    const float* kept = corrupted_qkv_.data() + l * T * C3;  // (T, 3C)
    float* seq = w.seq_qkv.data();
    const int new_end = first_new + new_count;
    const auto restore = [&](int r0, int r1) {
      if (r0 < r1) std::copy(kept + r0 * C3, kept + r1 * C3, seq + r0 * C3);
    };
    if (w.seq_layer != l) {
      restore(0, T);
      w.seq_layer = l;
    } else {
      restore(w.dirty_begin, std::min(w.dirty_end, first_new));
      restore(std::max(w.dirty_begin, new_end), w.dirty_end);
    }
    std::copy(new_rows, new_rows + new_count * C3, seq + static_cast<size_t>(first_new) * C3);
    w.dirty_begin = first_new;
    w.dirty_end = new_end;
    attention_forward_rows(w.seq_z.data(), w.seq_probs.data(), seq, T, C, H, from, T);
  };
  const bool split = C % gemm_panel_width() == 0;  // c_attn's q columns can run apart
  SerialRows rows;
  for (int l = layer; l < L; l++) {
    const bool last = l == L - 1;
    // The stacked rows as one sequence for the row-wise parts; one row per patch.
    const BlockPass pass_n{cfg, model_->weights.layers[l], model_->packed[l], 1, N, nullptr,
                           !cfg.attn_only, rows};
    const BlockPass pass_g{cfg, model_->weights.layers[l], model_->packed[l], 1, G, nullptr,
                           !cfg.attn_only, rows};
    std::swap(s.x_in, s.x_out);
    const BlockActivations a = s.block(), ga = g.block();
    const bool q_apart = l > layer && last && split;
    if (l == layer) {
      // Only row t of each patch has a new input: its q, k, v, one row per patch.
      for (int b = 0; b < G; b++) {
        std::copy(s.x_in.begin() + static_cast<size_t>(off[b]) * C,
                  s.x_in.begin() + static_cast<size_t>(off[b] + 1) * C,
                  g.x_in.begin() + static_cast<size_t>(b) * C);
      }
      block_ln_1_forward(pass_g, ga, 0, G);
      block_qkv_forward(pass_g, ga, 0, G, 0, 3 * C);
    } else if (q_apart) {
      // Rows before each patch's last serve its last query as keys and
      // values only; the last rows' queries, one row per patch.
      block_ln_1_forward(pass_n, a, 0, N);
      block_qkv_forward(pass_n, a, 0, N, C, 3 * C);
      for (int b = 0; b < G; b++) {
        std::copy(s.ln.begin() + static_cast<size_t>(off[b + 1] - 1) * C,
                  s.ln.begin() + static_cast<size_t>(off[b + 1]) * C,
                  g.ln.begin() + static_cast<size_t>(b) * C);
      }
      block_qkv_forward(pass_g, ga, 0, G, 0, C);
    } else {
      block_ln_1_forward(pass_n, a, 0, N);
      block_qkv_forward(pass_n, a, 0, N, 0, 3 * C);
    }
    for (int b = 0; b < G; b++) {
      const int t = patches[b].t;
      const size_t row = static_cast<size_t>(off[b]);
      if (l == layer) {
        attend(l, last ? T - 1 : t, g.qkv.data() + b * C3, t, 1);
      } else {
        float* patch_qkv = s.qkv.data() + row * C3;  // (T - t, 3C)
        if (q_apart) {
          std::copy(g.qkv.begin() + b * C3, g.qkv.begin() + b * C3 + C,
                    patch_qkv + static_cast<size_t>(T - 1 - t) * C3);
        }
        attend(l, last ? T - 1 : t, patch_qkv, t, T - t);
      }
      if (last) {
        // The metric reads the last row: its input and z, one row per patch.
        std::copy(s.x_in.begin() + static_cast<size_t>(off[b + 1] - 1) * C,
                  s.x_in.begin() + static_cast<size_t>(off[b + 1]) * C,
                  g.x_in.begin() + static_cast<size_t>(b) * C);
        std::copy(w.seq_z.begin() + (T - 1) * C, w.seq_z.begin() + TC,
                  g.z.begin() + static_cast<size_t>(b) * C);
      } else {
        std::copy(w.seq_z.begin() + static_cast<size_t>(t) * C, w.seq_z.begin() + TC,
                  s.z.begin() + row * C);
      }
    }
    // c_proj and the MLP, row-wise: every stacked row, or the last rows.
    if (last) {
      block_after_qkv_forward(pass_g, ga, 0, G, /*attend=*/false);
    } else {
      block_after_qkv_forward(pass_n, a, 0, N, /*attend=*/false);
    }
  }
  for (int b = 0; b < G; b++) metrics[b] = metric_of_row(g.x_out.data() + static_cast<size_t>(b) * C);
}

void ActivationPatcher::run_row_patches_batched(int layer, const std::vector<RowPatch>& patches,
                                                const std::vector<size_t>& at,
                                                std::vector<float>& out, RowBatch& w) const {
  const ModelConfig& cfg = model_->config;
  const int C = cfg.n_embd, T = T_;
  const float* corrupted = corrupted_.residual.data() + layer * static_cast<size_t>(T) * C;
  std::vector<RowPatch> batch;
  std::vector<size_t> batch_at;
  std::vector<float> metrics;
  int batch_rows = 0;
  const auto flush = [&] {
    metrics.resize(batch.size());
    if (!batch.empty()) run_row_patches(layer, batch, metrics.data(), w);
    for (size_t i = 0; i < batch.size(); i++) out[batch_at[i]] = metrics[i];
    batch.clear();
    batch_at.clear();
    batch_rows = 0;
  };
  for (size_t i = 0; i < patches.size(); i++) {
    const RowPatch& p = patches[i];
    // The same row as the corrupted run's gives its bits: nothing to run.
    if (same_row(p.x, corrupted + static_cast<size_t>(p.t) * C, C)) {
      out[at[i]] = corrupted_metric_;
      continue;
    }
    // ln_f's input: the metric reads its last row only.
    if (layer == cfg.n_layer) {
      out[at[i]] = p.t == T - 1 ? metric_of_row(p.x) : corrupted_metric_;
      continue;
    }
    if (batch_rows + T - p.t > w.max_rows) flush();
    batch.push_back(p);
    batch_at.push_back(at[i]);
    batch_rows += T - p.t;
  }
  flush();
}

// Rows stacked per batch of one-row patches: GEMMs of a few M blocks.
constexpr int kRowBatchRows = 512;

std::vector<float> ActivationPatcher::residual_map() const {
  const ModelConfig& cfg = model_->config;
  const int C = cfg.n_embd, T = T_;
  const size_t TC = static_cast<size_t>(T) * C;
  RowBatch w(cfg, T, kRowBatchRows);
  std::vector<float> out(static_cast<size_t>(cfg.n_layer + 1) * T);  // (L + 1, T)
  for (int l = 0; l <= cfg.n_layer; l++) {
    std::vector<RowPatch> patches(T);
    std::vector<size_t> at(T);
    for (int t = 0; t < T; t++) {
      patches[t] = RowPatch{t, clean_.residual.data() + l * TC + static_cast<size_t>(t) * C};
      at[t] = static_cast<size_t>(l) * T + t;
    }
    run_row_patches_batched(l, patches, at, out, w);
  }
  return out;
}

std::vector<float> ActivationPatcher::head_z_position_map() const {
  const ModelConfig& cfg = model_->config;
  const int L = cfg.n_layer, H = cfg.n_head, D = cfg.d_head(), C = cfg.n_embd, T = T_;
  const size_t TC = static_cast<size_t>(T) * C;
  RowBatch w(cfg, T, kRowBatchRows);
  BatchScratch one(cfg, 1, T, /*attention=*/false);  // layer l's row t with the patched head
  std::vector<float> x(static_cast<size_t>(H) * TC);  // (H, T, C) residual[l + 1] rows so patched
  std::vector<ZReplacement> zrep(H);                  // (H)
  SerialRows rows;
  std::vector<float> out(static_cast<size_t>(L) * H * T);  // (L, H, T)
  for (int l = 0; l < L; l++) {
    std::copy(corrupted_.head_z.begin() + l * TC, corrupted_.head_z.begin() + (l + 1) * TC,
              one.z.begin());
    std::vector<RowPatch> patches;
    std::vector<size_t> at;
    for (int h = 0; h < H; h++) {
      for (int t = 0; t < T; t++) {
        // Layer l at row t only (no other row's input or z changes): its
        // attention is the corrupted run's, head h's z the clean run's.
        std::fill(zrep.begin(), zrep.end(), ZReplacement{});
        zrep[h] = ZReplacement{clean_.head_z.data() + l * TC + h * D, C};
        const BlockPass pass{cfg, model_->weights.layers[l], model_->packed[l], 1, T, nullptr,
                             !cfg.attn_only, rows, zrep.data()};
        BlockActivations a = one.block();
        a.input = corrupted_.residual.data() + l * TC;
        block_after_qkv_forward(pass, a, t, t + 1, /*attend=*/false);
        float* row = x.data() + h * TC + static_cast<size_t>(t) * C;
        std::copy(one.x_out.begin() + static_cast<size_t>(t) * C,
                  one.x_out.begin() + static_cast<size_t>(t + 1) * C, row);
        patches.push_back(RowPatch{t, row});
        at.push_back((static_cast<size_t>(l) * H + h) * T + t);
      }
    }
    run_row_patches_batched(l + 1, patches, at, out, w);
  }
  return out;
}

}  // namespace hl
