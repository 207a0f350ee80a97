// Forward kernels in xsimd. One code path: native AVX2+FMA takes 8-lane
// batches, wasm takes xsimd's SSE4.1 path (4 lanes) which Emscripten lowers to
// 128-bit wasm SIMD. Everything is written against batch::size.
#include "kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>
#include <xsimd/xsimd.hpp>

#include "error.h"
#include "thread_pool.h"

namespace hl {
namespace {

using batch = xsimd::batch<float>;
using batch_i32 = xsimd::batch<int32_t>;
constexpr int kLanes = static_cast<int>(batch::size);

// ---- GEMM blocking --------------------------------------------------------
// The micro-kernel keeps a (kMR, kNR) tile of C in registers: kMR rows times
// kNB batches per row. x86 has 16 vector registers (V8 included), which must
// hold kMR * kNB accumulators + kNB B loads + one A broadcast (+ one product
// temporary without FMA): wasm takes 4 x 8 (8 accumulators), AVX2 6 x 16
// (12 accumulators). In V8, 5 x 8, 6 x 8, 4 x 12 and a k loop unrolled by the
// compiler all measured 25-35% slower than 4 x 8: the register allocator
// spills. The HL_GEMM_* macros exist to rerun such experiments.
#ifndef HL_GEMM_NB
#define HL_GEMM_NB 2
#endif
#ifndef HL_GEMM_MR
#define HL_GEMM_MR (kLanes == 4 ? 4 : 6)
#endif
constexpr int kNB = HL_GEMM_NB;
constexpr int kNR = kNB * kLanes;  // packed panel width (columns)
constexpr int kMR = HL_GEMM_MR;    // rows per micro-tile
// K block: one panel slice (kKC, kNR) stays in L1 (8 KiB wasm, 16 KiB AVX2)
// next to one packed A tile while every row tile of the M block streams past.
#ifndef HL_GEMM_KC
#define HL_GEMM_KC 256
#endif
constexpr int kKC = HL_GEMM_KC;
// M block: the packed A block (kMC, kKC) stays in L2 while the panels stream
// (128 rows in wasm, 132 on AVX2).
#ifndef HL_GEMM_MC
#define HL_GEMM_MC (kMR * (kLanes == 4 ? 32 : 22))
#endif
constexpr int kMC = HL_GEMM_MC;
static_assert(kMC % kMR == 0, "the M block holds whole row tiles");

int panel_count(int N) { return (N + kNR - 1) / kNR; }

// A rows [m0, m0 + mc) x columns [k0, k0 + kc) into row tiles of kMR rows,
// each stored k-major: tile[k * kMR + r] = A[m0 + r, k0 + k]. The micro-kernel
// then reads its A values at fixed offsets from one pointer, and the rows of
// the last partial tile are zero.
void pack_a_block(float* packed, const float* A, int lda, int m0, int mc, int k0, int kc) {
  for (int i = 0; i < mc; i += kMR) {
    float* tile = packed + static_cast<size_t>(i) * kc;
    const int rows = std::min(kMR, mc - i);
    for (int r = 0; r < kMR; ++r) {
      if (r < rows) {
        const float* src = A + static_cast<size_t>(m0 + i + r) * lda + k0;
        for (int k = 0; k < kc; ++k) tile[k * kMR + r] = src[k];
      } else {
        for (int k = 0; k < kc; ++k) tile[k * kMR + r] = 0.0f;
      }
    }
  }
}

// C tile (m_valid, n_valid) at C (leading dimension ldc) = a_tile @ b_slice + init
//   a_tile  (kc, kMR) packed, b_slice (kc, kNR) one panel's K block.
//   init: C itself when load_c (accumulate, or a later K block), else 0;
//   plus bias (this panel's columns) when non-null.
// The product is summed from zero and C is added at the end, so the C tile,
// prefetched at the start, arrives from L2/L3 while the k loop runs.
void micro_kernel(float* C, int ldc, const float* a_tile, const float* b_slice, int kc, int m_valid,
                  int n_valid, bool load_c, const float* bias) {
  if (load_c) {
    for (int r = 0; r < m_valid; ++r) {
      __builtin_prefetch(C + r * ldc, 1);
      __builtin_prefetch(C + r * ldc + n_valid - 1, 1);
    }
  }
  batch acc[kMR][kNB];
  for (int r = 0; r < kMR; ++r)
    for (int b = 0; b < kNB; ++b) acc[r][b] = batch(0.0f);
  const float* a = a_tile;
  const float* bp = b_slice;
  for (int k = 0; k < kc; ++k) {
    batch bk[kNB];
    for (int b = 0; b < kNB; ++b) bk[b] = batch::load_unaligned(bp + b * kLanes);
    for (int r = 0; r < kMR; ++r) {
      const batch ar(a[r]);
      for (int b = 0; b < kNB; ++b) acc[r][b] = xsimd::fma(ar, bk[b], acc[r][b]);
    }
    a += kMR;
    bp += kNR;
  }
  const bool full = m_valid == kMR && n_valid == kNR;
  if (bias) {
    alignas(64) float bias_edge[kNR] = {};
    const float* bias_src = bias;
    if (n_valid != kNR) {
      for (int j = 0; j < n_valid; ++j) bias_edge[j] = bias[j];
      bias_src = bias_edge;
    }
    for (int b = 0; b < kNB; ++b) {
      const batch bb = batch::load_unaligned(bias_src + b * kLanes);
      for (int r = 0; r < kMR; ++r) acc[r][b] += bb;
    }
  }
  if (full) {
    for (int r = 0; r < kMR; ++r)
      for (int b = 0; b < kNB; ++b) {
        float* c = C + r * ldc + b * kLanes;
        if (load_c) acc[r][b] += batch::load_unaligned(c);
        acc[r][b].store_unaligned(c);
      }
    return;
  }
  alignas(64) float edge[kMR][kNR];  // staging for a partial tile
  for (int r = 0; r < kMR; ++r)
    for (int b = 0; b < kNB; ++b) acc[r][b].store_aligned(&edge[r][b * kLanes]);
  for (int r = 0; r < m_valid; ++r)
    for (int j = 0; j < n_valid; ++j)
      C[r * ldc + j] = load_c ? C[r * ldc + j] + edge[r][j] : edge[r][j];
}

// Scratch for one packed A block, per thread (std::vector: no size limit on
// the stack, reused across calls).
float* a_block_scratch() {
  thread_local std::vector<float> scratch;
  const size_t need = static_cast<size_t>(kMC + kMR) * kKC + 16;
  if (scratch.size() < need) scratch.resize(need);
  // 64-byte alignment for the packed tiles
  const uintptr_t addr = reinterpret_cast<uintptr_t>(scratch.data());
  return scratch.data() + ((64 - addr % 64) % 64) / sizeof(float);
}

// C rows [m_begin, m_end) x panels [p_begin, p_end): the whole GEMM restricted
// to a rectangle, so threads can split it without sharing any C element.
// Loop order M block -> K block -> panel -> row tile: the C rows of one M block
// stay in L2 across its K blocks, the packed A block stays in L2 across the
// panels, and one panel slice stays in L1 across the row tiles.
void gemm_block(float* C, const float* A, const float* packed_B, const float* bias, int K, int N,
                bool accumulate, int m_begin, int m_end, int p_begin, int p_end) {
  float* a_block = a_block_scratch();
  for (int m0 = m_begin; m0 < m_end; m0 += kMC) {
    const int mc = std::min(m_end - m0, kMC);
    // K == 0 still initialises C (bias or zero), hence the do-while.
    int k0 = 0;
    do {
      const int kc = std::min(kKC, K - k0);
      const bool first = k0 == 0;
      const bool load_c = accumulate || !first;
      const float* block_bias = first ? bias : nullptr;
      pack_a_block(a_block, A, K, m0, mc, k0, kc);
      for (int p = p_begin; p < p_end; ++p) {
        const int n0 = p * kNR;
        const int n_valid = std::min(kNR, N - n0);
        const float* b_slice =
            packed_B + static_cast<size_t>(p) * K * kNR + static_cast<size_t>(k0) * kNR;
        const float* panel_bias = block_bias ? block_bias + n0 : nullptr;
        for (int i = 0; i < mc; i += kMR) {
          micro_kernel(C + static_cast<size_t>(m0 + i) * N + n0, N,
                       a_block + static_cast<size_t>(i) * kc, b_slice, kc, std::min(kMR, mc - i),
                       n_valid, load_c, panel_bias);
        }
      }
      k0 += kKC;
    } while (k0 < K);
  }
}

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

// ---- GEMM -----------------------------------------------------------------

size_t packed_b_size(int K, int N) {
  // At least one K row so that a K == 0 product still has a valid pointer.
  return static_cast<size_t>(panel_count(N)) * kNR * static_cast<size_t>(std::max(K, 1));
}

// Panel p holds columns [p*kNR, (p+1)*kNR) as K rows of kNR floats, zero padded.
void pack_b(float* packed, const float* B, int K, int N, int ldb) {
  for (int p = 0; p < panel_count(N); ++p) {
    const int n0 = p * kNR;
    const int n_valid = std::min(kNR, N - n0);
    float* panel = packed + static_cast<size_t>(p) * K * kNR;
    for (int k = 0; k < K; ++k) {
      const float* src = B + static_cast<size_t>(k) * ldb + n0;
      float* dst = panel + static_cast<size_t>(k) * kNR;
      int j = 0;
      for (; j < n_valid; ++j) dst[j] = src[j];
      for (; j < kNR; ++j) dst[j] = 0.0f;
    }
  }
}

void pack_b_transposed(float* packed, const float* Bt, int K, int N) {
  for (int p = 0; p < panel_count(N); ++p) {
    const int n0 = p * kNR;
    const int n_valid = std::min(kNR, N - n0);
    float* panel = packed + static_cast<size_t>(p) * K * kNR;
    for (int j = 0; j < kNR; ++j) {
      if (j < n_valid) {
        const float* src = Bt + static_cast<size_t>(n0 + j) * K;  // row n0 + j of (N, K)
        for (int k = 0; k < K; ++k) panel[static_cast<size_t>(k) * kNR + j] = src[k];
      } else {
        for (int k = 0; k < K; ++k) panel[static_cast<size_t>(k) * kNR + j] = 0.0f;
      }
    }
  }
}

void gemm_packed(float* C, const float* A, const float* packed_B, const float* bias, int M, int K,
                 int N, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  gemm_block(C, A, packed_B, bias, K, N, accumulate, 0, M, 0, panel_count(N));
}

void gemm_packed_cols(float* C, const float* A, const float* packed_B, const float* bias, int M,
                      int K, int N, int n_begin, int n_end, bool accumulate) {
  if (n_begin < 0 || n_end > N || n_begin > n_end || n_begin % kNR != 0 ||
      (n_end != N && n_end % kNR != 0)) {
    throw Error("gemm_packed_cols: columns [" + std::to_string(n_begin) + ", " +
                std::to_string(n_end) + ") of " + std::to_string(N) +
                " do not start and end on panels of " + std::to_string(kNR));
  }
  if (M <= 0 || n_begin == n_end) return;
  gemm_block(C, A, packed_B, bias, K, N, accumulate, 0, M, n_begin / kNR, panel_count(n_end));
}

int gemm_panel_width() { return kNR; }

void gemm_packed_mt(float* C, const float* A, const float* packed_B, const float* bias, int M,
                    int K, int N, bool accumulate, int n_threads) {
  if (M <= 0 || N <= 0) return;
  const int n_panels = panel_count(N);
#if defined(__wasm__)
  // The wasm module is built without pthreads: one thread, same result.
  n_threads = 1;
#endif
  // Below ~1 MFLOP per thread, waking workers costs more than it saves.
  const double flops = 2.0 * M * K * N;
  n_threads = std::max(1, std::min(n_threads, static_cast<int>(flops / 1e6)));
  if (n_threads == 1) {
    gemm_block(C, A, packed_B, bias, K, N, accumulate, 0, M, 0, n_panels);
    return;
  }
  // Split over rows when every thread gets at least a whole M block: each then
  // packs only its own rows of A and reads B, which is shared. Otherwise (the
  // short M of inference) over panels, each thread streaming its part of B;
  // with too few panels, over row tiles after all.
  const bool split_rows = M >= kMC * n_threads || n_panels < 2 * n_threads;
  auto part = [&](int i) {
    if (split_rows) {
      const int tiles = (M + kMR - 1) / kMR;
      const int m0 =
          std::min(M, static_cast<int>(static_cast<long long>(tiles) * i / n_threads) * kMR);
      const int m1 =
          std::min(M, static_cast<int>(static_cast<long long>(tiles) * (i + 1) / n_threads) * kMR);
      if (m0 < m1) gemm_block(C, A, packed_B, bias, K, N, accumulate, m0, m1, 0, n_panels);
    } else {
      const int p0 = static_cast<int>(static_cast<long long>(n_panels) * i / n_threads);
      const int p1 = static_cast<int>(static_cast<long long>(n_panels) * (i + 1) / n_threads);
      if (p0 < p1) gemm_block(C, A, packed_B, bias, K, N, accumulate, 0, M, p0, p1);
    }
  };
#if defined(__wasm__)
  part(0);  // unreachable: n_threads is 1 in wasm
#else
  ThreadPool::shared().run(n_threads, [&](int i, int) { part(i); });
#endif
}

void gemm(float* C, const float* A, const float* B, const float* bias, int M, int K, int N,
          bool accumulate) {
  std::vector<float> packed(packed_b_size(K, N));
  pack_b(packed.data(), B, K, N, N);
  gemm_packed(C, A, packed.data(), bias, M, K, N, accumulate);
}

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
