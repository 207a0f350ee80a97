// Attention-pattern similarity of heads: see similarity.h.
#include "similarity.h"

#include <algorithm>
#include <cmath>
#include <string>

#include <xsimd/xsimd.hpp>

#include "error.h"

namespace hl {

namespace {

using batch = xsimd::batch<float>;
constexpr int kLanes = static_cast<int>(batch::size);

// x ln x, 0 at x = 0 (its limit), lane by lane.
batch x_ln_x(batch x) {
  return xsimd::select(x > batch(0.0f), x * xsimd::log(x), batch(0.0f));
}

// Entropy -sum p ln p of n probabilities: float lanes, then the lanes and the
// tail in double. Every row goes through the same steps, so that a mixture
// of a row with itself (which is the row, bit for bit) has exactly its
// entropy and the divergence of identical rows is exactly 0.
double entropy(const float* p, int n) {
  batch acc(0.0f);
  int k = 0;
  for (; k + kLanes <= n; k += kLanes) acc += x_ln_x(batch::load_unaligned(p + k));
  float lanes[kLanes];
  acc.store_unaligned(lanes);
  double sum = 0.0;
  for (float lane : lanes) sum -= lane;
  for (; k < n; ++k) {
    if (p[k] > 0.0f) sum -= static_cast<double>(p[k] * std::log(p[k]));
  }
  return sum;
}

// Entropy of the mixture (p + q) / 2 of two rows of n probabilities, by the
// same steps as entropy().
double mixture_entropy(const float* p, const float* q, int n) {
  const batch half(0.5f);
  batch acc(0.0f);
  int k = 0;
  for (; k + kLanes <= n; k += kLanes)
    acc += x_ln_x((batch::load_unaligned(p + k) + batch::load_unaligned(q + k)) * half);
  float lanes[kLanes];
  acc.store_unaligned(lanes);
  double sum = 0.0;
  for (float lane : lanes) sum -= lane;
  for (; k < n; ++k) {
    const float m = (p[k] + q[k]) * 0.5f;
    if (m > 0.0f) sum -= static_cast<double>(m * std::log(m));
  }
  return sum;
}

}  // namespace

double js_divergence(const float* p, const float* q, int n) {
  const double jsd = mixture_entropy(p, q, n) - 0.5 * (entropy(p, n) + entropy(q, n));
  // Rounding can put a divergence of 0 (or ln 2) a hair outside its range.
  return std::clamp(jsd, 0.0, std::log(2.0));
}

std::vector<float> attention_similarity(const float* attn_probs, int L, int H, int T) {
  if (L < 1 || H < 1 || T < 1)
    throw Error("attention similarity: L, H and T must be >= 1, got " + std::to_string(L) + ", " +
                std::to_string(H) + ", " + std::to_string(T));
  const int n_heads = L * H;
  const size_t TT = static_cast<size_t>(T) * T;
  std::vector<float> similarity(static_cast<size_t>(n_heads) * n_heads, 1.0f);
  if (T < 2) return similarity;

  // (L*H, T) entropy of every head's every query row (query q sees q + 1 keys).
  std::vector<double> row_entropy(static_cast<size_t>(n_heads) * T);
  for (int a = 0; a < n_heads; ++a) {
    for (int q = 0; q < T; ++q)
      row_entropy[static_cast<size_t>(a) * T + q] = entropy(attn_probs + a * TT + q * T, q + 1);
  }
  const double ln2 = std::log(2.0);
  for (int a = 0; a < n_heads; ++a) {
    for (int b = a + 1; b < n_heads; ++b) {
      double jsd_sum = 0.0;
      for (int q = 1; q < T; ++q) {
        const double jsd = mixture_entropy(attn_probs + a * TT + q * T,
                                           attn_probs + b * TT + q * T, q + 1) -
                           0.5 * (row_entropy[static_cast<size_t>(a) * T + q] +
                                  row_entropy[static_cast<size_t>(b) * T + q]);
        // Rounding can put a divergence of 0 (or ln 2) a hair outside its range.
        jsd_sum += std::clamp(jsd, 0.0, ln2);
      }
      const float s = static_cast<float>(1.0 - jsd_sum / (T - 1) / ln2);
      similarity[static_cast<size_t>(a) * n_heads + b] = s;
      similarity[static_cast<size_t>(b) * n_heads + a] = s;
    }
  }
  return similarity;
}

}  // namespace hl
