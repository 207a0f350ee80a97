// Kernels against plain double-precision loops on random inputs of awkward
// sizes (not multiples of the SIMD width, the register tile or the K block).
// Every check prints the figure it tests.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kernels.h"

namespace {

std::vector<float> random_vector(size_t n, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Reference C = C0 (if accumulate) + A @ B + bias, and the magnitude
// sum_k |a||b| + |bias| + |C0| each entry's rounding error scales with.
void gemm_reference(std::vector<double>& ref, std::vector<double>& magnitude, const float* A,
                    const float* B, int ldb, const float* bias, const float* C0, int M, int K,
                    int N) {
  ref.assign(static_cast<size_t>(M) * N, 0.0);
  magnitude.assign(static_cast<size_t>(M) * N, 0.0);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double sum = 0.0, mag = 0.0;
      for (int k = 0; k < K; ++k) {
        const double p = static_cast<double>(A[i * K + k]) * B[k * ldb + j];
        sum += p;
        mag += std::fabs(p);
      }
      if (bias) sum += bias[j], mag += std::fabs(bias[j]);
      if (C0) sum += C0[i * N + j], mag += std::fabs(C0[i * N + j]);
      ref[i * N + j] = sum;
      magnitude[i * N + j] = mag;
    }
}

double max_rel_error(const std::vector<float>& C, const std::vector<double>& ref,
                     const std::vector<double>& magnitude) {
  double worst = 0.0;
  for (size_t i = 0; i < C.size(); ++i)
    worst = std::max(worst, std::fabs(C[i] - ref[i]) / std::max(magnitude[i], 1e-30));
  return worst;
}

double gelu_reference(double x) {
  return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

}  // namespace

TEST_CASE("gemm_packed matches a double loop on awkward shapes, with bias and accumulate") {
  std::mt19937 rng(1234);
  const int Ms[] = {1, 3, 4, 7, 13, 67};
  const int Ks[] = {1, 5, 64, 300, 517};
  const int Ns[] = {1, 7, 8, 17, 33, 100};
  double worst = 0.0;
  int cases = 0;
  for (int M : Ms)
    for (int K : Ks)
      for (int N : Ns) {
        const int ldb = N + 3;  // pack_b must honour a leading dimension > N
        auto A = random_vector(static_cast<size_t>(M) * K, rng);
        auto B = random_vector(static_cast<size_t>(K) * ldb, rng);
        auto bias = random_vector(N, rng);
        auto C0 = random_vector(static_cast<size_t>(M) * N, rng);
        std::vector<float> packed(hl::packed_b_size(K, N));
        hl::pack_b(packed.data(), B.data(), K, N, ldb);
        std::vector<double> ref, mag;
        const int variant = cases % 4;  // bias x accumulate
        const bool use_bias = variant & 1, accumulate = variant & 2;
        std::vector<float> C = accumulate ? C0 : std::vector<float>(C0.size(), 7.0f);
        hl::gemm_packed(C.data(), A.data(), packed.data(), use_bias ? bias.data() : nullptr, M, K,
                        N, accumulate);
        gemm_reference(ref, mag, A.data(), B.data(), ldb, use_bias ? bias.data() : nullptr,
                       accumulate ? C0.data() : nullptr, M, K, N);
        const double err = max_rel_error(C, ref, mag);
        if (err > 1e-5) MESSAGE("M=" << M << " K=" << K << " N=" << N << " rel err " << err);
        worst = std::max(worst, err);
        ++cases;
      }
  MESSAGE("gemm_packed: " << cases << " shapes, max rel error " << worst);
}

TEST_CASE("pack_b_transposed packs the same panels as pack_b of the transpose") {
  std::mt19937 rng(99);
  for (int K : {1, 9, 300})
    for (int N : {1, 13, 40}) {
      auto Bt = random_vector(static_cast<size_t>(N) * K, rng);  // (N, K)
      std::vector<float> B(static_cast<size_t>(K) * N);          // (K, N)
      for (int n = 0; n < N; ++n)
        for (int k = 0; k < K; ++k) B[k * N + n] = Bt[n * K + k];
      std::vector<float> p1(hl::packed_b_size(K, N), -1.0f), p2(hl::packed_b_size(K, N), -2.0f);
      hl::pack_b(p1.data(), B.data(), K, N, N);
      hl::pack_b_transposed(p2.data(), Bt.data(), K, N);
      CHECK(p1 == p2);
    }
}

TEST_CASE("gemm and gemm_packed_mt equal gemm_packed bit for bit") {
  std::mt19937 rng(7);
  struct Shape {
    int M, K, N;
  };
  for (Shape s : {Shape{5, 33, 9}, Shape{130, 70, 200}, Shape{301, 260, 24}, Shape{64, 96, 520}}) {
    auto A = random_vector(static_cast<size_t>(s.M) * s.K, rng);
    auto B = random_vector(static_cast<size_t>(s.K) * s.N, rng);
    auto bias = random_vector(s.N, rng);
    std::vector<float> packed(hl::packed_b_size(s.K, s.N));
    hl::pack_b(packed.data(), B.data(), s.K, s.N, s.N);
    std::vector<float> C1(static_cast<size_t>(s.M) * s.N), C2(C1.size()), C3(C1.size());
    hl::gemm_packed(C1.data(), A.data(), packed.data(), bias.data(), s.M, s.K, s.N);
    hl::gemm(C2.data(), A.data(), B.data(), bias.data(), s.M, s.K, s.N);
    CHECK(C1 == C2);
    for (int threads : {2, 3, 5}) {
      std::fill(C3.begin(), C3.end(), 0.0f);
      hl::gemm_packed_mt(C3.data(), A.data(), packed.data(), bias.data(), s.M, s.K, s.N, false,
                         threads);
      CHECK_MESSAGE(C1 == C3,
                    "M=" << s.M << " K=" << s.K << " N=" << s.N << " threads=" << threads);
    }
  }
}

TEST_CASE("gemm_packed_cols: a column range, and rows in pieces, equal gemm_packed bit for bit") {
  // Session::update_at computes the last layer's k, v for all rows and q
  // for one row first, the other rows' q later: every piece must give the
  // bits of the one full product.
  std::mt19937 rng(9);
  const int W = hl::gemm_panel_width();
  const int M = 37, K = 70, N = 3 * 4 * W;  // q | k | v of width 4 panels each
  auto A = random_vector(static_cast<size_t>(M) * K, rng);
  auto B = random_vector(static_cast<size_t>(K) * N, rng);
  auto bias = random_vector(N, rng);
  std::vector<float> packed(hl::packed_b_size(K, N));
  hl::pack_b(packed.data(), B.data(), K, N, N);
  std::vector<float> full(static_cast<size_t>(M) * N), pieces(full.size(), 7.0f);
  hl::gemm_packed(full.data(), A.data(), packed.data(), bias.data(), M, K, N);
  const int q = N / 3, t = 20;
  hl::gemm_packed_cols(pieces.data(), A.data(), packed.data(), bias.data(), M, K, N, q, N);
  hl::gemm_packed_cols(pieces.data() + t * N, A.data() + t * K, packed.data(), bias.data(), 1, K,
                       N, 0, q);
  hl::gemm_packed_cols(pieces.data(), A.data(), packed.data(), bias.data(), t, K, N, 0, q);
  hl::gemm_packed_cols(pieces.data() + (t + 1) * N, A.data() + (t + 1) * K, packed.data(),
                       bias.data(), M - t - 1, K, N, 0, q);
  CHECK(std::memcmp(pieces.data(), full.data(), full.size() * sizeof(float)) == 0);
  // Columns off the panels are refused, naming them.
  std::string error;
  try {
    hl::gemm_packed_cols(pieces.data(), A.data(), packed.data(), bias.data(), M, K, N, 1, q);
  } catch (const std::exception& e) {
    error = e.what();
  }
  CHECK(error.find("columns [1, ") != std::string::npos);
}

TEST_CASE("gemm_packed_mt called from several threads at once stays exact") {
  std::mt19937 rng(8);
  const int M = 150, K = 90, N = 70;
  auto A = random_vector(static_cast<size_t>(M) * K, rng);
  auto B = random_vector(static_cast<size_t>(K) * N, rng);
  std::vector<float> packed(hl::packed_b_size(K, N));
  hl::pack_b(packed.data(), B.data(), K, N, N);
  std::vector<float> expected(static_cast<size_t>(M) * N);
  hl::gemm_packed(expected.data(), A.data(), packed.data(), nullptr, M, K, N);
  int mismatches[3] = {0, 0, 0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 3; ++c) {
    callers.emplace_back([&, c] {
      std::vector<float> C(expected.size());
      for (int rep = 0; rep < 20; ++rep) {
        hl::gemm_packed_mt(C.data(), A.data(), packed.data(), nullptr, M, K, N, false, 2 + rep % 3);
        if (C != expected) ++mismatches[c];
      }
    });
  }
  for (auto& t : callers) t.join();
  CHECK(mismatches[0] + mismatches[1] + mismatches[2] == 0);
}

TEST_CASE("gemm with K = 0 gives the bias (or leaves C + bias when accumulating)") {
  std::vector<float> packed(hl::packed_b_size(0, 5), 0.0f);
  const float bias[5] = {1, 2, 3, 4, 5};
  std::vector<float> C(2 * 5, 9.0f);
  hl::gemm_packed(C.data(), nullptr, packed.data(), bias, 2, 0, 5, false);
  for (int j = 0; j < 5; ++j) CHECK(C[5 + j] == bias[j]);
  hl::gemm_packed(C.data(), nullptr, packed.data(), bias, 2, 0, 5, true);
  for (int j = 0; j < 5; ++j) CHECK(C[j] == 2 * bias[j]);
}

TEST_CASE("exp_forward: relative error over [-80, 80], underflow to 0, overflow to inf") {
  const size_t n = 400001;  // odd: exercises the scalar tail
  std::vector<float> x(n), y(n);
  for (size_t i = 0; i < n; ++i) x[i] = -80.0f + 160.0f * static_cast<float>(i) / (n - 1);
  hl::exp_forward(y.data(), x.data(), n);
  double worst = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double ref = std::exp(static_cast<double>(x[i]));
    worst = std::max(worst, std::fabs(y[i] - ref) / ref);
  }
  MESSAGE("exp_forward: max rel error " << worst << " on [-80, 80]");

  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> edge = {0.0f,  -88.0f, -100.0f, -1e30f, -inf,
                                   89.0f, inf,    1.0f,    -0.5f,  std::nanf("")};
  std::vector<float> e(edge.size());
  hl::exp_forward(e.data(), edge.data(), edge.size());
  CHECK(e[0] == 1.0f);
  CHECK(e[1] >= 0.0f);
  CHECK(e[1] < 1e-37f);
  CHECK(e[2] == 0.0f);
  CHECK(e[3] == 0.0f);
  CHECK(e[4] == 0.0f);
  CHECK(e[5] == inf);
  CHECK(e[6] == inf);
  CHECK(std::fabs(e[7] - std::exp(1.0)) / std::exp(1.0) < 2e-7);
  CHECK(std::fabs(e[8] - std::exp(-0.5)) / std::exp(-0.5) < 2e-7);
  CHECK(std::isnan(e[9]));
  // Near the top of the range (n is clamped to 127 there) it stays accurate.
  const float top[4] = {88.0f, 88.5f, 88.7f, 87.9f};
  float etop[4];
  hl::exp_forward(etop, top, 4);
  double worst_top = 0.0;
  for (int i = 0; i < 4; ++i)
    worst_top = std::max(worst_top,
                         std::fabs(etop[i] - std::exp(double(top[i]))) / std::exp(double(top[i])));
  MESSAGE("exp_forward: max rel error " << worst_top << " on [87.9, 88.7]");
  CHECK(worst_top < 2e-6);
}

