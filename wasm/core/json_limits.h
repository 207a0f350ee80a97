// JSON from untrusted files (config.json, the safetensors header), parsed in
// time and stack linear in its size, and described in error messages without
// repeating it.
#pragma once
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

namespace hl {

struct JsonLimits {
  // Deepest nesting accepted. Model files nest three or four levels; a deeper
  // document is hostile, and nlohmann's dump() and destructor recurse.
  int max_depth = 32;
  // Most keys of the top-level object (0: no limit).
  size_t max_top_level_keys = 0;
};

struct ParsedJson {
  nlohmann::json value;
  // The first key that the top-level object holds twice ("" when none): JSON
  // keeps the last one silently, which for a tensor name is ambiguous.
  std::string first_duplicate_key;
};

// A first SAX pass checks the nesting depth, counts the top-level keys and
// finds duplicates; only then is the document built (nlohmann's callback
// parser, which would find duplicates on the way, rescans the parent object
// after every child: quadratic). Throws hl::Error: "<not_json> (<parser's
// words>)" for a syntax error, "<what> <problem>" for a limit.
ParsedJson parse_json_bounded(const char* begin, const char* end, const JsonLimits& limits,
                              const std::string& what, const std::string& not_json);

// A value for an error message: scalars as JSON (strings cut at 60
// characters), arrays and objects by their size, never dumped whole.
std::string describe_json(const nlohmann::json& value);

}  // namespace hl
