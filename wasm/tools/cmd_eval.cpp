// headlight eval: how good a model is and what its heads do.
//
//   headlight eval --model DIR [--val FILE] [--max-tokens N] [--seed S]
//                  [--half-len N] [--probe-seqs N] [--threads N] [--no-xz] [--json]
//
// Prints the validation loss (nats/token, bits/byte) over the first N tokens
// of the validation text in n_positions windows (core/validation.h), next to
// what `xz -9` achieves on the same bytes in the same run; then the repeated random-token probe
// (analysis.h): loss on each copy, the in-context learning score, and per
// head the previous-token, induction and first-token scores. The validation
// part includes the loss by position in the window and the in-context
// learning score on text (core/validation.h in_context_score). --json prints
// the same as one JSON object (the trainer's checkpoint timeline reads it).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis.h"
#include "commands.h"
#include "error.h"
#include "model.h"
#include "model_dir.h"
#include "thread_pool.h"
#include "validation.h"

namespace {

const char* kEvalUsage =
    "usage: headlight eval --model DIR [--val FILE] [--max-tokens N] [--seed S]\n"
    "                      [--half-len N] [--probe-seqs N] [--threads N] [--no-xz] [--json]\n"
    "  --val FILE        validation text (default build/corpus/val.txt if it exists)\n"
    "  --max-tokens N    evaluate at most N tokens of it (default: all)\n"
    "  --seed S          seed of the random-token probe (default 1)\n"
    "  --half-len N      tokens per copy in the probe (default min(64, n_positions/2))\n"
    "  --probe-seqs N    probe sequences averaged (default 16)\n"
    "  --threads N       validation windows run on N threads (default: all cores)\n"
    "  --no-xz           skip the xz -9 comparison\n"
    "  --json            one JSON object on stdout instead of the tables\n";

const char* kDefaultVal = "build/corpus/val.txt";

struct EvalOptions {
  std::string model_dir;
  std::string val_path;
  bool val_given = false;
  int64_t max_tokens = INT64_MAX;
  uint64_t seed = 1;
  int half_len = 0;  // 0: default from n_positions
  int probe_seqs = 16;
  int threads = 0;
  bool xz = true;
  bool json = false;
};

int64_t parse_count(const std::string& flag, const char* text, int64_t min) {
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < min) {
    throw hl::Error(flag + " '" + text + "' is not a whole number >= " + std::to_string(min));
  }
  return v;
}

// Size in bytes of `xz -9 -T1 -c` of bytes, via a temporary file in $TMPDIR
// (default /tmp). -1 if xz
// cannot be run (the caller says so instead of printing a made-up figure).
int64_t xz_compressed_size(const std::string& bytes) {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string templ = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/headlight-eval-XXXXXX";
  std::vector<char> path_buf(templ.begin(), templ.end());
  path_buf.push_back('\0');
  char* path = path_buf.data();
  const int fd = mkstemp(path);
  if (fd < 0) return -1;
  const bool written = write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  close(fd);
  int64_t size = -1;
  if (written) {
    const std::string command = std::string("xz -9 -T1 -c -- ") + path;
    if (std::FILE* pipe = popen(command.c_str(), "r")) {
      char buffer[1 << 16];
      size_t n;
      size = 0;
      while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) size += static_cast<int64_t>(n);
      if (pclose(pipe) != 0) size = -1;
    }
  }
  std::remove(path);
  return size;
}

// (L, H) scores as L rows of H numbers, for JSON.
nlohmann::json by_layer(const std::vector<float>& scores, int n_layer, int n_head) {
  nlohmann::json rows = nlohmann::json::array();
  for (int l = 0; l < n_layer; ++l) {
    rows.push_back(std::vector<float>(scores.begin() + l * n_head, scores.begin() + (l + 1) * n_head));
  }
  return rows;
}

nlohmann::json best_head(const std::vector<float>& scores, int n_head) {
  const auto it = std::max_element(scores.begin(), scores.end());
  const int lh = static_cast<int>(it - scores.begin());
  return {{"layer", lh / n_head}, {"head", lh % n_head}, {"score", *it}};
}

}  // namespace

