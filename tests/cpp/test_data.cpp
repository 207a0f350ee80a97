// The training data mixes (core/data.h) put their copies where they say, and
// the curriculum (core/curriculum.h) plans each step as its stages say.
// The training text here is ids[i] = i: every background token tells its
// offset, so a copy shows as a break in seq[i] - i.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <vector>

#include "curriculum.h"
#include "data.h"
#include "error.h"

namespace {

constexpr int kVocab = 5000;
constexpr int kTextTokens = 4000;  // ids 0..3999 once each; 4000..4999 never
constexpr int B = 32, T = 32, kLen = T + 1;

std::vector<int> counting_text() {
  std::vector<int> ids(kTextTokens);
  for (int i = 0; i < kTextTokens; ++i) ids[i] = i;
  return ids;
}

// Sequence b of a batch, all T + 1 tokens: the inputs and the last target.
std::vector<int> sequence(const std::vector<int>& inputs, const std::vector<int>& targets, int b) {
  std::vector<int> seq(inputs.begin() + b * T, inputs.begin() + (b + 1) * T);
  seq.push_back(targets[static_cast<size_t>(b) * T + T - 1]);
  for (int t = 0; t + 1 < T; ++t) CHECK(targets[static_cast<size_t>(b) * T + t] == seq[t + 1]);
  return seq;
}

// Tokens outside [a, a + 2n) are one run of consecutive training text.
bool background_is_text(const std::vector<int>& seq, int a, int n) {
  int offset = -1;
  for (int i = 0; i < kLen; ++i) {
    if (i >= a && i < a + 2 * n) continue;
    if (offset < 0) offset = seq[i] - i;
    if (seq[i] - i != offset) return false;
  }
  return true;
}

// A DataMix over the counting text and the B x T batch it drew last.
struct Draws {
  explicit Draws(const hl::DataMixConfig& c) : mix(ids, kVocab, c) {}
  void next(bool warmup = false, bool two_back = true) {
    mix.next(B, T, inputs, targets, warmup, two_back);
  }
  std::vector<int> seq(int b) const { return sequence(inputs, targets, b); }

  const std::vector<int> ids = counting_text();
  hl::DataMix mix;
  std::vector<int> inputs = std::vector<int>(B * T), targets = std::vector<int>(B * T);
};

}  // namespace

TEST_CASE("data mix: a random-token span, then the same span, inside training text") {
  hl::DataMixConfig c;
  c.induction_frac = 1.0f;
  c.random_vocab = 100;  // the 100 most frequent: ids 0..99 (ties keep id order)
  c.seed = 7;
  Draws d(c);
  d.next();
  const int n_min = std::max(4, kLen / 16);
  int placed = 0, min_n = kLen, max_n = 0;
  for (int b = 0; b < B; ++b) {
    const std::vector<int> seq = d.seq(b);
    const hl::DataMix::Span s = d.mix.spans()[b];
    REQUIRE(s.n > 0);
    min_n = std::min(min_n, s.n);
    max_n = std::max(max_n, s.n);
    bool ok = s.b == s.a + s.n && s.n >= n_min && s.n <= kLen / 2 && s.b + s.n <= kLen;
    for (int i = 0; i < s.n && ok; ++i) ok = seq[s.a + i] == seq[s.b + i] && seq[s.a + i] < 100;
    ok = ok && background_is_text(seq, s.a, s.n);
    placed += ok;
  }
  std::printf(
      "data mix random span: %d of %d sequences hold span, copy and text where the spans "
      "say (n in [%d, %d])\n",
      placed, B, min_n, max_n);
  CHECK(placed == B);
  CHECK(min_n < max_n);  // the length varies
}

