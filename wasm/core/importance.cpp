// Gradient head importance: see importance.h.
#include "importance.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "error.h"
#include "train.h"

namespace hl {

std::vector<float> gradient_importance(const Model& model, const std::vector<int>& ids,
                                       const std::vector<float>& gains,
                                       const std::vector<std::vector<float>>& replaced_z) {
  const ModelConfig& cfg = model.config;
  const int L = cfg.n_layer, H = cfg.n_head, C = cfg.n_embd, D = cfg.d_head();
  if (gains.size() != static_cast<size_t>(L) * H)
    throw Error("gradient importance: gains must hold n_layer x n_head = " +
                std::to_string(L * H) + " values, got " + std::to_string(gains.size()));
  for (size_t i = 0; i < gains.size(); ++i) {
    if (!std::isfinite(gains[i]))
      throw Error("gradient importance: gain of head " + std::to_string(i / H) + "." +
                  std::to_string(i % H) + " is not finite");
  }
  const int T = static_cast<int>(std::min<size_t>(ids.size(), cfg.n_positions));
  if (T < 2)
    throw Error("gradient importance needs at least 2 tokens (one next-token loss), got " +
                std::to_string(T));

  // Inputs ids[0..T-2], targets ids[1..T-1]: the trainer's mean loss over
  // its T-1 positions is the Trace's mean_loss (causal: position T-1 of a
  // full run changes no earlier one).
  Trainer trainer(model, /*batch_size=*/1, /*seq_len=*/T - 1);
  trainer.set_head_gains(gains.data());
  trainer.set_head_z(replaced_z);
  trainer.forward(ids.data(), ids.data() + 1);
  trainer.backward();

  const size_t N = static_cast<size_t>(T) - 1;
  std::vector<float> grad(static_cast<size_t>(L) * H);
  for (int l = 0; l < L; ++l) {
    const float* dz = trainer.proj_input_grad(l);         // (N, C)
    const float* z = trainer.activations().layers[l].z;  // (N, C)
    for (int h = 0; h < H; ++h) {
      // The z the gain multiplied: the head's own, or its replacement ((D) or (T, D)).
      const std::vector<float>* rep =
          replaced_z.empty() || replaced_z[static_cast<size_t>(l) * H + h].empty()
              ? nullptr
              : &replaced_z[static_cast<size_t>(l) * H + h];
      double sum = 0.0;
      for (size_t t = 0; t < N; ++t) {
        const size_t off = t * C + static_cast<size_t>(h) * D;
        const float* zh = !rep ? z + off
                               : rep->data() + (rep->size() == static_cast<size_t>(D) ? 0 : t * D);
        for (int d = 0; d < D; ++d) sum += static_cast<double>(dz[off + d]) * zh[d];
      }
      grad[static_cast<size_t>(l) * H + h] = static_cast<float>(sum);
    }
  }
  return grad;
}

namespace {

// Rank of each value (0-based), ties given the mean of the ranks they span.
std::vector<double> ranks(const std::vector<float>& x) {
  std::vector<size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) { return x[i] < x[j]; });
  std::vector<double> rank(x.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
    const double mean_rank = 0.5 * static_cast<double>(i + j);
    for (size_t k = i; k <= j; ++k) rank[order[k]] = mean_rank;
    i = j + 1;
  }
  return rank;
}

}  // namespace

double spearman_rho(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size() || a.size() < 2)
    throw Error("spearman_rho: needs two lists of the same length >= 2, got " +
                std::to_string(a.size()) + " and " + std::to_string(b.size()));
  const std::vector<double> ra = ranks(a), rb = ranks(b);
  const double mean = 0.5 * static_cast<double>(a.size() - 1);  // mean rank, ties or not
  double cov = 0.0, va = 0.0, vb = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    cov += (ra[i] - mean) * (rb[i] - mean);
    va += (ra[i] - mean) * (ra[i] - mean);
    vb += (rb[i] - mean) * (rb[i] - mean);
  }
  if (va == 0.0 || vb == 0.0) return std::nan("");
  return cov / std::sqrt(va * vb);
}

}  // namespace hl
