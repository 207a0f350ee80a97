// JsEngine (js_engine.h): editing heads by fine-tuning them. Forwards only:
// the mask, the batch, the steps and the effects are core's
// (head_finetune.h, finetune_effects.h).
#include <string>

#include "finetune_effects.h"
#include "js_engine.h"
#include "js_values.h"
#include "model_files.h"

namespace hl::js {

namespace {

std::vector<hl::HeadIndex> heads_from_js(const val& heads_js) {
  const std::vector<int> flat = ids_from_js(heads_js);
  if (flat.size() % 2 != 0) throw hl::Error("heads must be [layer, head] pairs");
  std::vector<hl::HeadIndex> heads;
  for (size_t i = 0; i < flat.size(); i += 2) heads.push_back({flat[i], flat[i + 1]});
  return heads;
}

std::vector<std::vector<int>> examples_from_js(const val& ids_js, const val& lengths_js) {
  const std::vector<int> ids = ids_from_js(ids_js);
  const std::vector<int> lengths = ids_from_js(lengths_js);
  std::vector<std::vector<int>> examples;
  size_t at = 0;
  for (int n : lengths) {
    if (n < 0 || at + n > ids.size()) throw hl::Error("example lengths do not match the ids");
    examples.emplace_back(ids.begin() + at, ids.begin() + at + n);
    at += n;
  }
  if (at != ids.size()) throw hl::Error("example lengths do not match the ids");
  return examples;
}

}  // namespace

val JsEngine::finetuneStart(val heads_js, val example_ids_js, val example_lengths_js, float lr) {
  return guarded("finetuneStart", [&] {
    loaded();
    finetune_.reset();
    hl::HeadFineTuneOptions options;
    options.lr = lr;
    finetune_ = std::make_unique<hl::HeadFineTune>(
        model_, heads_from_js(heads_js), examples_from_js(example_ids_js, example_lengths_js), options);
    const hl::FineTuneBatch& b = finetune_->batch();
    val result = success();
    result.set("B", b.B);
    result.set("T", b.T);
    result.set("tokens_given", copy_to_js("Int32Array", b.tokens_given.data(), b.tokens_given.size()));
    result.set("tokens_used", copy_to_js("Int32Array", b.tokens_used.data(), b.tokens_used.size()));
    result.set("loss", finetune_->loss());
    return result;
  });
}

val JsEngine::finetuneStep(int n) {
  return guarded("finetuneStep", [&] {
    if (!finetune_) throw hl::Error("no fine-tuning run: call finetuneStart first");
    const std::vector<float> losses = finetune_->step(n);
    val result = success();
    result.set("losses", copy_to_js("Float32Array", losses.data(), losses.size()));
    result.set("steps_done", finetune_->steps_done());
    return result;
  });
}

val JsEngine::finetuneFinish(val heldout_ids_js) {
  return guarded("finetuneFinish", [&] {
    if (!finetune_) throw hl::Error("no fine-tuning run: call finetuneStart first");
    std::unique_ptr<hl::HeadFineTune> run = std::move(finetune_);
    const hl::FineTuneEffects e =
        hl::finetune_effects(model_, run->model(), run->heads(), run->batch().examples, ids_from_js(heldout_ids_js));
    std::string heads;
    for (const hl::HeadIndex& hd : run->heads())
      heads += (heads.empty() ? "" : ",") + std::to_string(hd.layer) + "." + std::to_string(hd.head);
    const hl::ModelFileBytes tuned = hl::model_file_bytes(
        run->weights(), hl::DType::F32,
        {{"format", "pt"}, {"fine_tuned_heads", heads}, {"fine_tune_steps", std::to_string(run->steps_done())}});
    val result = success();
    result.set("examples_loss_before", e.examples_loss_before);
    result.set("examples_loss_after", e.examples_loss_after);
    result.set("heldout_loss_before", e.heldout_loss_before);
    result.set("heldout_loss_after", e.heldout_loss_after);
    result.set("heldout_tokens", e.heldout_tokens);
    result.set("moved", copy_to_js("Float32Array", e.moved.data(), e.moved.size()));  // (L, H)
    result.set("example_token_counts",  // (E) T_e
               copy_to_js("Int32Array", e.example_token_counts.data(), e.example_token_counts.size()));
    // For each example e, each edited head k: (T_e, T_e).
    result.set("edited_before", copy_to_js("Float32Array", e.edited_before.data(), e.edited_before.size()));
    result.set("edited_after", copy_to_js("Float32Array", e.edited_after.data(), e.edited_after.size()));
    result.set("steps_done", run->steps_done());
    result.set("config_json", tuned.config_json);
    result.set("safetensors", copy_to_js("Uint8Array", tuned.safetensors.data(), tuned.safetensors.size()));
    return result;
  });
}

val JsEngine::modelFiles() {
  return guarded("modelFiles", [&] {
    loaded();
    // model_file_bytes only reads the weights (its Weights& is param_table's,
    // whose pointers the trainer writes through): no copy of the block.
    const hl::ModelFileBytes files =
        hl::model_file_bytes(const_cast<hl::Weights&>(model_->weights), hl::DType::F32, {{"format", "pt"}});
    val result = success();
    result.set("config_json", files.config_json);
    result.set("safetensors", copy_to_js("Uint8Array", files.safetensors.data(), files.safetensors.size()));
    return result;
  });
}

val JsEngine::finetuneCancel() {
  return guarded("finetuneCancel", [&] {
    finetune_.reset();
    return success();
  });
}

}  // namespace hl::js
