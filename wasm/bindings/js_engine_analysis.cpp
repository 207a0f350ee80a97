// JsEngine (js_engine.h): which head does what and which heads matter.
#include "js_engine.h"

#include <cstdint>
#include <limits>

#include "js_values.h"
#include "ablation.h"
#include "composition.h"
#include "copying.h"
#include "head_arithmetic.h"
#include "head_types.h"
#include "importance.h"
#include "similarity.h"
#include "syntax_run.h"

namespace hl::js {

namespace {

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

// A syntax probe's fields (headlight-wasm.d.ts SyntaxProbeResult) set on result.
void set_syntax_fields(val& result, const hl::SyntaxProbeResult& r) {
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
}

// How far a run in parts is (CopyingRun, SyntaxRun): done, parts_done,
// parts_total, work_done, work_total.
template <typename Run>
val run_progress(const Run& run) {
  val result = success();
  result.set("done", run.done());
  result.set("parts_done", run.parts_done());
  result.set("parts_total", run.parts_total());
  result.set("work_done", run.work_done());
  result.set("work_total", run.work_total());
  return result;
}

// How far a syntax run is (headlight-wasm.d.ts SyntaxStepResult), and once
// done the fields of syntaxProbe.
val syntax_progress(const hl::SyntaxRun& run) {
  val result = run_progress(run);
  result.set("next_kind", std::string(run.next_kind()));
  if (run.done()) set_syntax_fields(result, run.result());
  return result;
}

}  // namespace

val JsEngine::headTypeScores() {
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

namespace {

// The scores' fields (headlight-wasm.d.ts CopyingScoresResult) set on result.
void set_copying_fields(val& result, const hl::CopyingScores& scores) {
  result.set("D", scores.D);
  result.set("copying", copy_to_js("Float32Array", scores.score.data(), scores.score.size()));
  result.set("eig_re", copy_to_js("Float64Array", scores.eig_re.data(), scores.eig_re.size()));
  result.set("eig_im", copy_to_js("Float64Array", scores.eig_im.data(), scores.eig_im.size()));
}

}  // namespace

val JsEngine::copyingScores() {
  return guarded("copyingScores", [&] {
    val result = success();
    set_copying_fields(result, hl::copying_scores(loaded().model()));
    return result;
  });
}

val JsEngine::copyingStep(int n_parts) {
  return guarded("copyingStep", [&] {
    const hl::CopyingRun& run = loaded().step_copying(n_parts);
    val result = run_progress(run);
    if (run.done()) set_copying_fields(result, run.scores());
    return result;
  });
}

val JsEngine::gradientImportance(val ids_js, val gains_js) {
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

val JsEngine::editedGradientImportance() {
  return guarded("editedGradientImportance", [&] {
    hl::Engine& engine = loaded();
    const std::vector<float> grad = engine.gradient_importance();
    val result = success();
    result.set("n_layer", engine.model().config.n_layer);
    result.set("n_head", engine.model().config.n_head);
    result.set("gradient", copy_to_js("Float32Array", grad.data(), grad.size()));
    return result;
  });
}

val JsEngine::ablationScan(const std::string& mode, int position) {
  return guarded("ablationScan", [&] {
    return scan_to_js(loaded().ablation_scan(hl::parse_ablation_mode(mode), position, {}));
  });
}

val JsEngine::ablationScanPart(const std::string& mode, int position, val skip_js) {
  return guarded("ablationScanPart", [&] {
    hl::Engine& engine = loaded();
    const std::vector<int> flags = head_flags_from_js(skip_js, engine.model().config, "skip flags");
    std::vector<char> skip(flags.size());
    for (size_t i = 0; i < flags.size(); ++i) skip[i] = flags[i] != 0;
    return scan_to_js(engine.ablation_scan(hl::parse_ablation_mode(mode), position, {}, skip));
  });
}

val JsEngine::attentionSimilarity() {
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

namespace {

// PruningOptions from the page's arguments; the seed a whole number JS can hold.
hl::PruningOptions pruning_options(const std::string& mode, int rescan_every, double seed) {
  hl::PruningOptions options;
  options.mode = hl::parse_ablation_mode(mode);
  options.rescan_every = rescan_every;
  if (!(seed >= 0 && seed <= 9007199254740991.0)) {
    throw hl::Error("seed must be a whole number >= 0");
  }
  options.seed = static_cast<uint64_t>(seed);
  return options;
}

// The curve's fields (headlight-wasm.d.ts PruningCurveResult) set on result.
void set_curve_fields(val& result, const hl::PruningCurve& curve) {
  result.set("mode", std::string(hl::ablation_mode_name(curve.mode)));
  result.set("rescan_every", curve.rescan_every);
  result.set("order", copy_to_js("Int32Array", curve.order.data(), curve.order.size()));
  result.set("mean_loss", copy_to_js("Float32Array", curve.mean_loss.data(), curve.mean_loss.size()));
  result.set("random_order",
             copy_to_js("Int32Array", curve.random_order.data(), curve.random_order.size()));
  result.set("random_mean_loss", copy_to_js("Float32Array", curve.random_mean_loss.data(),
                                            curve.random_mean_loss.size()));
}

// How far a pruning run is: removed of total heads (both curves); the curves once done.
val pruning_progress(const hl::PruningRun& run) {
  val result = success();
  result.set("done", run.done());
  result.set("removed", run.removed());
  result.set("total", run.total());
  if (run.done()) set_curve_fields(result, run.curve());
  return result;
}

}  // namespace

val JsEngine::pruningCurve(const std::string& mode, int rescan_every, double seed) {
  return guarded("pruningCurve", [&] {
    const hl::PruningCurve curve =
        loaded().pruning_curve(pruning_options(mode, rescan_every, seed), {});
    val result = success();
    set_curve_fields(result, curve);
    return result;
  });
}

val JsEngine::pruningStart(const std::string& mode, int rescan_every, double seed) {
  return guarded("pruningStart", [&] {
    return pruning_progress(loaded().start_pruning(pruning_options(mode, rescan_every, seed), {}));
  });
}

val JsEngine::pruningStep(int n_parts) {
  return guarded("pruningStep", [&] { return pruning_progress(loaded().step_pruning(n_parts)); });
}

val JsEngine::syntaxProbe(const std::string& probe_json) {
  return guarded("syntaxProbe", [&] {
    loaded();  // throws before a model is loaded
    val result = success();
    set_syntax_fields(result, hl::syntax_probe(model_, hl::parse_pos_probe(probe_json)));
    return result;
  });
}

val JsEngine::syntaxStart(const std::string& probe_json) {
  return guarded("syntaxStart", [&] {
    return syntax_progress(loaded().start_syntax(hl::parse_pos_probe(probe_json)));
  });
}

val JsEngine::syntaxStep(int n_parts) {
  return guarded("syntaxStep", [&] { return syntax_progress(loaded().step_syntax(n_parts)); });
}

val JsEngine::headArithmetic(int layer, int head, int position) {
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

val JsEngine::composition(int source_layer, int source_head, int target_layer, int target_head) {
  return guarded("composition", [&] {
    hl::Engine& engine = loaded();
    const hl::CompositionPatterns c =
        hl::composition_patterns(engine.model(), engine.trace(), engine.head_edits(),
                                 source_layer, source_head, target_layer, target_head);
    val result = success();
    result.set("T", c.T);
    result.set("composes", c.composes);
    result.set("before", copy_to_js("Float32Array", c.before.data(), c.before.size()));  // (T, T)
    result.set("after", copy_to_js("Float32Array", c.after.data(), c.after.size()));     // (T, T)
    result.set("before_scores", head_type_scores_to_js(c.before_scores));
    result.set("after_scores", head_type_scores_to_js(c.after_scores));
    return result;
  });
}

}  // namespace hl::js
