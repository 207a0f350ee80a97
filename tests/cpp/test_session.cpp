// Session: head edits, incremental reruns (bit-exact), truncation, errors,
// top-k and losses, on the two fixture models (MLP and attention-only).
// The comparison with the float64 reference is tests/node/forward.test.mjs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "error.h"
#include "fixtures.h"
#include "kernels.h"
#include "model.h"
#include "session.h"

using namespace hl_test;

namespace {

// Deterministic token ids in [0, vocab) (a 32-bit LCG; no <random> so the
// sequence is the same on every standard library).
std::vector<int> make_ids(int n, int vocab, uint32_t seed) {
  std::vector<int> ids(n);
  for (int& id : ids) {
    seed = seed * 1664525u + 1013904223u;
    id = static_cast<int>((seed >> 8) % static_cast<uint32_t>(vocab));
  }
  return ids;
}

template <typename T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// Every buffer of the trace, compared bit for bit.
void check_traces_identical(const hl::Trace& a, const hl::Trace& b) {
  CHECK(a.T == b.T);
  CHECK(same_bits(a.ids, b.ids));
  CHECK(same_bits(a.residual, b.residual));
  CHECK(same_bits(a.attn_probs, b.attn_probs));
  CHECK(same_bits(a.head_z, b.head_z));
  CHECK(same_bits(a.logits, b.logits));
  CHECK(same_bits(a.top_k_ids, b.top_k_ids));
  CHECK(same_bits(a.top_k_probs, b.top_k_probs));
  CHECK(same_bits(a.token_loss, b.token_loss));
  CHECK(std::memcmp(&a.mean_loss, &b.mean_loss, sizeof(float)) == 0);
}

float max_abs_diff(const float* a, const float* b, size_t n) {
  float m = 0.0f;
  for (size_t i = 0; i < n; i++) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const hl::Error& e) {
    return e.what();
  }
  return "(no error)";
}

const char* const kFixtures[] = {"tiny-gpt", "tiny-attn-only"};

}  // namespace

TEST_CASE("session: gain 1 is a no-op, bit for bit") {
  for (const char* name : kFixtures) {
    CAPTURE(name);
    const auto model = load_fixture(name);
    const hl::ModelConfig& cfg = model->config;
    const std::vector<int> ids = make_ids(std::min(cfg.n_positions, 24), cfg.vocab_size, 7);

    hl::Session plain(model);
    plain.run(ids);

    hl::Session edited(model);
    for (int l = 0; l < cfg.n_layer; l++)
      for (int h = 0; h < cfg.n_head; h++) edited.set_head_gain(l, h, 1.0f);
    edited.run(ids);
    check_traces_identical(plain.trace(), edited.trace());

    // Away and back: 0.5 then 1 again must restore the unedited trace exactly.
    edited.set_head_gain(0, cfg.n_head - 1, 0.5f);
    CHECK(edited.update() == 0);
    const float moved = max_abs_diff(edited.trace().logits.data(), plain.trace().logits.data(),
                                     plain.trace().logits.size());
    edited.set_head_gain(0, cfg.n_head - 1, 1.0f);
    CHECK(edited.update() == 0);
    check_traces_identical(plain.trace(), edited.trace());
    std::printf(
        "[session] %s: gain 0.5 on head 0.%d moved logits by %.3g; gain 1 restores them "
        "bit for bit\n",
        name, cfg.n_head - 1, moved);
    CHECK(moved > 0.0f);  // the edit is real, so the restore above is a real check

    // Setting a gain to its current value marks nothing dirty.
    edited.set_head_gain(cfg.n_layer - 1, 0, 1.0f);
    CHECK(edited.update() == cfg.n_layer);
  }
}

