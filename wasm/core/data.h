// Training data mixes: batches of sequences cut from training text, some with
// copies written into them that only in-context copying (an induction head)
// predicts. Used by `headlight train` and, being plain C++, by a trainer in
// the page.
//
// Every sequence is T + 1 tokens (T inputs and their next-token targets).
// A sequence is, independently and at random:
//   - with probability induction_frac: training text in which a span of n
//     uniformly random token ids, then the same span again, is written at a
//     random offset, n uniform in [max(4, (T+1)/16), (T+1)/2] (the standard
//     induction-head data: only in-context copying predicts the second copy);
//   - with probability repeat_text_frac: the same with a natural-text span;
//   - otherwise: T + 1 consecutive tokens of the training text at a random offset.
// A warm-up batch holds random-token repeats in every sequence; with
// induction_fill, whole sequences of random tokens in which spans are copied
// forward at random distances until about half of the sequence is copies,
// or with periodic_fill one random span repeated end to end
// (models/README.md, "Induction heads", has what each variant taught).
#pragma once
#include <cstdint>
#include <vector>

#include "random.h"

namespace hl {

struct DataMixConfig {
  float induction_frac = 0.0f;    // random-token span, repeated
  float repeat_text_frac = 0.0f;  // natural-text span, repeated
  // Warm-up sequences are random tokens with spans of 8..fill_span_max tokens
  // copied forward at random distances (about half the sequence is copies),
  // instead of one repeat inside training text: many copy targets per
  // sequence, and no fixed period to learn by position.
  bool induction_fill = false;
  // Warm-up sequences are instead one random span of n tokens repeated end
  // to end (period n, uniform in [max(4, (T+1)/16), (T+1)/2]): the probe's
  // own kind of sequence (analysis.h: a random span, then its repeat), with
  // every token after the first period a copy target. The period varies, so
  // only content predicts the copies.
  bool periodic_fill = false;
  // Longest copied span of the fill (0: (T+1)/4).
  int fill_span_max = 0;
  // Fraction of the fill's copies written only 2-8 positions after their
  // source (overlapping it when closer than the span is long: a periodic
  // run). A copying circuit keyed on "the token k back is X" instead of the
  // previous token (k = 1) reaches the copy only when it is more than k back:
  // near copies are the data on which k = 1, the classic induction head,
  // predicts more than any other k (models/README.md, seventh round).
  float fill_near_frac = 0.0f;
  // Two-back segments (4-12 tokens, each a fixed permutation of the token two
  // before it) per fill sequence, written before the copies.
  int fill_alternations = 0;
  // Random-span tokens are drawn from the K most frequent tokens of the
  // training text (0: from the whole vocabulary).
  int random_vocab = 0;
  // Warm-up batches weigh only their copy targets in the loss (target_weights):
  // a target that repeats an earlier pair (the token before it and itself
  // stood together earlier in the sequence), and with fill_alternations the
  // targets of its two-back segments. The other targets of random
  // data are unpredictable: their gradient is noise to a copying circuit, and
  // the trainer skips the LM head on rows of weight 0.
  bool copy_loss = false;
  // With copy_loss, each other target still counts with this probability,
  // weighted 1 / it (0: none): an unbiased estimate of the whole batch's
  // loss at the cost of its copy targets and a sample of the rest, and a
  // model that stays calibrated on the unpredictable tokens.
  float copy_loss_others = 0.0f;
  uint64_t seed = 1;
};

// Marks the copy targets of a batch (B, T) in `copy` (B * T): target t of a
// sequence is one when some earlier position s < t holds the same pair,
// inputs[s] == inputs[t] and targets[s] == targets[t], so that in-context
// copying (find the earlier occurrence of the current token, copy what
// followed it) predicts it. Returns how many there are.
int copy_targets(const int* inputs, const int* targets, int B, int T, uint8_t* copy);

class DataMix {
 public:
  // ids: the training text's token ids (kept by reference: they must outlive
  // the DataMix), at least T + 2 of them for the longest T asked for.
  DataMix(const std::vector<int>& ids, int vocab_size, const DataMixConfig& config);

  // One batch of B sequences of T + 1 tokens into inputs/targets (B, T).
  // warmup: every sequence holds a repeated random-token span (or the fill).
  // two_back: the fill writes its fill_alternations two-back segments.
  void next(int B, int T, std::vector<int>& inputs, std::vector<int>& targets, bool warmup = false,
            bool two_back = true);

  // Sums the per-token losses of the random-token spans of the last batch:
  // first copy (tokens a+1 .. a+n-1: unpredictable, ~ln V) and second copy
  // (tokens b+1 .. b+n-1: predictable by copying from context).
  // losses (B, T): losses[t] is the loss of predicting token t + 1.
  void induction_losses(const float* losses, int T, double* first, double* second, long* n_first,
                        long* n_second) const;

  // A copy the last batch holds in one sequence: tokens [b, b + n) equal
  // tokens [a, a + n). n = 0: none recorded in that sequence (plain text, a
  // natural-text repeat, or one that a near copy wrote over).
  struct Span {
    int a = 0;  // offset of the first copy in the sequence
    int b = 0;  // offset of the second copy
    int n = 0;  // span length
  };
  const std::vector<Span>& spans() const { return spans_; }  // (B) of the last batch
  // The loss weight of each target of the last batch (B * T): with
  // copy_loss on a warm-up batch, 1 for its copy targets (copy_targets) and
  // two-back targets, 1 / copy_loss_others for the sampled rest and 0 for
  // the others; empty otherwise (every target counts).
  const std::vector<float>& target_weights() const { return weights_; }

  // The two-back permutation p (V): p[x] follows x two positions later in a
  // two-back segment; -1 for tokens outside its pool. Empty without
  // fill_alternations.
  const std::vector<int>& two_back_map() const { return two_back_; }

 private:
  int random_token();

  static constexpr int kTwoBackPool = 64;
  const std::vector<int>& ids_;
  int vocab_size_;
  DataMixConfig config_;
  Rng rng_;
  std::vector<Span> spans_;         // (B) of the last batch
  std::vector<float> weights_;      // (B * T) of the last batch, or empty
  std::vector<int> random_ids_;     // the random-span token pool (empty: all ids)
  std::vector<int> two_back_pool_;  // tokens of the two-back segments
  std::vector<int> two_back_;       // (V) their permutation p; -1 outside the pool
};

}  // namespace hl
