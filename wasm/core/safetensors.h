// The safetensors container: an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets}}, then the data. Nothing in the
// file is trusted: every length, offset, shape and dtype is checked.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace hl {

enum class DType { F32, F16, BF16 };

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  size_t begin = 0;  // byte offsets into the data section (after the header)
  size_t end = 0;
  int64_t numel() const;  // hl::numel(shape)
};

// Elements of a tensor of this shape: the product of its dimensions (1 for a
// scalar). The one definition: weights, trainer and tests call it.
size_t numel(const std::vector<int64_t>& shape);

// A parsed view over bytes owned by the caller (the bytes must outlive it).
struct SafeTensors {
  const uint8_t* data = nullptr;  // start of the data section
  size_t data_size = 0;
  std::map<std::string, TensorInfo> tensors;  // __metadata__ excluded

  bool has(const std::string& name) const { return tensors.count(name) != 0; }
  const TensorInfo& at(const std::string& name) const;  // throws if missing
  // Converts one tensor (F32/F16/BF16) to f32 into out[0..numel).
  void read_f32(const TensorInfo& t, float* out) const;
};

// Throws hl::Error for: empty/truncated file, header length past end of file,
// header not JSON, unknown dtype, offsets outside the data, overlapping or
// misaligned tensors, size that disagrees with shape x dtype.
SafeTensors parse_safetensors(const uint8_t* bytes, size_t size);

// Writes tensors (given as f32) into a safetensors file image, stored as the
// requested dtype, in the order given. Used by the trainer and test fixtures.
struct TensorToWrite {
  std::string name;
  std::vector<int64_t> shape;
  const float* values;
};
std::vector<uint8_t> write_safetensors(const std::vector<TensorToWrite>& tensors, DType dtype,
                                       const std::map<std::string, std::string>& metadata = {});

}  // namespace hl
