// The eigenvalue solver (eigenvalues.h) on matrices whose eigenvalues are
// known, and the copying score (copying.h) of the shipped models' heads.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <vector>

#include "copying.h"
#include "eigenvalues.h"
#include "fixtures.h"
#include "head_types.h"
#include "random.h"

namespace {

using cplx = std::complex<double>;

// The largest distance from an expected eigenvalue to the computed one
// matched with it (each computed value used once, nearest first).
double max_match_error(std::vector<cplx> got, const std::vector<cplx>& want) {
  REQUIRE(got.size() == want.size());
  double worst = 0;
  for (const cplx& w : want) {
    auto best = std::min_element(got.begin(), got.end(), [&](const cplx& a, const cplx& b) {
      return std::abs(a - w) < std::abs(b - w);
    });
    worst = std::max(worst, std::abs(*best - w));
    got.erase(best);
  }
  return worst;
}

// Block diagonal (n, n) with 1 x 1 blocks (real eigenvalues) and 2 x 2
// rotation-scaling blocks [[a, -b], [b, a]] (eigenvalues a +- ib).
struct Blocks {
  std::vector<double> matrix;
  std::vector<cplx> values;
  int n = 0;
};

Blocks blocks(const std::vector<double>& reals, const std::vector<cplx>& pairs) {
  Blocks out;
  out.n = static_cast<int>(reals.size() + 2 * pairs.size());
  const int n = out.n;
  out.matrix.assign(static_cast<size_t>(n) * n, 0.0);
  int i = 0;
  for (const cplx& p : pairs) {
    out.matrix[size_t(i) * n + i] = p.real();
    out.matrix[size_t(i) * n + i + 1] = -p.imag();
    out.matrix[size_t(i + 1) * n + i] = p.imag();
    out.matrix[size_t(i + 1) * n + i + 1] = p.real();
    out.values.push_back(p);
    out.values.push_back(std::conj(p));
    i += 2;
  }
  for (double r : reals) {
    out.matrix[size_t(i) * n + i] = r;
    out.values.push_back(r);
    ++i;
  }
  return out;
}

// S B S^-1 with S = I + N, N strictly upper triangular with entries in
// [-0.5, 0.5): similar to B, not orthogonally, and S^-1 exact by back substitution.
std::vector<double> similar(const std::vector<double>& b, int n, uint64_t seed) {
  hl::Rng rng(seed);
  std::vector<double> s(size_t(n) * n, 0.0), s_inv(size_t(n) * n, 0.0);
  for (int i = 0; i < n; ++i) {
    s[size_t(i) * n + i] = 1;
    for (int j = i + 1; j < n; ++j) s[size_t(i) * n + j] = rng.uniform() - 0.5;
  }
  for (int col = 0; col < n; ++col)  // S x = e_col, bottom up
    for (int i = n - 1; i >= 0; --i) {
      double x = i == col ? 1.0 : 0.0;
      for (int j = i + 1; j < n; ++j) x -= s[size_t(i) * n + j] * s_inv[size_t(j) * n + col];
      s_inv[size_t(i) * n + col] = x;
    }
  auto product = [n](const std::vector<double>& x, const std::vector<double>& y) {
    std::vector<double> out(size_t(n) * n, 0.0);
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < n; ++k)
        for (int j = 0; j < n; ++j) out[size_t(i) * n + j] += x[size_t(i) * n + k] * y[size_t(k) * n + j];
    return out;
  };
  return product(product(s, b), s_inv);
}

}  // namespace

