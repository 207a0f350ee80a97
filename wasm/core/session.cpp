// The GPT-2 forward pass (pre-LN, learned positions, tanh-GELU MLP, tied LM
// head) with the Trace a visualiser needs, per-head gains, and reruns from
// the first edited layer. Each block is block.h's forward (the trainer's
// too), writing its attention, head outputs and residual into the Trace.
//
// Bit-exact incremental reruns: a full run is "embed, then forward_layers(0),
// then forward_head()". A rerun from layer l is "forward_layers(l), then
// forward_head()" starting from the cached residual[l], which a full run with
// the same gains would have produced identically (layers < l see no edited
// gain). Both paths run the same kernels in the same order on the same
// inputs, so the results agree to the last bit.
//
// Two shortcuts keep that: (1) the first layer of a rerun reuses its cached
// attention (attn_probs, head_z), which depends only on residual[l] and the
// weights, not on the gains (they multiply z afterwards) nor on a replaced z
// (HeadEdits: it takes z's place after attention); it starts at the
// gain multiply and c_proj. (2) The LM head may run one position first
// (update_at) and the rest later (finish_head), and so may the last layer
// after its keys and values: attention is per query row, a GEMM's columns
// independent of each other (gemm_packed_cols), layer norm and GELU per row or
// element, and a GEMM row is summed in the same order whatever rows share
// its call (each C element is its own k loop in gemm_packed's micro-kernel),
// so the rows come out the same as in one call over all T.
#include "session.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "block.h"
#include "error.h"
#include "kernels.h"

namespace hl {

namespace {

// Block l of model's pass over one sequence of T tokens, the gains (H) its
// heads' z are multiplied by, after the replacements z_replace (H or nullptr).
BlockPass block_pass(const Model& model, int l, int T, const float* gain, RowRunner& rows,
                     const ZReplacement* z_replace) {
  return BlockPass{model.config, model.weights.layers[l], model.packed[l], 1, T, gain,
                   !model.config.attn_only, rows, z_replace};
}

std::string head_name(int layer, int head) {
  return std::to_string(layer) + "." + std::to_string(head);
}

}  // namespace

ZReplacement z_replacement_of(const std::vector<float>& z, int D) {
  if (z.empty()) return ZReplacement{};
  return ZReplacement{z.data(), z.size() == static_cast<size_t>(D) ? 0 : D};
}

void lm_head_logits(const Model& model, const float* x, int n, float* ln, float* logits) {
  const ModelConfig& cfg = model.config;
  const Weights& w = model.weights;
  layernorm_forward(ln, nullptr, nullptr, x, w.ln_f_w, w.ln_f_b, n, cfg.n_embd,
                    cfg.layer_norm_epsilon);
  gemm_packed(logits, ln, model.packed_lm_head.data(), nullptr, n, cfg.n_embd, cfg.vocab_size);
}

LogSoftmaxRow log_softmax_row(const float* row, int V, float* e) {
  LogSoftmaxRow out;
  log_softmax_rows(row, 1, V, e, &out);
  return out;
}

void log_softmax_rows(const float* rows, int n, int V, float* e, LogSoftmaxRow* out) {
  // log-softmax: log p(v) = row[v] - max - log(sum exp(row - max))
  for (int i = 0; i < n; i++) {
    const float* row = rows + static_cast<size_t>(i) * V;
    const float max = row_max(row, V);
    const double sum = exp_shift_sum_f64(e ? e + static_cast<size_t>(i) * V : nullptr, row, V, max);
    out[i] = {max, sum, static_cast<float>(std::log(sum))};
  }
}

float mean_loss_of(const float* token_loss, int T) {
  double loss_sum = 0.0;  // in position order, as one pass over the rows sums them
  for (int t = 0; t + 1 < T; t++) loss_sum += token_loss[t];
  return T >= 2 ? static_cast<float>(loss_sum / (T - 1)) : std::numeric_limits<float>::quiet_NaN();
}

// Activations of one layer, sized once for n_positions tokens so that a pass
// never allocates per layer. Trace buffers (which depend on T) are resized
// once per run, before the layers.
struct Session::Scratch {
  std::vector<float> ln_out;   // (P, C)  ln_1 / ln_2 / ln_f output
  std::vector<float> qkv;      // (P, 3C) q | k | v
  std::vector<float> z_edit;   // (P, C)  head outputs times their gains
  std::vector<float> mlp_fc;   // (P, 4C) c_fc output, then GELU of it (in place)
  std::vector<float> exp_row;  // (V)     exp(logit - max) of one position
  SerialRows rows;             // the Session's blocks run on the calling thread