TEST_CASE("softmax_rows: matches double, rows sum to 1, masked -inf entries give 0") {
  std::mt19937 rng(5);
  double worst = 0.0, worst_sum = 0.0;
  for (int n : {1, 3, 8, 37, 256, 1001}) {
    const int rows = 5;
    auto x = random_vector(static_cast<size_t>(rows) * n, rng, -30.0f, 30.0f);
    // Mask the upper part of row 1 the way causal attention does.
    for (int j = n / 2 + 1; j < n; ++j) x[n + j] = -std::numeric_limits<float>::infinity();
    auto y = x;
    hl::softmax_rows(y.data(), rows, n);
    for (int r = 0; r < rows; ++r) {
      double m = -1e300, sum = 0.0, row_sum = 0.0;
      for (int j = 0; j < n; ++j) m = std::max(m, double(x[r * n + j]));
      for (int j = 0; j < n; ++j) sum += std::exp(double(x[r * n + j]) - m);
      for (int j = 0; j < n; ++j) {
        const double ref = std::exp(double(x[r * n + j]) - m) / sum;
        worst = std::max(worst, std::fabs(y[r * n + j] - ref));
        row_sum += y[r * n + j];
        if (std::isinf(x[r * n + j])) CHECK(y[r * n + j] == 0.0f);
      }
      worst_sum = std::max(worst_sum, std::fabs(row_sum - 1.0));
    }
  }
  MESSAGE("softmax_rows: max abs error " << worst << ", max |row sum - 1| " << worst_sum);
  CHECK(worst_sum < 1e-5);
}