TEST_CASE("eigenvalues: diagonal, rotation blocks and their similar transforms") {
  const Blocks diagonal = blocks({3.0, -1.5, 0.25, 0.0, 7.0, -7.0}, {});
  const double e_diagonal = max_match_error(hl::eigenvalues(diagonal.matrix, diagonal.n), diagonal.values);
  std::printf("eigenvalues: diagonal (6): max error %.3g\n", e_diagonal);
  CHECK(e_diagonal < 1e-13);

  const Blocks rotations = blocks({2.0, -0.5}, {{0.5, 2.0}, {-1.0, 0.3}, {0.0, 1.0}});
  const double e_rot = max_match_error(hl::eigenvalues(rotations.matrix, rotations.n), rotations.values);
  std::printf("eigenvalues: rotation blocks (8, 3 complex pairs): max error %.3g\n", e_rot);
  CHECK(e_rot < 1e-12);

  double e_similar = 0;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const std::vector<double> a = similar(rotations.matrix, rotations.n, seed);
    e_similar = std::max(e_similar, max_match_error(hl::eigenvalues(a, rotations.n), rotations.values));
  }
  std::printf("eigenvalues: S B S^-1 of the rotation blocks (5 seeds): max error %.3g\n", e_similar);
  CHECK(e_similar < 1e-9);

  // A 32 x 32 one with a fourfold eigenvalue (1, semisimple) and clustered ones, as D x D OV circuits are.
  std::vector<double> reals;
  std::vector<cplx> pairs;
  for (int i = 0; i < 12; ++i) reals.push_back(i % 3 == 0 ? 1.0 : 0.1 * i - 0.4);
  for (int i = 0; i < 10; ++i) pairs.push_back({0.3 * i - 1.2, 0.05 + 0.2 * i});
  const Blocks big = blocks(reals, pairs);
  const double e_big =
      max_match_error(hl::eigenvalues(similar(big.matrix, big.n, 7), big.n), big.values);
  std::printf("eigenvalues: S B S^-1, 32 x 32 with a fourfold eigenvalue: max error %.3g\n", e_big);
  CHECK(e_big < 1e-5);
}

TEST_CASE("eigenvalues: a cyclic permutation (roots of unity), zero and tiny matrices") {
  const int n = 7;
  std::vector<double> perm(size_t(n) * n, 0.0);
  for (int i = 0; i < n; ++i) perm[size_t((i + 1) % n) * n + i] = 1.0;
  std::vector<cplx> roots;
  for (int k = 0; k < n; ++k) roots.push_back(std::polar(1.0, 2 * M_PI * k / n));
  const double e_perm = max_match_error(hl::eigenvalues(perm, n), roots);
  std::printf("eigenvalues: 7-cycle permutation: max error %.3g\n", e_perm);
  CHECK(e_perm < 1e-12);

  const std::vector<cplx> zeros = hl::eigenvalues(std::vector<double>(16, 0.0), 4);
  CHECK(max_match_error(zeros, std::vector<cplx>(4, 0.0)) == 0.0);
  CHECK(hl::eigenvalues({}, 0).empty());
  CHECK(hl::eigenvalues({-2.5}, 1).at(0) == cplx(-2.5, 0));
  CHECK_THROWS(hl::eigenvalues({1, 2, 3}, 2));
}

TEST_CASE("hessenberg: zeros below the subdiagonal, trace and Frobenius norm kept") {
  const int n = 9;
  hl::Rng rng(11);
  std::vector<double> a(size_t(n) * n);
  for (double& x : a) x = rng.normal();
  const std::vector<double> h = hl::hessenberg(a, n);
  double below = 0, trace_a = 0, trace_h = 0, fro_a = 0, fro_h = 0;
  for (int i = 0; i < n; ++i) {
    trace_a += a[size_t(i) * n + i];
    trace_h += h[size_t(i) * n + i];
    for (int j = 0; j < n; ++j) {
      if (i > j + 1) below = std::max(below, std::abs(h[size_t(i) * n + j]));
      fro_a += a[size_t(i) * n + j] * a[size_t(i) * n + j];
      fro_h += h[size_t(i) * n + j] * h[size_t(i) * n + j];
    }
  }
  std::printf("hessenberg 9 x 9: below subdiagonal %.3g, trace diff %.3g, Frobenius^2 diff %.3g\n",
              below, std::abs(trace_a - trace_h), std::abs(fro_a - fro_h));
  CHECK(below == 0.0);
  CHECK(std::abs(trace_a - trace_h) < 1e-12);
  CHECK(std::abs(fro_a - fro_h) < 1e-11 * fro_a);
}

