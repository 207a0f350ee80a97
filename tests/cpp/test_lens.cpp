// The logit lens (lens.h) and direct logit attribution (attribution.h):
// exact identities on the fixtures (the lens's last row is the model's own
// prediction; the attribution's parts sum to the real logit difference, with
// and without head gains), and what they show on models/gpt-4l on repeated
// random tokens: the next token of the second copy rises to rank 1, and the
// induction heads 1.2, 1.5, 1.6 carry the push toward it.
// (Against the float64 reference: tests/node/lens-cli.test.mjs.)
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "analysis.h"
#include "attribution.h"
#include "error.h"
#include "fixtures.h"
#include "lens.h"
#include "session.h"

namespace {

std::vector<int> ids_of(const hl::Model& model, const char* text) {
  return model.tokenizer.encode(text);
}

// |total - actual| relative to max(1, |actual|).
double sum_error(const hl::LogitAttribution& a) {
  return std::fabs(a.total - a.actual) / std::max(1.0, std::fabs(a.actual));
}

}  // namespace

TEST_CASE(
    "logit lens: the last row is the trace's top-k, and a subset of positions is the same bits") {
  for (const char* fixture : {"tiny-gpt", "tiny-attn-only"}) {
    const auto model = hl_test::load_fixture(fixture);
    hl::Session session(model, 5);
    session.run(ids_of(*model, "The farmer saw the hens in the barn, and the farmer fed the"));
    const hl::Trace& tr = session.trace();
    const int L = model->config.n_layer, T = tr.T, K = 5;
    const int answer = tr.top_k_ids[static_cast<size_t>(T - 1) * K + 2];
    const hl::LogitLens all = hl::logit_lens(*model, tr, K, answer);
    const hl::LogitLens some = hl::logit_lens(*model, tr, K, answer, {T - 1, 3});
    REQUIRE(all.positions.size() == static_cast<size_t>(T));
    int id_mismatches = 0, subset_mismatches = 0;
    for (int t = 0; t < T; t++) {
      for (int k = 0; k < K; k++) {
        const size_t i = (static_cast<size_t>(L) * T + t) * K + k;
        id_mismatches += all.top_k_ids[i] != tr.top_k_ids[static_cast<size_t>(t) * K + k] ||
                         all.top_k_probs[i] != tr.top_k_probs[static_cast<size_t>(t) * K + k];
      }
    }
    for (int l = 0; l <= L; l++) {
      for (int p = 0; p < 2; p++) {
        const int t = some.positions[p];
        for (int k = 0; k < K; k++) {
          subset_mismatches += some.top_k_probs[(static_cast<size_t>(l) * 2 + p) * K + k] !=
                               all.top_k_probs[(static_cast<size_t>(l) * T + t) * K + k];
        }
        subset_mismatches += some.answer_prob[static_cast<size_t>(l) * 2 + p] !=
                             all.answer_prob[static_cast<size_t>(l) * T + t];
      }
    }
    // The answer is the third of the final top-5.
    std::printf(
        "%s: lens row L vs trace top-k mismatches %d; subset vs all %d; final answer rank %d\n",
        fixture, id_mismatches, subset_mismatches,
        all.answer_rank[static_cast<size_t>(L) * T + T - 1]);
    CHECK(id_mismatches == 0);
    CHECK(subset_mismatches == 0);
    CHECK(all.answer_rank[static_cast<size_t>(L) * T + T - 1] == 3);
    CHECK_THROWS_AS(hl::logit_lens(*model, tr, K, answer, {T}), hl::Error);
    CHECK_THROWS_AS(hl::logit_lens(*model, tr, 0, answer), hl::Error);
    CHECK_THROWS_AS(hl::logit_lens(*model, tr, K, model->config.vocab_size), hl::Error);
  }
}

