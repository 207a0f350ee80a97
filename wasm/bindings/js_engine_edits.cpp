// JsEngine (js_engine.h): head edits: gains, mean ablation, patches as edits.
#include "js_engine.h"

#include "js_values.h"
#include "engine.h"

namespace hl::js {

val JsEngine::setHeadGain(int layer, int head, float gain) {
  return guarded("setHeadGain", [&] {
    loaded().set_head_gain(layer, head, gain);
    return success();
  });
}

val JsEngine::setHeadGains(val gains_js) {
  return guarded("setHeadGains", [&] {
    const std::vector<float> gains = floats_from_js(gains_js, "gains");
    loaded().set_head_gains(gains.data(), gains.size());
    return success();
  });
}

val JsEngine::clearHeadGains() {
  return guarded("clearHeadGains", [&] {
    loaded().clear_head_gains();
    return success();
  });
}

val JsEngine::setHeadMeans(val flags_js, val ids_js) {
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

val JsEngine::setHeadPatches(val flags_js, val other_ids_js) {
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

}  // namespace hl::js
