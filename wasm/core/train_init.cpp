// What a training run starts from and how its rate moves (train.h): GPT-2
// initial weights, sinusoidal positions, the warm-up + cosine schedule, and
// which parameters decay, belong to an MLP or to a layer. The Trainer itself
// (forward, backward, AdamW) is train.cpp.
#include <algorithm>
#include <cmath>
#include <string>

#include "train.h"

namespace hl {

// ---- initialisation ---------------------------------------------------------

void init_gpt2_weights(Weights& w, uint64_t seed) {
  Rng rng(seed);
  const float residual_std = 0.02f / std::sqrt(2.0f * static_cast<float>(w.config.n_layer));
  for (ParamEntry& p : param_table(w)) {
    const size_t n = numel(p.shape);
    const bool is_ln = p.name.find("ln_") != std::string::npos;
    if (p.shape.size() >= 2) {
      const bool residual_proj = p.name.find("c_proj.weight") != std::string::npos;
      const float std_dev = residual_proj ? residual_std : 0.02f;
      for (size_t i = 0; i < n; ++i) p.data[i] = std_dev * rng.normal();
    } else {
      const bool ln_gain =
          is_ln && p.name.size() >= 7 && p.name.compare(p.name.size() - 7, 7, ".weight") == 0;
      std::fill(p.data, p.data + n, ln_gain ? 1.0f : 0.0f);
    }
  }
}

void init_sinusoidal_positions(Weights& w, float std_dev) {
  const int T = w.config.n_positions, C = w.config.n_embd;
  // sin and cos have variance 1/2 over a period: scale by sqrt(2) * std_dev.
  const double amplitude = std::sqrt(2.0) * std_dev;
  for (int t = 0; t < T; ++t) {
    for (int i = 0; i < C; ++i) {
      const double freq = std::pow(10000.0, -static_cast<double>(i / 2 * 2) / C);
      const double angle = t * freq;
      w.wpe[static_cast<size_t>(t) * C + i] =
          static_cast<float>(amplitude * (i % 2 == 0 ? std::sin(angle) : std::cos(angle)));
    }
  }
}

// ---- schedule -------------------------------------------------------------

float learning_rate(const OptimizerConfig& opt, int step) {
  if (opt.warmup_steps > 0 && step < opt.warmup_steps)
    return opt.lr * static_cast<float>(step + 1) / static_cast<float>(opt.warmup_steps);
  const float min_lr = opt.lr * opt.min_lr_frac;
  const int decay_steps = std::max(1, opt.total_steps - opt.warmup_steps);
  const float progress =
      std::min(1.0f, static_cast<float>(step - opt.warmup_steps) / static_cast<float>(decay_steps));
  const float cosine = 0.5f * (1.0f + std::cos(3.14159265358979f * progress));
  return min_lr + (opt.lr - min_lr) * cosine;
}

bool decays_weight(const ParamEntry& p) { return p.shape.size() >= 2; }

bool is_mlp_param(const ParamEntry& p) {
  return p.name.find(".mlp.") != std::string::npos || p.name.find(".ln_2.") != std::string::npos;
}

int param_layer(const ParamEntry& p) {
  if (p.name.rfind("h.", 0) != 0) return -1;
  int layer = 0;
  for (size_t i = 2; i < p.name.size() && p.name[i] >= '0' && p.name[i] <= '9'; ++i)
    layer = layer * 10 + (p.name[i] - '0');
  return layer;
}

}  // namespace hl
