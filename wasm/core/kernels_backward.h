// Backward kernels of the trainer, one per forward kernel of kernels.h, with
// llm.c's argument order: (gradients out..., gradient in, forward inputs and
// saved activations..., sizes...). Single-threaded and written so that the
// trainer can hand disjoint row or head ranges to threads. Gradients named
// "accumulate" are added to (+=); the others are overwritten.
// The matmul backward itself runs on the packed GEMM of kernels.h (see train.cpp).
#pragma once
#include <cstddef>

namespace hl {

// Layernorm rows [0, N) of (N, C), forward y = (x - mean) * rstd * weight + bias.
//   dinp (N, C) accumulate; dweight, dbias (C) accumulate;
//   dout (N, C); inp (N, C); mean, rstd (N) saved by layernorm_forward.
void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* weight, const float* mean, const float* rstd,
                        int N, int C);

// tanh GELU: dinp[i] = gelu'(inp[i]) * dout[i] (overwrites dinp).
void gelu_backward(float* dinp, const float* inp, const float* dout, size_t n);

// Causal attention of one sequence, heads [h_begin, h_end) (see attention_forward).
//   dqkv  (T, 3C) overwritten in the columns of those heads (q, k and v parts)
//   dz    (T, C)  gradient of the head outputs
//   qkv   (T, 3C) forward input; probs (H, T, T) saved forward probabilities
//   dscores_row (T) scratch
void attention_backward(float* dqkv, float* dscores_row, const float* dz, const float* qkv,
                        const float* probs, int T, int C, int H, int h_begin, int h_end);

// Fused softmax + cross-entropy: probs (N, V) holds softmax(logits) on entry
// and d(loss_scale * sum of -log p(target)) / d logits on exit:
// (probs - onehot(target)) * loss_scale.
void crossentropy_softmax_backward(float* probs, const int* targets, int N, int V,
                                   float loss_scale);

// dbias[j] += sum over rows of dout (N, OC), columns [j_begin, j_end).
void bias_backward(float* dbias, const float* dout, int N, int OC, int j_begin, int j_end);

// out (cols, rows) = in (rows, cols)^T, output rows [r_begin, r_end) (input
// columns), cache-blocked.
void transpose(float* out, const float* in, int rows, int cols, int r_begin, int r_end);

}  // namespace hl
