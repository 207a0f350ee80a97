// Model hyper-parameters, read from a Hugging Face style GPT-2 config.json.
#pragma once
#include <string>

namespace hl {

// Dimension letters used in shape comments across the engine:
//   L = n_layer, H = n_head, C = n_embd, D = d_head = C / H,
//   P = n_positions, V = vocab_size, T = tokens in the sequence (T <= P).
struct ModelConfig {
  int n_layer = 0;
  int n_head = 0;
  int n_embd = 0;
  int n_positions = 0;
  int vocab_size = 0;
  float layer_norm_epsilon = 1e-5f;
  bool attn_only = false;  // no MLP blocks (and no ln_2)
  int d_head() const { return n_embd / n_head; }
  int d_mlp() const { return 4 * n_embd; }
};

// Parses and validates config.json text. Throws hl::Error naming the bad key
// (missing, wrong type, zero, absurd, n_embd not divisible by n_head, ...).
ModelConfig parse_config(const std::string& json_text);

// Serialises a config as GPT-2 style config.json text (used by the trainer).
std::string config_to_json(const ModelConfig& config);

}  // namespace hl
