// Path patching: one head's clean output into chosen inputs of later heads;
// see patching.h (PathPatch) and docs/circuits.md.
#include <algorithm>
#include <string>
#include <vector>

#include "batch_scratch.h"
#include "block.h"
#include "error.h"
#include "patching.h"
#include "patching_detail.h"

namespace hl {

namespace {

std::string head_name(int layer, int head) {
  return std::to_string(layer) + "." + std::to_string(head);
}

}  // namespace

using patching_detail::check_index;

float ActivationPatcher::path_patched(const PathPatch& path) const {
  const ModelConfig& cfg = model_->config;
  const int L = cfg.n_layer, H = cfg.n_head, D = cfg.d_head(), C = cfg.n_embd, T = T_;
  const size_t TC = static_cast<size_t>(T) * C, C3 = 3 * static_cast<size_t>(C);
  const int ls = path.sender_layer, hs = path.sender_head;
  check_index("sender layer", ls, L);
  check_index("sender head", hs, H);
  int start = L;  // the lowest receiver layer: below it the run is the corrupted one
  for (const int r : path.receivers) {
    check_index("receiver head (l * H + h)", r, L * H);
    if (r / H <= ls) {
      throw Error("path patching: receiver " + head_name(r / H, r % H) +
                  " is not in a layer above the sender " + head_name(ls, hs) +
                  " (it cannot read the sender's output)");
    }
    start = std::min(start, r / H);
  }
  if (start == L) return corrupted_metric_;

  // d (T, C): the sender's clean minus corrupted z through its rows of c_proj
  // (Conv1D (C, C): row k is input feature k); c_proj's bias cancels.
  const float* w_proj = model_->weights.layers[ls].c_proj_w;
  std::vector<float> d(TC, 0.0f);
  for (int t = 0; t < T; t++) {
    float* row = d.data() + static_cast<size_t>(t) * C;
    for (int j = 0; j < D; j++) {
      const size_t at = (static_cast<size_t>(ls) * T + t) * C + hs * D + j;
      const float diff = clean_.head_z[at] - corrupted_.head_z[at];
      const float* w = w_proj + static_cast<size_t>(hs * D + j) * C;
      for (int c = 0; c < C; c++) row[c] += diff * w[c];
    }
  }
  const bool parts[3] = {path.q, path.k, path.v};  // q | k | v column blocks of c_attn

  BatchScratch s(cfg, 1, T), sender(cfg, 1, T);  // the patched run; the receivers' inputs
  std::copy(corrupted_.residual.begin() + start * TC,
            corrupted_.residual.begin() + (start + 1) * TC, s.x_out.begin());
  SerialRows rows;
  for (int l = start; l < L; l++) {
    const BlockPass pass{cfg, model_->weights.layers[l], model_->packed[l], 1, T, nullptr,
                         !cfg.attn_only, rows};
    std::swap(s.x_in, s.x_out);
    const BlockActivations a = s.block();
    block_ln_1_forward(pass, a, 0, T);
    block_qkv_forward(pass, a, 0, T, 0, 3 * C);
    std::vector<int> heads;  // this layer's receivers
    for (const int r : path.receivers) {
      if (r / H == l) heads.push_back(r % H);
    }
    if (!heads.empty()) {
      // The receivers' chosen inputs read ln_1(corrupted residual[l] + d).
      const float* corrupted = corrupted_.residual.data() + l * TC;
      for (size_t i = 0; i < TC; i++) sender.x_in[i] = corrupted[i] + d[i];
      const BlockActivations b = sender.block();
      block_ln_1_forward(pass, b, 0, T);
      block_qkv_forward(pass, b, 0, T, 0, 3 * C);
      for (const int h : heads) {
        for (int part = 0; part < 3; part++) {
          if (!parts[part]) continue;
          for (int t = 0; t < T; t++) {
            const size_t at = t * C3 + static_cast<size_t>(part) * C + h * D;
            std::copy(sender.qkv.begin() + at, sender.qkv.begin() + at + D, s.qkv.begin() + at);
          }
        }
      }
    }
    block_after_qkv_forward(pass, a, 0, T, /*attend=*/true);
  }
  return metric_of_row(s.x_out.data() + static_cast<size_t>(T - 1) * C);
}

}  // namespace hl
