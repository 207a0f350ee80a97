// The forward pass with everything a visualiser needs kept (the Trace), head
// edits, and incremental reruns from the first edited layer.
#pragma once
#include <memory>
#include <vector>

#include "model.h"

namespace hl {

// Shapes use the letters of config.h. All buffers are row-major.
struct Trace {
  int T = 0;                      // tokens run (after truncation)
  int n_input_tokens = 0;         // tokens given before truncation
  bool truncated = false;         // n_input_tokens > n_positions
  int top_k = 0;                  // K
  std::vector<int> ids;           // (T)
  std::vector<float> residual;    // (L+1, T, C) residual[l] = input of layer l; [L] = input of ln_f
  std::vector<float> attn_probs;  // (L, H, T, T)
  std::vector<float> head_z;      // (L, T, H, D) head outputs before gains
  std::vector<float> logits;      // (T, V)
  std::vector<int> top_k_ids;     // (T, K) most probable next tokens, best first
  std::vector<float> top_k_probs; // (T, K)
  std::vector<float> token_loss;  // (T) -log p(ids[t+1] | ids[..t]); NaN at T-1
  float mean_loss = 0.0f;         // mean over the T-1 defined losses (NaN if T < 2)
};

class Session {
 public:
  explicit Session(std::shared_ptr<const Model> model, int top_k = 5);

  // Full forward pass. ids longer than n_positions are truncated to the first
  // n_positions (the Trace says so). Empty ids or an id outside the
  // vocabulary throw hl::Error.
  void run(const std::vector<int>& ids);

  // Head edits: gain multiplies head (layer, head)'s z before c_proj.
  // Out-of-range layer/head or a non-finite gain throw hl::Error naming them.
  void set_head_gain(int layer, int head, float gain);
  float head_gain(int layer, int head) const;
  void clear_head_gains();
  const std::vector<float>& head_gains() const { return gains_; }  // (L, H)

  // Reruns from the lowest layer whose gain changed since the last pass, using
  // the cached residual input of that layer. Returns that layer (L if none).
  // Equals a full run bit for bit.
  int update();
  void rerun_from(int layer);

  const Trace& trace() const { return trace_; }
  const Model& model() const { return *model_; }

 private:
  void forward_layers(int first_layer);
  void forward_head();  // ln_f, logits, top-k, losses

  std::shared_ptr<const Model> model_;
  int top_k_;
  std::vector<float> gains_;  // (L, H)
  int dirty_from_;            // lowest layer edited since the last pass
  Trace trace_;
  // scratch buffers sized for n_positions are private to session.cpp
  struct Scratch;
  std::shared_ptr<Scratch> scratch_;
};

}  // namespace hl