TEST_CASE("data mix: a natural-text span, repeated, is no random span") {
  hl::DataMixConfig c;
  c.repeat_text_frac = 1.0f;
  c.seed = 3;
  Draws d(c);
  d.next();
  int found = 0;
  for (int b = 0; b < B; ++b) {
    CHECK(d.mix.spans()[b].n == 0);  // not counted in the random-span losses
    const std::vector<int> seq = d.seq(b);
    // Some span of consecutive text followed by itself, text around it.
    bool ok = false;
    for (int n = std::max(4, kLen / 16); n <= kLen / 2 && !ok; ++n) {
      for (int a = 0; a + 2 * n <= kLen && !ok; ++a) {
        bool match = background_is_text(seq, a, n);
        for (int i = 0; i < n && match; ++i)
          match = seq[a + n + i] == seq[a + i] && (i == 0 || seq[a + i] == seq[a + i - 1] + 1);
        ok = match;
      }
    }
    found += ok;
  }
  std::printf("data mix text span: %d of %d sequences hold a repeated text span\n", found, B);
  CHECK(found == B);
}

TEST_CASE("data mix: the induction fill copies spans forward; near copies; two-back segments") {

  SUBCASE("far copies: the recorded span is copied later, no text left") {
    hl::DataMixConfig c;
    c.induction_fill = true;
    c.seed = 11;
    Draws d(c);
    d.next(/*warmup=*/true);
    int copies = 0, text_runs = 0;
    for (int b = 0; b < B; ++b) {
      const std::vector<int> seq = d.seq(b);
      const hl::DataMix::Span s = d.mix.spans()[b];
      bool ok = s.n >= std::max(4, kLen / 16) && s.b >= s.a + s.n && s.b + s.n <= kLen;
      for (int i = 0; i < s.n && ok; ++i) ok = seq[s.a + i] == seq[s.b + i];
      copies += ok;
      for (int i = 1; i < kLen; ++i) text_runs += seq[i] == seq[i - 1] + 1;
    }
    std::printf("data mix fill: %d of %d recorded copies in place, %d text-like neighbours\n",
                copies, B, text_runs);
    CHECK(copies == B);
    CHECK(text_runs <= 2);  // random tokens: a +1 neighbour is a 1-in-5000 chance
  }

  SUBCASE("periodic: one random span repeated end to end, its period recorded") {
    hl::DataMixConfig c;
    c.periodic_fill = true;
    c.seed = 14;
    Draws d(c);
    d.next(/*warmup=*/true);
    int periodic = 0, min_n = kLen, max_n = 0;
    for (int b = 0; b < B; ++b) {
      const std::vector<int> seq = d.seq(b);
      const hl::DataMix::Span s = d.mix.spans()[b];
      bool ok = s.a == 0 && s.b == s.n && s.n >= std::max(4, kLen / 16) && s.n <= kLen / 2;
      for (int i = s.n; i < kLen && ok; ++i) ok = seq[i] == seq[i - s.n];
      periodic += ok;
      min_n = std::min(min_n, s.n);
      max_n = std::max(max_n, s.n);
    }
    std::printf("data mix periodic fill: %d of %d sequences periodic, periods %d..%d\n", periodic,
                B, min_n, max_n);
    CHECK(periodic == B);
    CHECK(max_n > min_n);  // the period varies: no fixed offset predicts the copies
  }

  SUBCASE("near copies: every copy 2-8 positions after its source, none recorded") {
    hl::DataMixConfig c;
    c.induction_fill = true;
    c.fill_near_frac = 1.0f;
    c.seed = 12;
    Draws d(c);
    d.next(/*warmup=*/true);
    int near_tokens = 0, recorded = 0;
    for (int b = 0; b < B; ++b) {
      const std::vector<int> seq = d.seq(b);
      recorded += d.mix.spans()[b].n > 0;
      for (int i = 2; i < kLen; ++i) {
        bool near = false;
        for (int d = 2; d <= 8 && d <= i; ++d) near = near || seq[i] == seq[i - d];
        near_tokens += near;
      }
    }
    std::printf("data mix near fill: %d of %d tokens repeat one 2-8 back, %d spans recorded\n",
                near_tokens, B * kLen, recorded);
    CHECK(recorded == 0);
    CHECK(near_tokens >= B * kLen / 4);  // about half of each sequence is copies
  }

  SUBCASE("two-back segments: x[i] = p(x[i-2]) for a fixed permutation p of the pool") {
    hl::DataMixConfig c;
    c.induction_fill = true;
    c.fill_alternations = 3;
    c.seed = 13;
    Draws d(c);
    const std::vector<int>& p = d.mix.two_back_map();
    REQUIRE(p.size() == static_cast<size_t>(kVocab));
    // The pool: the 64 most frequent tokens, ids 0..63; p permutes it.
    std::vector<int> hits(64, 0);
    int fixed = 0;
    for (int x = 0; x < kVocab; ++x) {
      if (x < 64) {
        REQUIRE(p[x] >= 0);
        REQUIRE(p[x] < 64);
        ++hits[p[x]];
        fixed += p[x] == x;
      } else {
        CHECK(p[x] == -1);
      }
    }
    CHECK(std::count(hits.begin(), hits.end(), 1) == 64);
    CHECK(fixed < 8);  // not the identity
    auto two_back_tokens = [&](bool two_back) {
      d.next(/*warmup=*/true, two_back);
      int count = 0;
      for (int b = 0; b < B; ++b) {
        const std::vector<int> seq = d.seq(b);
        for (int i = 2; i < kLen; ++i) count += seq[i - 2] < 64 && seq[i] == p[seq[i - 2]];
      }
      return count;
    };
    const int with = two_back_tokens(true), without = two_back_tokens(false);
    std::printf("data mix two-back: %d tokens follow p two back with segments, %d without\n", with,
                without);
    CHECK(with >= B * 3);  // 3 segments of 4-12 tokens each (copies may cover some)
    CHECK(without <= 2);
  }
}

