// A loaded model: config, weights, tokenizer, and the GEMM operands packed
// once at load time. Immutable after loading; sessions share it.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "block.h"
#include "config.h"
#include "tokenizer.h"
#include "weights.h"

namespace hl {

struct Model {
  ModelConfig config;
  Weights weights;
  Tokenizer tokenizer;
  std::vector<PackedLayer> packed;    // (L) block.h; MLP operands unless attn_only
  std::vector<float> packed_lm_head;  // wte^T packed as (C, V)

  Model(ModelConfig c, Weights w, Tokenizer t);  // packs the GEMM operands
};

// The four files of a model folder, parsed and checked, weights converted to
// f32 but not yet packed. Loading stops here so that a caller holding the
// file bytes (as large as the f32 weights: 475 MB for GPT-2 small) can free
// them before packing allocates about as much again; the packed copies then
// reuse the freed memory instead of growing the wasm heap.
struct UnpackedModel {
  ModelConfig config;
  Weights weights;
  Tokenizer tokenizer;
};

// Parses config.json, vocab.json + merges.txt and model.safetensors, and
// checks that the tokenizer's vocabulary fits vocab_size. The safetensors
// bytes are not referenced after it returns. Throws hl::Error naming the file
// and the problem.
UnpackedModel read_model(const std::string& config_json, const uint8_t* safetensors,
                         size_t safetensors_size, const std::string& vocab_json,
                         const std::string& merges_txt);

// Packs the GEMM operands (Model's constructor) and shares the result.
std::shared_ptr<const Model> pack_model(UnpackedModel&& unpacked);

// read_model then pack_model, for callers whose file bytes outlive the model
// anyway (the command line, tests).
std::shared_ptr<const Model> load_model(const std::string& config_json, const uint8_t* safetensors,
                                        size_t safetensors_size, const std::string& vocab_json,
                                        const std::string& merges_txt);

// What loading and running a model costs in (wasm) memory, from config.json
// and the size of model.safetensors alone, so that a page can refuse a model
// too big for the browser before allocating anything. Mirrors the
// allocations of load path above (file copy, f32 block, packed operands) and
// of a Session whose Trace holds n_positions tokens (session.h shapes).
// Bytes are doubles: a 32-bit size_t (wasm) cannot hold what a hostile or
// simply huge config asks for, and the answer must still say how much.
struct MemoryEstimate {
  double n_params = 0;
  double file_bytes = 0;     // the safetensors bytes copied into the engine
  double weights_bytes = 0;  // the f32 block, 4 * n_params
  double packed_bytes = 0;   // packed GEMM operands, wte^T included
  double session_bytes = 0;  // per-layer scratch for n_positions tokens
  double trace_bytes = 0;    // Trace at T = n_positions (attention (L, H, P, P) dominates)
  // The peak: file bytes are freed before packing and the packed copies
  // reuse that space, so loading needs weights + max(file, packed), then the
  // session and its trace come on top.
  double peak_bytes = 0;
};
MemoryEstimate estimate_memory(const ModelConfig& config, double safetensors_bytes);

}  // namespace hl
