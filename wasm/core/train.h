// Training a GPT-2 from scratch, llm.c style: parameters, gradients and the
// AdamW moments are four flat blocks with the same layout (hl::Weights), the
// activations kept for the backward pass are one flat block with named views.
// Each block's forward pass is block.h's, the inference session's own
// (pre-LN, tanh-GELU MLP unless attn_only, causal attention scaled by
// 1/sqrt(D)); around them learned positions, ln_f and the LM head tied to wte.
//
// Dimension letters (config.h): L, H, C, D = C / H, V, P; plus
//   B = sequences in a batch, T = tokens per sequence (T <= P), N = B * T,
//   F = 4C (MLP width).
#pragma once
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "block.h"
#include "config.h"
#include "random.h"
#include "weights.h"

namespace hl {

// GPT-2 initialisation (as nanoGPT): every 2-D weight ~ N(0, 0.02), the two
// residual projections (attn.c_proj, mlp.c_proj) ~ N(0, 0.02 / sqrt(2L)),
// biases 0, layernorm weight 1 / bias 0.
void init_gpt2_weights(Weights& w, uint64_t seed);

// Overwrites wpe with sinusoidal position codes (Vaswani et al. 2017), scaled
// to standard deviation std_dev. The rows stay trainable; starting from codes
// in which "the previous position" is one fixed linear map for every position
// lets previous-token heads, and the induction heads built on them, form far
// sooner than from random rows.
void init_sinusoidal_positions(Weights& w, float std_dev);

// ---- optimiser settings and schedule ------------------------------------
struct OptimizerConfig {
  float lr = 1e-3f;          // peak learning rate
  float min_lr_frac = 0.1f;  // cosine decays to lr * min_lr_frac
  int warmup_steps = 100;    // linear warm-up from lr / warmup_steps
  int total_steps = 1000;    // cosine ends here
  float beta1 = 0.9f;
  float beta2 = 0.95f;
  float eps = 1e-8f;
  float weight_decay = 0.1f;  // decoupled; 2-D tensors only (see decays_weight)
  float grad_clip = 1.0f;     // global L2 norm; <= 0 disables clipping
};

// Linear warm-up to lr over warmup_steps, then cosine decay to
// lr * min_lr_frac at total_steps (and flat after). step counts from 0.
float learning_rate(const OptimizerConfig& opt, int step);

// nanoGPT's convention: decay every tensor with two or more dimensions (the
// Conv1D weights and both embeddings, wte being the tied LM head), never the
// biases or layernorm parameters.
bool decays_weight(const ParamEntry& p);

// A tensor of an MLP block (ln_2 and mlp.*): what Trainer::set_mlp_enabled(false)
// freezes.
bool is_mlp_param(const ParamEntry& p);

// The block index of a tensor of a transformer block ("h.3.attn..." -> 3), or
// -1 for the embeddings and ln_f.
int param_layer(const ParamEntry& p);

struct Model;

// ---- activations ---------------------------------------------------------
// Everything the backward pass needs from the forward pass, for batch (B, T).
// Each block's are block.h's BlockActivations with every field its own
// buffer (the statistics of both layer norms, fc and fc_gelu apart,
// residual_2 apart from output), z_gained nullptr unless head gains are set
// (Trainer::set_head_gains; training has none): layer l's input is layer
// l - 1's output (encoded for layer 0); output is residual_2 itself when
// attn_only, and the MLP rows are nullptr then.
struct Activations {
  float* encoded;                        // (N, C) wte[token] + wpe[position]: input of layer 0
  std::vector<BlockActivations> layers;  // (L)
  float* ln_f;                           // (N, C)
  float* ln_f_mean;                      // (N)
  float* ln_f_rstd;                      // (N)
  float* probs;   // (N, V) softmax of the logits; overwritten by dlogits in backward
  float* losses;  // (N) -log p(target)
  std::vector<float> block;
};

// ---- the trainer ----------------------------------------------------------
class Trainer {
 public:
  // Trains params in place. batch_size B and seq_len T (<= n_positions) fix
  // the shape of every forward/backward; n_threads > 1 splits the work over
  // native threads (ignored in wasm). The result does not depend on
  // n_threads: every reduction runs in a fixed order.
  Trainer(Weights& params, int batch_size, int seq_len, int n_threads = 1);
  // A trainer that never steps, for gradients with respect to activations
  // and head gains on a loaded model (importance.h): it reads the model's
  // weights and packed GEMM operands in place (no copy, nothing repacked per
  // forward), holds no parameter gradients and no AdamW moments, and its
  // backward() computes only the gradient flowing down the residual stream,
  // stopping at layer 0's c_proj input (see proj_input_grad). step(),
  // params() and grads() throw hl::Error. The model must outlive it.
  Trainer(const Model& model, int batch_size, int seq_len, int n_threads = 1);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // inputs, targets (B, T) token ids. Returns the mean cross-entropy loss
  // (nats/token) and keeps the activations for backward(). Throws hl::Error
  // for an id outside the vocabulary.
  float forward(const int* inputs, const int* targets);
  // Per-token losses of the last forward (N); 0 for a target of weight 0
  // (set_target_weights), whose row the LM head skips.
  const float* token_losses() const { return acts_.losses; }

