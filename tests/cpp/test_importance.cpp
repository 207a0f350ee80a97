// Gradient head importance (importance.h): d mean_loss / d gain from the
// trainer's backward pass, against central finite differences of the
// Session's mean loss (gains +- eps), at gains all 1 and at a mixed set, on
// both fixture models; its rank agreement with the exact mute-and-rerun
// deltas; and the model's trainer that computes it (gains in the forward
// equal to the Session's bit for bit, no parameter state).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "error.h"
#include "fixtures.h"
#include "importance.h"
#include "model.h"
#include "session.h"
#include "train.h"

using namespace hl_test;

namespace {

const char* const kFixtures[] = {"tiny-gpt", "tiny-attn-only"};

// A text with repeats (so that attention has something to find), encoded by
// the model's own tokenizer and cut to at most n_positions.
std::vector<int> text_ids(const hl::Model& model) {
  std::vector<int> ids = model.tokenizer.encode(
      "The old lighthouse keeper climbed the stairs every evening to light the lamp, and the "
      "ships that passed the rocks at night never knew his name. One winter a storm broke the "
      "glass, and he carried the lamp up the hill to the church tower, where it burned until "
      "the morning. The old lighthouse keeper climbed the stairs every evening to light the "
      "lamp, and the ships that passed the rocks at night never knew his name.");
  ids.resize(std::min<size_t>(ids.size(), model.config.n_positions));
  return ids;
}

// A mixed set of gains (L, H): muted, halved, amplified, negative and 1.
std::vector<float> mixed_gains(const hl::ModelConfig& cfg) {
  const float pattern[] = {1.0f, 0.0f, 0.5f, 1.5f, -0.5f, 1.0f, 0.25f};
  std::vector<float> gains(static_cast<size_t>(cfg.n_layer) * cfg.n_head);
  for (size_t i = 0; i < gains.size(); ++i) gains[i] = pattern[(i * 3 + 1) % 7];
  return gains;
}

// The Session's mean loss on ids at gains (L, H), from its token losses
// summed in double (the finite difference subtracts two nearby losses).
double session_mean_loss(hl::Session& session, const std::vector<int>& ids,
                         const std::vector<float>& gains) {
  const int H = session.model().config.n_head;
  for (size_t i = 0; i < gains.size(); ++i)
    session.set_head_gain(static_cast<int>(i / H), static_cast<int>(i % H), gains[i]);
  session.run(ids);
  const hl::Trace& tr = session.trace();
  double sum = 0.0;
  for (int t = 0; t + 1 < tr.T; ++t) sum += tr.token_loss[t];
  return sum / (tr.T - 1);
}

}  // namespace

TEST_CASE("gradient importance equals central finite differences of the mean loss") {
  const float eps = 1e-2f;
  for (const char* name : kFixtures) {
    const auto model = load_fixture(name);
    const hl::ModelConfig& cfg = model->config;
    const std::vector<int> ids = text_ids(*model);
    const std::vector<float> ones(static_cast<size_t>(cfg.n_layer) * cfg.n_head, 1.0f);
    for (const bool mixed : {false, true}) {
      CAPTURE(name);
      CAPTURE(mixed);
      const std::vector<float> gains = mixed ? mixed_gains(cfg) : ones;
      const std::vector<float> grad = hl::gradient_importance(*model, ids, gains);
      REQUIRE(grad.size() == gains.size());

      hl::Session session(model);
      double max_abs_err = 0.0, max_rel_err = 0.0, max_fd = 0.0;
      for (size_t i = 0; i < gains.size(); ++i) {
        std::vector<float> up = gains, down = gains;
        up[i] += eps;
        down[i] -= eps;
        const double fd = (session_mean_loss(session, ids, up) -
                           session_mean_loss(session, ids, down)) / (2.0 * eps);
        const double err = std::fabs(grad[i] - fd);
        max_abs_err = std::max(max_abs_err, err);
        max_fd = std::max(max_fd, std::fabs(fd));
        // Relative to the head's own derivative, floored where it is tiny
        // (the float32 loss difference then is mostly rounding).
        max_rel_err = std::max(max_rel_err, err / std::max(std::fabs(fd), 1e-3));
      }
      std::printf(
          "[importance] %s, gains %s, T=%zu: max |grad - central FD (eps %.0e)| = %.3g, "
          "max relative error %.3g, largest |d loss / d gain| %.3g\n",
          name, mixed ? "mixed" : "all 1", ids.size(), static_cast<double>(eps), max_abs_err,
          max_rel_err, max_fd);
      CHECK(max_fd > 1e-3);  // the gradients are not all 0, so the comparison means something
      CHECK(max_rel_err < 2e-2);
    }
  }
}

