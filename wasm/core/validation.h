// Validation loss and bits per byte: the one definition, used by `headlight
// eval` (on a Session) and by `headlight train` (on its Trainer, a batch of
// windows per forward pass).
//
// The first max_tokens ids are cut into consecutive windows of n_positions
// tokens (the last may be shorter; one of fewer than 2 tokens is dropped).
// Each window is one forward pass from an empty context, and predicts its
// tokens 1 .. end (its first token has no context and is not predicted).
// nats/token = total nats / predicted tokens; bits/byte = total nats / ln 2 /
// bytes of the predicted tokens. Summed by position in the window too, for
// the in-context learning score (loss late in a context minus loss early,
// docs/heads.md): loss_at(t) is the mean loss of the windows' tokens t.
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
  // (P): index t - 1 holds the losses of predicting the windows' token t
  // (t = 1 .. n_positions - 1, t tokens of context), summed and counted.
  std::vector<double> nats_by_position;
  std::vector<int64_t> tokens_by_position;

  // Mean loss of token t of the windows (t >= 1); NaN when no window reaches it.
  double loss_at(int t) const;
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

// The in-context learning score of Olsson et al. (2022), "the loss of the
// 500th token in context minus the average loss of the 50th token", adapted
// to a context of n_positions tokens: the mean loss of the windows' tokens
// [3/4 T, T) minus that of tokens [T/16, T/8) (T = 128: tokens 96-127 minus
// tokens 8-15, about the tenfold context ratio of 500 to 50). Negative: the
// model predicts better with more context. NaN fields when no window is long
// enough.
struct InContextScore {
  int early_from = 0, early_to = 0;  // tokens [early_from, early_to)
  int late_from = 0, late_to = 0;    // tokens [late_from, late_to)
  double loss_early = 0.0, loss_late = 0.0;
  double score = 0.0;  // loss_late - loss_early
};
InContextScore in_context_score(const ValidationLoss& v, int n_positions);

// Sums shards (their windows must be disjoint) and recomputes the means.
ValidationLoss merge_validation_losses(const std::vector<ValidationLoss>& shards);

}  // namespace hl
