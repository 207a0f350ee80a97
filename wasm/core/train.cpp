// The trainer: forward with activations kept, backward through every op
// (its scratch: train_scratch.h; its AdamW step: train_step.cpp; what a step
// trains: train_mask.cpp). See train.h for the layout and the conventions.
#include "train.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <string>

#include "block.h"
#include "error.h"
#include "kernels.h"
#include "kernels_backward.h"
#include "session.h"
#include "model.h"
#include "thread_pool.h"
#include "train_scratch.h"

namespace hl {

// ---- Trainer ----------------------------------------------------------------

Trainer::Trainer(Weights& params, int batch_size, int seq_len, int n_threads)
    : Trainer(params, &params, nullptr, nullptr, batch_size, seq_len, n_threads) {
  grads_ = allocate_weights(cfg_);
  adam_m_.assign(params_->block.size(), 0.0f);
  adam_v_.assign(params_->block.size(), 0.0f);
  packed_ = &scratch_->packed;
  packed_lm_head_ = &scratch_->packed_lm_head;
  scratch_->packed.resize(cfg_.n_layer);
  scratch_->dwte_t.resize(static_cast<size_t>(cfg_.n_embd) * cfg_.vocab_size);
}

Trainer::Trainer(const Model& model, int batch_size, int seq_len, int n_threads)
    : Trainer(model.weights, nullptr, &model.packed, &model.packed_lm_head, batch_size, seq_len,
              n_threads) {}

Trainer::Trainer(const Weights& weights, Weights* params, const std::vector<PackedLayer>* packed,
                 const std::vector<float>* packed_lm_head, int batch_size, int seq_len,
                 int n_threads)
    : weights_(weights),
      params_(params),
      packed_(packed),
      packed_lm_head_(packed_lm_head),
      cfg_(weights.config),
      B_(batch_size),
      T_(seq_len),
      max_B_(batch_size),
      max_T_(seq_len),
      mlp_on_(!weights.config.attn_only),
      active_layers_(weights.config.n_layer) {
  if (B_ < 1) throw Error("trainer: batch size must be >= 1, got " + std::to_string(B_));
  if (T_ < 1 || T_ > cfg_.n_positions)
    throw Error("trainer: sequence length " + std::to_string(T_) +
                " outside [1, n_positions=" + std::to_string(cfg_.n_positions) + "]");
  if (n_threads < 1) n_threads = 1;
  const int L = cfg_.n_layer, C = cfg_.n_embd, H = cfg_.n_head, V = cfg_.vocab_size;
  const int F = cfg_.d_mlp();
  const size_t N = static_cast<size_t>(B_) * T_;
  const size_t att = static_cast<size_t>(B_) * H * T_ * T_;
  const bool mlp = !cfg_.attn_only;

  // One flat block; first count, then hand out the views in the same order.
  size_t per_layer =
      3 * N * C /*ln_1, z, residual_2*/ + 2 * N /*ln_1 stats*/ + 3 * N * C /*qkv*/ + att;
  if (mlp) per_layer += 2 * N * C /*ln_2, residual_3*/ + 2 * N + 2 * N * F;
  const size_t total = N * C + L * per_layer + N * C + 2 * N + N * V + N;
  acts_.block.assign(total, 0.0f);
  float* p = acts_.block.data();
  auto take = [&p](size_t n) {
    float* view = p;
    p += n;
    return view;
  };
  acts_.encoded = take(N * C);
  acts_.layers.resize(L);
  const float* input = acts_.encoded;
  for (BlockActivations& a : acts_.layers) {
    a = BlockActivations{};
    a.input = input;
    a.ln_1 = take(N * C);
    a.ln_1_mean = take(N);
    a.ln_1_rstd = take(N);
    a.qkv = take(3 * N * C);
    a.attn_probs = take(att);
    a.z = take(N * C);
    a.residual_2 = take(N * C);
    a.output = a.residual_2;
    if (mlp) {
      a.ln_2 = take(N * C);
      a.ln_2_mean = take(N);
      a.ln_2_rstd = take(N);
      a.fc = take(N * F);
      a.fc_gelu = take(N * F);
      a.output = take(N * C);
    }
    input = a.output;
  }
  acts_.ln_f = take(N * C);
  acts_.ln_f_mean = take(N);
  acts_.ln_f_rstd = take(N);
  acts_.probs = take(N * V);
  acts_.losses = take(N);

  scratch_ = std::make_unique<Scratch>(n_threads);
  Scratch& s = *scratch_;
  s.d_residual.resize(N * C);
  s.d_ln.resize(N * C);
  s.d_z.resize(N * C);
  s.d_qkv.resize(3 * N * C);
  if (mlp) {
    s.d_fc_gelu.resize(N * F);
    s.d_fc.resize(N * F);
  }
  s.d_scores.resize(static_cast<size_t>(s.pool.size()) * T_);
  inputs_.resize(N);
  targets_.resize(N);
}

Trainer::~Trainer() = default;

Weights& Trainer::params() {
  if (!params_) throw Error("trainer: a model's trainer has no parameters to train");
  return *params_;
}

Weights& Trainer::grads() {
  if (!params_) throw Error("trainer: a model's trainer keeps no parameter gradients");
  return grads_;
}

void Trainer::set_head_gains(const float* gains) {
  const int L = cfg_.n_layer, H = cfg_.n_head, C = cfg_.n_embd;
  const size_t NC = static_cast<size_t>(B_) * T_ * C;
  if (!gains) {
    head_gains_.clear();
    for (BlockActivations& a : acts_.layers) a.z_gained = nullptr;
    return;
  }
  head_gains_.assign(gains, gains + static_cast<size_t>(L) * H);
  z_gained_.resize(L * NC);
  d_proj_input_.resize(L * NC);
  for (int l = 0; l < L; ++l) acts_.layers[l].z_gained = z_gained_.data() + l * NC;
}

void Trainer::set_head_z(const std::vector<std::vector<float>>& z) {
  const int L = cfg_.n_layer, H = cfg_.n_head, D = cfg_.d_head();
  if (z.empty()) {
    head_z_.clear();
    z_replace_.clear();
    return;
  }
  if (head_gains_.empty()) throw Error("trainer: set_head_z needs head gains first (set_head_gains)");
  if (z.size() != static_cast<size_t>(L) * H)
    throw Error("trainer: set_head_z needs n_layer x n_head = " + std::to_string(L * H) +
                " entries, got " + std::to_string(z.size()));
  for (size_t i = 0; i < z.size(); ++i) {
    const size_t n = z[i].size();
    if (n != 0 && n != static_cast<size_t>(D) && n < static_cast<size_t>(T_) * D)
      throw Error("trainer: replaced z of head " + std::to_string(i / H) + "." +
                  std::to_string(i % H) + " holds " + std::to_string(n) +
                  " values: expected D or at least T x D");
  }
  head_z_ = z;
  z_replace_.resize(head_z_.size());
  for (size_t i = 0; i < head_z_.size(); ++i) z_replace_[i] = z_replacement_of(head_z_[i], D);
}

const float* Trainer::proj_input_grad(int layer) const {
  if (head_gains_.empty()) throw Error("trainer: proj_input_grad needs head gains (set_head_gains)");
  if (layer < 0 || layer >= cfg_.n_layer)
    throw Error("trainer: layer " + std::to_string(layer) + " outside 0.." +
                std::to_string(cfg_.n_layer - 1));
  return d_proj_input_.data() + static_cast<size_t>(layer) * B_ * T_ * cfg_.n_embd;
}

void Trainer::set_batch_shape(int batch_size, int seq_len) {
  const long long tokens = static_cast<long long>(max_B_) * max_T_;
  if (batch_size < 1 || seq_len < 1 || seq_len > max_T_ ||
      static_cast<long long>(batch_size) * seq_len != tokens)
    throw Error("trainer: batch shape " + std::to_string(batch_size) + " x " +
                std::to_string(seq_len) + " must hold " + std::to_string(tokens) +
                " tokens with a sequence length <= " + std::to_string(max_T_));
  // Every view of the activation block keeps its offset: N = B * T is
  // unchanged and each layer's attention (B, H, T, T) only shrinks.
  B_ = batch_size;
  T_ = seq_len;
}

double Trainer::flops_for(int batch_size, int seq_len, bool mlp, int layers) const {
  const double C = cfg_.n_embd, V = cfg_.vocab_size;
  const double L = layers > 0 ? std::min(layers, cfg_.n_layer) : cfg_.n_layer;
  double matmul_weights = L * (3 * C * C + C * C);
  if (mlp && !cfg_.attn_only) matmul_weights += L * (2 * C * cfg_.d_mlp());
  matmul_weights += V * C;  // tied LM head
  const double tokens = static_cast<double>(batch_size) * seq_len;
  return tokens * (6.0 * matmul_weights + 12.0 * L * seq_len * C);
}

void Trainer::set_mlp_enabled(bool on) {
  if (on && cfg_.attn_only) throw Error("trainer: an attention-only model has no MLPs to enable");
  mlp_on_ = on;
}

void Trainer::set_active_layers(int n) {
  if (n < 1 || n > cfg_.n_layer)
    throw Error("trainer: active layers must be 1.." + std::to_string(cfg_.n_layer) + ", got " +
                std::to_string(n));
  active_layers_ = n;
}

void Trainer::pack_forward_weights() {
  Scratch& s = *scratch_;
  const int C = cfg_.n_embd, V = cfg_.vocab_size;
  for (int l = 0; l < active_layers_; ++l) {
    pack_layer(s.packed[l], weights_.layers[l], cfg_, mlp_on_);
  }
  s.packed_lm_head.resize(packed_b_size(C, V));
  pack_b_transposed(s.packed_lm_head.data(), weights_.wte, C, V);
}

float Trainer::forward(const int* inputs, const int* targets) {
  Scratch& s = *scratch_;
  const int L = active_layers_, C = cfg_.n_embd, V = cfg_.vocab_size;
  const int N = B_ * T_;
  const float eps = cfg_.layer_norm_epsilon;
  for (int i = 0; i < N; ++i) {
    if (inputs[i] < 0 || inputs[i] >= V || targets[i] < 0 || targets[i] >= V)
      throw Error("trainer: token id " +
                  std::to_string(inputs[i] < 0 || inputs[i] >= V ? inputs[i] : targets[i]) +
                  " outside the vocabulary [0, " + std::to_string(V) + ")");
  }
  inputs_.assign(inputs, inputs + N);  // N = B * T, the size they were given: no reallocation
  targets_.assign(targets, targets + N);
  if (params_) pack_forward_weights();  // a model's are packed already

  // Embedding: encoded[b, t] = wte[token] + wpe[t].
  s.parallel_for(N, 16, [&](int i0, int i1) {
    for (int i = i0; i < i1; ++i) {
      const float* te = weights_.wte + static_cast<size_t>(inputs_[i]) * C;
      const float* pe = weights_.wpe + static_cast<size_t>(i % T_) * C;
      float* out = acts_.encoded + static_cast<size_t>(i) * C;
      for (int c = 0; c < C; ++c) out[c] = te[c] + pe[c];
    }
  });

  for (int l = 0; l < L; ++l) {
    const float* gain = head_gains_.empty() ? nullptr : head_gains_.data() + l * cfg_.n_head;
    const ZReplacement* z_replace =
        z_replace_.empty() ? nullptr : z_replace_.data() + static_cast<size_t>(l) * cfg_.n_head;
    const BlockPass pass{cfg_, weights_.layers[l], (*packed_)[l], B_, T_, gain, mlp_on_, s, z_replace};
    block_forward(pass, acts_.layers[l]);
  }

  const float* last = L > 0 ? acts_.layers[L - 1].output : acts_.encoded;
  s.layernorm_forward_mt(acts_.ln_f, acts_.ln_f_mean, acts_.ln_f_rstd, last, weights_.ln_f_w,
                         weights_.ln_f_b, N, C, eps);
  if (!target_weights_.empty() && target_weights_.size() != static_cast<size_t>(N))
    throw Error("trainer: the target weights are of another batch shape");
  // The LM head runs on the rows whose target counts: all of them, or, when
  // target weights leave some out, those rows gathered (head_rows_).
  head_rows_.clear();
  for (int i = 0; i < static_cast<int>(target_weights_.size()); ++i)
    if (target_weights_[i] > 0.0f) head_rows_.push_back(i);
  if (head_rows_.size() == static_cast<size_t>(N)) head_rows_.clear();
  const int R = head_rows_.empty() ? N : static_cast<int>(head_rows_.size());
  const float* head_in = acts_.ln_f;
  if (!head_rows_.empty()) {
    s.head_rows.resize(static_cast<size_t>(R) * C);
    for (int r = 0; r < R; ++r)
      std::memcpy(s.head_rows.data() + static_cast<size_t>(r) * C,
                  acts_.ln_f + static_cast<size_t>(head_rows_[r]) * C, sizeof(float) * C);
    head_in = s.head_rows.data();
    std::fill(acts_.losses, acts_.losses + N, 0.0f);
  }
  // Tied LM head: logits = ln_f @ wte^T (row r of probs is target row(r)),
  // then softmax in place.
  s.matmul(acts_.probs, head_in, packed_lm_head_->data(), nullptr, R, C, V, false);
  s.parallel_for(R, 8, [&](int r0, int r1) {
    float* rows = acts_.probs + static_cast<size_t>(r0) * V;
    softmax_rows(rows, r1 - r0, V);
    for (int r = r0; r < r1; ++r) {
      const int i = head_rows_.empty() ? r : head_rows_[r];
      const float p = acts_.probs[static_cast<size_t>(r) * V + targets_[i]];
      // p underflows to 0 only for a hopeless prediction; cap the loss at ~87.
      acts_.losses[i] = -std::log(std::max(p, 1e-38f));
    }
  });
  double sum = 0.0, weight_sum = 0.0;
  for (int i = 0; i < N; ++i) {
    const double w = target_weights_.empty() ? 1.0 : target_weights_[i];
    sum += w * acts_.losses[i];
    weight_sum += w;
  }
  return static_cast<float>(sum / weight_sum);
}

void Trainer::backward() {
  Scratch& s = *scratch_;
  const int L = active_layers_, C = cfg_.n_embd, H = cfg_.n_head, V = cfg_.vocab_size;
  const int F = cfg_.d_mlp(), D = cfg_.d_head();
  const int N = B_ * T_;
  // A model's trainer (no params_) wants no parameter gradient: every dW and
  // db below is nullptr then, and the pass stops where nothing further down
  // is wanted (layer 0's c_proj input).
  const bool param_grads = params_ != nullptr;
  const bool gained = !head_gains_.empty();
  if (param_grads) std::fill(grads_.block.begin(), grads_.block.end(), 0.0f);

  // Loss = mean over the N tokens: dlogits = (probs - onehot) / N, in place;
  // with target weights, row i scaled by w_i / sum w instead (and only the
  // R rows the forward ran the LM head on).
  const int R = head_rows_.empty() ? N : static_cast<int>(head_rows_.size());
  if (target_weights_.empty()) {
    const float loss_scale = 1.0f / static_cast<float>(N);
    s.parallel_for(N, 8, [&](int i0, int i1) {
      crossentropy_softmax_backward(acts_.probs + static_cast<size_t>(i0) * V,
                                    targets_.data() + i0, i1 - i0, V, loss_scale);
    });
  } else {
    double weight_sum = 0.0;
    for (float w : target_weights_) weight_sum += w;
    s.parallel_for(R, 8, [&](int r0, int r1) {
      for (int r = r0; r < r1; ++r) {
        const int i = head_rows_.empty() ? r : head_rows_[r];
        const float scale = static_cast<float>(target_weights_[i] / weight_sum);
        crossentropy_softmax_backward(acts_.probs + static_cast<size_t>(r) * V,
                                      targets_.data() + i, 1, V, scale);
      }
    });
  }
  const float* dlogits = acts_.probs;
  const float* head_in = head_rows_.empty() ? acts_.ln_f : s.head_rows.data();

  // LM head (tied): d_ln_f = dlogits @ wte; dwte += (ln_f^T @ dlogits)^T.
  // Gathered rows: their d_ln_f rows scattered back, 0 on the rest.
  s.packed_w.resize(packed_b_size(V, C));
  pack_b(s.packed_w.data(), weights_.wte, V, C, C);
  if (head_rows_.empty()) {
    s.matmul(s.d_ln.data(), dlogits, s.packed_w.data(), nullptr, N, V, C, false);
  } else {
    s.d_head_rows.resize(static_cast<size_t>(R) * C);
    s.matmul(s.d_head_rows.data(), dlogits, s.packed_w.data(), nullptr, R, V, C, false);
    std::fill(s.d_ln.begin(), s.d_ln.end(), 0.0f);
    for (int r = 0; r < R; ++r)
      std::memcpy(s.d_ln.data() + static_cast<size_t>(head_rows_[r]) * C,
                  s.d_head_rows.data() + static_cast<size_t>(r) * C, sizeof(float) * C);
  }
  if (param_grads && wanted(grads_.wte)) {
    std::fill(s.dwte_t.begin(), s.dwte_t.end(), 0.0f);
    s.weight_gradient(s.dwte_t.data(), head_in, dlogits, R, C, V);
    s.parallel_for(V, 64, [&](int v0, int v1) {
      for (int v = v0; v < v1; ++v) {
        float* row = grads_.wte + static_cast<size_t>(v) * C;
        for (int c = 0; c < C; ++c) row[c] += s.dwte_t[static_cast<size_t>(c) * V + v];
      }
    });
  }

  // ln_f
  float* d_residual = s.d_residual.data();
  std::fill(s.d_residual.begin(), s.d_residual.end(), 0.0f);
  const float* last = L > 0 ? acts_.layers[L - 1].output : acts_.encoded;
  s.layernorm_backward_mt(d_residual, param_grads ? wanted(grads_.ln_f_w) : nullptr,
                          param_grads ? wanted(grads_.ln_f_b) : nullptr, s.d_ln.data(), last,
                          weights_.ln_f_w, acts_.ln_f_mean, acts_.ln_f_rstd, N, C);

  // The parameter gradients of layer l, or all nullptr on a model's trainer.
  for (int l = L - 1; l >= 0; --l) {
    const LayerWeights& w = weights_.layers[l];
    // The parameter gradients wanted: none on a model's trainer, none of a
    // wholly frozen tensor (set_trainable).
    static constexpr float* LayerWeights::*kTensors[] = {
        &LayerWeights::ln_1_w,     &LayerWeights::ln_1_b,       &LayerWeights::c_attn_w,
        &LayerWeights::c_attn_b,   &LayerWeights::c_proj_w,     &LayerWeights::c_proj_b,
        &LayerWeights::ln_2_w,     &LayerWeights::ln_2_b,       &LayerWeights::mlp_c_fc_w,
        &LayerWeights::mlp_c_fc_b, &LayerWeights::mlp_c_proj_w, &LayerWeights::mlp_c_proj_b};
    LayerWeights g{};
    if (param_grads)
      for (float* LayerWeights::*tensor : kTensors) g.*tensor = wanted(grads_.layers[l].*tensor);
    // Below the lowest trainable layer (frozen embeddings) nothing is wanted.
    const bool lowest = param_grads && l == lowest_trainable_layer_ && !trainable_.empty();
    const BlockActivations& a = acts_.layers[l];
    const float* residual = a.input;

    if (mlp_on_) {
      // residual_3 = residual_2 + gelu(ln_2(residual_2) @ c_fc + b) @ c_proj + b
      s.matmul_backward(s.d_fc_gelu.data(), g.mlp_c_proj_w, g.mlp_c_proj_b, d_residual, a.fc_gelu,
                        w.mlp_c_proj_w, N, F, C);
      s.parallel_for(N, 16, [&](int i0, int i1) {
        const size_t off = static_cast<size_t>(i0) * F;
        gelu_backward(s.d_fc.data() + off, a.fc + off, s.d_fc_gelu.data() + off,
                      static_cast<size_t>(i1 - i0) * F);
      });
      s.matmul_backward(s.d_ln.data(), g.mlp_c_fc_w, g.mlp_c_fc_b, s.d_fc.data(), a.ln_2,
                        w.mlp_c_fc_w, N, C, F);
      // The residual path passes d_residual through unchanged; ln_2 adds to it.
      s.layernorm_backward_mt(d_residual, g.ln_2_w, g.ln_2_b, s.d_ln.data(), a.residual_2, w.ln_2_w,
                              a.ln_2_mean, a.ln_2_rstd, N, C);
    }
    // residual_2 = residual + proj_in @ c_proj + b, proj_in = z, or gain * z
    // (z_gained) with head gains, whose gradient is kept (proj_input_grad).
    float* d_proj_in =
        gained ? d_proj_input_.data() + static_cast<size_t>(l) * N * C : s.d_z.data();
    s.matmul_backward(d_proj_in, g.c_proj_w, g.c_proj_b, d_residual, gained ? a.z_gained : a.z,
                      w.c_proj_w, N, C, C);
    if (!param_grads && l == 0) break;  // nothing below layer 0's c_proj input is wanted
    if (gained) {  // d z = gain * d z_gained, head by head; 0 for a replaced z
      const float* gain = head_gains_.data() + static_cast<size_t>(l) * H;
      const ZReplacement* replaced =
          z_replace_.empty() ? nullptr : z_replace_.data() + static_cast<size_t>(l) * H;
      s.parallel_for(N, 16, [&](int i0, int i1) {
        for (int i = i0; i < i1; ++i) {
          const float* in = d_proj_in + static_cast<size_t>(i) * C;
          float* out = s.d_z.data() + static_cast<size_t>(i) * C;
          for (int h = 0; h < H; ++h) {
            const float g = replaced && replaced[h].z ? 0.0f : gain[h];
            for (int d = 0; d < D; ++d) out[h * D + d] = in[h * D + d] * g;
          }
        }
      });
    }
    // One task per (sequence, head): each writes only its head's q/k/v columns.
    s.pool.run(B_ * H, [&](int task, int thread) {
      const int b = task / H, h = task % H;
      const size_t tok = static_cast<size_t>(b) * T_;
      attention_backward(s.d_qkv.data() + tok * 3 * C, s.d_scores.data() + thread * T_,
                         s.d_z.data() + tok * C, a.qkv + tok * 3 * C,
                         a.attn_probs + static_cast<size_t>(b) * H * T_ * T_, T_, C, H, h, h + 1);
    });
    s.matmul_backward(lowest ? nullptr : s.d_ln.data(), g.c_attn_w, g.c_attn_b, s.d_qkv.data(),
                      a.ln_1, w.c_attn_w, N, C, 3 * C);
    if (lowest) return;
    s.layernorm_backward_mt(d_residual, g.ln_1_w, g.ln_1_b, s.d_ln.data(), residual, w.ln_1_w,
                            a.ln_1_mean, a.ln_1_rstd, N, C);
  }
  if (!param_grads) return;
  float* const d_wte = wanted(grads_.wte);
  float* const d_wpe = wanted(grads_.wpe);
  if (!d_wte && !d_wpe) return;

  // Embeddings: each token's residual gradient goes to its wte row and its
  // position's wpe row. Columns split across threads; rows in token order.
  s.parallel_for(C, 16, [&](int c0, int c1) {
    for (int i = 0; i < N; ++i) {
      const float* d = d_residual + static_cast<size_t>(i) * C;
      if (d_wte) {
        float* te = d_wte + static_cast<size_t>(inputs_[i]) * C;
        for (int c = c0; c < c1; ++c) te[c] += d[c];
      }
      if (d_wpe) {
        float* pe = d_wpe + static_cast<size_t>(i % T_) * C;
        for (int c = c0; c < c1; ++c) pe[c] += d[c];
      }
    }
  });
}

}  // namespace hl
