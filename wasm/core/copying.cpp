// The copying score of every head (copying.h).
#include "copying.h"

#include <algorithm>
#include <string>

#include "eigenvalues.h"
#include "error.h"
#include "kernels.h"

namespace hl {

std::vector<double> embedding_gram(const Model& model) {
  const int V = model.config.vocab_size, C = model.config.n_embd;
  const float* wte = model.weights.wte;
  // G = sum over blocks of rows of block^T block: one f32 GEMM per block
  // (C, rows) @ (rows, C), summed in float64 so the V terms do not lose bits.
  constexpr int kRows = 512;
  std::vector<double> gram(static_cast<size_t>(C) * C, 0.0);
  std::vector<float> block_t(static_cast<size_t>(C) * kRows), part(static_cast<size_t>(C) * C);
  for (int r0 = 0; r0 < V; r0 += kRows) {
    const int rows = std::min(kRows, V - r0);
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < C; ++c)
        block_t[static_cast<size_t>(c) * rows + r] = wte[static_cast<size_t>(r0 + r) * C + c];
    gemm(part.data(), block_t.data(), wte + static_cast<size_t>(r0) * C, nullptr, C, rows, C);
    for (size_t i = 0; i < gram.size(); ++i) gram[i] += part[i];
  }
  return gram;
}

std::vector<double> ov_circuit_matrices(const Model& model, const std::vector<double>& gram,
                                        int layer) {
  const ModelConfig& config = model.config;
  const int C = config.n_embd, H = config.n_head, D = C / H;
  if (layer < 0 || layer >= config.n_layer) {
    throw Error("copying: no layer " + std::to_string(layer));
  }
  if (gram.size() != static_cast<size_t>(C) * C) throw Error("copying: the Gram matrix is not C x C");
  const LayerWeights& w = model.weights.layers[layer];
  // R = P diag(ln_1.w) W_V (C, C = H heads of D columns): W_V's rows scaled,
  // then each column centred.
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
  // G R (C, C): the one product of C^3, an f32 GEMM (L * C^3 for the model:
  // 5.4e9 multiply-adds on the GPT-2-small shape).
  std::vector<float> gram_f(gram.begin(), gram.end()), right_f(right.begin(), right.end());
  std::vector<float> gr(static_cast<size_t>(C) * C);
  gemm(gr.data(), gram_f.data(), right_f.data(), nullptr, C, C, C);
  // M_h = L_h (G R)_h with L_h = W_O^h P diag(ln_f.w) (D, C): each row of the
  // head's W_O centred, then scaled; float64 sums.
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

double copying_score(const std::vector<std::complex<double>>& lambda) {
  double re = 0, abs = 0;
  for (const std::complex<double>& x : lambda) {
    re += x.real();
    abs += std::abs(x);
  }
  return abs > 0 ? re / abs : 0.0;
}

CopyingScores copying_scores(const Model& model) {
  const ModelConfig& config = model.config;
  CopyingScores out;
  out.L = config.n_layer;
  out.H = config.n_head;
  out.D = config.n_embd / config.n_head;
  const int D = out.D;
  const size_t n_heads = static_cast<size_t>(out.L) * out.H;
  out.score.resize(n_heads);
  out.eig_re.resize(n_heads * D);
  out.eig_im.resize(n_heads * D);
  const std::vector<double> gram = embedding_gram(model);
  for (int l = 0; l < out.L; ++l) {
    const std::vector<double> m = ov_circuit_matrices(model, gram, l);
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
  return out;
}

}  // namespace hl
