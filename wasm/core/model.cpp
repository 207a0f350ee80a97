// Loading a model folder and packing its GEMM operands once, so every forward
// pass streams weights in the layout the micro-kernel wants.
#include "model.h"

#include <string>
#include <utility>

#include "error.h"
#include "kernels.h"
#include "safetensors.h"

namespace hl {

namespace {

// W (K, N) row-major, packed for gemm_packed.
std::vector<float> packed_copy(const float* W, int K, int N) {
  std::vector<float> packed(packed_b_size(K, N));
  pack_b(packed.data(), W, K, N, N);
  return packed;
}

// Errors from the parsers may or may not name the file; make sure they do,
// once ("safetensors: x" from the container parser becomes "model.safetensors: x").
[[noreturn]] void rethrow_naming(const std::string& file, const std::string& parser,
                                 const std::exception& e) {
  std::string what = e.what();
  if (what.find(file) != std::string::npos) throw Error(what);
  const std::string parser_prefix = parser + ": ";
  if (what.compare(0, parser_prefix.size(), parser_prefix) == 0) {
    what.erase(0, parser_prefix.size());
  }
  throw Error(file + ": " + what);
}

}  // namespace

Model::Model(ModelConfig c, Weights w, Tokenizer t)
    : config(c), weights(std::move(w)), tokenizer(std::move(t)) {
  const int C = config.n_embd;
  const int V = config.vocab_size;
  packed.resize(config.n_layer);
  for (int l = 0; l < config.n_layer; l++) {
    const LayerWeights& lw = weights.layers[l];
    PackedLayer& p = packed[l];
    p.c_attn = packed_copy(lw.c_attn_w, C, 3 * C);
    p.c_proj = packed_copy(lw.c_proj_w, C, C);
    if (!config.attn_only) {
      p.mlp_c_fc = packed_copy(lw.mlp_c_fc_w, C, config.d_mlp());
      p.mlp_c_proj = packed_copy(lw.mlp_c_proj_w, config.d_mlp(), C);
    }
  }
  // The LM head is tied to wte (V, C): logits = x @ wte^T, so pack wte^T (C, V).
  packed_lm_head.resize(packed_b_size(C, V));
  pack_b_transposed(packed_lm_head.data(), weights.wte, C, V);
}

std::shared_ptr<const Model> load_model(const std::string& config_json, const uint8_t* safetensors,
                                        size_t safetensors_size, const std::string& vocab_json,
                                        const std::string& merges_txt) {
  ModelConfig config;
  try {
    config = parse_config(config_json);
  } catch (const std::exception& e) {
    rethrow_naming("config.json", "config", e);
  }

  // The tokenizer names vocab.json / merges.txt itself. It is checked before
  // the weights so that a vocabulary mismatch is reported as such, not as a
  // wte shape error.
  Tokenizer tokenizer(vocab_json, merges_txt);
  if (tokenizer.vocab_size() > config.vocab_size) {
    throw Error("vocab.json: tokenizer has " + std::to_string(tokenizer.vocab_size()) +
                " tokens but config.json vocab_size is " + std::to_string(config.vocab_size));
  }

  Weights weights;
  SafeTensors st;
  try {
    st = parse_safetensors(safetensors, safetensors_size);
  } catch (const std::exception& e) {
    rethrow_naming("model.safetensors", "safetensors", e);
  }
  try {
    weights = load_weights(config, st);
  } catch (const std::exception& e) {
    rethrow_naming("model.safetensors", "weights", e);
  }
  return std::make_shared<const Model>(config, std::move(weights), std::move(tokenizer));
}

}  // namespace hl
