// Fine-tuning chosen heads (head_finetune.h, finetune_effects.h): only the
// heads' slices of c_attn and c_proj move, every other number keeps its
// bits, the padded batch's loss is the examples' mean loss, and the loss on
// the examples falls.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "error.h"
#include "finetune_effects.h"
#include "fixtures.h"
#include "head_finetune.h"
#include "session.h"

namespace {

const std::vector<std::string> kExamples = {
    "red, green, blue, red, green, blue, red, green",
    "one, two, three, one, two, three, one, two, three",
    "a, b, c, a, b, c",
};

std::vector<std::vector<int>> encode_all(const hl::Model& model, const std::vector<std::string>& texts) {
  std::vector<std::vector<int>> out;
  for (const std::string& t : texts) out.push_back(model.tokenizer.encode(t));
  return out;
}

// Entries whose bits differ between a and b, split by the mask.
struct Changed {
  size_t frozen = 0, trainable = 0;
};
Changed changed_bits(const std::vector<float>& a, const std::vector<float>& b,
                     const std::vector<uint8_t>& mask) {
  Changed c;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(&a[i], &b[i], sizeof(float)) == 0) continue;
    (mask[i] ? c.trainable : c.frozen) += 1;
  }
  return c;
}

void finetune_freezes_the_rest(const std::string& fixture) {
  const auto model = hl_test::load_fixture(fixture);
  const hl::ModelConfig& cfg = model->config;
  const std::vector<hl::HeadIndex> heads = {{1, 2}, {0, 1}};
  hl::HeadFineTuneOptions options;
  options.lr = 1e-2f;
  hl::HeadFineTune run(model, heads, encode_all(*model, kExamples), options);
  const float before = run.loss();
  const std::vector<float> losses = run.step(30);
  const float after = run.loss();
  const Changed c = changed_bits(model->weights.block, run.weights().block, run.trainable());
  size_t owned = 0;
  for (uint8_t m : run.trainable()) owned += m;
  const int C = cfg.n_embd, D = cfg.d_head();
  std::printf("fine-tune %s heads 1.2 and 0.1, 30 steps at lr 1e-2: examples' loss %.4f -> %.4f "
              "(first step %.4f); %zu of %zu trainable entries changed, %zu frozen entries "
              "changed (of %zu)\n",
              fixture.c_str(), before, after, losses.front(), c.trainable, owned, c.frozen,
              model->weights.block.size() - owned);
  CHECK(owned == 2u * (3u * C * D + 3u * D + static_cast<size_t>(D) * C));
  CHECK(c.frozen == 0u);
  CHECK(c.trainable > owned / 2);
  CHECK(losses.front() == doctest::Approx(before).epsilon(1e-6));
  CHECK(after < before - 0.1f);
  CHECK(run.steps_done() == 30);

  // The effects: layer 0's other heads read the same input, so their
  // attention is unchanged bit for bit on any text; the loss on the
  // examples falls as the trainer saw it.
  const auto tuned = run.model();
  const std::vector<int> heldout = model->tokenizer.encode("The cat sat on the mat, and the dog sat on the rug.");
  const hl::FineTuneEffects e =
      hl::finetune_effects(model, tuned, heads, encode_all(*model, kExamples), heldout);
  std::printf("  effects: examples %.4f -> %.4f, held-out %.4f -> %.4f; moved (L x H):",
              e.examples_loss_before, e.examples_loss_after, e.heldout_loss_before,
              e.heldout_loss_after);
  for (float m : e.moved) std::printf(" %.4f", m);
  std::printf("\n");
  CHECK(e.examples_loss_before == doctest::Approx(before).epsilon(1e-4));
  CHECK(e.examples_loss_after == doctest::Approx(after).epsilon(1e-4));
  const int H = cfg.n_head;
  for (int h = 0; h < H; ++h) CHECK(e.moved[h] == (h == 1 ? e.moved[1] : 0.0f));
  CHECK(e.moved[1] > 0.0f);  // head 0.1 itself was edited
  CHECK(e.example_token_counts.size() == kExamples.size());
  size_t cells = 0;
  for (int T : e.example_token_counts) cells += heads.size() * T * T;
  CHECK(e.edited_before.size() == cells);
  CHECK(e.edited_after.size() == cells);
}

}  // namespace

TEST_CASE("head fine-tune: only the chosen heads' slices change, the loss falls (with MLPs)") {
  finetune_freezes_the_rest("tiny-gpt");
}

TEST_CASE("head fine-tune: only the chosen heads' slices change, the loss falls (attention-only)") {
  finetune_freezes_the_rest("tiny-attn-only");
}

TEST_CASE("head fine-tune: the padded batch's loss is the mean over every example's targets") {
  const auto model = hl_test::load_fixture("tiny-gpt");
  const auto examples = encode_all(*model, kExamples);
  hl::HeadFineTune run(model, {{0, 0}}, examples, {});
  const float padded = run.loss();
  hl::Session session(model, 1);
  double sum = 0.0;
  int count = 0;
  for (const auto& ids : examples) {
    session.run(ids);
    for (int t = 0; t + 1 < session.trace().T; ++t) sum += session.trace().token_loss[t];
    count += session.trace().T - 1;
  }
  const double mean = sum / count;
  std::printf("padded batch (%d x %d) loss %.6f, examples run alone %.6f: diff %.2e\n",
              run.batch().B, run.batch().T, padded, mean, std::fabs(padded - mean));
  CHECK(std::fabs(padded - mean) < 1e-5);
}

