// The JS surface of the engine (web/src/engine/headlight-wasm.d.ts): one
// Engine object per worker that owns an hl::Engine (model and session).
//
// Every method returns a plain object, { ok: true, ... } or
// { ok: false, error }: C++ exceptions never cross into JS as raw pointers.
// Typed arrays handed to JS are fresh copies, not views into wasm memory,
// because a view goes stale (detached) the next time memory grows.
// Policy lives in hl::Engine (wasm/core/engine.h); this file only forwards.
// With bench_embind.cpp (the kernels for bench/gemm.mjs), the only files of
// the project that include <emscripten/...>.
#include <emscripten/bind.h>
#include <emscripten/heap.h>
#include <emscripten/val.h>

#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "attribution.h"
#include "ablation.h"
#include "composition.h"
#include "config.h"
#include "engine.h"
#include "error.h"
#include "head_arithmetic.h"
#include "head_types.h"
#include "importance.h"
#include "lens.h"
#include "model.h"
#include "similarity.h"
#include "syntax.h"

using emscripten::typed_memory_view;
using emscripten::val;

namespace {

val failure(const std::string& message) {
  val result = val::object();
  result.set("ok", false);
  result.set("error", message);
  return result;
}

// The model shape fields of config.json, as the page reads them.
void set_config_fields(val& result, const hl::ModelConfig& config) {
  result.set("n_layer", config.n_layer);
  result.set("n_head", config.n_head);
  result.set("n_embd", config.n_embd);
  result.set("n_positions", config.n_positions);
  result.set("vocab_size", config.vocab_size);
  result.set("attn_only", config.attn_only);
}

val success() {
  val result = val::object();
  result.set("ok", true);
  return result;
}

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
  if (n > 0) array.call<void>("set", val(typed_memory_view(n, data)));
  return array;
}

val strings_to_js(const std::vector<std::string>& strings) {
  val array = val::array();
  for (size_t i = 0; i < strings.size(); ++i) array.set(static_cast<unsigned>(i), strings[i]);
  return array;
}

// A JS string from bytes that may not be valid UTF-8 (ids cut inside a
// character): TextDecoder shows such bytes as U+FFFD, where Embind's
// std::string conversion would not check them.
val utf8_to_js(const std::string& bytes) {
  const val view(typed_memory_view(bytes.size(), reinterpret_cast<const uint8_t*>(bytes.data())));
  return val::global("TextDecoder").new_(std::string("utf-8")).call<val>("decode", view);
}

// value instanceof globalThis[ctor]
bool is_a(const val& value, const char* ctor) { return value.instanceof (val::global(ctor)); }

// Number of elements of a JS array-like (Array, typed array); throws if the
// value has no numeric length.
size_t js_length(const val& array_like, const char* what) {
  const val length = array_like["length"];
  if (!length.isNumber()) throw hl::Error(std::string(what) + " must be an array or typed array");
  const double n = length.as<double>();
  if (n < 0) throw hl::Error(std::string(what) + " has a negative length");
  return static_cast<size_t>(n);
}

// Copies a JS array of integers (Int32Array preferred) into C++. Going
// through TypedArray.set is one bulk copy instead of one call per element.
std::vector<int> ids_from_js(const val& ids_js) {
  std::vector<int> ids(js_length(ids_js, "ids"));
  if (!ids.empty()) val(typed_memory_view(ids.size(), ids.data())).call<void>("set", ids_js);
  return ids;
}

// Copies a JS array of numbers (Float32Array preferred) into C++, as ids_from_js.
std::vector<float> floats_from_js(const val& values_js, const char* what) {
  std::vector<float> values(js_length(values_js, what));
  if (!values.empty()) val(typed_memory_view(values.size(), values.data())).call<void>("set", values_js);
  return values;
}

// One int per head of config (L x H, l * H + h) from a JS array; `what`
// names them in the error for a wrong count.
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

// An hl::AblationScan as the fields of headlight-wasm.d.ts AblationScanResult.
val scan_to_js(const hl::AblationScan& scan) {
  val result = success();
  result.set("mode", std::string(hl::ablation_mode_name(scan.mode)));
  result.set("position", scan.position);
  result.set("mean_loss", scan.mean_loss);
  result.set("logprob", scan.logprob);
  result.set("delta_mean_loss",
             copy_to_js("Float32Array", scan.delta_mean_loss.data(), scan.delta_mean_loss.size()));
  result.set("delta_logprob",
             copy_to_js("Float32Array", scan.delta_logprob.data(), scan.delta_logprob.size()));
  return result;
}