  // Where block l of a pass over T tokens reads and writes (block.h): its
  // attention and head outputs in the trace, its input and output the
  // trace's residual[l] and residual[l + 1] (residual_2 is the output,
  // which the MLP then adds to in place), the rest in this scratch.
  BlockActivations block(Trace& tr, int l, int C, int H) {
    const size_t T = tr.T, TC = T * C;
    BlockActivations a;
    a.input = tr.residual.data() + l * TC;
    a.ln_1 = ln_out.data();
    a.qkv = qkv.data();
    a.attn_probs = tr.attn_probs.data() + static_cast<size_t>(l) * H * T * T;
    a.z = tr.head_z.data() + l * TC;
    a.z_gained = z_edit.data();
    a.residual_2 = tr.residual.data() + (l + 1) * TC;
    a.ln_2 = ln_out.data();
    a.fc = mlp_fc.data();
    a.fc_gelu = mlp_fc.data();
    a.output = a.residual_2;
    return a;
  }
};

Session::Session(std::shared_ptr<const Model> model, int top_k)
    : model_(std::move(model)), top_k_(top_k), scratch_(std::make_shared<Scratch>()) {
  if (!model_) throw Error("session needs a loaded model");
  if (top_k_ < 1) throw Error("top_k must be at least 1, got " + std::to_string(top_k_));
  const ModelConfig& cfg = model_->config;
  const size_t P = cfg.n_positions, C = cfg.n_embd;
  edits_.gains.assign(static_cast<size_t>(cfg.n_layer) * cfg.n_head, 1.0f);
  edits_.z.assign(static_cast<size_t>(cfg.n_layer) * cfg.n_head, {});
  z_replace_.assign(static_cast<size_t>(cfg.n_layer) * cfg.n_head, ZReplacement{});
  pending_last_gains_.assign(cfg.n_head, 1.0f);
  dirty_from_ = cfg.n_layer;
  Scratch& s = *scratch_;
  s.ln_out.resize(P * C);
  s.qkv.resize(P * 3 * C);
  s.z_edit.resize(P * C);
  if (!cfg.attn_only) {
    s.mlp_fc.resize(P * cfg.d_mlp());
  }
  s.exp_row.resize(cfg.vocab_size);
}

void embed_tokens(const Model& model, const std::vector<int>& ids, float* x) {
  const Weights& w = model.weights;
  const size_t C = model.config.n_embd;
  for (size_t t = 0; t < ids.size(); t++) {
    const float* tok = w.wte + static_cast<size_t>(ids[t]) * C;
    const float* pos = w.wpe + t * C;
    float* row = x + t * C;
    for (size_t i = 0; i < C; i++) row[i] = tok[i] + pos[i];
  }
}

void Session::run(const std::vector<int>& ids) {
  const ModelConfig& cfg = model_->config;
  if (ids.empty()) throw Error("empty input: nothing to run");
  for (size_t t = 0; t < ids.size(); t++) {
    if (ids[t] < 0 || ids[t] >= cfg.vocab_size) {
      throw Error("token id " + std::to_string(ids[t]) + " at position " + std::to_string(t) +
                  " is outside the vocabulary (vocab_size " + std::to_string(cfg.vocab_size) + ")");
    }
  }
  const int T = std::min(static_cast<int>(ids.size()), cfg.n_positions);
  check_z_rows(T);
  const size_t L = cfg.n_layer, H = cfg.n_head, C = cfg.n_embd, V = cfg.vocab_size;

  // Buffers first, then the sizes: if an allocation fails, the old trace
  // still describes itself. (Resizing within capacity never allocates.)
  Trace& tr = trace_;
  const size_t K = std::min(top_k_, cfg.vocab_size);
  tr.residual.resize((L + 1) * T * C);
  tr.attn_probs.resize(L * H * T * T);
  tr.head_z.resize(L * T * C);
  tr.logits.resize(T * V);
  tr.top_k_ids.resize(T * K);
  tr.top_k_probs.resize(T * K);
  tr.token_loss.resize(T);
  tr.ids.assign(ids.begin(), ids.begin() + T);
  tr.T = T;
  tr.n_input_tokens = static_cast<int>(ids.size());
  tr.truncated = tr.n_input_tokens > T;
  tr.top_k = static_cast<int>(K);

  embed_tokens(*model_, tr.ids, tr.residual.data());  // residual[0]
  forward_layers(0, /*reuse_first_attention=*/false, 0, T);
  forward_head();
  dirty_from_ = cfg.n_layer;
  head_pending_ = false;
}

void Session::forward_layers(int first_layer, bool reuse_first_attention, int last_t0,
                             int last_t1) {
  const ModelConfig& cfg = model_->config;
  const int T = trace_.T, C = cfg.n_embd, H = cfg.n_head;
  Scratch& s = *scratch_;

  for (int l = first_layer; l < cfg.n_layer; l++) {
    const bool attend = !(reuse_first_attention && l == first_layer);
    const bool last = l == cfg.n_layer - 1;
    const int t0 = last ? last_t0 : 0, t1 = last ? last_t1 : T;  // query rows run now
    if (last) {
      last_attend_ = attend;
      last_queries_pending_ = false;
    }
    const float* gain = edits_.gains.data() + static_cast<size_t>(l) * H;  // (H)
    const BlockPass pass = block_pass(*model_, l, T, gain, s.rows, layer_z_replace(l));
    const BlockActivations a = s.block(trace_, l, C, H);
    if (!attend) {
      block_after_qkv_forward(pass, a, t0, t1, /*attend=*/false);
    } else if (t0 == 0 && t1 == T) {
      block_forward(pass, a);
    } else if (C % gemm_panel_width() != 0) {  // q columns cannot be split off
      block_ln_1_forward(pass, a, 0, T);
      block_qkv_forward(pass, a, 0, T, 0, 3 * C);
      block_after_qkv_forward(pass, a, t0, t1, /*attend=*/true);
    } else {
      // k | v of every position: each query row attends to all keys before
      // it; q of the query rows run now. The other rows' q come in finish_head().
      block_ln_1_forward(pass, a, 0, T);
      block_qkv_forward(pass, a, 0, T, C, 3 * C);
      block_qkv_forward(pass, a, t0, t1, 0, C);
      last_queries_pending_ = true;
      block_after_qkv_forward(pass, a, t0, t1, /*attend=*/true);
    }
  }
}

void Session::layer_rows(int l, int t0, int t1, bool attend, const float* gain) {
  const ModelConfig& cfg = model_->config;
  Scratch& s = *scratch_;
  const BlockPass pass = block_pass(*model_, l, trace_.T, gain, s.rows, layer_z_replace(l));
  block_after_qkv_forward(pass, s.block(trace_, l, cfg.n_embd, cfg.n_head), t0, t1, attend);
}

void Session::forward_head() {
  forward_head_rows(0, trace_.T);
  finish_mean_loss();
}

void Session::forward_head_rows(int t0, int t1) {
  if (t0 >= t1) return;
  const ModelConfig& cfg = model_->config;
  const int T = trace_.T, C = cfg.n_embd, V = cfg.vocab_size, K = trace_.top_k;
  Scratch& s = *scratch_;
  Trace& tr = trace_;

  // logits[t0..t1) = ln_f(residual[L][t0..t1)) @ wte^T   (t1 - t0, V)
  const float* x = tr.residual.data() + (static_cast<size_t>(cfg.n_layer) * T + t0) * C;
  lm_head_logits(*model_, x, t1 - t0, s.ln_out.data(),
                 tr.logits.data() + static_cast<size_t>(t0) * V);

  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int t = t0; t < t1; t++) {
    const float* row = tr.logits.data() + static_cast<size_t>(t) * V;  // (V)
    float* e = s.exp_row.data();
    const LogSoftmaxRow ls = log_softmax_row(row, V, e);
    const float max = ls.max, log_sum = ls.log_sum;
    const double sum = ls.sum;

    // Top-k by insertion into a sorted list of K; ties keep the lower id first.
    int* top_ids = tr.top_k_ids.data() + static_cast<size_t>(t) * K;
    float* top_probs = tr.top_k_probs.data() + static_cast<size_t>(t) * K;
    int filled = 0;
    for (int v = 0; v < V; v++) {
      const float logit = row[v];
      if (filled == K && !(logit > row[top_ids[K - 1]])) continue;
      int i = filled < K ? filled++ : K - 1;
      while (i > 0 && logit > row[top_ids[i - 1]]) {
        top_ids[i] = top_ids[i - 1];
        i--;
      }
      top_ids[i] = v;
    }
    for (int k = 0; k < K; k++) top_probs[k] = static_cast<float>(e[top_ids[k]] / sum);

    tr.token_loss[t] = t + 1 < T ? log_sum - (row[tr.ids[t + 1]] - max) : nan;
  }
}