TEST_CASE("head fine-tune: bad input names the problem, long examples are cut to n_positions + 1") {
  const auto model = hl_test::load_fixture("tiny-attn-only");
  const auto examples = encode_all(*model, kExamples);
  CHECK_THROWS_WITH_AS(hl::HeadFineTune(model, {}, examples, {}),
                       doctest::Contains("at least one head"), hl::Error);
  CHECK_THROWS_WITH_AS(hl::HeadFineTune(model, {{2, 0}}, examples, {}),
                       doctest::Contains("head 2.0 is outside"), hl::Error);
  CHECK_THROWS_WITH_AS(hl::HeadFineTune(model, {{0, 0}}, {}, {}),
                       doctest::Contains("at least one example"), hl::Error);
  CHECK_THROWS_WITH_AS(hl::HeadFineTune(model, {{0, 0}}, {examples[0], {5}}, {}),
                       doctest::Contains("example 2 has 1 token"), hl::Error);
  hl::HeadFineTuneOptions bad;
  bad.lr = 0.0f;
  CHECK_THROWS_WITH_AS(hl::HeadFineTune(model, {{0, 0}}, examples, bad),
                       doctest::Contains("learning rate"), hl::Error);
  std::vector<int> long_ids;
  while (long_ids.size() < 100) long_ids.insert(long_ids.end(), examples[0].begin(), examples[0].end());
  const hl::FineTuneBatch b = hl::finetune_batch({long_ids, examples[1]}, model->config.n_positions);
  std::printf("a %zu-token example: %d tokens used, batch %d x %d\n", long_ids.size(),
              b.tokens_used[0], b.B, b.T);
  CHECK(b.tokens_given[0] == static_cast<int>(long_ids.size()));
  CHECK(b.tokens_used[0] == model->config.n_positions + 1);
  CHECK(b.T == model->config.n_positions);
  float weight = 0.0f;
  for (float w : b.weights) weight += w;
  CHECK(weight == static_cast<float>(model->config.n_positions + examples[1].size() - 1));
}

TEST_CASE("trainer: set_trainable and set_target_weights check their sizes") {
  const auto model = hl_test::load_fixture("tiny-attn-only");
  hl::Weights w = hl::allocate_weights(model->config);
  hl::Trainer trainer(w, 2, 8);
  CHECK_THROWS_WITH_AS(trainer.set_trainable(std::vector<uint8_t>(3, 1)),
                       doctest::Contains("3 flags"), hl::Error);
  CHECK_THROWS_WITH_AS(trainer.set_target_weights(std::vector<float>(15, 1.0f)),
                       doctest::Contains("15 target weights"), hl::Error);
  CHECK_THROWS_WITH_AS(trainer.set_target_weights(std::vector<float>(16, 0.0f)),
                       doctest::Contains("all 0"), hl::Error);
  hl::Trainer reader(*model, 2, 8);
  CHECK_THROWS_WITH_AS(reader.set_trainable({}), doctest::Contains("no parameters"), hl::Error);
}

TEST_CASE("trainer with a trainable mask: the trainable entries' gradients are the full backward's bits") {
  // The masked backward leaves out the wholly frozen tensors' weight
  // gradients and the layers below the lowest trainable one; what it does
  // compute must be what the full backward computes.
  const auto model = hl_test::load_fixture("tiny-gpt");
  const hl::FineTuneBatch b = hl::finetune_batch(encode_all(*model, kExamples), model->config.n_positions);
  auto copy = [&] {
    hl::Weights w = hl::allocate_weights(model->config);
    std::memcpy(w.block.data(), model->weights.block.data(), w.block.size() * sizeof(float));
    return w;
  };
  for (const std::vector<hl::HeadIndex>& heads :
       {std::vector<hl::HeadIndex>{{1, 3}}, std::vector<hl::HeadIndex>{{0, 2}, {1, 0}}}) {
    hl::Weights full_w = copy(), masked_w = copy();
    hl::Trainer full(full_w, b.B, b.T), masked(masked_w, b.B, b.T);
    const std::vector<uint8_t> mask = hl::head_trainable_mask(masked_w, heads);
    masked.set_trainable(mask);
    for (hl::Trainer* t : {&full, &masked}) {
      t->set_target_weights(b.weights);
      t->forward(b.inputs.data(), b.targets.data());
      t->backward();
    }
    const std::vector<float>& g_full = full.grads().block;
    const std::vector<float>& g_masked = masked.grads().block;
    size_t differ = 0, trainable = 0, nonzero = 0;
    for (size_t i = 0; i < mask.size(); ++i) {
      if (!mask[i]) continue;
      ++trainable;
      if (std::memcmp(&g_full[i], &g_masked[i], sizeof(float)) != 0) ++differ;
      if (g_full[i] != 0.0f) ++nonzero;
    }
    std::printf("masked backward, heads from layer %d: %zu of %zu trainable gradients differ from the "
                "full backward's bits (%zu nonzero)\n",
                heads.front().layer, differ, trainable, nonzero);
    CHECK(differ == 0u);
    CHECK(nonzero > trainable / 2);
  }
}
