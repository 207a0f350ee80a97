// A loaded model: config, weights, tokenizer, and the GEMM operands packed
// once at load time. Immutable after loading; sessions share it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "tokenizer.h"
#include "weights.h"

namespace hl {

struct PackedLayer {
  std::vector<float> c_attn;        // packed (C, 3C)
  std::vector<float> c_proj;        // packed (C, C)
  std::vector<float> mlp_c_fc;      // packed (C, 4C), empty when attn_only
  std::vector<float> mlp_c_proj;    // packed (4C, C), empty when attn_only
};

struct Model {
  ModelConfig config;
  Weights weights;
  Tokenizer tokenizer;
  std::vector<PackedLayer> packed;  // (L)
  std::vector<float> packed_lm_head;  // wte^T packed as (C, V)

  Model(ModelConfig c, Weights w, Tokenizer t);  // packs the GEMM operands
};

// Loads from the four files of a model folder, given as bytes/text. Checks
// that the tokenizer's vocabulary fits vocab_size. Throws hl::Error naming
// the file and the problem.
std::shared_ptr<const Model> load_model(const std::string& config_json, const uint8_t* safetensors,
                                        size_t safetensors_size, const std::string& vocab_json,
                                        const std::string& merges_txt);

}  // namespace hl