TEST_CASE("session: rerun from the edited layer equals a full run bit for bit") {
  for (const char* name : kFixtures) {
    CAPTURE(name);
    const auto model = load_fixture(name);
    const hl::ModelConfig& cfg = model->config;
    const std::vector<int> ids = make_ids(std::min(cfg.n_positions, 33), cfg.vocab_size, 11);

    for (int l = 0; l < cfg.n_layer; l++) {
      for (float gain : {0.0f, 0.5f, -1.25f}) {
        CAPTURE(l);
        CAPTURE(gain);
        const int h = (l * 3 + 1) % cfg.n_head;
        hl::Session incremental(model);
        incremental.run(ids);
        const std::vector<float> before = incremental.trace().logits;
        incremental.set_head_gain(l, h, gain);
        CHECK(incremental.update() == l);
        CHECK(!same_bits(before, incremental.trace().logits));

        hl::Session full(model);
        full.set_head_gain(l, h, gain);
        full.run(ids);
        check_traces_identical(full.trace(), incremental.trace());
      }
    }

    // Edits in several layers, rerun explicitly from a later layer: the rerun
    // still starts at the lowest edit, so the trace never lags the gains.
    hl::Session incremental(model);
    incremental.run(ids);
    hl::Session full(model);
    for (int l = 0; l < cfg.n_layer; l++) {
      incremental.set_head_gain(l, l % cfg.n_head, 0.25f);
      full.set_head_gain(l, l % cfg.n_head, 0.25f);
    }
    incremental.rerun_from(cfg.n_layer);
    full.run(ids);
    check_traces_identical(full.trace(), incremental.trace());

    // rerun_from with nothing edited recomputes identically.
    incremental.rerun_from(0);
    check_traces_identical(full.trace(), incremental.trace());
    std::printf(
        "[session] %s: rerun from each of %d layers == full run (memcmp of residual, "
        "attn, z, logits, top-k, loss)\n",
        name, cfg.n_layer);
  }
}

TEST_CASE("session: a chain of reruns that reuse cached attention equals a full run") {
  // Each rerun takes the first rerun layer's attention from the trace, as the
  // pass before left it: the cache must stay right across any order of edits
  // (a lower layer after a higher one, back to 1, the same layer twice).
  for (const char* name : kFixtures) {
    CAPTURE(name);
    const auto model = load_fixture(name);
    const hl::ModelConfig& cfg = model->config;
    const std::vector<int> ids = make_ids(std::min(cfg.n_positions, 29), cfg.vocab_size, 13);
    hl::Session incremental(model);
    incremental.run(ids);
    const int L = cfg.n_layer, H = cfg.n_head;
    const struct {
      int layer, head;
      float gain;
    } steps[] = {{L - 1, 0, 0.0f}, {0, H - 1, 0.0f},  {L / 2, 1 % H, 1.5f},
                 {0, H - 1, 1.0f}, {L - 1, 0, 1.0f}, {L / 2, 1 % H, 0.0f},
                 {0, 0, 0.0f},     {0, 0, 0.0f},     {L - 1, H - 1, -0.5f}};
    int step = 0;
    for (const auto& e : steps) {
      CAPTURE(step);
      incremental.set_head_gain(e.layer, e.head, e.gain);
      incremental.update();
      hl::Session full(model);
      for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++) full.set_head_gain(l, h, incremental.head_gain(l, h));
      full.run(ids);
      check_traces_identical(full.trace(), incremental.trace());
      step++;
    }
  }
}

