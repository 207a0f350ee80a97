// Activation patching (patching.h): the identities that hold exactly in this
// architecture, bit for bit, on the fixtures; the maps equal single patches
// and the Session's own rerun with a replaced z; and on the shipped models
// with repeated random tokens (first copy corrupted) the previous-token,
// induction (and copying) heads carry the head-z recovery (their share printed).
// (Against the float64 reference: tests/node/patch-cli.test.mjs.)
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "ablation.h"
#include "analysis.h"
#include "error.h"
#include "fixtures.h"
#include "patching.h"
#include "session.h"

namespace {

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

std::vector<int> all_of(int n) {
  std::vector<int> v(n);
  std::iota(v.begin(), v.end(), 0);
  return v;
}

// log p(answer) of one logits row (V), float64 with the maximum taken out.
double log_prob(const float* logits, int V, int answer) {
  const double top = *std::max_element(logits, logits + V);
  double sum = 0.0;
  for (int v = 0; v < V; v++) sum += std::exp(logits[v] - top);
  return logits[answer] - top - std::log(sum);
}

}  // namespace

TEST_CASE("activation patching: exact identities, bit for bit") {
  for (const hl::PatchMetric kind : {hl::PatchMetric::logit_diff, hl::PatchMetric::logprob}) {
    for (const char* fixture : {"tiny-gpt", "tiny-attn-only"}) {
      const std::string label = std::string(fixture) + " " + hl::patch_metric_name(kind);
      const char* name = label.c_str();
      CAPTURE(name);
      const auto model = hl_test::load_fixture(fixture);
      const int L = model->config.n_layer, H = model->config.n_head;
      const std::vector<int> clean = model->tokenizer.encode("When Mary and John went, John gave");
      // The corrupted text: one token of the clean one swapped for another.
      std::vector<int> corrupted = clean;
      const int T = static_cast<int>(clean.size());
      corrupted[T / 2] = (clean[T / 2] + 7) % model->config.vocab_size;
      // Where the texts first differ: rows before it are the same in both runs.
      int first_diff = 0;
      while (clean[first_diff] == corrupted[first_diff]) first_diff++;
      const hl::ActivationPatcher p(model, clean, corrupted, 5, 9, kind);
      const float c = p.clean_metric(), k = p.corrupted_metric();
      std::printf("%s: T %d, first difference at %d, metric clean %.5f corrupted %.5f\n", name, T,
                  first_diff, c, k);
      REQUIRE(c != k);

      int mismatches = 0;
      for (int l = 0; l <= L; l++) {
        // Every position of residual[l] from the clean run is the clean run.
        mismatches += !same_bits(p.residual_patched(l, all_of(T)), c);
        // Nothing patched, or only rows the texts share, is the corrupted run.
        mismatches += !same_bits(p.residual_patched(l, {}), k);
        mismatches += !same_bits(p.residual_patched(l, all_of(first_diff)), k);
      }
      // The metric reads only the last row of ln_f's input.
      mismatches += !same_bits(p.residual_patched(L, {T - 1}), c);
      mismatches += !same_bits(p.residual_patched(L, all_of(T - 1)), k);
      for (int l = 0; l < L; l++) mismatches += !same_bits(p.head_z_patched(l, {}), k);
      CHECK(mismatches == 0);

      // The maps are the single patches, bit for bit, whatever the batch.
      const std::vector<float> heads = p.head_z_map(), heads_1 = p.head_z_map(1);
      const std::vector<float> res = p.residual_map();
      int map_mismatches = 0;
      for (int l = 0; l < L; l++) {
        for (int h = 0; h < H; h++) {
          const float single = p.head_z_patched(l, {h});
          map_mismatches += !same_bits(heads[l * H + h], single) + !same_bits(heads_1[l * H + h], single);
        }
      }
      for (int l = 0; l <= L; l++) {
        for (int t = 0; t < T; t++) {
          const float single = p.residual_patched(l, {t});
          map_mismatches += !same_bits(res[l * T + t], single);
        }
      }
      std::printf("%s: identities not bit-equal %d; maps not bit-equal to single patches %d\n",
                  name, mismatches, map_mismatches);
      CHECK(map_mismatches == 0);

      // Each head's z at each position alone: the shortcuts (row t only in
      // the patched layer, rows t.. above, the last layer's keys and values)
      // against the plain rerun of every row, bit for bit; and the ends that
      // are exact: every position is the head map, a position before the
      // first difference or a last-layer row before T - 1 is the corrupted run,
      // the last layer's row T - 1 is the head map's entry.
      const std::vector<float> pos = p.head_z_position_map();
      int pos_mismatches = 0, end_mismatches = 0;
      for (int l = 0; l < L; l++) {
        for (int h = 0; h < H; h++) {
          end_mismatches += !same_bits(p.head_z_patched_at(l, {h}, all_of(T)), heads[l * H + h]);
          for (int t = 0; t < T; t++) {
            const float entry = pos[(static_cast<size_t>(l) * H + h) * T + t];
            pos_mismatches += !same_bits(entry, p.head_z_patched_at(l, {h}, {t}));
            if (t < first_diff || (l == L - 1 && t < T - 1)) end_mismatches += !same_bits(entry, k);
          }
          end_mismatches += !same_bits(pos[(static_cast<size_t>(L - 1) * H + h) * T + T - 1],
                                       heads[(L - 1) * H + h]);
        }
      }
      std::printf("%s: per-position head map (%d entries) not bit-equal to single patches %d; "
                  "exact ends not bit-equal %d\n",
                  name, L * H * T, pos_mismatches, end_mismatches);
      CHECK(pos_mismatches == 0);
      CHECK(end_mismatches == 0);

      // A head's z patched is the Session's rerun with that head's z replaced
      // (set_head_z with the clean run's (T, D) rows): its logits' difference
      // (the LM head's GEMM, not the patcher's two dot products: not the same
      // bits), or the log-softmax of its answer.
      hl::Session clean_run(model, 1), session(model, 1);
      clean_run.run(clean);
      session.run(corrupted);
      const int V = model->config.vocab_size;
      float max_session_diff = 0.0f;
      for (int l = 0; l < L; l++) {
        for (const int h : {0, H - 1}) {
          session.clear_head_edits();
          session.set_head_z(l, h, hl::head_rows(clean_run.trace().head_z, model->config, T, l, h));
          session.update();
          const float* logits = session.trace().logits.data() + static_cast<size_t>(T - 1) * V;
          const double expected = kind == hl::PatchMetric::logprob ? log_prob(logits, V, 5)
                                                                   : logits[5] - logits[9];
          max_session_diff = std::max(
              max_session_diff, static_cast<float>(std::fabs(expected - p.head_z_patched(l, {h}))));
        }
      }
      std::printf("%s: head z patch vs Session set_head_z rerun, max |diff| %.3g\n", name,
                  max_session_diff);
      CHECK(max_session_diff <= 1e-4f);
    }
  }
}

