// One head's arithmetic (head_arithmetic.h) and the composition patterns
// (composition.h) against the forward pass itself: the softmax row and z
// equal the Trace's bit for bit, the head outputs add up to the attention
// block's residual update, and a pattern after a mute equals a full run with
// that head muted. Each test prints the largest difference it saw.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "analysis.h"
#include "composition.h"
#include "error.h"
#include "fixtures.h"
#include "head_arithmetic.h"
#include "kernels.h"
#include "session.h"

using namespace hl_test;

namespace {

// A random half repeated, so that induction heads have something to do.
std::vector<int> text_ids(const hl::ModelConfig& cfg, int T, uint64_t seed) {
  std::vector<int> ids = hl::repeated_random_tokens((T + 1) / 2, cfg.vocab_size, {}, seed);
  ids.resize(T);
  return ids;
}

// Edits the arithmetic must see: a gain on one head, a replaced (D) z on another.
void apply_edits(hl::Session& s) {
  const hl::ModelConfig& cfg = s.model().config;
  s.set_head_gain(0, 0, 0.5f);
  std::vector<float> mean(cfg.d_head());
  for (size_t i = 0; i < mean.size(); i++) mean[i] = 0.03f * static_cast<float>(i % 7) - 0.1f;
  s.set_head_z(cfg.n_layer - 1, 1, mean);
}

float max_abs_diff(const float* a, const float* b, size_t n) {
  float worst = 0;
  for (size_t i = 0; i < n; i++) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

bool same_bits(const float* a, const float* b, size_t n) {
  return std::memcmp(a, b, n * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("head arithmetic: softmax row and z equal the Trace bit for bit; steps agree") {
  // The fixtures (D = 12 and 16) and the default shipped model (D = 32):
  // only the head's columns of c_attn, or all of them, as D meets the GEMM panels.
  for (const char* name : {"tiny-gpt", "tiny-attn-only", "gpt-4l"}) {
    const bool shipped = std::string(name) == "gpt-4l";
    const auto model = shipped ? load_shipped(name) : load_fixture(name);
    const hl::ModelConfig& cfg = model->config;
    const int T = 24, H = cfg.n_head, D = cfg.d_head();
    hl::Session s(model);
    apply_edits(s);
    s.run(text_ids(cfg, T, 3));
    const hl::Trace& tr = s.trace();
    int checked = 0, row_mismatch = 0, z_mismatch = 0;
    float softmax_diff = 0, scaled_diff = 0, xy_diff = 0;
    for (int l = 0; l < cfg.n_layer; l++) {
      for (int h = 0; h < H; h++) {
        for (const int t : {0, 1, 7, T - 1}) {
          const hl::HeadArithmetic a = hl::head_arithmetic(*model, tr, s.head_edits(), l, h, t);
          const int n = t + 1;
          REQUIRE(a.probs.size() == size_t(n));
          REQUIRE(a.k.size() == size_t(n) * D);
          const float* row = tr.attn_probs.data() + ((size_t(l) * H + h) * T + t) * T;
          const float* z = tr.head_z.data() + ((size_t(l) * T + t) * H + h) * D;
          row_mismatch += !same_bits(a.probs.data(), row, n);
          z_mismatch += !same_bits(a.z.data(), z, D);
          // softmax of the printed scaled scores against the kernel's row
          float m = a.scaled[0];
          for (float x : a.scaled) m = std::max(m, x);
          double sum = 0;
          for (float x : a.scaled) sum += std::exp(double(x) - m);
          for (int k = 0; k < n; k++) {
            softmax_diff = std::max(softmax_diff, std::fabs(float(std::exp(double(a.scaled[k]) - m) / sum) - a.probs[k]));
            scaled_diff = std::max(scaled_diff, std::fabs(a.scores[k] * a.scale - a.scaled[k]));
            // x * |q| is the score
            xy_diff = std::max(xy_diff, std::fabs(a.key_xy[2 * k] * a.query_xy[0] - a.scores[k]) /
                                            std::max(1.0f, std::fabs(a.scores[k])));
          }
          checked++;
        }
      }
    }
    std::printf("head arithmetic %s (D %d, GEMM panel %d): %d (head, position) pairs, rows differing "
                "from the Trace %d, z differing %d; softmax(scaled) vs the row max abs diff %.3g; "
                "x*|q| vs score rel %.3g\n",
                name, D, hl::gemm_panel_width(), checked, row_mismatch, z_mismatch, softmax_diff, xy_diff);
    CHECK(row_mismatch == 0);
    CHECK(z_mismatch == 0);
    CHECK(softmax_diff < 1e-6f);
    CHECK(scaled_diff < 1e-6f);
    CHECK(xy_diff < 1e-4f);
  }
}

TEST_CASE("head arithmetic: the heads' outputs add up to the attention block's update") {
  // Attention-only: residual[l+1] = residual[l] + sum_h output_h + c_proj bias.
  for (const char* name : {"tiny-attn-only"}) {
    const auto model = load_fixture(name);
    const hl::ModelConfig& cfg = model->config;
    REQUIRE(cfg.attn_only);
    const int T = 20, H = cfg.n_head, C = cfg.n_embd;
    hl::Session s(model);
    apply_edits(s);
    s.run(text_ids(cfg, T, 9));
    const hl::Trace& tr = s.trace();
    float worst = 0;
    for (int l = 0; l < cfg.n_layer; l++) {
      for (const int t : {0, 5, T - 1}) {
        std::vector<double> sum(C, 0.0);
        for (int h = 0; h < H; h++) {
          const hl::HeadArithmetic a = hl::head_arithmetic(*model, tr, s.head_edits(), l, h, t);
          for (int j = 0; j < C; j++) sum[j] += a.output[j];
          if (l == 0 && h == 0) CHECK(a.gain == 0.5f);
          if (l == cfg.n_layer - 1 && h == 1) CHECK(a.z_replaced);
        }
        const float* in = tr.residual.data() + (size_t(l) * T + t) * C;
        const float* out = tr.residual.data() + (size_t(l + 1) * T + t) * C;
        const float* bias = model->weights.layers[l].c_proj_b;
        for (int j = 0; j < C; j++) {
          worst = std::max(worst, float(std::fabs(double(out[j]) - in[j] - bias[j] - sum[j])));
        }
      }
    }
    std::printf("head arithmetic %s: sum of head outputs vs residual update max abs diff %.3g\n",
                name, worst);
    CHECK(worst < 1e-4f);
  }
}

TEST_CASE("head arithmetic: out-of-range heads and positions are named") {
  const auto model = load_fixture("tiny-gpt");
  const hl::ModelConfig& cfg = model->config;
  hl::Session s(model);
  s.run(text_ids(cfg, 8, 1));
  const auto message = [&](int l, int h, int t) {
    try {
      hl::head_arithmetic(*model, s.trace(), s.head_edits(), l, h, t);
    } catch (const hl::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message(cfg.n_layer, 0, 0).find("head " + std::to_string(cfg.n_layer) + ".0 is outside") == 0);
  CHECK(message(0, -1, 0).find("head 0.-1 is outside") == 0);
  CHECK(message(0, 0, 8) == "position 8 is outside the text (positions 0..7)");
  CHECK(message(0, 0, -1) == "position -1 is outside the text (positions 0..7)");
  CHECK_THROWS_AS(hl::composition_patterns(*model, s.trace(), s.head_edits(), 0, cfg.n_head, 1, 0),
                  hl::Error);
}

TEST_CASE("composition: the pattern after a mute equals a full run with the head muted") {
  for (const char* name : {"tiny-gpt", "tiny-attn-only"}) {
    const auto model = load_fixture(name);
    const hl::ModelConfig& cfg = model->config;
    const int T = 30, H = cfg.n_head, L = cfg.n_layer;
    const std::vector<int> ids = text_ids(cfg, T, 4);
    hl::Session s(model);
    apply_edits(s);
    s.run(ids);
    const int tl = L - 1, th = 2;
    const hl::CompositionPatterns c = hl::composition_patterns(*model, s.trace(), s.head_edits(), 0, 1, tl, th);
    const size_t TT = size_t(T) * T;
    const float* drawn = s.trace().attn_probs.data() + (size_t(tl) * H + th) * TT;
    CHECK(c.composes);
    CHECK(same_bits(c.before.data(), drawn, TT));
    hl::Session muted(model);
    apply_edits(muted);
    muted.set_head_gain(0, 1, 0.0f);
    muted.run(ids);
    const float* expected = muted.trace().attn_probs.data() + (size_t(tl) * H + th) * TT;
    const float changed = max_abs_diff(c.before.data(), c.after.data(), TT);
    std::printf("composition %s: 0.1 muted -> %d.%d after vs full run max abs diff %.3g "
                "(before vs after %.3g)\n",
                name, tl, th, max_abs_diff(c.after.data(), expected, TT), changed);
    CHECK(same_bits(c.after.data(), expected, TT));
    CHECK(changed > 0);
    // A head of the same layer cannot change: gains act after attention.
    const hl::CompositionPatterns same = hl::composition_patterns(*model, s.trace(), s.head_edits(), tl, 0, tl, th);
    CHECK_FALSE(same.composes);
    CHECK(same_bits(same.after.data(), drawn, TT));
  }
}

TEST_CASE("composition: gpt-4l's induction head 1.5 needs previous-token head 0.1") {
  const auto model = load_shipped("gpt-4l");
  const std::vector<int> ids = text_ids(model->config, 64, 11);
  hl::Session s(model);
  s.run(ids);
  for (const int th : {5, 6}) {
    const hl::CompositionPatterns c = hl::composition_patterns(*model, s.trace(), s.head_edits(), 0, 1, 1, th);
    std::printf("composition gpt-4l: 1.%d induction score %.3f, with 0.1 muted %.3f\n", th,
                c.before_scores.induction, c.after_scores.induction);
    CHECK(c.before_scores.induction > 0.4f);
    CHECK(c.after_scores.induction < c.before_scores.induction - 0.2f);
  }
}
