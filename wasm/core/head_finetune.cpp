// Fine-tuning chosen heads: the mask of their slices, the padded batch of
// examples, and the run (head_finetune.h).
#include "head_finetune.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "error.h"

namespace hl {

std::vector<uint8_t> head_trainable_mask(Weights& weights, const std::vector<HeadIndex>& heads) {
  const ModelConfig& cfg = weights.config;
  const int L = cfg.n_layer, H = cfg.n_head, C = cfg.n_embd, D = cfg.d_head();
  if (heads.empty()) throw Error("fine-tune: choose at least one head");
  std::vector<uint8_t> mask(weights.block.size(), 0);
  const float* base = weights.block.data();
  auto set = [&](const float* p, size_t count) {
    std::fill_n(mask.begin() + (p - base), count, uint8_t{1});
  };
  for (const HeadIndex& hd : heads) {
    if (hd.layer < 0 || hd.layer >= L || hd.head < 0 || hd.head >= H)
      throw Error("fine-tune: head " + std::to_string(hd.layer) + "." + std::to_string(hd.head) +
                  " is outside the model (" + std::to_string(L) + " layers x " +
                  std::to_string(H) + " heads)");
    const LayerWeights& w = weights.layers[hd.layer];
    for (int j = 0; j < 3; ++j) {  // q, k, v
      const int col = j * C + hd.head * D;
      for (int c = 0; c < C; ++c) set(w.c_attn_w + static_cast<size_t>(c) * 3 * C + col, D);
      set(w.c_attn_b + col, D);
    }
    set(w.c_proj_w + static_cast<size_t>(hd.head) * D * C, static_cast<size_t>(D) * C);
  }
  return mask;
}

FineTuneBatch finetune_batch(const std::vector<std::vector<int>>& examples, int n_positions) {
  if (examples.empty()) throw Error("fine-tune: give at least one example text");
  FineTuneBatch b;
  b.B = static_cast<int>(examples.size());
  for (size_t e = 0; e < examples.size(); ++e) {
    const int given = static_cast<int>(examples[e].size());
    if (given < 2)
      throw Error("fine-tune: example " + std::to_string(e + 1) + " has " + std::to_string(given) +
                  " token" + (given == 1 ? "" : "s") + ": it needs at least 2 (one to predict)");
    b.tokens_given.push_back(given);
    b.tokens_used.push_back(std::min(given, n_positions + 1));
    b.T = std::max(b.T, b.tokens_used.back() - 1);
  }
  const size_t N = static_cast<size_t>(b.B) * b.T;
  b.inputs.assign(N, 0);
  b.targets.assign(N, 0);
  b.weights.assign(N, 0.0f);
  for (int e = 0; e < b.B; ++e) {
    const std::vector<int>& ids = examples[e];
    b.examples.emplace_back(ids.begin(), ids.begin() + b.tokens_used[e]);
    for (int t = 0; t + 1 < b.tokens_used[e]; ++t) {
      const size_t i = static_cast<size_t>(e) * b.T + t;
      b.inputs[i] = ids[t];
      b.targets[i] = ids[t + 1];
      b.weights[i] = 1.0f;
    }
  }
  return b;
}

HeadFineTune::HeadFineTune(std::shared_ptr<const Model> model, const std::vector<HeadIndex>& heads,
                           const std::vector<std::vector<int>>& examples,
                           const HeadFineTuneOptions& options)
    : original_(std::move(model)), heads_(heads) {
  const ModelConfig& cfg = original_->config;
  batch_ = finetune_batch(examples, cfg.n_positions);
  if (!(options.lr > 0.0f && options.lr <= 1.0f))
    throw Error("fine-tune: learning rate must be in (0, 1], got " + std::to_string(options.lr));
  params_ = allocate_weights(cfg);
  std::memcpy(params_.block.data(), original_->weights.block.data(),
              params_.block.size() * sizeof(float));
  trainable_ = head_trainable_mask(params_, heads_);
  opt_.lr = options.lr;
  opt_.warmup_steps = 0;
  opt_.min_lr_frac = 1.0f;  // a constant rate
  opt_.weight_decay = options.weight_decay;
  opt_.grad_clip = options.grad_clip;
  trainer_ = std::make_unique<Trainer>(params_, batch_.B, batch_.T);
  trainer_->set_trainable(trainable_);
  trainer_->set_target_weights(batch_.weights);
}

std::vector<float> HeadFineTune::step(int n) {
  if (n < 1) throw Error("fine-tune: steps must be >= 1, got " + std::to_string(n));
  std::vector<float> losses;
  losses.reserve(n);
  for (int i = 0; i < n; ++i) {
    losses.push_back(trainer_->forward(batch_.inputs.data(), batch_.targets.data()));
    trainer_->backward();
    trainer_->step(opt_);
  }
  return losses;
}

float HeadFineTune::loss() { return trainer_->forward(batch_.inputs.data(), batch_.targets.data()); }

std::shared_ptr<const Model> HeadFineTune::model() const {
  Weights copy = allocate_weights(original_->config);
  std::memcpy(copy.block.data(), params_.block.data(), copy.block.size() * sizeof(float));
  return std::make_shared<const Model>(original_->config, std::move(copy), original_->tokenizer);
}

}  // namespace hl
