// Trainer tests: finite-difference gradient checks on every parameter tensor
// of a tiny MLP model and a tiny attention-only model, determinism across
// seeds and thread counts, and a short training run whose loss must fall.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "error.h"
#include "fixtures.h"
#include "model.h"
#include "safetensors.h"
#include "session.h"
#include "train.h"
#include "weights.h"

using namespace hl_test;

namespace {

hl::ModelConfig tiny_config(bool attn_only) {
  hl::ModelConfig c;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 8;
  c.n_positions = 6;
  c.vocab_size = 11;
  c.attn_only = attn_only;
  return c;
}

// Weights big enough that every path carries a gradient well above float
// noise (GPT-2's 0.02 init makes the deep parts tiny).
void init_for_gradcheck(hl::Weights& w, uint64_t seed) {
  hl::Rng rng(seed);
  for (hl::ParamEntry& p : hl::param_table(w)) {
    const size_t n = hl::numel(p.shape);
    const bool ln_gain =
        p.name.find("ln_") != std::string::npos && p.name.find(".weight") != std::string::npos;
    for (size_t i = 0; i < n; ++i) p.data[i] = (ln_gain ? 1.0f : 0.0f) + 0.3f * rng.normal();
  }
}

void random_batch(hl::Rng& rng, int n, int V, std::vector<int>& inputs, std::vector<int>& targets) {
  inputs.resize(n);
  targets.resize(n);
  for (int i = 0; i < n; ++i) {
    inputs[i] = static_cast<int>(rng.below(V));
    targets[i] = static_cast<int>(rng.below(V));
  }
}

// Central differences in float with step h on sampled entries of every tensor;
// checks the relative error of the sampled gradient vector of each tensor.
void gradient_check(bool attn_only) {
  const hl::ModelConfig cfg = tiny_config(attn_only);
  hl::Weights w = hl::allocate_weights(cfg);
  init_for_gradcheck(w, 7);
  const int B = 2, T = cfg.n_positions;
  hl::Trainer trainer(w, B, T, 1);
  hl::Rng rng(11);
  std::vector<int> inputs, targets;
  random_batch(rng, B * T, cfg.vocab_size, inputs, targets);

  trainer.forward(inputs.data(), targets.data());
  trainer.backward();
  std::vector<hl::ParamEntry> params = hl::param_table(w);
  std::vector<hl::ParamEntry> grads = hl::param_table(trainer.grads());
  REQUIRE(params.size() == grads.size());

  const float h = 1e-2f;
  const int kSamples = 6;
  double worst = 0.0;
  std::printf("gradient check (%s model, central differences h=%g, %d entries per tensor)\n",
              attn_only ? "attention-only" : "MLP", h, kSamples);
  for (size_t t = 0; t < params.size(); ++t) {
    size_t n = 1;
    for (int64_t d : params[t].shape) n *= static_cast<size_t>(d);
    double diff2 = 0.0, sum2 = 0.0, max_abs = 0.0;
    for (int k = 0; k < kSamples; ++k) {
      // wpe rows past T get no gradient; sample within the first T rows.
      size_t limit = n;
      if (params[t].name == "wpe.weight") limit = static_cast<size_t>(T) * cfg.n_embd;
      const size_t i = rng.below(static_cast<uint32_t>(limit));
      float* x = params[t].data + i;
      const float saved = *x;
      *x = saved + h;
      const double plus = trainer.forward(inputs.data(), targets.data());
      *x = saved - h;
      const double minus = trainer.forward(inputs.data(), targets.data());
      *x = saved;
      const double numeric = (plus - minus) / (2.0 * h);
      const double analytic = grads[t].data[i];
      diff2 += (numeric - analytic) * (numeric - analytic);
      sum2 +=
          (std::fabs(numeric) + std::fabs(analytic)) * (std::fabs(numeric) + std::fabs(analytic));
      max_abs = std::max(max_abs, std::fabs(numeric - analytic));
    }
    // Relative error of the sampled vectors; a floor keeps all-but-zero
    // gradients (bias of a softmax-invariant direction) from dividing by noise.
    const double rel = std::sqrt(diff2) / std::max(std::sqrt(sum2), 1e-3);
    worst = std::max(worst, rel);
    std::printf("  %-26s max abs err %.2e  rel err %.2e\n", params[t].name.c_str(), max_abs, rel);
    CHECK_MESSAGE(rel < 3e-3, params[t].name);
  }
  std::printf("  worst relative error %.2e\n", worst);
}

// Sequences of a fixed cyclic pattern from random starting phases: every next
// token is determined by the current one, so the loss can fall far.
void pattern_batch(hl::Rng& rng, int B, int T, std::vector<int>& inputs,
                   std::vector<int>& targets) {
  static const int kPattern[] = {3, 1, 4, 1, 5, 9, 2, 6};  // period 8; '1' is ambiguous alone
  const int period = 8;
  inputs.resize(static_cast<size_t>(B) * T);
  targets.resize(inputs.size());
  for (int b = 0; b < B; ++b) {
    const int phase = static_cast<int>(rng.below(period));
    for (int t = 0; t < T; ++t) {
      inputs[b * T + t] = kPattern[(phase + t) % period];
      targets[b * T + t] = kPattern[(phase + t + 1) % period];
    }
  }
}

std::vector<float> train_pattern(const hl::ModelConfig& cfg, int steps, int n_threads,
                                 uint64_t seed) {
  hl::Weights w = hl::allocate_weights(cfg);
  hl::init_gpt2_weights(w, seed);
  const int B = 4, T = cfg.n_positions;
  hl::Trainer trainer(w, B, T, n_threads);
  hl::OptimizerConfig opt;
  opt.lr = 1e-2f;
  opt.warmup_steps = 5;
  opt.total_steps = steps;
  hl::Rng rng(seed + 1);
  std::vector<int> inputs, targets;
  std::vector<float> losses;
  for (int s = 0; s < steps; ++s) {
    pattern_batch(rng, B, T, inputs, targets);
    losses.push_back(trainer.forward(inputs.data(), targets.data()));
    trainer.backward();
    trainer.step(opt);
  }
  return losses;
}

// The trainer's forward must be the inference session's forward: same per-token
// losses on the same weights (both fixtures: with and without MLP).
void compare_with_session(const std::string& fixture) {
  const std::string config_json = fixture_file(fixture, "config.json");
  const std::string st = fixture_file(fixture, "model.safetensors");
  const auto* bytes = reinterpret_cast<const uint8_t*>(st.data());
  auto model = hl::load_model(config_json, bytes, st.size(), fixture_file(fixture, "vocab.json"),
                              fixture_file(fixture, "merges.txt"));
  const hl::ModelConfig& cfg = model->config;
  hl::Session session(model);
  const int T = cfg.n_positions;
  hl::Rng rng(3);
  std::vector<int> ids(T);
  for (int& id : ids) id = static_cast<int>(rng.below(cfg.vocab_size));
  session.run(ids);

  hl::Weights w = hl::load_weights(cfg, hl::parse_safetensors(bytes, st.size()));
  hl::Trainer trainer(w, 1, T - 1, 2);
  const float mean = trainer.forward(ids.data(), ids.data() + 1);
  double max_err = 0.0;
  for (int t = 0; t < T - 1; ++t)
    max_err = std::max(
        max_err, std::fabs(double(trainer.token_losses()[t]) - session.trace().token_loss[t]));
  std::printf("trainer vs session forward (%s, T=%d): mean loss %.6f vs %.6f, max abs err %.2e\n",
              fixture.c_str(), T - 1, mean, session.trace().mean_loss, max_err);
  CHECK(max_err < 1e-4);
}

}  // namespace

