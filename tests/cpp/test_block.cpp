// One block forward (block.h) serves the Session and the Trainer: on the same
// weights and tokens they must agree to the last bit, not within a
// tolerance, in every layer's attention, head outputs and residual stream and
// in the logits. The trainer runs a batch of two sequences on two threads, so
// the batching and the row split are checked too.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "block.h"
#include "fixtures.h"
#include "kernels.h"
#include "model.h"
#include "safetensors.h"
#include "session.h"
#include "train.h"
#include "weights.h"

namespace {

// Largest |a - b| over n floats, and whether every pair has the same bits
// (which also tells -0 from 0, where the difference is 0 anyway).
struct Diff {
  double max_abs = 0.0;
  bool same_bits = true;
  void add(const float* a, const float* b, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      max_abs = std::max(max_abs, std::fabs(static_cast<double>(a[i]) - b[i]));
      same_bits = same_bits && std::memcmp(a + i, b + i, sizeof(float)) == 0;
    }
  }
};

void trainer_equals_session(const std::string& fixture) {
  const auto model = hl_test::load_fixture(fixture);
  const hl::ModelConfig& cfg = model->config;
  const int B = 2, T = cfg.n_positions, L = cfg.n_layer, H = cfg.n_head, C = cfg.n_embd;
  const int V = cfg.vocab_size;

  // Two sequences (B, T) of ids; the targets do not enter the forward's
  // activations, only the losses.
  hl::Rng rng(7);
  std::vector<int> inputs(static_cast<size_t>(B) * T), targets(inputs.size());
  for (int& id : inputs) id = static_cast<int>(rng.below(V));
  for (int& id : targets) id = static_cast<int>(rng.below(V));

  const std::vector<uint8_t> st = hl_test::read_bytes(hl_test::fixture_path(fixture + "/model.safetensors"));
  hl::Weights weights = hl::load_weights(cfg, hl::parse_safetensors(st.data(), st.size()));
  hl::Trainer trainer(weights, B, T, /*n_threads=*/2);
  trainer.forward(inputs.data(), targets.data());
  const hl::Activations& acts = trainer.activations();

  Diff attention, head_z, residual, logits, probs;
  const size_t TC = static_cast<size_t>(T) * C, TV = static_cast<size_t>(T) * V;
  const size_t HTT = static_cast<size_t>(H) * T * T;
  std::vector<float> trainer_logits(TV), session_probs(TV);
  for (int b = 0; b < B; ++b) {
    hl::Session session(model);
    session.run(std::vector<int>(inputs.begin() + b * T, inputs.begin() + (b + 1) * T));
    const hl::Trace& tr = session.trace();
    REQUIRE(tr.T == T);
    for (int l = 0; l < L; ++l) {
      const hl::BlockActivations& a = acts.layers[l];
      attention.add(a.attn_probs + b * HTT, tr.attn_probs.data() + l * HTT, HTT);
      head_z.add(a.z + b * TC, tr.head_z.data() + l * TC, TC);
      residual.add(a.input + b * TC, tr.residual.data() + l * TC, TC);
    }
    residual.add(acts.layers[L - 1].output + b * TC, tr.residual.data() + L * TC, TC);
    // The trainer turns its logits into probabilities in place; its logits
    // are the LM head of its ln_f output, and its probabilities the softmax
    // of the session's logits.
    hl::gemm_packed(trainer_logits.data(), acts.ln_f + b * TC, model->packed_lm_head.data(),
                    nullptr, T, C, V);
    logits.add(trainer_logits.data(), tr.logits.data(), TV);
    std::copy(tr.logits.begin(), tr.logits.end(), session_probs.begin());
    hl::softmax_rows(session_probs.data(), T, V);
    probs.add(acts.probs + b * TV, session_probs.data(), TV);
  }
  std::printf(
      "trainer (B=%d, 2 threads) vs session (%s, T=%d): max abs diff attention %g, head z %g, "
      "residual %g, logits %g, probabilities %g\n",
      B, fixture.c_str(), T, attention.max_abs, head_z.max_abs, residual.max_abs, logits.max_abs,
      probs.max_abs);
  CHECK(attention.max_abs == 0.0);
  CHECK(head_z.max_abs == 0.0);
  CHECK(residual.max_abs == 0.0);
  CHECK(logits.max_abs == 0.0);
  CHECK(probs.max_abs == 0.0);
  CHECK(attention.same_bits);
  CHECK(head_z.same_bits);
  CHECK(residual.same_bits);
  CHECK(logits.same_bits);
  CHECK(probs.same_bits);
}

}  // namespace

TEST_CASE("block: Trainer and Session give bit-identical attention and logits") {
  trainer_equals_session("tiny-gpt");
  trainer_equals_session("tiny-attn-only");
}

TEST_CASE("block: a part of the query rows needs a batch of one sequence") {
  // Rows [t0, t1) of each of B > 1 sequences are not contiguous in (N, C):
  // refused, with the sizes in the message, before anything is written.
  const hl::ModelConfig cfg{/*n_layer=*/1, /*n_head=*/1, /*n_embd=*/4, /*n_positions=*/4,
                            /*vocab_size=*/4};
  hl::Weights w = hl::allocate_weights(cfg);
  hl::PackedLayer packed;
  hl::pack_layer(packed, w.layers[0], cfg, /*mlp=*/true);
  hl::SerialRows rows;
  const hl::BlockPass pass{cfg, w.layers[0], packed, /*B=*/2, /*T=*/4, nullptr, true, rows};
  const hl::BlockActivations nowhere;  // every pointer nullptr: a write would crash
  std::string message;
  try {
    hl::block_after_qkv_forward(pass, nowhere, 1, 3, true);
  } catch (const std::exception& e) {
    message = e.what();
  }
  std::printf("B=2, rows 1..3: \"%s\"\n", message.c_str());
  CHECK(message == "block: a part of the rows (1..3 of 4) needs one sequence, got 2");
}