TEST_CASE("data mix: induction_losses sums the recorded spans' first and second copies") {
  hl::DataMixConfig c;
  c.induction_frac = 0.5f;
  c.seed = 5;
  Draws d(c);
  d.next();
  // Loss 1 at every first-copy prediction, 100 at every second-copy one.
  std::vector<float> losses(B * T, 0.0f);
  long want_first = 0, want_second = 0;
  for (int b = 0; b < B; ++b) {
    const hl::DataMix::Span s = d.mix.spans()[b];
    for (int t = s.a; t < s.a + s.n - 1; ++t, ++want_first) losses[b * T + t] = 1.0f;
    for (int t = s.b; t < s.b + s.n - 1; ++t, ++want_second) losses[b * T + t] = 100.0f;
  }
  double first = 0.0, second = 0.0;
  long n_first = 0, n_second = 0;
  d.mix.induction_losses(losses.data(), T, &first, &second, &n_first, &n_second);
  std::printf("induction_losses: %ld + %ld predictions, sums %.0f and %.0f\n", n_first, n_second,
              first, second);
  CHECK(n_first > 0);
  CHECK(n_first == want_first);
  CHECK(n_second == want_second);
  CHECK(first == static_cast<double>(want_first));
  CHECK(second == 100.0 * want_second);
}