TEST_CASE("gradient importance ranks heads as muting them one by one does") {
  // Muting head i from gain g changes the loss by about -g * grad[i] (first
  // order); the exact change is a rerun with that head at 0.
  struct Case {
    std::string label;
    std::shared_ptr<const hl::Model> model;
  };
  std::vector<Case> cases;
  for (const char* name : kFixtures) cases.push_back({name, load_fixture(name)});
  {
    const std::string dir = std::string(HL_SOURCE_DIR) + "/models/gpt-4l/";
    const std::string st = read_file(dir + "model.safetensors");
    cases.push_back({"gpt-4l", hl::load_model(read_file(dir + "config.json"),
                                              reinterpret_cast<const uint8_t*>(st.data()),
                                              st.size(), read_file(dir + "vocab.json"),
                                              read_file(dir + "merges.txt"))});
  }
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const hl::ModelConfig& cfg = c.model->config;
    const std::vector<int> ids = text_ids(*c.model);
    const std::vector<float> gains(static_cast<size_t>(cfg.n_layer) * cfg.n_head, 1.0f);
    const std::vector<float> grad = hl::gradient_importance(*c.model, ids, gains);

    hl::Session session(c.model);
    const double base = session_mean_loss(session, ids, gains);
    std::vector<float> exact(gains.size()), predicted(gains.size());
    for (size_t i = 0; i < gains.size(); ++i) {
      std::vector<float> muted = gains;
      muted[i] = 0.0f;
      exact[i] = static_cast<float>(session_mean_loss(session, ids, muted) - base);
      predicted[i] = -gains[i] * grad[i];
    }
    const double rho = hl::spearman_rho(predicted, exact);
    std::printf(
        "[importance] %s, T=%zu, %zu heads: Spearman rho(-gain * gradient, exact mute delta) = "
        "%.3f\n",
        c.label.c_str(), ids.size(), gains.size(), rho);
    // First order from gain 1 to 0 is a coarse guide, not an identity (the
    // finite-difference test above is the exact check): the ranks must agree
    // clearly, which a wrong sign or a head mixed up with another breaks.
    CHECK(rho > 0.3);
  }
}

TEST_CASE("spearman_rho: ranks, ties and the degenerate cases") {
  CHECK(hl::spearman_rho({1, 2, 3, 4}, {10, 20, 30, 40}) == doctest::Approx(1.0));
  CHECK(hl::spearman_rho({1, 2, 3, 4}, {4, 3, 2, 1}) == doctest::Approx(-1.0));
  // Monotone but not linear: ranks only.
  CHECK(hl::spearman_rho({1, 2, 3, 4}, {1, 8, 27, 1000}) == doctest::Approx(1.0));
  // Ties share the mean rank: ranks (0.5, 0.5, 2, 3) against (0, 1, 2, 3):
  // rho = 4.5 / sqrt(4.5 * 5) by hand.
  const double tied = hl::spearman_rho({5, 5, 7, 9}, {1, 2, 3, 4});
  std::printf("[importance] spearman_rho with a tie: %.6f (by hand 4.5 / sqrt(22.5) = %.6f)\n",
              tied, 4.5 / std::sqrt(22.5));
  CHECK(tied == doctest::Approx(4.5 / std::sqrt(22.5)));
  CHECK(std::isnan(hl::spearman_rho({1, 1, 1}, {1, 2, 3})));
  CHECK_THROWS_AS(hl::spearman_rho({1, 2}, {1, 2, 3}), hl::Error);
}

