// Model loading: the safetensors container, config.json and the GPT-2 name
// table. Every malformed input is built in memory from a good file and must be
// rejected with its own message (checked by substring); dtype conversions are
// checked against values computed here independently, over all 65536 codes.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "config.h"
#include "error.h"
#include "fixtures.h"
#include "safetensors.h"
#include "weights.h"

using namespace hl_test;

namespace {

using Bytes = std::vector<uint8_t>;

// The message of the hl::Error that f throws; fails the test if it throws
// nothing or something else.
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const hl::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("threw a non-hl::Error: " << e.what());
    return "";
  }
  FAIL("did not throw");
  return "";
}

std::string parse_error(const Bytes& file) {
  return error_of([&] { hl::parse_safetensors(file.data(), file.size()); });
}

// A safetensors image from a header text and a data section, nothing checked.
Bytes make_file(const std::string& header, const Bytes& data) {
  Bytes file(8 + header.size() + data.size());
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) file[size_t(i)] = uint8_t(n >> (8 * i));
  for (size_t i = 0; i < header.size(); ++i) file[8 + i] = uint8_t(header[i]);
  for (size_t i = 0; i < data.size(); ++i) file[8 + header.size() + i] = data[i];
  return file;
}

// Header of a file with the tensors "a" (F32 [2, 3], bytes [0, 24)) and "b"
// (F32 [4], bytes [24, 40)), with fields overridable per test.
std::string two_tensor_header(const std::string& a_entry, const std::string& b_entry) {
  return "{\"__metadata__\":{\"format\":\"pt\"},\"a\":" + a_entry + ",\"b\":" + b_entry + "}";
}
const char kGoodA[] = R"({"dtype":"F32","shape":[2,3],"data_offsets":[0,24]})";
const char kGoodB[] = R"({"dtype":"F32","shape":[4],"data_offsets":[24,40]})";
const Bytes kData40(40, 0);

uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }

// IEEE half -> double from the definition (sign, 5-bit exponent bias 15,
// 10-bit mantissa), independent of the engine's bit manipulation.
double half_value(uint16_t h) {
  const int sign = h >> 15, exponent = (h >> 10) & 31, mantissa = h & 1023;
  double magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(mantissa, -24);
  else if (exponent == 31)
    magnitude = mantissa ? std::nan("") : INFINITY;
  else
    magnitude = std::ldexp(1024 + mantissa, exponent - 25);
  return sign ? -magnitude : magnitude;
}

// bfloat16 -> double from the definition (8-bit exponent bias 127, 7-bit mantissa).
double bf16_value(uint16_t b) {
  const int sign = b >> 15, exponent = (b >> 7) & 255, mantissa = b & 127;
  double magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(mantissa, -133);
  else if (exponent == 255)
    magnitude = mantissa ? std::nan("") : INFINITY;
  else
    magnitude = std::ldexp(128 + mantissa, exponent - 134);
  return sign ? -magnitude : magnitude;
}

// A file holding all 65536 codes of a 16-bit dtype, as tensor "all".
Bytes all_codes_file(const char* dtype) {
  Bytes data(65536 * 2);
  for (uint32_t code = 0; code < 65536; ++code) {
    data[2 * code] = uint8_t(code & 0xff);
    data[2 * code + 1] = uint8_t(code >> 8);
  }
  return make_file(std::string("{\"all\":{\"dtype\":\"") + dtype +
                       "\",\"shape\":[65536],\"data_offsets\":[0,131072]}}",
                   data);
}

// The 16-bit codes that write_safetensors stores for the given values.
std::vector<uint16_t> written_codes(const std::vector<float>& values, hl::DType dtype) {
  const Bytes file = hl::write_safetensors({{"x", {int64_t(values.size())}, values.data()}}, dtype);
  const hl::SafeTensors st = hl::parse_safetensors(file.data(), file.size());
  const hl::TensorInfo& t = st.at("x");
  std::vector<uint16_t> codes(values.size());
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = le16(st.data + t.begin + 2 * i);
  return codes;
}

const char kTinyConfig[] =
    R"({"n_layer":2,"n_head":4,"n_embd":48,"n_positions":64,"vocab_size":443})";

// Every parameter of a config, filled with distinct values, as write_safetensors
// input under the given name prefix.
struct ModelImage {
  hl::Weights weights;
  std::vector<hl::TensorToWrite> tensors;
  std::vector<std::string> names;  // keeps the c_str alive for tensors
};

ModelImage model_image(const hl::ModelConfig& config, const std::string& prefix) {
  ModelImage image{hl::allocate_weights(config), {}, {}};
  for (size_t i = 0; i < image.weights.block.size(); ++i) {
    image.weights.block[i] = float(int(i % 2003) - 1001) / 1024.0f;
  }
  for (const hl::ParamEntry& p : hl::param_table(image.weights)) {
    image.tensors.push_back({prefix + p.name, p.shape, p.data});
  }
  return image;
}

