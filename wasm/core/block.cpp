// One transformer block's forward pass: see block.h.
#include "block.h"

#include <cstring>
#include <string>

#include "error.h"
#include "kernels.h"

namespace hl {

namespace {

// W (K, N) row-major into packed, for gemm_packed.
void pack_into(std::vector<float>& packed, const float* W, int K, int N) {
  packed.resize(packed_b_size(K, N));
  pack_b(packed.data(), W, K, N, N);
}

// Layer norm of rows [r0, r1) of in (N, C) into out; the statistics too when
// the caller keeps them. 16-row parts: one row is only C floats of work.
void layernorm_rows(RowRunner& rows, float* out, float* mean, float* rstd, const float* in,
                    const float* weight, const float* bias, int r0, int r1, int C, float eps) {
  rows.for_rows(r1 - r0, 16, [&](int i0, int i1) {
    const int r = r0 + i0;
    const size_t off = static_cast<size_t>(r) * C;
    layernorm_forward(out + off, mean ? mean + r : nullptr, rstd ? rstd + r : nullptr, in + off,
                      weight, bias, i1 - i0, C, eps);
  });
}

}  // namespace

void pack_layer(PackedLayer& packed, const LayerWeights& w, const ModelConfig& cfg, bool mlp) {
  const int C = cfg.n_embd, F = cfg.d_mlp();
  pack_into(packed.c_attn, w.c_attn_w, C, 3 * C);
  pack_into(packed.c_proj, w.c_proj_w, C, C);
  if (mlp) {
    pack_into(packed.mlp_c_fc, w.mlp_c_fc_w, C, F);
    pack_into(packed.mlp_c_proj, w.mlp_c_proj_w, F, C);
  }
}

void SerialRows::for_rows(int n, int, const std::function<void(int, int)>& fn) {
  if (n > 0) fn(0, n);
}

void SerialRows::matmul(float* C, const float* A, const float* packed_B, const float* bias, int M,
                        int K, int N, bool accumulate) {
  gemm_packed(C, A, packed_B, bias, M, K, N, accumulate);
}

void block_forward(const BlockPass& p, const BlockActivations& a) {
  const int N = p.B * p.T, C = p.cfg.n_embd;
  block_ln_1_forward(p, a, 0, N);
  block_qkv_forward(p, a, 0, N, 0, 3 * C);
  block_after_qkv_forward(p, a, 0, p.T, /*attend=*/true);
}

void block_ln_1_forward(const BlockPass& p, const BlockActivations& a, int r0, int r1) {
  layernorm_rows(p.rows, a.ln_1, a.ln_1_mean, a.ln_1_rstd, a.input, p.w.ln_1_w, p.w.ln_1_b, r0, r1,
                 p.cfg.n_embd, p.cfg.layer_norm_epsilon);
}

void block_qkv_forward(const BlockPass& p, const BlockActivations& a, int r0, int r1, int col0,
                       int col1) {
  if (r0 >= r1) return;
  const int C = p.cfg.n_embd;
  float* qkv = a.qkv + static_cast<size_t>(r0) * 3 * C;    // (r1 - r0, 3C)
  const float* ln = a.ln_1 + static_cast<size_t>(r0) * C;  // (r1 - r0, C)
  if (col0 == 0 && col1 == 3 * C) {
    p.rows.matmul(qkv, ln, p.packed.c_attn.data(), p.w.c_attn_b, r1 - r0, C, 3 * C, false);
  } else {
    gemm_packed_cols(qkv, ln, p.packed.c_attn.data(), p.w.c_attn_b, r1 - r0, C, 3 * C, col0, col1);
  }
}

void block_after_qkv_forward(const BlockPass& p, const BlockActivations& a, int t0, int t1,
                             bool attend) {
  if (t0 >= t1) return;
  const int B = p.B, T = p.T, C = p.cfg.n_embd, H = p.cfg.n_head, D = p.cfg.d_head();
  const int F = p.cfg.d_mlp();
  if (B > 1 && (t0 != 0 || t1 != T)) {
    throw Error("block: a part of the rows (" + std::to_string(t0) + ".." + std::to_string(t1) +
                " of " + std::to_string(T) + ") needs one sequence, got " + std::to_string(B));
  }
  // The rows run: [t0, t1) of one sequence, or all N of a batch.
  const int r0 = t0, r1 = (B - 1) * T + t1, M = r1 - r0;
  const size_t off = static_cast<size_t>(r0) * C;  // first row's offset in an (N, C) buffer
  const size_t MC = static_cast<size_t>(M) * C;

  // Attention, one sequence per task: (B, H, T, T) probs and (N, C) z.
  if (attend) {
    p.rows.for_rows(B, 1, [&](int b0, int b1) {
      for (int b = b0; b < b1; ++b) {
        const size_t tok = static_cast<size_t>(b) * T;
        attention_forward_rows(a.z + tok * C, a.attn_probs + static_cast<size_t>(b) * H * T * T,
                               a.qkv + tok * 3 * C, T, C, H, t0, t1);
      }
    });
  }

  // residual_2 = input + (gain * z) @ c_proj + b, z replaced first where
  // z_replace says (a gain of 1 when there are none: x * 1 is x, bit for bit)
  const float* proj_in = a.z;
  if (p.head_gain || p.z_replace) {
    for (int r = r0; r < r1; ++r) {
      const int t = r % T;  // position within its sequence
      for (int h = 0; h < H; ++h) {
        const ZReplacement* rep = p.z_replace && p.z_replace[h].z ? &p.z_replace[h] : nullptr;
        const float* zh = rep ? rep->z + static_cast<size_t>(t) * rep->row_stride
                              : a.z + static_cast<size_t>(r) * C + h * D;
        const float gain = p.head_gain ? p.head_gain[h] : 1.0f;
        float* gh = a.z_gained + static_cast<size_t>(r) * C + h * D;
        for (int d = 0; d < D; ++d) gh[d] = zh[d] * gain;
      }
    }
    proj_in = a.z_gained;
  }
  std::memcpy(a.residual_2 + off, a.input + off, MC * sizeof(float));
  p.rows.matmul(a.residual_2 + off, proj_in + off, p.packed.c_proj.data(), p.w.c_proj_b, M, C, C,
                /*accumulate=*/true);

  if (!p.mlp) {  // no MLP (or switched off): the block's output is residual_2
    if (a.output != a.residual_2)
      std::memcpy(a.output + off, a.residual_2 + off, MC * sizeof(float));
    return;
  }
  // output = residual_2 + gelu(ln_2(residual_2) @ c_fc + b) @ mlp.c_proj + b
  const size_t off_f = static_cast<size_t>(r0) * F;  // first row's offset in an (N, F) buffer
  layernorm_rows(p.rows, a.ln_2, a.ln_2_mean, a.ln_2_rstd, a.residual_2, p.w.ln_2_w, p.w.ln_2_b, r0,
                 r1, C, p.cfg.layer_norm_epsilon);
  p.rows.matmul(a.fc + off_f, a.ln_2 + off, p.packed.mlp_c_fc.data(), p.w.mlp_c_fc_b, M, C, F,
                false);
  p.rows.for_rows(M, 16, [&](int i0, int i1) {
    const size_t part = off_f + static_cast<size_t>(i0) * F;
    gelu_forward(a.fc_gelu + part, a.fc + part, static_cast<size_t>(i1 - i0) * F);
  });
  if (a.output != a.residual_2) std::memcpy(a.output + off, a.residual_2 + off, MC * sizeof(float));
  p.rows.matmul(a.output + off, a.fc_gelu + off_f, p.packed.mlp_c_proj.data(), p.w.mlp_c_proj_b, M,
                F, C, /*accumulate=*/true);
}

}  // namespace hl
