// Loading a model folder and packing its GEMM operands once, so every forward
// pass streams weights in the layout the micro-kernel wants.
#include "model.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "error.h"
#include "kernels.h"
#include "safetensors.h"

namespace hl {

namespace {

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
  // The LM head is tied to wte (V, C): logits = x @ wte^T, so pack wte^T (C, V).
  // It is the largest operand (154 MB for GPT-2 small), so it is packed first:
  // after a loader has freed the file bytes, it takes the front of that hole
  // and the per-layer copies fill the rest, rather than the other way round
  // leaving a gap too small for it and growing the heap.
  packed_lm_head.resize(packed_b_size(C, V));
  pack_b_transposed(packed_lm_head.data(), weights.wte, C, V);
  packed.resize(config.n_layer);
  for (int l = 0; l < config.n_layer; l++) {
    pack_layer(packed[l], weights.layers[l], config, !config.attn_only);
  }
}

UnpackedModel read_model(const std::string& config_json, const uint8_t* safetensors,
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
  return UnpackedModel{config, std::move(weights), std::move(tokenizer)};
}

std::shared_ptr<const Model> pack_model(UnpackedModel&& unpacked) {
  return std::make_shared<const Model>(unpacked.config, std::move(unpacked.weights),
                                       std::move(unpacked.tokenizer));
}

MemoryEstimate estimate_memory(const ModelConfig& config, double safetensors_bytes) {
  // Sizes in floats, in double: see MemoryEstimate.
  const double L = config.n_layer, H = config.n_head, C = config.n_embd;
  const double P = config.n_positions, V = config.vocab_size, F = config.d_mlp();
  const bool mlp = !config.attn_only;
  // packed_b_size(K, N) = K x N rounded up to whole panels; computed here in
  // double because a 32-bit size_t would overflow for absurd configs.
  const double panel = static_cast<double>(packed_b_size(1, 1));
  const auto packed = [panel](double K, double N) { return K * std::ceil(N / panel) * panel; };
  // The name table of weights.h: wte, wpe, per layer ln_1, c_attn, c_proj
  // (+ ln_2, c_fc, mlp c_proj), then ln_f.
  const double per_layer =
      2 * C + (C * 3 * C + 3 * C) + (C * C + C) + (mlp ? 2 * C + (C * F + F) + (F * C + C) : 0);
  const double n_params = V * C + P * C + L * per_layer + 2 * C;
  const double packed_floats = packed(C, V) + L * (packed(C, 3 * C) + packed(C, C) +
                                                   (mlp ? packed(C, F) + packed(F, C) : 0));
  // Session::Scratch: ln_out, qkv, z_edit, mlp_fc for P tokens, and one row of V.
  const double session_floats = P * (C + 3 * C + C + (mlp ? F : 0)) + V;
  // Trace at T = P: residual (L+1, T, C), attn_probs (L, H, T, T), head_z
  // (L, T, C), logits (T, V), top-k and losses (small).
  const double trace_floats = (L + 1) * P * C + L * H * P * P + L * P * C + P * V + 12 * P;

  const double f = sizeof(float);
  MemoryEstimate e;
  e.n_params = n_params;
  e.file_bytes = safetensors_bytes;
  e.weights_bytes = n_params * f;
  e.packed_bytes = packed_floats * f;
  e.session_bytes = session_floats * f;
  e.trace_bytes = trace_floats * f;
  e.peak_bytes =
      e.weights_bytes + std::max(e.file_bytes, e.packed_bytes) + e.session_bytes + e.trace_bytes;
  return e;
}

std::shared_ptr<const Model> load_model(const std::string& config_json, const uint8_t* safetensors,
                                        size_t safetensors_size, const std::string& vocab_json,
                                        const std::string& merges_txt) {
  return pack_model(read_model(config_json, safetensors, safetensors_size, vocab_json, merges_txt));
}

}  // namespace hl