// The JS face of hl::Engine: each method forwards one call, copies what it
// returns into JS-owned arrays and turns C++ errors into messages. Policy
// (top-k, the baseline, what a rerun changed) is hl::Engine's.
class JsEngine {
 public:
  // Parses and checks all four files into a new Model; the loaded model and
  // engine are replaced only once that succeeded, so a bad file leaves the
  // previous model working.
  val loadModel(const std::string& config_json, val safetensors_js, const std::string& vocab_json,
                const std::string& merges_txt) {
    return guarded("loadModel", [&] {
      if (is_a(safetensors_js, "ArrayBuffer")) {
        safetensors_js = val::global("Uint8Array").new_(safetensors_js);
      }
      if (!is_a(safetensors_js, "Uint8Array")) {
        throw hl::Error("model.safetensors must be given as a Uint8Array");
      }
      const size_t n_bytes = js_length(safetensors_js, "model.safetensors");
      std::unique_ptr<hl::UnpackedModel> unpacked;
      {
        // The file bytes are needed only while the weights are converted into
        // the model's own f32 block; new[] skips zero-filling hundreds of MB.
        std::unique_ptr<uint8_t[]> bytes(new uint8_t[n_bytes > 0 ? n_bytes : 1]);
        if (n_bytes > 0) {
          val(typed_memory_view(n_bytes, bytes.get())).call<void>("set", safetensors_js);
        }
        unpacked = std::make_unique<hl::UnpackedModel>(
            hl::read_model(config_json, bytes.get(), n_bytes, vocab_json, merges_txt));
      }
      // The file bytes are freed above, before packing: the packed copies
      // (as large again) reuse that memory instead of growing the heap
      // (GPT-2 small: peak 1532 MB -> about 1000 MB).
      std::shared_ptr<const hl::Model> model = hl::pack_model(std::move(*unpacked));
      unpacked.reset();
      // Swap in the new engine; the previous one and its model are freed here.
      engine_ = std::make_unique<hl::Engine>(model);
      model_ = std::move(model);
      return model_info();
    });
  }

  val tokenize(const std::string& text) {
    return guarded("tokenize", [&] {
      const std::vector<int> ids = loaded().model().tokenizer.encode(text);
      val result = success();
      result.set("ids", copy_to_js("Int32Array", ids.data(), ids.size()));
      return result;
    });
  }

  // The first max_tokens ids of the text and whether they are all of it
  // (Tokenizer::encode_prefix): the page tokenizes a paste as far as it
  // counts, not whole.
  val tokenizePrefix(const std::string& text, int max_tokens) {
    return guarded("tokenizePrefix", [&] {
      if (max_tokens < 1) throw hl::Error("maxTokens must be at least 1, got " + std::to_string(max_tokens));
      bool complete = true;
      const std::vector<int> ids =
          loaded().model().tokenizer.encode_prefix(text, static_cast<size_t>(max_tokens), &complete);
      val result = success();
      result.set("ids", copy_to_js("Int32Array", ids.data(), ids.size()));
      result.set("complete", complete);
      return result;
    });
  }

  val run(val ids_js, int top_k) {
    return guarded("run", [&] {
      loaded().run(ids_from_js(ids_js), top_k);
      return success();
    });
  }

  val runWithBaseline(val ids_js, int top_k) {
    return guarded("runWithBaseline", [&] {
      const int from_layer = loaded().run_with_baseline(ids_from_js(ids_js), top_k);
      val result = success();
      result.set("from_layer", from_layer);
      return result;
    });
  }

  val setHeadGain(int layer, int head, float gain) {
    return guarded("setHeadGain", [&] {
      loaded().set_head_gain(layer, head, gain);
      return success();
    });
  }

  val setHeadGains(val gains_js) {
    return guarded("setHeadGains", [&] {
      const std::vector<float> gains = floats_from_js(gains_js, "gains");
      loaded().set_head_gains(gains.data(), gains.size());
      return success();
    });
  }

  val clearHeadGains() {
    return guarded("clearHeadGains", [&] {
      loaded().clear_head_gains();
      return success();
    });
  }

  // Mean ablation as the page holds it: flags (L x H, nonzero = the head's z
  // replaced by its mean over ids, computed by the unedited model). Only the
  // heads whose edit changes are touched (a replaced z reruns from its layer),
  // and every mean is taken again when ids differ from the last ones.
  val setHeadMeans(val flags_js, val ids_js) {
    return guarded("setHeadMeans", [&] {
      hl::Engine& engine = loaded();
      const hl::ModelConfig& config = engine.model().config;
      const std::vector<int> flags = head_flags_from_js(flags_js, config, "mean flags");
      const size_t n = flags.size();
      const std::vector<int> ids = ids_from_js(ids_js);
      const bool same_ids = ids == mean_ids_;
      for (size_t i = 0; i < n; ++i) {
        const int layer = static_cast<int>(i) / config.n_head, head = static_cast<int>(i) % config.n_head;
        const bool has = !engine.head_edits().z[i].empty();
        if (flags[i] != 0 && (!has || !same_ids)) engine.set_head_mean(layer, head, ids);
        if (flags[i] == 0 && has) engine.clear_head_z(layer, head);
      }
      mean_ids_ = ids;
      return success();
    });
  }