void Session::finish_mean_loss() {
  trace_.mean_loss = mean_loss_of(trace_.token_loss.data(), trace_.T);
}

void Session::set_top_k(int top_k) {
  if (top_k < 1) throw Error("top_k must be at least 1, got " + std::to_string(top_k));
  top_k_ = top_k;
}

void Session::set_head_gain(int layer, int head, float gain) {
  const ModelConfig& cfg = model_->config;
  check_head(layer, head);
  if (!std::isfinite(gain)) {
    throw Error("gain for head " + head_name(layer, head) + " must be a finite number, got " +
                std::to_string(gain));
  }
  float& g = edits_.gains[static_cast<size_t>(layer) * cfg.n_head + head];
  // Compare bits, not values: 0 and -0 give different signed zeros downstream.
  if (std::memcmp(&g, &gain, sizeof(float)) != 0) {
    g = gain;
    dirty_from_ = std::min(dirty_from_, layer);
  }
}

float Session::head_gain(int layer, int head) const {
  check_head(layer, head);
  return edits_.gains[static_cast<size_t>(layer) * model_->config.n_head + head];
}

void Session::check_head(int layer, int head) const {
  const ModelConfig& cfg = model_->config;
  if (layer < 0 || layer >= cfg.n_layer || head < 0 || head >= cfg.n_head) {
    throw Error("head " + head_name(layer, head) + " out of range: model has " +
                std::to_string(cfg.n_layer) + " layers x " + std::to_string(cfg.n_head) +
                " heads");
  }
}