std::string load_error(const hl::ModelConfig& config, const Bytes& file) {
  return error_of([&] {
    const hl::SafeTensors st = hl::parse_safetensors(file.data(), file.size());
    hl::load_weights(config, st);
  });
}

std::vector<hl::TensorToWrite> without(std::vector<hl::TensorToWrite> tensors,
                                       const std::string& name) {
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].name == name) {
      tensors.erase(tensors.begin() + long(i));
      return tensors;
    }
  }
  FAIL("no tensor " << name);
  return tensors;
}

}  // namespace

TEST_SUITE("safetensors") {
  TEST_CASE("the fixture parses and every tensor reads") {
    const Bytes file = read_bytes(fixture_path("tiny-gpt/model.safetensors"));
    const hl::SafeTensors st = hl::parse_safetensors(file.data(), file.size());
    CHECK(st.tensors.size() == 2 + 2 * 12 + 2);
    CHECK(st.has("h.1.mlp.c_proj.weight"));
    CHECK_FALSE(st.has("__metadata__"));
    const hl::TensorInfo& wte = st.at("wte.weight");
    CHECK(wte.dtype == hl::DType::F32);
    CHECK(wte.shape == std::vector<int64_t>{443, 48});
    for (const auto& item : st.tensors) {  // F32 reads back its exact bytes
      const hl::TensorInfo& t = item.second;
      std::vector<float> values(size_t(t.numel()));
      st.read_f32(t, values.data());
      CHECK_MESSAGE(std::memcmp(values.data(), st.data + t.begin, t.end - t.begin) == 0, t.name);
    }
    CHECK(error_of([&] { st.at("lm_head.weight"); }).find("no tensor 'lm_head.weight'") !=
          std::string::npos);
  }

  TEST_CASE("malformed containers are rejected, each with its own message") {
    struct Case {
      const char* what;
      Bytes file;
      const char* message;
    };
    const Bytes good = make_file(two_tensor_header(kGoodA, kGoodB), kData40);
    REQUIRE(hl::parse_safetensors(good.data(), good.size()).tensors.size() == 2);

    Bytes huge_length = good;
    for (int i = 0; i < 8; ++i) huge_length[size_t(i)] = 0xff;
    Bytes header_cut(good.begin(), good.begin() + 8 + 20);  // length says more than follows
    Bytes data_cut(good.begin(), good.end() - 1);           // last tensor loses a byte

    const std::vector<Case> cases = {
        {"empty file", {}, "file is empty"},
        {"5 bytes", Bytes(5, 0), "file truncated: 5 bytes"},
        {"header length past end", header_cut, "header length"},
        {"header length 2^64-1", huge_length, "past end of file"},
        {"zero header", make_file("", {}), "header is empty"},
        {"header not JSON", make_file("{\"a\": [1, 2", kData40), "header is not JSON"},
        {"header JSON array", make_file("[1,2,3]", {}), "header is not a JSON object"},
        {"unknown dtype",
         make_file(
             two_tensor_header(R"({"dtype":"I64","shape":[3],"data_offsets":[0,24]})", kGoodB),
             kData40),
         "tensor 'a': unsupported dtype 'I64'"},
        {"dtype not a string",
         make_file(two_tensor_header(R"({"dtype":4,"shape":[2,3],"data_offsets":[0,24]})", kGoodB),
                   kData40),
         "tensor 'a': dtype must be a string"},
        {"no shape",
         make_file(two_tensor_header(R"({"dtype":"F32","data_offsets":[0,24]})", kGoodB), kData40),
         "tensor 'a': no shape"},
        {"no data_offsets",
         make_file(two_tensor_header(R"({"dtype":"F32","shape":[2,3]})", kGoodB), kData40),
         "tensor 'a': no data_offsets"},
        {"entry not an object", make_file(two_tensor_header("17", kGoodB), kData40),
         "tensor 'a': entry must be an object"},
        {"negative dimension",
         make_file(
             two_tensor_header(R"({"dtype":"F32","shape":[-2,3],"data_offsets":[0,24]})", kGoodB),
             kData40),
         "tensor 'a': shape has negative value -2"},
        {"huge dimension",
         make_file(two_tensor_header(
                       R"({"dtype":"F32","shape":[4611686018427387904,3],"data_offsets":[0,24]})",
                       kGoodB),
                   kData40),
         "tensor 'a': absurd shape dimension"},
        {"offsets outside the data",
         make_file(
             two_tensor_header(kGoodA, R"({"dtype":"F32","shape":[4],"data_offsets":[40,56]})"),
             kData40),
         "tensor 'b': data_offsets [40, 56] outside the data section of 40 bytes"},
        {"data section cut short", data_cut, "tensor 'b': data_offsets [24, 40] outside"},
        {"begin after end",
         make_file(
             two_tensor_header(kGoodA, R"({"dtype":"F32","shape":[4],"data_offsets":[40,24]})"),
             kData40),
         "tensor 'b': data_offsets begin 40 > end 24"},
        {"size disagrees with shape",
         make_file(
             two_tensor_header(kGoodA, R"({"dtype":"F32","shape":[3],"data_offsets":[24,40]})"),
             kData40),
         "tensor 'b': F32 shape [3] needs 12 bytes but data_offsets span 16"},
        {"overlapping tensors",
         make_file(
             two_tensor_header(kGoodA, R"({"dtype":"F32","shape":[4],"data_offsets":[16,32]})"),
             kData40),
         "tensors 'a' [0, 24) and 'b' [16, 32) overlap"},
        {"misaligned tensor",
         make_file(
             two_tensor_header(kGoodA, R"({"dtype":"F32","shape":[3],"data_offsets":[26,38]})"),
             kData40),
         "tensor 'b': misaligned: offset 26 is not a multiple of the F32 size 4"},
        {"duplicate tensor name",
         make_file("{\"a\":" + std::string(kGoodA) + ",\"a\":" + kGoodA + "}", kData40),
         "tensor 'a' appears twice"},
        {"metadata not strings",
         make_file(R"({"__metadata__":{"step":3},"a":)" + std::string(kGoodA) + "}", kData40),
         "__metadata__ value of 'step' must be a string"},
    };
    for (const Case& c : cases) {
      CAPTURE(c.what);
      const std::string message = parse_error(c.file);
      CHECK_MESSAGE(message.find(c.message) != std::string::npos,
                    "expected '" << c.message << "' in '" << message << "'");
    }
  }

  TEST_CASE("causal-mask buffers of other dtypes are checked but not exposed") {
    // Older GPT-2 checkpoints store h.{i}.attn.bias as BOOL or U8.
    const std::string mask = R"({"dtype":"BOOL","shape":[1,1,4,4],"data_offsets":[24,40]})";
    const Bytes with_mask = make_file(
        "{\"a\":" + std::string(kGoodA) + ",\"transformer.h.0.attn.bias\":" + mask + "}", kData40);
    const hl::SafeTensors st = hl::parse_safetensors(with_mask.data(), with_mask.size());
    CHECK(st.tensors.size() == 1);
    CHECK(st.has("a"));
    // The same dtype on a tensor the engine would need is refused by name...
    const Bytes bool_weight =
        make_file("{\"a\":" + std::string(kGoodA) + ",\"h.0.ln_1.weight\":" + mask + "}", kData40);
    CHECK(parse_error(bool_weight).find("tensor 'h.0.ln_1.weight': unsupported dtype 'BOOL'") !=
          std::string::npos);
    // ...a mask buffer is still checked for placement...
    const Bytes overlapping_mask =
        make_file("{\"a\":" + std::string(kGoodA) +
                      R"(,"h.3.attn.bias":{"dtype":"U8","shape":[16],"data_offsets":[20,36]}})",
                  kData40);
    CHECK(parse_error(overlapping_mask).find("overlap") != std::string::npos);
    // ...and a dtype that safetensors does not define is refused whatever the name.
    const Bytes unknown =
        make_file("{\"a\":" + std::string(kGoodA) +
                      R"(,"h.0.attn.bias":{"dtype":"Q4_0","shape":[16],"data_offsets":[24,40]}})",
                  kData40);
    CHECK(parse_error(unknown).find("tensor 'h.0.attn.bias': unsupported dtype 'Q4_0'") !=
          std::string::npos);
  }

  TEST_CASE("a truncated real file names the first tensor it loses") {
    const Bytes file = read_bytes(fixture_path("tiny-gpt/model.safetensors"));
    const Bytes half(file.begin(), file.begin() + long(file.size() / 2));
    const std::string message = parse_error(half);
    INFO(message);
    CHECK(message.find("outside the data section") != std::string::npos);
    CHECK(message.find("tensor 'h.") != std::string::npos);
  }

  TEST_CASE("F16 and BF16 decode exactly, over all 65536 codes") {
    for (const std::string dtype : {"F16", "BF16"}) {
      CAPTURE(dtype);
      const Bytes file = all_codes_file(dtype.c_str());
      const hl::SafeTensors st = hl::parse_safetensors(file.data(), file.size());
      std::vector<float> values(65536);
      st.read_f32(st.at("all"), values.data());
      int mismatches = 0;
      for (uint32_t code = 0; code < 65536; ++code) {
        const double expected =
            dtype[0] == 'F' ? half_value(uint16_t(code)) : bf16_value(uint16_t(code));
        const double got = values[code];
        const bool same = std::isnan(expected)
                              ? std::isnan(got)
                              : got == expected && std::signbit(got) == std::signbit(expected);
        if (!same && ++mismatches <= 5)
          MESSAGE("code " << code << ": " << got << " != " << expected);
      }
      MESSAGE(dtype << ": " << mismatches << " of 65536 codes decode differently");
      CHECK(mismatches == 0);
    }
    // A few known values, stated outright.
    const Bytes f16 = all_codes_file("F16");
    const hl::SafeTensors st = hl::parse_safetensors(f16.data(), f16.size());
    std::vector<float> v(65536);
    st.read_f32(st.at("all"), v.data());
    CHECK(v[0x3c00] == 1.0f);
    CHECK(v[0xc000] == -2.0f);
    CHECK(v[0x7bff] == 65504.0f);
    CHECK(v[0x0001] == std::ldexp(1.0f, -24));            // smallest subnormal
    CHECK(v[0x03ff] == 1023.0f * std::ldexp(1.0f, -24));  // largest subnormal
    CHECK(v[0x0400] == std::ldexp(1.0f, -14));            // smallest normal
    CHECK(v[0x3555] == 0.333251953125f);
    CHECK(std::isinf(v[0x7c00]));
    CHECK(v[0xfc00] == -INFINITY);
    CHECK(std::isnan(v[0x7e00]));
    CHECK((v[0x8000] == 0.0f && std::signbit(v[0x8000])));
  }

  TEST_CASE("F16 and BF16 encode with round-to-nearest-even") {
    // Every non-NaN code survives decode -> encode unchanged.
    for (hl::DType dtype : {hl::DType::F16, hl::DType::BF16}) {
      const bool is_f16 = dtype == hl::DType::F16;
      const Bytes file = all_codes_file(is_f16 ? "F16" : "BF16");
      const hl::SafeTensors st = hl::parse_safetensors(file.data(), file.size());
      std::vector<float> values(65536);
      st.read_f32(st.at("all"), values.data());
      const std::vector<uint16_t> codes = written_codes(values, dtype);
      int mismatches = 0;
      for (uint32_t code = 0; code < 65536; ++code) {
        if (std::isnan(values[code])) {
          CHECK(std::isnan(is_f16 ? half_value(codes[code]) : bf16_value(codes[code])));
        } else if (codes[code] != code) {
          ++mismatches;
        }
      }
      MESSAGE(std::string(is_f16 ? "F16" : "BF16")
              << " decode->encode: " << mismatches << " codes changed");
      CHECK(mismatches == 0);
    }
    const float tiny = std::ldexp(1.0f, -24);
    const std::vector<uint16_t> f16 = written_codes(
        {1.0f + std::ldexp(1.0f, -11),       // halfway between 1 and next: to even (1)
         1.0f + 3 * std::ldexp(1.0f, -11),   // halfway, odd below: up to 1 + 2^-9
         65519.0f, 65520.0f, 1e9f, -1e9f,    // largest finite, ties to inf, overflow
         tiny, 0.5f * tiny, 0.75f * tiny,    // smallest subnormal; tie to 0; up to 1
         1e-9f, -0.0f, NAN, 1023.5f * tiny,  // underflow; sign of zero; NaN; subnormal tie
         std::ldexp(1.0f, -14) - std::ldexp(1.0f, -26)},  // rounds up into the normals
        hl::DType::F16);
    const std::vector<uint16_t> expected_f16 = {0x3c00, 0x3c02, 0x7bff, 0x7c00, 0x7c00,
                                                0xfc00, 0x0001, 0x0000, 0x0001, 0x0000,
                                                0x8000, 0x7e00, 0x0400, 0x0400};
    for (size_t i = 0; i < expected_f16.size(); ++i) {
      CAPTURE(i);
      if (i == 11)
        CHECK(((f16[i] & 0x7c00) == 0x7c00 && (f16[i] & 0x3ff) != 0));
      else
        CHECK(f16[i] == expected_f16[i]);
    }
    const std::vector<uint16_t> bf16 =
        written_codes({1.0f + std::ldexp(1.0f, -8), 1.0f + 3 * std::ldexp(1.0f, -8), -3.14159265f,
                       3.4e38f, INFINITY},
                      hl::DType::BF16);
    CHECK(bf16[0] == 0x3f80);
    CHECK(bf16[1] == 0x3f82);
    CHECK(bf16[2] == 0xc049);
    CHECK(bf16[3] == 0x7f80);  // rounds past the largest finite bf16
    CHECK(bf16[4] == 0x7f80);
  }

  TEST_CASE("write -> parse -> read round trip") {
    std::vector<float> a(6), b(1000), empty;
    for (size_t i = 0; i < a.size(); ++i) a[i] = float(i) * 0.25f - 1.0f;
    for (size_t i = 0; i < b.size(); ++i) b[i] = std::sin(float(i)) * 3.0f;
    const std::vector<hl::TensorToWrite> tensors = {{"layer.a", {2, 3}, a.data()},
                                                    {"layer.b", {10, 10, 10}, b.data()},
                                                    {"none", {0, 4}, nullptr}};
    for (hl::DType dtype : {hl::DType::F32, hl::DType::F16, hl::DType::BF16}) {
      CAPTURE(int(dtype));
      const Bytes file = hl::write_safetensors(tensors, dtype, {{"format", "pt"}});
      uint64_t header_len = 0;
      for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | file[size_t(i)];
      CHECK((8 + header_len) % 8 == 0);  // data section 8-byte aligned
      CHECK((file[8 + header_len - 1] == '}' || file[8 + header_len - 1] == ' '));
      const hl::SafeTensors st = hl::parse_safetensors(file.data(), file.size());
      REQUIRE(st.tensors.size() == 3);
      CHECK(st.at("layer.b").shape == std::vector<int64_t>{10, 10, 10});
      CHECK(st.at("none").numel() == 0);
      CHECK(st.at("layer.a").begin == 0);  // data in the order given
      std::vector<float> got(1000);
      st.read_f32(st.at("layer.b"), got.data());
      // Relative precision: half ulp of 11 (F16) or 8 (BF16) significant bits.
      const double tolerance = dtype == hl::DType::F32   ? 0.0
                               : dtype == hl::DType::F16 ? 0x1p-11
                                                         : 0x1p-8;
      double max_rel = 0;
      for (size_t i = 0; i < b.size(); ++i) {
        if (b[i] != 0)
          max_rel = std::max(max_rel, std::fabs(double(got[i]) - b[i]) / std::fabs(b[i]));
      }
      MESSAGE("max relative error " << max_rel << " (bound " << tolerance << ")");
      CHECK(max_rel <= tolerance);
    }
    CHECK(error_of([&] {
            hl::write_safetensors({{"x", {2}, a.data()}, {"x", {2}, a.data()}}, hl::DType::F32);
          }).find("tensor 'x' given twice") != std::string::npos);
  }
}