  // Activation patching as edits, for a live run: flags (L x H, nonzero =
  // the head's z at every position taken from the unedited model run on
  // other_ids, Engine::set_head_resample); every other head's replaced z
  // (a patch or a mean) is cleared. The next setHeadMeans takes its means
  // again (mean_ids_ forgotten), so no patch is kept as a mean.
  val setHeadPatches(val flags_js, val other_ids_js) {
    return guarded("setHeadPatches", [&] {
      hl::Engine& engine = loaded();
      const hl::ModelConfig& config = engine.model().config;
      const std::vector<int> flags = head_flags_from_js(flags_js, loaded().model().config, "patch flags");
      const size_t n = flags.size();
      const std::vector<int> other_ids = ids_from_js(other_ids_js);
      for (size_t i = 0; i < n; ++i) {
        const int layer = static_cast<int>(i) / config.n_head, head = static_cast<int>(i) % config.n_head;
        if (flags[i] != 0) engine.set_head_resample(layer, head, other_ids);
        else if (!engine.head_edits().z[i].empty()) engine.clear_head_z(layer, head);
      }
      mean_ids_.clear();
      return success();
    });
  }

  // The head-type scores (wasm/core/head_types.h) of every head on the
  // current trace's attention: six Float32Array [L x H] (l * H + h), each
  // head's type ("previous_token", ..., "local", "none") at the threshold,
  // and the threshold. Costs L * H * T^2.
  val headTypeScores() {
    return guarded("headTypeScores", [&] {
      hl::Engine& engine = loaded();
      const hl::Trace& trace = engine.trace();
      const hl::ModelConfig& config = engine.model().config;
      const std::vector<hl::HeadTypeScores> scores =
          hl::head_type_scores_all(trace.attn_probs.data(), config.n_layer, config.n_head, trace.ids);
      const size_t n = scores.size();
      std::vector<float> prev(n), first(n), dup(n), ind(n), local(n), entropy(n);
      std::vector<std::string> types(n);
      for (size_t i = 0; i < n; ++i) {
        prev[i] = scores[i].previous_token;
        first[i] = scores[i].first_token;
        dup[i] = scores[i].duplicate_token;
        ind[i] = scores[i].induction;
        local[i] = scores[i].local;
        entropy[i] = scores[i].entropy;
        types[i] = hl::head_type(scores[i]);
      }
      val result = success();
      result.set("previous_token", copy_to_js("Float32Array", prev.data(), n));
      result.set("first_token", copy_to_js("Float32Array", first.data(), n));
      result.set("duplicate_token", copy_to_js("Float32Array", dup.data(), n));
      result.set("induction", copy_to_js("Float32Array", ind.data(), n));
      result.set("local", copy_to_js("Float32Array", local.data(), n));
      result.set("entropy", copy_to_js("Float32Array", entropy.data(), n));
      result.set("types", strings_to_js(types));
      result.set("threshold", hl::kHeadTypeThreshold);
      return result;
    });
  }

  val update() {
    return guarded("update", [&] {
      const int from_layer = loaded().update();
      val result = success();
      result.set("from_layer", from_layer);
      return result;
    });
  }

  // hl::Engine::update_at: position -1 = the last. See headlight-wasm.d.ts
  // PositionPredictions for the fields.
  val updateAt(int position) {
    return guarded("updateAt", [&] {
      hl::Engine& engine = loaded();
      const hl::PositionPredictions p = engine.update_at(position);
      const size_t K = p.top_k_ids.size();
      std::vector<std::string> top_k_tokens(K);
      for (size_t k = 0; k < K; ++k) top_k_tokens[k] = hl::token_display(engine.model(), p.top_k_ids[k]);
      val result = success();
      result.set("from_layer", p.from_layer);
      result.set("position", p.position);
      result.set("top_k_ids", copy_to_js("Int32Array", p.top_k_ids.data(), K));
      result.set("top_k_probs", copy_to_js("Float32Array", p.top_k_probs.data(), K));
      result.set("top_k_tokens", strings_to_js(top_k_tokens));
      result.set("loss", p.loss);
      if (p.has_baseline) {
        result.set("baseline_loss", p.baseline_loss);
        result.set("baseline_probs", copy_to_js("Float32Array", p.baseline_probs.data(), K));
      }
      return result;
    });
  }

  // The second phase: the LM head at every other position and the mean loss.
  val finishUpdate() {
    return guarded("finishUpdate", [&] {
      loaded().finish_update();
      return success();
    });
  }

  val getTrace() {
    return guarded("getTrace", [&] { return trace_result(/*with_attention=*/true); });
  }

  // getTrace without attn: for large models (GPT-2 at 1024 tokens has 604 MB
  // of attention) the caller fetches attention one layer at a time.
  val getTraceWithoutAttention() {
    return guarded("getTraceWithoutAttention",
                   [&] { return trace_result(/*with_attention=*/false); });
  }

