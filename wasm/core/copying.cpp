// The copying score of every head (copying.h).
#include "copying.h"

#include <algorithm>
#include <string>
#include <utility>

#include "eigenvalues.h"
#include "error.h"
#include "kernels.h"

namespace hl {

namespace {

// Adds rows [r0, r0 + kGramRows) of wte (fewer at the end) to G (C, C):
// block^T block, one f32 GEMM (C, rows) @ (rows, C), summed in float64 so the
// V terms do not lose bits. block_t (C * kGramRows) and part (C * C) are scratch.
void add_gram_rows(const Model& model, int r0, std::vector<double>& gram, std::vector<float>& block_t,
                   std::vector<float>& part) {
  const int V = model.config.vocab_size, C = model.config.n_embd;
  const float* wte = model.weights.wte;
  const int rows = std::min(kGramRows, V - r0);
  block_t.resize(static_cast<size_t>(C) * kGramRows);
  part.resize(static_cast<size_t>(C) * C);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < C; ++c)
      block_t[static_cast<size_t>(c) * rows + r] = wte[static_cast<size_t>(r0 + r) * C + c];
  gemm(part.data(), block_t.data(), wte + static_cast<size_t>(r0) * C, nullptr, C, rows, C);
  for (size_t i = 0; i < gram.size(); ++i) gram[i] += part[i];
}

// G R (C, C) for layer l, with R = P diag(ln_1.w) W_V (C, C = H heads of D
// columns): the one product of C^3, an f32 GEMM (L * C^3 for the model:
// 5.4e9 multiply-adds on the GPT-2-small shape).
std::vector<float> gram_times_values(const Model& model, const std::vector<double>& gram, int layer) {
  const ModelConfig& config = model.config;
  const int C = config.n_embd;
  if (layer < 0 || layer >= config.n_layer) {
    throw Error("copying: no layer " + std::to_string(layer));
  }
  if (gram.size() != static_cast<size_t>(C) * C) throw Error("copying: the Gram matrix is not C x C");
  const LayerWeights& w = model.weights.layers[layer];
  // R: W_V's rows scaled, then each column centred.
  std::vector<double> right(static_cast<size_t>(C) * C);
  for (int j = 0; j < C; ++j) {
    double mean = 0;
    for (int c = 0; c < C; ++c) {
      const double x =
          static_cast<double>(w.ln_1_w[c]) * w.c_attn_w[static_cast<size_t>(c) * 3 * C + 2 * C + j];
      right[static_cast<size_t>(c) * C + j] = x;
      mean += x;
    }
    mean /= C;
    for (int c = 0; c < C; ++c) right[static_cast<size_t>(c) * C + j] -= mean;
  }
  std::vector<float> gram_f(gram.begin(), gram.end()), right_f(right.begin(), right.end());
  std::vector<float> gr(static_cast<size_t>(C) * C);
  gemm(gr.data(), gram_f.data(), right_f.data(), nullptr, C, C, C);
  return gr;
}

// M of every head of layer l (H, D, D) from its G R (C, C): M_h = L_h (G R)_h
// with L_h = W_O^h P diag(ln_f.w) (D, C), each row of the head's W_O
// centred, then scaled; float64 sums (C^2 * D multiply-adds).
std::vector<double> head_circuits(const Model& model, const std::vector<float>& gr, int layer) {
  const ModelConfig& config = model.config;
  const int C = config.n_embd, H = config.n_head, D = C / H;
  const LayerWeights& w = model.weights.layers[layer];
  std::vector<double> m(static_cast<size_t>(H) * D * D, 0.0);
  std::vector<double> left(C);
  for (int h = 0; h < H; ++h)
    for (int i = 0; i < D; ++i) {
      const float* row = w.c_proj_w + static_cast<size_t>(h * D + i) * C;
      double mean = 0;
      for (int c = 0; c < C; ++c) mean += row[c];
      mean /= C;
      for (int c = 0; c < C; ++c) left[c] = (row[c] - mean) * model.weights.ln_f_w[c];
      double* out = &m[(static_cast<size_t>(h) * D + i) * D];
      for (int k = 0; k < C; ++k) {
        const float* g = &gr[static_cast<size_t>(k) * C + h * D];
        for (int j = 0; j < D; ++j) out[j] += left[k] * g[j];
      }
    }
  return m;
}

// Scores with every array sized for the model (L, H), (L, H, D), not yet set.
CopyingScores empty_scores(const ModelConfig& config) {
  CopyingScores out;
  out.L = config.n_layer;
  out.H = config.n_head;
  out.D = config.n_embd / config.n_head;
  const size_t n_heads = static_cast<size_t>(out.L) * out.H;
  out.score.resize(n_heads);
  out.eig_re.resize(n_heads * out.D);
  out.eig_im.resize(n_heads * out.D);
  return out;
}

// Every head of layer l from its M (H, D, D): the eigenvalues, largest
// |lambda| first, and the score, into out (sized by empty_scores).
void score_heads(const std::vector<double>& m, int l, CopyingScores& out) {
  const int D = out.D;
  for (int h = 0; h < out.H; ++h) {
    const std::vector<double> m_h(m.begin() + static_cast<size_t>(h) * D * D,
                                  m.begin() + static_cast<size_t>(h + 1) * D * D);
    std::vector<std::complex<double>> lambda = eigenvalues(m_h, D);
    std::stable_sort(lambda.begin(), lambda.end(),
                     [](const auto& a, const auto& b) { return std::abs(a) > std::abs(b); });
    const size_t i = static_cast<size_t>(l) * out.H + h;
    out.score[i] = static_cast<float>(copying_score(lambda));
    for (int d = 0; d < D; ++d) {
      out.eig_re[i * D + d] = lambda[d].real();
      out.eig_im[i * D + d] = lambda[d].imag();
    }
  }
}

}  // namespace

