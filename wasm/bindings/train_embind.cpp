// headlight-train: the live trainer's module (core/live_training.h) for the
// page's training worker (web/src/engine/train-worker.ts), apart from the
// engine module so that the explorer never downloads it. Forwards only: the
// recipe, the steps and the probe are core's. Every method answers
// { ok: true, ... } or { ok: false, error } (js_values.h).
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <memory>
#include <string>

#include "error.h"
#include "js_values.h"
#include "live_training.h"

using emscripten::val;
using hl::js::copy_to_js;
using hl::js::guarded;
using hl::js::success;

namespace {

class JsTraining {
 public:
  // A new run (replacing the last): the reader's choices, the tokenizer's
  // files, the training text. Answers the model's shape, its parameter
  // count, the schedule's length and the `headlight train` flags of the run.
  val create(int n_layer, int n_head, int n_embd, const std::string& task,
             const std::string& schedule, float lr, double seed,
             const std::string& vocab_json, const std::string& merges_txt,
             const std::string& text) {
    return guarded("create", [&] {
      training_.reset();
      hl::LiveChoices choices;
      choices.n_layer = n_layer;
      choices.n_head = n_head;
      choices.n_embd = n_embd;
      choices.task = task;
      choices.schedule = schedule;
      choices.lr = lr;
      if (!(seed >= 0 && seed <= 9e15)) throw hl::Error("seed must be a whole number >= 0");
      choices.seed = static_cast<uint64_t>(seed);
      const hl::Tokenizer tokenizer(vocab_json, merges_txt);
      const hl::TrainingSetup setup = hl::live_recipe(choices, tokenizer.vocab_size());
      training_ = std::make_unique<hl::LiveTraining>(setup, vocab_json, merges_txt, text);
      val answer = success();
      answer.set("n_layer", setup.model.n_layer);
      answer.set("n_head", setup.model.n_head);
      answer.set("n_embd", setup.model.n_embd);
      answer.set("n_positions", setup.model.n_positions);
      answer.set("vocab_size", setup.model.vocab_size);
      answer.set("n_params", static_cast<double>(training_->num_parameters()));
      answer.set("total_steps", training_->total_steps());
      answer.set("flops_per_step", training_->flops_per_step());
      answer.set("train_flags", hl::train_flags(setup));
      return answer;
    });
  }

  // Up to n more steps: { losses: Float32Array (n), steps_done, total_steps }.
  val step(int n) {
    return guarded("step", [&] {
      const std::vector<float> losses = run().step(n);
      val answer = success();
      answer.set("losses", copy_to_js("Float32Array", losses.data(), losses.size()));
      answer.set("steps_done", run().steps_done());
      answer.set("total_steps", run().total_steps());
      return answer;
    });
  }

  // The probe now: per-head scores (L * H), the ICL score, and every head's
  // attention on probe sequence 0, attn (L, H, T, T) with its ids (T).
  val probe() {
    return guarded("probe", [&] {
      const hl::LiveProbe p = run().probe();
      val answer = success();
      const hl::HeadScores& heads = p.result.heads;
      answer.set("induction", copy_to_js("Float32Array", heads.induction.data(), heads.induction.size()));
      answer.set("prev_token",
                 copy_to_js("Float32Array", heads.prev_token.data(), heads.prev_token.size()));
      answer.set("first_token",
                 copy_to_js("Float32Array", heads.first_token.data(), heads.first_token.size()));
      answer.set("loss_first_half", p.result.loss_first_half);
      answer.set("loss_second_half", p.result.loss_second_half);
      answer.set("icl_score", p.result.icl_score());
      answer.set("T", p.T);
      answer.set("ids", copy_to_js("Int32Array", p.ids.data(), p.ids.size()));
      answer.set("attn", copy_to_js("Float32Array", p.attn_probs.data(), p.attn_probs.size()));
      answer.set("steps_done", run().steps_done());
      return answer;
    });
  }

  // The peak learning rate from the next step on (core checks it).
  val setLearningRate(float lr) {
    return guarded("setLearningRate", [&] {
      run().set_learning_rate(lr);
      return success();
    });
  }

  // The model folder's files now: config.json text, model.safetensors bytes
  // (F32); vocab.json and merges.txt are the ones given to create().
  val files() {
    return guarded("files", [&] {
      const hl::ModelFileBytes f = run().files();
      val answer = success();
      answer.set("config_json", f.config_json);
      answer.set("safetensors", copy_to_js("Uint8Array", f.safetensors.data(), f.safetensors.size()));
      answer.set("steps_done", run().steps_done());
      return answer;
    });
  }

 private:
  hl::LiveTraining& run() {
    if (!training_) throw hl::Error("no training run: call create first");
    return *training_;
  }
  std::unique_ptr<hl::LiveTraining> training_;
};

}  // namespace

EMSCRIPTEN_BINDINGS(headlight_train) {
  emscripten::class_<JsTraining>("Training")
      .constructor<>()
      .function("create", &JsTraining::create)
      .function("step", &JsTraining::step)
      .function("probe", &JsTraining::probe)
      .function("setLearningRate", &JsTraining::setLearningRate)
      .function("files", &JsTraining::files);
}
