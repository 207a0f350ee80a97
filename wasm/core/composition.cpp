// A head's attention before and after muting an earlier head: see composition.h.
#include "composition.h"

#include <string>

#include "block.h"
#include "error.h"

namespace hl {

namespace {

void check_head(const ModelConfig& cfg, int layer, int head, const char* role) {
  if (layer < 0 || layer >= cfg.n_layer || head < 0 || head >= cfg.n_head) {
    throw Error(std::string(role) + " head " + std::to_string(layer) + "." + std::to_string(head) +
                " is outside this model (" + std::to_string(cfg.n_layer) + " layers x " +
                std::to_string(cfg.n_head) + " heads)");
  }
}

}  // namespace

CompositionPatterns composition_patterns(const Model& model, const Trace& trace,
                                         const HeadEdits& edits, int source_layer,
                                         int source_head, int target_layer, int target_head) {
  const ModelConfig& cfg = model.config;
  check_head(cfg, source_layer, source_head, "source");
  check_head(cfg, target_layer, target_head, "target");
  const int T = trace.T, C = cfg.n_embd, H = cfg.n_head, D = cfg.d_head(), F = cfg.d_mlp();
  const size_t TT = static_cast<size_t>(T) * T, TC = static_cast<size_t>(T) * C;

  CompositionPatterns out;
  out.T = T;
  out.composes = source_layer < target_layer;
  const float* drawn = trace.attn_probs.data() +
                       (static_cast<size_t>(target_layer) * H + target_head) * TT;
  out.before.assign(drawn, drawn + TT);

  if (!out.composes) {
    out.after = out.before;
  } else {
    std::vector<float> gains = edits.gains;  // (L, H)
    gains[static_cast<size_t>(source_layer) * H + source_head] = 0.0f;
    // Residual stream in two buffers: layer l reads one and writes the other.
    std::vector<float> stream_a(trace.residual.begin() + source_layer * TC,
                                trace.residual.begin() + (source_layer + 1) * TC);
    std::vector<float> stream_b(TC), ln(TC), qkv(3 * TC), attn(static_cast<size_t>(H) * TT),
        z(TC), z_gained(TC), fc(cfg.attn_only ? 0 : static_cast<size_t>(T) * F);
    std::vector<ZReplacement> z_replace(H);
    SerialRows rows;
    float* input = stream_a.data();
    float* output = stream_b.data();
    for (int l = source_layer; l <= target_layer; ++l) {
      for (int h = 0; h < H; ++h) {
        z_replace[h] = z_replacement_of(edits.z[static_cast<size_t>(l) * H + h], D);
      }
      const BlockPass pass{cfg,  model.weights.layers[l], model.packed[l], 1, T,
                           gains.data() + static_cast<size_t>(l) * H, !cfg.attn_only, rows,
                           z_replace.data()};
      BlockActivations a;
      a.input = input;
      a.ln_1 = ln.data();
      a.qkv = qkv.data();
      a.attn_probs = attn.data();
      a.z = z.data();
      a.z_gained = z_gained.data();
      a.residual_2 = output;
      a.ln_2 = ln.data();
      a.fc = fc.data();
      a.fc_gelu = fc.data();
      a.output = output;
      block_forward(pass, a);
      std::swap(input, output);
    }
    const float* muted = attn.data() + static_cast<size_t>(target_head) * TT;
    out.after.assign(muted, muted + TT);
  }
  out.before_scores = head_type_scores(out.before.data(), trace.ids);
  out.after_scores = head_type_scores(out.after.data(), trace.ids);
  return out;
}

}  // namespace hl
