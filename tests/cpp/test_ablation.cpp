// The exact ablation scan, the pruning curves and resample ablation
// (ablation.h, engine.h) against the plain way: a Session with the edit
// applied and run again. "Exact" means bit for bit, so every comparison here
// is of bits, and each test prints the largest difference it saw (0).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "ablation.h"
#include "analysis.h"
#include "batch_scratch.h"
#include "block.h"
#include "engine.h"
#include "error.h"
#include "fixtures.h"
#include "session.h"

using namespace hl_test;

namespace {

const char* const kFixtures[] = {"tiny-gpt", "tiny-attn-only"};

bool same_float(float a, float b) { return std::memcmp(&a, &b, sizeof(float)) == 0; }

// T ids: a random half repeated (repeated_random_tokens), so that induction
// heads have something to do.
std::vector<int> text_ids(const hl::ModelConfig& cfg, int T, uint64_t seed) {
  std::vector<int> ids = hl::repeated_random_tokens((T + 1) / 2, cfg.vocab_size, {}, seed);
  ids.resize(T);
  return ids;
}

// Base edits the scan must build on: a gain on one head, a mean on another,
// and (T, D) rows per position (resample) on a third.
void apply_base_edits(hl::Session& s, const std::vector<float>& means, int T) {
  const hl::ModelConfig& cfg = s.model().config;
  s.set_head_gain(cfg.n_layer - 1, 2, 0.5f);
  hl::ablate_head(s, 0, 1, hl::AblationMode::mean, means);
  std::vector<float> rows(static_cast<size_t>(T) * cfg.d_head());
  for (size_t i = 0; i < rows.size(); i++) rows[i] = 0.05f * static_cast<float>(i % 13) - 0.3f;
  s.set_head_z(cfg.n_layer - 1, 3, rows);
}

}  // namespace

TEST_CASE("ablation scan: each head's delta equals a manual mute-and-rerun bit for bit") {
  for (const char* name : kFixtures) {
    const auto model = load_fixture(name);
    const hl::ModelConfig& cfg = model->config;
    const int T = 40, H = cfg.n_head;
    const std::vector<int> ids = text_ids(cfg, T, 5);
    const std::vector<float> means = hl::mean_head_z(hl::unedited_head_z(model, ids), cfg, T);
    for (const hl::AblationMode mode : {hl::AblationMode::zero, hl::AblationMode::mean}) {
      for (const bool based : {false, true}) {
        CAPTURE(name);
        CAPTURE(hl::ablation_mode_name(mode));
        CAPTURE(based);
        const int position = based ? 17 : T - 2;
        hl::Session session(model);
        if (based) apply_base_edits(session, means, T);
        session.run(ids);
        const hl::AblationScan scan = hl::ablation_scan(session, mode, means, position);
        CHECK(same_float(scan.mean_loss, session.trace().mean_loss));

        float max_diff = 0.0f, max_delta = 0.0f;
        int same = 0;
        for (int l = 0; l < cfg.n_layer; l++) {
          for (int h = 0; h < H; h++) {
            // The plain way: a fresh session, the base edits and this head's, a full run.
            hl::Session manual(model);
            if (based) apply_base_edits(manual, means, T);
            hl::ablate_head(manual, l, h, mode, means);
            manual.run(ids);
            const hl::Trace& tr = manual.trace();
            const float delta_loss = tr.mean_loss - session.trace().mean_loss;
            const float delta_logprob = session.trace().token_loss[position] - tr.token_loss[position];
            const size_t i = static_cast<size_t>(l) * H + h;
            same += same_float(delta_loss, scan.delta_mean_loss[i]) &&
                    same_float(delta_logprob, scan.delta_logprob[i]);
            max_diff = std::max({max_diff, std::fabs(delta_loss - scan.delta_mean_loss[i]),
                                 std::fabs(delta_logprob - scan.delta_logprob[i])});
            max_delta = std::max(max_delta, std::fabs(delta_loss));
          }
        }
        // Heads in groups of 1 and of 3 (of 4) through the layers above: the same bits.
        int grouped = 0;
        for (const int group : {1, 3}) {
          const hl::AblationScan small =
              hl::ablation_scan(session, mode, means, position, {}, group * (T - 1));
          grouped += std::memcmp(small.delta_mean_loss.data(), scan.delta_mean_loss.data(),
                                 scan.delta_mean_loss.size() * sizeof(float)) == 0 &&
                     std::memcmp(small.delta_logprob.data(), scan.delta_logprob.data(),
                                 scan.delta_logprob.size() * sizeof(float)) == 0;
        }
        CHECK(grouped == 2);
        std::printf("[ablation] %s %s%s: %d of %d heads bit-identical to mute-and-rerun, max "
                    "diff %.3g (largest |delta mean loss| %.3g); groups of 1 and 3 heads: %d of "
                    "2 scans identical\n",
                    name, hl::ablation_mode_name(mode), based ? " on top of edits" : "", same,
                    cfg.n_layer * H, max_diff, max_delta, grouped);
        CHECK(same == cfg.n_layer * H);
        CHECK(max_delta > 0.0f);  // the ablations are real, so the equality is a real check
      }
    }
  }
}