TEST_CASE("layernorm_forward: two-pass, sane with a large mean") {
  std::mt19937 rng(11);
  double worst = 0.0;
  for (int C : {1, 7, 64, 771}) {
    const int N = 9;
    auto x = random_vector(static_cast<size_t>(N) * C, rng, -2.0f, 2.0f);
    for (int j = 0; j < C; ++j) x[2 * C + j] += 1000.0f;  // |mean| >> std
    auto w = random_vector(C, rng, 0.5f, 1.5f);
    auto b = random_vector(C, rng);
    std::vector<float> y(x.size()), mean(N), rstd(N);
    const float eps = 1e-5f;
    hl::layernorm_forward(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C,
                          eps);
    for (int i = 0; i < N; ++i) {
      double m = 0.0, v = 0.0;
      for (int j = 0; j < C; ++j) m += x[i * C + j];
      m /= C;
      for (int j = 0; j < C; ++j) v += (x[i * C + j] - m) * (x[i * C + j] - m);
      v /= C;
      const double s = 1.0 / std::sqrt(v + eps);
      CHECK(std::fabs(mean[i] - m) <= 1e-5 * std::max(1.0, std::fabs(m)));
      CHECK(std::fabs(rstd[i] - s) <= 1e-4 * s);
      for (int j = 0; j < C; ++j) {
        const double ref = (x[i * C + j] - m) * s * w[j] + b[j];
        worst = std::max(worst, std::fabs(y[i * C + j] - ref));
      }
    }
  }
  MESSAGE("layernorm_forward: max abs error " << worst);
  // mean and rstd may be null (inference does not keep them).
  const float row[3] = {1, 2, 3}, ones[3] = {1, 1, 1}, zeros[3] = {0, 0, 0};
  float normed[3];
  hl::layernorm_forward(normed, nullptr, nullptr, row, ones, zeros, 1, 3, 0.0f);
  CHECK(std::fabs(normed[0] + std::sqrt(1.5)) < 1e-6);
  CHECK(normed[1] == 0.0f);
}