TEST_CASE("session: update_at(t) then finish_head() equals a full run bit for bit") {
  for (const char* name : kFixtures) {
    CAPTURE(name);
    const auto model = load_fixture(name);
    const hl::ModelConfig& cfg = model->config;
    const int V = cfg.vocab_size;
    const std::vector<int> ids = make_ids(std::min(cfg.n_positions, 31), V, 17);
    const int T = static_cast<int>(ids.size());
    int checked = 0;
    for (int l = 0; l < cfg.n_layer; l++) {
      for (int t : {T - 1, 0, T / 2}) {
        CAPTURE(l);
        CAPTURE(t);
        const int h = (l * 5 + 2) % cfg.n_head;
        hl::Session full(model);
        full.set_head_gain(l, h, 0.0f);
        full.run(ids);
        const hl::Trace& want = full.trace();

        hl::Session two(model);
        two.run(ids);
        const std::vector<float> before = two.trace().logits;
        two.set_head_gain(l, h, 0.0f);
        CHECK(two.update_at(t) == l);
        CHECK(two.head_pending());
        // Position t is final already: its logits row, top-k and loss.
        const hl::Trace& got = two.trace();
        const size_t K = got.top_k;
        CHECK(std::memcmp(got.logits.data() + t * V, want.logits.data() + t * V,
                          V * sizeof(float)) == 0);
        CHECK(std::memcmp(got.top_k_ids.data() + t * K, want.top_k_ids.data() + t * K,
                          K * sizeof(int)) == 0);
        CHECK(std::memcmp(got.top_k_probs.data() + t * K, want.top_k_probs.data() + t * K,
                          K * sizeof(float)) == 0);
        CHECK(std::memcmp(&got.token_loss[t], &want.token_loss[t], sizeof(float)) == 0);
        // The other rows are still the previous pass (the edit is real).
        const int other = t == 0 ? T - 1 : 0;
        CHECK(std::memcmp(got.logits.data() + other * V, before.data() + other * V,
                          V * sizeof(float)) == 0);
        CHECK(!same_bits(got.logits, want.logits));
        two.finish_head();
        CHECK(!two.head_pending());
        check_traces_identical(want, two.trace());
        checked++;
      }
    }

    // Two update_at() before one finish_head(), at different positions, then
    // an update() with nothing edited: it finishes the head.
    hl::Session full(model);
    full.set_head_gain(0, 0, 0.0f);
    full.set_head_gain(cfg.n_layer - 1, 1 % cfg.n_head, 2.0f);
    full.run(ids);
    hl::Session two(model);
    two.run(ids);
    two.set_head_gain(cfg.n_layer - 1, 1 % cfg.n_head, 2.0f);
    CHECK(two.update_at(1) == cfg.n_layer - 1);
    two.set_head_gain(0, 0, 0.0f);
    CHECK(two.update_at(T - 2) == 0);
    CHECK(two.update() == cfg.n_layer);
    CHECK(!two.head_pending());
    check_traces_identical(full.trace(), two.trace());
    // A gain set between the phases: finish_head() completes the pass with
    // the gains it started with; the next update() reruns for the new one.
    {
      const int last = cfg.n_layer - 1;
      hl::Session want_old(model), want_new(model), split(model);
      want_old.set_head_gain(last, 0, 0.0f);
      want_old.run(ids);
      want_new.set_head_gain(last, 0, 0.0f);
      want_new.set_head_gain(last, 1 % cfg.n_head, 0.5f);
      want_new.run(ids);
      split.run(ids);
      split.set_head_gain(last, 0, 0.0f);
      CHECK(split.update_at(T / 3) == last);
      split.set_head_gain(last, 1 % cfg.n_head, 0.5f);
      split.finish_head();
      check_traces_identical(want_old.trace(), split.trace());
      CHECK(split.update() == last);
      check_traces_identical(want_new.trace(), split.trace());
      // And an update_at() right after an update_at(): the first is finished, then rerun.
      split.set_head_gain(last, 1 % cfg.n_head, 1.0f);
      CHECK(split.update_at(2) == last);
      split.set_head_gain(0, 0, 0.0f);
      CHECK(split.update_at(T - 1) == 0);
      split.finish_head();
      hl::Session want(model);
      want.set_head_gain(last, 0, 0.0f);
      want.set_head_gain(0, 0, 0.0f);
      want.run(ids);
      check_traces_identical(want.trace(), split.trace());
    }

    // Nothing edited: update_at() has nothing to rerun and leaves nothing pending.
    CHECK(two.update_at(0) == cfg.n_layer);
    CHECK(!two.head_pending());
    check_traces_identical(full.trace(), two.trace());
    std::printf(
        "[session] %s: update_at(t) + finish_head() == full run at %d (layer, position) "
        "pairs (memcmp of every trace buffer)\n",
        name, checked);
  }
}