  // The unedited model of the last runWithBaseline (hl::Baseline) without
  // its logits: loss (T), mean_loss, top_k_ids / top_k_probs / top_k_tokens (T, K).
  val getBaseline() {
    return guarded("getBaseline", [&] {
      hl::Engine& engine = loaded();
      const hl::Baseline& b = engine.baseline();
      val result = success();
      result.set("T", b.T);
      result.set("top_k", b.top_k);
      result.set("loss", copy_to_js("Float32Array", b.token_loss.data(), b.token_loss.size()));
      result.set("mean_loss", b.mean_loss);
      result.set("top_k_ids", copy_to_js("Int32Array", b.top_k_ids.data(), b.top_k_ids.size()));
      result.set("top_k_probs",
                 copy_to_js("Float32Array", b.top_k_probs.data(), b.top_k_probs.size()));
      result.set("top_k_tokens", display_strings(engine.model(), b.top_k_ids));
      return result;
    });
  }

  // hl::Engine::hold_attention / attention_changed_from.
  val holdAttention() {
    return guarded("holdAttention", [&] {
      loaded().hold_attention();
      return success();
    });
  }

  val attentionChangedFrom() {
    return guarded("attentionChangedFrom", [&] {
      val result = success();
      result.set("from_layer", loaded().attention_changed_from());
      return result;
    });
  }

  // Attention probabilities of one layer, (H, T, T): query rows, key columns.
  val getAttention(int layer) {
    return guarded("getAttention", [&] {
      hl::Engine& engine = loaded();
      const int L = engine.model().config.n_layer;
      if (engine.has_trace() && (layer < 0 || layer >= L)) {
        throw hl::Error("layer " + std::to_string(layer) + " is outside 0.." +
                        std::to_string(L - 1));
      }
      const hl::Trace& trace = engine.trace();
      const int H = engine.model().config.n_head;
      const size_t per_layer = static_cast<size_t>(H) * trace.T * trace.T;
      val result = success();
      result.set("layer", layer);
      result.set("n_head", H);
      result.set("T", trace.T);
      result.set("attn", copy_to_js("Float32Array", trace.attn_probs.data() + layer * per_layer,
                                    per_layer));
      return result;
    });
  }

  // Logits for every position, (T, V). Separate from getTrace because it is
  // large (T x 50257 floats for GPT-2) and the page rarely needs it.
  val getLogits() {
    return guarded("getLogits", [&] {
      hl::Engine& engine = loaded();
      const hl::Trace& trace = engine.trace();
      val result = success();
      result.set("T", trace.T);
      result.set("vocab_size", engine.model().config.vocab_size);
      result.set("logits", copy_to_js("Float32Array", trace.logits.data(), trace.logits.size()));
      return result;
    });
  }

  // hl::gradient_importance: d mean loss / d gain (L, H) on ids at gains (L, H).
  val gradientImportance(val ids_js, val gains_js) {
    return guarded("gradientImportance", [&] {
      const hl::Model& model = loaded().model();
      const std::vector<float> gains = floats_from_js(gains_js, "gains");
      const std::vector<float> grad = hl::gradient_importance(model, ids_from_js(ids_js), gains);
      val result = success();
      result.set("n_layer", model.config.n_layer);
      result.set("n_head", model.config.n_head);
      result.set("gradient", copy_to_js("Float32Array", grad.data(), grad.size()));
      return result;
    });
  }

  // hl::Engine::ablation_scan: every head ablated alone ("zero" or "mean",
  // the mean over the current text) on top of the current edits; position
  // -1 = T - 2. delta_mean_loss, delta_logprob: (L, H).
  val ablationScan(const std::string& mode, int position) {
    return guarded("ablationScan", [&] {
      return scan_to_js(loaded().ablation_scan(hl::parse_ablation_mode(mode), position, {}));
    });
  }

  // ablationScan of the heads whose skip flag (L x H) is 0 only, the others
  // NaN: the same figures, bit for bit, as the whole scan's. The page's
  // worker scans a layer at a time, so it can report progress and stop.
  val ablationScanPart(const std::string& mode, int position, val skip_js) {
    return guarded("ablationScanPart", [&] {
      hl::Engine& engine = loaded();
      const std::vector<int> flags = head_flags_from_js(skip_js, engine.model().config, "skip flags");
      std::vector<char> skip(flags.size());
      for (size_t i = 0; i < flags.size(); ++i) skip[i] = flags[i] != 0;
      return scan_to_js(engine.ablation_scan(hl::parse_ablation_mode(mode), position, {}, skip));
    });
  }

  // hl::attention_similarity of the heads of the engine's trace (L*H, L*H).
  val attentionSimilarity() {
    return guarded("attentionSimilarity", [&] {
      hl::Engine& engine = loaded();
      const hl::Trace& trace = engine.trace();
      const hl::ModelConfig& config = engine.model().config;
      const std::vector<float> similarity = hl::attention_similarity(
          trace.attn_probs.data(), config.n_layer, config.n_head, trace.T);
      val result = success();
      result.set("n_heads", config.n_layer * config.n_head);
      result.set("T", trace.T);
      result.set("similarity", copy_to_js("Float32Array", similarity.data(), similarity.size()));
      return result;
    });
  }

