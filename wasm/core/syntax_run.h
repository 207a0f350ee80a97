// The syntax probe (syntax.h) on a model, in parts: so a caller can run it
// between other work without holding its thread for long (the page's worker,
// between the reader's requests: on the GPT-2-small shape the whole probe is
// seconds of one core).
//
// Only attention is wanted, so each sentence's pass stops at the last
// layer's attention: no LM head (on the GPT-2-small shape, V = 50257 rows
// of wte, as many multiply-adds per token as three layers) and no c_proj or
// MLP in the last layer. Consecutive sentences run side by side as the rows
// of one batch (at most kSyntaxBatchRows tokens; a longer sentence is a
// batch alone) through the row-wise parts of a block (layer norms, c_attn,
// c_proj, MLP; a GEMM row is its own k loop, block.h), and each sentence
// through its own attention (attention_forward_rows, as the Session runs
// it), so every sentence's attention is the bits a Session's run of that
// sentence alone gives. The sums are added sentence by sentence in probe
// order, as syntax.h's one sentence at a time would add them: the result is
// the same bits.
//
// The parts, in order: for each batch b, each layer l (one part: that
// layer over the batch's rows, its attention added to the sums), then one
// part for the result (the chance baseline over every sentence's pairs).
// Shapes use the letters of config.h; S = sentences, N = a batch's rows.
#pragma once
#include <memory>
#include <vector>

#include "model.h"
#include "syntax.h"

namespace hl {

// Rows of a batch: the wasm GEMM's M block (kernels.cpp kMC = 128), the
// rows that share one stream of each weight panel. On the GPT-2-small shape
// a layer over 128 rows is about 9e8 multiply-adds, tens of ms in wasm.
constexpr int kSyntaxBatchRows = 128;

// The probe's sentences as a model's tokenizer cuts them, each cut to
// n_positions tokens, with their token tags (token_tags).
struct TokenizedProbe {
  std::vector<std::vector<int>> ids;   // (S) of (T_s)
  std::vector<std::vector<int>> tags;  // (S) of (T_s), -1 untagged
  int max_T = 1;                       // the longest T_s
};
TokenizedProbe tokenize_probe(const Model& model, const PosProbe& probe);

class SyntaxRun {
 public:
  // Tokenizes the probe (tokenize_probe) and plans the batches.
  SyntaxRun(std::shared_ptr<const Model> model, const PosProbe& probe);

  // Up to n_parts more parts (n_parts >= 1, else hl::Error); returns done().
  bool step(int n_parts = 1);
  bool done() const { return next_ == total_; }
  int parts_done() const { return next_; }
  int parts_total() const { return total_; }
  // Multiply-adds of the parts done and of all of them (a layer part: its
  // rows through the block's GEMMs plus T_s^2 (C + H) a sentence for
  // attention and its sums; the result part: L H (max_T^2 + sum T_s^2)):
  // what a progress bar should move with.
  double work_done() const { return work_before_[next_]; }
  double work_total() const { return work_before_[total_]; }
  // The kind of the next part: "layer", "result", or "" once done.
  const char* next_kind() const;
  int n_batches() const { return static_cast<int>(batch_first_.size()) - 1; }
  // Complete once done(); throws before.
  const SyntaxProbeResult& result() const;

 private:
  // Layer l over batch b's rows (from its embeddings when l is 0): the
  // residual stream into x_out_, every sentence's attention into the sums.
  void run_layer(int b, int l);

  std::shared_ptr<const Model> model_;
  std::vector<std::string> tag_names_;  // (G)
  TokenizedProbe tokens_;
  std::vector<int> batch_first_;        // (batches + 1) first sentence of each, then S
  std::vector<double> work_before_;     // (total_ + 1) multiply-adds before each part
  int total_ = 0;                       // batches * L + 1
  int next_ = 0;                        // the next part to run
  SyntaxAccumulator acc_;
  // A batch's activations between its layers: (N, C), (N, C), (N, 3C),
  // (N, C), (N, F) (none without MLP), and one sentence's attention
  // (H, max_T, max_T).
  std::vector<float> x_in_, x_out_, ln_, qkv_, z_, fc_, attn_;
  SyntaxProbeResult result_;
};

// The whole probe on a model in one call: a SyntaxRun to the end. Each
// sentence tokenised (cut to n_positions) and run alone with every gain 1.
SyntaxProbeResult syntax_probe(std::shared_ptr<const Model> model, const PosProbe& probe);

}  // namespace hl