TEST_CASE("activation patching: bad inputs name the problem") {
  const auto model = hl_test::load_fixture("tiny-gpt");
  const std::vector<int> a = model->tokenizer.encode("one two three");
  const std::vector<int> b = model->tokenizer.encode("one two three four");
  try {
    hl::ActivationPatcher p(model, a, b, 1, 2);
    FAIL("different token counts were accepted");
  } catch (const hl::Error& e) {
    const std::string what = e.what();
    std::printf("%s\n", what.c_str());
    CHECK(what.find(std::to_string(a.size())) != std::string::npos);
    CHECK(what.find(std::to_string(b.size())) != std::string::npos);
  }
  CHECK_THROWS_AS(hl::ActivationPatcher(model, a, a, model->config.vocab_size, 2), hl::Error);
  CHECK_THROWS_AS(hl::ActivationPatcher(model, {}, {}, 1, 2), hl::Error);
  // The log-prob reads no foil (-1 accepted); the logit difference needs one.
  CHECK_THROWS_AS(hl::ActivationPatcher(model, a, a, 1, -1), hl::Error);
  CHECK_NOTHROW(hl::ActivationPatcher(model, a, a, 1, -1, hl::PatchMetric::logprob));
  CHECK_THROWS_WITH_AS(hl::patch_metric_from_name("prob"),
                       "unknown metric 'prob' (expected logit_diff or logprob)", hl::Error);
  CHECK(hl::patch_metric_from_name("logprob") == hl::PatchMetric::logprob);
  const hl::ActivationPatcher p(model, a, a, 1, 2);
  CHECK_THROWS_AS(p.head_z_patched(model->config.n_layer, {0}), hl::Error);
  CHECK_THROWS_AS(p.residual_patched(0, {static_cast<int>(a.size())}), hl::Error);
  // Identical texts: nothing to recover, NaN recovery.
  CHECK(std::isnan(hl::patch_recovery(1.0f, 2.0f, 2.0f)));
}

