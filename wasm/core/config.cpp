// GPT-2 hyper-parameters from a Hugging Face config.json, checked before any
// allocation depends on them.
#include "config.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "error.h"
#include "json_limits.h"

namespace hl {
namespace {

using nlohmann::json;

// Limits far above any GPT-2-family model a browser can hold (GPT-2 XL is
// 48 layers, 1600 wide, 50257 tokens, 1024 positions); beyond them a value is
// a typo or a hostile file, and sizes computed from it could overflow.
constexpr int64_t kMaxLayers = 256;
constexpr int64_t kMaxEmbd = 16384;
constexpr int64_t kMaxVocab = 1000000;
constexpr int64_t kMaxPositions = 65536;

int read_size(const json& config, const std::string& key, int64_t max) {
  const json& v = config.at(key);
  if (!v.is_number_integer()) {
    throw Error("config.json: " + key + " must be an integer, found " + describe_json(v));
  }
  const int64_t n = v.is_number_unsigned()
                        ? int64_t(std::min<uint64_t>(v.get<uint64_t>(), INT64_MAX))
                        : v.get<int64_t>();
  if (n <= 0) throw Error("config.json: " + key + " must be positive, found " + std::to_string(n));
  if (n > max) {
    throw Error("config.json: " + key + " = " + std::to_string(n) + " is absurd (limit " +
                std::to_string(max) + ")");
  }
  return int(n);
}

int required_size(const json& config, const std::string& key, int64_t max) {
  if (!config.contains(key)) throw Error("config.json: missing " + key);
  return read_size(config, key, max);
}

// The GPT-2 options that would change the computation; the engine implements
// one variant, so a checkpoint asking for another is refused by name rather
// than run wrongly.
void check_variant(const json& config, const ModelConfig& c) {
  if (config.contains("activation_function")) {
    const json& act = config.at("activation_function");
    // gelu_new, gelu_pytorch_tanh and gelu_fast are the tanh GELU the engine
    // computes. Plain "gelu" is the exact erf form (nanoGPT-style exports use
    // it); the tanh form differs from it by at most 4.7e-4 per activation, so
    // such checkpoints are run rather than refused.
    const bool gelu = act.is_string() && (act == "gelu_new" || act == "gelu_pytorch_tanh" ||
                                          act == "gelu_fast" || act == "gelu");
    if (!gelu) {
      throw Error("config.json: activation_function " + describe_json(act) +
                  " is not supported (Headlight computes the tanh GELU, gelu_new)");
    }
  }
  if (config.contains("n_inner") && !config["n_inner"].is_null()) {
    const json& n_inner = config["n_inner"];
    if (!n_inner.is_number_integer() || n_inner.get<int64_t>() != int64_t(c.d_mlp())) {
      throw Error("config.json: n_inner " + describe_json(n_inner) + " is not supported (the MLP is 4 * " +
                  "n_embd = " + std::to_string(c.d_mlp()) + " wide)");
    }
  }
  if (config.contains("scale_attn_weights") && config["scale_attn_weights"] != true) {
    throw Error("config.json: scale_attn_weights " + describe_json(config["scale_attn_weights"]) +
                " is not supported (attention is scaled by 1/sqrt(d_head))");
  }
  if (config.contains("scale_attn_by_inverse_layer_idx") &&
      config["scale_attn_by_inverse_layer_idx"] != false) {
    throw Error("config.json: scale_attn_by_inverse_layer_idx " +
                describe_json(config["scale_attn_by_inverse_layer_idx"]) + " is not supported");
  }
  if (config.contains("add_cross_attention") && config["add_cross_attention"] != false) {
    throw Error("config.json: add_cross_attention " + describe_json(config["add_cross_attention"]) +
                " is not supported");
  }
}

// The shortest decimal that reads back as the same float, as a double, so
// that 1e-5f is written "1e-05" rather than "9.999999747378752e-06".
double shortest_float_decimal(float f) {
  char text[32];
  for (int precision = 6; precision <= 9; ++precision) {
    std::snprintf(text, sizeof text, "%.*g", precision, double(f));
    if (std::strtof(text, nullptr) == f) break;
  }
  return std::strtod(text, nullptr);
}

}  // namespace

ModelConfig parse_config(const std::string& json_text) {
  if (json_text.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw Error("config.json: file is empty");
  }
  const json config =
      parse_json_bounded(json_text.data(), json_text.data() + json_text.size(), JsonLimits{},
                         "config.json", "config.json: not valid JSON")
          .value;
  if (!config.is_object()) {
    throw Error("config.json: expected a JSON object, found " + std::string(config.type_name()));
  }

  ModelConfig c;
  c.n_layer = required_size(config, "n_layer", kMaxLayers);
  c.n_head = required_size(config, "n_head", kMaxEmbd);
  c.n_embd = required_size(config, "n_embd", kMaxEmbd);
  c.vocab_size = required_size(config, "vocab_size", kMaxVocab);
  // n_positions is the current name; older GPT-2 configs only carry n_ctx.
  if (config.contains("n_positions")) {
    c.n_positions = read_size(config, "n_positions", kMaxPositions);
  } else if (config.contains("n_ctx")) {
    c.n_positions = read_size(config, "n_ctx", kMaxPositions);
  } else {
    throw Error("config.json: missing n_positions (or n_ctx)");
  }
  if (c.n_embd % c.n_head != 0) {
    throw Error("config.json: n_embd " + std::to_string(c.n_embd) + " is not divisible by n_head " +
                std::to_string(c.n_head));
  }

  if (config.contains("layer_norm_epsilon")) {
    const json& eps = config["layer_norm_epsilon"];
    if (!eps.is_number()) {
      throw Error("config.json: layer_norm_epsilon must be a number, found " + describe_json(eps));
    }
    const double value = eps.get<double>();
    if (!(value > 0.0 && value < 1.0)) {
      throw Error("config.json: layer_norm_epsilon " + describe_json(eps) + " must be in (0, 1)");
    }
    c.layer_norm_epsilon = float(value);
  }
  if (config.contains("attn_only")) {
    const json& attn_only = config["attn_only"];
    if (!attn_only.is_boolean()) {
      throw Error("config.json: attn_only must be true or false, found " + describe_json(attn_only));
    }
    c.attn_only = attn_only.get<bool>();
  }
  check_variant(config, c);
  return c;
}

std::string config_to_json(const ModelConfig& c) {
  // Keys in the order Hugging Face writes them, so the folder loads as a
  // GPT2LMHeadModel; attn_only is our one extra key.
  nlohmann::ordered_json j;
  j["architectures"] = {"GPT2LMHeadModel"};
  j["model_type"] = "gpt2";
  j["activation_function"] = "gelu_new";
  j["n_layer"] = c.n_layer;
  j["n_head"] = c.n_head;
  j["n_embd"] = c.n_embd;
  j["n_positions"] = c.n_positions;
  j["n_ctx"] = c.n_positions;
  j["vocab_size"] = c.vocab_size;
  j["layer_norm_epsilon"] = shortest_float_decimal(c.layer_norm_epsilon);
  j["tie_word_embeddings"] = true;
  if (c.attn_only) j["attn_only"] = true;
  return j.dump(2) + "\n";
}

}  // namespace hl