void Session::set_head_z(int layer, int head, std::vector<float> z) {
  const ModelConfig& cfg = model_->config;
  check_head(layer, head);
  const size_t D = cfg.d_head();
  if (z.size() % D != 0 || z.size() / D > static_cast<size_t>(cfg.n_positions)) {
    throw Error("replaced z for head " + head_name(layer, head) + " has " +
                std::to_string(z.size()) + " values: expected " + std::to_string(D) +
                " (a mean) or T x " + std::to_string(D) + " (one row per position)");
  }
  for (float v : z) {
    if (!std::isfinite(v)) {
      throw Error("replaced z for head " + head_name(layer, head) + " holds a non-finite value");
    }
  }
  // The pending pass (update_at) finishes with the z it started with, whose
  // memory the assignment below may free.
  finish_head();
  const size_t i = static_cast<size_t>(layer) * cfg.n_head + head;
  edits_.z[i] = std::move(z);
  z_replace_[i] = z_replacement_of(edits_.z[i], cfg.d_head());
  dirty_from_ = std::min(dirty_from_, layer);
}

bool Session::head_z_replaced(int layer, int head) const {
  check_head(layer, head);
  return !edits_.z[static_cast<size_t>(layer) * model_->config.n_head + head].empty();
}

void Session::set_head_edits(const HeadEdits& edits) {
  const ModelConfig& cfg = model_->config;
  const size_t LH = static_cast<size_t>(cfg.n_layer) * cfg.n_head;
  if (edits.gains.size() != LH || edits.z.size() != LH) {
    throw Error("head edits: expected " + std::to_string(LH) + " heads (" +
                std::to_string(cfg.n_layer) + " x " + std::to_string(cfg.n_head) + ")");
  }
  for (size_t i = 0; i < LH; i++) {
    const int l = static_cast<int>(i / cfg.n_head), h = static_cast<int>(i % cfg.n_head);
    set_head_gain(l, h, edits.gains[i]);
    if (edits.z[i] != edits_.z[i]) set_head_z(l, h, edits.z[i]);
  }
}

void Session::clear_head_edits() {
  const ModelConfig& cfg = model_->config;
  for (int l = 0; l < cfg.n_layer; l++) {
    for (int h = 0; h < cfg.n_head; h++) {
      set_head_gain(l, h, 1.0f);
      if (head_z_replaced(l, h)) set_head_z(l, h, {});
    }
  }
}

bool Session::edited() const {
  for (float g : edits_.gains) {
    if (g != 1.0f) return true;
  }
  for (const std::vector<float>& z : edits_.z) {
    if (!z.empty()) return true;
  }
  return false;
}

void Session::check_z_rows(int T) const {
  const ModelConfig& cfg = model_->config;
  const size_t D = cfg.d_head();
  for (size_t i = 0; i < edits_.z.size(); i++) {
    const size_t rows = edits_.z[i].size() / D;
    if (rows > 1 && rows != static_cast<size_t>(T)) {
      throw Error("resampled z for head " +
                  head_name(static_cast<int>(i / cfg.n_head), static_cast<int>(i % cfg.n_head)) +
                  " has " + std::to_string(rows) + " positions, the text " + std::to_string(T));
    }
  }
}