TEST_CASE("session: muting every head of the attention-only model leaves a bigram model") {
  const auto model = load_fixture("tiny-attn-only");
  const hl::ModelConfig& cfg = model->config;
  REQUIRE(cfg.attn_only);
  const int T = std::min(cfg.n_positions, 12);
  const int V = cfg.vocab_size;
  // Two sequences that share the token at every third position and differ elsewhere.
  std::vector<int> a = make_ids(T, V, 101), b = make_ids(T, V, 202);
  for (int t = 0; t < T; t += 3) b[t] = a[t];
  for (int t = 1; t < T; t += 3) {
    if (b[t] == a[t]) b[t] = (a[t] + 1) % V;
  }

  const auto logits_at = [&](const hl::Session& s, int t) {
    return s.trace().logits.data() + static_cast<size_t>(t) * V;
  };

  hl::Session sa(model), sb(model);
  for (int l = 0; l < cfg.n_layer; l++) {
    for (int h = 0; h < cfg.n_head; h++) {
      sa.set_head_gain(l, h, 0.0f);
      sb.set_head_gain(l, h, 0.0f);
    }
  }
  sa.run(a);
  sb.run(b);
  float worst_shared = 0.0f;
  for (int t = 3; t < T; t += 3) {
    worst_shared = std::max(worst_shared, max_abs_diff(logits_at(sa, t), logits_at(sb, t), V));
  }
  // Same check without the edit: the prefix must matter, or the test proves nothing.
  hl::Session ua(model), ub(model);
  ua.run(a);
  ub.run(b);
  float unmuted = 0.0f;
  for (int t = 3; t < T; t += 3) {
    unmuted = std::max(unmuted, max_abs_diff(logits_at(ua, t), logits_at(ub, t), V));
  }
  std::printf(
      "[session] all heads muted: logits at shared (token, position) differ by %.3g "
      "(unmuted: %.3g)\n",
      worst_shared, unmuted);
  CHECK(worst_shared == 0.0f);
  CHECK(unmuted > 1e-3f);

  // And a differing token at the same position does change them.
  CHECK(max_abs_diff(logits_at(sa, 1), logits_at(sb, 1), V) > 0.0f);
}

TEST_CASE("session: input longer than n_positions is truncated and says so") {
  const auto model = load_fixture("tiny-gpt");
  const hl::ModelConfig& cfg = model->config;
  const int P = cfg.n_positions;
  const std::vector<int> long_ids = make_ids(P + 5, cfg.vocab_size, 5);
  hl::Session s(model);
  s.run(long_ids);
  CHECK(s.trace().T == P);
  CHECK(s.trace().truncated);
  CHECK(s.trace().n_input_tokens == P + 5);
  CHECK(s.trace().ids == std::vector<int>(long_ids.begin(), long_ids.begin() + P));

  hl::Session exact(model);
  exact.run(std::vector<int>(long_ids.begin(), long_ids.begin() + P));
  CHECK(!exact.trace().truncated);
  CHECK(exact.trace().n_input_tokens == P);
  check_traces_identical(exact.trace(), s.trace());
  // The next run is shorter: buffers shrink to its T.
  s.run({1, 2, 3});
  CHECK(s.trace().T == 3);
  CHECK(!s.trace().truncated);
  CHECK(s.trace().attn_probs.size() == static_cast<size_t>(cfg.n_layer) * cfg.n_head * 3 * 3);
}

TEST_CASE("session: errors name the problem") {
  const auto model = load_fixture("tiny-attn-only");
  const hl::ModelConfig& cfg = model->config;
  const std::string shape = "model has " + std::to_string(cfg.n_layer) + " layers x " +
                            std::to_string(cfg.n_head) + " heads";
  hl::Session s(model);

  CHECK(error_of([&] { s.run({}); }) == "empty input: nothing to run");
  const std::string bad_id = error_of([&] { s.run({1, 2, cfg.vocab_size}); });
  CHECK(bad_id.find("position 2") != std::string::npos);
  CHECK(bad_id.find(std::to_string(cfg.vocab_size)) != std::string::npos);
  CHECK(error_of([&] { s.run({-1}); }).find("position 0") != std::string::npos);

  const std::string over = std::to_string(cfg.n_layer) + ".0";
  CHECK(error_of([&] { s.set_head_gain(cfg.n_layer, 0, 0.0f); }) ==
        "head " + over + " out of range: " + shape);
  const std::string head_over = "0." + std::to_string(cfg.n_head);
  CHECK(error_of([&] { s.set_head_gain(0, cfg.n_head, 0.0f); }) ==
        "head " + head_over + " out of range: " + shape);
  CHECK(error_of([&] { s.set_head_gain(-1, 0, 0.0f); }).find("head -1.0 out of range") == 0);
  CHECK(error_of([&] { s.head_gain(0, -2); }).find("head 0.-2 out of range") == 0);
  CHECK(error_of([&] { s.set_head_gain(1, 1, NAN); }).find("head 1.1") != std::string::npos);
  CHECK(error_of([&] { s.set_head_gain(1, 1, INFINITY); }).find("finite") != std::string::npos);
  CHECK(error_of([&] { s.rerun_from(0); }).find("run a text first") != std::string::npos);
  CHECK(error_of([&] { s.update_at(0); }).find("run a text first") != std::string::npos);
  s.run({1, 2, 3});
  CHECK(error_of([&] { s.update_at(3); }) == "position 3 is outside the 3 tokens run");
  CHECK(error_of([&] { s.update_at(-1); }) == "position -1 is outside the 3 tokens run");
  CHECK(error_of([&] { s.rerun_from(cfg.n_layer + 1); }).find("layer") != std::string::npos);
  CHECK(error_of([&] { hl::Session(model, 0); }).find("top_k") != std::string::npos);
  // A rejected edit leaves the gains unchanged.
  for (float g : s.head_gains()) CHECK(g == 1.0f);

  // A tokenizer larger than config vocab_size is refused, naming both.
  std::string config = fixture_file("tiny-attn-only", "config.json");
  const std::string key = "\"vocab_size\": " + std::to_string(cfg.vocab_size);
  const size_t at = config.find(key);
  if (at != std::string::npos) {
    config.replace(at, key.size(), "\"vocab_size\": 8");
    const std::string msg = error_of([&] { load_fixture("tiny-attn-only", config); });
    std::printf("[session] small vocab_size: %s\n", msg.c_str());
    CHECK(msg.find("vocab_size") != std::string::npos);
    CHECK(msg.find("vocab.json") != std::string::npos);
  } else {
    FAIL_CHECK("fixture config.json does not spell '" << key << "'");
  }
}

