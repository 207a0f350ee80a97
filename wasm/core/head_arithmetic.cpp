// One head's arithmetic at one query position: see head_arithmetic.h.
#include "head_arithmetic.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "block.h"
#include "error.h"
#include "kernels.h"

namespace hl {

namespace {

void check_ranges(const ModelConfig& cfg, const Trace& trace, int layer, int head, int position) {
  if (layer < 0 || layer >= cfg.n_layer || head < 0 || head >= cfg.n_head) {
    throw Error("head " + std::to_string(layer) + "." + std::to_string(head) +
                " is outside this model (" + std::to_string(cfg.n_layer) + " layers x " +
                std::to_string(cfg.n_head) + " heads)");
  }
  if (position < 0 || position >= trace.T) {
    throw Error("position " + std::to_string(position) + " is outside the text (positions 0.." +
                std::to_string(trace.T - 1) + ")");
  }
}

// Unit vector of the top eigenvector of the covariance of rows (n, D) about
// their mean, by power iteration from a fixed start (deterministic); all
// zeros when the rows do not spread (n < 2 or identical rows).
std::vector<double> first_principal_direction(const std::vector<double>& rows, int n, int D) {
  std::vector<double> u(D, 0.0);
  if (n < 2) return u;
  std::vector<double> mean(D, 0.0), centred(rows.size());
  for (int s = 0; s < n; ++s)
    for (int d = 0; d < D; ++d) mean[d] += rows[static_cast<size_t>(s) * D + d] / n;
  double spread = 0;
  for (int s = 0; s < n; ++s)
    for (int d = 0; d < D; ++d) {
      const double c = rows[static_cast<size_t>(s) * D + d] - mean[d];
      centred[static_cast<size_t>(s) * D + d] = c;
      spread += c * c;
    }
  if (!(spread > 1e-20)) return u;
  // Start from the row farthest from the mean: never orthogonal to the top
  // direction in practice, and the same start every time.
  int far = 0;
  double far_norm = -1;
  for (int s = 0; s < n; ++s) {
    double norm = 0;
    for (int d = 0; d < D; ++d) norm += centred[static_cast<size_t>(s) * D + d] * centred[static_cast<size_t>(s) * D + d];
    if (norm > far_norm) far_norm = norm, far = s;
  }
  for (int d = 0; d < D; ++d) u[d] = centred[static_cast<size_t>(far) * D + d] / std::sqrt(far_norm);
  std::vector<double> next(D), proj(n);
  for (int it = 0; it < 200; ++it) {  // u <- X^T X u / |X^T X u|, X the centred rows
    for (int s = 0; s < n; ++s) {
      double p = 0;
      for (int d = 0; d < D; ++d) p += centred[static_cast<size_t>(s) * D + d] * u[d];
      proj[s] = p;
    }
    std::fill(next.begin(), next.end(), 0.0);
    for (int s = 0; s < n; ++s)
      for (int d = 0; d < D; ++d) next[d] += centred[static_cast<size_t>(s) * D + d] * proj[s];
    double norm = 0;
    for (double x : next) norm += x * x;
    norm = std::sqrt(norm);
    if (!(norm > 0)) break;
    double change = 0;
    for (int d = 0; d < D; ++d) {
      const double x = next[d] / norm;
      change += std::fabs(x - u[d]);
      u[d] = x;
    }
    if (change < 1e-12) break;
  }
  return u;
}

// key_xy and query_xy of out (head_arithmetic.h): x along q, y along the
// keys' first principal direction orthogonal to q.
void project_keys(HeadArithmetic& out, int n, int D) {
  double q_norm = 0;
  for (int d = 0; d < D; ++d) q_norm += double(out.q[d]) * out.q[d];
  q_norm = std::sqrt(q_norm);
  std::vector<double> q_hat(D, 0.0);
  if (q_norm > 0)
    for (int d = 0; d < D; ++d) q_hat[d] = out.q[d] / q_norm;
  std::vector<double> x(n), perp(static_cast<size_t>(n) * D);
  for (int s = 0; s < n; ++s) {
    const float* k_s = out.k.data() + static_cast<size_t>(s) * D;
    double along = 0;
    for (int d = 0; d < D; ++d) along += k_s[d] * q_hat[d];
    x[s] = along;
    for (int d = 0; d < D; ++d) perp[static_cast<size_t>(s) * D + d] = k_s[d] - along * q_hat[d];
  }
  const std::vector<double> u = first_principal_direction(perp, n, D);
  out.key_xy.resize(static_cast<size_t>(n) * 2);
  for (int s = 0; s < n; ++s) {
    double y = 0;
    for (int d = 0; d < D; ++d) y += perp[static_cast<size_t>(s) * D + d] * u[d];
    out.key_xy[2 * s] = static_cast<float>(x[s]);
    out.key_xy[2 * s + 1] = static_cast<float>(y);
  }
  out.query_xy = {static_cast<float>(q_norm), 0.0f};
}

}  // namespace

HeadArithmetic head_arithmetic(const Model& model, const Trace& trace, const HeadEdits& edits,
                               int layer, int head, int position) {
  const ModelConfig& cfg = model.config;
  check_ranges(cfg, trace, layer, head, position);
  const int C = cfg.n_embd, H = cfg.n_head, D = cfg.d_head(), t = position, n = t + 1;

  // ln_1 and c_attn of rows 0..t, as the block computes them: only this
  // head's q, k and v columns when they fall on GEMM panel boundaries (the
  // same bits as the whole product, block.h), else all 3C.
  std::vector<float> ln(static_cast<size_t>(n) * C), qkv(static_cast<size_t>(n) * 3 * C);
  SerialRows rows;
  const BlockPass pass{cfg, model.weights.layers[layer], model.packed[layer], 1, n, nullptr,
                       !cfg.attn_only, rows};
  BlockActivations a;
  a.input = trace.residual.data() + static_cast<size_t>(layer) * trace.T * C;
  a.ln_1 = ln.data();
  a.qkv = qkv.data();
  block_ln_1_forward(pass, a, 0, n);
  if (D % gemm_panel_width() == 0) {
    for (int part = 0; part < 3; ++part) {
      const int col = part * C + head * D;
      block_qkv_forward(pass, a, 0, n, col, col + D);
    }
  } else {
    block_qkv_forward(pass, a, 0, n, 0, 3 * C);
  }

  HeadArithmetic out;
  out.layer = layer;
  out.head = head;
  out.position = t;
  out.T = trace.T;
  out.d_head = D;
  out.scale = 1.0f / std::sqrt(static_cast<float>(D));
  // This head's q | k | v as a one-head qkv (n, 3D) for the attention kernel.
  std::vector<float> head_qkv(static_cast<size_t>(n) * 3 * D);
  out.q.assign(D, 0.0f);
  out.k.resize(static_cast<size_t>(n) * D);
  out.v.resize(static_cast<size_t>(n) * D);
  for (int s = 0; s < n; ++s) {
    for (int part = 0; part < 3; ++part) {
      const float* src = qkv.data() + static_cast<size_t>(s) * 3 * C + part * C + head * D;
      std::copy(src, src + D, head_qkv.data() + static_cast<size_t>(s) * 3 * D + part * D);
    }
    const float* row = head_qkv.data() + static_cast<size_t>(s) * 3 * D;
    std::copy(row + D, row + 2 * D, out.k.data() + static_cast<size_t>(s) * D);
    std::copy(row + 2 * D, row + 3 * D, out.v.data() + static_cast<size_t>(s) * D);
  }
  std::copy(head_qkv.data() + static_cast<size_t>(t) * 3 * D,
            head_qkv.data() + static_cast<size_t>(t) * 3 * D + D, out.q.begin());

  // The kernel of the forward pass on query row t: probs and z bit for bit
  // (each query row is its own scores, softmax and sum over v; the stride
  // of the rows does not change a bit). probs (1, n, n) and z (n, D): row t
  // written.
  std::vector<float> probs(static_cast<size_t>(n) * n), z(static_cast<size_t>(n) * D);
  attention_forward_rows(z.data(), probs.data(), head_qkv.data(), n, D, 1, t, n);
  const size_t row_t = static_cast<size_t>(t) * n;
  out.probs.assign(probs.begin() + row_t, probs.begin() + row_t + n);
  out.z.assign(z.begin() + static_cast<size_t>(t) * D, z.begin() + static_cast<size_t>(t + 1) * D);

  out.scores.resize(n);
  out.scaled.resize(n);
  for (int s = 0; s < n; ++s) {
    double dot = 0;
    for (int d = 0; d < D; ++d) dot += double(out.q[d]) * out.k[static_cast<size_t>(s) * D + d];
    out.scores[s] = static_cast<float>(dot);
    out.scaled[s] = static_cast<float>(dot * out.scale);
  }

  // What c_proj gets from this head: its z or the replacement, times the gain.
  const size_t lh = static_cast<size_t>(layer) * H + head;
  out.gain = edits.gains.empty() ? 1.0f : edits.gains[lh];
  const std::vector<float>* replaced = edits.z.empty() || edits.z[lh].empty() ? nullptr : &edits.z[lh];
  out.z_replaced = replaced != nullptr;
  const float* z_in = out.z.data();
  if (replaced) z_in = replaced->data() + (replaced->size() == static_cast<size_t>(D) ? 0 : static_cast<size_t>(t) * D);
  out.z_used.resize(D);
  for (int d = 0; d < D; ++d) out.z_used[d] = z_in[d] * out.gain;
  // output (C) = z_used (D) @ c_proj_w rows [h*D, (h+1)*D) (Conv1D: (in, out))
  const float* w = model.weights.layers[layer].c_proj_w;
  out.output.resize(C);
  for (int j = 0; j < C; ++j) {
    double sum = 0;
    for (int d = 0; d < D; ++d) sum += double(out.z_used[d]) * w[static_cast<size_t>(head * D + d) * C + j];
    out.output[j] = static_cast<float>(sum);
  }

  project_keys(out, n, D);
  return out;
}

}  // namespace hl
