// The JS face of hl::Engine (web/src/engine/headlight-wasm.d.ts Engine): one
// JsEngine per worker owns the loaded model and its hl::Engine. Each method
// forwards one call, copies what it returns into JS-owned arrays and turns
// C++ errors into messages (js_values.h). Policy (top-k, the baseline, what
// a rerun changed) is hl::Engine's (wasm/core/engine.h); this class only
// forwards. Its methods are defined by group in js_engine_*.cpp and bound
// to their JS names in embind.cpp.
#pragma once
#include <emscripten/val.h>

#include <memory>
#include <string>
#include <vector>

#include "engine.h"
#include "head_finetune.h"
#include "error.h"
#include "model.h"

namespace hl::js {

using emscripten::val;

class JsEngine {
 public:
  // ---- Loading, tokenizing, running and reading the trace (js_engine_run.cpp)

  // Parses and checks all four files into a new Model; the loaded model and
  // engine are replaced only once that succeeded, so a bad file leaves the
  // previous model working.
  val loadModel(const std::string& config_json, val safetensors_js, const std::string& vocab_json,
                const std::string& merges_txt);

  val tokenize(const std::string& text);

  // The first max_tokens ids of the text and whether they are all of it
  // (Tokenizer::encode_prefix): the page tokenizes a paste as far as it
  // counts, not whole.
  val tokenizePrefix(const std::string& text, int max_tokens);

  val run(val ids_js, int top_k);

  val runWithBaseline(val ids_js, int top_k);

  val update();

  // hl::Engine::update_at: position -1 = the last. See headlight-wasm.d.ts
  // PositionPredictions for the fields.
  val updateAt(int position);

  // The second phase: the LM head at every other position and the mean loss.
  val finishUpdate();

  val getTrace();

  // getTrace without attn: for large models (GPT-2 at 1024 tokens has 604 MB
  // of attention) the caller fetches attention one layer at a time.
  val getTraceWithoutAttention();

  // The unedited model of the last runWithBaseline (hl::Baseline) without
  // its logits: loss (T), mean_loss, top_k_ids / top_k_probs / top_k_tokens (T, K).
  val getBaseline();

  // hl::Engine::hold_attention / attention_changed_from.
  val holdAttention();

  val attentionChangedFrom();

  // Attention probabilities of one layer, (H, T, T): query rows, key columns.
  val getAttention(int layer);

  // Logits for every position, (T, V). Separate from getTrace because it is
  // large (T x 50257 floats for GPT-2) and the page rarely needs it.
  val getLogits();

  val decode(val ids_js);

  // ---- Head edits: gains, mean ablation, patches as edits (js_engine_edits.cpp)

  val setHeadGain(int layer, int head, float gain);

  val setHeadGains(val gains_js);

  val clearHeadGains();

  // Mean ablation as the page holds it: flags (L x H, nonzero = the head's z
  // replaced by its mean over ids, computed by the unedited model). Only the
  // heads whose edit changes are touched (a replaced z reruns from its layer),
  // and every mean is taken again when ids differ from the last ones.
  val setHeadMeans(val flags_js, val ids_js);

  // Activation patching as edits, for a live run: flags (L x H, nonzero =
  // the head's z at every position taken from the unedited model run on
  // other_ids, Engine::set_head_resample); every other head's replaced z
  // (a patch or a mean) is cleared. The next setHeadMeans takes its means
  // again (mean_ids_ forgotten), so no patch is kept as a mean.
  val setHeadPatches(val flags_js, val other_ids_js);

  // ---- Which head does what and which heads matter (js_engine_analysis.cpp)

  // The head-type scores (wasm/core/head_types.h) of every head on the
  // current trace's attention: six Float32Array [L x H] (l * H + h), each
  // head's type ("previous_token", ..., "local", "none") at the threshold,
  // and the threshold. Costs L * H * T^2.
  val headTypeScores();

