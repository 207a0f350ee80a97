#include "json_limits.h"

#include <unordered_set>

#include "error.h"

namespace hl {
namespace {

using nlohmann::json;

// The first pass: nothing is built, so neither the depth nor the key count
// can cost more than the scan itself.
class ShapeScan : public nlohmann::json_sax<json> {
 public:
  explicit ShapeScan(const JsonLimits& limits) : limits_(limits) {}

  std::string problem;        // set when a limit stopped the scan
  std::string syntax_error;   // set when the text is not JSON
  std::string duplicate_key;  // first top-level key seen twice

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return enter(); }
  bool end_object() override { return leave(); }
  bool start_array(std::size_t) override { return enter(); }
  bool end_array() override { return leave(); }
  bool key(string_t& key) override {
    if (depth_ != 1) return true;
    if (limits_.max_top_level_keys > 0 && keys_.size() >= limits_.max_top_level_keys) {
      problem = "has more than " + std::to_string(limits_.max_top_level_keys) + " entries";
      return false;
    }
    if (!keys_.insert(key).second && duplicate_key.empty()) duplicate_key = key;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    // nlohmann quotes the last token read, which can be the whole file.
    syntax_error = e.what();
    if (syntax_error.size() > 200) syntax_error = syntax_error.substr(0, 200) + "...";
    return false;
  }

 private:
  bool enter() {
    if (++depth_ > limits_.max_depth) {
      problem = "is nested deeper than " + std::to_string(limits_.max_depth) + " levels";
      return false;
    }
    return true;
  }
  bool leave() {
    --depth_;
    return true;
  }

  const JsonLimits& limits_;
  int depth_ = 0;
  std::unordered_set<std::string> keys_;
};

}  // namespace

ParsedJson parse_json_bounded(const char* begin, const char* end, const JsonLimits& limits,
                              const std::string& what, const std::string& not_json) {
  ShapeScan scan(limits);
  const bool complete = json::sax_parse(begin, end, &scan);
  if (!scan.problem.empty()) throw Error(what + " " + scan.problem);
  if (!complete) throw Error(not_json + " (" + scan.syntax_error + ")");
  ParsedJson parsed;
  parsed.first_duplicate_key = scan.duplicate_key;
  try {
    parsed.value = json::parse(begin, end);
  } catch (const json::exception& e) {  // the scan accepted it: not expected
    throw Error(not_json + " (" + e.what() + ")");
  }
  return parsed;
}

std::string describe_json(const json& value) {
  if (value.is_array()) return "an array of " + std::to_string(value.size()) + " values";
  if (value.is_object()) return "an object of " + std::to_string(value.size()) + " keys";
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (s.size() > 60) {
      return json(s.substr(0, 60)).dump(-1, ' ', false, json::error_handler_t::replace) +
             "... (" + std::to_string(s.size()) + " bytes)";
    }
  }
  // dump() of a string cut mid-character would throw: error_handler replace.
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace hl