const ZReplacement* Session::layer_z_replace(int l) const {
  const int H = model_->config.n_head;
  const ZReplacement* layer = z_replace_.data() + static_cast<size_t>(l) * H;
  for (int h = 0; h < H; h++) {
    if (layer[h].z) return layer;
  }
  return nullptr;
}

void Session::clear_head_gains() {
  const ModelConfig& cfg = model_->config;
  for (int l = 0; l < cfg.n_layer; l++) {
    for (int h = 0; h < cfg.n_head; h++) set_head_gain(l, h, 1.0f);
  }
}

int Session::update() {
  const int from = dirty_from_;
  // Before the first run there is no trace to update: the gains apply to the next run.
  if (trace_.T == 0) return model_->config.n_layer;
  finish_head();
  if (from >= model_->config.n_layer) return model_->config.n_layer;
  rerun_from(from);
  return from;
}

void Session::rerun_from(int layer) {
  const ModelConfig& cfg = model_->config;
  if (layer < 0 || layer > cfg.n_layer) {
    throw Error("rerun from layer " + std::to_string(layer) + " out of range: model has " +
                std::to_string(cfg.n_layer) + " layers");
  }
  if (trace_.T == 0) throw Error("nothing to rerun: run a text first");
  check_z_rows(trace_.T);
  // A pass left half done by update_at() is finished first: the reruns
  // below start from a trace where every layer is whole.
  finish_head();
  // Never leave the trace behind the gains: start no later than the lowest edit.
  const int first = std::min(layer, dirty_from_);
  forward_layers(first, /*reuse_first_attention=*/true, 0, trace_.T);
  forward_head();
  dirty_from_ = cfg.n_layer;
}

int Session::update_at(int t) {
  const ModelConfig& cfg = model_->config;
  if (trace_.T == 0) throw Error("nothing to update: run a text first");
  if (t < 0 || t >= trace_.T) {
    throw Error("position " + std::to_string(t) + " is outside the " + std::to_string(trace_.T) +
                " tokens run");
  }
  // A pass left pending is finished first: this one may reuse the last
  // layer's attention, which that pass computed for its one row only.
  finish_head();
  check_z_rows(trace_.T);
  const int from = dirty_from_;
  if (from >= cfg.n_layer) return cfg.n_layer;
  // The last layer runs its queries, attention, c_proj and MLP for query
  // row t only: no other position of the head needs them (its keys and
  // values are those of all rows, kept in scratch for finish_head).
  forward_layers(from, /*reuse_first_attention=*/true, t, t + 1);
  dirty_from_ = cfg.n_layer;
  forward_head_rows(t, t + 1);
  const float* gain = edits_.gains.data() + static_cast<size_t>(cfg.n_layer - 1) * cfg.n_head;
  std::copy(gain, gain + cfg.n_head, pending_last_gains_.begin());  // sized in the constructor
  head_pending_ = true;
  head_row_done_ = t;
  return from;
}

void Session::finish_head() {
  if (!head_pending_) return;
  const ModelConfig& cfg = model_->config;
  const int t = head_row_done_, T = trace_.T, last = cfg.n_layer - 1;
  // With the gains of the update_at() pass, even if they changed since:
  // the trace is one pass, and the next update() reruns for the new ones.
  const float* gain = pending_last_gains_.data();
  if (last_queries_pending_) {
    // The other rows' queries: ln_1 of those rows again (ln_out has been
    // reused since; layer norm is per row, so the same bits), then the q
    // columns of c_attn.
    Scratch& s = *scratch_;
    const BlockPass pass = block_pass(*model_, last, T, gain, s.rows, layer_z_replace(last));
    const BlockActivations a = s.block(trace_, last, cfg.n_embd, cfg.n_head);
    for (const auto& [r0, r1] : {std::pair<int, int>{0, t}, std::pair<int, int>{t + 1, T}}) {
      block_ln_1_forward(pass, a, r0, r1);
      block_qkv_forward(pass, a, r0, r1, 0, cfg.n_embd);
    }
    last_queries_pending_ = false;
  }
  layer_rows(last, 0, t, last_attend_, gain);
  layer_rows(last, t + 1, T, last_attend_, gain);
  forward_head_rows(0, t);
  forward_head_rows(t + 1, T);
  finish_mean_loss();
  head_pending_ = false;
}

}  // namespace hl
