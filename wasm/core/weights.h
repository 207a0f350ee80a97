// GPT-2 parameters: one flat f32 block and a struct of named views into it.
// Linear weights keep the Hugging Face Conv1D layout (in, out), row-major, so
// y = x @ W + b and checkpoints load with no converter.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "config.h"
#include "safetensors.h"

namespace hl {

struct LayerWeights {
  float* ln_1_w;       // (C)
  float* ln_1_b;       // (C)
  float* c_attn_w;     // (C, 3C)  columns: q | k | v, head h at [h*D, (h+1)*D)
  float* c_attn_b;     // (3C)
  float* c_proj_w;     // (C, C)   attention output projection
  float* c_proj_b;     // (C)
  float* ln_2_w;       // (C)      nullptr when attn_only
  float* ln_2_b;       // (C)      nullptr when attn_only
  float* mlp_c_fc_w;   // (C, 4C)  nullptr when attn_only
  float* mlp_c_fc_b;   // (4C)     nullptr when attn_only
  float* mlp_c_proj_w; // (4C, C)  nullptr when attn_only
  float* mlp_c_proj_b; // (C)      nullptr when attn_only
};

struct Weights {
  ModelConfig config;
  std::vector<float> block;          // every parameter, contiguous
  float* wte = nullptr;              // (V, C) token embedding, tied LM head
  float* wpe = nullptr;              // (P, C) position embedding
  std::vector<LayerWeights> layers;  // (L)
  float* ln_f_w = nullptr;           // (C)
  float* ln_f_b = nullptr;           // (C)

  Weights() = default;
  Weights(const Weights&) = delete;  // views point into block
  Weights& operator=(const Weights&) = delete;
  Weights(Weights&&) = default;
  Weights& operator=(Weights&&) = default;

  size_t num_parameters() const { return block.size(); }
};

// Allocates a zeroed block laid out for config and sets every view.
Weights allocate_weights(const ModelConfig& config);

// One entry per parameter tensor, in block order, with its HF GPT-2 name
// (no "transformer." prefix) and shape. Used by the loader, the trainer and
// the exporter so that the name table lives in one place.
struct ParamEntry {
  std::string name;             // e.g. "h.3.attn.c_attn.weight"
  std::vector<int64_t> shape;   // e.g. {C, 3C}
  float* data;                  // view into Weights::block
};
std::vector<ParamEntry> param_table(Weights& w);

// Loads weights from a parsed safetensors file. Accepts names with or without
// the "transformer." prefix, an optional separate "lm_head.weight" equal in
// shape to wte (ignored: the head is tied), and ignores the causal-mask
// buffers "h.{i}.attn.bias" / "h.{i}.attn.masked_bias". Throws hl::Error that
// names the tensor for a missing tensor or a shape that disagrees with config.
Weights load_weights(const ModelConfig& config, const SafeTensors& st);

}  // namespace hl
