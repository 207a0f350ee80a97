// Head-type scores (head_types.h) on hand-built attention patterns whose
// answers are known: each pure pattern scores 1 on its own score and what the
// definitions say on the others.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <vector>

#include "head_types.h"

namespace {

// A (T, T) causal pattern with row q given by weight(q, k) for k <= q,
// normalised to sum 1.
std::vector<float> pattern(int T, const std::function<double(int, int)>& weight) {
  std::vector<float> A(size_t(T) * T, 0.0f);
  for (int q = 0; q < T; ++q) {
    double sum = 0;
    for (int k = 0; k <= q; ++k) sum += weight(q, k);
    for (int k = 0; k <= q; ++k) A[size_t(q) * T + k] = float(weight(q, k) / sum);
  }
  return A;
}

// n distinct tokens, then the same n again.
std::vector<int> repeated(int n) {
  std::vector<int> ids;
  for (int r = 0; r < 2; ++r)
    for (int i = 0; i < n; ++i) ids.push_back(100 + 7 * i);
  return ids;
}

void print(const char* name, const hl::HeadTypeScores& s) {
  std::printf("%-10s prev %.3f first %.3f dup %.3f ind %.3f local %.3f entropy %.3f -> %s\n", name,
              s.previous_token, s.first_token, s.duplicate_token, s.induction, s.local, s.entropy,
              hl::head_type(s).c_str());
}

}  // namespace

TEST_CASE("head types: pure patterns score as defined") {
  const int n = 12, T = 2 * n;
  const std::vector<int> ids = repeated(n);
  const double eps = 1e-6;

  // Previous token: all of row q on q - 1 (row 0 on itself).
  const auto prev = hl::head_type_scores(
      pattern(T, [](int q, int k) { return k == (q > 0 ? q - 1 : 0) ? 1.0 : 0.0; }).data(), ids);
  print("previous", prev);
  CHECK(prev.previous_token == doctest::Approx(1.0).epsilon(eps));
  CHECK(prev.first_token == doctest::Approx(1.0 / (T - 1)).epsilon(eps));  // only q = 1
  CHECK(prev.induction == doctest::Approx(0.0));  // the induction key is q - n + 1, not q - 1
  CHECK(prev.duplicate_token == doctest::Approx(0.0));
  CHECK(prev.local == doctest::Approx(1.0).epsilon(eps));
  CHECK(prev.entropy == doctest::Approx(0.0));
  CHECK(hl::head_type(prev) == "previous_token");

  // Induction: in the second copy, all on the token after the earlier copy
  // (q - n + 1); in the first copy, on position 0.
  const auto ind = hl::head_type_scores(
      pattern(T, [&](int q, int k) { return k == (q >= n ? q - n + 1 : 0) ? 1.0 : 0.0; }).data(),
      ids);
  print("induction", ind);
  CHECK(hl::head_type_queries(ids).induction == n);  // the second copy
  CHECK(ind.induction == doctest::Approx(1.0).epsilon(eps));
  CHECK(ind.duplicate_token == doctest::Approx(0.0));
  CHECK(ind.previous_token == doctest::Approx(1.0 / (T - 1)).epsilon(eps));  // q = 1 -> 0
  CHECK(hl::head_type(ind) == "induction");

  // Duplicate token: in the second copy, all on the earlier copy (q - n).
  const auto dup = hl::head_type_scores(
      pattern(T, [&](int q, int k) { return k == (q >= n ? q - n : 0) ? 1.0 : 0.0; }).data(), ids);
  print("duplicate", dup);
  CHECK(hl::head_type_queries(ids).duplicate == n);
  CHECK(dup.duplicate_token == doctest::Approx(1.0).epsilon(eps));
  CHECK(dup.induction == doctest::Approx(0.0));  // its keys are one before the induction keys
  CHECK(hl::head_type(dup) == "duplicate_token");

  // Sink: everything on position 0.
  const auto sink =
      hl::head_type_scores(pattern(T, [](int, int k) { return k == 0 ? 1.0 : 0.0; }).data(), ids);
  print("sink", sink);
  CHECK(sink.first_token == doctest::Approx(1.0).epsilon(eps));
  CHECK(hl::head_type(sink) == "first_token");

  // Uniform: entropy 1, previous_token = first_token = mean of 1 / (q + 1).
  // (64 tokens: on very short texts every row is local.)
  const int T64 = 64;
  const auto uniform =
      hl::head_type_scores(pattern(T64, [](int, int) { return 1.0; }).data(), repeated(32));
  print("uniform", uniform);
  double mean_inverse = 0;
  for (int q = 1; q < T64; ++q) mean_inverse += 1.0 / (q + 1);
  mean_inverse /= T64 - 1;
  CHECK(uniform.entropy == doctest::Approx(1.0).epsilon(eps));
  CHECK(uniform.previous_token == doctest::Approx(mean_inverse).epsilon(eps));
  CHECK(uniform.first_token == doctest::Approx(mean_inverse).epsilon(eps));
  CHECK(hl::head_type(uniform) == "none");

  // Local but no single offset: half on q - 2, half on q - 3.
  const auto local = hl::head_type_scores(
      pattern(T, [](int q, int k) { return q >= 3 ? (k == q - 2 || k == q - 3 ? 1.0 : 0.0) : 1.0; })
          .data(),
      ids);
  print("local", local);
  CHECK(local.local == doctest::Approx(1.0).epsilon(eps));
  CHECK(hl::head_type(local) == "local");
}

TEST_CASE("head types: a text without repeats has no duplicate or induction queries") {
  const std::vector<int> ids = {5, 6, 7, 8, 9};
  const auto q = hl::head_type_queries(ids);
  CHECK(q.all == 4);
  CHECK(q.duplicate == 0);
  CHECK(q.induction == 0);
  const auto s = hl::head_type_scores(pattern(5, [](int, int) { return 1.0; }).data(), ids);
  CHECK(s.duplicate_token == 0.0f);
  CHECK(s.induction == 0.0f);
  // A repeated token next to itself: key q is after the earlier copy q - 1.
  const std::vector<int> twice = {5, 5};
  CHECK(hl::head_type_queries(twice).induction == 1);
}
