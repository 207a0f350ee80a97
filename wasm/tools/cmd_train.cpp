// headlight train: trains a GPT-2 from scratch on a text file and writes a
// model folder (DESIGN.md), checkpoints (log-spaced, and dense where asked) and a
// training log.
//
//   headlight train --train FILE --val FILE --tokenizer DIR --out DIR [options]
//
// The options are one table (kOptions below: flag, default, help, and where
// train_log.json records it) that parses the command line, prints --help and
// writes the logged config. What the batches hold is core/data.h (DataMix),
// what each step does (sequence-length stages, MLPs off, shallow blocks, the
// induction warm-up and its early end, the fit to a time limit) is
// core/curriculum.h; this file runs the loop, prints and logs.
// --init-from starts from the weights of a model folder (same shape and
// tokenizer; fresh optimizer state and learning-rate schedule), so a run can
// be trained in phases with a schedule each; --end-with-warmup ends a run when
// its induction warm-up ends, writing the model as it is then: phase one.
// The logged train loss is over the data mix; the validation loss and bits
// per byte are over plain validation text (core/validation.h).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "commands.h"
#include "config.h"
#include "curriculum.h"
#include "data.h"
#include "error.h"
#include "model_dir.h"
#include "token_cache.h"
#include "tokenizer.h"
#include "train.h"
#include "train_options.h"
#include "validation.h"
#include "weights.h"

namespace {

// How the --init-from folder was made, for this run's log: its training log
// but its checkpoints, and only its last eval; or just {"dir": dir}.
nlohmann::json init_from_log(const std::string& dir) {
  nlohmann::json made = {{"dir", dir}};
  std::ifstream log_file(model_file(dir, "train_log.json"));
  if (!log_file) return made;
  const nlohmann::json log = nlohmann::json::parse(log_file, nullptr, false);
  if (!log.is_object()) return made;
  for (const auto& [key, value] : log.items()) {
    if (key == "checkpoints") continue;
    if (key == "evals") {
      if (value.is_array() && !value.empty()) made["last_eval"] = value.back();
      continue;
    }
    made[key] = value;
  }
  return made;
}

// Random-span losses (nats) of the first and the repeated copy, summed.
struct CopyLosses {
  double first = 0.0, second = 0.0;
  long n_first = 0, n_second = 0;
  bool any() const { return n_first > 0 && n_second > 0; }
  void add(const hl::DataMix& mix, const float* losses, int T) {
    mix.induction_losses(losses, T, &first, &second, &n_first, &n_second);
  }
};

}  // namespace

