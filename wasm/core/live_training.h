// A small attention-only model trained step by step, the way a page trains
// one live: the same Trainer, DataMix and Curriculum as `headlight train`
// (train.h, data.h, curriculum.h), in chunks of steps the caller asks for,
// with the repeated random-token probe of `headlight eval` (analysis.h)
// between chunks. The trained model leaves as a model folder's files
// (model_files.h), which the explorer and `headlight run` read.
//
// Shapes: L, H, C, D, V, P as config.h; T_p = 2 * probe half length.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "analysis.h"
#include "config.h"
#include "curriculum.h"
#include "data.h"
#include "model_files.h"
#include "tokenizer.h"
#include "train.h"
#include "weights.h"

namespace hl {

// What the reader chooses; everything else is the live recipe's.
struct LiveChoices {
  int n_layer = 2;
  int n_head = 4;
  int n_embd = 64;
  // "repeat": repeated random tokens only (the induction warm-up data of the
  // recipes: random tokens with spans copied forward). "text": the warm-up,
  // then training text in which some sequences hold a repeated random span.
  std::string task = "repeat";
  // "short": the one the page starts with, a few minutes of steps of 512
  // tokens. "long": attn-only-2l's warm-up (models/recipes/
  // train-attn-only-2l.sh) at the page's 64 positions, steps of 2,048
  // tokens, long enough for an induction head to form from scratch at
  // 2 x 8, d 128 (models/README.md, "Live training in the page").
  std::string schedule = "short";
  float lr = 5e-3f;
  uint64_t seed = 1;
};

// Everything a training run is made of: the structs `headlight train` fills
// from its command line, plus the position init.
struct TrainingSetup {
  ModelConfig model;  // vocab_size is the tokenizer's
  OptimizerConfig opt;
  DataMixConfig mix;
  CurriculumConfig plan;
  bool sinusoidal_positions = true;
};

// The live recipe for the reader's choices (sizes and task checked; throws
// hl::Error naming the bad one). vocab_size: the tokenizer's.
TrainingSetup live_recipe(const LiveChoices& choices, int vocab_size);

// The `headlight train` flags that train the same run (model, schedule, data
// mix, init; not the files): `headlight train --train F --val F --tokenizer D
// --out D --threads 1 <these>` gives the same losses step for step.
std::string train_flags(const TrainingSetup& setup);

// What the probe shows after some steps.
struct LiveProbe {
  ProbeResult result;           // per-head (L, H) scores; ICL score
  int T = 0;                    // T_p: tokens of the probe sequence shown
  std::vector<int> ids;         // (T_p) probe sequence 0
  std::vector<float> attn_probs;  // (L, H, T_p, T_p) every head's attention on it
};

class LiveTraining {
 public:
  // text: training text, documents separated by blank lines (encode_documents).
  // Throws hl::Error if it holds fewer than n_positions + 2 tokens.
  LiveTraining(const TrainingSetup& setup, const std::string& vocab_json,
               const std::string& merges_txt, const std::string& text);
  ~LiveTraining();

  // Runs up to n more steps (none past the schedule's end) and returns their
  // losses (mean cross-entropy over the batch, nats/token). Throws hl::Error
  // if the loss is not finite (diverged).
  std::vector<float> step(int n);
  int steps_done() const { return trainer_->steps_done(); }
  int total_steps() const { return plan_.steps(); }
  double flops_per_step() const { return trainer_->flops_per_step(); }
  size_t num_parameters() const { return params_.num_parameters(); }
  int vocab_size() const { return setup_.model.vocab_size; }

  // The peak learning rate from the next step on (the schedule's shape
  // stays: warm-up, cosine to lr * min_lr_frac). Throws hl::Error outside
  // (0, 0.1]. A run changed this way is no longer the one train_flags names.
  void set_learning_rate(float lr);
  float learning_rate() const { return setup_.opt.lr; }

  // The repeated random-token probe (probe(): half length = half the run's
  // shortest sequences, 16 for the live recipe; 4 sequences, seed 1) on the
  // weights as they are now.
  LiveProbe probe() const;

  // config.json and model.safetensors (F32) of the weights as they are now;
  // vocab.json and merges.txt are the tokenizer's files as given.
  ModelFileBytes files();
  const std::string& vocab_json() const { return vocab_json_; }
  const std::string& merges_txt() const { return merges_txt_; }

 private:
  // The weights as they are now as an immutable Model (a copy, packed).
  std::shared_ptr<const Model> snapshot() const;

  TrainingSetup setup_;
  std::string vocab_json_, merges_txt_;
  Tokenizer tokenizer_;
  std::vector<int> ids_;  // training text's token ids (DataMix keeps a reference)
  Weights params_;
  Curriculum plan_;
  std::unique_ptr<Trainer> trainer_;
  std::unique_ptr<DataMix> mix_;
  std::vector<int> inputs_, targets_;  // (B, T) of the step being run
};

}  // namespace hl