TEST_CASE("copying: every head of the shipped models, sum of eigenvalues = trace") {
  for (const char* name : {"attn-only-2l", "gpt-4l"}) {
    const auto model = hl_test::load_shipped(name);
    const hl::CopyingScores scores = hl::copying_scores(*model);
    const int L = scores.L, H = scores.H, D = scores.D;
    REQUIRE(scores.score.size() == size_t(L) * H);
    const std::vector<double> gram = hl::embedding_gram(*model);
    double worst_trace = 0;
    std::printf("copying scores, %s (positive = copies):\n", name);
    for (int l = 0; l < L; ++l) {
      const std::vector<double> m = hl::ov_circuit_matrices(*model, gram, l);
      std::printf("  layer %d:", l);
      for (int h = 0; h < H; ++h) {
        const size_t i = size_t(l) * H + h;
        double trace = 0, sum_re = 0, sum_abs = 0, scale = 0;
        for (int d = 0; d < D; ++d) trace += m[(size_t(h) * D + d) * D + d];
        for (int d = 0; d < D; ++d) {
          sum_re += scores.eig_re[i * D + d];
          sum_abs += std::hypot(scores.eig_re[i * D + d], scores.eig_im[i * D + d]);
          scale = std::max(scale, std::hypot(scores.eig_re[i * D + d], scores.eig_im[i * D + d]));
        }
        worst_trace = std::max(worst_trace, std::abs(trace - sum_re) / scale);
        CHECK(scores.score[i] >= -1.0f);
        CHECK(scores.score[i] <= 1.0f);
        CHECK(std::abs(scores.score[i] - sum_re / sum_abs) < 1e-6);
        std::printf(" %d.%d %+.2f", l, h, scores.score[i]);
      }
      std::printf("\n");
    }
    std::printf("  |trace(M) - sum Re(lambda)| / max |lambda|: %.3g\n", worst_trace);
    CHECK(worst_trace < 1e-10);
  }
}

TEST_CASE("copying: CopyingRun in parts gives copying_scores' bits, however the parts are grouped") {
  for (const char* name : {"attn-only-2l", "gpt-4l"}) {
    const auto model = hl_test::load_shipped(name);
    const hl::CopyingScores whole = hl::copying_scores(*model);
    for (int n_parts : {1, 3, 1000}) {
      hl::CopyingRun run(model);
      const int V = model->config.vocab_size, L = model->config.n_layer;
      CHECK(run.parts_total() == (V + hl::kGramRows - 1) / hl::kGramRows + 2 * L);
      CHECK_THROWS(run.scores());
      CHECK_THROWS(run.step(0));
      int calls = 0;
      double work = 0;
      while (!run.done()) {
        run.step(n_parts);
        ++calls;
        CHECK(run.work_done() > work);  // every part moves the progress
        work = run.work_done();
      }
      CHECK(run.work_done() == run.work_total());
      const hl::CopyingScores& parts = run.scores();
      size_t score_diffs = 0, eig_diffs = 0;
      for (size_t i = 0; i < whole.score.size(); ++i) score_diffs += parts.score[i] != whole.score[i];
      for (size_t i = 0; i < whole.eig_re.size(); ++i)
        eig_diffs += parts.eig_re[i] != whole.eig_re[i] || parts.eig_im[i] != whole.eig_im[i];
      std::printf("copying run, %s: %d parts, %d parts a call (%d calls): %zu scores and %zu "
                  "eigenvalues differ from copying_scores\n",
                  name, run.parts_total(), n_parts, calls, score_diffs, eig_diffs);
      CHECK(score_diffs == 0);
      CHECK(eig_diffs == 0);
    }
  }
  CHECK_THROWS(hl::CopyingRun(nullptr));
}
