// The exact ablation scan and the pruning curve: see ablation.h.
#include "ablation.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <utility>

#include "batch_scratch.h"
#include "block.h"
#include "error.h"
#include "random.h"

namespace hl {

namespace {

// LM-head rows per GEMM call. The GEMM streams the whole packed (C, V) LM
// head once per block of 128 rows (kernels.cpp's M block in wasm): a call
// per sequence of T - 1 = 63 rows (gpt-4l at 64 tokens) pays that for half a
// block. The sequences of a batch lie one after another in x_out, so a call
// takes 128 rows whichever sequences they belong to (rows are independent).
constexpr int kLmHeadRows = 128;

// The scan's activations for G sequences of T tokens (the scan passes T - 1
// of the text's T), and the LM head's for up to kLmHeadRows of their rows.
struct ScanScratch : BatchScratch {
  int lm_rows;                      // R = min(kLmHeadRows, G * T)
  std::vector<float> logits;        // (R, V)
  std::vector<LogSoftmaxRow> soft;  // (R) the log-softmax of each logits row
  std::vector<float> token_loss;    // (G, T)

  ScanScratch(const ModelConfig& cfg, int G, int T)
      : BatchScratch(cfg, G, T),
        lm_rows(std::min(kLmHeadRows, G * T)),
        logits(static_cast<size_t>(lm_rows) * cfg.vocab_size),
        soft(lm_rows),
        token_loss(static_cast<size_t>(G) * T) {}
};

// token_loss (n, T - 1) of n sequences whose rows x (n, T - 1, C) are the
// input of ln_f at the positions with a next token, each row as
// Session::forward_head_rows computes its loss (the LM head and the
// log-softmax are row-wise: the same bits in any grouping of rows).
void token_losses(const Model& model, const std::vector<int>& ids, const float* x, int n,
                  ScanScratch& s) {
  const int Tq = static_cast<int>(ids.size()) - 1, N = n * Tq;
  const int V = model.config.vocab_size, C = model.config.n_embd;
  for (int r0 = 0; r0 < N; r0 += s.lm_rows) {
    const int r1 = std::min(N, r0 + s.lm_rows);
    lm_head_logits(model, x + static_cast<size_t>(r0) * C, r1 - r0, s.ln.data(), s.logits.data());
    // The losses need each row's max and log-sum only: no exps kept.
    log_softmax_rows(s.logits.data(), r1 - r0, V, nullptr, s.soft.data());
    for (int r = r0; r < r1; r++) {
      const int t = r % Tq;  // position within its sequence
      const float* row = s.logits.data() + static_cast<size_t>(r - r0) * V;
      s.token_loss[r] = s.soft[r - r0].log_sum - (row[ids[t + 1]] - s.soft[r - r0].max);
    }
  }
}

// Head h's c_proj input for T rows into out (row stride C), as
// block_after_qkv_forward makes it from the head's z (row stride C) with a
// gain and a replacement: rep's z when it has one, else the head's own,
// times gain. The same product of the same floats, so the same bits (a
// negative z times a gain of 0 gives -0 here as there).
void gained_head_rows(float* out, const float* z, int T, int C, int D, int h, float gain,
                      const ZReplacement& rep) {
  for (int t = 0; t < T; t++) {
    const float* zh = rep.z ? rep.z + static_cast<size_t>(t) * rep.row_stride
                            : z + static_cast<size_t>(t) * C + h * D;
    float* o = out + static_cast<size_t>(t) * C + h * D;
    for (int d = 0; d < D; d++) o[d] = zh[d] * gain;
  }
}

}  // namespace

const char* ablation_mode_name(AblationMode mode) {
  return mode == AblationMode::mean ? "mean" : "zero";
}

AblationMode parse_ablation_mode(const std::string& name) {
  if (name == "zero") return AblationMode::zero;
  if (name == "mean") return AblationMode::mean;
  throw Error("unknown ablation mode '" + name + "' (expected zero or mean)");
}

std::vector<float> unedited_head_z(std::shared_ptr<const Model> model, const std::vector<int>& ids) {
  Session session(std::move(model), 1);
  session.run(ids);
  return session.trace().head_z;
}

std::vector<float> mean_head_z(const std::vector<float>& head_z, const ModelConfig& cfg, int T) {
  const int L = cfg.n_layer, H = cfg.n_head, D = cfg.d_head(), C = cfg.n_embd;
  if (T < 1 || head_z.size() != static_cast<size_t>(L) * T * C) {
    throw Error("mean_head_z: head_z does not hold " + std::to_string(T) + " positions");
  }
  std::vector<float> means(static_cast<size_t>(L) * H * D);  // (L, H, D)
  std::vector<double> sum(C);                                // (C) = (H, D) of one layer
  for (int l = 0; l < L; l++) {
    std::fill(sum.begin(), sum.end(), 0.0);
    for (int t = 0; t < T; t++) {
      const float* row = head_z.data() + (static_cast<size_t>(l) * T + t) * C;
      for (int c = 0; c < C; c++) sum[c] += row[c];
    }
    for (int c = 0; c < C; c++) means[static_cast<size_t>(l) * C + c] = static_cast<float>(sum[c] / T);
  }
  return means;
}

std::vector<float> head_rows(const std::vector<float>& head_z, const ModelConfig& cfg, int T,
                             int layer, int head) {
  const int D = cfg.d_head(), C = cfg.n_embd;
  std::vector<float> rows(static_cast<size_t>(T) * D);  // (T, D)
  for (int t = 0; t < T; t++) {
    const float* z = head_z.data() + (static_cast<size_t>(layer) * T + t) * C + head * D;
    std::copy(z, z + D, rows.begin() + static_cast<size_t>(t) * D);
  }
  return rows;
}

void ablate_head(Session& session, int layer, int head, AblationMode mode,
                 const std::vector<float>& means) {
  if (mode == AblationMode::zero) {
    session.set_head_gain(layer, head, 0.0f);
    return;
  }
  const ModelConfig& cfg = session.model().config;
  session.head_gain(layer, head);  // names an out-of-range head before means is read
  const size_t D = cfg.d_head(), at = (static_cast<size_t>(layer) * cfg.n_head + head) * D;
  if (means.size() != static_cast<size_t>(cfg.n_layer) * cfg.n_head * D) {
    throw Error("mean ablation of head " + std::to_string(layer) + "." + std::to_string(head) +
                " needs the heads' mean z (L x H x D)");
  }
  session.set_head_z(layer, head, std::vector<float>(means.begin() + at, means.begin() + at + D));
}

AblationScan ablation_scan(Session& session, AblationMode mode, const std::vector<float>& means,
                           int position, const std::vector<char>& skip, int max_batch_rows) {
  const Model& model = session.model();
  const ModelConfig& cfg = model.config;
  const int L = cfg.n_layer, H = cfg.n_head, C = cfg.n_embd, D = cfg.d_head();
  const size_t LH = static_cast<size_t>(L) * H;
  session.finish_head();
  const Trace& tr = session.trace();
  const int T = tr.T;
  if (T < 2) throw Error("ablation scan: needs at least 2 tokens (a next token to predict)");
  if (position < 0 || position > T - 2) {
    throw Error("ablation scan: position " + std::to_string(position) + " is outside 0.." +
                std::to_string(T - 2) + " (the positions with a next token)");
  }
  if (mode == AblationMode::mean && means.size() != LH * D) {
    throw Error("ablation scan: mean mode needs the heads' mean z (L x H x D)");
  }
  if (!skip.empty() && skip.size() != LH) throw Error("ablation scan: skip needs L x H entries");
  const HeadEdits& base = session.head_edits();
  std::vector<ZReplacement> base_z(LH);  // (L, H) the base edits' replaced z
  for (size_t i = 0; i < LH; i++) base_z[i] = z_replacement_of(base.z[i], D);

  AblationScan scan;
  scan.mode = mode;
  scan.position = position;
  scan.mean_loss = tr.mean_loss;
  scan.logprob = -tr.token_loss[position];
  const float nan = std::numeric_limits<float>::quiet_NaN();
  scan.delta_mean_loss.assign(LH, nan);
  scan.delta_logprob.assign(LH, nan);

  // The last position is left out everywhere: it predicts no token, and
  // causal attention lets it change no other position (its key and value
  // serve its own query only), so positions 0..T-2 come out the same.
  const int Tq = T - 1;
  const int G = std::max(1, std::min(H, max_batch_rows / Tq));  // sequences per batch
  ScanScratch s(cfg, G, Tq);
  SerialRows rows;
  const bool mlp = !cfg.attn_only;
  const size_t TC = static_cast<size_t>(T) * C;    // one layer of the trace
  const size_t QC = static_cast<size_t>(Tq) * C;   // one sequence of the scan
  std::vector<float> base_gained(QC);  // (Tq, C) one layer's c_proj input with the base edits

  for (int l = 0; l < L; l++) {
    std::vector<int> heads;  // this layer's heads to scan
    for (int h = 0; h < H; h++) {
      if (skip.empty() || !skip[static_cast<size_t>(l) * H + h]) heads.push_back(h);
    }
    const size_t lh = static_cast<size_t>(l) * H;
    const float* z = tr.head_z.data() + l * TC;  // (T, C) the base pass's z of layer l
    for (int h = 0; h < H; h++) {
      gained_head_rows(base_gained.data(), z, Tq, C, D, h, base.gains[lh + h], base_z[lh + h]);
    }
    for (size_t first = 0; first < heads.size(); first += G) {
      const int n = static_cast<int>(std::min<size_t>(G, heads.size() - first));
      // Layer l after its attention (c_proj of the edited z, residual, ln_2,
      // the MLP) as the Session's first rerun layer runs it
      // (block_after_qkv_forward, !attend), for the n sequences as one batch
      // of n * Tq rows: sequence i's c_proj input is the base one with head
      // heads[first + i] ablated (gain 0, or its mean z times its gain), made
      // here as the block would make it, so the block runs with no gains.
      // Every step is row-wise (block.h): the bits of a call per head.
      for (int i = 0; i < n; i++) {
        const int h = heads[first + i];
        float* zi = s.z.data() + i * QC;
        std::copy(base_gained.begin(), base_gained.end(), zi);
        if (mode == AblationMode::zero) {
          gained_head_rows(zi, z, Tq, C, D, h, 0.0f, base_z[lh + h]);
        } else {
          gained_head_rows(zi, z, Tq, C, D, h, base.gains[lh + h],
                           ZReplacement{means.data() + (lh + h) * D, 0});
        }
        std::copy(tr.residual.begin() + l * TC, tr.residual.begin() + l * TC + QC,
                  s.x_in.begin() + i * QC);
      }
      const BlockPass pass{cfg, model.weights.layers[l], model.packed[l], n, Tq, nullptr, mlp, rows,
                           nullptr};
      block_after_qkv_forward(pass, s.block(), 0, Tq, /*attend=*/false);
      // The layers above: the n sequences as one batch, with the base edits.
      run_layers_batched(model, l + 1, L, n, Tq, s, base.gains.data(), base_z.data());
      token_losses(model, tr.ids, s.x_out.data(), n, s);
      for (int i = 0; i < n; i++) {
        const int h = heads[first + i];
        const float* loss = s.token_loss.data() + static_cast<size_t>(i) * Tq;  // (Tq)
        const size_t at = static_cast<size_t>(l) * H + h;
        scan.delta_mean_loss[at] = mean_loss_of(loss, T) - tr.mean_loss;
        scan.delta_logprob[at] = tr.token_loss[position] - loss[position];
      }
    }
  }
  return scan;
}

PruningCurve pruning_curve(std::shared_ptr<const Model> model, const std::vector<int>& ids,
                           const PruningOptions& options, const std::vector<float>& means) {
  PruningRun run(std::move(model), ids, options, means);
  while (!run.step(1)) {
  }
  return run.curve();
}

namespace {

std::shared_ptr<const Model> checked_pruning(std::shared_ptr<const Model> model,
                                             const PruningOptions& options) {
  if (options.rescan_every < 1) {
    throw Error("pruning: rescan every " + std::to_string(options.rescan_every) +
                " heads: must be at least 1");
  }
  return model;
}

}  // namespace

PruningRun::PruningRun(std::shared_ptr<const Model> model, const std::vector<int>& ids,
                       const PruningOptions& options, std::vector<float> means)
    : session_(checked_pruning(std::move(model), options), 1),
      options_(options),
      means_(std::move(means)) {
  const ModelConfig& cfg = session_.model().config;
  n_heads_ = cfg.n_layer * cfg.n_head;
  session_.run(ids);
  if (session_.trace().T < 2) throw Error("pruning: needs at least 2 tokens (a next token to predict)");
  curve_.mode = options.mode;
  curve_.rescan_every = options.rescan_every;
  curve_.mean_loss.push_back(session_.trace().mean_loss);
  removed_.assign(n_heads_, 0);
  shuffled_.resize(n_heads_);
  std::iota(shuffled_.begin(), shuffled_.end(), 0);
  Rng rng(options.seed);
  for (int i = n_heads_ - 1; i > 0; i--) std::swap(shuffled_[i], shuffled_[rng.below(i + 1)]);
}

bool PruningRun::step(int n_parts) {
  if (n_parts < 1) throw Error("pruning: a step needs at least 1 part");
  for (int part = 0; part < n_parts && !done(); ++part) {
    if (static_cast<int>(curve_.order.size()) < n_heads_) {
      importance_part();
    } else {
      random_part();
    }
  }
  return done();
}

void PruningRun::remove(int head, std::vector<int>& order, std::vector<float>& losses) {
  const int H = session_.model().config.n_head;
  ablate_head(session_, head / H, head % H, options_.mode, means_);
  session_.update();
  order.push_back(head);
  losses.push_back(session_.trace().mean_loss);
}

void PruningRun::importance_part() {
  const int T = session_.trace().T;
  const AblationScan scan = ablation_scan(session_, options_.mode, means_, T - 2, removed_);
  std::vector<int> remaining;
  for (int i = 0; i < n_heads_; i++) {
    if (!removed_[i]) remaining.push_back(i);
  }
  // Least important first; a NaN delta (an infinite loss) last; ties by index.
  const auto key = [&](int i) {
    const float d = scan.delta_mean_loss[i];
    return std::isnan(d) ? std::numeric_limits<float>::infinity() : d;
  };
  std::stable_sort(remaining.begin(), remaining.end(), [&](int a, int b) { return key(a) < key(b); });
  const int n = std::min<int>(options_.rescan_every, static_cast<int>(remaining.size()));
  for (int i = 0; i < n; i++) {
    removed_[remaining[i]] = 1;
    remove(remaining[i], curve_.order, curve_.mean_loss);
  }
  // The importance order is complete: the random one starts from the unedited model.
  if (static_cast<int>(curve_.order.size()) == n_heads_) {
    session_.clear_head_edits();
    session_.update();
    curve_.random_mean_loss.push_back(session_.trace().mean_loss);
  }
}

void PruningRun::random_part() {
  const size_t begin = curve_.random_order.size();
  const size_t end = std::min(shuffled_.size(), begin + options_.rescan_every);
  for (size_t i = begin; i < end; ++i) remove(shuffled_[i], curve_.random_order, curve_.random_mean_loss);
}

}  // namespace hl
