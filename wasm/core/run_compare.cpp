// One head's attention in two runs, compared: see run_compare.h.
#include "run_compare.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "error.h"
#include "similarity.h"

namespace hl {

RunComparison compare_head_runs(const float* a, const std::vector<int>& ids_a, const float* b,
                                const std::vector<int>& ids_b, int top) {
  if (ids_a.empty() || ids_b.empty()) {
    throw Error("compare runs: both runs need at least one token (got " +
                std::to_string(ids_a.size()) + " and " + std::to_string(ids_b.size()) + ")");
  }
  if (top < 0) throw Error("compare runs: top must be >= 0, got " + std::to_string(top));
  RunComparison out;
  out.T_a = static_cast<int>(ids_a.size());
  out.T_b = static_cast<int>(ids_b.size());
  const int T = std::min(out.T_a, out.T_b);
  out.T = T;
  out.diff.assign(static_cast<size_t>(T) * T, 0.0f);
  out.total_variation.assign(T, 0.0f);
  out.js_distance.assign(T, 0.0f);
  const double ln2 = std::log(2.0);
  for (int t = 0; t < T; ++t) {
    const float* row_a = a + static_cast<size_t>(t) * out.T_a;
    const float* row_b = b + static_cast<size_t>(t) * out.T_b;
    float* d = out.diff.data() + static_cast<size_t>(t) * T;
    double tv = 0.0;
    for (int k = 0; k <= t; ++k) {
      d[k] = row_b[k] - row_a[k];
      tv += std::fabs(static_cast<double>(d[k]));
      out.max_abs = std::max(out.max_abs, std::fabs(d[k]));
    }
    out.total_variation[t] = static_cast<float>(0.5 * tv);
    out.js_distance[t] =
        static_cast<float>(std::sqrt(js_divergence(row_a, row_b, t + 1) / ln2));
  }
  // The N largest |B - A| by a partial sort of the nonzero cells.
  std::vector<AttentionDifference> cells;
  for (int t = 0; t < T; ++t) {
    for (int k = 0; k <= t; ++k) {
      const float v = out.diff[static_cast<size_t>(t) * T + k];
      if (v != 0.0f) cells.push_back({t, k, v});
    }
  }
  const size_t n = std::min(cells.size(), static_cast<size_t>(top));
  std::partial_sort(cells.begin(), cells.begin() + n, cells.end(),
                    [](const AttentionDifference& x, const AttentionDifference& y) {
                      const float ax = std::fabs(x.value), ay = std::fabs(y.value);
                      if (ax != ay) return ax > ay;
                      return x.query != y.query ? x.query < y.query : x.key < y.key;
                    });
  out.largest.assign(cells.begin(), cells.begin() + n);
  out.scores_a = head_type_scores(a, ids_a);
  out.scores_b = head_type_scores(b, ids_b);
  return out;
}

}  // namespace hl
