// Head scores (analysis.h) on hand-built attention patterns whose scores are
// known exactly, the probe's token sequences, and the probe and the sharded
// validation loss on the fixture models.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "analysis.h"
#include "error.h"
#include "fixtures.h"
#include "model.h"
#include "session.h"
#include "validation.h"

using namespace hl_test;

namespace {

// (L, H, T, T) patterns; every head starts uniform over the causal keys.
struct Pattern {
  int L, H, T;
  std::vector<float> probs;
  Pattern(int L_, int H_, int T_) : L(L_), H(H_), T(T_), probs(size_t(L_) * H_ * T_ * T_) {
    for (int lh = 0; lh < L * H; ++lh) {
      for (int q = 0; q < T; ++q) {
        for (int k = 0; k <= q; ++k) at(lh / H, lh % H, q, k) = 1.0f / (q + 1);
      }
    }
  }
  float& at(int l, int h, int q, int k) {
    return probs[((size_t(l) * H + h) * T + q) * T + k];
  }
  // One-hot rows: query q attends only to key(q).
  template <typename KeyOf>
  void one_hot(int l, int h, int q_begin, int q_end, KeyOf key) {
    for (int q = q_begin; q < q_end; ++q) {
      for (int k = 0; k < T; ++k) at(l, h, q, k) = 0.0f;
      at(l, h, q, key(q)) = 1.0f;
    }
  }
};

// Mean over queries q in [q_begin, q_end) of 1 / (q + 1): any fixed causal key
// of a uniform head gets exactly this.
double uniform_expected(int q_begin, int q_end) {
  double sum = 0.0;
  for (int q = q_begin; q < q_end; ++q) sum += 1.0 / (q + 1);
  return sum / (q_end - q_begin);
}

}  // namespace

TEST_CASE("analysis: previous-token score is 1 on a perfect pattern, 1/(q+1) on uniform") {
  const int L = 2, H = 3, T = 16;
  Pattern p(L, H, T);
  p.one_hot(1, 2, 1, T, [](int q) { return q - 1; });
  const std::vector<float> prev = hl::diagonal_attention_score(p.probs.data(), L, H, T, 1, 1, T);
  REQUIRE(prev.size() == size_t(L * H));
  const double expected_uniform = uniform_expected(1, T);
  double max_err = 0.0;
  for (int lh = 0; lh < L * H; ++lh) {
    const double expected = lh == 1 * H + 2 ? 1.0 : expected_uniform;
    max_err = std::max(max_err, std::abs(prev[lh] - expected));
  }
  std::printf("prev-token: perfect head %.6f, uniform %.6f (expected %.6f), max abs error %.2e\n",
              prev[1 * H + 2], prev[0], expected_uniform, max_err);
  CHECK(max_err < 1e-6);
}

TEST_CASE("analysis: induction score is 1 on a perfect induction pattern, 0 for prev-token") {
  const int L = 1, H = 2, n = 10, T = 2 * n;
  Pattern p(L, H, T);
  // Head 0: induction in the second copy (q attends to q - n + 1).
  p.one_hot(0, 0, n, T, [&](int q) { return q - n + 1; });
  // Head 1: previous token everywhere.
  p.one_hot(0, 1, 1, T, [](int q) { return q - 1; });
  const std::vector<float> induction =
      hl::diagonal_attention_score(p.probs.data(), L, H, T, n - 1, n, T);
  const std::vector<float> prev = hl::diagonal_attention_score(p.probs.data(), L, H, T, 1, 1, T);
  std::printf("induction: induction head %.6f, prev-token head %.6f; prev-token of them %.6f %.6f\n",
              induction[0], induction[1], prev[0], prev[1]);
  CHECK(std::abs(induction[0] - 1.0) < 1e-6);
  CHECK(induction[1] == 0.0f);
  CHECK(std::abs(prev[1] - 1.0) < 1e-6);
  // The induction head is uniform in the first copy, one-hot off the diagonal after.
  CHECK(std::abs(prev[0] - uniform_expected(1, n) * (n - 1) / (T - 1)) < 1e-6);
}

