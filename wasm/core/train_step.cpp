// The trainer's optimizer step: the global gradient norm and its clipping,
// then AdamW over the entries a step may change (train_mask.cpp says which).
// See train.h.
#include <algorithm>
#include <cmath>

#include "error.h"
#include "train.h"
#include "train_scratch.h"

namespace hl {

float Trainer::step(const OptimizerConfig& opt) {
  if (!params_) throw Error("trainer: a model's trainer cannot step (it reads the model in place)");
  Scratch& s = *scratch_;
  // Global gradient norm, in fixed chunks summed in order (thread-count independent).
  const size_t n = grads_.block.size();
  constexpr size_t kChunk = 1 << 16;
  const int n_chunks = static_cast<int>((n + kChunk - 1) / kChunk);
  s.sumsq_partials.assign(n_chunks, 0.0);
  s.pool.run(n_chunks, [&](int chunk, int) {
    const size_t i0 = chunk * kChunk, i1 = std::min(n, i0 + kChunk);
    double sum = 0.0;
    for (size_t i = i0; i < i1; ++i) {
      if (!trainable_.empty() && !trainable_[i]) continue;  // frozen: not in the clipping norm
      sum += static_cast<double>(grads_.block[i]) * grads_.block[i];
    }
    s.sumsq_partials[chunk] = sum;
  });
  double sumsq = 0.0;
  for (double part : s.sumsq_partials) sumsq += part;
  const float norm = static_cast<float>(std::sqrt(sumsq));
  const float clip_scale =
      (opt.grad_clip > 0.0f && norm > opt.grad_clip) ? opt.grad_clip / norm : 1.0f;

  const float lr = learning_rate(opt, step_);
  ++step_;
  const float bias1 = 1.0f - std::pow(opt.beta1, static_cast<float>(step_));
  const float bias2 = 1.0f - std::pow(opt.beta2, static_cast<float>(step_));
  float* const base = params_->block.data();
  for (const ParamEntry& p : param_table(*params_)) {
    if (!mlp_on_ && is_mlp_param(p)) continue;  // frozen: moments and decay included
    if (param_layer(p) >= active_layers_) continue;  // a block left out: frozen too
    const size_t off = static_cast<size_t>(p.data - base);
    const size_t count = numel(p.shape);
    const float wd = decays_weight(p) ? opt.weight_decay : 0.0f;
    s.parallel_for(static_cast<int>(count), 4096, [&](int i0, int i1) {
      for (size_t i = off + i0; i < off + i1; ++i) {
        if (!trainable_.empty() && !trainable_[i]) continue;  // frozen: bits kept, no moment
        const float g = grads_.block[i] * clip_scale;
        float& m = adam_m_[i];
        float& v = adam_v_[i];
        m = opt.beta1 * m + (1.0f - opt.beta1) * g;
        v = opt.beta2 * v + (1.0f - opt.beta2) * g * g;
        const float m_hat = m / bias1;
        const float v_hat = v / bias2;
        base[i] -= lr * (m_hat / (std::sqrt(v_hat) + opt.eps) + wd * base[i]);
      }
    });
  }
  return norm;
}

}  // namespace hl
