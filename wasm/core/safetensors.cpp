// The safetensors container, read without trusting a single byte of it.
//
// Layout: u64 little-endian header length N, N bytes of JSON
//   {"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [..],
//    "data_offsets": [begin, end]}, ...}
// then the data section; offsets are relative to its start.
#include "safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>

#include "error.h"
#include "json_limits.h"

namespace hl {
namespace {

using nlohmann::json;

constexpr size_t kLengthPrefixBytes = 8;
// The reference implementation refuses headers above 100 MB; a header that
// large is an attack or a corrupt file, never a model.
constexpr uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;
// No real tensor dimension comes near 2^40: such a value is a corrupt file.
constexpr int64_t kMaxDim = int64_t{1} << 40;
// GPT-2 XL's header has under 600 entries; far more is a hostile file.
constexpr size_t kMaxHeaderEntries = 65536;

size_t dtype_size(DType dtype) { return dtype == DType::F32 ? 4 : 2; }

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32:
      return "F32";
    case DType::F16:
      return "F16";
    case DType::BF16:
      return "BF16";
  }
  return "?";
}

std::string in_quotes(const std::string& name) { return "'" + name + "'"; }

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Little-endian 16-bit load from any alignment (x86 and wasm are
// little-endian, as is the file).
inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

// IEEE half -> single, exact for every half value (normals, subnormals,
// signed zeros, inf, NaN with payload). Branch-free so the conversion loop
// vectorises: a 500 MB model is 250M of these.
inline float f16_to_f32(uint16_t h) {
  const uint32_t magnitude = uint32_t(h & 0x7fff) << 13;  // exponent and mantissa, f32 position
  const uint32_t exponent = magnitude & 0x0f800000u;
  // Selects are written as masks: GCC does not vectorise ?: here.
  const uint32_t is_inf_nan = 0u - uint32_t(exponent == 0x0f800000u);
  const uint32_t is_subnormal = 0u - uint32_t(exponent == 0);
  // Rebias 15 -> 127 (+112 << 23); inf/NaN rebias twice, to the all-ones exponent.
  uint32_t bits = magnitude + 0x38000000u + (is_inf_nan & 0x38000000u);
  // Subnormal (and zero): m * 2^-24 = (2^-14 (1 + m/1024)) - 2^-14, exact.
  const float subnormal = bits_float(magnitude + 0x38800000u) - bits_float(0x38800000u);
  bits = (bits & ~is_subnormal) | (float_bits(subnormal) & is_subnormal);
  return bits_float(bits | (uint32_t(h & 0x8000) << 16));
}

inline float bf16_to_f32(uint16_t b) { return bits_float(uint32_t(b) << 16); }

// Single -> half with round-to-nearest-even; overflow goes to inf, NaN stays
// NaN (quiet), tiny values become subnormals or signed zero.
uint16_t f32_to_f16(float f) {
  const uint32_t u = float_bits(f);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000);
  const uint32_t abs = u & 0x7fffffffu;
  if (abs >= 0x7f800000u) {  // inf or NaN
    const uint32_t mantissa = abs & 0x007fffffu;
    return uint16_t(sign | 0x7c00 | (mantissa ? (0x200 | (mantissa >> 13)) : 0));
  }
  if (abs >= 0x477ff000u) return uint16_t(sign | 0x7c00);  // rounds to >= 65536 -> inf
  if (abs < 0x38800000u) {  // below the smallest normal half (2^-14): subnormal or zero
    if (abs < 0x33000000u) return sign;  // < 2^-25 rounds to zero (2^-25 itself ties to 0)
    const uint32_t exponent = abs >> 23;
    const uint32_t mantissa = (abs & 0x007fffffu) | 0x00800000u;
    const uint32_t shift = 126 - exponent;  // 14..24: value = mantissa * 2^(exponent-150)
    uint32_t half = mantissa >> shift;
    const uint32_t remainder = mantissa & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (remainder > halfway || (remainder == halfway && (half & 1))) ++half;
    return uint16_t(sign | half);
  }
  // Normal: rebias the exponent, round the 13 dropped mantissa bits to even.
  uint32_t half = ((abs >> 13) - (112u << 10));
  const uint32_t remainder = abs & 0x1fffu;
  if (remainder > 0x1000u || (remainder == 0x1000u && (half & 1))) ++half;  // may carry into exp
  return uint16_t(sign | half);
}

uint16_t f32_to_bf16(float f) {
  const uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x0040);  // quiet NaN
  const uint32_t rounding = 0x7fffu + ((u >> 16) & 1);  // round to nearest even
  return uint16_t((u + rounding) >> 16);
}