TEST_CASE("analysis: first-token score on uniform and attention-sink heads") {
  const int L = 1, H = 2, T = 32;
  Pattern p(L, H, T);
  p.one_hot(0, 1, 0, T, [](int) { return 0; });
  const std::vector<float> first = hl::column_attention_score(p.probs.data(), L, H, T, 0, 1, T);
  std::printf("first-token: uniform %.6f (expected %.6f), sink %.6f\n", first[0],
              uniform_expected(1, T), first[1]);
  CHECK(std::abs(first[0] - uniform_expected(1, T)) < 1e-6);
  CHECK(std::abs(first[1] - 1.0) < 1e-6);
}

TEST_CASE("analysis: bad query ranges and loss ranges throw") {
  Pattern p(1, 1, 8);
  CHECK_THROWS_AS(hl::diagonal_attention_score(p.probs.data(), 1, 1, 8, 3, 2, 8), hl::Error);
  CHECK_THROWS_AS(hl::diagonal_attention_score(p.probs.data(), 1, 1, 8, 1, 1, 9), hl::Error);
  CHECK_THROWS_AS(hl::column_attention_score(p.probs.data(), 1, 1, 8, 0, 4, 4), hl::Error);
  CHECK_THROWS_AS(hl::mean_token_loss({1.0f, 2.0f}, 1, 3), hl::Error);
  CHECK(hl::mean_token_loss({1.0f, 2.0f, 6.0f}, 1, 3) == doctest::Approx(4.0));
}

TEST_CASE("analysis: repeated random tokens repeat, avoid excluded ids, follow the seed") {
  const int n = 200, V = 50;
  const std::vector<int> a = hl::repeated_random_tokens(n, V, {7, 49}, 42);
  const std::vector<int> b = hl::repeated_random_tokens(n, V, {7, 49}, 42);
  const std::vector<int> c = hl::repeated_random_tokens(n, V, {7, 49}, 43);
  REQUIRE(a.size() == size_t(2 * n));
  CHECK(a == b);
  CHECK(a != c);
  int distinct = 0;
  std::vector<int> seen(V, 0);
  for (int i = 0; i < n; ++i) {
    CHECK(a[i] == a[n + i]);
    CHECK(a[i] >= 0);
    CHECK(a[i] < V);
    CHECK(a[i] != 7);
    CHECK(a[i] != 49);
    distinct += seen[a[i]]++ == 0;
  }
  std::printf("repeated_random_tokens: %d distinct ids of %d allowed in %d draws\n", distinct, V - 2, n);
  CHECK(distinct > 40);  // uniform draws cover almost all 48 ids in 200 tries
}

TEST_CASE("analysis: probe on the fixture models gives scores in [0, 1] and finite losses") {
  for (const char* name : {"tiny-gpt", "tiny-attn-only"}) {
    const auto model = load_fixture(name);
    hl::RepeatedSequenceProbe probe;
    probe.half_len = 20;
    probe.n_sequences = 3;
    const hl::ProbeResult r = hl::run_repeated_sequence_probe(model, probe);
    const int LH = model->config.n_layer * model->config.n_head;
    REQUIRE(r.heads.induction.size() == size_t(LH));
    for (int lh = 0; lh < LH; ++lh) {
      for (float s : {r.heads.prev_token[lh], r.heads.induction[lh], r.heads.first_token[lh]}) {
        CHECK(s >= 0.0f);
        CHECK(s <= 1.0f + 1e-6f);
      }
      // Disjoint keys of one softmax row: their probabilities sum to at most 1.
      const float prev_plus_first = r.heads.prev_token[lh] + r.heads.first_token[lh];
      CHECK(prev_plus_first <= 1.0f + 1e-5f);
    }
    std::printf("%s probe: loss first copy %.3f, second %.3f, icl %.3f\n", name, r.loss_first_half,
                r.loss_second_half, r.icl_score());
    CHECK(std::isfinite(r.loss_first_half));
    CHECK(std::isfinite(r.loss_second_half));
    probe.half_len = model->config.n_positions;  // 2n > n_positions
    CHECK_THROWS_AS(hl::run_repeated_sequence_probe(model, probe), hl::Error);
  }
}