TEST_CASE("trainer forward equals the session forward") {
  compare_with_session("tiny-gpt");
  compare_with_session("tiny-attn-only");
}

TEST_CASE("trainer gradients match finite differences: MLP model") { gradient_check(false); }

TEST_CASE("trainer gradients match finite differences: attention-only model") {
  gradient_check(true);
}

TEST_CASE("learning rate: warm-up then cosine to min_lr_frac") {
  hl::OptimizerConfig opt;
  opt.lr = 1.0f;
  opt.min_lr_frac = 0.1f;
  opt.warmup_steps = 10;
  opt.total_steps = 110;
  CHECK(hl::learning_rate(opt, 0) == doctest::Approx(0.1));
  CHECK(hl::learning_rate(opt, 9) == doctest::Approx(1.0));
  CHECK(hl::learning_rate(opt, 60) == doctest::Approx(0.55));
  CHECK(hl::learning_rate(opt, 110) == doctest::Approx(0.1));
  CHECK(hl::learning_rate(opt, 500) == doctest::Approx(0.1));
}

TEST_CASE("training on a repeated pattern: loss falls, same seed same curve, any thread count") {
  hl::ModelConfig cfg = tiny_config(false);
  cfg.n_embd = 32;
  cfg.n_head = 4;
  cfg.n_positions = 16;
  cfg.vocab_size = 16;
  const int steps = 60;
  const std::vector<float> a = train_pattern(cfg, steps, 1, 42);
  const std::vector<float> b = train_pattern(cfg, steps, 2, 42);
  std::printf("pattern training (MLP): loss %.3f -> %.3f after %d steps (ln V = %.3f)\n", a.front(),
              a.back(), steps, std::log(16.0));
  CHECK(a.back() < 0.3f * a.front());
  bool identical = a == b;
  std::printf("  1 thread vs 2 threads: %s\n", identical ? "identical losses" : "DIFFERENT");
  CHECK(identical);

  cfg.attn_only = true;
  const std::vector<float> c = train_pattern(cfg, steps, 1, 42);
  std::printf("pattern training (attention-only): loss %.3f -> %.3f after %d steps\n", c.front(),
              c.back(), steps);
  CHECK(c.back() < 0.3f * c.front());
}

