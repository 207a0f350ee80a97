// The activations of G sequences of T tokens run through the layers above an
// edited one, shared by the passes that start from a cached trace instead of
// layer 0: activation patching (patching.cpp) and the exact ablation scan
// (ablation.cpp). Shapes use the letters of config.h and block.h (N = G * T
// rows, F = 4C).
#pragma once
#include <vector>

#include "block.h"
#include "model.h"

namespace hl {

struct BatchScratch {
  std::vector<float> x_in, x_out;  // (N, C) residual stream entering / leaving a block
  std::vector<float> ln;           // (N, C) ln_1 / ln_2 output
  std::vector<float> qkv;          // (N, 3C)
  std::vector<float> attn;         // (G, H, T, T)
  std::vector<float> z;            // (N, C) head outputs; (T, C) of the edited layer first
  std::vector<float> z_gained;     // (N, C) c_proj's input
  std::vector<float> fc;           // (N, F) c_fc, GELU in place; empty without MLP

  // attention: keep room for attn (a pass that only runs the row-wise parts
  // of a block, with attend = false, never touches it).
  BatchScratch(const ModelConfig& cfg, int G, int T, bool attention = true);

  // A block over the rows of x_in into x_out (residual_2 is the output, as
  // in the Session; ln_2 shares ln_1's buffer).
  BlockActivations block();
};

// Layers [from, to) of model over the B sequences of T tokens held in
// s.x_out, with gains (L, H) and replaced z (L, H) (nullptr: the unedited
// model); the residual streams leaving layer to - 1 end in s.x_out (B, T, C).
void run_layers_batched(const Model& model, int from, int to, int B, int T, BatchScratch& s,
                        const float* gains = nullptr, const ZReplacement* z_replace = nullptr);

}  // namespace hl
