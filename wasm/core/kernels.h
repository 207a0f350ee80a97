// Forward kernels shared by the session (inference) and the trainer, written
// with xsimd. One code path for native and wasm: in wasm, xsimd takes its
// SSE4.1 path and Emscripten maps it onto 128-bit wasm SIMD.
// Argument order follows llm.c: (out, inputs..., weights..., sizes...).
#pragma once
#include <cstddef>

namespace hl {

// ---- GEMM ---------------------------------------------------------------
// B (K, N) is packed once into column panels so the micro-kernel streams it.
// packed_b_size returns the number of floats the packed copy needs.
size_t packed_b_size(int K, int N);
// B row-major (K, N) with leading dimension ldb (>= N).
void pack_b(float* packed, const float* B, int K, int N, int ldb);
// Same, from B transposed: Bt row-major (N, K), e.g. wte (V, C) for the LM head.
void pack_b_transposed(float* packed, const float* Bt, int K, int N);

// C(M, N) = A(M, K) @ B(K, N) + bias(N) (bias may be nullptr).
// With accumulate, C += A @ B (+ bias). A has leading dimension K, C has N.
void gemm_packed(float* C, const float* A, const float* packed_B, const float* bias, int M, int K,
                 int N, bool accumulate = false);

// gemm_packed for output columns [n_begin, n_end) only (C keeps its N
// columns, the others are left as they are), the same bits as gemm_packed
// gives them. n_begin and n_end (unless it is N) must be multiples of
// gemm_panel_width(); hl::Error otherwise.
void gemm_packed_cols(float* C, const float* A, const float* packed_B, const float* bias, int M,
                      int K, int N, int n_begin, int n_end, bool accumulate = false);
int gemm_panel_width();

// Same product split over n_threads native threads (by column panels, or by
// rows when N is narrow); each thread writes its own part of C, so the result
// equals gemm_packed's bit for bit. Small products and wasm run on one thread.
void gemm_packed_mt(float* C, const float* A, const float* packed_B, const float* bias, int M,
                    int K, int N, bool accumulate, int n_threads);

// Convenience for callers without a packed copy (packs into scratch).
void gemm(float* C, const float* A, const float* B, const float* bias, int M, int K, int N,
          bool accumulate = false);

// ---- element-wise and row kernels ---------------------------------------
// out, inp (N, C); mean, rstd (N) may be nullptr (the trainer keeps them).
void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                       const float* bias, int N, int C, float eps);

// GPT-2's tanh GELU: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
void gelu_forward(float* out, const float* inp, size_t n);

// exp with the 2^k bit trick (no float->int convert), rel. error ~1e-7.
void exp_forward(float* out, const float* inp, size_t n);

// e[i] = exp(x[i] - shift) for i < n (e may be x, or nullptr: the sum
// alone, the same bits) and their sum, in double lanes: a softmax over a vocabulary row, shift its max (so every
// x - shift <= 0). The one kernel of every path whose figures must agree bit
// for bit (the session's log-softmax and the scans over it, the logit lens,
// the engine's baseline).
double exp_shift_sum_f64(float* e, const float* x, int n, float shift);

// The largest of x (n), lanes side by side: the value a scan in order with
// std::max gives whenever x holds no NaN (a tie of +0 and -0 may come out as
// the other zero; x - max then differs only in the sign of a zero, which exp
// maps to the same 1).
float row_max(const float* x, int n);

// Numerically stable softmax over each row of x (rows, n), in place.
void softmax_rows(float* x, int rows, int n);

// Causal multi-head attention for one layer.
//   qkv   (T, 3C)   output of c_attn: q | k | v, head h at columns [h*D, (h+1)*D)
//   probs (H, T, T) attention probabilities, row t zero past column t
//   z     (T, C)    per-head outputs z[t, h*D:(h+1)*D] = sum_s probs[h,t,s] v[s,h]
void attention_forward(float* z, float* probs, const float* qkv, int T, int C, int H);
// The same for query rows [t0, t1) only: those rows of probs and z, the
// same bits as attention_forward gives them (each query row is its own
// scores, softmax and sum over v). qkv holds all T rows (keys, values).
void attention_forward_rows(float* z, float* probs, const float* qkv, int T, int C, int H, int t0,
                            int t1);

}  // namespace hl