// A context-length curriculum reshapes the batch in place: a trainer built for
// (2, 6) and reshaped to (4, 3) must compute exactly what a trainer built for
// (4, 3) computes (losses and every gradient), over two optimiser steps.
TEST_CASE("target weights with zeros: the LM head on the counted rows only, the same loss and gradients") {
  // Rows of weight 0 are left out of the LM head (gathered rows); the loss
  // and every gradient must be those of the full head, where the same rows
  // weigh next to nothing (1e-30: their part is far below float noise).
  for (bool attn_only : {false, true}) {
    const hl::ModelConfig cfg = tiny_config(attn_only);
    hl::Weights w_gather = hl::allocate_weights(cfg), w_full = hl::allocate_weights(cfg);
    init_for_gradcheck(w_gather, 3);
    init_for_gradcheck(w_full, 3);
    const int B = 3, T = cfg.n_positions, N = B * T;
    hl::Trainer gather(w_gather, B, T, 2), full(w_full, B, T, 2);
    hl::Rng rng(21);
    std::vector<int> inputs, targets;
    random_batch(rng, N, cfg.vocab_size, inputs, targets);
    std::vector<float> zeros(N), tiny(N);
    int counted = 0;
    for (int i = 0; i < N; ++i) {
      const bool keep = rng.below(3) == 0;
      zeros[i] = keep ? 1.0f + 0.5f * static_cast<float>(i % 3) : 0.0f;
      tiny[i] = keep ? zeros[i] : 1e-30f;
      counted += keep;
    }
    gather.set_target_weights(zeros);
    full.set_target_weights(tiny);
    const float loss_gather = gather.forward(inputs.data(), targets.data());
    const float loss_full = full.forward(inputs.data(), targets.data());
    gather.backward();
    full.backward();
    double worst = 0.0, scale = 0.0;
    for (size_t i = 0; i < w_full.block.size(); ++i) {
      worst = std::max(worst, std::fabs(double(gather.grads().block[i]) - full.grads().block[i]));
      scale = std::max(scale, std::fabs(double(full.grads().block[i])));
    }
    int zero_losses = 0;
    for (int i = 0; i < N; ++i) zero_losses += zeros[i] == 0.0f && gather.token_losses()[i] == 0.0f;
    std::printf("%s model, %d of %d targets counted: loss %.7f gathered vs %.7f full head, max abs "
                "gradient diff %.2e (largest gradient %.2e)\n",
                attn_only ? "attention-only" : "MLP", counted, N, loss_gather, loss_full, worst, scale);
    CHECK(counted > 0);
    CHECK(counted < N);
    CHECK(std::fabs(loss_gather - loss_full) <= 1e-6f * std::fabs(loss_full));
    CHECK(worst <= 1e-5 * scale);
    CHECK(zero_losses == N - counted);
  }
}

