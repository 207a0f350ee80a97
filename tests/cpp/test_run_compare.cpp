// Compare two runs (run_compare.h, Engine::head_attention): the difference
// map is B - A of two independent passes, a run against itself differs
// nowhere, the per-row distances match hand values, texts of different
// counts are aligned by position, and head_attention leaves the engine's
// own trace and edits as they were.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "engine.h"
#include "error.h"
#include "fixtures.h"
#include "run_compare.h"
#include "session.h"

namespace {

// Head (layer, head)'s (T, T) pattern of a plain Session run with gains.
std::vector<float> session_pattern(std::shared_ptr<const hl::Model> model, const std::vector<int>& ids,
                                   const std::vector<float>& gains, int layer, int head) {
  hl::Session s(model, 1);
  const int H = model->config.n_head;
  for (int l = 0; l < model->config.n_layer; ++l)
    for (int h = 0; h < H; ++h) s.set_head_gain(l, h, gains[static_cast<size_t>(l) * H + h]);
  s.run(ids);
  const int T = s.trace().T;
  const float* p = s.trace().attn_probs.data() + (static_cast<size_t>(layer) * H + head) * T * T;
  return std::vector<float>(p, p + static_cast<size_t>(T) * T);
}

}  // namespace

TEST_CASE("compare runs: edited against unedited is B - A of two independent passes") {
  const auto model = hl_test::load_fixture("tiny-gpt");
  const int L = model->config.n_layer, H = model->config.n_head;
  const std::vector<int> ids = {5, 9, 14, 3, 9, 14, 7, 2, 5, 9};
  hl::Engine engine(model);
  engine.set_head_gain(0, 1, 0.0f);
  engine.set_head_gain(0, 0, 2.5f);
  engine.run(ids, 3);
  const std::vector<float> trace_attn = engine.trace().attn_probs;
  const int layer = L - 1, head = H - 1;
  std::vector<int> ids_a, ids_b;
  const std::vector<float> a = engine.head_attention(ids, layer, head, false, &ids_a);
  const std::vector<float> b = engine.head_attention(ids, layer, head, true, &ids_b);
  // The engine's own pass is untouched by the passes of their own.
  CHECK(engine.trace().attn_probs == trace_attn);
  CHECK(engine.head_gains()[1] == 0.0f);

  std::vector<float> gains(static_cast<size_t>(L) * H, 1.0f);
  const std::vector<float> plain_a = session_pattern(model, ids, gains, layer, head);
  gains[1] = 0.0f;
  gains[0] = 2.5f;
  const std::vector<float> plain_b = session_pattern(model, ids, gains, layer, head);
  CHECK(a == plain_a);
  CHECK(b == plain_b);

  const hl::RunComparison c = hl::compare_head_runs(a.data(), ids_a, b.data(), ids_b, 5);
  const int T = static_cast<int>(ids.size());
  REQUIRE(c.T == T);
  double max_err = 0.0, max_abs = 0.0;
  for (int t = 0; t < T; ++t) {
    for (int k = 0; k < T; ++k) {
      const size_t i = static_cast<size_t>(t) * T + k;
      const double expected = k <= t ? double(plain_b[i]) - double(plain_a[i]) : 0.0;
      max_err = std::max(max_err, std::fabs(c.diff[i] - expected));
      max_abs = std::max(max_abs, std::fabs(expected));
    }
  }
  std::printf("[run compare] tiny-gpt head %d.%d, 0.1 muted and 0.0 at 2.5 against unedited: max |B - A| "
              "%.6f, max |map - (B - A)| %.3g, top cell (%d, %d) %.6f\n",
              layer, head, max_abs, max_err, c.largest[0].query, c.largest[0].key, c.largest[0].value);
  CHECK(max_err <= 1e-6);
  CHECK(max_abs > 1e-3);  // the edits reach this head: the test can fail
  CHECK(std::fabs(c.largest[0].value) == doctest::Approx(max_abs).epsilon(1e-6));
  CHECK(c.max_abs == std::fabs(c.largest[0].value));
  for (size_t i = 1; i < c.largest.size(); ++i)
    CHECK(std::fabs(c.largest[i].value) <= std::fabs(c.largest[i - 1].value));
}

TEST_CASE("compare runs: a run against itself differs nowhere") {
  const auto model = hl_test::load_fixture("tiny-gpt");
  hl::Engine engine(model);
  const std::vector<int> ids = {1, 4, 9, 16, 25, 36, 49};
  std::vector<int> ids_a, ids_b;
  const std::vector<float> a = engine.head_attention(ids, 1, 0, false, &ids_a);
  const std::vector<float> b = engine.head_attention(ids, 1, 0, true, &ids_b);  // no edits: the same
  const hl::RunComparison c = hl::compare_head_runs(a.data(), ids_a, b.data(), ids_b, 5);
  size_t nonzero = 0;
  for (float v : c.diff) nonzero += v != 0.0f;
  for (int t = 0; t < c.T; ++t) nonzero += (c.total_variation[t] != 0.0f) + (c.js_distance[t] != 0.0f);
  std::printf("[run compare] a run against itself: %zu nonzero cells and distances, %zu named\n", nonzero,
              c.largest.size());
  CHECK(nonzero == 0);
  CHECK(c.largest.empty());
  CHECK(c.max_abs == 0.0f);
  CHECK(c.scores_a.induction == c.scores_b.induction);
}

TEST_CASE("compare runs: distances by hand, alignment by position, refusals") {
  // A: T = 3, every row on its last key. B: T = 2, row 1 half and half.
  const std::vector<float> a = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  const std::vector<float> b = {1, 0, 0.5f, 0.5f};
  const hl::RunComparison c = hl::compare_head_runs(a.data(), {1, 2, 3}, b.data(), {1, 7}, 10);
  REQUIRE(c.T == 2);
  CHECK(c.T_a == 3);
  CHECK(c.T_b == 2);
  CHECK(c.diff == std::vector<float>{0, 0, 0.5f, -0.5f});
  CHECK(c.total_variation[0] == 0.0f);
  CHECK(c.total_variation[1] == doctest::Approx(0.5));
  // JSD((0, 1), (1/2, 1/2)) = 3/4 ln(4/3) - ... : by hand 1/2 KL(P||M) + 1/2 KL(Q||M), M = (1/4, 3/4).
  const double jsd = 0.5 * std::log(4.0 / 3.0) + 0.5 * (0.5 * std::log(2.0) + 0.5 * std::log(2.0 / 3.0));
  std::printf("[run compare] by hand: JS distance %.7f (expected %.7f), TV %.3f\n", c.js_distance[1],
              std::sqrt(jsd / std::log(2.0)), c.total_variation[1]);
  CHECK(c.js_distance[1] == doctest::Approx(std::sqrt(jsd / std::log(2.0))).epsilon(1e-6));
  REQUIRE(c.largest.size() == 2);
  CHECK(c.largest[0].query == 1);
  CHECK(c.largest[0].key == 0);  // ties: the lower key first
  CHECK(c.largest[1].key == 1);
  CHECK_THROWS_AS(hl::compare_head_runs(a.data(), {}, b.data(), {1, 7}, 1), hl::Error);
  CHECK_THROWS_AS(hl::compare_head_runs(a.data(), {1, 2, 3}, b.data(), {1, 7}, -1), hl::Error);
  hl::Engine engine(hl_test::load_fixture("tiny-gpt"));
  std::vector<int> ids;
  CHECK_THROWS_WITH_AS(engine.head_attention({1, 2}, 9, 0, false, &ids), doctest::Contains("head 9.0"),
                       hl::Error);
}
