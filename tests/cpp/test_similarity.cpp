// Attention similarity of heads (similarity.h) on hand-built patterns with
// answers known by hand, and on a real trace against the divergence written
// the other way (the two KL terms, in double).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "error.h"
#include "fixtures.h"
#include "session.h"
#include "similarity.h"

namespace {

// attn (L, H, T, T) with head (l, h)'s row q set by row(q, k) for k <= q.
template <typename Row>
void set_head(std::vector<float>& attn, int H, int T, int l, int h, Row row) {
  for (int q = 0; q < T; ++q)
    for (int k = 0; k <= q; ++k)
      attn[((static_cast<size_t>(l) * H + h) * T + q) * T + k] = row(q, k);
}

}  // namespace

TEST_CASE("attention similarity: identical 1, disjoint 0, a half-and-half mixture by hand") {
  const int L = 2, H = 2, T = 6, n = L * H;
  std::vector<float> attn(static_cast<size_t>(L) * H * T * T, 0.0f);
  // 0.0: previous token (query 0 on key 0); 0.1: the same in another layer's
  // place below; 1.0: the token itself; 1.1: half itself, half the previous.
  auto previous = [](int q, int k) { return q == 0 ? 1.0f : (k == q - 1 ? 1.0f : 0.0f); };
  auto self = [](int q, int k) { return k == q ? 1.0f : 0.0f; };
  auto half = [](int q, int k) { return q == 0 ? 1.0f : (k >= q - 1 ? 0.5f : 0.0f); };
  set_head(attn, H, T, 0, 0, previous);
  set_head(attn, H, T, 0, 1, previous);
  set_head(attn, H, T, 1, 0, self);
  set_head(attn, H, T, 1, 1, half);

  const std::vector<float> s = hl::attention_similarity(attn.data(), L, H, T);
  REQUIRE(s.size() == static_cast<size_t>(n) * n);
  auto at = [&](int a, int b) { return s[static_cast<size_t>(a) * n + b]; };
  // JSD((1, 0), (1/2, 1/2)) with M = (3/4, 1/4): 1/2 [ln(4/3) + 1/2 ln(2/3) + 1/2 ln 2]
  // = 3/4 ln(4/3) at every query q >= 1, so similarity = 1 - 3/4 log2(4/3).
  const double mixture = 1.0 - 0.75 * std::log2(4.0 / 3.0);
  std::printf(
      "[similarity] identical heads %.7f (1), disjoint one-hot heads %.7f (0), one-hot vs "
      "half-and-half %.7f and %.7f (by hand 1 - 3/4 log2(4/3) = %.7f)\n",
      at(0, 1), at(0, 2), at(2, 3), at(0, 3), mixture);
  CHECK(at(0, 1) == 1.0f);
  CHECK(at(0, 2) == 0.0f);
  CHECK(at(2, 3) == doctest::Approx(mixture).epsilon(1e-6));
  CHECK(at(0, 3) == doctest::Approx(mixture).epsilon(1e-6));
  double max_asym = 0.0;
  for (int a = 0; a < n; ++a) {
    CHECK(at(a, a) == 1.0f);
    for (int b = 0; b < n; ++b) max_asym = std::max(max_asym, std::fabs(double(at(a, b)) - at(b, a)));
  }
  CHECK(max_asym == 0.0);

  // One token: no query q >= 1 to compare on, every pair is 1.
  const std::vector<float> one(static_cast<size_t>(n), 1.0f);
  for (float v : hl::attention_similarity(one.data(), L, H, 1)) CHECK(v == 1.0f);
  CHECK_THROWS_AS(hl::attention_similarity(attn.data(), 0, H, T), hl::Error);
}

TEST_CASE("attention similarity on a real trace equals the divergence as two KL terms") {
  const auto model = hl_test::load_fixture("tiny-gpt");
  const hl::ModelConfig& cfg = model->config;
  const int L = cfg.n_layer, H = cfg.n_head, n = L * H;
  hl::Session session(model);
  session.run(model->tokenizer.encode("The cat sat on the mat. The cat sat on the mat again."));
  const hl::Trace& tr = session.trace();
  const int T = tr.T;
  const std::vector<float> s = hl::attention_similarity(tr.attn_probs.data(), L, H, T);

  // JSD = 1/2 sum p ln(p / m) + 1/2 sum q ln(q / m), m = (p + q) / 2, in double.
  const size_t TT = static_cast<size_t>(T) * T;
  double max_err = 0.0, lowest = 1.0;
  for (int a = 0; a < n; ++a) {
    for (int b = 0; b < n; ++b) {
      double jsd_sum = 0.0;
      for (int q = 1; q < T; ++q) {
        const float* p = tr.attn_probs.data() + a * TT + q * T;
        const float* r = tr.attn_probs.data() + b * TT + q * T;
        double jsd = 0.0;
        for (int k = 0; k <= q; ++k) {
          const double m = 0.5 * (double(p[k]) + r[k]);
          if (p[k] > 0) jsd += 0.5 * p[k] * std::log(p[k] / m);
          if (r[k] > 0) jsd += 0.5 * r[k] * std::log(r[k] / m);
        }
        jsd_sum += jsd;
      }
      const double expected = 1.0 - jsd_sum / (T - 1) / std::log(2.0);
      max_err = std::max(max_err, std::fabs(s[static_cast<size_t>(a) * n + b] - expected));
      lowest = std::min(lowest, expected);
    }
  }
  std::printf("[similarity] tiny-gpt, T=%d, %d heads: max |similarity - KL form| = %.3g, "
              "least similar pair %.3f\n",
              T, n, max_err, lowest);
  CHECK(max_err < 1e-5);
  CHECK(lowest < 0.9);  // the heads do differ, so the check above compares real values
}