// The scan runs an ablated layer after its attention for all its heads as
// one batch with each sequence's c_proj input made beforehand (its head's
// gain 0 or mean z applied), where the Session runs one head's edit through
// the block's gains: the two must give the same bits, -0 from a negative z
// times 0 included.
TEST_CASE("ablation scan: a layer's heads as one batch equal per-head block passes bit for bit") {
  const auto model = load_fixture("tiny-gpt");
  const hl::ModelConfig& cfg = model->config;
  const int T = 40, Tq = T - 1, H = cfg.n_head, C = cfg.n_embd, D = cfg.d_head(), l = 1;
  const size_t QC = static_cast<size_t>(Tq) * C;
  const std::vector<int> ids = text_ids(cfg, T, 6);
  const std::vector<float> means = hl::mean_head_z(hl::unedited_head_z(model, ids), cfg, T);
  hl::Session session(model);
  session.run(ids);
  const hl::Trace& tr = session.trace();
  const float* residual = tr.residual.data() + static_cast<size_t>(l) * T * C;  // (T, C)
  const float* z = tr.head_z.data() + static_cast<size_t>(l) * T * C;           // (T, C)
  hl::SerialRows rows;
  for (const hl::AblationMode mode : {hl::AblationMode::zero, hl::AblationMode::mean}) {
    CAPTURE(hl::ablation_mode_name(mode));
    // Per head: one sequence, the edit as the block's gains or replaced z.
    std::vector<float> per_head(H * QC);  // (H, Tq, C)
    hl::BatchScratch one(cfg, 1, Tq, /*attention=*/false);
    for (int h = 0; h < H; h++) {
      std::vector<float> gains(H, 1.0f);
      std::vector<hl::ZReplacement> zrep(H);
      if (mode == hl::AblationMode::zero) gains[h] = 0.0f;
      else zrep[h] = hl::ZReplacement{means.data() + (static_cast<size_t>(l) * H + h) * D, 0};
      const hl::BlockPass pass{cfg, model->weights.layers[l], model->packed[l], 1, Tq,
                               gains.data(), true, rows, zrep.data()};
      std::copy(z, z + QC, one.z.begin());
      hl::BlockActivations a = one.block();
      a.input = residual;
      a.residual_2 = a.output = per_head.data() + h * QC;
      hl::block_after_qkv_forward(pass, a, 0, Tq, /*attend=*/false);
    }
    // Batched: H sequences, each with its edited z made first, no gains.
    hl::BatchScratch all(cfg, H, Tq, /*attention=*/false);
    int negative_zeros = 0;
    for (int h = 0; h < H; h++) {
      for (int t = 0; t < Tq; t++) {
        for (int c = 0; c < C; c++) {
          const float* m = means.data() + (static_cast<size_t>(l) * H + h) * D;
          const float own = z[static_cast<size_t>(t) * C + c];
          const bool edited = c / D == h;
          const float v = !edited ? own * 1.0f
                          : mode == hl::AblationMode::zero ? own * 0.0f
                                                           : m[c % D] * 1.0f;
          negative_zeros += v == 0.0f && std::signbit(v);
          all.z[h * QC + static_cast<size_t>(t) * C + c] = v;
        }
      }
      std::copy(residual, residual + QC, all.x_in.begin() + h * QC);
    }
    const hl::BlockPass batch{cfg, model->weights.layers[l], model->packed[l], H, Tq, nullptr,
                              true, rows, nullptr};
    hl::block_after_qkv_forward(batch, all.block(), 0, Tq, /*attend=*/false);
    float max_diff = 0.0f, moved = 0.0f;
    for (size_t i = 0; i < per_head.size(); i++) {
      max_diff = std::max(max_diff, std::fabs(per_head[i] - all.x_out[i]));
    }
    for (size_t i = 0; i < QC; i++) moved = std::max(moved, std::fabs(per_head[QC + i] - per_head[i]));
    std::printf("[ablation batch] %s, layer %d: %d heads x %d rows as one call against one call "
                "per head: max |diff| %.3g (heads 0 and 1 differ by up to %.3g; %d -0 in the "
                "edited z)\n",
                hl::ablation_mode_name(mode), l, H, Tq, max_diff, moved, negative_zeros);
    CHECK(std::memcmp(per_head.data(), all.x_out.data(), per_head.size() * sizeof(float)) == 0);
    CHECK(moved > 0.0f);  // the heads' edits differ, so the equality is a real check
    if (mode == hl::AblationMode::zero) CHECK(negative_zeros > 0);
  }
}