TEST_CASE("set_batch_shape: a reshaped trainer equals one built for that shape") {
  const hl::ModelConfig cfg = tiny_config(false);
  hl::Weights w_reshaped = hl::allocate_weights(cfg), w_direct = hl::allocate_weights(cfg);
  hl::init_gpt2_weights(w_reshaped, 5);
  hl::init_gpt2_weights(w_direct, 5);
  hl::Trainer reshaped(w_reshaped, 2, 6, 2);
  hl::Trainer direct(w_direct, 4, 3, 2);
  reshaped.set_batch_shape(4, 3);
  CHECK(reshaped.batch_size() == 4);
  CHECK(reshaped.seq_len() == 3);
  hl::OptimizerConfig opt;
  hl::Rng rng(9);
  std::vector<int> inputs, targets;
  double max_diff = 0.0;
  for (int s = 0; s < 2; ++s) {
    random_batch(rng, 12, cfg.vocab_size, inputs, targets);
    const float a = reshaped.forward(inputs.data(), targets.data());
    const float b = direct.forward(inputs.data(), targets.data());
    max_diff = std::max(max_diff, std::fabs(double(a) - b));
    reshaped.backward();
    direct.backward();
    for (size_t i = 0; i < w_direct.block.size(); ++i)
      max_diff = std::max(max_diff, std::fabs(double(reshaped.grads().block[i]) -
                                              direct.grads().block[i]));
    reshaped.step(opt);
    direct.step(opt);
  }
  std::printf("reshaped (2,6)->(4,3) vs built (4,3): max abs diff of losses and gradients %.2e\n",
              max_diff);
  CHECK(max_diff == 0.0);
  // Back to the full shape, and shapes that do not fit are refused by name.
  reshaped.set_batch_shape(2, 6);
  CHECK(reshaped.seq_len() == 6);
  CHECK_THROWS_WITH_AS(reshaped.set_batch_shape(1, 12), doctest::Contains("1 x 12"), hl::Error);
  CHECK_THROWS_WITH_AS(reshaped.set_batch_shape(3, 3), doctest::Contains("must hold 12 tokens"),
                       hl::Error);
}

// ---- twins: a trainer with parts switched off against the smaller model ---