int cmd_train(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::fputs(train_usage().c_str(), stdout);
      return 0;
    }
  }
  TrainOptions o;
  try {
    o = parse_train_options(argc, argv);
  } catch (const hl::Error& e) {
    std::fprintf(stderr, "headlight train: %s\n", e.what());
    return 2;
  }
  hl::Curriculum plan(o.plan);
  o.opt.total_steps = plan.steps();
  std::string command_line = "headlight";
  for (int i = 0; i < argc; ++i) command_line += std::string(" ") + argv[i];

  const std::string vocab_json = read_file(model_file(o.tokenizer_dir, "vocab.json"));
  const std::string merges_txt = read_file(model_file(o.tokenizer_dir, "merges.txt"));
  const hl::Tokenizer tokenizer(vocab_json, merges_txt);
  const uint64_t tok_hash = fnv1a(merges_txt, fnv1a(vocab_json));
  const std::vector<int> train_ids = encode_file_cached(o.train_path, tokenizer, tok_hash);
  const std::vector<int> val_ids = encode_file_cached(o.val_path, tokenizer, tok_hash);
  const int T = o.model.n_positions;
  if (train_ids.size() < static_cast<size_t>(T) + 2)
    throw hl::Error(o.train_path + ": only " + std::to_string(train_ids.size()) +
                    " tokens, fewer than n_positions + 2");
  if (val_ids.size() < static_cast<size_t>(T) + 1)
    throw hl::Error(o.val_path + ": only " + std::to_string(val_ids.size()) +
                    " tokens, fewer than n_positions + 1");

  o.model.vocab_size = tokenizer.vocab_size();
  hl::Weights params = hl::allocate_weights(o.model);
  nlohmann::json init_from;
  if (o.init_from.empty()) {
    hl::init_gpt2_weights(params, o.mix.seed);
    if (o.wpe_init == "sinusoidal") hl::init_sinusoidal_positions(params, 0.02f);
  } else {
    hl::read_weights_into(o.init_from, params, vocab_json, merges_txt);
    init_from = init_from_log(o.init_from);
    std::fprintf(stderr, "weights from %s\n", o.init_from.c_str());
  }
  const int batch = o.plan.batch;
  hl::Trainer trainer(params, batch, T, o.threads);
  hl::DataMix mix(train_ids, tokenizer.vocab_size(), o.mix);

  std::fprintf(stderr,
               "model: %d layers, %d heads, d=%d, ctx=%d, vocab=%d%s: %zu parameters\n"
               "batch %d x %d tokens, %d steps, lr %g (warm-up %d, cosine to %g), %d threads\n",
               o.model.n_layer, o.model.n_head, o.model.n_embd, T, o.model.vocab_size,
               o.model.attn_only ? ", attention only" : "", params.num_parameters(), batch, T,
               plan.steps(), o.opt.lr, o.opt.warmup_steps, o.opt.lr * o.opt.min_lr_frac, o.threads);

  make_dirs(o.out_dir);
  std::set<int> checkpoint_steps = hl::checkpoint_steps(o.checkpoints, o.checkpoint_ranges, plan.steps());
  nlohmann::json log = logged_config(o);
  log["command"] = command_line;
  log["model"] = nlohmann::json::parse(hl::config_to_json(o.model));
  log["parameters"] = params.num_parameters();
  if (!init_from.is_null()) log["init_from"] = init_from;
  if (o.plan.end_with_warmup) log["end_with_warmup"] = true;
  log["train_tokens"] = train_ids.size();
  log["val_tokens"] = val_ids.size();
  log["evals"] = nlohmann::json::array();
  log["checkpoints"] = nlohmann::json::array();
  const std::string log_path = model_file(o.out_dir, "train_log.json");
  auto write_log = [&] {
    const std::string text = log.dump(1);
    write_file(log_path, text.data(), text.size());
  };

  const auto t_start = std::chrono::steady_clock::now();
  auto seconds_since = [](std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  auto elapsed = [&] { return seconds_since(t_start); };
  const double tokens_per_step = static_cast<double>(batch) * T;
  const double flops_per_step = trainer.flops_per_step();  // at the full length T, MLPs on
  // The work of a step: shorter sequences, MLPs off or fewer blocks cost less.
  auto flops_of = [&](const hl::StepPlan& p) {
    return trainer.flops_for(p.batch, p.seq_len, p.mlp_on, p.active_layers);
  };
  double flops_done = 0.0, train_seconds = 0.0, eval_seconds = 0.0;
  double window_flops = 0.0, window_seconds = 0.0;  // since the last log line
  int window_steps = 0;
  double loss_sum_since_eval = 0.0;
  int steps_since_eval = 0;
  CopyLosses since_eval, since_log;  // on the random-token (induction) spans
  const double time_limit_s = o.time_limit_min * 60.0;
  bool stopped_by_time = false;

  auto run_eval = [&](int step, float lr) {
    const auto t0 = std::chrono::steady_clock::now();
    // Validation always runs at the full length.
    const int stage_B = trainer.batch_size(), stage_T = trainer.seq_len();
    trainer.set_batch_shape(batch, T);
    const hl::ValidationLoss r = hl::validation_loss(trainer, val_ids, o.eval_tokens, tokenizer);
    trainer.set_batch_shape(stage_B, stage_T);
    eval_seconds += seconds_since(t0);
    const double train_loss = steps_since_eval ? loss_sum_since_eval / steps_since_eval : NAN;
    const double tok_s = train_seconds > 0 ? step * tokens_per_step / train_seconds : 0.0;
    const double gflops = train_seconds > 0 ? flops_done / train_seconds / 1e9 : 0.0;
    nlohmann::json e = {
        {"step", step},
        {"tokens_seen", static_cast<double>(step) * tokens_per_step},
        {"train_loss", std::isfinite(train_loss) ? nlohmann::json(train_loss) : nlohmann::json()},
        {"val_loss", r.nats_per_token},
        {"val_bits_per_byte", r.bits_per_byte},
        {"val_eval_tokens", r.predicted_tokens},
        {"val_eval_bytes", r.predicted_bytes},
        {"lr", lr},
        {"elapsed_s", elapsed()},
        {"tokens_per_s", tok_s},
        {"gflops", gflops}};
    if (since_eval.any()) {
      e["induction_loss_first_half"] = since_eval.first / since_eval.n_first;
      e["induction_loss_repeated_half"] = since_eval.second / since_eval.n_second;
    }
    since_eval = CopyLosses{};
    log["evals"].push_back(e);
    char train_text[32] = "-";  // no training step yet at step 0
    if (std::isfinite(train_loss)) std::snprintf(train_text, sizeof train_text, "%.4f", train_loss);
    std::fprintf(stderr,
                 "eval step %6d | train loss %s | val loss %.4f nats/token, %.4f bits/byte "
                 "(%lld tokens) | %.0f s\n",
                 step, train_text, r.nats_per_token, r.bits_per_byte,
                 static_cast<long long>(r.predicted_tokens), elapsed());
    loss_sum_since_eval = 0.0;
    steps_since_eval = 0;
    write_log();
  };

  std::vector<int> inputs(static_cast<size_t>(batch) * T), targets(inputs.size());
  run_eval(0, 0.0f);
  int step = 0;
  float last_lr = 0.0f;
  double fit_flops = 0.0, fit_seconds = 0.0;  // flops_done and train_seconds at the last fit
  const hl::StepPlan first = plan.at(0);
  if (!first.mlp_on) {
    trainer.set_mlp_enabled(false);
    std::fprintf(stderr, "MLPs off (attention only) for the first %d steps\n", o.plan.mlp_off_steps);
  }
  if (first.active_layers < o.model.n_layer) {
    trainer.set_active_layers(first.active_layers);
    std::fprintf(stderr, "only the first %d blocks for the first %d steps\n", first.active_layers,
                 o.plan.shallow_steps);
  }
  while (step < plan.steps()) {
    const auto t0 = std::chrono::steady_clock::now();
    const hl::StepPlan p = plan.at(step);
    if (!o.model.attn_only && p.mlp_on && !trainer.mlp_enabled()) {
      trainer.set_mlp_enabled(true);
      log["mlp_on_at"] = step;
      std::fprintf(stderr, "step %d: MLPs on\n", step);
    }
    if (p.active_layers > trainer.active_layers()) {
      trainer.set_active_layers(p.active_layers);
      log["all_layers_at"] = step;
      std::fprintf(stderr, "step %d: all %d blocks on\n", step, o.model.n_layer);
    }
    if (p.seq_len != trainer.seq_len()) {
      trainer.set_batch_shape(p.batch, p.seq_len);
      std::fprintf(stderr, "step %d: sequences of %d tokens, batch %d\n", step, p.seq_len, p.batch);
    }
    mix.next(p.batch, p.seq_len, inputs, targets, p.warmup, p.two_back);
    trainer.set_target_weights(mix.target_weights());  // empty unless --copy-loss
    const float loss = trainer.forward(inputs.data(), targets.data());
    if (!std::isfinite(loss))
      throw hl::Error("loss is " + std::to_string(loss) + " at step " + std::to_string(step) +
                      " (diverged: lower --lr)");
    // (With --copy-loss a warm-up batch's loss is its copies' alone: the
    // first copies are not computed, so no random-span gap either.)
    if ((o.mix.induction_frac > 0 || p.warmup) && mix.target_weights().empty()) {
      since_eval.add(mix, trainer.token_losses(), p.seq_len);
      since_log.add(mix, trainer.token_losses(), p.seq_len);
    }
    trainer.backward();
    last_lr = hl::learning_rate(o.opt, step);
    const float grad_norm = trainer.step(o.opt);
    ++step;
    const double dt = seconds_since(t0);
    train_seconds += dt;
    window_seconds += dt;
    flops_done += trainer.flops_per_step();
    window_flops += trainer.flops_per_step();
    ++window_steps;
    loss_sum_since_eval += loss;
    ++steps_since_eval;

    // With a time limit, fit the schedule to it once the step time is known,
    // so the cosine still ends at min_lr when the time runs out, from the
    // speed since the last fit (Curriculum::refit_due says when): on a shared
    // machine the step count may grow back (up to --steps) or shrink again.
    if (time_limit_s > 0 && plan.refit_due(step, o.eval_every)) {
      const double per_flop = (train_seconds - fit_seconds) / (flops_done - fit_flops);
      fit_seconds = train_seconds;
      fit_flops = flops_done;
      const double evals_left = std::max(0.0, static_cast<double>(plan.steps() - step) / o.eval_every);
      const double eval_cost = eval_seconds / std::max<size_t>(1, log["evals"].size());
      const double budget = time_limit_s * 0.97 - elapsed() - evals_left * eval_cost;
      const int affordable = plan.affordable_steps(
          step, budget, [&](const hl::StepPlan& s) { return flops_of(s) * per_flop; });
      if (affordable != plan.steps()) {
        std::fprintf(stderr, "time limit %.1f min: %d steps instead of %d (%.3f s/step now)\n",
                     o.time_limit_min, affordable, plan.requested_steps(),
                     flops_of(plan.at(step)) * per_flop);
        plan.set_steps(std::max(step, affordable));
        o.opt.total_steps = plan.steps();
        std::set<int> kept;
        for (int s : checkpoint_steps)
          if (s <= step) kept.insert(s);
        for (int s : hl::checkpoint_steps(o.checkpoints, o.checkpoint_ranges, plan.steps()))
          if (s > step) kept.insert(s);
        checkpoint_steps = kept;
        log["steps_shrunk_by_time_limit"] = plan.steps();
      }
    }

    if (step % o.log_every == 0 || step == plan.steps()) {
      char induction[96] = "";
      bool end_warmup = false;
      if (since_log.any()) {
        const double first_loss = since_log.first / since_log.n_first;
        const double repeat_loss = since_log.second / since_log.n_second;
        std::snprintf(induction, sizeof induction, " | random-span loss %.2f -> repeat %.2f",
                      first_loss, repeat_loss);
        end_warmup = p.warmup && plan.warmup_gap_reached(step, first_loss, repeat_loss);
      }
      since_log = CopyLosses{};
      std::fprintf(stderr,
                   "step %6d/%d | loss %.4f | lr %.2e | grad norm %.3f | %.0f tok/s | %.1f GFLOPS "
                   "| %.0f s%s\n",
                   step, plan.steps(), loss, last_lr, grad_norm,
                   window_steps * tokens_per_step / window_seconds,
                   window_flops / window_seconds / 1e9, elapsed(), induction);
      window_seconds = window_flops = 0.0;
      window_steps = 0;
      if (end_warmup) {
        std::fprintf(stderr, "induction warm-up ends at step %d (random-span gap >= %.2f nats)\n",
                     step, o.plan.induction_warmup_gap);
        plan.end_warmup(step);
        log["induction_warmup_ended_at"] = step;
        log["data_mix"]["seq_schedule_run"] = schedule_json(plan.seq_schedule());
      }
    }
    if (checkpoint_steps.count(step)) {
      char name[32];
      std::snprintf(name, sizeof name, "step-%05d", step);
      const std::string dir = model_file(model_file(o.out_dir, "checkpoints"), name);
      hl::write_model_dir(dir, params, o.dtype, vocab_json, merges_txt,
                          {{"format", "pt"}, {"step", std::to_string(step)}});
      log["checkpoints"].push_back({{"step", step},
                                    {"dir", std::string("checkpoints/") + name},
                                    {"tokens_seen", step * tokens_per_step},
                                    {"train_loss", loss}});
    }
    if (time_limit_s > 0 && elapsed() > time_limit_s && step < plan.steps()) {
      std::fprintf(stderr, "time limit reached at step %d\n", step);
      stopped_by_time = true;
      break;
    }
    if (step % o.eval_every == 0 && step < plan.steps()) run_eval(step, last_lr);
  }
  if (!trainer.mlp_enabled() && !o.model.attn_only) {
    // The written folder is a model with MLPs: its last validation is of it
    // as the engine runs it, MLPs on.
    trainer.set_mlp_enabled(true);
    std::fprintf(stderr, "MLPs on for the last validation (the written model has them)\n");
  }
  if (trainer.active_layers() < o.model.n_layer) {
    trainer.set_active_layers(o.model.n_layer);
    std::fprintf(stderr, "all blocks on for the last validation (the written model has them)\n");
  }
  run_eval(step, last_lr);

  log["steps"] = step;
  log["stopped_by_time_limit"] = stopped_by_time;
  log["train_seconds"] = train_seconds;
  log["total_seconds"] = elapsed();
  log["tokens_seen"] = step * tokens_per_step;
  log["tokens_per_s"] = step * tokens_per_step / train_seconds;
  log["gflops"] = flops_done / train_seconds / 1e9;
  log["flops_per_step"] = flops_per_step;
  hl::write_model_dir(o.out_dir, params, o.dtype, vocab_json, merges_txt,
                      {{"format", "pt"}, {"step", std::to_string(step)}});
  write_log();
  std::fprintf(stderr, "done: %d steps, %.0f tokens/s, %.1f GFLOPS, %.0f s; wrote %s\n", step,
               step * tokens_per_step / train_seconds, flops_done / train_seconds / 1e9,
               elapsed(), o.out_dir.c_str());
  return 0;
}
