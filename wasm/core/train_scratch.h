// The trainer's scratch (private to train.cpp and train_step.cpp, the two
// halves of Trainer): the activation-gradient buffers of one batch and the
// row-parallel operations that run on them (GEMM split by rows, weight and
// bias gradients, layer norms), each giving the same bits for any thread
// count. See train.h for the layout and the conventions.
#pragma once

#include <algorithm>
#include <functional>
#include <vector>

#include "block.h"
#include "kernels.h"
#include "kernels_backward.h"
#include "thread_pool.h"
#include "train.h"

namespace hl {

// Also the RowRunner the trainer's blocks run on: their rows split over the pool.
struct Trainer::Scratch final : RowRunner {
  // Row blocks of the layernorm backward: each block sums its own partial
  // dweight/dbias, then the blocks are added in order, so the result is the same
  // for any thread count.
  static constexpr int kLnBlocks = 16;
  // GEMM row chunks are multiples of this (a multiple of every micro-tile height).
  static constexpr int kRowGrain = 24;
  static constexpr int kMaxRowChunk = 192;

  explicit Scratch(int n_threads) : pool(n_threads) {}
  ThreadPool pool;

  std::vector<PackedLayer> packed;    // (L) forward operands, repacked after each step
  std::vector<float> packed_lm_head;  // wte^T packed as (C, V)
  std::vector<float> packed_w;        // W^T packed for a dX product
  std::vector<float> packed_dy;       // dY packed for a dW product
  std::vector<float> x_t;             // X^T (K, N) for a dW product
  std::vector<float> dwte_t;          // (C, V) LM-head part of dwte, transposed
  std::vector<float> d_residual;      // (N, C) gradient flowing down the residual stream
  std::vector<float> d_ln;            // (N, C) gradient of a layernorm output
  std::vector<float> head_rows;       // (R, C) ln_f rows of the targets that count (head_rows_)
  std::vector<float> d_head_rows;     // (R, C) their gradient
  std::vector<float> d_z;             // (N, C)
  std::vector<float> d_qkv;           // (N, 3C)
  std::vector<float> d_fc_gelu;       // (N, F)
  std::vector<float> d_fc;            // (N, F)
  std::vector<float> d_scores;        // (threads, T) attention backward row scratch
  std::vector<float> ln_partials;     // (kLnBlocks, 2C) partial dweight | dbias
  std::vector<double> sumsq_partials;

  // Calls fn(begin, end) on about 4 chunks per thread of [0, n), chunk
  // boundaries multiples of grain.
  void parallel_for(int n, int grain, const std::function<void(int, int)>& fn) {
    if (n <= 0) return;
    const int n_grains = (n + grain - 1) / grain;
    const int n_chunks = std::max(1, std::min(n_grains, 4 * pool.size()));
    pool.run(n_chunks, [&](int task, int) {
      const int g0 = static_cast<int>(static_cast<long long>(n_grains) * task / n_chunks);
      const int g1 = static_cast<int>(static_cast<long long>(n_grains) * (task + 1) / n_chunks);
      const int begin = std::min(n, g0 * grain);
      const int end = std::min(n, g1 * grain);
      if (begin < end) fn(begin, end);
    });
  }

  // C (M, N) = A (M, K) @ packed B (K, N) (+ bias) (+ C when accumulate),
  // split by rows: every row is computed exactly as by one gemm_packed call.
  // Each row chunk streams all of packed B, so chunks are as tall as the
  // kernel's M block (kMaxRowChunk) when there are rows enough for every thread.
  void matmul(float* C, const float* A, const float* packed_B, const float* bias, int M, int K,
              int N, bool accumulate) override {
    const int rows_per_thread = (M + pool.size() - 1) / pool.size();
    const int grain = std::max(kRowGrain, std::min(kMaxRowChunk, (rows_per_thread + kRowGrain - 1) /
                                                                     kRowGrain * kRowGrain));
    parallel_for(M, grain, [&](int m0, int m1) {
      gemm_packed(C + static_cast<size_t>(m0) * N, A + static_cast<size_t>(m0) * K, packed_B, bias,
                  m1 - m0, K, N, accumulate);
    });
  }

  void for_rows(int n, int grain, const std::function<void(int, int)>& fn) override {
    parallel_for(n, grain, fn);
  }

  // Backward of Y (M, OC) = X (M, IC) @ W (IC, OC) + b:
  //   dX = dY @ W^T (overwritten), dW += X^T @ dY, db += column sums of dY.
  // Any of dX, dW, db may be nullptr (not wanted).
  void matmul_backward(float* dX, float* dW, float* db, const float* dY, const float* X,
                       const float* W, int M, int IC, int OC) {
    if (dX) {
      packed_w.resize(packed_b_size(OC, IC));
      pack_b_transposed(packed_w.data(), W, OC, IC);  // W^T (OC, IC) from W (IC, OC)
      matmul(dX, dY, packed_w.data(), nullptr, M, OC, IC, false);
    }
    if (dW) weight_gradient(dW, X, dY, M, IC, OC);
    if (db) {
      parallel_for(OC, 64, [&](int j0, int j1) { bias_backward(db, dY, M, OC, j0, j1); });
    }
  }

  // dW (IC, OC) += X (M, IC)^T @ dY (M, OC).
  void weight_gradient(float* dW, const float* X, const float* dY, int M, int IC, int OC) {
    x_t.resize(static_cast<size_t>(IC) * M);
    parallel_for(IC, 32, [&](int r0, int r1) { transpose(x_t.data(), X, M, IC, r0, r1); });
    packed_dy.resize(packed_b_size(M, OC));
    pack_b(packed_dy.data(), dY, M, OC, OC);
    matmul(dW, x_t.data(), packed_dy.data(), nullptr, IC, M, OC, true);
  }

  // dinp (N, C) += layernorm backward; dweight, dbias (C) += their gradients
  // (both nullptr: not wanted).
  void layernorm_backward_mt(float* dinp, float* dweight, float* dbias, const float* dout,
                             const float* inp, const float* weight, const float* mean,
                             const float* rstd, int N, int C) {
    ln_partials.assign(static_cast<size_t>(kLnBlocks) * 2 * C, 0.0f);
    pool.run(kLnBlocks, [&](int block, int) {
      const int i0 = static_cast<int>(static_cast<long long>(N) * block / kLnBlocks);
      const int i1 = static_cast<int>(static_cast<long long>(N) * (block + 1) / kLnBlocks);
      if (i0 >= i1) return;
      float* part = ln_partials.data() + static_cast<size_t>(block) * 2 * C;
      const size_t off = static_cast<size_t>(i0) * C;
      layernorm_backward(dinp + off, part, part + C, dout + off, inp + off, weight, mean + i0,
                         rstd + i0, i1 - i0, C);
    });
    for (int block = 0; block < kLnBlocks && dweight; ++block) {
      const float* part = ln_partials.data() + static_cast<size_t>(block) * 2 * C;
      for (int c = 0; c < C; ++c) {
        dweight[c] += part[c];
        dbias[c] += part[C + c];
      }
    }
  }

  void layernorm_forward_mt(float* out, float* mean, float* rstd, const float* inp,
                            const float* weight, const float* bias, int N, int C, float eps) {
    parallel_for(N, 16, [&](int i0, int i1) {
      const size_t off = static_cast<size_t>(i0) * C;
      layernorm_forward(out + off, mean + i0, rstd + i0, inp + off, weight, bias, i1 - i0, C, eps);
    });
  }
};

}  // namespace hl