  // hl::Engine::pruning_curve on the current text, from the unedited model:
  // order / random_order (L * H) heads as l * H + h, mean_loss /
  // random_mean_loss (L * H + 1).
  val pruningCurve(const std::string& mode, int rescan_every, double seed) {
    return guarded("pruningCurve", [&] {
      hl::PruningOptions options;
      options.mode = hl::parse_ablation_mode(mode);
      options.rescan_every = rescan_every;
      if (!(seed >= 0 && seed <= 9007199254740991.0)) {
        throw hl::Error("seed must be a whole number >= 0");
      }
      options.seed = static_cast<uint64_t>(seed);
      const hl::PruningCurve curve = loaded().pruning_curve(options, {});
      val result = success();
      result.set("mode", std::string(hl::ablation_mode_name(curve.mode)));
      result.set("rescan_every", curve.rescan_every);
      result.set("order", copy_to_js("Int32Array", curve.order.data(), curve.order.size()));
      result.set("mean_loss",
                 copy_to_js("Float32Array", curve.mean_loss.data(), curve.mean_loss.size()));
      result.set("random_order",
                 copy_to_js("Int32Array", curve.random_order.data(), curve.random_order.size()));
      result.set("random_mean_loss", copy_to_js("Float32Array", curve.random_mean_loss.data(),
                                                curve.random_mean_loss.size()));
      return result;
    });
  }

  // hl::Engine::activation_patching between two texts' ids (the same count)
  // on logit(answer) - logit(foil) at the last position, unedited model;
  // maps: "head_z", "residual", "both" or "head_z_pos" (each head at each
  // position, L * H * T runs; a map not asked for is empty).
  // Fields: headlight-wasm.d.ts PatchingResult.
  val patch(val clean_ids_js, val corrupted_ids_js, int answer, int foil, const std::string& maps) {
    return guarded("patch", [&] {
      if (maps != "head_z" && maps != "residual" && maps != "both" && maps != "head_z_pos") {
        throw hl::Error("unknown maps '" + maps +
                        "' (expected head_z, residual, both or head_z_pos)");
      }
      const hl::Engine& engine = loaded();
      const bool per_position = maps == "head_z_pos";
      const hl::PatchingMaps m = engine.activation_patching(
          ids_from_js(clean_ids_js), ids_from_js(corrupted_ids_js), answer, foil,
          maps == "head_z" || maps == "both", maps == "residual" || maps == "both", per_position);
      val result = success();
      result.set("n_layer", engine.model().config.n_layer);
      result.set("n_head", engine.model().config.n_head);
      result.set("T", static_cast<int>(m.clean_ids.size()));
      result.set("clean", m.clean);
      result.set("corrupted", m.corrupted);
      // (L, H) and (L+1, T): recovery, then the patched metric itself
      result.set("head_z", copy_to_js("Float32Array", m.head_z.data(), m.head_z.size()));
      result.set("residual", copy_to_js("Float32Array", m.residual.data(), m.residual.size()));
      result.set("head_z_metric",
                 copy_to_js("Float32Array", m.head_z_metric.data(), m.head_z_metric.size()));
      result.set("residual_metric",
                 copy_to_js("Float32Array", m.residual_metric.data(), m.residual_metric.size()));
      result.set("head_z_pos", copy_to_js("Float32Array", m.head_z_pos.data(), m.head_z_pos.size()));
      result.set("head_z_pos_metric", copy_to_js("Float32Array", m.head_z_pos_metric.data(),
                                                 m.head_z_pos_metric.size()));
      return result;
    });
  }

  // hl::Engine::path_patching: the sender head's clean output only into the
  // receivers' (l * H + h) inputs named by `into` (letters of "qkv").
  // Fields: headlight-wasm.d.ts PathPatchResult.
  val pathPatch(val clean_ids_js, val corrupted_ids_js, int answer, int foil, int sender_layer,
                int sender_head, val receivers_js, const std::string& into) {
    return guarded("pathPatch", [&] {
      hl::PathPatch path;
      path.sender_layer = sender_layer;
      path.sender_head = sender_head;
      path.receivers = ids_from_js(receivers_js);
      path.q = into.find('q') != std::string::npos;
      path.k = into.find('k') != std::string::npos;
      path.v = into.find('v') != std::string::npos;
      if (into.find_first_not_of("qkv") != std::string::npos) {
        throw hl::Error("unknown inputs '" + into + "' (expected letters of qkv)");
      }
      const hl::PathPatchResult r = loaded().path_patching(
          ids_from_js(clean_ids_js), ids_from_js(corrupted_ids_js), answer, foil, path);
      val result = success();
      result.set("clean", r.clean);
      result.set("corrupted", r.corrupted);
      result.set("metric", r.metric);
      result.set("recovery", r.recovery);
      return result;
    });
  }

