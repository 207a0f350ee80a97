// One transformer block's forward pass, the one definition that both the
// inference Session (session.cpp: Trace, head gains, partial reruns) and the
// Trainer (train.cpp: batches, activations for backward, threads) run, as
// llm.c's gpt2_forward serves training and inference alike:
//
//   residual_2 = input + (head_gain * attention(ln_1(input))) @ c_proj + b
//   (a head's z may first be replaced: mean and resample ablation, ZReplacement)
//   output     = residual_2 + gelu(ln_2(residual_2) @ c_fc + b) @ mlp.c_proj + b
//
// (pre-LN GPT-2, causal attention scaled by 1/sqrt(D), tanh GELU; no MLP for
// attention-only models or while the trainer has MLPs switched off, when
// output = residual_2).
//
// Dimension letters (config.h): C, H, D = C / H; plus B = sequences,
// T = tokens per sequence, N = B * T rows, F = 4C (MLP width).
//
// Every kernel here works row by row (layer norm, GELU, a GEMM row is its own
// k loop) or query row by query row (attention), so a block gives the same
// bits whatever rows share a call and however a RowRunner splits them over
// threads: that is why the trainer's batched, threaded forward equals the
// Session's bit for bit, and why the Session may run the last block's query
// rows in two parts (update_at, finish_head) and still equal a full run.
#pragma once
#include <functional>
#include <vector>

#include "config.h"
#include "weights.h"

namespace hl {

// A block's GEMM operands, packed once for gemm_packed (kernels.h).
struct PackedLayer {
  std::vector<float> c_attn;      // packed (C, 3C)
  std::vector<float> c_proj;      // packed (C, C)
  std::vector<float> mlp_c_fc;    // packed (C, F), empty without MLP
  std::vector<float> mlp_c_proj;  // packed (F, C), empty without MLP
};

// Packs layer w's operands into packed (the MLP's only when mlp), resizing
// its vectors: a trainer repacking after every step reuses their memory.
void pack_layer(PackedLayer& packed, const LayerWeights& w, const ModelConfig& cfg, bool mlp);

// Where a block's row-parallel work runs: on the calling thread (SerialRows,
// the Session) or over a thread pool (the Trainer). Splitting never changes
// a bit of the result (see the top of this file).
class RowRunner {
 public:
  // Calls fn(begin, end) on parts of [0, n), part boundaries multiples of
  // grain; the parts may run at the same time.
  virtual void for_rows(int n, int grain, const std::function<void(int, int)>& fn) = 0;
  // C (M, N) = A (M, K) @ packed B (K, N) (+ bias) (+ C when accumulate),
  // every row exactly as one gemm_packed call gives it.
  virtual void matmul(float* C, const float* A, const float* packed_B, const float* bias, int M,
                      int K, int N, bool accumulate) = 0;

 protected:
  ~RowRunner() = default;
};

class SerialRows final : public RowRunner {
 public:
  void for_rows(int n, int grain, const std::function<void(int, int)>& fn) override;
  void matmul(float* C, const float* A, const float* packed_B, const float* bias, int M, int K,
              int N, bool accumulate) override;
};

// Where one block reads and writes, for N = B * T rows (row b * T + t is
// token t of sequence b). The caller owns the memory and decides what is
// kept: the Trainer gives every field its own buffer (backward needs them),
// the Session points attn_probs and z into its Trace, input and output into
// the Trace's residual stream, and lets the rest share scratch.
struct BlockActivations {
  const float* input = nullptr;  // (N, C) residual stream entering the block
  float* ln_1 = nullptr;         // (N, C) ln_1 output
  float* ln_1_mean = nullptr;    // (N) may be nullptr (only backward needs the statistics)
  float* ln_1_rstd = nullptr;    // (N) may be nullptr
  float* qkv = nullptr;          // (N, 3C) c_attn output: q | k | v, head h at [h*D, (h+1)*D)
  float* attn_probs = nullptr;   // (B, H, T, T) causal softmax, zero above the diagonal
  float* z = nullptr;            // (N, C) head outputs before gains, head h at [h*D, (h+1)*D)
  float* z_gained = nullptr;     // (N, C) z (or its replacement) times the head gains, c_proj's
                                 // input (with gains or replacements)
  float* residual_2 = nullptr;   // (N, C) after the attention block; may be output itself
  float* ln_2 = nullptr;         // (N, C) ln_2 output (may share ln_1's buffer); unused without MLP
  float* ln_2_mean = nullptr;    // (N) may be nullptr
  float* ln_2_rstd = nullptr;    // (N) may be nullptr
  float* fc = nullptr;           // (N, F) c_fc output, before GELU
  float* fc_gelu = nullptr;      // (N, F) GELU of fc; may be fc itself (GELU runs in place)
  float* output = nullptr;       // (N, C) the block's output: residual_2 plus the MLP's
};

// A head's z replaced before its gain and c_proj (mean and resample
// ablation): query row t of the head reads z + t * row_stride, D floats;
// row_stride 0 gives every row the same (D) vector (a mean), D reads a (T, D)
// block (another text's z at the same position). z nullptr: the head keeps
// its own z. With B sequences, row t of every sequence reads row t.
struct ZReplacement {
  const float* z = nullptr;
  int row_stride = 0;
};

// What a pass of one block runs with.
struct BlockPass {
  const ModelConfig& cfg;
  const LayerWeights& w;
  const PackedLayer& packed;  // packed from w (the MLP's operands when mlp)
  int B;                      // sequences
  int T;                      // tokens per sequence
  const float* head_gain;     // (H) multiplies each head's z before c_proj; nullptr: none
  bool mlp;                   // run the MLP (false: output = residual_2)
  RowRunner& rows;
  const ZReplacement* z_replace = nullptr;  // (H) replaced z, before the gains; nullptr: none
};

// The whole block over all N rows: ln_1, c_attn, attention, (gains), c_proj
// and residual, ln_2, MLP and residual.
void block_forward(const BlockPass& p, const BlockActivations& a);

// The same in parts, for a caller that runs rows or columns of a block
// separately (the Session's one-position update). block_forward is
// ln_1(0, N), qkv(0, N, 0, 3C), then after_qkv(0, T, attend = true).

// ln_1 of rows [r0, r1).
void block_ln_1_forward(const BlockPass& p, const BlockActivations& a, int r0, int r1);
// c_attn of rows [r0, r1), output columns [col0, col1) of qkv (q is [0, C),
// k [C, 2C), v [2C, 3C)); column bounds other than 0 and 3C must be
// multiples of gemm_panel_width(). A part of the columns runs on the calling
// thread.
void block_qkv_forward(const BlockPass& p, const BlockActivations& a, int r0, int r1, int col0,
                       int col1);
// Everything after c_attn for query rows [t0, t1) of every sequence (a part
// of the rows only when B is 1): attention (unless !attend: attn_probs and z
// are taken as they are, right when the block's input has not changed since
// they were computed, for the gains act after attention), gains, c_proj,
// residual, MLP. qkv must hold the keys and values of all T rows and the
// queries of rows [t0, t1).
void block_after_qkv_forward(const BlockPass& p, const BlockActivations& a, int t0, int t1,
                             bool attend);

}  // namespace hl
