#include "validation.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "error.h"
#include "session.h"
#include "train.h"

namespace hl {

namespace {

// Adds window ids[begin, end) given the losses of its predictions:
// token_loss[t] is the loss of predicting ids[begin + t + 1].
void add_window(ValidationLoss& out, const std::vector<int>& ids, TokenWindow w,
                const float* token_loss, const Tokenizer& tokenizer) {
  const size_t predicted = static_cast<size_t>(w.end - w.begin - 1);
  if (out.nats_by_position.size() < predicted) {
    out.nats_by_position.resize(predicted, 0.0);
    out.tokens_by_position.resize(predicted, 0);
  }
  for (size_t t = 0; t < predicted; ++t) {
    out.total_nats += token_loss[t];
    out.nats_by_position[t] += token_loss[t];
    out.tokens_by_position[t] += 1;
  }
  for (int64_t i = w.begin; i < w.end; ++i) {
    const int64_t bytes = static_cast<int64_t>(tokenizer.token_bytes(ids[i]).size());
    out.covered_bytes += bytes;
    if (i > w.begin) out.predicted_bytes += bytes;  // the window's first token is not predicted
  }
  out.covered_tokens += w.end - w.begin;
  out.predicted_tokens += w.end - w.begin - 1;
  out.windows += 1;
}

}  // namespace

std::vector<TokenWindow> validation_windows(int64_t n_ids, int n_positions, int64_t max_tokens) {
  const int64_t total = std::min(max_tokens, n_ids);
  std::vector<TokenWindow> windows;
  for (int64_t begin = 0; begin + 1 < total; begin += n_positions)
    windows.push_back({begin, std::min(begin + n_positions, total)});
  return windows;
}

ValidationLoss validation_loss(std::shared_ptr<const Model> model, const std::vector<int>& ids,
                               int64_t max_tokens, int shard, int n_shards) {
  if (n_shards < 1 || shard < 0 || shard >= n_shards) {
    throw Error("validation_loss: shard " + std::to_string(shard) + " of " +
                std::to_string(n_shards) + " does not exist");
  }
  const std::vector<TokenWindow> windows =
      validation_windows(static_cast<int64_t>(ids.size()), model->config.n_positions, max_tokens);
  ValidationLoss out;
  Session session(model, 1);
  for (size_t w = static_cast<size_t>(shard); w < windows.size(); w += n_shards) {
    session.run(std::vector<int>(ids.begin() + windows[w].begin, ids.begin() + windows[w].end));
    add_window(out, ids, windows[w], session.trace().token_loss.data(), model->tokenizer);
  }
  return merge_validation_losses({out});
}

ValidationLoss validation_loss(Trainer& trainer, const std::vector<int>& ids, int64_t max_tokens,
                               const Tokenizer& tokenizer) {
  const int B = trainer.batch_size(), T = trainer.seq_len();
  if (T != trainer.params().config.n_positions)
    throw Error("validation_loss: the trainer runs " + std::to_string(T) +
                " tokens per sequence, the windows are n_positions = " +
                std::to_string(trainer.params().config.n_positions));
  const std::vector<TokenWindow> windows =
      validation_windows(static_cast<int64_t>(ids.size()), T, max_tokens);
  std::vector<int> inputs(static_cast<size_t>(B) * T), targets(inputs.size());
  // Every target counts here: a training step's weights (--copy-loss) are
  // set aside and put back after.
  const std::vector<float> step_weights = trainer.target_weights();
  trainer.set_target_weights({});
  ValidationLoss out;
  for (size_t w0 = 0; w0 < windows.size(); w0 += B) {
    const int used = static_cast<int>(std::min<size_t>(B, windows.size() - w0));
    for (int b = 0; b < B; ++b) {
      // Rows past the last window repeat it; a short window's empty tail
      // repeats its first token. Neither is counted (attention is causal:
      // later positions change no earlier loss).
      const TokenWindow w = windows[w0 + std::min(b, used - 1)];
      int* in = inputs.data() + static_cast<size_t>(b) * T;
      int* target = targets.data() + static_cast<size_t>(b) * T;
      for (int t = 0; t < T; ++t) {
        in[t] = ids[w.begin + t < w.end ? w.begin + t : w.begin];
        target[t] = ids[w.begin + t + 1 < w.end ? w.begin + t + 1 : w.begin];
      }
    }
    trainer.forward(inputs.data(), targets.data());
    for (int b = 0; b < used; ++b)
      add_window(out, ids, windows[w0 + b], trainer.token_losses() + static_cast<size_t>(b) * T,
                 tokenizer);
  }
  trainer.set_target_weights(step_weights);
  return merge_validation_losses({out});
}

double ValidationLoss::loss_at(int t) const {
  if (t < 1 || static_cast<size_t>(t) > nats_by_position.size() || tokens_by_position[t - 1] == 0)
    return std::nan("");
  return nats_by_position[t - 1] / static_cast<double>(tokens_by_position[t - 1]);
}

InContextScore in_context_score(const ValidationLoss& v, int n_positions) {
  InContextScore s;
  s.early_from = std::max(1, n_positions / 16);
  s.early_to = std::max(s.early_from + 1, n_positions / 8);
  s.late_from = n_positions * 3 / 4;
  s.late_to = n_positions;
  // Mean over the band's tokens, each token weighted by the windows reaching it.
  auto band = [&](int from, int to) {
    double nats = 0.0;
    int64_t n = 0;
    for (int t = std::max(1, from); t < to && static_cast<size_t>(t) <= v.nats_by_position.size(); ++t) {
      nats += v.nats_by_position[t - 1];
      n += v.tokens_by_position[t - 1];
    }
    return n > 0 ? nats / static_cast<double>(n) : std::nan("");
  };
  s.loss_early = band(s.early_from, s.early_to);
  s.loss_late = band(s.late_from, s.late_to);
  s.score = s.loss_late - s.loss_early;
  return s;
}

ValidationLoss merge_validation_losses(const std::vector<ValidationLoss>& shards) {
  ValidationLoss sum;
  for (const ValidationLoss& s : shards) {
    sum.windows += s.windows;
    sum.predicted_tokens += s.predicted_tokens;
    sum.predicted_bytes += s.predicted_bytes;
    sum.covered_tokens += s.covered_tokens;
    sum.covered_bytes += s.covered_bytes;
    sum.total_nats += s.total_nats;
    if (sum.nats_by_position.size() < s.nats_by_position.size()) {
      sum.nats_by_position.resize(s.nats_by_position.size(), 0.0);
      sum.tokens_by_position.resize(s.nats_by_position.size(), 0);
    }
    for (size_t t = 0; t < s.nats_by_position.size(); ++t) {
      sum.nats_by_position[t] += s.nats_by_position[t];
      sum.tokens_by_position[t] += s.tokens_by_position[t];
    }
  }
  if (sum.predicted_tokens > 0) {
    sum.nats_per_token = sum.total_nats / static_cast<double>(sum.predicted_tokens);
    sum.bits_per_byte = sum.total_nats / std::log(2.0) / static_cast<double>(sum.predicted_bytes);
  }
  return sum;
}

}  // namespace hl
