// Values across the wasm boundary: see js_values.h.
#include "js_values.h"

#include <cstdint>

#include "engine.h"
#include "error.h"

namespace hl::js {

using emscripten::typed_memory_view;

val failure(const std::string& message) {
  val result = val::object();
  result.set("ok", false);
  result.set("error", message);
  return result;
}

val success() {
  val result = val::object();
  result.set("ok", true);
  return result;
}

void set_config_fields(val& result, const hl::ModelConfig& config) {
  result.set("n_layer", config.n_layer);
  result.set("n_head", config.n_head);
  result.set("n_embd", config.n_embd);
  result.set("n_positions", config.n_positions);
  result.set("vocab_size", config.vocab_size);
  result.set("attn_only", config.attn_only);
}

val head_type_scores_to_js(const hl::HeadTypeScores& s) {
  val out = val::object();
  out.set("previous_token", s.previous_token);
  out.set("first_token", s.first_token);
  out.set("duplicate_token", s.duplicate_token);
  out.set("induction", s.induction);
  out.set("local", s.local);
  out.set("entropy", s.entropy);
  return out;
}

val strings_to_js(const std::vector<std::string>& strings) {
  val array = val::array();
  for (size_t i = 0; i < strings.size(); ++i) array.set(static_cast<unsigned>(i), strings[i]);
  return array;
}

val token_strings(const hl::Model& model, const std::vector<int>& ids) {
  std::vector<std::string> tokens(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) tokens[i] = hl::token_display(model, ids[i]);
  return strings_to_js(tokens);
}

val utf8_to_js(const std::string& bytes) {
  const val view(typed_memory_view(bytes.size(), reinterpret_cast<const uint8_t*>(bytes.data())));
  return val::global("TextDecoder").new_(std::string("utf-8")).call<val>("decode", view);
}

bool is_a(const val& value, const char* ctor) { return value.instanceof (val::global(ctor)); }

size_t js_length(const val& array_like, const char* what) {
  const val length = array_like["length"];
  if (!length.isNumber()) throw hl::Error(std::string(what) + " must be an array or typed array");
  const double n = length.as<double>();
  if (n < 0) throw hl::Error(std::string(what) + " has a negative length");
  return static_cast<size_t>(n);
}

std::vector<int> ids_from_js(const val& ids_js) {
  std::vector<int> ids(js_length(ids_js, "ids"));
  if (!ids.empty()) val(typed_memory_view(ids.size(), ids.data())).call<void>("set", ids_js);
  return ids;
}

std::vector<float> floats_from_js(const val& values_js, const char* what) {
  std::vector<float> values(js_length(values_js, what));
  if (!values.empty()) val(typed_memory_view(values.size(), values.data())).call<void>("set", values_js);
  return values;
}

std::vector<int> head_flags_from_js(const val& flags_js, const hl::ModelConfig& config,
                                    const char* what) {
  const size_t n = static_cast<size_t>(config.n_layer) * config.n_head;
  if (js_length(flags_js, what) != n) {
    throw hl::Error("expected " + std::to_string(n) + " " + what + " (L x H)");
  }
  std::vector<int> flags(n);
  val(typed_memory_view(n, flags.data())).call<void>("set", flags_js);
  return flags;
}

}  // namespace hl::js
