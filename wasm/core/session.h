// The forward pass with everything a visualiser needs kept (the Trace), head
// edits, and incremental reruns from the first edited layer.
#pragma once
#include <memory>
#include <vector>

#include "block.h"
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
  std::vector<float> head_z;      // (L, T, H, D) head outputs before gains and replacements
  std::vector<float> logits;      // (T, V)
  std::vector<int> top_k_ids;     // (T, K) most probable next tokens, best first
  std::vector<float> top_k_probs; // (T, K)
  std::vector<float> token_loss;  // (T) -log p(ids[t+1] | ids[..t]); NaN at T-1
  float mean_loss = 0.0f;         // mean over the T-1 defined losses (NaN if T < 2)
};

// Every head's edit, as data. A gain multiplies the head's z before c_proj
// (mute = 0); a replaced z takes the place of the head's own z before the
// gain: mean ablation (one (D) vector: the head's mean z over a reference
// text, for every position) and resample ablation ((T, D): another text's z
// at the same position; a text of another length throws naming the head).
// One (D) vector is a mean: for one token the two are the same thing.
struct HeadEdits {
  std::vector<float> gains;             // (L, H), 1 = unedited
  std::vector<std::vector<float>> z;    // (L, H) each empty (own z), (D) or (T, D)
};

// Where a block reads head edit z (HeadEdits::z, one head's) from: (D) for
// every row, or (T, D) row by row; an empty z gives {} (the head's own z).
ZReplacement z_replacement_of(const std::vector<float>& z, int D);

// The residual stream entering layer 0 of a sequence run alone:
// x (T, C) = wte[ids[t]] + wpe[t], T = ids.size() <= n_positions, every id
// in the vocabulary (the caller checks). Shared by the Session and the
// syntax probe's batches (syntax_run.cpp), so both give the same bits.
void embed_tokens(const Model& model, const std::vector<int>& ids, float* x);

// The LM head, shared by Session and the ablation scan (ablation.cpp) so
// that both give the same bits. logits (n, V) = ln_f(x (n, C)) @ wte^T, with
// ln (n, C) scratch.
void lm_head_logits(const Model& model, const float* x, int n, float* ln, float* logits);
// log(sum(exp(row - max))) of one logits row (V), its max and the sum in
// double (V terms, exp_shift_sum_f64); e (V) receives exp(row - max).
struct LogSoftmaxRow {
  float max;
  double sum;
  float log_sum;
};
LogSoftmaxRow log_softmax_row(const float* row, int V, float* e);
// The same for n rows (n, V) at once, e (n, V) or nullptr (no exps kept),
// out (n): each row's figures the bits log_softmax_row gives.
void log_softmax_rows(const float* rows, int n, int V, float* e, LogSoftmaxRow* out);
// Mean of token_loss[0 .. T-2] (the T-1 defined losses) in position order;
// NaN when T < 2.
float mean_loss_of(const float* token_loss, int T);

class Session {
 public:
  explicit Session(std::shared_ptr<const Model> model, int top_k = 5);

  // Full forward pass. ids longer than n_positions are truncated to the first
  // n_positions (the Trace says so). Empty ids or an id outside the
  // vocabulary throw hl::Error.
  void run(const std::vector<int>& ids);

  // Number of most probable next tokens the next run() keeps (K of the
  // Trace); the trace already computed keeps its own. Below 1 throws hl::Error.
  void set_top_k(int top_k);
  int top_k() const { return top_k_; }

  // Head edits: gain multiplies head (layer, head)'s z before c_proj.
  // Out-of-range layer/head or a non-finite gain throw hl::Error naming them.
  void set_head_gain(int layer, int head, float gain);
  float head_gain(int layer, int head) const;
  void clear_head_gains();
  const std::vector<float>& head_gains() const { return edits_.gains; }  // (L, H)