TEST_CASE("ablation scan: skipped heads are NaN, bad positions and modes are named") {
  const auto model = load_fixture("tiny-gpt");
  const hl::ModelConfig& cfg = model->config;
  const std::vector<int> ids = text_ids(cfg, 12, 3);
  hl::Session session(model);
  session.run(ids);
  std::vector<char> skip(static_cast<size_t>(cfg.n_layer) * cfg.n_head, 0);
  skip[1] = 1;
  const hl::AblationScan scan = hl::ablation_scan(session, hl::AblationMode::zero, {}, 3, skip);
  CHECK(std::isnan(scan.delta_mean_loss[1]));
  CHECK(!std::isnan(scan.delta_mean_loss[0]));
  std::string messages;
  for (int position : {-1, 11}) {
    try {
      hl::ablation_scan(session, hl::AblationMode::zero, {}, position);
    } catch (const hl::Error& e) {
      messages += std::string(e.what()) + "\n";
    }
  }
  try {
    hl::parse_ablation_mode("half");
  } catch (const hl::Error& e) {
    messages += e.what();
  }
  std::printf("[ablation] errors:\n%s\n", messages.c_str());
  CHECK(messages.find("position -1 is outside 0..10") != std::string::npos);
  CHECK(messages.find("position 11 is outside 0..10") != std::string::npos);
  CHECK(messages.find("unknown ablation mode 'half' (expected zero or mean)") != std::string::npos);
}

// Runs body(name, model, ids, means, options) for each fixture and both
// modes, on T tokens of text_ids(seed), re-scanning every 3 removals.
template <typename Body>
void for_each_pruning_setup(int T, uint64_t seed, Body&& body) {
  for (const char* name : kFixtures) {
    const auto model = load_fixture(name);
    const hl::ModelConfig& cfg = model->config;
    const std::vector<int> ids = text_ids(cfg, T, seed);
    const std::vector<float> means = hl::mean_head_z(hl::unedited_head_z(model, ids), cfg, T);
    for (const hl::AblationMode mode : {hl::AblationMode::zero, hl::AblationMode::mean}) {
      CAPTURE(name);
      CAPTURE(hl::ablation_mode_name(mode));
      hl::PruningOptions options;
      options.mode = mode;
      options.rescan_every = 3;
      body(name, model, ids, means, options);
    }
  }
}