TEST_CASE("session: top-k is sorted, probabilities agree with the logits, loss is -log p") {
  for (const char* name : kFixtures) {
    CAPTURE(name);
    const auto model = load_fixture(name);
    const hl::ModelConfig& cfg = model->config;
    const int V = cfg.vocab_size;
    const std::vector<int> ids = make_ids(std::min(cfg.n_positions, 20), V, 3);
    hl::Session s(model, 7);
    s.run(ids);
    const hl::Trace& tr = s.trace();
    const int T = tr.T, K = tr.top_k;
    REQUIRE(K == std::min(7, V));

    double worst_prob = 0.0, worst_loss = 0.0, loss_sum = 0.0;
    for (int t = 0; t < T; t++) {
      const float* row = tr.logits.data() + static_cast<size_t>(t) * V;
      double max = row[0];
      for (int v = 0; v < V; v++) max = std::max(max, static_cast<double>(row[v]));
      double sum = 0.0;
      for (int v = 0; v < V; v++) sum += std::exp(row[v] - max);
      const double log_z = max + std::log(sum);

      const int* top_ids = tr.top_k_ids.data() + static_cast<size_t>(t) * K;
      const float* top_probs = tr.top_k_probs.data() + static_cast<size_t>(t) * K;
      double prob_sum = 0.0;
      for (int k = 0; k < K; k++) {
        if (k > 0) CHECK(top_probs[k] <= top_probs[k - 1]);
        if (k > 0) CHECK(row[top_ids[k]] <= row[top_ids[k - 1]]);
        worst_prob =
            std::max(worst_prob, std::fabs(top_probs[k] - std::exp(row[top_ids[k]] - log_z)));
        prob_sum += top_probs[k];
      }
      CHECK(prob_sum <= 1.0 + 1e-6);
      // Nothing outside the top-k beats its last entry.
      for (int v = 0; v < V; v++) {
        if (std::find(top_ids, top_ids + K, v) == top_ids + K) CHECK(row[v] <= row[top_ids[K - 1]]);
      }
      if (t + 1 < T) {
        const double loss = log_z - row[ids[t + 1]];
        worst_loss = std::max(worst_loss, std::fabs(tr.token_loss[t] - loss));
        loss_sum += loss;
      } else {
        CHECK(std::isnan(tr.token_loss[t]));
      }
    }
    const double mean_err = std::fabs(tr.mean_loss - loss_sum / (T - 1));
    std::printf(
        "[session] %s: top-k prob max abs error %.3g, loss max abs error %.3g, mean loss "
        "%.4f (error %.3g)\n",
        name, worst_prob, worst_loss, tr.mean_loss, mean_err);
    CHECK(worst_prob <= 1e-6);
    CHECK(worst_loss <= 1e-5);
    CHECK(mean_err <= 1e-5);

    s.run({ids[0]});  // one token: no next-token loss
    CHECK(std::isnan(s.trace().mean_loss));
    CHECK(std::isnan(s.trace().token_loss[0]));
  }
}

