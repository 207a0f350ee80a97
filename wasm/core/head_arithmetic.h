// One head's arithmetic at one query position, step by step, with the
// numbers of the real forward pass (the page's teaching panel, BertViz's
// neuron view): for head h of layer l and query position t of a trace,
//
//   q = ln_1(x_t) W_Q[:, h] + b,  k_s, v_s likewise for keys s = 0..t
//   score_s  = q . k_s                        raw dot products
//   scaled_s = score_s / sqrt(D)
//   masked:    keys s > t get -inf (causal: the query sees only the past)
//   probs    = softmax(scaled)                the Trace's attention row
//   z        = sum_s probs_s v_s              the Trace's head_z row
//   output   = (gain * (z or its replacement)) @ c_proj[h*D:(h+1)*D, :]
//              the head's term of the residual update (c_proj's bias is
//              shared by all heads and left out)
//
// q, k, v, probs and z are computed by the same block functions and kernel
// the Session runs (block_ln_1_forward, block_qkv_forward,
// attention_forward_rows), from the trace's residual input of layer l, so
// they equal the Trace bit for bit. score and scaled are float64 dot
// products of those f32 q and k, rounded to f32: the forward pass's SIMD
// sums them in another order, so they can differ from its unseen
// intermediate in the last bit (the tests print how much the softmax of
// `scaled` differs from `probs`).
//
// Shapes (config.h letters): C, H, D = C / H; n = t + 1 keys.
#pragma once
#include <vector>

#include "model.h"
#include "session.h"

namespace hl {

struct HeadArithmetic {
  int layer = 0, head = 0;
  int position = 0;              // t, the query
  int T = 0;                     // tokens of the trace: keys t+1..T-1 are masked
  int d_head = 0;                // D
  float scale = 0;               // 1 / sqrt(D)
  std::vector<float> q;          // (D) the query row of position t
  std::vector<float> k;          // (n, D) key rows of positions 0..t
  std::vector<float> v;          // (n, D) value rows of positions 0..t
  std::vector<float> scores;     // (n) q . k_s
  std::vector<float> scaled;     // (n) scores * scale
  std::vector<float> probs;      // (n) softmax of scaled: the forward pass's attention row
  std::vector<float> z;          // (D) sum_s probs[s] v_s: the forward pass's z
  float gain = 1;                // the head's gain (0 = muted)
  bool z_replaced = false;       // mean or resample ablation: c_proj gets the replacement
  std::vector<float> z_used;     // (D) (replacement or z) * gain: the head's part of c_proj's input
  std::vector<float> output;     // (C) z_used @ c_proj_w rows [h*D, (h+1)*D), float64 sums
  // A 2-D picture of the keys beside the query: x = k_s . q / |q| (so x * |q|
  // is the raw score: further right, more attention), y = the component of
  // k_s orthogonal to q along the keys' first principal direction in that
  // orthogonal space (their largest spread the score cannot see); 0 with a
  // single key. The query is at (|q|, 0).
  std::vector<float> key_xy;     // (n, 2)
  std::vector<float> query_xy;   // (2)
};

// The arithmetic of head (layer, head) at query `position` of `trace`, the
// pass of `model` with `edits` (the trace must be current with them: the
// Engine's trace() is). Out-of-range layer, head or position throw hl::Error
// naming the value and the range.
HeadArithmetic head_arithmetic(const Model& model, const Trace& trace, const HeadEdits& edits,
                               int layer, int head, int position);

}  // namespace hl