TEST_CASE("analysis: validation loss is the same in one shard or three, bytes add up") {
  const auto model = load_fixture("tiny-gpt");
  std::string text;
  for (int i = 0; i < 30; ++i) text += "The quick brown fox jumps over the lazy dog, again and again. ";
  const std::vector<int> ids = model->tokenizer.encode(text);
  const hl::ValidationLoss one = hl::validation_loss(model, ids, INT64_MAX);
  std::vector<hl::ValidationLoss> shards;
  for (int s = 0; s < 3; ++s) shards.push_back(hl::validation_loss(model, ids, INT64_MAX, s, 3));
  const hl::ValidationLoss three = hl::merge_validation_losses(shards);
  const int P = model->config.n_positions;
  std::printf("validation: %lld windows, %.6f vs %.6f nats/token, %.6f bits/byte\n",
              static_cast<long long>(one.windows), one.nats_per_token, three.nats_per_token,
              one.bits_per_byte);
  CHECK(one.windows == (static_cast<int64_t>(ids.size()) + P - 1) / P);
  CHECK(one.covered_tokens == static_cast<int64_t>(ids.size()));
  CHECK(one.covered_bytes == static_cast<int64_t>(text.size()));
  CHECK(one.predicted_tokens == static_cast<int64_t>(ids.size()) - one.windows);
  CHECK(three.covered_bytes == one.covered_bytes);
  CHECK(std::abs(three.nats_per_token - one.nats_per_token) < 1e-9 * one.nats_per_token);
  CHECK(one.bits_per_byte ==
        doctest::Approx(one.total_nats / std::log(2.0) / one.predicted_bytes).epsilon(1e-12));
  const hl::ValidationLoss capped = hl::validation_loss(model, ids, P + 10);
  CHECK(capped.covered_tokens == P + 10);
  CHECK(capped.windows == 2);
}

// The losses by position sum to the total; the in-context learning score is
// the mean over its late band minus the mean over its early band, checked
// against the session's token losses of each window read directly.
TEST_CASE("analysis: loss by position and the in-context learning score") {
  const auto model = load_fixture("tiny-gpt");
  std::string text;
  for (int i = 0; i < 30; ++i) text += "The quick brown fox jumps over the lazy dog, again and again. ";
  const std::vector<int> ids = model->tokenizer.encode(text);
  const int P = model->config.n_positions;
  std::vector<hl::ValidationLoss> shards;
  for (int s = 0; s < 2; ++s) shards.push_back(hl::validation_loss(model, ids, INT64_MAX, s, 2));
  const hl::ValidationLoss v = hl::merge_validation_losses(shards);
  REQUIRE(v.nats_by_position.size() == static_cast<size_t>(P - 1));
  double sum = 0.0;
  int64_t n = 0;
  for (size_t t = 0; t < v.nats_by_position.size(); ++t) {
    sum += v.nats_by_position[t];
    n += v.tokens_by_position[t];
  }
  CHECK(n == v.predicted_tokens);
  CHECK(sum == doctest::Approx(v.total_nats).epsilon(1e-12));

  // The same bands from the windows' token losses, by hand.
  const hl::InContextScore icl = hl::in_context_score(v, P);
  double early = 0.0, late = 0.0;
  int64_t n_early = 0, n_late = 0;
  hl::Session session(model, 1);
  for (const hl::TokenWindow& w : hl::validation_windows(static_cast<int64_t>(ids.size()), P, INT64_MAX)) {
    session.run(std::vector<int>(ids.begin() + w.begin, ids.begin() + w.end));
    const std::vector<float>& loss = session.trace().token_loss;  // loss[t - 1]: token t
    for (int64_t t = 1; t < w.end - w.begin; ++t) {
      if (t >= icl.early_from && t < icl.early_to) early += loss[t - 1], ++n_early;
      if (t >= icl.late_from && t < icl.late_to) late += loss[t - 1], ++n_late;
    }
  }
  const double want = late / n_late - early / n_early;
  std::printf("icl: tokens %d-%d minus %d-%d of %d: %.6f (by hand %.6f)\n", icl.late_from,
              icl.late_to - 1, icl.early_from, icl.early_to - 1, P, icl.score, want);
  CHECK(icl.early_from == std::max(1, P / 16));
  CHECK(icl.late_to == P);
  CHECK(icl.score == doctest::Approx(want).epsilon(1e-9));
  CHECK(std::isnan(hl::in_context_score(hl::ValidationLoss{}, P).score));
}