TEST_CASE("pruning curve: point k equals a run with the first k heads removed") {
  const int T = 32;
  for_each_pruning_setup(T, 9, [&](const char* name, const std::shared_ptr<const hl::Model>& model,
                                 const std::vector<int>& ids, const std::vector<float>& means,
                                 hl::PruningOptions options) {
    const hl::ModelConfig& cfg = model->config;
    const int LH = cfg.n_layer * cfg.n_head;
    const hl::AblationMode mode = options.mode;
    const hl::PruningCurve curve = hl::pruning_curve(model, ids, options, means);
    REQUIRE(curve.order.size() == static_cast<size_t>(LH));
    REQUIRE(curve.mean_loss.size() == static_cast<size_t>(LH + 1));
    REQUIRE(curve.random_mean_loss.size() == static_cast<size_t>(LH + 1));
    // Both orders hold every head once.
    for (const std::vector<int>* order : {&curve.order, &curve.random_order}) {
      std::vector<int> sorted = *order;
      std::sort(sorted.begin(), sorted.end());
      std::vector<int> all(LH);
      std::iota(all.begin(), all.end(), 0);
      CHECK(sorted == all);
    }
    // The first removal of each scan is the head the scan found least important.
    hl::Session first(model);
    first.run(ids);
    const hl::AblationScan scan = hl::ablation_scan(first, mode, means, T - 2);
    const float least = *std::min_element(scan.delta_mean_loss.begin(), scan.delta_mean_loss.end());
    CHECK(same_float(scan.delta_mean_loss[curve.order[0]], least));

    int same = 0;
    float max_diff = 0.0f;
    for (const auto& [order, losses] :
         {std::make_pair(&curve.order, &curve.mean_loss),
          std::make_pair(&curve.random_order, &curve.random_mean_loss)}) {
      for (int k = 0; k <= LH; k++) {
        hl::Session fresh(model);
        for (int i = 0; i < k; i++) {
          hl::ablate_head(fresh, (*order)[i] / cfg.n_head, (*order)[i] % cfg.n_head, mode, means);
        }
        fresh.run(ids);
        same += same_float(fresh.trace().mean_loss, (*losses)[k]);
        max_diff = std::max(max_diff, std::fabs(fresh.trace().mean_loss - (*losses)[k]));
      }
    }
    std::printf("[pruning] %s %s: %d of %d points equal a fresh run (max diff %.3g); loss %.4f "
                "-> half removed %.4f (random %.4f) -> all removed %.4f\n",
                name, hl::ablation_mode_name(mode), same, 2 * (LH + 1), max_diff,
                curve.mean_loss[0], curve.mean_loss[LH / 2], curve.random_mean_loss[LH / 2],
                curve.mean_loss[LH]);
    CHECK(same == 2 * (LH + 1));
    CHECK(same_float(curve.mean_loss[0], first.trace().mean_loss));
    CHECK(same_float(curve.random_mean_loss[0], first.trace().mean_loss));
    // The same seed gives the same random order; another seed another one.
    const hl::PruningCurve again = hl::pruning_curve(model, ids, options, means);
    options.seed = 2;
    const hl::PruningCurve other = hl::pruning_curve(model, ids, options, means);
    CHECK(again.random_order == curve.random_order);
    CHECK(other.random_order != curve.random_order);
  });
}

TEST_CASE("pruning in parts: any grouping of the parts gives the whole curve, bit for bit") {
  for_each_pruning_setup(24, 5, [&](const char* name, const std::shared_ptr<const hl::Model>& model,
                                  const std::vector<int>& ids, const std::vector<float>& means,
                                  const hl::PruningOptions& options) {
    const int LH = model->config.n_layer * model->config.n_head;
    const hl::AblationMode mode = options.mode;
    const hl::PruningCurve whole = hl::pruning_curve(model, ids, options, means);
    for (const int parts : {1, 2, 5, 1000}) {
      hl::PruningRun run(model, ids, options, means);
      int steps = 0, last_removed = 0;
      bool growing = true;
      while (!run.step(parts)) {
        ++steps;
        growing = growing && run.removed() > last_removed && run.removed() < run.total();
        last_removed = run.removed();
      }
      const hl::PruningCurve& curve = run.curve();
      int same = 0;
      for (int k = 0; k <= LH; ++k) {
        same += same_float(curve.mean_loss[k], whole.mean_loss[k]);
        same += same_float(curve.random_mean_loss[k], whole.random_mean_loss[k]);
      }
      std::printf("[pruning parts] %s %s, %d part(s) a step: %d steps before the last, "
                  "%d of %d points equal the whole curve's\n",
                  name, hl::ablation_mode_name(mode), parts, steps, same, 2 * (LH + 1));
      CHECK(growing);
      CHECK(run.removed() == run.total());
      CHECK(run.total() == 2 * LH);
      CHECK(curve.order == whole.order);
      CHECK(curve.random_order == whole.random_order);
      CHECK(same == 2 * (LH + 1));
    }
  });
  // Through the engine, which holds the run between calls: its trace stays.
  for (const char* name : kFixtures) {
    const auto model = load_fixture(name);
    const std::vector<int> ids = text_ids(model->config, 24, 5);
    hl::Engine engine(model);
    engine.run(ids, 1);
    hl::PruningOptions options;
    const hl::PruningCurve whole = engine.pruning_curve(options, {});
    const float loss_before = engine.trace().mean_loss;
    CHECK_THROWS_WITH(hl::Engine(model).step_pruning(1), "no pruning run: call start_pruning() first");
    engine.start_pruning(options, {});
    int calls = 0;
    while (!engine.step_pruning(2).done()) ++calls;
    const hl::PruningCurve& curve = engine.step_pruning(1).curve();
    std::printf("[pruning parts] %s engine: %d calls; orders equal %d %d\n", name, calls + 1,
                curve.order == whole.order, curve.random_order == whole.random_order);
    CHECK(curve.order == whole.order);
    CHECK(curve.random_order == whole.random_order);
    CHECK(curve.mean_loss == whole.mean_loss);
    CHECK(curve.random_mean_loss == whole.random_mean_loss);
    CHECK(same_float(engine.trace().mean_loss, loss_before));
  }
}