  // Replaces head (layer, head)'s z (HeadEdits): z (D) or (T, D); empty
  // puts the head's own z back. Out-of-range heads, another size or a
  // non-finite value throw hl::Error naming the head. A pass left pending
  // by update_at() is finished first, with the edits it started with.
  void set_head_z(int layer, int head, std::vector<float> z);
  bool head_z_replaced(int layer, int head) const;
  // All edits at once; marks for rerun the lowest layer that differs.
  const HeadEdits& head_edits() const { return edits_; }
  void set_head_edits(const HeadEdits& edits);
  // Every gain 1 and every head its own z: the unedited model.
  void clear_head_edits();
  bool edited() const;

  // Reruns from the lowest layer whose gain changed since the last pass, using
  // the cached residual input of that layer. Returns that layer (L if none).
  // Equals a full run bit for bit.
  int update();
  void rerun_from(int layer);

  // The same update in two phases, for a page that shows one position's
  // predictions first. update_at(t) reruns the edited layers, except that
  // the last layer after its keys and values runs for position t only (its
  // queries, attention, c_proj and MLP), then the LM head
  // at position t (logits row t, top_k row t, token_loss[t]). finish_head()
  // then does the rest: the last layer and the head at every other position,
  // and mean_loss. In between (head_pending() is true) those rows still hold
  // the previous pass; after finish_head() the trace equals a full run bit
  // for bit (no row of these kernels depends on the rows beside it).
  // Returns the first layer rerun; with nothing edited, L, and the head is
  // finished at once. t outside [0, T) throws hl::Error. update() and
  // rerun_from() finish a pending pass first.
  int update_at(int t);
  void finish_head();
  bool head_pending() const { return head_pending_; }

  // Every buffer is current, except while head_pending(): then position t
  // of update_at(t) is, and the other positions of the last layer's
  // attn_probs, head_z, its output residual[L], logits, top-k and
  // token_loss, and mean_loss, are those of the previous pass.
  const Trace& trace() const { return trace_; }
  const Model& model() const { return *model_; }

 private:
  // Layers first_layer..L-1. reuse_first_attention: layer first_layer's
  // ln_1, QKV and attention (attn_probs, head_z) are taken from the trace as
  // they are, which is right when that layer's input residual is unchanged
  // since they were computed: gains multiply z after attention. The last
  // layer runs its rows [last_t0, last_t1) only after its keys and values.
  void forward_layers(int first_layer, bool reuse_first_attention, int last_t0, int last_t1);
  // Layer l after its QKV (scratch qkv: k, v of all T rows, q of these),
  // for query rows [t0, t1):
  // attention (unless !attend: the trace's), gain (H) times z, c_proj, MLP.
  void layer_rows(int l, int t0, int t1, bool attend, const float* gain);
  void forward_head();                      // ln_f, logits, top-k, losses at every position
  void forward_head_rows(int t0, int t1);   // the same for positions [t0, t1), no mean_loss
  void finish_mean_loss();                  // mean_loss from token_loss

  // Checks head (layer, head) is in range; throws naming it.
  void check_head(int layer, int head) const;
  // Throws when a (T', D) replaced z does not fit a pass of T tokens.
  void check_z_rows(int T) const;
  // Where layer l's replaced z come from (H), nullptr when none is.
  const ZReplacement* layer_z_replace(int l) const;

  std::shared_ptr<const Model> model_;
  int top_k_;
  HeadEdits edits_;
  std::vector<ZReplacement> z_replace_;  // (L, H) pointers into edits_.z
  int dirty_from_;            // lowest layer edited since the last pass
  // update_at() left the last layer after its QKV and the head at every
  // position but head_row_done_ to finish_head(), with these gains (H) of
  // the last layer, its attention to compute unless last_attend_ is false.
  bool head_pending_ = false;
  int head_row_done_ = -1;
  bool last_attend_ = true;
  bool last_queries_pending_ = false;  // the other rows' q of the last layer, too
  std::vector<float> pending_last_gains_;
  Trace trace_;
  // scratch buffers sized for n_positions are private to session.cpp
  struct Scratch;
  std::shared_ptr<Scratch> scratch_;
};

}  // namespace hl