int cmd_eval(int argc, char** argv) {
  EvalOptions o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--model" && has_value) {
      o.model_dir = argv[++i];
    } else if (arg == "--val" && has_value) {
      o.val_path = argv[++i];
      o.val_given = true;
    } else if (arg == "--max-tokens" && has_value) {
      o.max_tokens = parse_count(arg, argv[++i], 2);
    } else if (arg == "--seed" && has_value) {
      o.seed = static_cast<uint64_t>(parse_count(arg, argv[++i], 0));
    } else if (arg == "--half-len" && has_value) {
      o.half_len = static_cast<int>(parse_count(arg, argv[++i], 2));
    } else if (arg == "--probe-seqs" && has_value) {
      o.probe_seqs = static_cast<int>(parse_count(arg, argv[++i], 1));
    } else if (arg == "--threads" && has_value) {
      o.threads = static_cast<int>(parse_count(arg, argv[++i], 1));
    } else if (arg == "--no-xz") {
      o.xz = false;
    } else if (arg == "--json") {
      o.json = true;
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kEvalUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "headlight eval: unexpected argument '%s'\n%s", arg.c_str(), kEvalUsage);
      return 2;
    }
  }
  if (o.model_dir.empty()) {
    std::fprintf(stderr, "headlight eval: --model DIR is required\n%s", kEvalUsage);
    return 2;
  }
  if (!o.val_given && access(kDefaultVal, R_OK) == 0) o.val_path = kDefaultVal;
  if (o.threads == 0) o.threads = std::max(1u, std::thread::hardware_concurrency());

  const auto t0 = std::chrono::steady_clock::now();
  const std::shared_ptr<const hl::Model> model = load_model_dir(o.model_dir);
  const hl::ModelConfig& cfg = model->config;
  nlohmann::json out;
  out["model"] = o.model_dir;
  out["config"] = {{"n_layer", cfg.n_layer},         {"n_head", cfg.n_head},
                   {"n_embd", cfg.n_embd},           {"n_positions", cfg.n_positions},
                   {"vocab_size", cfg.vocab_size},   {"attn_only", cfg.attn_only},
                   {"parameters", model->weights.num_parameters()}};

  // ---- validation loss, and xz on the same bytes
  if (!o.val_path.empty()) {
    const std::string text = read_file(o.val_path);
    size_t bad = 0;
    if (!hl::is_valid_utf8(text, &bad)) {
      throw hl::Error(o.val_path + " is not valid UTF-8 (byte offset " + std::to_string(bad) + ")");
    }
    const std::vector<int> ids = model->tokenizer.encode(text);
    const int n_shards = std::max(1, o.threads);
    std::vector<hl::ValidationLoss> shards(n_shards);
    std::vector<std::string> errors(n_shards);
    hl::ThreadPool pool(n_shards);
    pool.run(n_shards, [&](int s, int) {
      try {  // a pool's tasks must not throw
        shards[s] = hl::validation_loss(model, ids, o.max_tokens, s, n_shards);
      } catch (const std::exception& e) {
        errors[s] = e.what();
      }
    });
    for (const std::string& e : errors) {
      if (!e.empty()) throw hl::Error(e);
    }
    const hl::ValidationLoss val = hl::merge_validation_losses(shards);
    nlohmann::json v = {{"file", o.val_path},
                        {"windows", val.windows},
                        {"window", cfg.n_positions},
                        {"predicted_tokens", val.predicted_tokens},
                        {"predicted_bytes", val.predicted_bytes},
                        {"covered_tokens", val.covered_tokens},
                        {"covered_bytes", val.covered_bytes},
                        {"nats_per_token", val.nats_per_token},
                        {"bits_per_byte", val.bits_per_byte}};
    const hl::InContextScore icl = hl::in_context_score(val, cfg.n_positions);
    v["in_context"] = {{"early_tokens", {icl.early_from, icl.early_to - 1}},
                       {"late_tokens", {icl.late_from, icl.late_to - 1}},
                       {"loss_early", icl.loss_early},
                       {"loss_late", icl.loss_late},
                       {"icl_score", icl.score}};
    nlohmann::json by_position = nlohmann::json::array();
    for (int t = 1; t < cfg.n_positions; ++t) {
      const double loss = val.loss_at(t);
      by_position.push_back(std::isfinite(loss) ? nlohmann::json(loss) : nlohmann::json());
    }
    v["loss_by_position"] = by_position;  // (T - 1): token t = 1 .. T - 1
    if (o.xz) {
      const std::vector<int> covered(ids.begin(), ids.begin() + val.covered_tokens);
      const int64_t xz_bytes = xz_compressed_size(model->tokenizer.decode(covered));
      if (xz_bytes < 0) {
        v["xz_error"] = "could not run xz -9 (is xz installed?)";
      } else {
        const double xz_bpb = 8.0 * xz_bytes / static_cast<double>(val.covered_bytes);
        v["xz_bytes"] = xz_bytes;
        v["xz_bits_per_byte"] = xz_bpb;
        v["model_over_xz"] = val.bits_per_byte / xz_bpb;
      }
    }
    out["validation"] = v;
  }

  // ---- repeated random-token probe
  hl::RepeatedSequenceProbe probe;
  probe.half_len = o.half_len > 0 ? o.half_len : std::min(64, cfg.n_positions / 2);
  probe.n_sequences = o.probe_seqs;
  probe.seed = o.seed;
  const hl::ProbeResult pr = hl::run_repeated_sequence_probe(model, probe);
  out["probe"] = {{"half_len", probe.half_len},
                  {"sequences", probe.n_sequences},
                  {"seed", probe.seed},
                  {"loss_first_half", pr.loss_first_half},
                  {"loss_second_half", pr.loss_second_half},
                  {"icl_score", pr.icl_score()}};
  const hl::HeadScores& hs = pr.heads;
  out["heads"] = {{"prev_token", by_layer(hs.prev_token, hs.n_layer, hs.n_head)},
                  {"induction", by_layer(hs.induction, hs.n_layer, hs.n_head)},
                  {"first_token", by_layer(hs.first_token, hs.n_layer, hs.n_head)}};
  out["best"] = {{"prev_token", best_head(hs.prev_token, hs.n_head)},
                 {"induction", best_head(hs.induction, hs.n_head)},
                 {"first_token", best_head(hs.first_token, hs.n_head)}};
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out["seconds"] = seconds;

  if (o.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("model %s: %d layers, %d heads, d %d, %d positions, vocab %d%s, %zu parameters\n",
              o.model_dir.c_str(), cfg.n_layer, cfg.n_head, cfg.n_embd, cfg.n_positions,
              cfg.vocab_size, cfg.attn_only ? ", attention only" : "",
              model->weights.num_parameters());
  if (out.contains("validation")) {
    const nlohmann::json& v = out["validation"];
    std::printf("validation %s: %lld tokens predicted in %lld windows of %d (%lld bytes)\n",
                o.val_path.c_str(), v["predicted_tokens"].get<long long>(),
                v["windows"].get<long long>(), cfg.n_positions,
                v["covered_bytes"].get<long long>());
    std::printf("  model   %.4f nats/token  %.4f bits/byte\n", v["nats_per_token"].get<double>(),
                v["bits_per_byte"].get<double>());
    const nlohmann::json& icl = v["in_context"];
    std::printf("  in-context learning score %.3f (loss of tokens %d-%d %.3f minus tokens %d-%d %.3f)\n",
                icl["icl_score"].get<double>(), icl["late_tokens"][0].get<int>(),
                icl["late_tokens"][1].get<int>(), icl["loss_late"].get<double>(),
                icl["early_tokens"][0].get<int>(), icl["early_tokens"][1].get<int>(),
                icl["loss_early"].get<double>());
    if (v.contains("xz_bits_per_byte")) {
      std::printf("  xz -9   %.4f bits/byte (%lld bytes)   model / xz = %.3f\n",
                  v["xz_bits_per_byte"].get<double>(), v["xz_bytes"].get<long long>(),
                  v["model_over_xz"].get<double>());
    } else if (v.contains("xz_error")) {
      std::printf("  xz -9   %s\n", v["xz_error"].get<std::string>().c_str());
    }
  } else {
    std::printf("validation: skipped (no %s; run node models/recipes/build-corpus.mjs or pass "
                "--val FILE)\n", kDefaultVal);
  }
  std::printf("probe: %d sequences of 2 x %d random tokens, seed %llu\n", probe.n_sequences,
              probe.half_len, static_cast<unsigned long long>(probe.seed));
  std::printf("  loss first copy %.3f, second copy %.3f nats/token: in-context learning score %.3f\n",
              pr.loss_first_half, pr.loss_second_half, pr.icl_score());
  std::printf("  head  prev-token  induction  first-token\n");
  for (int l = 0; l < hs.n_layer; ++l) {
    for (int h = 0; h < hs.n_head; ++h) {
      const int lh = l * hs.n_head + h;
      std::printf("  %2d.%-2d    %6.3f     %6.3f      %6.3f\n", l, h, hs.prev_token[lh],
                  hs.induction[lh], hs.first_token[lh]);
    }
  }
  for (const char* name : {"prev_token", "induction", "first_token"}) {
    const nlohmann::json& b = out["best"][name];
    std::printf("  best %-11s %d.%d  %.3f\n", name, b["layer"].get<int>(), b["head"].get<int>(),
                b["score"].get<double>());
  }
  std::printf("eval took %.1f s\n", seconds);
  return 0;
}