TEST_CASE("curriculum: stages, warm-up and its early end, the time-limit fit") {
  hl::CurriculumConfig c;
  c.steps = 40;
  c.batch = 4;
  c.n_positions = 32;
  c.n_layer = 3;
  c.seq_schedule = {{8, 4}, {16, 4}};
  c.mlp_off_steps = 6;
  c.shallow_steps = 10;
  c.shallow_layers = 1;
  c.induction_warmup_steps = 14;
  c.induction_warmup_gap = 0.5f;
  c.fill_alternations_steps = 3;
  hl::Curriculum plan(c);
  const hl::StepPlan s0 = plan.at(0), s4 = plan.at(4), s8 = plan.at(8), s20 = plan.at(20);
  std::printf("curriculum: step 0 %d x %d, step 4 %d x %d, step 8 %d x %d\n", s0.batch, s0.seq_len,
              s4.batch, s4.seq_len, s8.batch, s8.seq_len);
  CHECK((s0.seq_len == 8 && s0.batch == 16 && s4.seq_len == 16 && s4.batch == 8));
  CHECK((s8.seq_len == 32 && s8.batch == 4));
  CHECK((!plan.at(5).mlp_on && plan.at(6).mlp_on));
  CHECK((plan.at(9).active_layers == 1 && plan.at(10).active_layers == 3));
  CHECK((plan.at(13).warmup && !plan.at(14).warmup && !s20.warmup));
  CHECK((plan.at(2).two_back && !plan.at(3).two_back && !s20.two_back));
  CHECK(plan.warmup_gap_reached(5, 6.0, 5.4));
  CHECK_FALSE(plan.warmup_gap_reached(5, 6.0, 5.6));
  CHECK_FALSE(plan.warmup_gap_reached(14, 6.0, 1.0));  // the warm-up is over by then

  plan.end_warmup(5);
  CHECK(plan.warmup_ended_at() == 5);
  REQUIRE(plan.seq_schedule().size() == 2);
  CHECK(plan.seq_schedule()[1].steps == 1);  // 16 tokens for step 4 only
  const hl::StepPlan e = plan.at(5);
  CHECK((e.seq_len == 32 && e.mlp_on && e.active_layers == 3 && !e.warmup));
  CHECK(plan.steps() == 40);       // the run goes on (no end_with_warmup)
  CHECK(plan.refit_due(25, 200));  // 20 steps after the warm-up's end
  CHECK(plan.refit_due(100, 200));
  CHECK_FALSE(plan.refit_due(26, 200));

  // One second per token-step of the full length, half that at 16 tokens:
  // 12.5 s from step 4 buys 0.5 + 12 steps.
  const int affordable = plan.affordable_steps(
      4, 12.5, [](const hl::StepPlan& p) { return p.seq_len == 32 ? 1.0 : 0.5; });
  std::printf("curriculum: 12.5 s from step 4 fit %d steps\n", affordable);
  CHECK(affordable == 4 + 1 + 12);
  CHECK(plan.affordable_steps(4, 1e9, [](const hl::StepPlan&) { return 1.0; }) == 40);

  c.end_with_warmup = true;
  hl::Curriculum phase_one(c);
  CHECK(phase_one.steps() == 14);
  phase_one.end_warmup(5);
  CHECK(phase_one.steps() == 5);

  hl::CurriculumConfig bad = c;
  bad.seq_schedule = {{7, 10}};
  CHECK_THROWS_AS(hl::Curriculum{bad}, hl::Error);
  bad = c;
  bad.shallow_layers = 3;
  CHECK_THROWS_AS(hl::Curriculum{bad}, hl::Error);
}

// Checkpoints: n log-spaced steps, total^(k / (n - 1)) rounded and pushed
// past the one before, and a dense range adds evenly spaced steps, rounded,
// inside the run only.
TEST_CASE("curriculum: checkpoint steps, log-spaced and dense ranges") {
  const std::set<int> log16 = hl::checkpoint_steps(16, {}, 20603);
  const std::vector<int> log16_steps(log16.begin(), log16.end());
  std::printf("checkpoints: %zu log-spaced over 20603 steps, the 13th at %d\n", log16.size(),
              log16_steps[12]);
  CHECK(log16_steps == std::vector<int>{1, 2, 4, 7, 14, 27, 53, 103, 200, 388, 752, 1457, 2826,
                                        5479, 10625, 20603});
  CHECK(hl::checkpoint_steps(0, {}, 100).empty());

  const std::set<int> dense = hl::checkpoint_steps(3, {{4000, 6000, 5}, {50, 50, 1}, {90, 130, 3}}, 110);
  const std::vector<int> dense_steps(dense.begin(), dense.end());
  std::printf("checkpoints: %zu with dense ranges over 110 steps\n", dense.size());
  // log-spaced 1, 10 (sqrt 110 rounded), 110; 50; 90 and 110 of 90:130:3
  // (130 is past the end); 4000..6000 all past the end.
  CHECK(dense_steps == std::vector<int>{1, 10, 50, 90, 110});
  const std::set<int> within = hl::checkpoint_steps(0, {{4000, 6000, 5}, {5, 6, 3}}, 8000);
  CHECK(std::vector<int>(within.begin(), within.end()) ==
        std::vector<int>{5, 6, 4000, 4500, 5000, 5500, 6000});  // 5, 5.5 -> 6, 6
}