  // hl::syntax_probe of the loaded (unedited) model on a probe file's text
  // (web/public/probes/brown-pos.json): tags (G), queries Int32Array (G);
  // share, chance_share Float32Array (L, H, G, G) = mass and chance over the
  // queries of the query tag; syntactic Uint8Array (L, H); each head's
  // counted pairs, highest ratio first, kSyntaxTopPairs (N) per head, -1 /
  // NaN past its last: top_query, top_key Int32Array and top_share,
  // top_chance_share, top_ratio Float32Array (L, H, N); the thresholds.
  val syntaxProbe(const std::string& probe_json) {
    return guarded("syntaxProbe", [&] {
      loaded();  // throws before a model is loaded
      const hl::SyntaxProbeResult r =
          hl::syntax_probe(model_, hl::parse_pos_probe(probe_json));
      const int LH = r.L * r.H, G = r.G, N = hl::kSyntaxTopPairs;
      std::vector<float> share(r.mass.size()), chance(r.mass.size());
      for (size_t i = 0; i < r.mass.size(); ++i) {
        const int n = r.queries[(i / G) % G];
        share[i] = n > 0 ? static_cast<float>(r.mass[i] / n) : 0.0f;
        chance[i] = n > 0 ? static_cast<float>(r.chance[i] / n) : 0.0f;
      }
      std::vector<uint8_t> syntactic(LH);
      std::vector<int> top_query(static_cast<size_t>(LH) * N, -1), top_key(top_query);
      const float nan = std::numeric_limits<float>::quiet_NaN();
      std::vector<float> top_share(top_query.size(), nan), top_chance(top_share), top_ratio(top_share);
      for (int i = 0; i < LH; ++i) {
        syntactic[i] = r.is_syntactic(i / r.H, i % r.H) ? 1 : 0;
        const std::vector<hl::SyntaxPair> pairs = r.top_pairs(i / r.H, i % r.H, N);
        for (size_t p = 0; p < pairs.size(); ++p) {
          const size_t at = static_cast<size_t>(i) * N + p;
          top_query[at] = pairs[p].query_tag;
          top_key[at] = pairs[p].key_tag;
          top_share[at] = static_cast<float>(pairs[p].share);
          top_chance[at] = static_cast<float>(pairs[p].chance_share);
          top_ratio[at] = static_cast<float>(pairs[p].ratio);
        }
      }
      val result = success();
      result.set("n_layer", r.L);
      result.set("n_head", r.H);
      result.set("tags", strings_to_js(r.tags));
      result.set("n_sentences", r.n_sentences);
      result.set("n_tokens", r.n_tokens);
      result.set("n_untagged", r.n_untagged);
      result.set("queries", copy_to_js("Int32Array", r.queries.data(), r.queries.size()));
      result.set("share", copy_to_js("Float32Array", share.data(), share.size()));
      result.set("chance_share", copy_to_js("Float32Array", chance.data(), chance.size()));
      result.set("syntactic", copy_to_js("Uint8Array", syntactic.data(), syntactic.size()));
      result.set("top_pairs", N);
      result.set("top_query", copy_to_js("Int32Array", top_query.data(), top_query.size()));
      result.set("top_key", copy_to_js("Int32Array", top_key.data(), top_key.size()));
      result.set("top_share", copy_to_js("Float32Array", top_share.data(), top_share.size()));
      result.set("top_chance_share", copy_to_js("Float32Array", top_chance.data(), top_chance.size()));
      result.set("top_ratio", copy_to_js("Float32Array", top_ratio.data(), top_ratio.size()));
      result.set("ratio_threshold", hl::kSyntaxRatio);
      result.set("min_share", hl::kSyntaxMinShare);
      result.set("min_queries", hl::kSyntaxMinQueries);
      return result;
    });
  }

  val decode(val ids_js) {
    return guarded("decode", [&] {
      const std::string text = loaded().model().tokenizer.decode(ids_from_js(ids_js));
      val result = success();
      result.set("text", utf8_to_js(text));
      return result;
    });
  }

