// What every C++ test file that reads a file shares: reading a file whole,
// the paths of the fixtures (tests/fixtures/, made by make-test-models.mjs),
// and loading a fixture model the way the CLI and the page do. A file that
// cannot be opened fails the test with its path (REQUIRE).
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "model.h"

namespace hl_test {

// The whole file as bytes in a string (binary: no newline translation).
inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "cannot open " << path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  const std::string s = read_file(path);
  return std::vector<uint8_t>(s.begin(), s.end());
}

// tests/fixtures/<relative> in the source tree (HL_SOURCE_DIR is set by CMake).
inline std::string fixture_path(const std::string& relative) {
  return std::string(HL_SOURCE_DIR) + "/tests/fixtures/" + relative;
}

// One file of a fixture model, e.g. fixture_file("tiny-gpt", "config.json").
inline std::string fixture_file(const std::string& model, const std::string& name) {
  return read_file(fixture_path(model + "/" + name));
}

// A fixture model (tiny-gpt, tiny-attn-only); a non-empty config_json
// replaces its config.json (to test config errors on real weights).
inline std::shared_ptr<const hl::Model> load_fixture(const std::string& name,
                                                     std::string config_json = "") {
  if (config_json.empty()) config_json = fixture_file(name, "config.json");
  const std::string st = fixture_file(name, "model.safetensors");
  return hl::load_model(config_json, reinterpret_cast<const uint8_t*>(st.data()), st.size(),
                        fixture_file(name, "vocab.json"), fixture_file(name, "merges.txt"));
}

// A shipped model, models/<name>/ (gpt-4l, attn-only-2l).
inline std::shared_ptr<const hl::Model> load_shipped(const std::string& name) {
  const std::string dir = std::string(HL_SOURCE_DIR) + "/models/" + name + "/";
  const std::string st = read_file(dir + "model.safetensors");
  return hl::load_model(read_file(dir + "config.json"),
                        reinterpret_cast<const uint8_t*>(st.data()), st.size(),
                        read_file(dir + "vocab.json"), read_file(dir + "merges.txt"));
}

}  // namespace hl_test
