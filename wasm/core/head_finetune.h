// Editing heads by fine-tuning them (issue 18): AdamW on the mean
// next-token loss of a few example texts, where only the chosen heads'
// parameters change. Head h of layer l owns
//   h.l.attn.c_attn.weight (C, 3C): columns [h*D, (h+1)*D) of q, k and v,
//     i.e. j*C + [h*D, (h+1)*D) for j = 0, 1, 2 (every row c)
//   h.l.attn.c_attn.bias   (3C):    the same 3D entries
//   h.l.attn.c_proj.weight (C, C):  rows [h*D, (h+1)*D) (the head's z)
// and nothing else: embeddings, layer norms, MLPs, the other heads' slices
// and c_proj.bias (shared by every head of the layer) keep their bits. The
// Trainer does the work (train.h); the freezing is its trainable mask and
// the examples of different lengths are one padded batch whose padding
// targets weigh 0 (Trainer::set_target_weights).
//
// Shapes (config.h letters): E examples, T = the longest example's inputs
// (its token count - 1, at most P), the batch (E, T).
#pragma once
#include <memory>
#include <vector>

#include "model.h"
#include "train.h"

namespace hl {

struct HeadIndex {
  int layer = 0;
  int head = 0;
};

// (params block size) flags: 1 on the entries the heads own (above), 0
// elsewhere. Throws hl::Error naming a head outside the model, or for none.
std::vector<uint8_t> head_trainable_mask(Weights& weights, const std::vector<HeadIndex>& heads);

// The examples as one batch: inputs and targets (E, T), each example's
// tokens at the start of its row, the rest padding (token 0, weight 0).
struct FineTuneBatch {
  int B = 0, T = 0;
  std::vector<int> inputs, targets;  // (E, T)
  std::vector<float> weights;        // (E, T) 1 for a real target, 0 for padding
  std::vector<int> tokens_given;     // (E) each example's token count as given
  std::vector<int> tokens_used;      // (E) after truncation to P + 1 tokens
  std::vector<std::vector<int>> examples;  // (E) each example's used tokens
};

// Examples longer than n_positions + 1 tokens are cut to their first
// n_positions + 1 (tokens_used says so). Throws hl::Error for no examples
// or an example of fewer than 2 tokens (nothing to predict), naming it.
FineTuneBatch finetune_batch(const std::vector<std::vector<int>>& examples, int n_positions);

struct HeadFineTuneOptions {
  float lr = 1e-3f;  // constant: a few steps need no schedule
  // No weight decay: the edit is what the examples ask for, nothing else.
  float weight_decay = 0.0f;
  float grad_clip = 1.0f;
};

// A fine-tuning run on a copy of a model's weights (the model untouched).
class HeadFineTune {
 public:
  HeadFineTune(std::shared_ptr<const Model> model, const std::vector<HeadIndex>& heads,
               const std::vector<std::vector<int>>& examples, const HeadFineTuneOptions& options);
  // The trainer holds a reference to params_: neither copied nor moved.
  HeadFineTune(const HeadFineTune&) = delete;
  HeadFineTune& operator=(const HeadFineTune&) = delete;
  // n more AdamW steps (n >= 1); the examples' mean loss (nats/token) of each
  // step's forward, before its update: (n).
  std::vector<float> step(int n);
  // The examples' mean loss at the current weights.
  float loss();
  int steps_done() const { return trainer_->steps_done(); }
  const std::vector<HeadIndex>& heads() const { return heads_; }
  const FineTuneBatch& batch() const { return batch_; }
  const std::vector<uint8_t>& trainable() const { return trainable_; }
  Weights& weights() { return params_; }
  const Model& original() const { return *original_; }
  // The fine-tuned weights as a model of their own (the original's tokenizer).
  std::shared_ptr<const Model> model() const;

 private:
  std::shared_ptr<const Model> original_;
  std::vector<HeadIndex> heads_;
  FineTuneBatch batch_;
  Weights params_;
  std::vector<uint8_t> trainable_;
  OptimizerConfig opt_;
  std::unique_ptr<Trainer> trainer_;
};

}  // namespace hl
