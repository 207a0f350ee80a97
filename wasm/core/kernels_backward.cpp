// Backward kernels (see kernels_backward.h). Dot products and axpys use xsimd
// like the forward kernels: generic over batch::size, so AVX2 natively and
// SSE4.1 -> 128-bit wasm SIMD in the browser.
#include "kernels_backward.h"

#include <algorithm>
#include <cmath>
#include <xsimd/xsimd.hpp>

#include "kernels.h"

namespace hl {
namespace {

using batch = xsimd::batch<float>;
constexpr int kLanes = static_cast<int>(batch::size);

float dot(const float* a, const float* b, int n) {
  batch acc(0.0f);
  int i = 0;
  for (; i + kLanes <= n; i += kLanes)
    acc = xsimd::fma(batch::load_unaligned(a + i), batch::load_unaligned(b + i), acc);
  float sum = xsimd::hadd(acc);
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// y += alpha * x
void axpy(float* y, float alpha, const float* x, int n) {
  const batch va(alpha);
  int i = 0;
  for (; i + kLanes <= n; i += kLanes)
    xsimd::fma(va, batch::load_unaligned(x + i), batch::load_unaligned(y + i))
        .store_unaligned(y + i);
  for (; i < n; ++i) y[i] += alpha * x[i];
}

constexpr float kGeluScale = 0.7978845608028654f;  // sqrt(2 / pi)

}  // namespace

void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* weight, const float* mean, const float* rstd,
                        int N, int C) {
  for (int i = 0; i < N; ++i) {
    const float* dy = dout + static_cast<size_t>(i) * C;
    const float* x = inp + static_cast<size_t>(i) * C;
    float* dx = dinp + static_cast<size_t>(i) * C;
    const float m = mean[i];
    const float s = rstd[i];
    // x_hat = (x - m) * s; dx_hat = dy * weight.
    // dx = s * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat))
    float sum_dxhat = 0.0f, sum_dxhat_xhat = 0.0f;
    for (int c = 0; c < C; ++c) {
      const float x_hat = (x[c] - m) * s;
      const float dx_hat = dy[c] * weight[c];
      sum_dxhat += dx_hat;
      sum_dxhat_xhat += dx_hat * x_hat;
    }
    const float mean_dxhat = sum_dxhat / C;
    const float mean_dxhat_xhat = sum_dxhat_xhat / C;
    for (int c = 0; c < C; ++c) {
      const float x_hat = (x[c] - m) * s;
      const float dx_hat = dy[c] * weight[c];
      dbias[c] += dy[c];
      dweight[c] += x_hat * dy[c];
      dx[c] += s * (dx_hat - mean_dxhat - x_hat * mean_dxhat_xhat);
    }
  }
}

void gelu_backward(float* dinp, const float* inp, const float* dout, size_t n) {
  // gelu(x) = x * sigma(2u), u = k (x + 0.044715 x^3): the forward kernel's
  // form. With s = sigma(2u): gelu'(x) = s + 2 x s (1 - s) u'(x).
  constexpr size_t kChunk = 256;
  float e[kChunk];
  for (size_t i0 = 0; i0 < n; i0 += kChunk) {
    const size_t len = std::min(kChunk, n - i0);
    const float* x = inp + i0;
    for (size_t j = 0; j < len; ++j) {
      const float u = kGeluScale * (x[j] + 0.044715f * x[j] * x[j] * x[j]);
      e[j] = -2.0f * u;
    }
    exp_forward(e, e, len);
    for (size_t j = 0; j < len; ++j) {
      const float s = 1.0f / (1.0f + e[j]);
      const float du = kGeluScale * (1.0f + 3.0f * 0.044715f * x[j] * x[j]);
      dinp[i0 + j] = dout[i0 + j] * (s + 2.0f * x[j] * s * (1.0f - s) * du);
    }
  }
}

void attention_backward(float* dqkv, float* dscores_row, const float* dz, const float* qkv,
                        const float* probs, int T, int C, int H, int h_begin, int h_end) {
  const int D = C / H;
  const int stride = 3 * C;
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  for (int h = h_begin; h < h_end; ++h) {
    const float* q = qkv + h * D;
    const float* k = qkv + C + h * D;
    const float* v = qkv + 2 * C + h * D;
    float* dq = dqkv + h * D;
    float* dk = dqkv + C + h * D;
    float* dv = dqkv + 2 * C + h * D;
    for (int t = 0; t < T; ++t) {
      float* dq_t = dq + static_cast<size_t>(t) * stride;
      float* dk_t = dk + static_cast<size_t>(t) * stride;
      float* dv_t = dv + static_cast<size_t>(t) * stride;
      for (int d = 0; d < D; ++d) dq_t[d] = dk_t[d] = dv_t[d] = 0.0f;
    }
    const float* p_h = probs + static_cast<size_t>(h) * T * T;
    for (int t = 0; t < T; ++t) {
      const float* p_t = p_h + static_cast<size_t>(t) * T;
      const float* dz_t = dz + static_cast<size_t>(t) * C + h * D;
      const float* q_t = q + static_cast<size_t>(t) * stride;
      float* dq_t = dq + static_cast<size_t>(t) * stride;
      // z_t = sum_s p[t,s] v_s: dp[t,s] = dz_t . v_s, dv_s += p[t,s] dz_t.
      float dp_dot_p = 0.0f;
      for (int s = 0; s <= t; ++s) {
        const size_t row = static_cast<size_t>(s) * stride;
        const float dp = dot(dz_t, v + row, D);
        dscores_row[s] = dp;
        dp_dot_p += dp * p_t[s];
        axpy(dv + row, p_t[s], dz_t, D);
      }
      // Softmax backward: dscore = p (dp - sum_s' p dp); scores = scale q.k.
      for (int s = 0; s <= t; ++s) {
        const float dscore = p_t[s] * (dscores_row[s] - dp_dot_p) * scale;
        const size_t row = static_cast<size_t>(s) * stride;
        axpy(dq_t, dscore, k + row, D);
        axpy(dk + row, dscore, q_t, D);
      }
    }
  }
}

void crossentropy_softmax_backward(float* probs, const int* targets, int N, int V,
                                   float loss_scale) {
  for (int i = 0; i < N; ++i) {
    float* row = probs + static_cast<size_t>(i) * V;
    row[targets[i]] -= 1.0f;
    for (int v = 0; v < V; ++v) row[v] *= loss_scale;
  }
}

void bias_backward(float* dbias, const float* dout, int N, int OC, int j_begin, int j_end) {
  for (int i = 0; i < N; ++i) {
    const float* row = dout + static_cast<size_t>(i) * OC;
    for (int j = j_begin; j < j_end; ++j) dbias[j] += row[j];
  }
}

void transpose(float* out, const float* in, int rows, int cols, int r_begin, int r_end) {
  // Output row c is input column c. 32 x 32 tiles keep both sides in cache.
  constexpr int kTile = 32;
  for (int c0 = r_begin; c0 < r_end; c0 += kTile) {
    const int c1 = std::min(r_end, c0 + kTile);
    for (int i0 = 0; i0 < rows; i0 += kTile) {
      const int i1 = std::min(rows, i0 + kTile);
      for (int c = c0; c < c1; ++c) {
        float* dst = out + static_cast<size_t>(c) * rows;
        for (int i = i0; i < i1; ++i) dst[i] = in[static_cast<size_t>(i) * cols + c];
      }
    }
  }
}

}  // namespace hl