// A replaced z (mean and resample ablation, HeadEdits) acts after its layer's
// attention, as a gain does: an incremental rerun, and update_at() then
// finish_head(), must equal a full run with the same edits bit for bit.
TEST_CASE("session: a replaced z reruns bit for bit like a full run") {
  for (const char* name : kFixtures) {
    CAPTURE(name);
    const auto model = load_fixture(name);
    const hl::ModelConfig& cfg = model->config;
    const int T = std::min(cfg.n_positions, 29), D = cfg.d_head();
    const std::vector<int> ids = make_ids(T, cfg.vocab_size, 23);
    hl::Session plain(model);
    plain.run(ids);
    // A (D) vector for every position (a mean) and a (T, D) block (resample).
    std::vector<float> mean(D), rows(static_cast<size_t>(T) * D);
    for (int d = 0; d < D; d++) mean[d] = 0.01f * static_cast<float>(d % 7) - 0.03f;
    for (size_t i = 0; i < rows.size(); i++) rows[i] = 0.02f * static_cast<float>(i % 11) - 0.1f;

    for (int l = 0; l < cfg.n_layer; l++) {
      CAPTURE(l);
      const int h = (l + 2) % cfg.n_head;
      hl::Session edited(model);
      edited.run(ids);
      edited.set_head_gain(cfg.n_layer - 1, 1, 0.5f);  // a gain beside the replacements
      edited.set_head_z(l, h, mean);
      edited.set_head_z(cfg.n_layer - 1, 0, rows);
      CHECK(edited.update() == std::min(l, cfg.n_layer - 1));
      hl::Session full(model);
      full.set_head_edits(edited.head_edits());
      full.run(ids);
      check_traces_identical(edited.trace(), full.trace());
      // The trace's head_z is z before edits: layers up to l keep theirs.
      const size_t upto = static_cast<size_t>(l + 1) * T * cfg.n_embd;
      CHECK(std::memcmp(edited.trace().head_z.data(), plain.trace().head_z.data(),
                        upto * sizeof(float)) == 0);
      const float moved = max_abs_diff(edited.trace().logits.data(), plain.trace().logits.data(),
                                       plain.trace().logits.size());
      CHECK(moved > 0.0f);

      // Two phases: update_at(t), finish_head().
      hl::Session phased(model);
      phased.run(ids);
      phased.set_head_edits(edited.head_edits());
      phased.update_at(T / 2);
      phased.finish_head();
      check_traces_identical(phased.trace(), full.trace());

      // Back to the head's own z: the unedited trace, bit for bit.
      edited.clear_head_edits();
      CHECK(!edited.edited());
      edited.update();
      check_traces_identical(edited.trace(), plain.trace());
      std::printf("[session] %s: z of %d.%d replaced by a mean, of %d.0 per position: logits "
                  "moved %.3g; rerun, two-phase and restore bit for bit\n",
                  name, l, h, cfg.n_layer - 1, moved);
    }
  }
}

TEST_CASE("session: a replaced z of the wrong size or length names the head") {
  const auto model = load_fixture("tiny-gpt");
  const hl::ModelConfig& cfg = model->config;
  const int D = cfg.d_head();
  hl::Session s(model);
  const std::string size = error_of([&] { s.set_head_z(1, 2, std::vector<float>(D + 1)); });
  const std::string range = error_of([&] { s.set_head_z(2, 0, std::vector<float>(D)); });
  std::vector<float> nan_z(D, 0.0f);
  nan_z[1] = NAN;
  const std::string nan = error_of([&] { s.set_head_z(0, 3, nan_z); });
  s.set_head_z(1, 3, std::vector<float>(static_cast<size_t>(5) * D, 0.0f));  // 5 positions
  const std::string length = error_of([&] { s.run(make_ids(7, cfg.vocab_size, 1)); });
  std::printf("[session] errors:\n  %s\n  %s\n  %s\n  %s\n", size.c_str(), range.c_str(),
              nan.c_str(), length.c_str());
  CHECK(size.find("head 1.2") != std::string::npos);
  CHECK(range.find("head 2.0 out of range") != std::string::npos);
  CHECK(nan.find("head 0.3") != std::string::npos);
  CHECK(length.find("head 1.3 has 5 positions, the text 7") != std::string::npos);
  CHECK(s.trace().T == 0);  // the refused run left no trace
  s.run(make_ids(5, cfg.vocab_size, 1));  // the right length runs
  CHECK(s.trace().T == 5);
}