TEST_CASE("resample ablation equals running with z from the other text's unedited trace") {
  for (const char* name : kFixtures) {
    CAPTURE(name);
    const auto model = load_fixture(name);
    const hl::ModelConfig& cfg = model->config;
    const int T = 24, D = cfg.d_head(), C = cfg.n_embd;
    const std::vector<int> ids = text_ids(cfg, T, 4), other = text_ids(cfg, T, 8);
    const int l = cfg.n_layer - 1, h = 1;

    hl::Engine engine(model);
    engine.run(ids, 3);
    engine.set_head_resample(l, h, other);
    engine.update();

    // The plain way: the other text's unedited trace, head (l, h)'s z copied row by row.
    hl::Session unedited(model);
    unedited.run(other);
    std::vector<float> rows(static_cast<size_t>(T) * D);
    for (int t = 0; t < T; t++) {
      const float* z = unedited.trace().head_z.data() + (static_cast<size_t>(l) * T + t) * C + h * D;
      std::copy(z, z + D, rows.begin() + static_cast<size_t>(t) * D);
    }
    hl::Session manual(model);
    manual.set_head_z(l, h, rows);
    manual.run(ids);
    hl::Session plain(model);
    plain.run(ids);

    const hl::Trace& tr = engine.trace();
    float max_diff = 0.0f, moved = 0.0f;
    for (size_t i = 0; i < tr.logits.size(); i++) {
      max_diff = std::max(max_diff, std::fabs(tr.logits[i] - manual.trace().logits[i]));
      moved = std::max(moved, std::fabs(tr.logits[i] - plain.trace().logits[i]));
    }
    std::printf("[resample] %s: head %d.%d from another text: logits moved %.3g, max diff to the "
                "manual copy %.3g\n",
                name, l, h, moved, max_diff);
    CHECK(std::memcmp(tr.logits.data(), manual.trace().logits.data(),
                      tr.logits.size() * sizeof(float)) == 0);
    CHECK(same_float(tr.mean_loss, manual.trace().mean_loss));
    CHECK(moved > 0.0f);

    // A text of another length is refused, naming the head.
    std::string message;
    try {
      engine.run(text_ids(cfg, T + 1, 4), 3);
    } catch (const hl::Error& e) {
      message = e.what();
    }
    std::printf("[resample] another length: %s\n", message.c_str());
    CHECK(message.find("head " + std::to_string(l) + ".1 has 24 positions") != std::string::npos);

    // Mean ablation through the engine: the mean over the reference text's positions.
    hl::Engine mean_engine(model);
    mean_engine.set_head_mean(0, 2, other);
    mean_engine.run(ids, 3);
    const std::vector<float>& z = mean_engine.head_edits().z[2];
    double sum = 0.0;
    for (int t = 0; t < T; t++) sum += unedited.trace().head_z[static_cast<size_t>(t) * C + 2 * D];
    std::printf("[mean] %s: head 0.2 z[0] = %.7g, mean over the reference %.7g\n", name, z[0],
                sum / T);
    CHECK(z.size() == static_cast<size_t>(D));
    CHECK(same_float(z[0], static_cast<float>(sum / T)));
  }
}