TEST_CASE("direct logit attribution: the parts sum to the real logit difference") {
  for (const char* fixture : {"tiny-gpt", "tiny-attn-only"}) {
    const auto model = hl_test::load_fixture(fixture);
    const int L = model->config.n_layer, H = model->config.n_head;
    hl::Session session(model, 5);
    const std::vector<int> ids = ids_of(*model, "The farmer saw the hens in the barn, and the");
    session.run(ids);
    double worst = 0.0;
    for (int edited = 0; edited < 2; edited++) {
      if (edited) {
        session.set_head_gain(L - 1, 1, 0.0f);
        session.set_head_gain(0, H - 1, 2.5f);
        session.update();
      }
      const hl::Trace& tr = session.trace();
      for (int t : {0, tr.T / 2, tr.T - 1}) {
        const int answer = tr.top_k_ids[static_cast<size_t>(t) * 5];
        const int foil = tr.top_k_ids[static_cast<size_t>(t) * 5 + 4];
        const hl::LogitAttribution a =
            hl::direct_logit_attribution(*model, tr, session.head_gains(), t, answer, foil);
        std::printf("%s%s t=%d: total %.7f actual %.7f |error| %.2e (relative %.2e)\n", fixture,
                    edited ? " edited" : "", t, a.total, a.actual, std::fabs(a.total - a.actual),
                    sum_error(a));
        worst = std::max(worst, sum_error(a));
        if (edited) {
          CHECK(a.heads[static_cast<size_t>(L - 1) * H + 1] == 0.0);  // muted: adds nothing
        }
      }
    }
    CHECK(worst <= 2e-5);
    const hl::Trace& tr = session.trace();
    CHECK_THROWS_AS(hl::direct_logit_attribution(*model, tr, session.head_gains(), tr.T, 1, 2),
                    hl::Error);
    CHECK_THROWS_AS(hl::direct_logit_attribution(*model, tr, session.head_gains(), 0, 1, 1),
                    hl::Error);
    CHECK_THROWS_AS(hl::direct_logit_attribution(*model, tr, {1.0f}, 0, 1, 2), hl::Error);
  }
}

TEST_CASE("gpt-4l, repeated random tokens: the lens finds the copy, DLA the induction heads") {
  const auto model = hl_test::load_shipped("gpt-4l");
  const int L = model->config.n_layer, H = model->config.n_head, V = model->config.vocab_size;
  const int n = 24;
  const std::vector<int> ids =
      hl::repeated_random_tokens(n, V, hl::special_token_ids(model->tokenizer), 7);
  hl::Session session(model, 5);
  session.run(ids);
  const hl::Trace& tr = session.trace();
  const int T = tr.T;

  // Every query in the second copy but its first predicts ids[t - n + 1].
  double share_sum = 0.0;
  int rank_1_final = 0, rank_1_layer_0 = 0, n_queries = 0;
  for (int t = n + 1; t < T - 1; t++) {
    const int answer = ids[t + 1];
    // The foil: the token that followed the answer in the first copy.
    const int foil = ids[t - n + 2];
    if (foil == answer) continue;
    const hl::LogitLens lens = hl::logit_lens(*model, tr, 5, answer, {t});
    const hl::LogitAttribution a =
        hl::direct_logit_attribution(*model, tr, session.head_gains(), t, answer, foil);
    const double induction = a.heads[1 * H + 2] + a.heads[1 * H + 5] + a.heads[1 * H + 6];
    share_sum += induction / a.total;
    rank_1_final += lens.answer_rank[L] == 1;
    rank_1_layer_0 += lens.answer_rank[0] == 1;
    n_queries++;
    if (t == T - 2) {
      std::printf("gpt-4l t=%d answer rank by layer:", t);
      for (int l = 0; l <= L; l++) {
        std::printf(" %d (p %.3f)", lens.answer_rank[l], lens.answer_prob[l]);
      }
      std::printf("\n  DLA total %.3f actual %.3f; heads 1.2 %.3f 1.5 %.3f 1.6 %.3f\n", a.total,
                  a.actual, a.heads[1 * H + 2], a.heads[1 * H + 5], a.heads[1 * H + 6]);
    }
  }
  const double share = share_sum / n_queries;
  std::printf(
      "gpt-4l second copy, %d queries: answer rank 1 at layer 0 in %d, at the last layer in %d; "
      "induction heads 1.2+1.5+1.6 mean share of the DLA total %.2f\n",
      n_queries, rank_1_layer_0, rank_1_final, share);
  CHECK(rank_1_final >= n_queries * 9 / 10);
  CHECK(rank_1_layer_0 <= n_queries / 10);
  CHECK(share >= 0.5);
}
