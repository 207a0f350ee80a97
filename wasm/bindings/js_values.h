// Values across the wasm boundary, shared by every Embind file of the
// project (the engine's, js_engine*.cpp and embind.cpp): results are plain
// objects { ok: true, ... } or { ok: false, error }, C++ exceptions never
// cross into JS as raw pointers, and typed arrays handed to JS are fresh
// copies, not views into wasm memory, because a view goes stale (detached)
// the next time memory grows.
#pragma once
#include <emscripten/val.h>

#include <cstddef>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "config.h"
#include "head_types.h"
#include "model.h"

namespace hl::js {

using emscripten::val;

val failure(const std::string& message);
val success();

// The model shape fields of config.json, as the page reads them.
void set_config_fields(val& result, const hl::ModelConfig& config);

// Runs body() and turns any exception into { ok: false, error: "method: what" }.
template <typename Body>
val guarded(const char* method, Body&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return failure(std::string(method) + ": out of memory (wasm memory is limited to 4 GB)");
  } catch (const std::exception& e) {
    return failure(std::string(method) + ": " + e.what());
  } catch (...) {
    return failure(std::string(method) + ": unknown C++ exception");
  }
}

// A JS-owned typed array holding a copy of data[0..n). ctor is the typed
// array constructor name (e.g. "Float32Array") matching T.
template <typename T>
val copy_to_js(const char* ctor, const T* data, size_t n) {
  val array = val::global(ctor).new_(static_cast<double>(n));
  if (n > 0) array.call<void>("set", val(emscripten::typed_memory_view(n, data)));
  return array;
}

// The six head-type scores (head_types.h) as { previous_token, ..., entropy }.
val head_type_scores_to_js(const hl::HeadTypeScores& s);

val strings_to_js(const std::vector<std::string>& strings);

// Display text of each id (hl::token_display), as a JS array of strings.
val token_strings(const hl::Model& model, const std::vector<int>& ids);

// A JS string from bytes that may not be valid UTF-8 (ids cut inside a
// character): TextDecoder shows such bytes as U+FFFD, where Embind's
// std::string conversion would not check them.
val utf8_to_js(const std::string& bytes);

// value instanceof globalThis[ctor]
bool is_a(const val& value, const char* ctor);

// Number of elements of a JS array-like (Array, typed array); throws if the
// value has no numeric length.
size_t js_length(const val& array_like, const char* what);

// Copies a JS array of integers (Int32Array preferred) into C++. Going
// through TypedArray.set is one bulk copy instead of one call per element.
std::vector<int> ids_from_js(const val& ids_js);

// Copies a JS array of numbers (Float32Array preferred) into C++, as ids_from_js.
std::vector<float> floats_from_js(const val& values_js, const char* what);

// One int per head of config (L x H, l * H + h) from a JS array; `what`
// names them in the error for a wrong count. The one reader of head flags
// (mean, patch and skip flags).
std::vector<int> head_flags_from_js(const val& flags_js, const hl::ModelConfig& config,
                                    const char* what);

}  // namespace hl::js