namespace {

// Copies every tensor of `from` that `to` has by name.
void copy_shared(hl::Weights& from, hl::Weights& to) {
  std::vector<hl::ParamEntry> src = hl::param_table(from);
  for (hl::ParamEntry& d : hl::param_table(to))
    for (const hl::ParamEntry& p : src)
      if (p.name == d.name) std::copy(p.data, p.data + hl::numel(p.shape), d.data);
}

// Every value of the tensors `keep` selects, in table order.
template <class Keep>
std::vector<float> values_where(hl::Weights& weights, Keep keep) {
  std::vector<float> v;
  for (const hl::ParamEntry& p : hl::param_table(weights))
    if (keep(p)) v.insert(v.end(), p.data, p.data + hl::numel(p.shape));
  return v;
}

// `steps` optimiser steps of both trainers on the same random batches; the
// largest |loss difference| over them and over the tensors both hold after.
double train_side_by_side(hl::Trainer& a, hl::Trainer& b, hl::Weights& wa, hl::Weights& wb,
                          int vocab_size, uint64_t seed, int steps) {
  hl::OptimizerConfig opt;
  hl::Rng rng(seed);
  std::vector<int> inputs, targets;
  const int N = a.batch_size() * a.seq_len();
  double max_diff = 0.0;
  for (int s = 0; s < steps; ++s) {
    random_batch(rng, N, vocab_size, inputs, targets);
    const float la = a.forward(inputs.data(), targets.data());
    const float lb = b.forward(inputs.data(), targets.data());
    max_diff = std::max(max_diff, std::fabs(double(la) - lb));
    a.backward();
    b.backward();
    a.step(opt);
    b.step(opt);
  }
  std::vector<hl::ParamEntry> b_params = hl::param_table(wb);
  for (const hl::ParamEntry& p : hl::param_table(wa))
    for (const hl::ParamEntry& q : b_params)
      if (p.name == q.name)
        for (size_t i = 0; i < hl::numel(p.shape); ++i)
          max_diff = std::max(max_diff, std::fabs(double(p.data[i]) - q.data[i]));
  return max_diff;
}

// After a part is switched back on: `trainer` must compute what a fresh
// trainer of the same weights does, and no longer what the twin computes.
void check_back_on(hl::Trainer& trainer, hl::Trainer& twin_trainer, const hl::Weights& w,
                   const hl::ModelConfig& cfg, uint64_t seed, const char* what) {
  hl::Weights copy = hl::allocate_weights(cfg);
  copy.block = w.block;
  hl::Trainer fresh(copy, trainer.batch_size(), trainer.seq_len(), 1);
  hl::Rng rng(seed);
  std::vector<int> inputs, targets;
  random_batch(rng, trainer.batch_size() * trainer.seq_len(), cfg.vocab_size, inputs, targets);
  const float on = trainer.forward(inputs.data(), targets.data());
  const float ref = fresh.forward(inputs.data(), targets.data());
  const float twin = twin_trainer.forward(inputs.data(), targets.data());
  std::printf("  %s: loss %.6f, fresh trainer %.6f, twin %.6f\n", what, on, ref, twin);
  CHECK(on == ref);
  CHECK(on != twin);
}

}  // namespace

// An attention-only warm-up of a model with MLPs: with its MLPs switched off
// the model must compute exactly what its attention-only twin (same shared
// tensors) computes, leave every MLP tensor untouched through optimiser
// steps, and compute the full model again once they are switched back on.
TEST_CASE("set_mlp_enabled(false): the attention-only twin, MLP tensors frozen") {
  const hl::ModelConfig cfg = tiny_config(false), twin_cfg = tiny_config(true);
  hl::Weights w = hl::allocate_weights(cfg), twin = hl::allocate_weights(twin_cfg);
  init_for_gradcheck(w, 3);
  copy_shared(w, twin);
  const std::vector<float> mlp_before = values_where(w, hl::is_mlp_param);
  const int B = 2, T = cfg.n_positions;
  hl::Trainer trainer(w, B, T, 2), twin_trainer(twin, B, T, 2);
  CHECK(trainer.mlp_enabled());
  CHECK_FALSE(twin_trainer.mlp_enabled());
  CHECK_THROWS_WITH_AS(twin_trainer.set_mlp_enabled(true), doctest::Contains("no MLPs"), hl::Error);
  const double full_flops = trainer.flops_per_step();
  trainer.set_mlp_enabled(false);
  CHECK(trainer.flops_per_step() == doctest::Approx(twin_trainer.flops_per_step()));
  CHECK(trainer.flops_per_step() < full_flops);
  const double max_diff = train_side_by_side(trainer, twin_trainer, w, twin, cfg.vocab_size, 4, 3);
  const std::vector<float> mlp_after = values_where(w, hl::is_mlp_param);
  std::printf("MLPs off vs attention-only twin, 3 steps: max abs diff of losses and shared "
              "weights %.2e; %zu MLP values %s\n",
              max_diff, mlp_after.size(), mlp_after == mlp_before ? "unchanged" : "CHANGED");
  CHECK(max_diff == 0.0);
  CHECK(mlp_after == mlp_before);
  trainer.set_mlp_enabled(true);
  check_back_on(trainer, twin_trainer, w, cfg, 5, "MLPs back on");
}