  // hl::copying_scores of the loaded model (weights only: the worker asks
  // once per model): copying Float32Array (L, H) in [-1, 1], and each head's
  // OV eigenvalues, largest |lambda| first, eig_re / eig_im Float64Array
  // (L, H, D); D = d_head.
  val copyingScores();

  // The same scores in parts (hl::Engine::step_copying: n_parts more parts
  // of the run begun at the first call; each part is one block of 512 rows
  // of wte, or half a layer: copying.h CopyingRun), so the worker can fill them in after the model is
  // shown: done, parts_done, parts_total, work_done, work_total (multiply-
  // adds), and once done the fields of copyingScores, bit for bit.
  val copyingStep(int n_parts);

  // hl::gradient_importance: d mean loss / d gain (L, H) on ids at gains (L, H).
  val gradientImportance(val ids_js, val gains_js);

  // hl::Engine::gradient_importance: d mean loss / d gain (L, H) on the
  // current trace's ids at the current edits, mean-ablated (and resampled)
  // heads' replaced z included. Same fields as gradientImportance.
  val editedGradientImportance();

  // hl::Engine::ablation_scan: every head ablated alone ("zero" or "mean",
  // the mean over the current text) on top of the current edits; position
  // -1 = T - 2. delta_mean_loss, delta_logprob: (L, H).
  val ablationScan(const std::string& mode, int position);

  // ablationScan of the heads whose skip flag (L x H) is 0 only, the others
  // NaN: the same figures, bit for bit, as the whole scan's. The page's
  // worker scans a layer at a time, so it can report progress and stop.
  val ablationScanPart(const std::string& mode, int position, val skip_js);

  // hl::attention_similarity of the heads of the engine's trace (L*H, L*H).
  val attentionSimilarity();

  // hl::Engine::pruning_curve on the current text, from the unedited model:
  // order / random_order (L * H) heads as l * H + h, mean_loss /
  // random_mean_loss (L * H + 1).
  val pruningCurve(const std::string& mode, int rescan_every, double seed);

  // The same curves in parts (hl::Engine::start_pruning / step_pruning), so
  // the worker can report progress and stop between parts: pruningStart
  // runs the text unedited; pruningStep(n) removes up to n * rescan_every
  // more heads (one exact scan each while the importance order is being
  // made). Both return done, removed and total (2 * L * H, both curves), and
  // once done the fields of pruningCurve, bit for bit.
  val pruningStart(const std::string& mode, int rescan_every, double seed);
  val pruningStep(int n_parts);

  // hl::syntax_probe of the loaded (unedited) model on a probe file's text
  // (web/public/probes/brown-pos.json): tags (G), queries Int32Array (G);
  // share, chance_share Float32Array (L, H, G, G) = mass and chance over the
  // queries of the query tag; syntactic Uint8Array (L, H); each head's
  // counted pairs, highest ratio first, kSyntaxTopPairs (N) per head, -1 /
  // NaN past its last: top_query, top_key Int32Array and top_share,
  // top_chance_share, top_ratio Float32Array (L, H, N); the thresholds.
  val syntaxProbe(const std::string& probe_json);
  // The same probe in parts (hl::Engine::start_syntax / step_syntax:
  // syntax_run.h SyntaxRun, a layer of a batch of sentences a part), so the
  // worker can run it between the reader's requests: syntaxStart tokenizes
  // the probe and begins a run, syntaxStep runs n_parts more parts. Both
  // return done, parts_done, parts_total, work_done, work_total (multiply-
  // adds), next_kind ("layer", "result", "" when done), and once done the
  // fields of syntaxProbe, bit for bit.
  val syntaxStart(const std::string& probe_json);
  val syntaxStep(int n_parts);

  // One head's arithmetic (hl::head_arithmetic) at query `position` of the
  // current pass, with the current edits. Fields: headlight-wasm.d.ts
  // HeadArithmeticResult; n = position + 1 keys, D = d_head, C = n_embd.
  val headArithmetic(int layer, int head, int position);

  // The target head's attention before and after muting the source head on
  // top of the current edits (hl::composition_patterns), with both
  // patterns' head-type scores. Fields: headlight-wasm.d.ts CompositionResult.
  val composition(int source_layer, int source_head, int target_layer, int target_head);