TEST_SUITE("config") {
  TEST_CASE("the fixture configs parse") {
    const hl::ModelConfig c = hl::parse_config(read_file(fixture_path("tiny-gpt/config.json")));
    CHECK(c.n_layer == 2);
    CHECK(c.n_head == 4);
    CHECK(c.n_embd == 48);
    CHECK(c.d_head() == 12);
    CHECK(c.n_positions == 64);
    CHECK(c.vocab_size == 443);
    CHECK(c.layer_norm_epsilon == 1e-5f);
    CHECK_FALSE(c.attn_only);
    CHECK(hl::parse_config(read_file(fixture_path("tiny-attn-only/config.json"))).attn_only);
  }

  TEST_CASE("GPT-2 small as Hugging Face writes it, with n_ctx only") {
    const hl::ModelConfig c = hl::parse_config(R"({
      "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
      "attn_pdrop": 0.1, "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256,
      "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "gpt2",
      "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_layer": 12, "resid_pdrop": 0.1,
      "summary_type": "cls_index", "vocab_size": 50257})");
    CHECK(c.n_positions == 1024);
    CHECK(c.vocab_size == 50257);
    for (const std::string act : {"gelu", "gelu_pytorch_tanh", "gelu_fast"}) {
      const std::string json =
          "{\"n_layer\":1,\"n_head\":1,\"n_embd\":8,\"n_ctx\":8,"
          "\"vocab_size\":9,\"activation_function\":\"" +
          act + "\"}";
      CHECK_NOTHROW(hl::parse_config(json));
    }
    CHECK(c.d_head() == 64);
    CHECK(hl::parse_config(R"({"n_layer":1,"n_head":1,"n_embd":8,"n_positions":8,"vocab_size":9,
                             "layer_norm_epsilon":0.001})")
              .layer_norm_epsilon == 0.001f);
  }

  TEST_CASE("bad configs are rejected naming the key") {
    struct Case {
      std::string json;
      const char* message;
    };
    const std::string base = R"("n_head":4,"n_embd":48,"n_positions":64,"vocab_size":443)";
    const std::vector<Case> cases = {
        {"", "config.json: file is empty"},
        {"  \n", "config.json: file is empty"},
        {"{\"n_layer\": 2,", "config.json: not valid JSON"},
        {"[2, 4]", "expected a JSON object"},
        {"{" + base + "}", "missing n_layer"},
        {R"({"n_layer":2,"n_head":4,"n_embd":48,"vocab_size":443})",
         "missing n_positions (or n_ctx)"},
        {R"({"n_layer":0,)" + base + "}", "n_layer must be positive, found 0"},
        {R"({"n_layer":-3,)" + base + "}", "n_layer must be positive, found -3"},
        {R"({"n_layer":"2",)" + base + "}", "n_layer must be an integer"},
        {R"({"n_layer":2.5,)" + base + "}", "n_layer must be an integer"},
        {R"({"n_layer":1000,)" + base + "}", "n_layer = 1000 is absurd"},
        {R"({"n_layer":2,"n_head":4,"n_embd":100000,"n_positions":64,"vocab_size":443})",
         "n_embd = 100000 is absurd"},
        {R"({"n_layer":2,"n_head":0,"n_embd":48,"n_positions":64,"vocab_size":443})",
         "n_head must be positive"},
        {R"({"n_layer":2,"n_head":4,"n_embd":48,"n_positions":64,"vocab_size":5000000})",
         "vocab_size = 5000000 is absurd"},
        {R"({"n_layer":2,"n_head":4,"n_embd":48,"n_positions":1000000,"vocab_size":443})",
         "n_positions = 1000000 is absurd"},
        {R"({"n_layer":2,"n_head":4,"n_embd":48,"n_ctx":0,"vocab_size":443})",
         "n_ctx must be positive"},
        {R"({"n_layer":2,"n_head":5,"n_embd":48,"n_positions":64,"vocab_size":443})",
         "n_embd 48 is not divisible by n_head 5"},
        {R"({"n_layer":2,)" + base + R"(,"layer_norm_epsilon":0})",
         "layer_norm_epsilon 0 must be in (0, 1)"},
        {R"({"n_layer":2,)" + base + R"(,"layer_norm_epsilon":-1e-5})", "layer_norm_epsilon"},
        {R"({"n_layer":2,)" + base + R"(,"layer_norm_epsilon":"small"})",
         "layer_norm_epsilon must be a number"},
        {R"({"n_layer":2,)" + base + R"(,"attn_only":"yes"})", "attn_only must be true or false"},
        {R"({"n_layer":2,)" + base + R"(,"activation_function":"relu"})",
         "activation_function \"relu\" is not supported"},
        {R"({"n_layer":2,)" + base + R"(,"n_inner":100})", "n_inner 100 is not supported"},
        {R"({"n_layer":2,)" + base + R"(,"scale_attn_by_inverse_layer_idx":true})",
         "scale_attn_by_inverse_layer_idx"},
    };
    for (const Case& c : cases) {
      CAPTURE(c.json);
      const std::string message = error_of([&] { hl::parse_config(c.json); });
      CHECK_MESSAGE(message.find(c.message) != std::string::npos,
                    "expected '" << c.message << "' in '" << message << "'");
    }
  }

  TEST_CASE("config_to_json writes a Hugging Face GPT-2 config that parses back") {
    hl::ModelConfig c;
    c.n_layer = 4;
    c.n_head = 8;
    c.n_embd = 256;
    c.n_positions = 512;
    c.vocab_size = 6000;
    c.layer_norm_epsilon = 1e-5f;
    c.attn_only = true;
    const std::string text = hl::config_to_json(c);
    INFO(text);
    CHECK(text.find("\"model_type\": \"gpt2\"") != std::string::npos);
    CHECK(text.find("\"GPT2LMHeadModel\"") != std::string::npos);
    CHECK(text.find("\"activation_function\": \"gelu_new\"") != std::string::npos);
    CHECK(text.find("\"layer_norm_epsilon\": 1e-05") != std::string::npos);
    CHECK(text.find("\"attn_only\": true") != std::string::npos);
    const hl::ModelConfig back = hl::parse_config(text);
    CHECK(back.n_layer == 4);
    CHECK(back.n_head == 8);
    CHECK(back.n_embd == 256);
    CHECK(back.n_positions == 512);
    CHECK(back.vocab_size == 6000);
    CHECK(back.layer_norm_epsilon == 1e-5f);
    CHECK(back.attn_only);
    c.attn_only = false;
    CHECK(hl::config_to_json(c).find("attn_only") == std::string::npos);
  }
}