  // The logit lens (hl::logit_lens) of the last pass at `position` (-1 =
  // the last) or, with all_positions, at every position; answer (-1 none)
  // adds its rank and probability; foil (-1 none) adds the direct logit
  // attribution of answer - foil at `position` with the current gains
  // (hl::direct_logit_attribution). Fields: headlight-wasm.d.ts LogitLensResult.
  val logitLens(int position, int top_k, int answer, int foil, bool all_positions) {
    return guarded("logitLens", [&] {
      hl::Engine& engine = loaded();
      const hl::Trace& trace = engine.trace();
      const int t = position == -1 ? trace.T - 1 : position;
      const std::vector<int> positions = all_positions ? std::vector<int>{} : std::vector<int>{t};
      const hl::LogitLens lens = hl::logit_lens(engine.model(), trace, top_k, answer, positions);
      val result = success();
      result.set("n_rows", lens.n_rows);
      result.set("top_k", lens.top_k);
      result.set("position", t);
      result.set("positions", copy_to_js("Int32Array", lens.positions.data(), lens.positions.size()));
      // (L+1, P, K)
      result.set("top_k_ids", copy_to_js("Int32Array", lens.top_k_ids.data(), lens.top_k_ids.size()));
      result.set("top_k_probs",
                 copy_to_js("Float32Array", lens.top_k_probs.data(), lens.top_k_probs.size()));
      result.set("top_k_tokens", display_strings(engine.model(), lens.top_k_ids));
      if (answer >= 0) {  // (L+1, P)
        result.set("answer_rank",
                   copy_to_js("Int32Array", lens.answer_rank.data(), lens.answer_rank.size()));
        result.set("answer_prob",
                   copy_to_js("Float32Array", lens.answer_prob.data(), lens.answer_prob.size()));
      }
      if (foil >= 0) {
        const hl::LogitAttribution a = hl::direct_logit_attribution(
            engine.model(), trace, engine.head_gains(), t, answer, foil);
        val dla = val::object();
        dla.set("position", a.position);
        dla.set("heads", copy_to_js("Float64Array", a.heads.data(), a.heads.size()));  // (L, H)
        dla.set("mlps", copy_to_js("Float64Array", a.mlps.data(), a.mlps.size()));     // (L)
        dla.set("embed", a.embed);
        dla.set("bias", a.bias);
        dla.set("total", a.total);
        dla.set("actual", a.actual);
        result.set("dla", dla);
      }
      return result;
    });
  }

  // One head's arithmetic (hl::head_arithmetic) at query `position` of the
  // current pass, with the current edits. Fields: headlight-wasm.d.ts
  // HeadArithmeticResult; n = position + 1 keys, D = d_head, C = n_embd.
  val headArithmetic(int layer, int head, int position) {
    return guarded("headArithmetic", [&] {
      hl::Engine& engine = loaded();
      const hl::HeadArithmetic a =
          hl::head_arithmetic(engine.model(), engine.trace(), engine.head_edits(), layer, head, position);
      val result = success();
      result.set("layer", a.layer);
      result.set("head", a.head);
      result.set("position", a.position);
      result.set("T", a.T);
      result.set("d_head", a.d_head);
      result.set("scale", a.scale);
      result.set("gain", a.gain);
      result.set("z_replaced", a.z_replaced);
      result.set("q", copy_to_js("Float32Array", a.q.data(), a.q.size()));              // (D)
      result.set("k", copy_to_js("Float32Array", a.k.data(), a.k.size()));              // (n, D)
      result.set("v", copy_to_js("Float32Array", a.v.data(), a.v.size()));              // (n, D)
      result.set("scores", copy_to_js("Float32Array", a.scores.data(), a.scores.size()));  // (n)
      result.set("scaled", copy_to_js("Float32Array", a.scaled.data(), a.scaled.size()));  // (n)
      result.set("probs", copy_to_js("Float32Array", a.probs.data(), a.probs.size()));     // (n)
      result.set("z", copy_to_js("Float32Array", a.z.data(), a.z.size()));                 // (D)
      result.set("z_used", copy_to_js("Float32Array", a.z_used.data(), a.z_used.size()));  // (D)
      result.set("output", copy_to_js("Float32Array", a.output.data(), a.output.size()));  // (C)
      result.set("key_xy", copy_to_js("Float32Array", a.key_xy.data(), a.key_xy.size()));  // (n, 2)
      result.set("query_xy", copy_to_js("Float32Array", a.query_xy.data(), a.query_xy.size()));
      return result;
    });
  }

  // The target head's attention before and after muting the source head on
  // top of the current edits (hl::composition_patterns), with both
  // patterns' head-type scores. Fields: headlight-wasm.d.ts CompositionResult.
  val composition(int source_layer, int source_head, int target_layer, int target_head) {
    return guarded("composition", [&] {
      hl::Engine& engine = loaded();
      const hl::CompositionPatterns c =
          hl::composition_patterns(engine.model(), engine.trace(), engine.head_edits(),
                                   source_layer, source_head, target_layer, target_head);
      const auto scores = [](const hl::HeadTypeScores& s) {
        val out = val::object();
        out.set("previous_token", s.previous_token);
        out.set("first_token", s.first_token);
        out.set("duplicate_token", s.duplicate_token);
        out.set("induction", s.induction);
        out.set("local", s.local);
        out.set("entropy", s.entropy);
        return out;
      };
      val result = success();
      result.set("T", c.T);
      result.set("composes", c.composes);
      result.set("before", copy_to_js("Float32Array", c.before.data(), c.before.size()));  // (T, T)
      result.set("after", copy_to_js("Float32Array", c.after.data(), c.after.size()));     // (T, T)
      result.set("before_scores", scores(c.before_scores));
      result.set("after_scores", scores(c.after_scores));
      return result;
    });
  }

 private:
  hl::Engine& loaded() const {
    if (!engine_) throw hl::Error("no model loaded: call loadModel() first");
    return *engine_;
  }

