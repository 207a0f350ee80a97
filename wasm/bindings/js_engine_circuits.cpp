// JsEngine (js_engine.h): how a prediction is built: logit lens, direct effects, patching.
#include "js_engine.h"

#include "js_values.h"
#include "attribution.h"
#include "lens.h"
#include "patching.h"

namespace hl::js {

val JsEngine::logitLens(int position, int top_k, int answer, int foil, bool all_positions) {
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
    result.set("top_k_tokens", token_strings(engine.model(), lens.top_k_ids));
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

val JsEngine::patch(val clean_ids_js, val corrupted_ids_js, int answer, int foil, const std::string& maps,
                    const std::string& metric) {
  return guarded("patch", [&] {
    if (maps != "head_z" && maps != "residual" && maps != "both" && maps != "head_z_pos") {
      throw hl::Error("unknown maps '" + maps +
                      "' (expected head_z, residual, both or head_z_pos)");
    }
    const hl::Engine& engine = loaded();
    const bool per_position = maps == "head_z_pos";
    const hl::PatchingMaps m = engine.activation_patching(
        ids_from_js(clean_ids_js), ids_from_js(corrupted_ids_js), answer, foil,
        maps == "head_z" || maps == "both", maps == "residual" || maps == "both", per_position,
        hl::patch_metric_from_name(metric));
    val result = success();
    result.set("metric_kind", std::string(hl::patch_metric_name(m.metric)));
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

val JsEngine::pathPatch(val clean_ids_js, val corrupted_ids_js, int answer, int foil, int sender_layer,
              int sender_head, val receivers_js, const std::string& into, const std::string& metric) {
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
        ids_from_js(clean_ids_js), ids_from_js(corrupted_ids_js), answer, foil, path,
        hl::patch_metric_from_name(metric));
    val result = success();
    result.set("clean", r.clean);
    result.set("corrupted", r.corrupted);
    result.set("metric", r.metric);
    result.set("recovery", r.recovery);
    return result;
  });
}

val JsEngine::headAttention(val ids_js, int layer, int head, bool edited) {
  return guarded("headAttention", [&] {
    const hl::Engine& engine = loaded();
    std::vector<int> ids;
    const std::vector<float> attn = engine.head_attention(ids_from_js(ids_js), layer, head, edited, &ids);
    val result = success();
    result.set("T", static_cast<int>(ids.size()));
    result.set("ids", copy_to_js("Int32Array", ids.data(), ids.size()));     // (T)
    result.set("attn", copy_to_js("Float32Array", attn.data(), attn.size()));  // (T, T)
    return result;
  });
}

}  // namespace hl::js