std::vector<double> embedding_gram(const Model& model) {
  const int V = model.config.vocab_size, C = model.config.n_embd;
  std::vector<double> gram(static_cast<size_t>(C) * C, 0.0);
  std::vector<float> block_t, part;
  for (int r0 = 0; r0 < V; r0 += kGramRows) add_gram_rows(model, r0, gram, block_t, part);
  return gram;
}

std::vector<double> ov_circuit_matrices(const Model& model, const std::vector<double>& gram,
                                        int layer) {
  return head_circuits(model, gram_times_values(model, gram, layer), layer);
}

double copying_score(const std::vector<std::complex<double>>& lambda) {
  double re = 0, abs = 0;
  for (const std::complex<double>& x : lambda) {
    re += x.real();
    abs += std::abs(x);
  }
  return abs > 0 ? re / abs : 0.0;
}

CopyingScores copying_scores(const Model& model) {
  CopyingScores out = empty_scores(model.config);
  const std::vector<double> gram = embedding_gram(model);
  for (int l = 0; l < out.L; ++l) score_heads(ov_circuit_matrices(model, gram, l), l, out);
  return out;
}

CopyingRun::CopyingRun(std::shared_ptr<const Model> model) : model_(std::move(model)) {
  if (!model_) throw Error("copying: no model");
  const ModelConfig& config = model_->config;
  gram_parts_ = (config.vocab_size + kGramRows - 1) / kGramRows;
  total_ = gram_parts_ + 2 * config.n_layer;
  gram_.assign(static_cast<size_t>(config.n_embd) * config.n_embd, 0.0);
  out_ = empty_scores(config);
}

bool CopyingRun::step(int n_parts) {
  if (n_parts < 1) throw Error("copying: n_parts must be at least 1");
  std::vector<float> block_t, part;
  for (int i = 0; i < n_parts && !done(); ++i, ++next_) {
    const int layer = (next_ - gram_parts_) / 2;
    if (next_ < gram_parts_) {
      add_gram_rows(*model_, next_ * kGramRows, gram_, block_t, part);
    } else if ((next_ - gram_parts_) % 2 == 0) {
      gram_values_ = gram_times_values(*model_, gram_, layer);
    } else {
      score_heads(head_circuits(*model_, gram_values_, layer), layer, out_);
    }
  }
  // G and G R are needed by the layers only: once they are done they go.
  if (done()) {
    std::vector<double>().swap(gram_);
    std::vector<float>().swap(gram_values_);
  }
  return done();
}

namespace {

// The work of one layer's second part: M (C^2 * D) and H eigenvalue
// problems, counted as about ten QR sweeps of D^3 each.
double heads_work(const ModelConfig& config) {
  const double C = config.n_embd, H = config.n_head, D = C / H;
  return C * C * D + 10 * H * D * D * D;
}

}  // namespace

double CopyingRun::work_done() const {
  const ModelConfig& config = model_->config;
  const double V = config.vocab_size, C = config.n_embd;
  const int gram = std::min(next_, gram_parts_);
  const int layer_parts = next_ - gram;
  const double rows = std::min(V, static_cast<double>(gram) * kGramRows);
  return rows * C * C + ((layer_parts + 1) / 2) * C * C * C + (layer_parts / 2) * heads_work(config);
}

double CopyingRun::work_total() const {
  const ModelConfig& config = model_->config;
  const double V = config.vocab_size, C = config.n_embd;
  return V * C * C + config.n_layer * (C * C * C + heads_work(config));
}

const CopyingScores& CopyingRun::scores() const {
  if (!done()) {
    throw Error("copying: the run is at part " + std::to_string(next_) + " of " +
                std::to_string(total_));
  }
  return out_;
}

}  // namespace hl
