// The JS surface of the engine (web/src/engine/headlight-wasm.d.ts): one
// Engine object per worker that owns a loaded Model and a Session.
//
// Every method returns a plain object, { ok: true, ... } or
// { ok: false, error }: C++ exceptions never cross into JS as raw pointers.
// Typed arrays handed to JS are fresh copies, not views into wasm memory,
// because a view goes stale (detached) the next time memory grows.
// This is the only file of the project that includes <emscripten/...>.
#include <emscripten/bind.h>
#include <emscripten/heap.h>
#include <emscripten/val.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "config.h"
#include "error.h"
#include "model.h"
#include "session.h"

using emscripten::typed_memory_view;
using emscripten::val;

namespace {

constexpr int kDefaultTopK = 5;

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

// Display text of a token. A checkpoint's vocab_size may exceed the
// tokenizer's (nanoGPT pads GPT-2's 50257 to 50304): those ids can still win
// a top-k and are shown as such, as the command line does.
std::string display(const hl::Model& model, int id) {
  if (id < model.tokenizer.vocab_size()) return model.tokenizer.token_display(id);
  return "<unused id " + std::to_string(id) + ">";
}

class Engine {
 public:
  // Parses and checks all four files into a new Model; the loaded model and
  // session are replaced only once that succeeded, so a bad file leaves the
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
      auto session = std::make_unique<hl::Session>(model, kDefaultTopK);
      // Swap in the new model; the previous one and its session are freed here.
      session_ = std::move(session);
      model_ = std::move(model);
      session_top_k_ = kDefaultTopK;
      has_trace_ = false;
      return model_info();
    });
  }

  val tokenize(const std::string& text) {
    return guarded("tokenize", [&] {
      const std::vector<int> ids = loaded().tokenizer.encode(text);
      val result = success();
      result.set("ids", copy_to_js("Int32Array", ids.data(), ids.size()));
      return result;
    });
  }

  val run(val ids_js, int top_k) {
    return guarded("run", [&] {
      const hl::Model& model = loaded();
      if (top_k < 1 || top_k > model.config.vocab_size) {
        throw hl::Error("topK " + std::to_string(top_k) + " is outside 1.." +
                        std::to_string(model.config.vocab_size));
      }
      const std::vector<int> ids = ids_from_js(ids_js);
      use_top_k(top_k);
      has_trace_ = false;  // a failed run leaves no half-written trace readable
      session_->run(ids);
      has_trace_ = true;
      return success();
    });
  }

  val setHeadGain(int layer, int head, float gain) {
    return guarded("setHeadGain", [&] {
      loaded();
      session_->set_head_gain(layer, head, gain);
      return success();
    });
  }

  val clearHeadGains() {
    return guarded("clearHeadGains", [&] {
      loaded();
      session_->clear_head_gains();
      return success();
    });
  }

  val update() {
    return guarded("update", [&] {
      loaded();
      if (!has_trace_) throw hl::Error("nothing to update: call run() first");
      const int from_layer = session_->update();
      val result = success();
      result.set("from_layer", from_layer);
      return result;
    });
  }

  // The first phase of update() (Session::update_at): reruns the edited
  // layers (the last one for this position only) and the LM head at one
  // position, -1 = the last, and returns that
  // position's predictions: from_layer, position, top_k_ids (K),
  // top_k_probs (K), top_k_tokens (K), loss (of the token after it; NaN at
  // the last). The other positions are computed by finishUpdate(), or by the
  // first call that reads the trace.
  val updateAt(int position) {
    return guarded("updateAt", [&] {
      const hl::Model& model = loaded();
      if (!has_trace_) throw hl::Error("nothing to update: call run() first");
      const int T = session_->trace().T;
      const int t = position == -1 ? T - 1 : position;
      const int from_layer = session_->update_at(t);
      const hl::Trace& trace = session_->trace();
      const int K = trace.top_k;
      const size_t row = static_cast<size_t>(t) * K;
      std::vector<std::string> top_k_tokens(K);
      for (int k = 0; k < K; ++k) top_k_tokens[k] = display(model, trace.top_k_ids[row + k]);
      val result = success();
      result.set("from_layer", from_layer);
      result.set("position", t);
      result.set("top_k_ids", copy_to_js("Int32Array", trace.top_k_ids.data() + row, K));
      result.set("top_k_probs", copy_to_js("Float32Array", trace.top_k_probs.data() + row, K));
      result.set("top_k_tokens", strings_to_js(top_k_tokens));
      result.set("loss", trace.token_loss[t]);
      return result;
    });
  }

  // The second phase: the LM head at every other position and the mean loss.
  val finishUpdate() {
    return guarded("finishUpdate", [&] {
      loaded();
      if (!has_trace_) throw hl::Error("nothing to update: call run() first");
      session_->finish_head();
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

  // Attention probabilities of one layer, (H, T, T): query rows, key columns.
  val getAttention(int layer) {
    return guarded("getAttention", [&] {
      const hl::Model& model = loaded();
      const int L = model.config.n_layer;
      if (has_trace_ && (layer < 0 || layer >= L)) {
        throw hl::Error("layer " + std::to_string(layer) + " is outside 0.." +
                        std::to_string(L - 1));
      }
      const hl::Trace& trace = finished_trace();
      const size_t per_layer = static_cast<size_t>(model.config.n_head) * trace.T * trace.T;
      val result = success();
      result.set("layer", layer);
      result.set("n_head", model.config.n_head);
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
      const hl::Model& model = loaded();
      const hl::Trace& trace = finished_trace();
      val result = success();
      result.set("T", trace.T);
      result.set("vocab_size", model.config.vocab_size);
      result.set("logits", copy_to_js("Float32Array", trace.logits.data(), trace.logits.size()));
      return result;
    });
  }

  val decode(val ids_js) {
    return guarded("decode", [&] {
      const hl::Model& model = loaded();
      const std::string text = model.tokenizer.decode(ids_from_js(ids_js));
      val result = success();
      result.set("text", utf8_to_js(text));
      return result;
    });
  }

 private:
  const hl::Model& loaded() const {
    if (!model_) throw hl::Error("no model loaded: call loadModel() first");
    return *model_;
  }

  // The session's top-k is fixed at construction: a new K means a new
  // session that keeps the head gains.
  void use_top_k(int top_k) {
    if (top_k == session_top_k_) return;
    auto session = std::make_unique<hl::Session>(model_, top_k);
    const hl::ModelConfig& config = model_->config;
    for (int layer = 0; layer < config.n_layer; ++layer) {
      for (int head = 0; head < config.n_head; ++head) {
        const float gain = session_->head_gain(layer, head);
        if (gain != 1.0f) session->set_head_gain(layer, head, gain);
      }
    }
    session_ = std::move(session);
    session_top_k_ = top_k;
  }

  // The trace, with the head of an updateAt() finished first: whatever
  // reads it sees every position of one pass.
  const hl::Trace& finished_trace() {
    if (!has_trace_) throw hl::Error("no trace yet: call run() first");
    session_->finish_head();
    return session_->trace();
  }

  // Everything getTrace returns; attn (L, H, T, T) only with_attention.
  val trace_result(bool with_attention) {
    const hl::Model& model = loaded();
    const hl::Trace& trace = finished_trace();
    const hl::ModelConfig& config = model.config;
    const int T = trace.T;
    const int K = trace.top_k;

    std::vector<std::string> tokens(T);
    for (int t = 0; t < T; ++t) tokens[t] = display(model, trace.ids[t]);
    std::vector<std::string> top_k_tokens(static_cast<size_t>(T) * K);
    for (size_t i = 0; i < top_k_tokens.size(); ++i) {
      top_k_tokens[i] = display(model, trace.top_k_ids[i]);
    }

    val result = success();
    result.set("T", T);
    result.set("n_input_tokens", trace.n_input_tokens);
    result.set("truncated", trace.truncated);
    result.set("n_layer", config.n_layer);
    result.set("n_head", config.n_head);
    result.set("top_k", K);
    result.set("ids", copy_to_js("Int32Array", trace.ids.data(), trace.ids.size()));
    result.set("tokens", strings_to_js(tokens));
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
    result.set("top_k_tokens", strings_to_js(top_k_tokens));
    // (L, H)
    const std::vector<float>& gains = session_->head_gains();
    result.set("gains", copy_to_js("Float32Array", gains.data(), gains.size()));
    return result;
  }

  val model_info() const {
    const hl::ModelConfig& config = model_->config;
    val result = success();
    set_config_fields(result, config);
    result.set("n_params", static_cast<double>(model_->weights.num_parameters()));
    return result;
  }

  std::shared_ptr<const hl::Model> model_;
  std::unique_ptr<hl::Session> session_;
  int session_top_k_ = kDefaultTopK;
  bool has_trace_ = false;
};

// Bytes of wasm linear memory. Memory only grows, so this is also the peak.
double memory_bytes() { return static_cast<double>(emscripten_get_heap_size()); }

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
  emscripten::class_<Engine>("Engine")
      .constructor<>()
      .function("loadModel", &Engine::loadModel)
      .function("tokenize", &Engine::tokenize)
      .function("run", &Engine::run)
      .function("setHeadGain", &Engine::setHeadGain)
      .function("clearHeadGains", &Engine::clearHeadGains)
      .function("update", &Engine::update)
      .function("updateAt", &Engine::updateAt)
      .function("finishUpdate", &Engine::finishUpdate)
      .function("getTrace", &Engine::getTrace)
      .function("getTraceWithoutAttention", &Engine::getTraceWithoutAttention)
      .function("getAttention", &Engine::getAttention)
      .function("getLogits", &Engine::getLogits)
      .function("decode", &Engine::decode);
  emscripten::function("memoryBytes", &memory_bytes);
  emscripten::function("estimateMemory", &estimate_memory);
}
