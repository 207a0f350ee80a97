// Element-wise and row kernels in xsimd (kernels.h): exp, GELU, layer norm,
// softmax and the vocabulary softmax's fused exp and sum, causal attention.
// The same single code path as the GEMM (kernels.cpp): 8-lane AVX2 natively,
// 4-lane SSE4.1 lowered to 128-bit wasm SIMD.
#include "kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>
#include <xsimd/xsimd.hpp>

namespace hl {
namespace {

using batch = xsimd::batch<float>;
using batch_i32 = xsimd::batch<int32_t>;
constexpr int kLanes = static_cast<int>(batch::size);

// ---- exp ------------------------------------------------------------------
// exp(x) = 2^n * exp(r), n = round(x / ln2), |r| <= ln2 / 2. n is found without
// a float->int conversion (scalarised in wasm): adding 1.5 * 2^23 rounds
// x*log2(e) to an integer held in the low mantissa bits, and those bits shifted
// into the exponent field give 2^n. Cephes' degree-7 polynomial for exp(r).
constexpr float kExpMax = 88.72283935546875f;   // ln(FLT_MAX)
constexpr float kExpMin = -87.33654022216797f;  // ln(FLT_MIN): below it we flush to 0

// 2^n * exp(r) for xc in [kExpMin, 0] (up to kExpMax when kUpper). Below
// kExpMin n stays -126 and the result is not exp(xc): callers clamp or
// select there.
template <bool kUpper>
inline batch exp_core(batch xc) {
  const batch magic(12582912.0f);  // 1.5 * 2^23
  batch t = xsimd::fma(xc, batch(1.44269504088896341f), magic);
  // Keep n in [-126, 127] so 2^n is a normal float; r may then reach ln2 near
  // the top end, where the polynomial is still accurate to ~1e-6.
  t = xsimd::max(t, batch(12582912.0f - 126.0f));
  if (kUpper) t = xsimd::min(t, batch(12582912.0f + 127.0f));
  const batch n = t - magic;
  // Cody-Waite: ln2 = 0.693359375 - 2.12194440e-4; n * 0.693359375 is exact.
  batch r = xsimd::fnma(n, batch(0.693359375f), xc);
  r = xsimd::fnma(n, batch(-2.12194440e-4f), r);
  batch p(1.9875691500e-4f);
  p = xsimd::fma(p, r, batch(1.3981999507e-3f));
  p = xsimd::fma(p, r, batch(8.3334519073e-3f));
  p = xsimd::fma(p, r, batch(4.1665795894e-2f));
  p = xsimd::fma(p, r, batch(1.6666665459e-1f));
  p = xsimd::fma(p, r, batch(5.0000001201e-1f));
  const batch r2 = r * r;
  p = xsimd::fma(p, r2, r) + batch(1.0f);
  // t's bits are 0x4B400000 + n; (bits + 127) << 23 drops the 0x4B4 part and
  // leaves the biased exponent n + 127.
  const batch_i32 bits = xsimd::bitwise_cast<batch_i32>(t);
  return p * xsimd::bitwise_cast<batch>((bits + batch_i32(127)) << 23);
}

inline batch exp_batch(batch x) {
  const batch xc = xsimd::min(xsimd::max(x, batch(kExpMin)), batch(kExpMax));
  batch y = exp_core<true>(xc);
  y = xsimd::select(x < batch(kExpMin), batch(0.0f), y);
  y = xsimd::select(x > batch(kExpMax), batch(std::numeric_limits<float>::infinity()), y);
  // The clamps above turn NaN into a number; keep it NaN so bad input shows.
  return xsimd::select(xsimd::isnan(x), x, y);
}

// exp for x <= 0 (or NaN): a softmax row less its max. The same bits as
// exp_batch there, with neither clamp of x: below kExpMin, where r runs out
// of the polynomial's range, the select gives 0 (-inf included), and a NaN
// x stays NaN through r.
inline batch exp_nonpositive_batch(batch x) {
  const batch y = exp_core<false>(x);
  return xsimd::select(x < batch(kExpMin), batch(0.0f), y);
}

float exp_scalar(float x) {
  alignas(64) float lane[kLanes] = {};
  lane[0] = x;
  exp_batch(batch::load_aligned(lane)).store_aligned(lane);
  return lane[0];
}

// GELU tanh form rewritten as a logistic: 0.5 (1 + tanh(u)) = 1 / (1 + e^(-2u)).
// Same function, one exp, and no cancellation in 1 - e^(-2u) near u = 0.
constexpr float kGeluScale = 0.7978845608028654f;  // sqrt(2 / pi)

inline batch gelu_batch(batch x) {
  // e^(-2u), -2u = -2 sqrt(2/pi) x (1 + 0.044715 x^2), clamped to exp's range
  // and no selects: NaN x stays NaN through x / (...), and at either end of
  // the range the quotient is already x or 0 to float precision.
  const batch m2u = batch(-2.0f * kGeluScale) * (x * xsimd::fma(x * x, batch(0.044715f), batch(1.0f)));
  const batch e = exp_core<true>(xsimd::min(xsimd::max(m2u, batch(kExpMin)), batch(kExpMax)));
  return x / (batch(1.0f) + e);
}

inline float hsum(batch v) { return xsimd::hadd(v); }

}  // namespace

float row_max(const float* x, int n) {
  int i = 0;
  float m = -std::numeric_limits<float>::infinity();
  if (n >= kLanes) {
    batch vm = batch::load_unaligned(x);
    for (i = kLanes; i + kLanes <= n; i += kLanes)
      vm = xsimd::max(vm, batch::load_unaligned(x + i));
    alignas(64) float lane[kLanes];
    vm.store_aligned(lane);
    for (int j = 0; j < kLanes; ++j) m = std::max(m, lane[j]);
  }
  for (; i < n; ++i) m = std::max(m, x[i]);
  return m;
}

namespace {

// x[i] = exp(x[i] - shift), returns the sum.
float exp_shift_sum(float* x, int n, float shift) {
  const batch vshift(shift);
  batch vsum(0.0f);
  int i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const batch e = exp_nonpositive_batch(batch::load_unaligned(x + i) - vshift);
    e.store_unaligned(x + i);
    vsum += e;
  }
  float sum = hsum(vsum);
  for (; i < n; ++i) {
    x[i] = exp_scalar(x[i] - shift);
    sum += x[i];
  }
  return sum;
}

void scale_inplace(float* x, int n, float s) {
  const batch vs(s);
  int i = 0;
  for (; i + kLanes <= n; i += kLanes) (batch::load_unaligned(x + i) * vs).store_unaligned(x + i);
  for (; i < n; ++i) x[i] *= s;
}

// softmax of one row in place; a row of all -inf gives all zeros, not NaN.
void softmax_row(float* x, int n) {
  const float m = row_max(x, n);
  if (m == -std::numeric_limits<float>::infinity()) {
    std::fill(x, x + n, 0.0f);
    return;
  }
  const float sum = exp_shift_sum(x, n, m);
  scale_inplace(x, n, 1.0f / sum);
}

float dot(const float* a, const float* b, int n) {
  batch acc0(0.0f), acc1(0.0f);
  int i = 0;
  for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
    acc0 = xsimd::fma(batch::load_unaligned(a + i), batch::load_unaligned(b + i), acc0);
    acc1 = xsimd::fma(batch::load_unaligned(a + i + kLanes), batch::load_unaligned(b + i + kLanes),
                      acc1);
  }
  for (; i + kLanes <= n; i += kLanes)
    acc0 = xsimd::fma(batch::load_unaligned(a + i), batch::load_unaligned(b + i), acc0);
  float sum = hsum(acc0 + acc1);
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// One head of causal attention, query rows [t0, t1).
//   q, k, v rows of stride `stride` (3C), D columns each
//   probs (T, T) for this head, z rows of stride C.
void attention_head(float* z, int z_stride, float* probs, const float* q, const float* k,
                    const float* v, int stride, int T, int D, int t0, int t1) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  for (int t = t0; t < t1; ++t) {
    const float* q_t = q + static_cast<size_t>(t) * stride;
    float* p_t = probs + static_cast<size_t>(t) * T;
    // scores for keys s <= t, kLanes keys at a time: kLanes dot products over D
    // reduced together by haddp.
    int s = 0;
    const int n_keys = t + 1;
    const int d_vec = D - D % kLanes;
    for (; s + kLanes <= n_keys; s += kLanes) {
      batch acc[kLanes];
      for (int j = 0; j < kLanes; ++j) acc[j] = batch(0.0f);
      for (int d = 0; d < d_vec; d += kLanes) {
        const batch qd = batch::load_unaligned(q_t + d);
        for (int j = 0; j < kLanes; ++j)
          acc[j] = xsimd::fma(
              qd, batch::load_unaligned(k + static_cast<size_t>(s + j) * stride + d), acc[j]);
      }
      batch scores = xsimd::haddp(acc);
      if (d_vec < D) {
        alignas(64) float tail[kLanes];
        for (int j = 0; j < kLanes; ++j) {
          const float* k_s = k + static_cast<size_t>(s + j) * stride;
          float sum = 0.0f;
          for (int d = d_vec; d < D; ++d) sum += q_t[d] * k_s[d];
          tail[j] = sum;
        }
        scores += batch::load_aligned(tail);
      }
      (scores * batch(scale)).store_unaligned(p_t + s);
    }
    for (; s < n_keys; ++s) p_t[s] = dot(q_t, k + static_cast<size_t>(s) * stride, D) * scale;
    softmax_row(p_t, n_keys);
    std::fill(p_t + n_keys, p_t + T, 0.0f);

    // z_t = sum_s p_t[s] v_s, four batches of D at a time.
    float* z_t = z + static_cast<size_t>(t) * z_stride;
    int d = 0;
    for (; d + 4 * kLanes <= D; d += 4 * kLanes) {
      batch a0(0.0f), a1(0.0f), a2(0.0f), a3(0.0f);
      for (int s2 = 0; s2 < n_keys; ++s2) {
        const batch p(p_t[s2]);
        const float* v_s = v + static_cast<size_t>(s2) * stride + d;
        a0 = xsimd::fma(p, batch::load_unaligned(v_s), a0);
        a1 = xsimd::fma(p, batch::load_unaligned(v_s + kLanes), a1);
        a2 = xsimd::fma(p, batch::load_unaligned(v_s + 2 * kLanes), a2);
        a3 = xsimd::fma(p, batch::load_unaligned(v_s + 3 * kLanes), a3);
      }
      a0.store_unaligned(z_t + d);
      a1.store_unaligned(z_t + d + kLanes);
      a2.store_unaligned(z_t + d + 2 * kLanes);
      a3.store_unaligned(z_t + d + 3 * kLanes);
    }
    for (; d + kLanes <= D; d += kLanes) {
      batch a0(0.0f);
      for (int s2 = 0; s2 < n_keys; ++s2)
        a0 = xsimd::fma(batch(p_t[s2]),
                        batch::load_unaligned(v + static_cast<size_t>(s2) * stride + d), a0);
      a0.store_unaligned(z_t + d);
    }
    for (; d < D; ++d) {
      float sum = 0.0f;
      for (int s2 = 0; s2 < n_keys; ++s2) sum += p_t[s2] * v[static_cast<size_t>(s2) * stride + d];
      z_t[d] = sum;
    }
  }
}

}  // namespace

