// config.json: parsed, its memory estimated, and written back: an accepted
// config must survive config_to_json -> parse_config unchanged.
#include <string>

#include "config.h"
#include "error.h"
#include "fuzz_common.h"
#include "model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const hl::ModelConfig c = hl::parse_config(text);
    const hl::MemoryEstimate e = hl::estimate_memory(c, double(size));
    FUZZ_CHECK(e.peak_bytes > 0);
    const hl::ModelConfig back = hl::parse_config(hl::config_to_json(c));
    FUZZ_CHECK(back.n_layer == c.n_layer && back.n_head == c.n_head && back.n_embd == c.n_embd &&
               back.n_positions == c.n_positions && back.vocab_size == c.vocab_size &&
               back.attn_only == c.attn_only &&
               back.layer_norm_epsilon == c.layer_norm_epsilon);
  } catch (const hl::Error&) {
  }
  return 0;
}