TEST_SUITE("weights") {
  TEST_CASE("param_table lays every parameter out once, in block order") {
    for (bool attn_only : {false, true}) {
      CAPTURE(attn_only);
      hl::ModelConfig c = hl::parse_config(kTinyConfig);
      c.attn_only = attn_only;
      hl::Weights w = hl::allocate_weights(c);
      const int64_t C = 48, V = 443, P = 64;
      const int64_t attn = 2 * C + C * 3 * C + 3 * C + C * C + C;
      const int64_t mlp = 2 * C + C * 4 * C + 4 * C + 4 * C * C + C;
      const int64_t expected = V * C + P * C + 2 * (attn + (attn_only ? 0 : mlp)) + 2 * C;
      CHECK(int64_t(w.num_parameters()) == expected);
      const std::vector<hl::ParamEntry> table = hl::param_table(w);
      CHECK(table.size() == size_t(2 + 2 * (attn_only ? 6 : 12) + 2));
      const float* next = w.block.data();
      for (const hl::ParamEntry& p : table) {
        CAPTURE(p.name);
        CHECK(p.data == next);
        int64_t n = 1;
        for (int64_t d : p.shape) n *= d;
        next += n;
      }
      CHECK(next == w.block.data() + w.block.size());
      CHECK(table.front().name == "wte.weight");
      CHECK(table[2].name == "h.0.ln_1.weight");
      CHECK(table.back().name == "ln_f.bias");
      CHECK(w.wte == w.block.data());
      CHECK(w.layers[1].c_attn_w != nullptr);
      CHECK((w.layers[1].mlp_c_fc_w == nullptr) == attn_only);
      CHECK((w.layers[0].ln_2_w == nullptr) == attn_only);
      hl::Weights moved = std::move(w);  // views survive a move
      CHECK(moved.wte == moved.block.data());
    }
  }

  TEST_CASE("the fixtures load, with and without the transformer. prefix") {
    for (const std::string name : {"tiny-gpt", "tiny-attn-only"}) {
      CAPTURE(name);
      const hl::ModelConfig c =
          hl::parse_config(read_file(fixture_path(std::string(name) + "/config.json")));
      const Bytes file = read_bytes(fixture_path(std::string(name) + "/model.safetensors"));
      const hl::SafeTensors st = hl::parse_safetensors(file.data(), file.size());
      hl::Weights w = hl::load_weights(c, st);
      const std::string prefix = st.has("wte.weight") ? "" : "transformer.";
      // Every view holds exactly its tensor's bytes.
      for (const hl::ParamEntry& p : hl::param_table(w)) {
        const hl::TensorInfo& t = st.at(prefix + p.name);
        CHECK_MESSAGE(std::memcmp(p.data, st.data + t.begin, t.end - t.begin) == 0, p.name);
      }
      CHECK(w.layers[1].ln_1_w[0] > 0.5f);  // layer norm gains near 1
    }
  }

  TEST_CASE("F16 and BF16 fixtures load close to the F32 weights") {
    const hl::ModelConfig c = hl::parse_config(read_file(fixture_path("tiny-gpt/config.json")));
    const Bytes f32_file = read_bytes(fixture_path("tiny-gpt/model.safetensors"));
    hl::Weights f32 = hl::load_weights(c, hl::parse_safetensors(f32_file.data(), f32_file.size()));
    for (const std::string file_name :
         {"dtypes/model.f16.safetensors", "dtypes/model.bf16.safetensors"}) {
      CAPTURE(file_name);
      const Bytes file = read_bytes(fixture_path(file_name));
      hl::Weights w = hl::load_weights(c, hl::parse_safetensors(file.data(), file.size()));
      double max_rel = 0;
      for (size_t i = 0; i < w.block.size(); ++i) {
        const double ref = f32.block[i];
        if (std::fabs(ref) > 1e-4)
          max_rel = std::max(max_rel, std::fabs(w.block[i] - ref) / std::fabs(ref));
      }
      const double bound = file_name.find("bf16") != std::string::npos ? 0x1p-8 : 0x1p-11;
      MESSAGE(file_name << ": max relative difference to F32 " << max_rel << " (bound " << bound
                        << ")");
      CHECK(max_rel <= bound);
      CHECK(max_rel > 0);
    }
  }

  TEST_CASE("transformer. prefix, causal-mask buffers and a tied lm_head are accepted") {
    const hl::ModelConfig c = hl::parse_config(kTinyConfig);
    ModelImage image = model_image(c, "transformer.");
    const std::vector<float> mask(64 * 64, 1.0f);
    const float masked_bias = -1e4f;
    image.tensors.push_back({"transformer.h.0.attn.bias", {1, 1, 64, 64}, mask.data()});
    image.tensors.push_back({"transformer.h.1.attn.bias", {1, 1, 64, 64}, mask.data()});
    image.tensors.push_back({"transformer.h.0.attn.masked_bias", {}, &masked_bias});
    image.tensors.push_back({"lm_head.weight", {443, 48}, image.weights.wte});
    for (hl::DType dtype : {hl::DType::F32, hl::DType::F16}) {
      const Bytes file = hl::write_safetensors(image.tensors, dtype);
      hl::Weights w = hl::load_weights(c, hl::parse_safetensors(file.data(), file.size()));
      REQUIRE(w.block.size() == image.weights.block.size());
      // The values are multiples of 1/1024 below 1: exact in F16 too.
      CHECK(std::memcmp(w.block.data(), image.weights.block.data(), w.block.size() * 4) == 0);
    }
  }

  TEST_CASE("model files that disagree with the config are rejected naming the tensor") {
    const hl::ModelConfig c = hl::parse_config(kTinyConfig);
    ModelImage image = model_image(c, "");
    auto file_of = [](const std::vector<hl::TensorToWrite>& t) {
      return hl::write_safetensors(t, hl::DType::F32);
    };
    std::string message;

    message = load_error(c, file_of(without(image.tensors, "h.1.mlp.c_fc.bias")));
    CHECK(message.find("missing tensor 'h.1.mlp.c_fc.bias'") != std::string::npos);

    std::vector<hl::TensorToWrite> reshaped = image.tensors;
    for (hl::TensorToWrite& t : reshaped) {
      if (t.name == "h.0.attn.c_attn.weight") t.shape = {144, 48};  // transposed (Linear layout)
    }
    message = load_error(c, file_of(reshaped));
    INFO(message);
    CHECK(message.find("tensor 'h.0.attn.c_attn.weight': shape [144, 48] disagrees with config, "
                       "expected [48, 144]") != std::string::npos);

    std::vector<hl::TensorToWrite> typo = image.tensors;
    for (hl::TensorToWrite& t : typo) {
      if (t.name == "h.1.ln_2.bias") t.name = "h.1.ln2.bias";
    }
    message = load_error(c, file_of(typo));
    CHECK(message.find("missing tensor 'h.1.ln_2.bias'") != std::string::npos);

    std::vector<hl::TensorToWrite> extra = image.tensors;
    const float one = 1.0f;
    extra.push_back({"h.0.attn.c_atn.weight", {1}, &one});
    message = load_error(c, file_of(extra));
    CHECK(message.find("unexpected tensor 'h.0.attn.c_atn.weight'") != std::string::npos);

    // Config with more layers than the file; config attn_only with MLP weights in the file.
    hl::ModelConfig deeper = c;
    deeper.n_layer = 3;
    message = load_error(deeper, file_of(image.tensors));
    CHECK(message.find("missing tensor 'h.2.ln_1.weight'") != std::string::npos);
    hl::ModelConfig attn_only = c;
    attn_only.attn_only = true;
    message = load_error(attn_only, file_of(image.tensors));
    CHECK(message.find("unexpected tensors 'h.0.ln_2.bias'") != std::string::npos);
    CHECK(message.find("and 7 more") != std::string::npos);  // 2 layers x 6 MLP tensors
    hl::ModelConfig wider_vocab = c;
    wider_vocab.vocab_size = 500;
    message = load_error(wider_vocab, file_of(image.tensors));
    CHECK(message.find(
              "tensor 'wte.weight': shape [443, 48] disagrees with config, expected [500, 48]") !=
          std::string::npos);

    // Both spellings of one name; an untied lm_head.
    std::vector<hl::TensorToWrite> both = image.tensors;
    both.push_back({"transformer.ln_f.bias", {48}, image.weights.ln_f_b});
    message = load_error(c, file_of(both));
    CHECK(message.find("tensor 'ln_f.bias' appears both with and without") != std::string::npos);
    std::vector<hl::TensorToWrite> untied = image.tensors;
    std::vector<float> other_head(image.weights.wte, image.weights.wte + 443 * 48);
    other_head[100] += 1.0f;
    untied.push_back({"lm_head.weight", {443, 48}, other_head.data()});
    message = load_error(c, file_of(untied));
    CHECK(message.find("'lm_head.weight' differs from wte.weight") != std::string::npos);
  }

  TEST_CASE("a GPT-2-small-sized file loads fast, F32 and F16") {
    // 124M parameters, 498 MB as F32: the real checkpoint's shapes (vocab
    // 50257, 1024 positions), filled with a pattern so the copy can be checked.
    const hl::ModelConfig c = hl::parse_config(
        R"({"n_layer":12,"n_head":12,"n_embd":768,"n_positions":1024,"vocab_size":50257})");
    std::vector<std::pair<std::string, Bytes>> files;
    {
      ModelImage image = model_image(c, "");
      files.emplace_back("F32", hl::write_safetensors(image.tensors, hl::DType::F32));
      files.emplace_back("F16", hl::write_safetensors(image.tensors, hl::DType::F16));
    }
    for (auto& entry : files) {
      const std::string& dtype = entry.first;  // (clang: no structured binding in CAPTURE)
      Bytes& file = entry.second;
      CAPTURE(dtype);
      const auto start = std::chrono::steady_clock::now();
      const hl::SafeTensors st = hl::parse_safetensors(file.data(), file.size());
      hl::Weights w = hl::load_weights(c, st);
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      MESSAGE("GPT-2 small, " << w.num_parameters() << " parameters, " << file.size() / 1e6
                              << " MB " << dtype << ": parse + load " << ms << " ms, "
                              << file.size() / 1e3 / ms << " MB/s");
      CHECK(w.num_parameters() == 124439808);
      size_t mismatches = 0;  // the pattern is exact in F16 too (multiples of 1/1024 below 1)
      for (size_t i = 0; i < w.block.size(); i += 997) {
        mismatches += w.block[i] != float(int(i % 2003) - 1001) / 1024.0f;
      }
      CHECK(mismatches == 0);
      CHECK(ms < 5000);  // loose: catches an accidental per-element slow path, not noise
      file = Bytes();    // free before the next one
    }
  }
}
