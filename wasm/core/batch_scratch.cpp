// Scratch for batched passes above an edited layer: see batch_scratch.h.
#include "batch_scratch.h"

#include <utility>

namespace hl {

BatchScratch::BatchScratch(const ModelConfig& cfg, int G, int T, bool attention) {
  const size_t N = static_cast<size_t>(G) * T, C = cfg.n_embd;
  x_in.resize(N * C);
  x_out.resize(N * C);
  ln.resize(N * C);
  qkv.resize(N * 3 * C);
  if (attention) attn.resize(static_cast<size_t>(G) * cfg.n_head * T * T);
  z.resize(N * C);
  z_gained.resize(N * C);
  if (!cfg.attn_only) fc.resize(N * cfg.d_mlp());
}

BlockActivations BatchScratch::block() {
  BlockActivations a;
  a.input = x_in.data();
  a.ln_1 = a.ln_2 = ln.data();
  a.qkv = qkv.data();
  a.attn_probs = attn.data();
  a.z = z.data();
  a.z_gained = z_gained.data();
  a.residual_2 = a.output = x_out.data();
  a.fc = a.fc_gelu = fc.data();
  return a;
}

void run_layers_batched(const Model& model, int from, int to, int B, int T, BatchScratch& s,
                        const float* gains, const ZReplacement* z_replace) {
  const ModelConfig& cfg = model.config;
  const size_t H = cfg.n_head;
  SerialRows rows;
  for (int l = from; l < to; l++) {
    std::swap(s.x_in, s.x_out);
    const BlockPass pass{cfg,
                         model.weights.layers[l],
                         model.packed[l],
                         B,
                         T,
                         gains ? gains + l * H : nullptr,
                         !cfg.attn_only,
                         rows,
                         z_replace ? z_replace + l * H : nullptr};
    block_forward(pass, s.block());
  }
}

}  // namespace hl