// Every dtype of the safetensors format, with its element size. Only F32,
// F16 and BF16 can be read; the others are still laid out and checked.
struct DTypeSpec {
  const char* name;
  size_t size;
  bool readable;
  DType dtype;
};
constexpr DTypeSpec kDTypes[] = {
    {"F32", 4, true, DType::F32},      {"F16", 2, true, DType::F16},
    {"BF16", 2, true, DType::BF16},    {"F64", 8, false, DType::F32},
    {"I64", 8, false, DType::F32},     {"U64", 8, false, DType::F32},
    {"I32", 4, false, DType::F32},     {"U32", 4, false, DType::F32},
    {"I16", 2, false, DType::F32},     {"U16", 2, false, DType::F32},
    {"I8", 1, false, DType::F32},      {"U8", 1, false, DType::F32},
    {"BOOL", 1, false, DType::F32},    {"F8_E4M3", 1, false, DType::F32},
    {"F8_E5M2", 1, false, DType::F32},
};

const DTypeSpec* find_dtype(const std::string& name) {
  for (const DTypeSpec& spec : kDTypes) {
    if (name == spec.name) return &spec;
  }
  return nullptr;
}

// "[transformer.]h.{i}.attn.bias" / ".attn.masked_bias": the causal-mask
// buffers GPT-2 checkpoints carry. Some are saved as BOOL or U8; they are
// constants the engine never reads, so a file is not refused for their dtype.
bool is_mask_buffer(const std::string& file_name) {
  const std::string prefix = "transformer.";
  size_t i = file_name.compare(0, prefix.size(), prefix) == 0 ? prefix.size() : 0;
  if (file_name.compare(i, 2, "h.") != 0) return false;
  const size_t digits = i + 2;
  i = digits;
  while (i < file_name.size() && file_name[i] >= '0' && file_name[i] <= '9') ++i;
  if (i == digits) return false;
  const std::string rest = file_name.substr(i);
  return rest == ".attn.bias" || rest == ".attn.masked_bias";
}

// One header entry: the tensor as the file describes it, readable or not.
struct Entry {
  TensorInfo info;  // info.dtype is meaningful only when spec->readable
  const DTypeSpec* spec;
};

// Non-negative JSON integer, or throws naming the tensor and the field.
uint64_t json_unsigned(const json& v, const std::string& tensor, const char* field) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) {
    throw Error("safetensors: tensor " + in_quotes(tensor) + ": " + field + " has negative value " +
                std::to_string(v.get<int64_t>()));
  }
  throw Error("safetensors: tensor " + in_quotes(tensor) + ": " + field +
              " must hold non-negative integers, found " + describe_json(v));
}

Entry parse_entry(const std::string& name, const json& entry) {
  if (name.empty()) throw Error("safetensors: a tensor has an empty name");
  if (!entry.is_object()) {
    throw Error("safetensors: tensor " + in_quotes(name) + ": entry must be an object, found " +
                std::string(entry.type_name()));
  }
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (!entry.contains(key)) throw Error("safetensors: tensor " + in_quotes(name) + ": no " + key);
  }
  TensorInfo t;
  t.name = name;

  const json& dtype = entry["dtype"];
  if (!dtype.is_string()) {
    throw Error("safetensors: tensor " + in_quotes(name) + ": dtype must be a string, found " +
                describe_json(dtype));
  }
  const DTypeSpec* spec = find_dtype(dtype.get<std::string>());
  if (spec == nullptr || (!spec->readable && !is_mask_buffer(name))) {
    throw Error("safetensors: tensor " + in_quotes(name) + ": unsupported dtype '" +
                dtype.get<std::string>() + "' (Headlight reads F32, F16 and BF16)");
  }
  t.dtype = spec->dtype;

  const json& shape = entry["shape"];
  if (!shape.is_array()) {
    throw Error("safetensors: tensor " + in_quotes(name) + ": shape must be an array, found " +
                describe_json(shape));
  }
  for (const json& dim : shape) {
    const uint64_t d = json_unsigned(dim, name, "shape");
    if (d > uint64_t(kMaxDim)) {
      throw Error("safetensors: tensor " + in_quotes(name) + ": absurd shape dimension " +
                  std::to_string(d));
    }
    t.shape.push_back(int64_t(d));
  }

  const json& offsets = entry["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2) {
    throw Error("safetensors: tensor " + in_quotes(name) +
                ": data_offsets must be [begin, end], found " + describe_json(offsets));
  }
  const uint64_t begin = json_unsigned(offsets[0], name, "data_offsets");
  const uint64_t end = json_unsigned(offsets[1], name, "data_offsets");
  if (begin > end) {
    throw Error("safetensors: tensor " + in_quotes(name) + ": data_offsets begin " +
                std::to_string(begin) + " > end " + std::to_string(end));
  }
  if (begin > std::numeric_limits<size_t>::max() || end > std::numeric_limits<size_t>::max()) {
    throw Error("safetensors: tensor " + in_quotes(name) + ": data_offsets too large");
  }
  t.begin = size_t(begin);
  t.end = size_t(end);
  return Entry{std::move(t), spec};
}