// ---- element-wise and row kernels ----------------------------------------

void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                       const float* bias, int N, int C, float eps) {
  for (int i = 0; i < N; ++i) {
    const float* x = inp + static_cast<size_t>(i) * C;
    float* y = out + static_cast<size_t>(i) * C;
    // Two passes: the mean first, then the centred sum of squares, which does
    // not cancel the way E[x^2] - E[x]^2 does when |mean| >> std. Both work on
    // x - x[0] (exact when the row's values are within a factor 2 of each
    // other), so a row sitting at 1000 +- 1 keeps its low digits.
    const float shift = x[0];
    const batch vshift(shift);
    batch vsum(0.0f);
    int c = 0;
    for (; c + kLanes <= C; c += kLanes) vsum += batch::load_unaligned(x + c) - vshift;
    float sum = hsum(vsum);
    for (; c < C; ++c) sum += x[c] - shift;
    const float m_shifted = sum / C;  // mean - shift
    const batch vm(m_shifted);
    batch vvar(0.0f);
    for (c = 0; c + kLanes <= C; c += kLanes) {
      const batch d = (batch::load_unaligned(x + c) - vshift) - vm;
      vvar = xsimd::fma(d, d, vvar);
    }
    float var = hsum(vvar);
    for (; c < C; ++c) var += (x[c] - shift - m_shifted) * (x[c] - shift - m_shifted);
    var /= C;
    const float s = 1.0f / std::sqrt(var + eps);
    const batch vs(s);
    for (c = 0; c + kLanes <= C; c += kLanes) {
      const batch n = ((batch::load_unaligned(x + c) - vshift) - vm) * vs;
      xsimd::fma(n, batch::load_unaligned(weight + c), batch::load_unaligned(bias + c))
          .store_unaligned(y + c);
    }
    for (; c < C; ++c) y[c] = (x[c] - shift - m_shifted) * s * weight[c] + bias[c];
    const float m = shift + m_shifted;
    if (mean) mean[i] = m;
    if (rstd) rstd[i] = s;
  }
}