  // ---- How a prediction is built: logit lens, direct effects, patching (js_engine_circuits.cpp)

  // The logit lens (hl::logit_lens) of the last pass at `position` (-1 =
  // the last) or, with all_positions, at every position; answer (-1 none)
  // adds its rank and probability; foil (-1 none) adds the direct logit
  // attribution of answer - foil at `position` with the current gains
  // (hl::direct_logit_attribution). Fields: headlight-wasm.d.ts LogitLensResult.
  val logitLens(int position, int top_k, int answer, int foil, bool all_positions);

  // hl::Engine::activation_patching between two texts' ids (the same count)
  // on the metric at the last position ("logit_diff": logit(answer) -
  // logit(foil); "logprob": log p(answer), foil unused, -1 allowed),
  // unedited model; maps: "head_z", "residual", "both" or "head_z_pos" (each
  // head at each position, L * H * T runs; a map not asked for is empty).
  // Fields: headlight-wasm.d.ts PatchingResult.
  val patch(val clean_ids_js, val corrupted_ids_js, int answer, int foil, const std::string& maps,
            const std::string& metric);

  // hl::Engine::path_patching: the sender head's clean output only into the
  // receivers' (l * H + h) inputs named by `into` (letters of "qkv"), on
  // `metric` as patch's. Fields: headlight-wasm.d.ts PathPatchResult.
  val pathPatch(val clean_ids_js, val corrupted_ids_js, int answer, int foil, int sender_layer,
                int sender_head, val receivers_js, const std::string& into,
                const std::string& metric);

  // ---- Compare two runs (js_engine_circuits.cpp; the comparison itself is
  // the free function compareAttention, embind.cpp)

  // hl::Engine::head_attention: one head's attention on ids in a Session of
  // its own, with the current edits (edited) or none; the engine's trace
  // and edits stay. Fields: headlight-wasm.d.ts HeadAttentionResult.
  val headAttention(val ids_js, int layer, int head, bool edited);

  // ---- Editing heads by fine-tuning them (js_engine_finetune.cpp, core head_finetune.h)

  // A fine-tuning run on a copy of the loaded model's weights (replacing one
  // held): heads Int32Array [l0, h0, l1, h1, ...], the examples' ids one
  // after another (Int32Array) with their lengths (Int32Array (E)), the
  // learning rate. Answers the batch (E, T), each example's tokens given and
  // used (cut to n_positions + 1) and the examples' loss now.
  val finetuneStart(val heads_js, val example_ids_js, val example_lengths_js, float lr);
  // n more AdamW steps: { losses Float32Array (n), steps_done }.
  val finetuneStep(int n);
  // The run's effects (hl::finetune_effects; held-out ids cut to
  // n_positions) and the fine-tuned model's files: config_json, safetensors
  // (F32); then the run is released. Fields: headlight-wasm.d.ts
  // FineTuneFinishResult.
  val finetuneFinish(val heldout_ids_js);
  // Drops the run held, if any.
  val finetuneCancel();
  // The loaded model's config_json and safetensors (F32): Undo of a
  // fine-tuning whose original cannot be fetched again (the reader's files).
  val modelFiles();

 private:
  hl::Engine& loaded() const {
    if (!engine_) throw hl::Error("no model loaded: call loadModel() first");
    return *engine_;
  }

  // Everything getTrace returns; attn (L, H, T, T) only with_attention;
  // baseline_probs_of_top_k (T, K) while the engine has the trace's baseline.
  val trace_result(bool with_attention);

  val model_info() const;

  std::unique_ptr<hl::Engine> engine_;
  // The engine's model, for analyses that run sessions of their own (syntaxProbe).
  std::shared_ptr<const hl::Model> model_;
  std::vector<int> mean_ids_;  // the ids the mean-ablated heads' means are of
  std::unique_ptr<hl::HeadFineTune> finetune_;  // the fine-tuning run, between start and finish
};

}  // namespace hl::js
