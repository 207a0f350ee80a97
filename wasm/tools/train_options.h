// The options of `headlight train` as one table: each row has the flag, its
// default (read from a default TrainOptions), its help line, and where
// train_log.json records it; the same rows parse the command line, print
// --help and write the logged config (as web/src/state/url-state.ts does for
// the page's URL).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config.h"
#include "curriculum.h"
#include "data.h"
#include "safetensors.h"
#include "train.h"

struct TrainOptions {
  std::string train_path, val_path, tokenizer_dir, out_dir;
  hl::ModelConfig model = default_model();
  hl::OptimizerConfig opt;
  hl::DataMixConfig mix;      // with the run's --seed
  hl::CurriculumConfig plan;  // --steps, --batch and the stages
  int threads = 0;            // 0: every core
  int eval_every = 200;
  int eval_tokens = 65536;  // validation tokens (validation.h windows)
  int log_every = 10;
  int checkpoints = 0;                              // log-spaced
  std::vector<hl::CheckpointRange> checkpoint_ranges;  // dense, --checkpoint-steps
  // Initial position embeddings: "normal" (GPT-2: N(0, 0.02)) or "sinusoidal".
  std::string wpe_init = "normal";
  std::string init_from;  // start from this model folder's weights
  hl::DType dtype = hl::DType::F16;
  double time_limit_min = 0.0;

  static hl::ModelConfig default_model() {
    hl::ModelConfig m;
    m.n_layer = 4;
    m.n_head = 8;
    m.n_embd = 256;
    m.n_positions = 128;
    return m;
  }
};

// Parses argv[1..argc) (argv[0] is "train"). Throws hl::Error naming the bad
// flag or value, or the missing one.
TrainOptions parse_train_options(int argc, char** argv);

// --help: every row of the table, by group, with its default.
std::string train_usage();

// --seq-schedule stages as train_log.json records them.
nlohmann::json schedule_json(const std::vector<hl::SeqStage>& schedule);

// train_log.json's "data_mix" and "optimizer" objects, from the rows that
// name a place in the log.
nlohmann::json logged_config(const TrainOptions& o);