// The batches are part of a run's reproducibility: a run continued with a new
// binary (--init-from) must see what the old one would have drawn. This pins
// a hash of batches of every kind, with every option that draws numbers on;
// the value is what the BatchSampler of cmd_train.cpp before the move drew
// (its class compiled alone, with fill_alternations set to 0 from the third
// batch as cmd_train did). A change here changes every future run's data.
TEST_CASE("data mix: the batches of a seed are pinned") {
  std::vector<int> ids(kTextTokens);
  for (int i = 0; i < kTextTokens; ++i) ids[i] = (i * 7919) % 997;  // repeats: frequencies differ
  hl::DataMixConfig c;
  c.induction_frac = 0.3f;
  c.repeat_text_frac = 0.3f;
  c.induction_fill = true;
  c.fill_span_max = 10;
  c.fill_near_frac = 0.3f;
  c.fill_alternations = 2;
  c.random_vocab = 40;
  c.seed = 3;
  hl::DataMix mix(ids, kVocab, c);
  uint64_t hash = 1469598103934665603ull;  // FNV-1a over every input and the last targets
  std::vector<int> inputs(B * T), targets(B * T);
  for (int k = 0; k < 6; ++k) {
    const int t = k % 2 ? T : T / 2, b = B * T / t;
    mix.next(b, t, inputs, targets, /*warmup=*/k < 3, /*two_back=*/k < 2);
    for (int x : inputs) hash = (hash ^ static_cast<uint32_t>(x)) * 1099511628211ull;
    for (int x : targets) hash = (hash ^ static_cast<uint32_t>(x)) * 1099511628211ull;
  }
  std::printf("data mix: hash of 6 batches %016llx\n", static_cast<unsigned long long>(hash));
  CHECK(hash == 0xa3526d3153213b87ull);
}

TEST_CASE("copy_targets marks a target whose pair came earlier; copy_loss weighs only them") {
  // Sequence 0: 5 6 7 | 5 6 8: target 3 (input 5, next 6) repeats the pair
  // at 0; target 4 (6 -> 8) does not, and nothing else does.
  const int Tq = 6;
  const std::vector<int> in = {5, 6, 7, 5, 6, 8}, out = {6, 7, 5, 6, 8, 9};
  std::vector<uint8_t> copy(Tq);
  CHECK(hl::copy_targets(in.data(), out.data(), 1, Tq, copy.data()) == 1);
  CHECK(copy == std::vector<uint8_t>{0, 0, 0, 1, 0, 0});

  // The fill with copy_loss: weights are 0/1, exactly copy_targets' marks
  // plus the two-back targets, none on the first token of a sequence.
  const std::vector<int> ids = counting_text();
  hl::DataMixConfig config;
  config.induction_fill = true;
  config.fill_alternations = 1;
  config.copy_loss = true;
  hl::DataMix mix(ids, kVocab, config);
  std::vector<int> inputs(static_cast<size_t>(B) * T), targets(inputs.size());
  mix.next(B, T, inputs, targets, /*warmup=*/true);
  const std::vector<float>& w = mix.target_weights();
  REQUIRE(w.size() == inputs.size());
  std::vector<uint8_t> marks(inputs.size());
  const int copies = hl::copy_targets(inputs.data(), targets.data(), B, T, marks.data());
  int ones = 0, two_back = 0, mismatched = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    CHECK((w[i] == 0.0f || w[i] == 1.0f));
    ones += w[i] == 1.0f;
    if (w[i] == 1.0f && !marks[i]) {
      ++two_back;
      const int p = mix.two_back_map()[static_cast<size_t>(inputs[i - 1])];
      mismatched += !(i % T != 0 && p == targets[i]);
    }
    if (marks[i] && w[i] != 1.0f) ++mismatched;
  }
  std::printf("copy_loss fill batch %d x %d: %d targets weigh 1 (%d copy targets, %d two-back), %.1f%% "
              "of the batch\n",
              B, T, ones, copies, two_back, 100.0 * ones / static_cast<double>(w.size()));
  CHECK(mismatched == 0);
  CHECK(copies > static_cast<int>(w.size()) / 5);
  CHECK(two_back > 0);
  // Text batches (not warm-up) keep every target.
  mix.next(B, T, inputs, targets, /*warmup=*/false);
  CHECK(mix.target_weights().empty());
}