// numel * element size without overflow; the caller compares it to end - begin.
uint64_t tensor_bytes(const TensorInfo& t, size_t element_size) {
  uint64_t bytes = element_size;
  for (int64_t d : t.shape) {
    if (d == 0) return 0;
    if (bytes > std::numeric_limits<uint64_t>::max() / uint64_t(d)) {
      throw Error("safetensors: tensor " + in_quotes(t.name) + ": shape " + shape_string(t.shape) +
                  " overflows");
    }
    bytes *= uint64_t(d);
  }
  return bytes;
}

void check_placement(const Entry& e, size_t data_size) {
  const TensorInfo& t = e.info;
  if (t.end > data_size) {
    throw Error("safetensors: tensor " + in_quotes(t.name) + ": data_offsets [" +
                std::to_string(t.begin) + ", " + std::to_string(t.end) +
                "] outside the data section of " + std::to_string(data_size) + " bytes");
  }
  const uint64_t expected = tensor_bytes(t, e.spec->size);
  if (t.end - t.begin != expected) {
    throw Error("safetensors: tensor " + in_quotes(t.name) + ": " + e.spec->name + " shape " +
                shape_string(t.shape) + " needs " + std::to_string(expected) +
                " bytes but data_offsets span " + std::to_string(t.end - t.begin));
  }
  if (t.begin % e.spec->size != 0) {
    throw Error("safetensors: tensor " + in_quotes(t.name) + ": misaligned: offset " +
                std::to_string(t.begin) + " is not a multiple of the " + e.spec->name + " size " +
                std::to_string(e.spec->size));
  }
}

void check_metadata(const json& metadata) {
  if (!metadata.is_object()) {
    throw Error("safetensors: __metadata__ must be an object of strings, found " +
                std::string(metadata.type_name()));
  }
  for (const auto& item : metadata.items()) {
    if (!item.value().is_string()) {
      throw Error("safetensors: __metadata__ value of '" + item.key() + "' must be a string");
    }
  }
}

}  // namespace

size_t numel(const std::vector<int64_t>& shape) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  return n;
}

int64_t TensorInfo::numel() const { return static_cast<int64_t>(hl::numel(shape)); }

const TensorInfo& SafeTensors::at(const std::string& name) const {
  auto it = tensors.find(name);
  if (it == tensors.end()) throw Error("safetensors: no tensor " + in_quotes(name));
  return it->second;
}

void SafeTensors::read_f32(const TensorInfo& t, float* out) const {
  // The TensorInfo may not come from this file: check it still fits.
  if (t.begin > t.end || t.end > data_size ||
      t.end - t.begin != tensor_bytes(t, dtype_size(t.dtype))) {
    throw Error("safetensors: tensor " + in_quotes(t.name) + " does not fit this file's data");
  }
  const uint8_t* src = data + t.begin;
  const size_t n = size_t(t.numel());
  switch (t.dtype) {
    case DType::F32:
      std::memcpy(out, src, n * 4);  // the file is little-endian, as are x86 and wasm
      return;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) out[i] = f16_to_f32(load_u16(src + 2 * i));
      return;
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) out[i] = bf16_to_f32(load_u16(src + 2 * i));
      return;
  }
}

