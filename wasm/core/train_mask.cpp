// What a trainer's step trains: the trainable mask (entries a step may
// change; fine-tuning chosen heads, head_finetune.h), the wholly frozen
// tensors whose weight gradients the backward skips, and the per-target
// weights of the loss (a padded batch of examples). See train.h.
#include <algorithm>
#include <string>

#include "error.h"
#include "safetensors.h"
#include "train.h"
#include "weights.h"

namespace hl {

void Trainer::set_trainable(const std::vector<uint8_t>& mask) {
  if (!params_) throw Error("trainer: a model's trainer has no parameters to train");
  if (!mask.empty() && mask.size() != params_->block.size())
    throw Error("trainer: trainable mask has " + std::to_string(mask.size()) + " flags, the model " +
                std::to_string(params_->block.size()) + " parameters");
  trainable_ = mask;
  frozen_tensors_.clear();
  lowest_trainable_layer_ = 0;
  if (mask.empty()) return;
  lowest_trainable_layer_ = cfg_.n_layer;
  float* const base = grads_.block.data();
  for (const ParamEntry& p : param_table(grads_)) {
    const size_t begin = static_cast<size_t>(p.data - base), end = begin + numel(p.shape);
    const bool any = std::any_of(mask.begin() + begin, mask.begin() + end, [](uint8_t m) { return m != 0; });
    if (!any) {
      frozen_tensors_.emplace_back(begin, end);
    } else if (p.data == grads_.wte || p.data == grads_.wpe) {
      lowest_trainable_layer_ = -1;  // the gradient must reach the embeddings
    } else if (param_layer(p) >= 0 && lowest_trainable_layer_ >= 0) {
      lowest_trainable_layer_ = std::min(lowest_trainable_layer_, param_layer(p));
    }
  }
}

float* Trainer::wanted(float* grad) const {
  if (!grad) return nullptr;
  const size_t at = static_cast<size_t>(grad - grads_.block.data());
  for (const auto& [begin, end] : frozen_tensors_)
    if (at >= begin && at < end) return nullptr;
  return grad;
}

void Trainer::set_target_weights(const std::vector<float>& weights) {
  const size_t N = static_cast<size_t>(B_) * T_;
  if (!weights.empty()) {
    if (weights.size() != N)
      throw Error("trainer: " + std::to_string(weights.size()) + " target weights for a batch of " +
                  std::to_string(N) + " targets");
    double sum = 0.0;
    for (float w : weights) {
      if (!(w >= 0.0f)) throw Error("trainer: target weights must be >= 0");
      sum += w;
    }
    if (!(sum > 0.0)) throw Error("trainer: target weights are all 0: no target to learn");
  }
  target_weights_ = weights;
}

}  // namespace hl
