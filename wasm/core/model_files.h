// The bytes of a model folder's files (DESIGN.md: config.json,
// model.safetensors, vocab.json, merges.txt), made in memory: the one writer
// behind `headlight train`'s folders (tools/model_dir.cpp writes them to
// disk) and the page's trained-model download (bindings/train_embind.cpp).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "safetensors.h"
#include "weights.h"

namespace hl {

struct ModelFileBytes {
  std::string config_json;              // config_to_json(weights.config)
  std::vector<uint8_t> safetensors;     // every tensor of the name table, in dtype
};

// config.json and model.safetensors of weights (vocab.json and merges.txt are
// the tokenizer's files, written as they were read). metadata goes into the
// safetensors header's __metadata__.
ModelFileBytes model_file_bytes(Weights& weights, DType dtype,
                                const std::map<std::string, std::string>& metadata);

}  // namespace hl
