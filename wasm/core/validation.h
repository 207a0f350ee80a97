// Validation loss and bits per byte: the one definition, used by `headlight
// eval` (on a Session) and by `headlight train` (on its Trainer, a batch of
// windows per forward pass).
//
// The first max_tokens ids are cut into consecutive windows of n_positions
// tokens (the last may be shorter; one of fewer than 2 tokens is dropped).
// Each window is one forward pass from an empty context, and predicts its
// tokens 1 .. end (its first token has no context and is not predicted).
// nats/token = total nats / predicted tokens; bits/byte = total nats / ln 2 /
// bytes of the predicted tokens.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "model.h"

namespace hl {

class Trainer;

struct ValidationLoss {
  int64_t windows = 0;
  int64_t predicted_tokens = 0;  // T - 1 per window
  int64_t predicted_bytes = 0;   // bytes of the predicted tokens
  int64_t covered_tokens = 0;    // every token of every window: ids[0, covered_tokens)
  int64_t covered_bytes = 0;     // their bytes
  double total_nats = 0.0;
  double nats_per_token = 0.0;
  double bits_per_byte = 0.0;  // total nats / ln 2 / predicted_bytes
};

// Window w of the definition: ids[begin, end).
struct TokenWindow {
  int64_t begin = 0;
  int64_t end = 0;
};
std::vector<TokenWindow> validation_windows(int64_t n_ids, int n_positions, int64_t max_tokens);

// Sums the windows w with w % n_shards == shard, each run on a Session of
// model. A native caller runs the shards on threads and merges them.
ValidationLoss validation_loss(std::shared_ptr<const Model> model, const std::vector<int>& ids,
                               int64_t max_tokens, int shard = 0, int n_shards = 1);

// The same on a trainer's forward pass (no backward, the weights untouched):
// trainer.batch_size() windows per pass; its seq_len() must be the model's
// n_positions. Overwrites the trainer's activations.
ValidationLoss validation_loss(Trainer& trainer, const std::vector<int>& ids, int64_t max_tokens,
                               const Tokenizer& tokenizer);

// Sums shards (their windows must be disjoint) and recomputes the means.
ValidationLoss merge_validation_losses(const std::vector<ValidationLoss>& shards);

}  // namespace hl