TEST_CASE("activation patching on repeated random tokens: the induction circuit recovers it") {
  struct Case {
    const char* model;
    // l * H + h: previous-token and induction heads, and on attn-only-2l the
    // copying heads 1.3, 1.5, 1.6 that write the induction head's answer with it
    // (models/README.md; web/src/views/presets.ts HEADS_OF)
    std::vector<int> heads;
  };
  for (const Case& k : {Case{"attn-only-2l", {0 * 8 + 2, 1 * 8 + 3, 1 * 8 + 5, 1 * 8 + 6, 1 * 8 + 7}},
                        Case{"gpt-4l", {0 * 8 + 1, 1 * 8 + 2, 1 * 8 + 5, 1 * 8 + 6}}}) {
    const auto model = hl_test::load_shipped(k.model);
    const int L = model->config.n_layer, H = model->config.n_head, V = model->config.vocab_size;
    REQUIRE(H == 8);
    const int n = 16;
    const std::vector<int> special = hl::special_token_ids(model->tokenizer);
    double share_sum = 0.0;
    int cases = 0;
    for (uint64_t seed = 1; seed <= 4; seed++) {
      // Clean: a run of n random tokens and its copy up to position n + m;
      // corrupted: the same, the first copy replaced by other random tokens,
      // so the second copy cannot be copied from it.
      const std::vector<int> run = hl::repeated_random_tokens(n, V, special, seed);
      const std::vector<int> other = hl::repeated_random_tokens(n, V, special, seed + 100);
      const int m = n / 2;
      std::vector<int> clean(run.begin(), run.begin() + n + m);
      std::vector<int> corrupted = clean;
      std::copy(other.begin(), other.begin() + n, corrupted.begin());
      const int answer = run[m];       // what follows clean[n + m - 1] = run[m - 1] in the first copy
      // The foil: a token of neither prompt (a third draw), so that no head
      // is asked to prefer one copy's token over the other's.
      const int foil = hl::repeated_random_tokens(n, V, special, seed + 200)[m];
      if (answer == foil) continue;
      const hl::ActivationPatcher p(model, clean, corrupted, answer, foil);
      const hl::PatchingMaps maps = p.maps();
      double named = 0.0, positive = 0.0;
      for (int i = 0; i < L * H; i++) positive += std::max(0.0f, maps.head_z[i]);
      for (const int i : k.heads) named += maps.head_z[i];
      share_sum += named / positive;
      cases++;
      if (seed == 1) {
        // With more than two layers (layers between the patched one and the
        // last), the maps' shortcuts against the plain single patches, bit for bit.
        const int T = static_cast<int>(clean.size());
        const std::vector<float> pos = p.head_z_position_map();
        int mismatches = 0, compared = 0;
        for (int l = 0; l < L; l++) {
          for (int h = 0; h < H; h++, compared++) {
            mismatches += !same_bits(maps.head_z_metric[l * H + h], p.head_z_patched(l, {h}));
          }
          for (const int h : {0, H - 1}) {
            for (int t = 0; t < T; t++, compared++) {
              mismatches += !same_bits(pos[(static_cast<size_t>(l) * H + h) * T + t],
                                       p.head_z_patched_at(l, {h}, {t}));
            }
          }
        }
        for (int l = 0; l <= L; l++) {
          for (int t = 0; t < T; t++, compared++) {
            mismatches += !same_bits(maps.residual_metric[l * T + t], p.residual_patched(l, {t}));
          }
        }
        std::printf("%s seed 1: map entries not bit-equal to plain single patches: %d of %d\n",
                    k.model, mismatches, compared);
        CHECK(mismatches == 0);
        std::printf("%s seed 1: metric clean %.3f corrupted %.3f; head z recovery:\n", k.model,
                    maps.clean, maps.corrupted);
        for (int l = 0; l < L; l++) {
          std::printf("  layer %d", l);
          for (int h = 0; h < H; h++) std::printf(" %+.2f", maps.head_z[l * H + h]);
          std::printf("\n");
        }
      }
    }
    const double share = share_sum / cases;
    std::printf("%s: named heads' (previous-token, induction, copying) mean share of the positive head z recovery "
                "over %d prompts: %.2f\n",
                k.model, cases, share);
    CHECK(cases >= 3);
    CHECK(share >= 0.5);
  }
}

