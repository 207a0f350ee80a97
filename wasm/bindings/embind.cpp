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
#include "run_compare.h"

namespace {

using emscripten::val;
using hl::js::copy_to_js;
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

// hl::compare_head_runs: one head's attention in run A (T_a, T_a) on ids_a
// and in run B (T_b, T_b) on ids_b, aligned by position over T =
// min(T_a, T_b); the `top` largest |B - A| named. Fields: headlight-wasm.d.ts
// RunComparisonResult. A free function: the two patterns may come from two
// engines (two models).
val compare_attention(val a_js, val ids_a_js, val b_js, val ids_b_js, int top) {
  return guarded("compareAttention", [&] {
    const std::vector<float> a = floats_from_js(a_js, "attention A");
    const std::vector<float> b = floats_from_js(b_js, "attention B");
    const std::vector<int> ids_a = hl::js::ids_from_js(ids_a_js);
    const std::vector<int> ids_b = hl::js::ids_from_js(ids_b_js);
    if (a.size() != ids_a.size() * ids_a.size() || b.size() != ids_b.size() * ids_b.size()) {
      throw hl::Error("expected (T, T) patterns: " + std::to_string(a.size()) + " values for " +
                      std::to_string(ids_a.size()) + " tokens in A, " + std::to_string(b.size()) +
                      " for " + std::to_string(ids_b.size()) + " in B");
    }
    const hl::RunComparison c = hl::compare_head_runs(a.data(), ids_a, b.data(), ids_b, top);
    std::vector<int> query, key;
    std::vector<float> value;
    for (const hl::AttentionDifference& d : c.largest) {
      query.push_back(d.query);
      key.push_back(d.key);
      value.push_back(d.value);
    }
    val result = success();
    result.set("T_a", c.T_a);
    result.set("T_b", c.T_b);
    result.set("T", c.T);
    result.set("diff", copy_to_js("Float32Array", c.diff.data(), c.diff.size()));  // (T, T)
    result.set("total_variation",
               copy_to_js("Float32Array", c.total_variation.data(), c.total_variation.size()));
    result.set("js_distance", copy_to_js("Float32Array", c.js_distance.data(), c.js_distance.size()));
    result.set("scores_a", hl::js::head_type_scores_to_js(c.scores_a));
    result.set("scores_b", hl::js::head_type_scores_to_js(c.scores_b));
    result.set("largest_query", copy_to_js("Int32Array", query.data(), query.size()));  // (N)
    result.set("largest_key", copy_to_js("Int32Array", key.data(), key.size()));
    result.set("largest_value", copy_to_js("Float32Array", value.data(), value.size()));
    result.set("max_abs", c.max_abs);
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
      .function("copyingStep", &hl::js::JsEngine::copyingStep)
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
      .function("syntaxStart", &hl::js::JsEngine::syntaxStart)
      .function("syntaxStep", &hl::js::JsEngine::syntaxStep)
      .function("pathPatch", &hl::js::JsEngine::pathPatch)
      .function("headAttention", &hl::js::JsEngine::headAttention)
      .function("finetuneStart", &hl::js::JsEngine::finetuneStart)
      .function("finetuneStep", &hl::js::JsEngine::finetuneStep)
      .function("finetuneFinish", &hl::js::JsEngine::finetuneFinish)
      .function("finetuneCancel", &hl::js::JsEngine::finetuneCancel)
      .function("modelFiles", &hl::js::JsEngine::modelFiles)
      .function("decode", &hl::js::JsEngine::decode);
  emscripten::function("memoryBytes", &memory_bytes);
  emscripten::function("estimateMemory", &estimate_memory);
  emscripten::function("spearmanRho", &rank_correlation);
  emscripten::function("compareAttention", &compare_attention);
}