  // Gradients of the mean loss of the last forward with respect to every
  // parameter, written (not accumulated) into grads() (none on a model's
  // trainer), and with head gains set, with respect to each c_proj input.
  void backward();

  // Head gains (L, H) for the forwards that follow: each multiplies its
  // head's z before c_proj, exactly as the Session's gains (block.h
  // BlockPass::head_gain), so a forward with gains equals the Session's with
  // the same gains bit for bit. Copied; nullptr: none again, as in training.
  // backward() then passes the gradient through the gains and keeps
  // proj_input_grad for every layer.
  void set_head_gains(const float* gains);
  // (N, C) d mean loss / d z_gained of layer l, the input of its c_proj,
  // head h at [h*D, (h+1)*D), from the last backward() with head gains set.
  // Since z_gained = gain * z, d loss / d gain[l][h] is the sum over rows and
  // the head's D columns of proj_input_grad * z. hl::Error without gains or
  // for l outside 0..L-1.
  const float* proj_input_grad(int layer) const;
  // Replaced head outputs for the forwards that follow, as the Session's
  // (HeadEdits::z, session.h): (L * H) vectors, each empty (the head's own
  // z), (D) for every row (mean ablation) or (T, D) row by row (resample),
  // before the gains. Copied; empty: none. A replaced head's z no longer
  // depends on its attention, so backward() passes it no gradient there.
  // Needs head gains first (the replaced z lives in z_gained); hl::Error
  // otherwise, or for a size other than L * H.
  void set_head_z(const std::vector<std::vector<float>>& z);

  // Clips the global gradient norm to opt.grad_clip and applies one AdamW
  // step at learning_rate(opt, step_). Returns the norm before clipping.
  float step(const OptimizerConfig& opt);
  int steps_done() const { return step_; }

  Weights& params();
  Weights& grads();
  const Activations& activations() const { return acts_; }
  int batch_size() const { return B_; }
  int seq_len() const { return T_; }

  // Reshapes the next forward/backward to (batch_size, seq_len) with as many
  // tokens as the constructed (B, T) and seq_len <= the constructed T, so the
  // activation block is reused as it is. For a curriculum of context lengths:
  // the gradient that grows an induction head is spread over every earlier
  // position a query can attend to, so it is far stronger in short contexts.
  // The optimiser state and step count are kept. Throws hl::Error otherwise.
  void set_batch_shape(int batch_size, int seq_len);

  // Floating-point operations of one training step (forward + backward):
  // 6 per matmul weight per token (the LM head counted through wte) plus the
  // attention scores and weighted sums, 12 * L * T * C per token (the causal
  // mask halves the useful part; counted in full, as PaLM's formula does).
  // At the current shape and MLP setting; flops_for() at any other.
  double flops_per_step() const { return flops_for(B_, T_, mlp_on_, active_layers_); }
  // layers: how many blocks run (0: all of them).
  double flops_for(int batch_size, int seq_len, bool mlp, int layers = 0) const;

  // Switches the MLP blocks of a model that has them off or back on. While
  // off, each layer's output is its attention block's residual (the model
  // computes what its attention-only twin would), the MLP parameters
  // (ln_2, mlp.*) get zero gradients, and step() leaves them and their AdamW
  // moments untouched (no weight decay either): an attention-only warm-up
  // for a model with MLPs, which then start from their initialisation.
  // Throws hl::Error for an attention-only model asked to turn MLPs on.
  void set_mlp_enabled(bool on);
  bool mlp_enabled() const { return mlp_on_; }