// A depth curriculum: with only its first block active, a two-block model
// must compute exactly what its one-block twin (same embeddings, block 0 and
// ln_f) computes, train the same way, and leave block 1 untouched.
TEST_CASE("set_active_layers(1): the one-block twin, the other block frozen") {
  hl::ModelConfig cfg = tiny_config(false), twin_cfg = tiny_config(false);
  twin_cfg.n_layer = 1;
  hl::Weights w = hl::allocate_weights(cfg), twin = hl::allocate_weights(twin_cfg);
  init_for_gradcheck(w, 5);
  copy_shared(w, twin);
  auto in_block_1 = [](const hl::ParamEntry& p) { return hl::param_layer(p) == 1; };
  const std::vector<float> block_1_before = values_where(w, in_block_1);
  CHECK(!block_1_before.empty());
  const int B = 2, T = cfg.n_positions;
  hl::Trainer trainer(w, B, T, 2), twin_trainer(twin, B, T, 1);
  CHECK(trainer.active_layers() == 2);
  CHECK_THROWS_WITH_AS(trainer.set_active_layers(3), doctest::Contains("1..2, got 3"), hl::Error);
  CHECK_THROWS_WITH_AS(trainer.set_active_layers(0), doctest::Contains("1..2, got 0"), hl::Error);
  const double full_flops = trainer.flops_per_step();
  trainer.set_active_layers(1);
  CHECK(trainer.flops_per_step() == doctest::Approx(twin_trainer.flops_per_step()));
  CHECK(trainer.flops_per_step() < full_flops);
  const double max_diff = train_side_by_side(trainer, twin_trainer, w, twin, cfg.vocab_size, 6, 3);
  const std::vector<float> block_1_after = values_where(w, in_block_1);
  std::printf("one of two blocks active vs one-block twin, 3 steps: max abs diff of losses and "
              "shared weights %.2e; %zu values of block 1 %s\n",
              max_diff, block_1_after.size(), block_1_after == block_1_before ? "unchanged" : "CHANGED");
  CHECK(max_diff == 0.0);
  CHECK(block_1_after == block_1_before);
  trainer.set_active_layers(2);
  check_back_on(trainer, twin_trainer, w, cfg, 7, "both blocks on");
}

