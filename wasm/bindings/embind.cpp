// The JS surface of the engine (web/src/engine/headlight-wasm.d.ts): the
// Engine class (JsEngine, js_engine.h, its methods by group in
// js_engine_*.cpp) and three free functions, bound to their JS names here.
// Values cross the boundary by js_values.h's rules: { ok, ... } results,
// errors as messages, typed arrays as copies. With bench_embind.cpp (the
// kernels for bench/gemm.mjs), these are the only files of the project that
// include <emscripten/...>.
#include <emscripten/bind.h>
#include <emscripten/heap.h>
#include <emscripten/val.h>

#include <string>

#include "config.h"
#include "engine.h"
#include "error.h"
#include "importance.h"
#include "js_engine.h"
#include "js_values.h"

namespace {

using emscripten::val;
using hl::js::floats_from_js;
using hl::js::guarded;
using hl::js::set_config_fields;
using hl::js::success;

// Bytes of wasm linear memory. Memory only grows, so this is also the peak.
double memory_bytes() { return static_cast<double>(emscripten_get_heap_size()); }

// hl::spearman_rho of two arrays of the same length >= 2 (NaN when either
// is constant): how well one order of the heads (the gradient's) matches
// another (an exact scan's).
val rank_correlation(val a_js, val b_js) {
  return guarded("spearmanRho", [&] {
    val result = success();
    result.set("rho", hl::spearman_rho(floats_from_js(a_js, "a"), floats_from_js(b_js, "b")));
    return result;
  });
}

// Checks config.json with the engine's own parser and estimates the memory
// that loading it from a safetensors file of safetensors_bytes and running it
// would take (hl::estimate_memory), without allocating anything of that size:
// the page calls this before it reads the weights.
val estimate_memory(const std::string& config_json, double safetensors_bytes) {
  return guarded("estimateMemory", [&] {
    hl::ModelConfig config;
    try {
      config = hl::parse_config(config_json);
    } catch (const std::exception& e) {
      const std::string what = e.what();
      throw hl::Error(what.rfind("config.json", 0) == 0 ? what : "config.json: " + what);
    }
    if (!(safetensors_bytes >= 0)) throw hl::Error("model.safetensors size must be >= 0");
    const hl::MemoryEstimate e = hl::estimate_memory(config, safetensors_bytes);
    val result = success();
    set_config_fields(result, config);
    result.set("n_params", e.n_params);
    result.set("file_bytes", e.file_bytes);
    result.set("weights_bytes", e.weights_bytes);
    result.set("packed_bytes", e.packed_bytes);
    result.set("session_bytes", e.session_bytes);
    result.set("trace_bytes", e.trace_bytes);
    result.set("peak_bytes", e.peak_bytes);
    return result;
  });
}

}  // namespace

EMSCRIPTEN_BINDINGS(headlight) {
  emscripten::class_<hl::js::JsEngine>("Engine")
      .constructor<>()
      .function("loadModel", &hl::js::JsEngine::loadModel)
      .function("tokenize", &hl::js::JsEngine::tokenize)
      .function("tokenizePrefix", &hl::js::JsEngine::tokenizePrefix)
      .function("run", &hl::js::JsEngine::run)
      .function("runWithBaseline", &hl::js::JsEngine::runWithBaseline)
      .function("setHeadGain", &hl::js::JsEngine::setHeadGain)
      .function("setHeadGains", &hl::js::JsEngine::setHeadGains)
      .function("clearHeadGains", &hl::js::JsEngine::clearHeadGains)
      .function("setHeadMeans", &hl::js::JsEngine::setHeadMeans)
      .function("setHeadPatches", &hl::js::JsEngine::setHeadPatches)
      .function("headTypeScores", &hl::js::JsEngine::headTypeScores)
      .function("update", &hl::js::JsEngine::update)
      .function("updateAt", &hl::js::JsEngine::updateAt)
      .function("finishUpdate", &hl::js::JsEngine::finishUpdate)
      .function("getTrace", &hl::js::JsEngine::getTrace)
      .function("getTraceWithoutAttention", &hl::js::JsEngine::getTraceWithoutAttention)
      .function("getBaseline", &hl::js::JsEngine::getBaseline)
      .function("holdAttention", &hl::js::JsEngine::holdAttention)
      .function("attentionChangedFrom", &hl::js::JsEngine::attentionChangedFrom)
      .function("getAttention", &hl::js::JsEngine::getAttention)
      .function("getLogits", &hl::js::JsEngine::getLogits)
      .function("gradientImportance", &hl::js::JsEngine::gradientImportance)
      .function("editedGradientImportance", &hl::js::JsEngine::editedGradientImportance)
      .function("copyingScores", &hl::js::JsEngine::copyingScores)
      .function("attentionSimilarity", &hl::js::JsEngine::attentionSimilarity)
      .function("logitLens", &hl::js::JsEngine::logitLens)
      .function("headArithmetic", &hl::js::JsEngine::headArithmetic)
      .function("composition", &hl::js::JsEngine::composition)
      .function("ablationScan", &hl::js::JsEngine::ablationScan)
      .function("ablationScanPart", &hl::js::JsEngine::ablationScanPart)
      .function("pruningCurve", &hl::js::JsEngine::pruningCurve)
      .function("pruningStart", &hl::js::JsEngine::pruningStart)
      .function("pruningStep", &hl::js::JsEngine::pruningStep)
      .function("patch", &hl::js::JsEngine::patch)
      .function("syntaxProbe", &hl::js::JsEngine::syntaxProbe)
      .function("pathPatch", &hl::js::JsEngine::pathPatch)
      .function("decode", &hl::js::JsEngine::decode);
  emscripten::function("memoryBytes", &memory_bytes);
  emscripten::function("estimateMemory", &estimate_memory);
  emscripten::function("spearmanRho", &rank_correlation);
}