TEST_CASE("a model's trainer: the Session's forward with gains, bit for bit; no parameter state") {
  for (const char* name : kFixtures) {
    CAPTURE(name);
    const auto model = load_fixture(name);
    const hl::ModelConfig& cfg = model->config;
    const int L = cfg.n_layer, H = cfg.n_head, C = cfg.n_embd;
    const std::vector<int> ids = text_ids(*model);
    const int T = static_cast<int>(ids.size());
    const std::vector<float> gains = mixed_gains(cfg);

    hl::Session session(model);
    for (size_t i = 0; i < gains.size(); ++i)
      session.set_head_gain(static_cast<int>(i / H), static_cast<int>(i % H), gains[i]);
    session.run(ids);
    const hl::Trace& tr = session.trace();

    hl::Trainer trainer(*model, 1, T);
    trainer.set_head_gains(gains.data());
    trainer.forward(ids.data(), ids.data());  // targets do not enter the activations
    const size_t TC = static_cast<size_t>(T) * C, HTT = static_cast<size_t>(H) * T * T;
    bool same = true;
    for (int l = 0; l < L; ++l) {
      const hl::BlockActivations& a = trainer.activations().layers[l];
      same = same && std::memcmp(a.attn_probs, tr.attn_probs.data() + l * HTT, HTT * 4) == 0;
      same = same && std::memcmp(a.z, tr.head_z.data() + l * TC, TC * 4) == 0;
      same = same && std::memcmp(a.output, tr.residual.data() + (l + 1) * TC, TC * 4) == 0;
    }
    std::printf("[importance] %s: model's trainer with mixed gains equals the Session in every "
                "layer's attention, z and output: %s\n",
                name, same ? "bit for bit" : "NO");
    CHECK(same);

    // It reads the model in place: nothing to train, no gradients to hand out.
    CHECK_THROWS_AS(trainer.step(hl::OptimizerConfig{}), hl::Error);
    CHECK_THROWS_AS(trainer.params(), hl::Error);
    CHECK_THROWS_AS(trainer.grads(), hl::Error);
    trainer.backward();
    CHECK_NOTHROW(trainer.proj_input_grad(L - 1));
    CHECK_THROWS_AS(trainer.proj_input_grad(L), hl::Error);
    trainer.set_head_gains(nullptr);
    CHECK_THROWS_AS(trainer.proj_input_grad(0), hl::Error);
  }
}

TEST_CASE("gradient importance: errors name the problem") {
  const auto model = load_fixture("tiny-gpt");
  const hl::ModelConfig& cfg = model->config;
  const std::vector<float> ones(static_cast<size_t>(cfg.n_layer) * cfg.n_head, 1.0f);
  auto error_of = [&](const std::vector<int>& ids, const std::vector<float>& gains) {
    try {
      hl::gradient_importance(*model, ids, gains);
    } catch (const hl::Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK(error_of({5}, ones).find("at least 2 tokens") != std::string::npos);
  CHECK(error_of({5, 6}, {1.0f}).find("gains must hold") != std::string::npos);
  std::vector<float> bad = ones;
  bad[5] = std::nanf("");
  CHECK(error_of({5, 6}, bad).find("head 1.1") != std::string::npos);
  CHECK(error_of({5, cfg.vocab_size}, ones).find("outside the vocabulary") != std::string::npos);
  // Longer than n_positions: the first n_positions, as Session::run.
  std::vector<int> long_ids(cfg.n_positions + 5, 7);
  std::vector<int> cut(long_ids.begin(), long_ids.begin() + cfg.n_positions);
  CHECK(hl::gradient_importance(*model, long_ids, ones) == hl::gradient_importance(*model, cut, ones));
}
