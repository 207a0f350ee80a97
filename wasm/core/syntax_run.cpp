// The syntax probe in parts: see syntax_run.h.
#include "syntax_run.h"

#include <algorithm>
#include <string>
#include <utility>

#include "error.h"
#include "kernels.h"
#include "session.h"

namespace hl {

TokenizedProbe tokenize_probe(const Model& model, const PosProbe& probe) {
  TokenizedProbe out;
  const int P = model.config.n_positions;
  for (const TaggedSentence& sentence : probe.sentences) {
    std::vector<int> ids = model.tokenizer.encode(sentence.text);
    if (ids.empty()) throw Error("syntax probe: a sentence of no tokens");
    if (static_cast<int>(ids.size()) > P) ids.resize(P);
    out.max_T = std::max(out.max_T, static_cast<int>(ids.size()));
    out.tags.push_back(token_tags(model.tokenizer, ids, sentence));
    out.ids.push_back(std::move(ids));
  }
  return out;
}

SyntaxRun::SyntaxRun(std::shared_ptr<const Model> model, const PosProbe& probe)
    : model_(std::move(model)),
      tag_names_(probe.tags),
      tokens_(tokenize_probe(*model_, probe)),
      acc_(model_->config.n_layer, model_->config.n_head, static_cast<int>(probe.tags.size()),
           tokens_.max_T) {
  const ModelConfig& cfg = model_->config;
  const int S = static_cast<int>(tokens_.ids.size()), L = cfg.n_layer, H = cfg.n_head;
  const double C = cfg.n_embd;
  // Consecutive sentences while their rows fit a batch.
  int rows = 0, max_rows = 0;
  batch_first_.push_back(0);
  for (int s = 0; s < S; ++s) {
    const int T = static_cast<int>(tokens_.ids[s].size());
    if (rows > 0 && rows + T > kSyntaxBatchRows) {
      batch_first_.push_back(s);
      rows = 0;
    }
    rows += T;
    max_rows = std::max(max_rows, rows);
  }
  batch_first_.push_back(S);
  total_ = n_batches() * L + 1;

  // Multiply-adds per part: a row through c_attn (3C^2), c_proj (C^2) and
  // the MLP (8C^2) (the last layer: c_attn only); a sentence's attention
  // and its sums T^2 (C + H); the chance baseline L H (max_T^2 + sum T^2).
  work_before_.assign(1, 0.0);
  double sum_TT = 0;
  for (int b = 0; b < n_batches(); ++b) {
    double n = 0, tt = 0;
    for (int s = batch_first_[b]; s < batch_first_[b + 1]; ++s) {
      const double T = static_cast<double>(tokens_.ids[s].size());
      n += T;
      tt += T * T;
    }
    sum_TT += tt;
    for (int l = 0; l < L; ++l) {
      const double per_row = 3 * C * C + (l + 1 < L ? C * C + (cfg.attn_only ? 0 : 8 * C * C) : 0);
      work_before_.push_back(work_before_.back() + n * per_row + tt * (C + H));
    }
  }
  const double M = tokens_.max_T;
  work_before_.push_back(work_before_.back() + static_cast<double>(L) * H * (M * M + sum_TT));

  const size_t N = max_rows, Cs = cfg.n_embd;
  x_in_.resize(N * Cs);
  x_out_.resize(N * Cs);
  ln_.resize(N * Cs);
  qkv_.resize(N * 3 * Cs);
  z_.resize(N * Cs);
  if (!cfg.attn_only) fc_.resize(N * cfg.d_mlp());
  attn_.resize(static_cast<size_t>(H) * tokens_.max_T * tokens_.max_T);
}

bool SyntaxRun::step(int n_parts) {
  if (n_parts < 1)
    throw Error("syntax probe: parts to run must be at least 1, got " + std::to_string(n_parts));
  const int L = model_->config.n_layer;
  for (int i = 0; i < n_parts && !done(); ++i) {
    if (next_ == total_ - 1) {
      result_ = syntax_result(acc_, tag_names_);
    } else {
      run_layer(next_ / L, next_ % L);
    }
    ++next_;
  }
  return done();
}

const char* SyntaxRun::next_kind() const {
  return done() ? "" : next_ == total_ - 1 ? "result" : "layer";
}

const SyntaxProbeResult& SyntaxRun::result() const {
  if (!done())
    throw Error("syntax probe: not done (" + std::to_string(next_) + " of " + std::to_string(total_) +
                " parts)");
  return result_;
}

void SyntaxRun::run_layer(int b, int l) {
  const ModelConfig& cfg = model_->config;
  const int C = cfg.n_embd, H = cfg.n_head, s0 = batch_first_[b], s1 = batch_first_[b + 1];
  int N = 0;
  for (int s = s0; s < s1; ++s) N += static_cast<int>(tokens_.ids[s].size());
  if (l == 0) {
    // Each sentence's rows from its own position 0, as a Session runs it alone.
    for (int s = s0, r = 0; s < s1; r += static_cast<int>(tokens_.ids[s].size()), ++s) {
      embed_tokens(*model_, tokens_.ids[s], x_in_.data() + static_cast<size_t>(r) * C);
      acc_.add_sentence(tokens_.tags[s]);
    }
  } else {
    std::swap(x_in_, x_out_);  // the layer below's output
  }

  // One batch of N rows as one sequence for the row-wise parts; attention
  // is each sentence's own (below), so T = N here is never read as a length.
  SerialRows rows;
  const BlockPass pass{cfg, model_->weights.layers[l], model_->packed[l], 1, N, nullptr,
                       !cfg.attn_only, rows, nullptr};
  BlockActivations a;
  a.input = x_in_.data();
  a.ln_1 = a.ln_2 = ln_.data();
  a.qkv = qkv_.data();
  a.z = z_.data();
  a.residual_2 = a.output = x_out_.data();
  a.fc = a.fc_gelu = fc_.data();
  block_ln_1_forward(pass, a, 0, N);
  block_qkv_forward(pass, a, 0, N, 0, 3 * C);
  for (int s = s0, r = 0; s < s1; ++s) {
    const int T = static_cast<int>(tokens_.ids[s].size());
    attention_forward_rows(z_.data() + static_cast<size_t>(r) * C, attn_.data(),
                           qkv_.data() + static_cast<size_t>(r) * 3 * C, T, C, H, 0, T);
    acc_.add_layer(l, attn_.data(), tokens_.tags[s]);
    r += T;
  }
  // The last layer's attention is all the probe reads.
  if (l + 1 < cfg.n_layer) block_after_qkv_forward(pass, a, 0, N, /*attend=*/false);
}

SyntaxProbeResult syntax_probe(std::shared_ptr<const Model> model, const PosProbe& probe) {
  SyntaxRun run(std::move(model), probe);
  run.step(run.parts_total());
  return run.result();
}

}  // namespace hl
