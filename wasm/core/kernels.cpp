// Forward GEMM kernels in xsimd (kernels.h): packing, the register-tiled
// micro-kernel and the threaded product. One code path: native AVX2+FMA
// takes 8-lane batches, wasm takes xsimd's SSE4.1 path (4 lanes) which
// Emscripten lowers to 128-bit wasm SIMD. Everything is written against
// batch::size. The element-wise and row kernels are kernels_rows.cpp.
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

}  // namespace hl
