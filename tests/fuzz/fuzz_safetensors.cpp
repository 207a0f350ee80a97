// model.safetensors as a stranger's folder would hand it over: the container
// is parsed, every tensor read, and the weights loaded for the small config
// of the seed files (tests/fuzz/corpus/fuzz_safetensors, make-seeds.mjs).
#include <cstdio>
#include <vector>

#include "config.h"
#include "error.h"
#include "fuzz_common.h"
#include "safetensors.h"
#include "weights.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const hl::ModelConfig config =
      hl::parse_config(fuzz::read_file("tests/fuzz/corpus/fuzz_safetensors.config.json"));
  try {
    const hl::SafeTensors st = hl::parse_safetensors(data, size);
    for (const auto& item : st.tensors) {
      const hl::TensorInfo& t = item.second;
      // parse_safetensors checked that the bytes are in the file.
      FUZZ_CHECK(t.end <= st.data_size);
      std::vector<float> values(size_t(t.numel()));
      st.read_f32(t, values.data());
    }
    hl::load_weights(config, st);
  } catch (const hl::Error&) {
  }
  return 0;
}