TEST_CASE("session: log_softmax_rows gives each row log_softmax_row's bits, the exps of exp_forward and the sum of them") {
  // The definition: the max by std::max in order, e = exp_forward(row - max)
  // (the same bits as the kernel's exps), their sum in double in order. The
  // kernel sums blocks of 8 batches in float lanes before double, so its sum
  // may differ by a few float ulps of the block sums: at most 1e-6 relative.
  const auto reference = [](const float* row, int V, float* e) {
    float max = row[0];
    for (int v = 1; v < V; v++) max = std::max(max, row[v]);
    for (int v = 0; v < V; v++) e[v] = row[v] - max;
    hl::exp_forward(e, e, V);
    double sum = 0.0;
    for (int v = 0; v < V; v++) sum += e[v];
    return hl::LogSoftmaxRow{max, sum, static_cast<float>(std::log(sum))};
  };
  for (const int V : {37, 3589}) {
    // 7 rows of V (37 and 3589 are not multiples of any SIMD width or block):
    // values in [-20, 20); row 3 all <= 0 with its max a -0 before a +0; row
    // 4 with -inf entries; row 5 spread over [-80, 80).
    const int n = 7;
    std::vector<float> rows(static_cast<size_t>(n) * V);
    uint32_t seed = 7;
    for (float& x : rows) {
      seed = seed * 1664525u + 1013904223u;
      x = static_cast<float>((seed >> 8) % 40000u) / 1000.0f - 20.0f;
    }
    float* tie = rows.data() + 3 * V;
    for (int v = 0; v < V; v++) tie[v] = -std::fabs(tie[v]);
    tie[5] = -0.0f;
    tie[30] = 0.0f;
    rows[4 * V + 2] = rows[4 * V + 20] = -INFINITY;
    for (int v = 0; v < V; v++) rows[5 * V + v] *= 4.0f;

    std::vector<float> e(rows.size()), e_ref(V), e_one(V);
    std::vector<hl::LogSoftmaxRow> out(n);
    hl::log_softmax_rows(rows.data(), n, V, e.data(), out.data());
    std::vector<hl::LogSoftmaxRow> no_exps(n);  // the scan's call: no exps kept
    hl::log_softmax_rows(rows.data(), n, V, nullptr, no_exps.data());
    int same = 0;
    double worst = 0.0;
    for (int i = 0; i < n; i++) {
      const float* row = rows.data() + static_cast<size_t>(i) * V;
      const hl::LogSoftmaxRow ref = reference(row, V, e_ref.data());
      const hl::LogSoftmaxRow one = hl::log_softmax_row(row, V, e_one.data());
      const double rel = std::fabs(out[i].sum - ref.sum) / ref.sum;
      worst = std::max(worst, rel);
      CHECK_MESSAGE(rel <= 1e-6, "row " << i << " relative sum error " << rel);
      CHECK(std::fabs(out[i].log_sum - ref.log_sum) <= 2e-6f * std::max(1.0f, std::fabs(ref.log_sum)));
      const bool row_same =
          out[i].max == ref.max &&  // equal values (a zero max may have either sign)
          std::memcmp(e.data() + static_cast<size_t>(i) * V, e_ref.data(), V * sizeof(float)) == 0 &&
          std::memcmp(&one.sum, &out[i].sum, sizeof(double)) == 0 &&
          std::memcmp(&one.log_sum, &out[i].log_sum, sizeof(float)) == 0 &&
          std::memcmp(&no_exps[i].sum, &out[i].sum, sizeof(double)) == 0 &&
          std::memcmp(e_one.data(), e_ref.data(), V * sizeof(float)) == 0;
      CHECK_MESSAGE(row_same, "row " << i);
      same += row_same;
    }
    std::printf("[session] log_softmax_rows, V = %d: %d of %d rows (a -0/+0 max tie, -inf entries) "
                "equal log_softmax_row's bits (and without exps kept) and exp_forward's exps; sum vs the in-order double "
                "sum: max relative difference %.2e (<= 1e-6)\n",
                V, same, n, worst);
  }
}