// AdamW against a hand computation in double: two steps on one batch with a
// clip norm below the gradient norm (so clipping acts), weight decay 0.1
// (2-D tensors only: biases and layernorm parameters are not decayed) and
// the bias corrections 1 - beta^t of steps 1 and 2. The gradient of step 2 is
// that of the weights after step 1 (a second forward/backward).
TEST_CASE("AdamW step: clipping, decay on 2-D tensors only, bias correction") {
  const hl::ModelConfig cfg = tiny_config(false);
  hl::Weights w = hl::allocate_weights(cfg);
  hl::init_gpt2_weights(w, 5);
  hl::Rng rng(9);
  std::vector<int> inputs, targets;
  random_batch(rng, 2 * cfg.n_positions, cfg.vocab_size, inputs, targets);
  hl::Trainer trainer(w, 2, cfg.n_positions, 1);
  hl::OptimizerConfig opt;
  opt.lr = 1e-2f;
  opt.warmup_steps = 0;
  opt.min_lr_frac = 1.0f;  // constant lr: learning_rate() is tested on its own above
  opt.weight_decay = 0.1f;
  opt.grad_clip = 0.05f;

  const size_t n = w.block.size();
  std::vector<double> p(w.block.begin(), w.block.end()), m(n, 0.0), v(n, 0.0);
  // Which entries decay: the 2-D tensors of the table, by position in the block.
  std::vector<char> decays(n, 0);
  size_t n_decayed = 0;
  for (const hl::ParamEntry& e : hl::param_table(w)) {
    const size_t off = static_cast<size_t>(e.data - w.block.data());
    const size_t count = hl::numel(e.shape);
    const bool two_d = e.shape.size() == 2;
    if (two_d) n_decayed += count;
    std::fill(decays.begin() + off, decays.begin() + off + count, two_d ? 1 : 0);
  }
  CHECK(n_decayed > 0);
  CHECK(n_decayed < n);

  double max_diff = 0.0, max_change = 0.0;
  for (int t = 1; t <= 2; ++t) {
    trainer.forward(inputs.data(), targets.data());
    trainer.backward();
    const std::vector<float> g(trainer.grads().block.begin(), trainer.grads().block.end());
    double sumsq = 0.0;
    for (float x : g) sumsq += static_cast<double>(x) * x;
    const double norm = std::sqrt(sumsq);
    const double scale = norm > opt.grad_clip ? opt.grad_clip / norm : 1.0;
    const float reported = trainer.step(opt);
    std::printf("AdamW step %d: grad norm %.6f (trainer %.6f), clip scale %.4f\n", t, norm,
                reported, scale);
    CHECK(reported == doctest::Approx(norm).epsilon(1e-5));
    CHECK(scale < 1.0);  // clipping acts
    const double b1 = opt.beta1, b2 = opt.beta2;
    for (size_t i = 0; i < n; ++i) {
      const double gi = g[i] * scale;
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      const double m_hat = m[i] / (1 - std::pow(b1, t));
      const double v_hat = v[i] / (1 - std::pow(b2, t));
      const double before = p[i];
      p[i] -= opt.lr * (m_hat / (std::sqrt(v_hat) + opt.eps) +
                        (decays[i] ? opt.weight_decay * p[i] : 0.0));
      max_change = std::max(max_change, std::abs(p[i] - before));
    }
    // The trainer's weights follow the double computation (step 2 starts
    // from the trainer's own float weights of step 1, so resync).
    for (size_t i = 0; i < n; ++i) {
      max_diff = std::max(max_diff, std::abs(p[i] - w.block[i]));
      p[i] = w.block[i];
    }
  }
  std::printf("AdamW: max |trainer - hand| %.3g over %zu weights (largest update %.3g)\n", max_diff,
              n, max_change);
  CHECK(max_diff < 1e-6);
  CHECK(max_change > 1e-3);  // the updates are far above the tolerance

  // Decay is what tells 2-D tensors from the others: with zero gradient
  // (lr * wd * w only) a bias stays, a weight shrinks by exactly lr * wd.
  hl::Weights z = hl::allocate_weights(cfg);
  hl::init_gpt2_weights(z, 5);
  for (hl::ParamEntry& e : hl::param_table(z))
    if (e.shape.size() == 1) std::fill(e.data, e.data + e.shape[0], 0.5f);
  const std::vector<float> z0 = z.block;
  hl::Trainer idle(z, 2, cfg.n_positions, 1);
  std::fill(idle.grads().block.begin(), idle.grads().block.end(), 0.0f);
  idle.step(opt);
  double worst_decay = 0.0, worst_kept = 0.0;
  for (size_t i = 0; i < n; ++i) {
    if (decays[i])
      worst_decay = std::max(worst_decay, std::abs(z.block[i] - z0[i] * (1.0 - opt.lr * opt.weight_decay)));
    else
      worst_kept = std::max(worst_kept, std::abs(static_cast<double>(z.block[i]) - z0[i]));
  }
  std::printf("AdamW zero gradient: 2-D weights off w(1 - lr wd) by %.3g, 1-D off w by %.3g\n",
              worst_decay, worst_kept);
  CHECK(worst_decay < 1e-7);  // float rounding of w - lr wd w, w ~ 0.1 at most
  CHECK(worst_kept == 0.0);
}