  // Display text of each id, as a JS array of strings.
  static val display_strings(const hl::Model& model, const std::vector<int>& ids) {
    std::vector<std::string> tokens(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) tokens[i] = hl::token_display(model, ids[i]);
    return strings_to_js(tokens);
  }

  // Everything getTrace returns; attn (L, H, T, T) only with_attention;
  // baseline_probs_of_top_k (T, K) while the engine has the trace's baseline.
  val trace_result(bool with_attention) {
    hl::Engine& engine = loaded();
    const hl::Trace& trace = engine.trace();
    const hl::ModelConfig& config = engine.model().config;

    val result = success();
    result.set("T", trace.T);
    result.set("n_input_tokens", trace.n_input_tokens);
    result.set("truncated", trace.truncated);
    result.set("n_layer", config.n_layer);
    result.set("n_head", config.n_head);
    result.set("top_k", trace.top_k);
    result.set("ids", copy_to_js("Int32Array", trace.ids.data(), trace.ids.size()));
    result.set("tokens", display_strings(engine.model(), trace.ids));
    // (L, H, T, T)
    if (with_attention) {
      result.set("attn",
                 copy_to_js("Float32Array", trace.attn_probs.data(), trace.attn_probs.size()));
    }
    // (T)
    result.set("loss",
               copy_to_js("Float32Array", trace.token_loss.data(), trace.token_loss.size()));
    result.set("mean_loss", trace.mean_loss);
    // (T, K)
    result.set("top_k_ids",
               copy_to_js("Int32Array", trace.top_k_ids.data(), trace.top_k_ids.size()));
    result.set("top_k_probs",
               copy_to_js("Float32Array", trace.top_k_probs.data(), trace.top_k_probs.size()));
    result.set("top_k_tokens", display_strings(engine.model(), trace.top_k_ids));
    // (L, H)
    const std::vector<float>& gains = engine.head_gains();
    result.set("gains", copy_to_js("Float32Array", gains.data(), gains.size()));
    if (engine.has_baseline()) {
      const std::vector<float> probs = engine.baseline_probs_of_top_k();
      result.set("baseline_probs_of_top_k", copy_to_js("Float32Array", probs.data(), probs.size()));
    }
    return result;
  }

  val model_info() const {
    const hl::Model& model = engine_->model();
    val result = success();
    set_config_fields(result, model.config);
    result.set("n_params", static_cast<double>(model.weights.num_parameters()));
    return result;
  }

  std::unique_ptr<hl::Engine> engine_;
  // The engine's model, for analyses that run sessions of their own (syntaxProbe).
  std::shared_ptr<const hl::Model> model_;
  std::vector<int> mean_ids_;  // the ids the mean-ablated heads' means are of
};

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
  emscripten::class_<JsEngine>("Engine")
      .constructor<>()
      .function("loadModel", &JsEngine::loadModel)
      .function("tokenize", &JsEngine::tokenize)
      .function("tokenizePrefix", &JsEngine::tokenizePrefix)
      .function("run", &JsEngine::run)
      .function("runWithBaseline", &JsEngine::runWithBaseline)
      .function("setHeadGain", &JsEngine::setHeadGain)
      .function("setHeadGains", &JsEngine::setHeadGains)
      .function("clearHeadGains", &JsEngine::clearHeadGains)
      .function("setHeadMeans", &JsEngine::setHeadMeans)
      .function("setHeadPatches", &JsEngine::setHeadPatches)
      .function("headTypeScores", &JsEngine::headTypeScores)
      .function("update", &JsEngine::update)
      .function("updateAt", &JsEngine::updateAt)
      .function("finishUpdate", &JsEngine::finishUpdate)
      .function("getTrace", &JsEngine::getTrace)
      .function("getTraceWithoutAttention", &JsEngine::getTraceWithoutAttention)
      .function("getBaseline", &JsEngine::getBaseline)
      .function("holdAttention", &JsEngine::holdAttention)
      .function("attentionChangedFrom", &JsEngine::attentionChangedFrom)
      .function("getAttention", &JsEngine::getAttention)
      .function("getLogits", &JsEngine::getLogits)
      .function("gradientImportance", &JsEngine::gradientImportance)
      .function("attentionSimilarity", &JsEngine::attentionSimilarity)
      .function("logitLens", &JsEngine::logitLens)
      .function("headArithmetic", &JsEngine::headArithmetic)
      .function("composition", &JsEngine::composition)
      .function("ablationScan", &JsEngine::ablationScan)
      .function("ablationScanPart", &JsEngine::ablationScanPart)
      .function("pruningCurve", &JsEngine::pruningCurve)
      .function("patch", &JsEngine::patch)
      .function("syntaxProbe", &JsEngine::syntaxProbe)
      .function("pathPatch", &JsEngine::pathPatch)
      .function("decode", &JsEngine::decode);
  emscripten::function("memoryBytes", &memory_bytes);
  emscripten::function("estimateMemory", &estimate_memory);
  emscripten::function("spearmanRho", &rank_correlation);
}