void gelu_forward(float* out, const float* inp, size_t n) {
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    gelu_batch(batch::load_unaligned(inp + i)).store_unaligned(out + i);
  if (i < n) {
    alignas(64) float lane[kLanes] = {};
    for (size_t j = i; j < n; ++j) lane[j - i] = inp[j];
    gelu_batch(batch::load_aligned(lane)).store_aligned(lane);
    for (size_t j = i; j < n; ++j) out[j] = lane[j - i];
  }
}

namespace {

template <bool kStore>
double exp_shift_sum_f64_impl(float* e, const float* x, int n, float shift) {
  // Blocks of kBlock batches are summed in float lanes (kBlock terms of at
  // most 1 each: a few ulp), then each lane in double; the lanes' doubles
  // and the tail's terms are added last, in a fixed order.
  constexpr int kBlock = 8;
  const batch vshift(shift);
  alignas(64) float lane[kLanes];
  double lane_sum[kLanes] = {};
  auto add_lanes = [&](batch s) {
    s.store_aligned(lane);
    for (int l = 0; l < kLanes; ++l) lane_sum[l] += lane[l];
  };
  int i = 0;
  for (; i + kBlock * kLanes <= n; i += kBlock * kLanes) {
    batch s(0.0f);
    for (int j = i; j < i + kBlock * kLanes; j += kLanes) {
      const batch ev = exp_nonpositive_batch(batch::load_unaligned(x + j) - vshift);
      if (kStore) ev.store_unaligned(e + j);
      s += ev;
    }
    add_lanes(s);
  }
  if (i + kLanes <= n) {
    batch s(0.0f);
    for (; i + kLanes <= n; i += kLanes) {
      const batch ev = exp_nonpositive_batch(batch::load_unaligned(x + i) - vshift);
      if (kStore) ev.store_unaligned(e + i);
      s += ev;
    }
    add_lanes(s);
  }
  double sum = 0.0;
  for (int l = 0; l < kLanes; ++l) sum += lane_sum[l];
  for (; i < n; ++i) {
    const float ei = exp_scalar(x[i] - shift);
    if (kStore) e[i] = ei;
    sum += ei;
  }
  return sum;
}

}  // namespace