TEST_CASE("path patching: the exact ends, and bad paths name the problem") {
  for (const char* name : {"tiny-gpt", "tiny-attn-only"}) {
    CAPTURE(name);
    const auto model = hl_test::load_fixture(name);
    const int L = model->config.n_layer, H = model->config.n_head;
    REQUIRE(L >= 2);
    const std::vector<int> clean = model->tokenizer.encode("When Mary and John went, John gave");
    std::vector<int> corrupted = clean;
    const int T = static_cast<int>(clean.size());
    corrupted[T / 2] = (clean[T / 2] + 7) % model->config.vocab_size;
    const hl::ActivationPatcher p(model, clean, corrupted, 5, 9);
    const float k = p.corrupted_metric();
    std::vector<int> layer_1(H);  // every head of layer 1, as l * H + h
    for (int h = 0; h < H; h++) layer_1[h] = H + h;

    int mismatches = 0;
    // No receiver: nothing reads the sender, the corrupted run.
    hl::PathPatch none{0, 1, {}, true, true, true};
    mismatches += !same_bits(p.path_patched(none), k);
    // Receivers that read none of their inputs from the sender: layers 1..
    // rerun on the corrupted inputs, the corrupted run's bits.
    hl::PathPatch no_input{0, 1, layer_1, false, false, false};
    mismatches += !same_bits(p.path_patched(no_input), k);
    // Identical texts: the sender's difference is 0, every path the corrupted run.
    const hl::ActivationPatcher same(model, corrupted, corrupted, 5, 9);
    hl::PathPatch all{0, 1, layer_1, true, true, true};
    mismatches += !same_bits(same.path_patched(all), same.corrupted_metric());
    const float q = p.path_patched({0, 1, layer_1, true, false, false});
    const float kv = p.path_patched({0, 1, layer_1, false, true, true});
    const float qkv = p.path_patched(all);
    std::printf("%s: path 0.1 -> layer 1, metric corrupted %.5f clean %.5f; into q %.5f, k+v "
                "%.5f, q+k+v %.5f; exact ends not bit-equal %d\n",
                name, k, p.clean_metric(), q, kv, qkv, mismatches);
    CHECK(mismatches == 0);
    CHECK(qkv != k);  // the sender's difference reaches the metric through its receivers

    // A receiver in the sender's layer (or below) cannot read its output.
    try {
      p.path_patched({1, 0, {H + 1}, true, true, true});
      FAIL("a receiver in the sender's layer was accepted");
    } catch (const hl::Error& e) {
      std::printf("%s\n", e.what());
      CHECK(std::string(e.what()).find("receiver 1.1") != std::string::npos);
    }
    CHECK_THROWS_AS(p.path_patched({0, H, {H}, true, true, true}), hl::Error);
    CHECK_THROWS_AS(p.path_patched({0, 0, {L * H}, true, true, true}), hl::Error);
  }
}