SafeTensors parse_safetensors(const uint8_t* bytes, size_t size) {
  if (size == 0) throw Error("safetensors: file is empty");
  if (bytes == nullptr) throw Error("safetensors: no bytes given");
  if (size < kLengthPrefixBytes) {
    throw Error("safetensors: file truncated: " + std::to_string(size) +
                " bytes, shorter than the 8-byte header length");
  }
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  const size_t after_prefix = size - kLengthPrefixBytes;
  if (header_len > after_prefix) {
    throw Error("safetensors: header length " + std::to_string(header_len) + " past end of file (" +
                std::to_string(after_prefix) +
                " bytes follow the length; file truncated or not safetensors)");
  }
  if (header_len > kMaxHeaderBytes) {
    throw Error("safetensors: header length " + std::to_string(header_len) +
                " exceeds the 100 MB limit");
  }
  if (header_len == 0) throw Error("safetensors: header is empty, expected a JSON object");

  const char* header_begin = reinterpret_cast<const char*>(bytes + kLengthPrefixBytes);
  const char* header_end = header_begin + header_len;

  // A file that names a tensor twice is ambiguous (JSON keeps the last one
  // silently): the bounded parse reports it.
  JsonLimits limits;
  limits.max_top_level_keys = kMaxHeaderEntries + 1;  // + __metadata__
  ParsedJson parsed = parse_json_bounded(header_begin, header_end, limits, "safetensors: header",
                                         "safetensors: header is not JSON");
  const json& header = parsed.value;
  if (!header.is_object()) {
    throw Error("safetensors: header is not a JSON object (found " +
                std::string(header.type_name()) + ")");
  }
  if (!parsed.first_duplicate_key.empty())
    throw Error("safetensors: tensor " + in_quotes(parsed.first_duplicate_key) + " appears twice");

  SafeTensors st;
  st.data = bytes + kLengthPrefixBytes + header_len;
  st.data_size = after_prefix - size_t(header_len);

  // Mask buffers of unreadable dtypes are checked like any tensor (placement,
  // overlap) but left out of st.tensors.
  std::vector<Entry> entries;
  for (const auto& item : header.items()) {
    if (item.key() == "__metadata__") {
      check_metadata(item.value());
      continue;
    }
    entries.push_back(parse_entry(item.key(), item.value()));
    check_placement(entries.back(), st.data_size);
  }
  std::vector<const TensorInfo*> by_offset;
  for (const Entry& e : entries) {
    by_offset.push_back(&e.info);
    if (e.spec->readable) st.tensors.emplace(e.info.name, e.info);
  }

  // Overlap: sorted by begin, each non-empty tensor starts at or after the
  // end of the previous non-empty one.
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  const TensorInfo* previous = nullptr;
  for (const TensorInfo* t : by_offset) {
    if (t->begin == t->end) continue;
    if (previous && t->begin < previous->end) {
      throw Error("safetensors: tensors " + in_quotes(previous->name) + " [" +
                  std::to_string(previous->begin) + ", " + std::to_string(previous->end) +
                  ") and " + in_quotes(t->name) + " [" + std::to_string(t->begin) + ", " +
                  std::to_string(t->end) + ") overlap");
    }
    previous = t;
  }
  return st;
}

std::vector<uint8_t> write_safetensors(const std::vector<TensorToWrite>& tensors, DType dtype,
                                       const std::map<std::string, std::string>& metadata) {
  const size_t esize = dtype_size(dtype);
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  size_t offset = 0;
  for (const TensorToWrite& t : tensors) {
    if (t.name.empty() || t.name == "__metadata__") {
      throw Error("write_safetensors: invalid tensor name " + in_quotes(t.name));
    }
    if (!names.insert(t.name).second) {
      throw Error("write_safetensors: tensor " + in_quotes(t.name) + " given twice");
    }
    size_t numel = 1;
    for (int64_t d : t.shape) {
      if (d < 0 || d > kMaxDim) {
        throw Error("write_safetensors: tensor " + in_quotes(t.name) + ": bad shape " +
                    shape_string(t.shape));
      }
      numel *= size_t(d);
    }
    if (numel > 0 && t.values == nullptr) {
      throw Error("write_safetensors: tensor " + in_quotes(t.name) + " has no values");
    }
    header[t.name] = {{"dtype", dtype_name(dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + numel * esize}}};
    offset += numel * esize;
  }
  std::string header_text = header.dump();
  // Pad with spaces so the data section starts 8-byte aligned, as the
  // reference implementation does.
  header_text.append((8 - header_text.size() % 8) % 8, ' ');

  std::vector<uint8_t> file(kLengthPrefixBytes + header_text.size() + offset);
  uint64_t header_len = header_text.size();
  for (size_t i = 0; i < 8; ++i) file[i] = uint8_t(header_len >> (8 * i));
  std::memcpy(file.data() + kLengthPrefixBytes, header_text.data(), header_text.size());
  uint8_t* out = file.data() + kLengthPrefixBytes + header_text.size();
  for (const TensorToWrite& t : tensors) {
    size_t numel = 1;
    for (int64_t d : t.shape) numel *= size_t(d);
    if (dtype == DType::F32) {
      if (numel) std::memcpy(out, t.values, numel * 4);
    } else {
      for (size_t i = 0; i < numel; ++i) {
        const uint16_t h = dtype == DType::F16 ? f32_to_f16(t.values[i]) : f32_to_bf16(t.values[i]);
        out[2 * i] = uint8_t(h & 0xff);
        out[2 * i + 1] = uint8_t(h >> 8);
      }
    }
    out += numel * esize;
  }
  return file;
}

}  // namespace hl