TEST_CASE("gelu_forward: tanh GELU against double") {
  const size_t n = 20003;
  std::vector<float> x(n), y(n);
  for (size_t i = 0; i < n; ++i) x[i] = -12.0f + 24.0f * static_cast<float>(i) / (n - 1);
  hl::gelu_forward(y.data(), x.data(), n);
  double worst = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double ref = gelu_reference(x[i]);
    // relative to max(|x|, 1): GELU(x) ~ x for large x, ~0.5 x near 0
    worst = std::max(worst, std::fabs(y[i] - ref) / std::max(1.0, std::fabs(double(x[i]))));
  }
  MESSAGE("gelu_forward: max error (relative to max(|x|,1)) " << worst);
  const float big[2] = {-1e4f, 1e4f};
  float gb[2];
  hl::gelu_forward(gb, big, 2);
  CHECK(gb[0] == 0.0f);
  CHECK(gb[1] == 1e4f);
}

TEST_CASE("attention_forward: causal probs and z against double") {
  std::mt19937 rng(21);
  struct Shape {
    int T, C, H;
  };
  double worst_p = 0.0, worst_z = 0.0;
  for (Shape s :
       {Shape{1, 8, 2}, Shape{7, 12, 3}, Shape{33, 36, 3}, Shape{70, 128, 2}, Shape{19, 40, 8}}) {
    const int T = s.T, C = s.C, H = s.H, D = C / H;
    auto qkv = random_vector(static_cast<size_t>(T) * 3 * C, rng, -2.0f, 2.0f);
    std::vector<float> z(static_cast<size_t>(T) * C, 5.0f),
        probs(static_cast<size_t>(H) * T * T, 5.0f);
    hl::attention_forward(z.data(), probs.data(), qkv.data(), T, C, H);
    // Query rows in three calls ([0, a), [a, a + 1), [a + 1, T)) give the
    // same bits as one call: Session::update_at runs the last layer's rows so.
    {
      const int a = T / 2;
      std::vector<float> z_rows(z.size(), 5.0f), probs_rows(probs.size(), 5.0f);
      hl::attention_forward_rows(z_rows.data(), probs_rows.data(), qkv.data(), T, C, H, a, a + 1);
      hl::attention_forward_rows(z_rows.data(), probs_rows.data(), qkv.data(), T, C, H, 0, a);
      hl::attention_forward_rows(z_rows.data(), probs_rows.data(), qkv.data(), T, C, H, a + 1, T);
      CHECK(std::memcmp(z_rows.data(), z.data(), z.size() * sizeof(float)) == 0);
      CHECK(std::memcmp(probs_rows.data(), probs.data(), probs.size() * sizeof(float)) == 0);
    }
    for (int h = 0; h < H; ++h)
      for (int t = 0; t < T; ++t) {
        std::vector<double> p(t + 1);
        double m = -1e300, sum = 0.0;
        for (int u = 0; u <= t; ++u) {
          double d = 0.0;
          for (int i = 0; i < D; ++i)
            d += double(qkv[t * 3 * C + h * D + i]) * qkv[u * 3 * C + C + h * D + i];
          p[u] = d / std::sqrt(double(D));
          m = std::max(m, p[u]);
        }
        for (int u = 0; u <= t; ++u) sum += (p[u] = std::exp(p[u] - m));
        for (int u = 0; u < T; ++u) {
          const float got = probs[(static_cast<size_t>(h) * T + t) * T + u];
          if (u > t)
            CHECK(got == 0.0f);
          else
            worst_p = std::max(worst_p, std::fabs(got - p[u] / sum));
        }
        for (int i = 0; i < D; ++i) {
          double acc = 0.0;
          for (int u = 0; u <= t; ++u) acc += p[u] / sum * qkv[u * 3 * C + 2 * C + h * D + i];
          worst_z = std::max(worst_z, std::fabs(z[t * C + h * D + i] - acc));
        }
      }
  }
  MESSAGE("attention_forward: max abs error probs " << worst_p << ", z " << worst_z);
  CHECK(worst_z < 1e-5);
}
