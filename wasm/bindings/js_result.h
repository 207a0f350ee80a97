// How a binding answers JS: a plain object { ok: true, ... } or
// { ok: false, error } (a C++ exception would reach JS as a bare number), and
// results copied into JS-owned typed arrays (a view into wasm memory goes
// stale when the memory grows). For the bindings of the modules that include
// it (train_embind.cpp).
#pragma once
#include <emscripten/val.h>

#include <exception>
#include <new>
#include <string>

namespace hl_js {

inline emscripten::val failed(const std::string& message) {
  emscripten::val answer = emscripten::val::object();
  answer.set("ok", false);
  answer.set("error", message);
  return answer;
}

inline emscripten::val answered() {
  emscripten::val answer = emscripten::val::object();
  answer.set("ok", true);
  return answer;
}

// compute() with every exception turned into failed("method: what").
template <typename Compute>
emscripten::val answer_or_error(const char* method, Compute&& compute) {
  try {
    return compute();
  } catch (const std::bad_alloc&) {
    return failed(std::string(method) + ": out of memory (wasm memory is limited to 4 GB)");
  } catch (const std::exception& e) {
    return failed(std::string(method) + ": " + e.what());
  } catch (...) {
    return failed(std::string(method) + ": unknown C++ exception");
  }
}

// A new JS typed array (ctor names it: "Float32Array" for float) holding a
// copy of values[0..n).
template <typename T>
emscripten::val js_copy(const char* ctor, const T* values, size_t n) {
  emscripten::val array = emscripten::val::global(ctor).new_(static_cast<double>(n));
  if (n > 0) array.call<void>("set", emscripten::val(emscripten::typed_memory_view(n, values)));
  return array;
}

}  // namespace hl_js
