// JsEngine (js_engine.h): loading, tokenizing, running and reading the trace.
#include "js_engine.h"

#include <cstdint>
#include <memory>
#include <new>

#include "js_values.h"
#include "engine.h"
#include "model.h"

namespace hl::js {

using emscripten::typed_memory_view;

val JsEngine::loadModel(const std::string& config_json, val safetensors_js, const std::string& vocab_json,
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

val JsEngine::tokenize(const std::string& text) {
  return guarded("tokenize", [&] {
    const std::vector<int> ids = loaded().model().tokenizer.encode(text);
    val result = success();
    result.set("ids", copy_to_js("Int32Array", ids.data(), ids.size()));
    return result;
  });
}

val JsEngine::tokenizePrefix(const std::string& text, int max_tokens) {
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

val JsEngine::run(val ids_js, int top_k) {
  return guarded("run", [&] {
    loaded().run(ids_from_js(ids_js), top_k);
    return success();
  });
}

val JsEngine::runWithBaseline(val ids_js, int top_k) {
  return guarded("runWithBaseline", [&] {
    const int from_layer = loaded().run_with_baseline(ids_from_js(ids_js), top_k);
    val result = success();
    result.set("from_layer", from_layer);
    return result;
  });
}

val JsEngine::update() {
  return guarded("update", [&] {
    const int from_layer = loaded().update();
    val result = success();
    result.set("from_layer", from_layer);
    return result;
  });
}

val JsEngine::updateAt(int position) {
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

val JsEngine::finishUpdate() {
  return guarded("finishUpdate", [&] {
    loaded().finish_update();
    return success();
  });
}

val JsEngine::getTrace() {
  return guarded("getTrace", [&] { return trace_result(/*with_attention=*/true); });
}

val JsEngine::getTraceWithoutAttention() {
  return guarded("getTraceWithoutAttention",
                 [&] { return trace_result(/*with_attention=*/false); });
}

val JsEngine::getBaseline() {
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
    result.set("top_k_tokens", token_strings(engine.model(), b.top_k_ids));
    return result;
  });
}

val JsEngine::holdAttention() {
  return guarded("holdAttention", [&] {
    loaded().hold_attention();
    return success();
  });
}

val JsEngine::attentionChangedFrom() {
  return guarded("attentionChangedFrom", [&] {
    val result = success();
    result.set("from_layer", loaded().attention_changed_from());
    return result;
  });
}

val JsEngine::getAttention(int layer) {
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

val JsEngine::getLogits() {
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

val JsEngine::decode(val ids_js) {
  return guarded("decode", [&] {
    const std::string text = loaded().model().tokenizer.decode(ids_from_js(ids_js));
    val result = success();
    result.set("text", utf8_to_js(text));
    return result;
  });
}

val JsEngine::trace_result(bool with_attention) {
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
  result.set("tokens", token_strings(engine.model(), trace.ids));
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
  result.set("top_k_tokens", token_strings(engine.model(), trace.top_k_ids));
  // (L, H)
  const std::vector<float>& gains = engine.head_gains();
  result.set("gains", copy_to_js("Float32Array", gains.data(), gains.size()));
  if (engine.has_baseline()) {
    const std::vector<float> probs = engine.baseline_probs_of_top_k();
    result.set("baseline_probs_of_top_k", copy_to_js("Float32Array", probs.data(), probs.size()));
  }
  return result;
}

val JsEngine::model_info() const {
  const hl::Model& model = engine_->model();
  val result = success();
  set_config_fields(result, model.config);
  result.set("n_params", static_cast<double>(model.weights.num_parameters()));
  return result;
}

}  // namespace hl::js
