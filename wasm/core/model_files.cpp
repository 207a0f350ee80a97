#include "model_files.h"

#include "config.h"

namespace hl {

ModelFileBytes model_file_bytes(Weights& weights, DType dtype,
                                const std::map<std::string, std::string>& metadata) {
  ModelFileBytes files;
  files.config_json = config_to_json(weights.config);
  std::vector<TensorToWrite> tensors;
  for (const ParamEntry& p : param_table(weights)) tensors.push_back({p.name, p.shape, p.data});
  files.safetensors = write_safetensors(tensors, dtype, metadata);
  return files;
}

}  // namespace hl
