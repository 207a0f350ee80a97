#include "attribution.h"

#include <string>

#include "error.h"
#include "kernels.h"

namespace hl {

namespace {

double dot(const float* a, const double* b, int n) {
  double s = 0.0;
  for (int i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

void check_token(const char* what, int id, int V) {
  if (id < 0 || id >= V) {
    throw Error(std::string("direct logit attribution: ") + what + " id " + std::to_string(id) +
                " is outside 0.." + std::to_string(V - 1));
  }
}

}  // namespace

LogitAttribution direct_logit_attribution(const Model& model, const Trace& trace,
                                          const std::vector<float>& head_gains, int position,
                                          int answer, int foil) {
  const ModelConfig& cfg = model.config;
  const Weights& w = model.weights;
  const int L = cfg.n_layer, H = cfg.n_head, C = cfg.n_embd, D = cfg.d_head(), F = cfg.d_mlp();
  const int V = cfg.vocab_size, T = trace.T, t = position;
  if (t < 0 || t >= T) {
    throw Error("direct logit attribution: position " + std::to_string(t) + " is outside 0.." +
                std::to_string(T - 1) + " (the text is " + std::to_string(T) + " tokens)");
  }
  check_token("answer", answer, V);
  check_token("foil", foil, V);
  if (answer == foil) throw Error("direct logit attribution: answer and foil are the same token");
  if (head_gains.size() != static_cast<size_t>(L) * H) {
    throw Error("direct logit attribution: " + std::to_string(head_gains.size()) +
                " head gains for " + std::to_string(L * H) + " heads");
  }

  LogitAttribution out;
  out.position = t;
  out.answer = answer;
  out.foil = foil;
  out.heads.assign(static_cast<size_t>(L) * H, 0.0);
  out.mlps.assign(L, 0.0);

  // The frozen scale: ln_f's own 1/std of the real final residual, from the kernel itself.
  std::vector<float> scratch_c(C);  // (C)
  float mean = 0.0f, rstd = 0.0f;
  const float* x_final = trace.residual.data() + (static_cast<size_t>(L) * T + t) * C;
  layernorm_forward(scratch_c.data(), &mean, &rstd, x_final, w.ln_f_w, w.ln_f_b, 1, C,
                    cfg.layer_norm_epsilon);

  // u = rstd * ln_f_w * d, then centred: a part p contributes p . (u - mean(u)).  (C)
  const float* wa = w.wte + static_cast<size_t>(answer) * C;
  const float* wf = w.wte + static_cast<size_t>(foil) * C;
  std::vector<double> u(C);
  double u_mean = 0.0;
  for (int c = 0; c < C; c++) {
    const double d = static_cast<double>(wa[c]) - wf[c];
    u[c] = static_cast<double>(rstd) * w.ln_f_w[c] * d;
    u_mean += u[c];
    out.bias += w.ln_f_b[c] * d;  // ln_f's bias adds b . d, uncentred and unscaled
  }
  u_mean /= C;
  for (int c = 0; c < C; c++) u[c] -= u_mean;

  const float* tok = w.wte + static_cast<size_t>(trace.ids[t]) * C;
  const float* pos = w.wpe + static_cast<size_t>(t) * C;
  for (int c = 0; c < C; c++) out.embed += (static_cast<double>(tok[c]) + pos[c]) * u[c];

  std::vector<double> proj_u(C);  // (C) c_proj_w @ u: row i is input feature i
  std::vector<float> z_gained(C), residual_2(C), fc(cfg.attn_only ? 0 : F), mlp_out(C);
  for (int l = 0; l < L; l++) {
    const LayerWeights& lw = w.layers[l];
    const float* gain = head_gains.data() + static_cast<size_t>(l) * H;
    const float* z = trace.head_z.data() + (static_cast<size_t>(l) * T + t) * C;  // (H, D)
    // Head h adds gain * z_h @ c_proj_w[h*D:(h+1)*D, :]; projected: gain * z_h . (c_proj_w u)_h.
    for (int i = 0; i < C; i++)
      proj_u[i] = dot(lw.c_proj_w + static_cast<size_t>(i) * C, u.data(), C);
    for (int h = 0; h < H; h++) {
      double s = 0.0;
      for (int k = 0; k < D; k++) s += z[h * D + k] * proj_u[h * D + k];
      out.heads[static_cast<size_t>(l) * H + h] = gain[h] * s;
    }
    out.bias += dot(lw.c_proj_b, u.data(), C);
    if (cfg.attn_only) continue;

    // The MLP at t, recomputed from the layer's input and its gained heads:
    // residual_2 = x + z_gained @ c_proj + b; out = gelu(ln_2(residual_2) @ c_fc + b) @ mlp.c_proj.
    for (int h = 0; h < H; h++) {
      for (int k = 0; k < D; k++) z_gained[h * D + k] = gain[h] * z[h * D + k];
    }
    const float* x = trace.residual.data() + (static_cast<size_t>(l) * T + t) * C;
    const PackedLayer& packed = model.packed[l];
    gemm_packed(residual_2.data(), z_gained.data(), packed.c_proj.data(), lw.c_proj_b, 1, C, C);
    for (int c = 0; c < C; c++) residual_2[c] += x[c];
    layernorm_forward(scratch_c.data(), nullptr, nullptr, residual_2.data(), lw.ln_2_w, lw.ln_2_b,
                      1, C, cfg.layer_norm_epsilon);
    gemm_packed(fc.data(), scratch_c.data(), packed.mlp_c_fc.data(), lw.mlp_c_fc_b, 1, C, F);
    gelu_forward(fc.data(), fc.data(), F);
    gemm_packed(mlp_out.data(), fc.data(), packed.mlp_c_proj.data(), nullptr, 1, F, C);
    out.mlps[l] = dot(mlp_out.data(), u.data(), C);
    out.bias += dot(lw.mlp_c_proj_b, u.data(), C);
  }

  out.total = out.embed + out.bias;
  for (double v : out.heads) out.total += v;
  for (double v : out.mlps) out.total += v;
  const float* logits = trace.logits.data() + static_cast<size_t>(t) * V;
  out.actual = static_cast<double>(logits[answer]) - logits[foil];
  return out;
}

}  // namespace hl
