// The page's live trainer (live_training.h) and the one model-file writer
// (model_files.h): the recipe checks the reader's choices, a few steps lower
// the loss on the repeat task, the probe's shapes, and the files it writes
// load back as the same weights bit for bit.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "error.h"
#include "fixtures.h"
#include "live_training.h"
#include "model.h"

using hl_test::fixture_file;

namespace {

// The tiny fixture tokenizer and a text long enough for 64-token windows.
struct Kit {
  std::string vocab = fixture_file("tiny-gpt", "vocab.json");
  std::string merges = fixture_file("tiny-gpt", "merges.txt");
  std::string text;
  Kit() {
    for (int i = 0; i < 60; ++i) text += "The cat sat on the mat and the dog ran to the door.\n\n";
  }
};

hl::TrainingSetup small_setup(const Kit& kit, const std::string& task = "repeat") {
  hl::LiveChoices choices;
  choices.n_layer = 2;
  choices.n_head = 2;
  choices.n_embd = 32;
  choices.task = task;
  choices.lr = 1e-2f;
  return hl::live_recipe(choices, hl::Tokenizer(kit.vocab, kit.merges).vocab_size());
}

}  // namespace

TEST_CASE("live recipe: the reader's choices are checked, with messages that name them") {
  hl::LiveChoices c;
  c.n_head = 3;
  CHECK_THROWS_WITH_AS(hl::live_recipe(c, 100), doctest::Contains("not a multiple of 3 heads"), hl::Error);
  c = {};
  c.task = "poetry";
  CHECK_THROWS_WITH_AS(hl::live_recipe(c, 100), doctest::Contains("task 'poetry'"), hl::Error);
  c = {};
  c.schedule = "forever";
  CHECK_THROWS_WITH_AS(hl::live_recipe(c, 100), doctest::Contains("schedule 'forever'"), hl::Error);
  c = {};
  c.lr = 0.5f;
  CHECK_THROWS_WITH_AS(hl::live_recipe(c, 100), doctest::Contains("learning rate"), hl::Error);
  c = {};
  c.n_layer = 9;
  CHECK_THROWS_WITH_AS(hl::live_recipe(c, 100), doctest::Contains("layers 9"), hl::Error);
  const hl::TrainingSetup s = hl::live_recipe(hl::LiveChoices{}, 100);
  const std::string flags = hl::train_flags(s);
  INFO(flags);
  CHECK(flags.find("--n-layer 2 --n-head 4 --n-embd 64") != std::string::npos);
  CHECK(flags.find("--lr 0.005 ") != std::string::npos);  // the float's shortest text
  CHECK(flags.find("--batch 8 --steps 3000 ") != std::string::npos);
  CHECK(flags.find("--seq-schedule 32:2000") != std::string::npos);
  // The long run: attn-only-2l's warm-up at 64 x 32 tokens a step.
  hl::LiveChoices long_run;
  long_run.n_head = 8;
  long_run.n_embd = 128;
  long_run.schedule = "long";
  const std::string long_flags = hl::train_flags(hl::live_recipe(long_run, 100));
  INFO(long_flags);
  CHECK(long_flags.find("--batch 32 --steps 8000 ") != std::string::npos);
  CHECK(long_flags.find("--warmup 200 ") != std::string::npos);
  CHECK(long_flags.find("--induction-warmup-steps 8000 ") != std::string::npos);
  CHECK(long_flags.find("--seq-schedule 32:7000") != std::string::npos);
  // Long, on text: the warm-up for the 7,000 short-sequence steps, then text.
  long_run.task = "text";
  const std::string long_text = hl::train_flags(hl::live_recipe(long_run, 100));
  INFO(long_text);
  CHECK(long_text.find("--induction-warmup-steps 7000 ") != std::string::npos);
  CHECK(long_text.find("--induction-frac 0.3 --repeat-text-frac 0.1") != std::string::npos);
  hl::TrainingSetup periodic = s;
  periodic.mix.periodic_fill = true;
  CHECK(hl::train_flags(periodic).find(" --periodic-fill ") != std::string::npos);
}

TEST_CASE("live training: steps lower the loss, the probe has its shapes, the files load back") {
  const Kit kit;
  hl::LiveTraining run(small_setup(kit), kit.vocab, kit.merges, kit.text);
  const std::vector<float> first = run.step(5);
  REQUIRE(first.size() == 5);
  const std::vector<float> later = run.step(60);
  REQUIRE(later.size() == 60);
  CHECK(run.steps_done() == 65);
  const float early = (first[0] + first[1] + first[2]) / 3;
  const float late = (later[57] + later[58] + later[59]) / 3;
  std::printf("live training (2 x 2, d 32, tiny vocab, repeated random tokens): loss %.3f -> %.3f "
              "after 65 steps (ln V = %.3f: random tokens are learned only where copied)\n",
              early, late, std::log(static_cast<float>(run.vocab_size())));
  for (float loss : later) CHECK(std::isfinite(loss));
  CHECK(late < early);

  const hl::LiveProbe probe = run.probe();
  // 32 tokens: two copies of the 16-token half of the first (32-token) sequences.
  CHECK(probe.T == 32);
  CHECK(probe.ids.size() == 32u);
  CHECK(probe.attn_probs.size() == static_cast<size_t>(2 * 2 * 32 * 32));
  CHECK(probe.result.heads.induction.size() == 4u);

  hl::ModelFileBytes files = run.files();
  const std::shared_ptr<const hl::Model> back =
      hl::load_model(files.config_json, files.safetensors.data(), files.safetensors.size(), kit.vocab, kit.merges);
  CHECK(back->config.n_layer == 2);
  CHECK(back->config.attn_only);
  // F32: the loaded weights are the trained ones bit for bit; the probe of
  // the loaded model is the probe of the run.
  const hl::ProbeResult again = hl::run_repeated_sequence_probe(back, {16, 4, 1});
  CHECK(again.icl_score() == probe.result.icl_score());
}

TEST_CASE("live training: a text shorter than a window is refused") {
  const Kit kit;
  CHECK_THROWS_WITH_AS(hl::LiveTraining(small_setup(kit), kit.vocab, kit.merges, "too short"),
                       doctest::Contains("fewer than n_positions + 2"), hl::Error);
}