  // Runs only the first n blocks (1..n_layer): the final layernorm reads
  // block n-1's output, so the model computes what its n-layer twin (the same
  // first n blocks, embeddings and ln_f) computes. The tensors of the blocks
  // left out get zero gradients, and step() leaves them and their AdamW
  // moments untouched (no weight decay either): a shallow warm-up that the
  // deeper blocks join later, from their initialisation. Throws hl::Error for
  // n outside 1..n_layer.
  void set_active_layers(int n);
  int active_layers() const { return active_layers_; }

  // Which parameters step() may change: (params().block.size()) flags in
  // the block's layout, nonzero = trainable; empty: all of them (training).
  // A frozen entry keeps its bits: step() gives it no AdamW update, no
  // weight decay and no moment, and its gradient counts in no clipping
  // norm. Fine-tuning some heads' slices (head_finetune.h) is this mask.
  // backward() then leaves out what no trainable entry needs: the weight
  // gradients of wholly frozen tensors (their grads() stay 0) and the
  // layers below the lowest trainable one when the embeddings are frozen.
  // Copied. Throws hl::Error for another size or on a model's trainer.
  void set_trainable(const std::vector<uint8_t>& mask);
  // The weight of each target in the mean loss: (B * T) for the current
  // batch shape; forward() returns sum_i w_i loss_i / sum_i w_i and
  // backward() differentiates that. A 0 leaves a target out (the padding
  // of a batch of sequences of different lengths). Empty: every target 1
  // (the plain mean). The LM head (most of a small model's step) runs only
  // on the rows of weight > 0. Copied. Throws hl::Error for another size, a
  // negative weight or an all-zero one.
  void set_target_weights(const std::vector<float>& weights);
  const std::vector<float>& target_weights() const { return target_weights_; }

 private:
  // What both public constructors share: the shape, the activation block and
  // the scratch. packed, packed_lm_head: a model's operands, or nullptr (the
  // trainer packs its own at every forward: its weights change with every step).
  Trainer(const Weights& weights, Weights* params, const std::vector<PackedLayer>* packed,
          const std::vector<float>* packed_lm_head, int batch_size, int seq_len, int n_threads);
  void pack_forward_weights();

  const Weights& weights_;  // what forward and backward read: *params_ or a model's
  Weights* params_;         // trained in place by step(); nullptr on a model's trainer
  const std::vector<PackedLayer>* packed_;    // (L) forward operands: our own or a model's
  const std::vector<float>* packed_lm_head_;  // wte^T packed as (C, V): our own or a model's
  Weights grads_;  // empty on a model's trainer (no parameter gradients)
  std::vector<float> adam_m_;  // same layout as params_.block
  std::vector<float> adam_v_;
  ModelConfig cfg_;
  int B_, T_;
  int max_B_, max_T_;  // the shape the activations were allocated for
  int step_ = 0;
  bool mlp_on_;  // false for attn_only models, or while set_mlp_enabled(false)
  int active_layers_;  // blocks that run: n_layer, or fewer after set_active_layers
  Activations acts_;
  std::vector<int> inputs_, targets_;  // (B, T) copies of the last forward's ids
  // The rows the last forward ran the LM head on, when target weights left
  // some out (weight 0): their indices in (B * T), in order; empty: all rows.
  std::vector<int> head_rows_;
  std::vector<uint8_t> trainable_;     // params block layout; empty: all trainable
  std::vector<std::pair<size_t, size_t>> frozen_tensors_;  // [begin, end) offsets of wholly frozen tensors
  int lowest_trainable_layer_ = 0;     // backward() stops there (0 with trainable embeddings)
  // grad, or nullptr when it is a wholly frozen tensor's gradient (or null).
  float* wanted(float* grad) const;
  std::vector<float> target_weights_;  // (B, T) weights of the mean loss; empty: uniform
  std::vector<float> head_gains_;      // (L, H); empty: no gains
  std::vector<float> z_gained_;        // (L, N, C) each layer's z_gained while gains are set
  std::vector<float> d_proj_input_;    // (L, N, C) proj_input_grad of every layer
  std::vector<std::vector<float>> head_z_;  // (L * H) replaced z (set_head_z); empty: none
  std::vector<ZReplacement> z_replace_;     // (L * H) views of head_z_ for BlockPass
  struct Scratch;
  std::unique_ptr<Scratch> scratch_;
};

}  // namespace hl