double exp_shift_sum_f64(float* e, const float* x, int n, float shift) {
  return e ? exp_shift_sum_f64_impl<true>(e, x, n, shift)
           : exp_shift_sum_f64_impl<false>(nullptr, x, n, shift);
}

void exp_forward(float* out, const float* inp, size_t n) {
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    exp_batch(batch::load_unaligned(inp + i)).store_unaligned(out + i);
  for (; i < n; ++i) out[i] = exp_scalar(inp[i]);
}

void softmax_rows(float* x, int rows, int n) {
  for (int r = 0; r < rows; ++r) softmax_row(x + static_cast<size_t>(r) * n, n);
}

void attention_forward(float* z, float* probs, const float* qkv, int T, int C, int H) {
  attention_forward_rows(z, probs, qkv, T, C, H, 0, T);
}

void attention_forward_rows(float* z, float* probs, const float* qkv, int T, int C, int H, int t0,
                            int t1) {
  const int D = C / H;
  const int stride = 3 * C;
  for (int h = 0; h < H; ++h) {
    attention_head(z + h * D, C, probs + static_cast<size_t>(h) * T * T, qkv + h * D,
                   qkv + C + h * D, qkv + 2 * C + h * D, stride, T, D, t0, t1);
  }
}

}  // namespace hl
