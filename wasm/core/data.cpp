// The training data mixes of data.h. The order of the random draws is part
// of the behaviour: a run continued with a new binary must see the batches it
// would have seen (tests/cpp/test_data.cpp checks the placements).
#include "data.h"

#include <algorithm>

namespace hl {

DataMix::DataMix(const std::vector<int>& ids, int vocab_size, const DataMixConfig& config)
    : ids_(ids),
      vocab_size_(vocab_size),
      config_(config),
      rng_(config.seed ^ 0x5A5A5A5A12345678ull) {
  std::vector<int> by_frequency;  // token ids, most frequent in the training text first
  if ((config_.random_vocab > 0 && config_.random_vocab < vocab_size) ||
      config_.fill_alternations > 0) {
    std::vector<long> counts(static_cast<size_t>(vocab_size), 0);
    for (int id : ids) ++counts[static_cast<size_t>(id)];
    by_frequency.resize(static_cast<size_t>(vocab_size));
    for (int v = 0; v < vocab_size; ++v) by_frequency[static_cast<size_t>(v)] = v;
    std::stable_sort(by_frequency.begin(), by_frequency.end(), [&](int x, int y) {
      return counts[static_cast<size_t>(x)] > counts[static_cast<size_t>(y)];
    });
  }
  if (config_.random_vocab > 0 && config_.random_vocab < vocab_size)
    random_ids_.assign(by_frequency.begin(), by_frequency.begin() + config_.random_vocab);
  if (config_.fill_alternations > 0) {
    // The two-back permutation acts on the kTwoBackPool most frequent tokens.
    two_back_pool_.assign(by_frequency.begin(),
                          by_frequency.begin() + std::min(kTwoBackPool, vocab_size));
    std::vector<int> image = two_back_pool_;
    for (size_t i = image.size(); i > 1; --i)  // Fisher-Yates
      std::swap(image[i - 1], image[rng_.below(static_cast<uint32_t>(i))]);
    two_back_.assign(static_cast<size_t>(vocab_size), -1);
    for (size_t i = 0; i < image.size(); ++i) two_back_[two_back_pool_[i]] = image[i];
  }
}

int DataMix::random_token() {
  if (random_ids_.empty()) return static_cast<int>(rng_.below(static_cast<uint32_t>(vocab_size_)));
  return random_ids_[rng_.below(static_cast<uint32_t>(random_ids_.size()))];
}

void DataMix::next(int B, int T, std::vector<int>& inputs, std::vector<int>& targets, bool warmup,
                   bool two_back) {
  const int len = T + 1;
  std::vector<int> seq(static_cast<size_t>(len));
  spans_.assign(B, Span{});
  for (int b = 0; b < B; ++b) {
    const float kind = rng_.uniform();
    // Background: consecutive training text at a random offset.
    const size_t start = rng_.below(static_cast<uint32_t>(ids_.size() - len));
    for (int i = 0; i < len; ++i) seq[i] = ids_[start + i];
    const bool random_span = warmup || kind < config_.induction_frac;
    const bool text_span = !random_span && kind < config_.induction_frac + config_.repeat_text_frac;
    if (random_span || text_span) {
      // A span of n tokens at offset a, then the same n tokens again. Length
      // and offset vary so that only content (find the earlier occurrence of
      // the current token, copy what followed it) predicts the copy: with a
      // fixed period, a model learns "copy the token 64 back" by position
      // alone, which is no induction head and fails on any other period.
      const int n_min = std::max(4, len / 16);
      int n = n_min + static_cast<int>(rng_.below(static_cast<uint32_t>(len / 2 - n_min + 1)));
      const int a = static_cast<int>(rng_.below(static_cast<uint32_t>(len - 2 * n + 1)));
      if (warmup && config_.periodic_fill) {
        for (int i = 0; i < n; ++i) seq[i] = random_token();
        for (int i = n; i < len; ++i) seq[i] = seq[i - n];
        spans_[b] = Span{0, n, n};
      } else if (warmup && config_.induction_fill) {
        // Random tokens, then spans of m tokens copied forward to random
        // later places until about half the sequence is copies. The distance
        // between copies varies, so only content (find the earlier
        // occurrence of the current token, copy what followed it) predicts
        // them: with a periodic fill, a model built the period out of fixed
        // position offsets instead (no induction head).
        const int fill_max = std::max(
            n_min, config_.fill_span_max > 0 ? std::min(config_.fill_span_max, len / 2) : len / 4);
        for (int i = 0; i < len; ++i) seq[i] = random_token();
        // Two-back segments a b p(a) p(b) p(p(a)) ...: every token is a fixed
        // permutation p of the token two before it. Only attention to the
        // previous token predicts the next one here, so previous-token heads
        // (the first half of an induction circuit) are rewarded on their
        // own. p is not the identity on purpose: a previous-token head that
        // learned to copy would write the previous token where the token's
        // own embedding is, and a later head could then not tell "my
        // predecessor is X" (the induction key) from "I am X" (a duplicate).
        for (int k = 0; k < (two_back ? config_.fill_alternations : 0); ++k) {
          const int m = std::min(len, 4 + static_cast<int>(rng_.below(9)));
          const int at = static_cast<int>(rng_.below(static_cast<uint32_t>(len - m + 1)));
          const uint32_t pool = static_cast<uint32_t>(two_back_pool_.size());
          seq[at] = two_back_pool_[rng_.below(pool)];
          seq[at + 1] = two_back_pool_[rng_.below(pool)];
          for (int i = 2; i < m; ++i) seq[at + i] = two_back_[seq[at + i - 2]];
        }
        int copied = 0;
        for (int tries = 0; copied < len / 2 && tries < 64; ++tries) {
          const int m =
              n_min + static_cast<int>(rng_.below(static_cast<uint32_t>(fill_max - n_min + 1)));
          // (No extra draws unless --fill-near-frac is set: runs without
          // it see the same sequences as before it existed.)
          if (config_.fill_near_frac > 0 && rng_.uniform() < config_.fill_near_frac) {
            const int d = 2 + static_cast<int>(rng_.below(7));  // 2..8 back
            if (len < m + d) continue;
            const int from = static_cast<int>(rng_.below(static_cast<uint32_t>(len - m - d + 1)));
            for (int i = 0; i < m; ++i)
              seq[from + d + i] = seq[from + i];  // in order: periodic if d < m
            copied += m;
            // Not a span for induction_losses (its "first copy" may be
            // copies too), and the span recorded so far no longer counts
            // if this wrote over it.
            const Span& s = spans_[b];
            const int w0 = from + d, w1 = from + d + m;
            if (s.n > 0 && ((w0 < s.a + s.n && w1 > s.a) || (w0 < s.b + s.n && w1 > s.b)))
              spans_[b] = Span{};
            continue;
          }
          const int from = static_cast<int>(rng_.below(static_cast<uint32_t>(len - 2 * m + 1)));
          const int to =
              from + m +
              static_cast<int>(rng_.below(static_cast<uint32_t>(len - 2 * m - from + 1)));
          for (int i = 0; i < m; ++i) seq[to + i] = seq[from + i];
          copied += m;
          spans_[b] = Span{from, to, m};  // the last copy: nothing overwrites it
        }
      } else if (random_span) {
        for (int i = 0; i < n; ++i) seq[a + i] = random_token();
        spans_[b] = Span{a, a + n, n};
      } else {
        const size_t from = rng_.below(static_cast<uint32_t>(ids_.size() - n));
        for (int i = 0; i < n; ++i) seq[a + i] = ids_[from + i];
      }
      if (!(warmup && (config_.induction_fill || config_.periodic_fill)))
        for (int i = 0; i < n; ++i) seq[a + n + i] = seq[a + i];
    }
    std::copy(seq.begin(), seq.begin() + T, inputs.begin() + static_cast<size_t>(b) * T);
    std::copy(seq.begin() + 1, seq.end(), targets.begin() + static_cast<size_t>(b) * T);
  }
  weights_.clear();
  if (warmup && config_.copy_loss) {
    const size_t N = static_cast<size_t>(B) * T;
    std::vector<uint8_t> copy(N);
    int counted = copy_targets(inputs.data(), targets.data(), B, T, copy.data());
    // With two-back segments, their targets count too (each the permutation
    // of the token before the current one): the loss that rewards a
    // previous-token head on its own.
    if (!two_back_.empty() && two_back) {
      for (size_t i = 0; i < N; ++i) {
        const int t = static_cast<int>(i % static_cast<size_t>(T));
        if (t == 0 || copy[i]) continue;
        const int before = two_back_[static_cast<size_t>(inputs[i - 1])];
        if (before >= 0 && before == targets[i]) {
          copy[i] = 1;
          ++counted;
        }
      }
    }
    // A batch without a target to learn (not possible with the fill, whose
    // copies are half of every sequence) keeps every target rather than none.
    if (counted > 0) {
      weights_.assign(copy.begin(), copy.end());
      if (config_.copy_loss_others > 0.0f) {
        const float other = 1.0f / config_.copy_loss_others;
        for (size_t i = 0; i < N; ++i)
          if (!copy[i] && rng_.uniform() < config_.copy_loss_others) weights_[i] = other;
      }
    }
  }
}

int copy_targets(const int* inputs, const int* targets, int B, int T, uint8_t* copy) {
  int count = 0;
  for (int b = 0; b < B; ++b) {
    const int* in = inputs + static_cast<size_t>(b) * T;
    const int* out = targets + static_cast<size_t>(b) * T;
    uint8_t* c = copy + static_cast<size_t>(b) * T;
    for (int t = 0; t < T; ++t) {
      c[t] = 0;
      for (int s = 0; s < t; ++s) {
        if (in[s] == in[t] && out[s] == out[t]) {
          c[t] = 1;
          ++count;
          break;
        }
      }
    }
  }
  return count;
}

void DataMix::induction_losses(const float* losses, int T, double* first, double* second,
                               long* n_first, long* n_second) const {
  for (size_t b = 0; b < spans_.size(); ++b) {
    const Span& s = spans_[b];
    if (s.n == 0) continue;
    const float* l = losses + b * static_cast<size_t>(T);
    for (int t = s.a; t < s.a + s.n - 1; ++t, ++*n_first) *first += l[t];
    for (int t = s.b; t < s.b + s.n - 1; ++t, ++*n_second) *second += l[t];
  }
}

}  // namespace hl
