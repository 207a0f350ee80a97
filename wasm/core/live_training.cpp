#include "live_training.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "error.h"
#include "model.h"
#include "session.h"

namespace hl {

namespace {

// The live recipe (measured with `npm run bench:train`; what was tried is in
// models/README.md, "Live training in the page"): 64-token contexts, a short
// learning-rate warm-up and a cosine over the run, sinusoidal positions, and
// the induction warm-up data of the shipped recipes (random tokens with
// spans copied forward, one two-back segment per sequence that rewards a
// previous-token head on its own), 32-token sequences first (the same
// tokens a step: the gradient towards the one right key is spread over
// fewer keys).
constexpr int kPositions = 64;

// How long a run is and how many tokens a step takes.
struct Schedule {
  int batch;          // sequences of kPositions tokens a step
  int steps;          // the run
  int short_steps;    // 32-token sequences in the first short_steps
  int text_warmup;    // "text": steps of warm-up data before the text
  int lr_warmup;      // learning-rate warm-up steps
};
// "short": 8 x 64 tokens a step (16 x 32 at first), a few minutes.
constexpr Schedule kShort{8, 3000, 2000, 600, 50};
// "long": attn-only-2l's warm-up, 64 x 32 tokens a step (its batch, its
// learning-rate warm-up), at the page's 64 positions; 64-token sequences
// for the last 1,000 steps, once the head has had its time to form. At
// 2 x 8, d 128, seed 1 an induction head formed between steps 5,000 and
// 5,250 natively and at step 5,951 in Chromium (36 minutes there).
constexpr Schedule kLong{32, 8000, 7000, 7000, 200};

void check_lr(float lr) {
  if (!(lr > 0.0f && lr <= 0.1f))
    throw Error("learning rate " + std::to_string(lr) + " is outside (0, 0.1]");
}

void check_range(const char* what, int value, int lo, int hi) {
  if (value < lo || value > hi)
    throw Error(std::string(what) + " " + std::to_string(value) + " is outside " +
                std::to_string(lo) + ".." + std::to_string(hi));
}

// The probe is as long as the run's shortest sequences (the curriculum's
// stages, else n_positions): a longer probe would score, in the first
// minutes, positions the model has not trained yet, and a probe whose length
// followed the curriculum would make the score curves jump where it steps.
RepeatedSequenceProbe live_probe(const TrainingSetup& s) {
  int shortest = s.model.n_positions;
  for (const SeqStage& stage : s.plan.seq_schedule) shortest = std::min(shortest, stage.seq_len);
  RepeatedSequenceProbe probe;
  probe.half_len = shortest / 2;
  probe.n_sequences = 4;
  probe.seed = 1;
  return probe;
}

}  // namespace

TrainingSetup live_recipe(const LiveChoices& choices, int vocab_size) {
  check_range("layers", choices.n_layer, 1, 4);
  check_range("heads", choices.n_head, 1, 8);
  check_range("width", choices.n_embd, 16, 256);
  if (choices.n_embd % choices.n_head != 0)
    throw Error("width " + std::to_string(choices.n_embd) + " is not a multiple of " +
                std::to_string(choices.n_head) + " heads");
  check_lr(choices.lr);
  if (choices.task != "repeat" && choices.task != "text")
    throw Error("task '" + choices.task + "' is not repeat or text");
  if (choices.schedule != "short" && choices.schedule != "long")
    throw Error("schedule '" + choices.schedule + "' is not short or long");
  const Schedule& run = choices.schedule == "long" ? kLong : kShort;
  TrainingSetup s;
  s.model.n_layer = choices.n_layer;
  s.model.n_head = choices.n_head;
  s.model.n_embd = choices.n_embd;
  s.model.n_positions = kPositions;
  s.model.vocab_size = vocab_size;
  s.model.attn_only = true;
  s.opt.lr = choices.lr;
  s.opt.warmup_steps = run.lr_warmup;
  s.opt.total_steps = run.steps;
  s.mix.seed = choices.seed;
  s.mix.induction_fill = true;
  s.mix.fill_alternations = 1;
  s.plan.steps = run.steps;
  s.plan.batch = run.batch;
  s.plan.n_positions = kPositions;
  s.plan.n_layer = choices.n_layer;
  s.plan.seq_schedule = {{kPositions / 2, run.short_steps}};
  if (choices.task == "repeat") {
    s.plan.induction_warmup_steps = run.steps;
  } else {
    s.plan.induction_warmup_steps = run.text_warmup;
    s.mix.induction_frac = 0.3f;
    s.mix.repeat_text_frac = 0.1f;
  }
  return s;
}

namespace {

// The shortest of %g and %.9g that reads back as the same float (0.005, not
// 0.00499999989), so that the flags give `headlight train` the same numbers.
std::string float_text(float value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", static_cast<double>(value));
  if (std::strtof(text, nullptr) == value) return text;
  std::snprintf(text, sizeof text, "%.9g", static_cast<double>(value));
  return text;
}

}  // namespace

std::string train_flags(const TrainingSetup& s) {
  char text[512];
  std::snprintf(text, sizeof text,
                "--n-layer %d --n-head %d --n-embd %d --n-positions %d%s --batch %d --steps %d "
                "--lr %s --warmup %d --min-lr-frac %s --weight-decay %s --grad-clip %s "
                "--seed %llu --wpe-init %s --induction-warmup-steps %d%s%s --fill-alternations %d "
                "--induction-frac %s --repeat-text-frac %s",
                s.model.n_layer, s.model.n_head, s.model.n_embd, s.model.n_positions,
                s.model.attn_only ? " --attn-only" : "", s.plan.batch, s.plan.steps,
                float_text(s.opt.lr).c_str(), s.opt.warmup_steps, float_text(s.opt.min_lr_frac).c_str(),
                float_text(s.opt.weight_decay).c_str(), float_text(s.opt.grad_clip).c_str(),
                static_cast<unsigned long long>(s.mix.seed),
                s.sinusoidal_positions ? "sinusoidal" : "normal", s.plan.induction_warmup_steps,
                s.mix.induction_fill ? " --induction-fill" : "",
                s.mix.periodic_fill ? " --periodic-fill" : "", s.mix.fill_alternations,
                float_text(s.mix.induction_frac).c_str(), float_text(s.mix.repeat_text_frac).c_str());
  std::string flags = text;
  if (s.mix.copy_loss)
    flags += " --copy-loss --copy-loss-others " + float_text(s.mix.copy_loss_others);
  if (!s.plan.seq_schedule.empty()) {
    flags += " --seq-schedule ";
    for (size_t i = 0; i < s.plan.seq_schedule.size(); ++i) {
      if (i) flags += ",";
      flags += std::to_string(s.plan.seq_schedule[i].seq_len) + ":" +
               std::to_string(s.plan.seq_schedule[i].steps);
    }
  }
  return flags;
}

LiveTraining::LiveTraining(const TrainingSetup& setup, const std::string& vocab_json,
                           const std::string& merges_txt, const std::string& text)
    : setup_(setup),
      vocab_json_(vocab_json),
      merges_txt_(merges_txt),
      tokenizer_(vocab_json, merges_txt),
      ids_(encode_documents(tokenizer_, text)),
      plan_(setup.plan) {
  setup_.model.vocab_size = tokenizer_.vocab_size();
  setup_.opt.total_steps = plan_.steps();
  const int T = setup_.model.n_positions;
  if (ids_.size() < static_cast<size_t>(T) + 2)
    throw Error("training text: only " + std::to_string(ids_.size()) +
                " tokens, fewer than n_positions + 2");
  // As `headlight train`: GPT-2 init from the seed, then the position codes.
  params_ = allocate_weights(setup_.model);
  init_gpt2_weights(params_, setup_.mix.seed);
  if (setup_.sinusoidal_positions) init_sinusoidal_positions(params_, 0.02f);
  trainer_ = std::make_unique<Trainer>(params_, setup_.plan.batch, T, 1);
  mix_ = std::make_unique<DataMix>(ids_, tokenizer_.vocab_size(), setup_.mix);
  // DataMix::next writes into them: (B, T) at the full length, which every
  // stage of the curriculum fits (same tokens per step).
  inputs_.assign(static_cast<size_t>(setup_.plan.batch) * T, 0);
  targets_.assign(inputs_.size(), 0);
}

LiveTraining::~LiveTraining() = default;

std::vector<float> LiveTraining::step(int n) {
  std::vector<float> losses;
  // The body of `headlight train`'s loop, without its logging and time fit.
  while (n-- > 0 && steps_done() < plan_.steps()) {
    const int step = steps_done();
    const StepPlan p = plan_.at(step);
    if (p.seq_len != trainer_->seq_len()) trainer_->set_batch_shape(p.batch, p.seq_len);
    mix_->next(p.batch, p.seq_len, inputs_, targets_, p.warmup, p.two_back);
    trainer_->set_target_weights(mix_->target_weights());
    const float loss = trainer_->forward(inputs_.data(), targets_.data());
    if (!std::isfinite(loss))
      throw Error("loss is " + std::to_string(loss) + " at step " + std::to_string(step) +
                  " (diverged: lower the learning rate)");
    trainer_->backward();
    trainer_->step(setup_.opt);
    losses.push_back(loss);
  }
  return losses;
}

void LiveTraining::set_learning_rate(float lr) {
  check_lr(lr);
  setup_.opt.lr = lr;
}

std::shared_ptr<const Model> LiveTraining::snapshot() const {
  Weights copy = allocate_weights(params_.config);
  copy.block = params_.block;  // same layout: the views of copy stay valid
  return std::make_shared<const Model>(params_.config, std::move(copy), tokenizer_);
}

LiveProbe LiveTraining::probe() const {
  const std::shared_ptr<const Model> model = snapshot();
  const RepeatedSequenceProbe spec = live_probe(setup_);
  LiveProbe out;
  out.result = run_repeated_sequence_probe(model, spec);
  out.ids = probe_sequence(*model, spec, 0);
  out.T = static_cast<int>(out.ids.size());
  Session session(model, 1);
  session.run(out.ids);
  out.attn_probs = session.trace().attn_probs;
  return out;
}

ModelFileBytes LiveTraining::files() {
  return model_file_bytes(params_, DType::F32,
                          {{"format", "pt"}, {"step", std::to_string(steps_done())}});
}

}  // namespace hl
