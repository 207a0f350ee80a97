// headlight train: trains a GPT-2 from scratch on a text file and writes a
// model folder (DESIGN.md), log-spaced checkpoints and a training log.
//
//   headlight train --train FILE --val FILE --tokenizer DIR --out DIR
//                   [--n-layer 4] [--n-head 8] [--n-embd 256] [--n-positions 128] [--attn-only]
//                   [--batch 16] [--steps 2000] [--lr 1e-3] [--min-lr-frac 0.1] [--warmup 100]
//                   [--weight-decay 0.1] [--grad-clip 1.0] [--seed 1] [--threads N]
//                   [--eval-every 200] [--eval-tokens 65536] [--log-every 10]
//                   [--induction-frac 0] [--repeat-text-frac 0] [--checkpoints 0]
//                   [--induction-warmup-steps 0] [--induction-warmup-gap 0] [--induction-fill]
//                   [--random-vocab 0] [--wpe-init normal|sinusoidal] [--fill-alternations 0]
//                   [--seq-schedule LEN:STEPS[,LEN:STEPS...]] [--mlp-off-steps 0]
//                   [--shallow-steps 0 --shallow-layers K]
//                   [--dtype f16|f32] [--time-limit-min 0]
//                   [--init-from DIR] [--end-with-warmup]
//
// Every training sequence is T + 1 = n_positions + 1 tokens (inputs and the
// next-token targets). A sequence is, independently and at random:
//   - with probability induction-frac: training text in which a span of n
//     uniformly random token ids, then the same span again, is written at a
//     random offset, n uniform in [max(4, (T+1)/16), (T+1)/2] (the standard
//     induction-head data: only in-context copying predicts the second copy);
//   - with probability repeat-text-frac: the same with a natural-text span;
//   - otherwise: T + 1 consecutive tokens of the training text at a random offset.
// During the first induction-warmup-steps steps (ended early once the
// random-span loss gap reaches induction-warmup-gap nats) every sequence holds
// random-token repeats (a warm-up that ends early also ends the --seq-schedule
// and --mlp-off-steps stages there); with --induction-fill, whole sequences of random
// tokens in which spans are copied forward at random distances until about
// half of the sequence is copies.
// --seq-schedule trains the first stages on shorter sequences (LEN tokens,
// batch * n_positions / LEN of them, so every step sees as many tokens), for
// STEPS steps each, then on n_positions: a context-length curriculum.
// --mlp-off-steps trains a model with MLPs as its attention-only twin for the
// first N steps (Trainer::set_mlp_enabled), then switches the MLPs on.
// --shallow-steps N --shallow-layers K trains only the first K blocks for the
// first N steps (Trainer::set_active_layers; the others wait at their
// initialisation), then all of them: a depth curriculum. Like the MLP stage it
// ends early with the induction warm-up.
// --init-from starts from the weights of a model folder (same shape and
// tokenizer; fresh optimizer state and learning-rate schedule), so a run can
// be trained in phases with a schedule each; --end-with-warmup ends a run when
// its induction warm-up ends, writing the model as it is then: phase one.
// The logged train loss is over this mixture; the validation loss and bits per
// byte are over plain consecutive validation text only.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "config.h"
#include "error.h"
#include "model_dir.h"
#include "safetensors.h"
#include "tokenizer.h"
#include "train.h"
#include "weights.h"

namespace {

const char* kTrainUsage =
    "usage: headlight train --train FILE --val FILE --tokenizer DIR --out DIR [options]\n"
    "  model:    --n-layer 4 --n-head 8 --n-embd 256 --n-positions 128 [--attn-only]\n"
    "  schedule: --batch 16 --steps 2000 --lr 1e-3 --min-lr-frac 0.1 --warmup 100\n"
    "            --weight-decay 0.1 --grad-clip 1.0 --seed 1 --threads N --time-limit-min 0\n"
    "  data:     --induction-frac 0 (random-token span, repeated)\n"
    "            --repeat-text-frac 0 (natural-text span, repeated)\n"
    "            --induction-warmup-steps 0 (only random-token repeats at first)\n"
    "            --induction-warmup-gap 0 (end the warm-up once first - repeat >= gap nats)\n"
    "            --induction-fill (warm-up: random tokens with spans copied at random distances)\n"
    "            --fill-span-max 0 (longest copied span of the fill; 0: (T+1)/4)\n"
    "            --fill-near-frac 0 (fill copies 2-8 positions after their source)\n"
    "            --fill-alternations 0 (two-back segments a b p(a) p(b) ... per fill sequence)\n"
    "            --fill-alternations-steps 0 (only in the first N steps; 0: all)\n"
    "            --random-vocab 0 (random-span tokens from the K most frequent; 0: all)\n"
    "            --seq-schedule LEN:STEPS,... (shorter sequences first, same tokens per step)\n"
    "            --mlp-off-steps 0 (MLPs switched off, attention only, for the first N steps)\n"
    "            --shallow-steps 0 --shallow-layers K (only the first K blocks, first N steps)\n"
    "  init:     --wpe-init normal|sinusoidal\n"
    "            --init-from DIR (start from a model folder's weights: same shape and tokenizer)\n"
    "            --end-with-warmup (stop, and write the model, when the induction warm-up ends)\n"
    "  output:   --eval-every 200 --eval-tokens 65536 --log-every 10 --checkpoints 0\n"
    "            --dtype f16|f32\n";

struct TrainOptions {
  std::string train_path, val_path, tokenizer_dir, out_dir;
  hl::ModelConfig model;
  int batch = 16;
  int steps = 2000;
  hl::OptimizerConfig opt;
  uint64_t seed = 1;
  int threads = 0;
  int eval_every = 200;
  int eval_tokens = 65536;
  int log_every = 10;
  float induction_frac = 0.0f;
  float repeat_text_frac = 0.0f;
  // For the first induction_warmup_steps steps every sequence holds repeated
  // random tokens (models/README.md, "Induction heads", has what each
  // variant of this data taught the models here).
  int induction_warmup_steps = 0;
  // If > 0, the warm-up ends early at the first log line whose random-span
  // losses show first copy - repeat >= this many nats (the heads have formed).
  float induction_warmup_gap = 0.0f;
  // Warm-up sequences are random tokens with spans of 8..fill_span_max tokens
  // copied forward at random distances (about half the sequence is copies),
  // instead of one repeat inside training text: many copy targets per
  // sequence, and no fixed period to learn by position.
  bool induction_fill = false;
  // Longest copied span of the --induction-fill warm-up sequences (0: (T+1)/4).
  int fill_span_max = 0;
  // Fraction of the fill's copies written only 2-8 positions after their
  // source (overlapping it when closer than the span is long: a periodic
  // run). A copying circuit keyed on "the token k back is X" instead of the
  // previous token (k = 1) reaches the copy only when it is more than k back:
  // near copies are the data on which k = 1, the classic induction head,
  // predicts more than any other k (models/README.md, seventh round).
  float fill_near_frac = 0.0f;
  // Two-back segments (4-12 tokens, each a fixed permutation of the token two
  // before it) per warm-up fill sequence, written before the copies.
  int fill_alternations = 0;
  // ... during the first this many steps only (0: all warm-up steps).
  int fill_alternations_steps = 0;
  // Random-span tokens are drawn from the K most frequent tokens of the
  // training text (0: from the whole vocabulary).
  int random_vocab = 0;
  // Initial position embeddings: "normal" (GPT-2: N(0, 0.02)) or "sinusoidal".
  std::string wpe_init = "normal";
  // Context-length curriculum: (sequence length, steps) stages before the
  // rest of training runs at n_positions.
  std::vector<std::pair<int, int>> seq_schedule;
  // MLPs switched off for the first mlp_off_steps steps (models with MLPs):
  // the induction warm-up then trains the attention-only twin of the model,
  // the circuit attn-only-2l grows, without MLPs that fit the warm-up's
  // statistics first; ends early with the warm-up (--induction-warmup-gap).
  int mlp_off_steps = 0;
  // Only the first shallow_layers blocks run for the first shallow_steps
  // steps: a shallow twin (two layers, as attn-only-2l) grows the copying
  // circuit, in the shape the induction score looks for, before the deeper
  // blocks can spread it; ends early with the warm-up, as mlp_off_steps does.
  int shallow_steps = 0;
  int shallow_layers = 0;
  // Start from this model folder's weights instead of a fresh init.
  std::string init_from;
  // Stop when the induction warm-up ends (at the gap, or its last step).
  bool end_with_warmup = false;
  int checkpoints = 0;
  hl::DType dtype = hl::DType::F16;
  double time_limit_min = 0.0;
};

double parse_number(const std::string& flag, const std::string& text, double min, double max) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(v) || v < min || v > max) {
    throw hl::Error("bad value '" + text + "' for " + flag + " (expected a number in [" +
                    std::to_string(min) + ", " + std::to_string(max) + "])");
  }
  return v;
}

int parse_count(const std::string& flag, const std::string& text, int min, int max) {
  const double v = parse_number(flag, text, min, max);
  if (v != std::floor(v))
    throw hl::Error("bad value '" + text + "' for " + flag + " (expected an integer)");
  return static_cast<int>(v);
}

TrainOptions parse_options(int argc, char** argv) {
  TrainOptions o;
  o.model.n_layer = 4;
  o.model.n_head = 8;
  o.model.n_embd = 256;
  o.model.n_positions = 128;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--attn-only") {
      o.model.attn_only = true;
      continue;
    }
    if (flag == "--induction-fill") {
      o.induction_fill = true;
      continue;
    }
    if (flag == "--end-with-warmup") {
      o.end_with_warmup = true;
      continue;
    }
    if (i + 1 >= argc) throw hl::Error("missing value after " + flag);
    const std::string v = argv[++i];
    if (flag == "--train")
      o.train_path = v;
    else if (flag == "--val")
      o.val_path = v;
    else if (flag == "--tokenizer")
      o.tokenizer_dir = v;
    else if (flag == "--out")
      o.out_dir = v;
    else if (flag == "--n-layer")
      o.model.n_layer = parse_count(flag, v, 1, 64);
    else if (flag == "--n-head")
      o.model.n_head = parse_count(flag, v, 1, 64);
    else if (flag == "--n-embd")
      o.model.n_embd = parse_count(flag, v, 1, 4096);
    else if (flag == "--n-positions" || flag == "--ctx")
      o.model.n_positions = parse_count(flag, v, 2, 4096);
    else if (flag == "--batch")
      o.batch = parse_count(flag, v, 1, 4096);
    else if (flag == "--steps")
      o.steps = parse_count(flag, v, 1, 10000000);
    else if (flag == "--lr")
      o.opt.lr = static_cast<float>(parse_number(flag, v, 0, 10));
    else if (flag == "--min-lr-frac")
      o.opt.min_lr_frac = static_cast<float>(parse_number(flag, v, 0, 1));
    else if (flag == "--warmup")
      o.opt.warmup_steps = parse_count(flag, v, 0, 10000000);
    else if (flag == "--weight-decay")
      o.opt.weight_decay = static_cast<float>(parse_number(flag, v, 0, 10));
    else if (flag == "--grad-clip")
      o.opt.grad_clip = static_cast<float>(parse_number(flag, v, 0, 1e6));
    else if (flag == "--seed")
      o.seed = static_cast<uint64_t>(parse_number(flag, v, 0, 9e15));
    else if (flag == "--threads")
      o.threads = parse_count(flag, v, 1, 256);
    else if (flag == "--eval-every")
      o.eval_every = parse_count(flag, v, 1, 10000000);
    else if (flag == "--eval-tokens")
      o.eval_tokens = parse_count(flag, v, 1, 1 << 30);
    else if (flag == "--log-every")
      o.log_every = parse_count(flag, v, 1, 10000000);
    else if (flag == "--induction-frac")
      o.induction_frac = static_cast<float>(parse_number(flag, v, 0, 1));
    else if (flag == "--repeat-text-frac")
      o.repeat_text_frac = static_cast<float>(parse_number(flag, v, 0, 1));
    else if (flag == "--induction-warmup-steps")
      o.induction_warmup_steps = parse_count(flag, v, 0, 100000000);
    else if (flag == "--fill-alternations-steps")
      o.fill_alternations_steps = parse_count(flag, v, 0, 100000000);
    else if (flag == "--fill-alternations")
      o.fill_alternations = parse_count(flag, v, 0, 64);
    else if (flag == "--fill-span-max")
      o.fill_span_max = parse_count(flag, v, 0, 1 << 20);
    else if (flag == "--fill-near-frac")
      o.fill_near_frac = static_cast<float>(parse_number(flag, v, 0, 1));
    else if (flag == "--induction-warmup-gap")
      o.induction_warmup_gap = static_cast<float>(parse_number(flag, v, 0, 100));
    else if (flag == "--wpe-init") {
      if (v != "normal" && v != "sinusoidal")
        throw hl::Error("bad value '" + v + "' for --wpe-init (expected normal or sinusoidal)");
      o.wpe_init = v;
    } else if (flag == "--seq-schedule") {
      o.seq_schedule.clear();
      size_t start = 0;
      while (start <= v.size()) {
        const size_t comma = std::min(v.find(',', start), v.size());
        const std::string stage = v.substr(start, comma - start);
        const size_t colon = stage.find(':');
        if (colon == std::string::npos)
          throw hl::Error("bad stage '" + stage + "' in --seq-schedule (expected LEN:STEPS)");
        o.seq_schedule.emplace_back(parse_count(flag, stage.substr(0, colon), 1, 1 << 20),
                                    parse_count(flag, stage.substr(colon + 1), 0, 100000000));
        start = comma + 1;
      }
    } else if (flag == "--mlp-off-steps")
      o.mlp_off_steps = parse_count(flag, v, 0, 100000000);
    else if (flag == "--shallow-steps")
      o.shallow_steps = parse_count(flag, v, 0, 100000000);
    else if (flag == "--shallow-layers")
      o.shallow_layers = parse_count(flag, v, 1, 1000);
    else if (flag == "--random-vocab")
      o.random_vocab = parse_count(flag, v, 0, 1 << 30);
    else if (flag == "--init-from")
      o.init_from = v;
    else if (flag == "--checkpoints")
      o.checkpoints = parse_count(flag, v, 0, 1000);
    else if (flag == "--time-limit-min")
      o.time_limit_min = parse_number(flag, v, 0, 1e6);
    else if (flag == "--dtype") {
      if (v == "f16")
        o.dtype = hl::DType::F16;
      else if (v == "f32")
        o.dtype = hl::DType::F32;
      else if (v == "bf16")
        o.dtype = hl::DType::BF16;
      else
        throw hl::Error("bad value '" + v + "' for --dtype (expected f16, bf16 or f32)");
    } else {
      throw hl::Error("unknown option " + flag);
    }
  }
  if (o.train_path.empty()) throw hl::Error("missing --train FILE");
  if (o.val_path.empty()) throw hl::Error("missing --val FILE");
  if (o.tokenizer_dir.empty()) throw hl::Error("missing --tokenizer DIR");
  if (o.out_dir.empty()) throw hl::Error("missing --out DIR");
  if (o.model.n_embd % o.model.n_head != 0)
    throw hl::Error("--n-embd " + std::to_string(o.model.n_embd) +
                    " is not divisible by --n-head " + std::to_string(o.model.n_head));
  if (o.mlp_off_steps > 0 && o.model.attn_only)
    throw hl::Error("--mlp-off-steps needs a model with MLPs (not --attn-only)");
  if (o.shallow_steps > 0 && (o.shallow_layers == 0 || o.shallow_layers >= o.model.n_layer))
    throw hl::Error("--shallow-steps needs --shallow-layers K with 1 <= K < --n-layer (" +
                    std::to_string(o.model.n_layer) + ")");
  if (o.shallow_layers > 0 && o.shallow_steps == 0)
    throw hl::Error("--shallow-layers needs --shallow-steps N");
  if (o.induction_frac + o.repeat_text_frac > 1.0f)
    throw hl::Error("--induction-frac + --repeat-text-frac must be <= 1");
  for (const auto& [len, steps] : o.seq_schedule) {
    (void)steps;
    if (len > o.model.n_positions || (o.batch * o.model.n_positions) % len != 0)
      throw hl::Error("--seq-schedule length " + std::to_string(len) +
                      " must be <= n_positions and divide batch * n_positions (" +
                      std::to_string(o.batch * o.model.n_positions) + ")");
  }
  if (o.end_with_warmup) {
    if (o.induction_warmup_steps == 0)
      throw hl::Error("--end-with-warmup needs --induction-warmup-steps");
    o.steps = std::min(o.steps, o.induction_warmup_steps);
  }
  if (!o.init_from.empty() && o.wpe_init != "normal")
    throw hl::Error("--wpe-init has no effect with --init-from (the positions come from " +
                    o.init_from + ")");
  if (o.threads == 0) o.threads = std::max(1u, std::thread::hardware_concurrency());
  o.opt.total_steps = o.steps;
  return o;
}

// --seq-schedule stages as train_log.json records them.
nlohmann::json schedule_json(const std::vector<std::pair<int, int>>& schedule) {
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& [len, steps] : schedule) stages.push_back({{"seq_len", len}, {"steps", steps}});
  return stages;
}

void make_dirs(const std::string& path) {
  std::string partial;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!partial.empty() && partial != ".") {
        if (mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST)
          throw hl::Error("cannot create directory " + partial + ": " + std::strerror(errno));
      }
    }
    if (i < path.size()) partial += path[i];
  }
}

void write_file(const std::string& path, const void* data, size_t size) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw hl::Error("cannot write " + path);
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!f) throw hl::Error("error writing " + path);
}

uint64_t fnv1a(const std::string& s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Token ids of a text file, cached next to it as FILE.ids-<hash>.bin (int32
// little-endian), the hash covering the text and the tokenizer files.
std::vector<int> encode_file_cached(const std::string& path, const hl::Tokenizer& tokenizer,
                                    uint64_t tokenizer_hash) {
  const std::string text = read_file(path);
  if (text.empty()) throw hl::Error(path + ": file is empty");
  char tag[32];
  std::snprintf(tag, sizeof tag, "%016llx",
                static_cast<unsigned long long>(fnv1a(text, tokenizer_hash)));
  const std::string cache_path = path + ".ids-" + tag + ".bin";
  std::vector<int> ids;
  {
    std::ifstream f(cache_path, std::ios::binary | std::ios::ate);
    if (f) {
      const std::streamsize size = f.tellg();
      if (size > 0 && size % 4 == 0) {
        ids.resize(static_cast<size_t>(size) / 4);
        f.seekg(0);
        f.read(reinterpret_cast<char*>(ids.data()), size);
        if (f) {
          std::fprintf(stderr, "%s: %zu tokens (cached in %s)\n", path.c_str(), ids.size(),
                       cache_path.c_str());
          return ids;
        }
      }
      ids.clear();
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  // Documents are separated by blank lines; encode them one at a time (the
  // pre-tokeniser never merges across "\n\n" anyway) to bound the memory.
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find("\n\n", begin + 1 < text.size() ? begin + 1 : text.size());
    end = end == std::string::npos ? text.size() : end;
    // Keep runs of newlines with the preceding document.
    while (end < text.size() && text[end] == '\n') ++end;
    const std::vector<int> part = tokenizer.encode(text.substr(begin, end - begin));
    ids.insert(ids.end(), part.begin(), part.end());
    begin = end;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "%s: %zu bytes -> %zu tokens (%.2f bytes/token) in %.1f s\n", path.c_str(),
               text.size(), ids.size(), static_cast<double>(text.size()) / ids.size(), seconds);
  try {
    write_file(cache_path, ids.data(), ids.size() * 4);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warning: token cache not written: %s\n", e.what());
  }
  return ids;
}

// Checkpoint steps: n log-spaced steps in [1, total], strictly increasing,
// the last one being total.
std::set<int> log_spaced_steps(int n, int total) {
  std::set<int> steps;
  if (n <= 0) return steps;
  int prev = 0;
  for (int k = 0; k < n; ++k) {
    const double frac = n == 1 ? 1.0 : static_cast<double>(k) / (n - 1);
    int s = static_cast<int>(std::lround(std::pow(static_cast<double>(total), frac)));
    s = std::max(s, prev + 1);
    if (s > total) break;
    steps.insert(s);
    prev = s;
  }
  steps.insert(total);
  return steps;
}

void write_model_folder(const std::string& dir, hl::Weights& w, hl::DType dtype,
                        const std::string& vocab_json, const std::string& merges_txt,
                        const std::map<std::string, std::string>& metadata) {
  make_dirs(dir);
  const std::string config = hl::config_to_json(w.config);
  write_file(model_file(dir, "config.json"), config.data(), config.size());
  std::vector<hl::TensorToWrite> tensors;
  for (const hl::ParamEntry& p : hl::param_table(w)) tensors.push_back({p.name, p.shape, p.data});
  const std::vector<uint8_t> bytes = hl::write_safetensors(tensors, dtype, metadata);
  write_file(model_file(dir, "model.safetensors"), bytes.data(), bytes.size());
  write_file(model_file(dir, "vocab.json"), vocab_json.data(), vocab_json.size());
  write_file(model_file(dir, "merges.txt"), merges_txt.data(), merges_txt.size());
}

// Builds one batch of B sequences of T + 1 tokens into inputs/targets (B, T).
class BatchSampler {
 public:
  BatchSampler(const std::vector<int>& ids, int vocab_size, const TrainOptions& o)
      : ids_(ids), vocab_size_(vocab_size), o_(o), rng_(o.seed ^ 0x5A5A5A5A12345678ull) {
    std::vector<int> by_frequency;  // token ids, most frequent in the training text first
    if ((o.random_vocab > 0 && o.random_vocab < vocab_size) || o.fill_alternations > 0) {
      std::vector<long> counts(static_cast<size_t>(vocab_size), 0);
      for (int id : ids) ++counts[static_cast<size_t>(id)];
      by_frequency.resize(static_cast<size_t>(vocab_size));
      for (int v = 0; v < vocab_size; ++v) by_frequency[static_cast<size_t>(v)] = v;
      std::stable_sort(by_frequency.begin(), by_frequency.end(), [&](int x, int y) {
        return counts[static_cast<size_t>(x)] > counts[static_cast<size_t>(y)];
      });
    }
    if (o.random_vocab > 0 && o.random_vocab < vocab_size)
      random_ids_.assign(by_frequency.begin(), by_frequency.begin() + o.random_vocab);
    if (o.fill_alternations > 0) {
      // The two-back permutation acts on the kTwoBackPool most frequent tokens.
      two_back_pool_.assign(by_frequency.begin(),
                            by_frequency.begin() + std::min(kTwoBackPool, vocab_size));
      std::vector<int> image = two_back_pool_;
      for (size_t i = image.size(); i > 1; --i)  // Fisher-Yates
        std::swap(image[i - 1], image[rng_.below(static_cast<uint32_t>(i))]);
      two_back_.assign(static_cast<size_t>(vocab_size), -1);
      for (size_t i = 0; i < image.size(); ++i) two_back_[two_back_pool_[i]] = image[i];
    }
  }

  int random_token() {
    if (random_ids_.empty()) return static_cast<int>(rng_.below(static_cast<uint32_t>(vocab_size_)));
    return random_ids_[rng_.below(static_cast<uint32_t>(random_ids_.size()))];
  }

  // all_induction: every sequence holds a repeated random-token span (warm-up).
  void next(int B, int T, std::vector<int>& inputs, std::vector<int>& targets,
            bool all_induction = false) {
    const int len = T + 1;
    std::vector<int> seq(static_cast<size_t>(len));
    spans_.assign(B, Span{});
    for (int b = 0; b < B; ++b) {
      const float kind = rng_.uniform();
      // Background: consecutive training text at a random offset.
      const size_t start = rng_.below(static_cast<uint32_t>(ids_.size() - len));
      for (int i = 0; i < len; ++i) seq[i] = ids_[start + i];
      const bool random_span = all_induction || kind < o_.induction_frac;
      const bool text_span = !random_span && kind < o_.induction_frac + o_.repeat_text_frac;
      if (random_span || text_span) {
        // A span of n tokens at offset a, then the same n tokens again. Length
        // and offset vary so that only content (find the earlier occurrence of
        // the current token, copy what followed it) predicts the copy: with a
        // fixed period, a model learns "copy the token 64 back" by position
        // alone, which is no induction head and fails on any other period.
        const int n_min = std::max(4, len / 16);
        int n = n_min + static_cast<int>(rng_.below(static_cast<uint32_t>(len / 2 - n_min + 1)));
        const int a = static_cast<int>(rng_.below(static_cast<uint32_t>(len - 2 * n + 1)));
        if (all_induction && o_.induction_fill) {
          // Random tokens, then spans of m tokens copied forward to random
          // later places until about half the sequence is copies. The distance
          // between copies varies, so only content (find the earlier
          // occurrence of the current token, copy what followed it) predicts
          // them: with a periodic fill, a model built the period out of fixed
          // position offsets instead (no induction head).
          const int fill_max =
              std::max(n_min, o_.fill_span_max > 0 ? std::min(o_.fill_span_max, len / 2) : len / 4);
          for (int i = 0; i < len; ++i) seq[i] = random_token();
          // Two-back segments a b p(a) p(b) p(p(a)) ...: every token is a fixed
          // permutation p of the token two before it. Only attention to the
          // previous token predicts the next one here, so previous-token heads
          // (the first half of an induction circuit) are rewarded on their
          // own. p is not the identity on purpose: a previous-token head that
          // learned to copy would write the previous token where the token's
          // own embedding is, and a later head could then not tell "my
          // predecessor is X" (the induction key) from "I am X" (a duplicate).
          for (int k = 0; k < o_.fill_alternations; ++k) {
            const int m = std::min(len, 4 + static_cast<int>(rng_.below(9)));
            const int at = static_cast<int>(rng_.below(static_cast<uint32_t>(len - m + 1)));
            const uint32_t pool = static_cast<uint32_t>(two_back_pool_.size());
            seq[at] = two_back_pool_[rng_.below(pool)];
            seq[at + 1] = two_back_pool_[rng_.below(pool)];
            for (int i = 2; i < m; ++i) seq[at + i] = two_back_[seq[at + i - 2]];
          }
          int copied = 0;
          for (int tries = 0; copied < len / 2 && tries < 64; ++tries) {
            const int m = n_min + static_cast<int>(rng_.below(static_cast<uint32_t>(fill_max - n_min + 1)));
            // (No extra draws unless --fill-near-frac is set: runs without
            // it see the same sequences as before it existed.)
            if (o_.fill_near_frac > 0 && rng_.uniform() < o_.fill_near_frac) {
              const int d = 2 + static_cast<int>(rng_.below(7));  // 2..8 back
              if (len < m + d) continue;
              const int from = static_cast<int>(rng_.below(static_cast<uint32_t>(len - m - d + 1)));
              for (int i = 0; i < m; ++i) seq[from + d + i] = seq[from + i];  // in order: periodic if d < m
              copied += m;
              // Not a span for induction_losses (its "first copy" may be
              // copies too), and the span recorded so far no longer counts
              // if this wrote over it.
              const Span& s = spans_[b];
              const int w0 = from + d, w1 = from + d + m;
              if (s.n > 0 && ((w0 < s.a + s.n && w1 > s.a) || (w0 < s.b + s.n && w1 > s.b))) spans_[b] = Span{};
              continue;
            }
            const int from = static_cast<int>(rng_.below(static_cast<uint32_t>(len - 2 * m + 1)));
            const int to = from + m + static_cast<int>(rng_.below(static_cast<uint32_t>(len - 2 * m - from + 1)));
            for (int i = 0; i < m; ++i) seq[to + i] = seq[from + i];
            copied += m;
            spans_[b] = Span{from, to, m};  // the last copy: nothing overwrites it
          }
        } else if (random_span) {
          for (int i = 0; i < n; ++i) seq[a + i] = random_token();
          spans_[b] = Span{a, a + n, n};
        } else {
          const size_t from = rng_.below(static_cast<uint32_t>(ids_.size() - n));
          for (int i = 0; i < n; ++i) seq[a + i] = ids_[from + i];
        }
        if (!(all_induction && o_.induction_fill))
          for (int i = 0; i < n; ++i) seq[a + n + i] = seq[a + i];
      }
      std::copy(seq.begin(), seq.begin() + T, inputs.begin() + static_cast<size_t>(b) * T);
      std::copy(seq.begin() + 1, seq.end(), targets.begin() + static_cast<size_t>(b) * T);
    }
  }

  // Sums the per-token losses of the random-token spans of the last batch:
  // first copy (tokens a+1 .. a+n-1: unpredictable, ~ln V) and second copy
  // (tokens a+n+1 .. a+2n-1: predictable by copying from context).
  // losses[t] is the loss of predicting token t + 1.
  void induction_losses(const float* losses, int T, double* first, double* second, long* n_first,
                        long* n_second) const {
    for (size_t b = 0; b < spans_.size(); ++b) {
      const Span& s = spans_[b];
      if (s.n == 0) continue;
      const float* l = losses + b * static_cast<size_t>(T);
      for (int t = s.a; t < s.a + s.n - 1; ++t, ++*n_first) *first += l[t];
      for (int t = s.b; t < s.b + s.n - 1; ++t, ++*n_second) *second += l[t];
    }
  }

 private:
  struct Span {
    int a = 0;  // offset of the first copy in the sequence
    int b = 0;  // offset of the second copy
    int n = 0;  // span length; 0 = no random-token span in this sequence
  };
  std::vector<Span> spans_;  // (B) of the last batch
  std::vector<int> random_ids_;  // the random-span token pool (empty: all ids)
  static constexpr int kTwoBackPool = 64;
  std::vector<int> two_back_pool_;     // tokens of the --fill-alternations segments
  std::vector<int> two_back_;          // (V) their permutation p; -1 outside the pool
  const std::vector<int>& ids_;
  int vocab_size_;
  const TrainOptions& o_;
  hl::Rng rng_;
};

struct EvalResult {
  double loss_nats = 0.0;  // mean per token
  double bits_per_byte = 0.0;
  size_t tokens = 0;
  size_t bytes = 0;
};

// Mean next-token loss over the first eval_tokens targets of the validation
// ids, in windows of T + 1 consecutive tokens (stride T), and bits per byte:
// total nats / bytes of the predicted tokens / ln 2.
EvalResult evaluate(hl::Trainer& trainer, const std::vector<int>& val, int eval_tokens,
                    const hl::Tokenizer& tokenizer) {
  const int B = trainer.batch_size(), T = trainer.seq_len();
  const size_t n_windows_avail = (val.size() - 1) / T;
  const size_t n_windows =
      std::min(n_windows_avail, static_cast<size_t>((eval_tokens + T - 1) / T));
  std::vector<int> inputs(static_cast<size_t>(B) * T), targets(inputs.size());
  double nats = 0.0;
  EvalResult r;
  for (size_t w0 = 0; w0 < n_windows; w0 += B) {
    const int used = static_cast<int>(std::min<size_t>(B, n_windows - w0));
    for (int b = 0; b < B; ++b) {
      const size_t start = (w0 + std::min(b, used - 1)) * T;  // pad with the last window
      for (int t = 0; t < T; ++t) {
        inputs[static_cast<size_t>(b) * T + t] = val[start + t];
        targets[static_cast<size_t>(b) * T + t] = val[start + t + 1];
      }
    }
    trainer.forward(inputs.data(), targets.data());
    const float* losses = trainer.token_losses();
    for (int i = 0; i < used * T; ++i) {
      nats += losses[i];
      r.bytes += tokenizer.token_bytes(targets[i]).size();
    }
    r.tokens += static_cast<size_t>(used) * T;
  }
  r.loss_nats = r.tokens ? nats / r.tokens : 0.0;
  r.bits_per_byte = r.bytes ? nats / r.bytes / std::log(2.0) : 0.0;
  return r;
}

// --init-from: copies the weights of model folder `dir` into params, which
// must have the same shape, after checking that the folder's tokenizer files
// are the ones this run trains with. Returns the folder's training log (how
// it was made: all but its checkpoints, and only its last eval) for this
// run's log, or just {"dir": dir} if it has none.
nlohmann::json init_from_folder(const std::string& dir, hl::Weights& params,
                                const std::string& vocab_json, const std::string& merges_txt) {
  const hl::ModelConfig c = hl::parse_config(read_file(model_file(dir, "config.json")));
  const hl::ModelConfig& want = params.config;
  auto shape = [](const hl::ModelConfig& m) {
    return std::to_string(m.n_layer) + " layers, " + std::to_string(m.n_head) + " heads, d " +
           std::to_string(m.n_embd) + ", " + std::to_string(m.n_positions) + " positions, vocab " +
           std::to_string(m.vocab_size) + (m.attn_only ? ", attention only" : "");
  };
  if (c.n_layer != want.n_layer || c.n_head != want.n_head || c.n_embd != want.n_embd ||
      c.n_positions != want.n_positions || c.vocab_size != want.vocab_size ||
      c.attn_only != want.attn_only)
    throw hl::Error("--init-from " + dir + ": the model there has " + shape(c) +
                    ", this run trains " + shape(want));
  if (read_file(model_file(dir, "vocab.json")) != vocab_json ||
      read_file(model_file(dir, "merges.txt")) != merges_txt)
    throw hl::Error("--init-from " + dir + ": its vocab.json/merges.txt differ from --tokenizer's");
  const std::string bytes = read_file(model_file(dir, "model.safetensors"));
  const hl::SafeTensors st =
      hl::parse_safetensors(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  const hl::Weights loaded = hl::load_weights(c, st);
  std::copy(loaded.block.begin(), loaded.block.end(), params.block.begin());
  nlohmann::json made = {{"dir", dir}};
  std::ifstream log_file(model_file(dir, "train_log.json"));
  if (log_file) {
    const nlohmann::json log = nlohmann::json::parse(log_file, nullptr, false);
    if (log.is_object())
      for (const auto& [key, value] : log.items()) {
        if (key == "checkpoints") continue;
        if (key == "evals") {
          if (value.is_array() && !value.empty()) made["last_eval"] = value.back();
          continue;
        }
        made[key] = value;
      }
  }
  return made;
}

}  // namespace

int cmd_train(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::fputs(kTrainUsage, stdout);
      return 0;
    }
  }
  TrainOptions o;
  try {
    o = parse_options(argc, argv);
  } catch (const hl::Error& e) {
    std::fprintf(stderr, "headlight train: %s\n", e.what());
    return 2;
  }
  std::string command_line = "headlight";
  for (int i = 0; i < argc; ++i) command_line += std::string(" ") + argv[i];

  const std::string vocab_json = read_file(model_file(o.tokenizer_dir, "vocab.json"));
  const std::string merges_txt = read_file(model_file(o.tokenizer_dir, "merges.txt"));
  const hl::Tokenizer tokenizer(vocab_json, merges_txt);
  const uint64_t tok_hash = fnv1a(merges_txt, fnv1a(vocab_json));
  const std::vector<int> train_ids = encode_file_cached(o.train_path, tokenizer, tok_hash);
  const std::vector<int> val_ids = encode_file_cached(o.val_path, tokenizer, tok_hash);
  const int T = o.model.n_positions;
  if (train_ids.size() < static_cast<size_t>(T) + 2)
    throw hl::Error(o.train_path + ": only " + std::to_string(train_ids.size()) +
                    " tokens, fewer than n_positions + 2");
  if (val_ids.size() < static_cast<size_t>(T) + 1)
    throw hl::Error(o.val_path + ": only " + std::to_string(val_ids.size()) +
                    " tokens, fewer than n_positions + 1");

  o.model.vocab_size = tokenizer.vocab_size();
  hl::Weights params = hl::allocate_weights(o.model);
  nlohmann::json init_from;
  if (o.init_from.empty()) {
    hl::init_gpt2_weights(params, o.seed);
    if (o.wpe_init == "sinusoidal") hl::init_sinusoidal_positions(params, 0.02f);
  } else {
    init_from = init_from_folder(o.init_from, params, vocab_json, merges_txt);
    std::fprintf(stderr, "weights from %s\n", o.init_from.c_str());
  }
  hl::Trainer trainer(params, o.batch, T, o.threads);
  BatchSampler sampler(train_ids, tokenizer.vocab_size(), o);

  std::fprintf(stderr,
               "model: %d layers, %d heads, d=%d, ctx=%d, vocab=%d%s: %zu parameters\n"
               "batch %d x %d tokens, %d steps, lr %g (warm-up %d, cosine to %g), %d threads\n",
               o.model.n_layer, o.model.n_head, o.model.n_embd, T, o.model.vocab_size,
               o.model.attn_only ? ", attention only" : "", params.num_parameters(), o.batch, T,
               o.steps, o.opt.lr, o.opt.warmup_steps, o.opt.lr * o.opt.min_lr_frac, o.threads);

  make_dirs(o.out_dir);
  std::set<int> checkpoint_steps = log_spaced_steps(o.checkpoints, o.steps);
  nlohmann::json log;
  log["command"] = command_line;
  log["model"] = nlohmann::json::parse(hl::config_to_json(o.model));
  log["parameters"] = params.num_parameters();
  if (!init_from.is_null()) log["init_from"] = init_from;
  if (o.end_with_warmup) log["end_with_warmup"] = true;
  log["train_tokens"] = train_ids.size();
  log["val_tokens"] = val_ids.size();
  log["data_mix"] = {{"induction_frac", o.induction_frac},
                     {"repeat_text_frac", o.repeat_text_frac},
                     {"induction_warmup_steps", o.induction_warmup_steps},
                     {"induction_warmup_gap", o.induction_warmup_gap},
                     {"induction_fill", o.induction_fill},
                     {"fill_span_max", o.fill_span_max},
                     {"fill_near_frac", o.fill_near_frac},
                     {"fill_alternations", o.fill_alternations},
                     {"fill_alternations_steps", o.fill_alternations_steps},
                     {"random_vocab", o.random_vocab},
                     {"wpe_init", o.wpe_init},
                     {"mlp_off_steps", o.mlp_off_steps},
                     {"shallow_steps", o.shallow_steps},
                     {"shallow_layers", o.shallow_layers},
                     {"seq_schedule", schedule_json(o.seq_schedule)},
                     {"note",
                      "induction: random-token span of n in [max(4,(T+1)/16), (T+1)/2] tokens at a random "
                      "offset in training text, then the same span; repeat_text: the same with a "
                      "natural-text span; rest: consecutive training text. "
                      "train_loss is over this mix, val_loss over plain validation text."}};
  log["optimizer"] = {{"lr", o.opt.lr},
                      {"min_lr_frac", o.opt.min_lr_frac},
                      {"warmup", o.opt.warmup_steps},
                      {"beta1", o.opt.beta1},
                      {"beta2", o.opt.beta2},
                      {"eps", o.opt.eps},
                      {"weight_decay", o.opt.weight_decay},
                      {"grad_clip", o.opt.grad_clip},
                      {"batch", o.batch},
                      {"seed", o.seed},
                      {"threads", o.threads}};
  log["evals"] = nlohmann::json::array();
  log["checkpoints"] = nlohmann::json::array();
  const std::string log_path = model_file(o.out_dir, "train_log.json");
  auto write_log = [&] {
    const std::string text = log.dump(1);
    write_file(log_path, text.data(), text.size());
  };

  const auto t_start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  };
  const double tokens_per_step = static_cast<double>(o.batch) * T;
  const double flops_per_step = trainer.flops_per_step();  // at the full length T, MLPs on
  double flops_done = 0.0;  // all steps so far (shorter --seq-schedule stages cost less)
  double window_flops = 0.0;
  // The sequence length of a step: the --seq-schedule stage it falls in, else T.
  auto seq_len_at = [&](int at) {
    int end = 0;
    for (const auto& [len, steps] : o.seq_schedule)
      if (at < (end += steps)) return len;
    return T;
  };
  // The work of step `at`: its sequence length and whether the MLPs are on.
  auto flops_at = [&](int at) {
    const int len = seq_len_at(at);
    return trainer.flops_for(o.batch * T / len, len, at >= o.mlp_off_steps,
                             at < o.shallow_steps ? o.shallow_layers : 0);
  };
  double train_seconds = 0.0;  // time in training steps only (not eval/checkpoints)
  double eval_seconds = 0.0;
  double loss_sum_since_eval = 0.0;
  // Loss on the random-token (induction) sequences since the last eval/log line.
  double ind_first = 0.0, ind_second = 0.0, log_ind_first = 0.0, log_ind_second = 0.0;
  long n_ind_first = 0, n_ind_second = 0, log_n_ind_first = 0, log_n_ind_second = 0;
  int steps_since_eval = 0;
  double window_seconds = 0.0;
  int window_steps = 0;
  const double time_limit_s = o.time_limit_min * 60.0;
  bool stopped_by_time = false;

  auto run_eval = [&](int step, float lr) {
    const auto t0 = std::chrono::steady_clock::now();
    // Validation always runs at the full length.
    const int stage_B = trainer.batch_size(), stage_T = trainer.seq_len();
    trainer.set_batch_shape(o.batch, T);
    const EvalResult r = evaluate(trainer, val_ids, o.eval_tokens, tokenizer);
    trainer.set_batch_shape(stage_B, stage_T);
    eval_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double train_loss = steps_since_eval ? loss_sum_since_eval / steps_since_eval : NAN;
    const double tok_s = train_seconds > 0 ? step * tokens_per_step / train_seconds : 0.0;
    const double gflops = train_seconds > 0 ? flops_done / train_seconds / 1e9 : 0.0;
    nlohmann::json e = {
        {"step", step},
        {"tokens_seen", static_cast<double>(step) * tokens_per_step},
        {"train_loss", std::isfinite(train_loss) ? nlohmann::json(train_loss) : nlohmann::json()},
        {"val_loss", r.loss_nats},
        {"val_bits_per_byte", r.bits_per_byte},
        {"val_eval_tokens", r.tokens},
        {"val_eval_bytes", r.bytes},
        {"lr", lr},
        {"elapsed_s", elapsed()},
        {"tokens_per_s", tok_s},
        {"gflops", gflops}};
    if (n_ind_first > 0 && n_ind_second > 0) {
      e["induction_loss_first_half"] = ind_first / n_ind_first;
      e["induction_loss_repeated_half"] = ind_second / n_ind_second;
    }
    ind_first = ind_second = 0.0;
    n_ind_first = n_ind_second = 0;
    log["evals"].push_back(e);
    char train_text[32] = "-";  // no training step yet at step 0
    if (std::isfinite(train_loss)) std::snprintf(train_text, sizeof train_text, "%.4f", train_loss);
    std::fprintf(stderr,
                 "eval step %6d | train loss %s | val loss %.4f nats/token, %.4f bits/byte "
                 "(%zu tokens) | %.0f s\n",
                 step, train_text, r.loss_nats, r.bits_per_byte, r.tokens, elapsed());
    loss_sum_since_eval = 0.0;
    steps_since_eval = 0;
    write_log();
  };

  std::vector<int> inputs(static_cast<size_t>(o.batch) * T), targets(inputs.size());
  run_eval(0, 0.0f);
  int step = 0;
  float last_lr = 0.0f;
  const int requested_steps = o.steps;
  double fit_flops = 0.0;     // flops_done and train_seconds at the last schedule fit
  double fit_seconds = 0.0;
  int refit_at = -1;          // a step at which to fit the schedule again
  if (o.mlp_off_steps > 0) {
    trainer.set_mlp_enabled(false);
    std::fprintf(stderr, "MLPs off (attention only) for the first %d steps\n", o.mlp_off_steps);
  }
  if (o.shallow_steps > 0) {
    trainer.set_active_layers(o.shallow_layers);
    std::fprintf(stderr, "only the first %d blocks for the first %d steps\n", o.shallow_layers,
                 o.shallow_steps);
  }
  while (step < o.steps) {
    const auto t0 = std::chrono::steady_clock::now();
    const bool in_warmup = step < o.induction_warmup_steps;
    if (o.fill_alternations_steps > 0 && step == o.fill_alternations_steps) o.fill_alternations = 0;
    if (!trainer.mlp_enabled() && step >= o.mlp_off_steps) {
      trainer.set_mlp_enabled(true);
      log["mlp_on_at"] = step;
      std::fprintf(stderr, "step %d: MLPs on\n", step);
    }
    if (trainer.active_layers() < o.model.n_layer && step >= o.shallow_steps) {
      trainer.set_active_layers(o.model.n_layer);
      log["all_layers_at"] = step;
      std::fprintf(stderr, "step %d: all %d blocks on\n", step, o.model.n_layer);
    }
    const int step_T = seq_len_at(step), step_B = o.batch * T / step_T;
    if (step_T != trainer.seq_len()) {
      trainer.set_batch_shape(step_B, step_T);
      std::fprintf(stderr, "step %d: sequences of %d tokens, batch %d\n", step, step_T, step_B);
    }
    sampler.next(step_B, step_T, inputs, targets, in_warmup);
    const float loss = trainer.forward(inputs.data(), targets.data());
    if (!std::isfinite(loss))
      throw hl::Error("loss is " + std::to_string(loss) + " at step " + std::to_string(step) +
                      " (diverged: lower --lr)");
    if (o.induction_frac > 0 || step < o.induction_warmup_steps) {
      sampler.induction_losses(trainer.token_losses(), step_T, &ind_first, &ind_second, &n_ind_first,
                               &n_ind_second);
      sampler.induction_losses(trainer.token_losses(), step_T, &log_ind_first, &log_ind_second,
                               &log_n_ind_first, &log_n_ind_second);
    }
    trainer.backward();
    last_lr = hl::learning_rate(o.opt, step);
    const float grad_norm = trainer.step(o.opt);
    ++step;
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    train_seconds += dt;
    window_seconds += dt;
    flops_done += trainer.flops_per_step();
    window_flops += trainer.flops_per_step();
    ++window_steps;
    loss_sum_since_eval += loss;
    ++steps_since_eval;

    // With a time limit, fit the schedule to it once the step time is known,
    // so the cosine still ends at min_lr when the time runs out. Re-measured
    // at steps 100 and 500 and then at every validation in the first half of
    // training, from the speed since the last fit: on a shared machine the
    // step count may grow back (up to --steps) or shrink again. A refit moves
    // the cosine a little; in the first half that is a small step in lr.
    // Also right after a warm-up that ended early: the steps left cost more.
    const bool refit = step == 10 || step == 100 || step == 500 || step == refit_at ||
                       (step > 500 && step % o.eval_every == 0 && 2 * step < o.steps);
    if (time_limit_s > 0 && refit) {
      // Seconds per floating-point operation since the previous fit (the
      // recent speed): steps of another cost (shorter --seq-schedule stages,
      // MLPs off) are priced by their work.
      const double per_flop = (train_seconds - fit_seconds) / (flops_done - fit_flops);
      fit_seconds = train_seconds;
      fit_flops = flops_done;
      const double evals_left = std::max(0.0, static_cast<double>(o.steps - step) / o.eval_every);
      const double eval_cost = eval_seconds / std::max<size_t>(1, log["evals"].size());
      double budget = time_limit_s * 0.97 - elapsed() - evals_left * eval_cost;
      int affordable = step;
      while (affordable < requested_steps) {
        const double cost = flops_at(affordable) * per_flop;
        if (cost > budget) break;
        budget -= cost;
        ++affordable;
      }
      if (affordable != o.steps) {
        std::fprintf(stderr, "time limit %.1f min: %d steps instead of %d (%.3f s/step now)\n",
                     o.time_limit_min, affordable, requested_steps,
                     flops_at(step) * per_flop);
        o.steps = std::max(step, affordable);
        o.opt.total_steps = o.steps;
        std::set<int> kept;
        for (int s : checkpoint_steps)
          if (s <= step) kept.insert(s);
        for (int s : log_spaced_steps(o.checkpoints, o.steps))
          if (s > step) kept.insert(s);
        checkpoint_steps = kept;
        log["steps_shrunk_by_time_limit"] = o.steps;
      }
    }

    if (step % o.log_every == 0 || step == o.steps) {
      char induction[96] = "";
      bool end_warmup = false;
      if (log_n_ind_first > 0 && log_n_ind_second > 0) {
        const double first = log_ind_first / log_n_ind_first;
        const double repeat = log_ind_second / log_n_ind_second;
        std::snprintf(induction, sizeof induction, " | random-span loss %.2f -> repeat %.2f",
                      first, repeat);
        end_warmup = in_warmup && o.induction_warmup_gap > 0 && step < o.induction_warmup_steps &&
                     first - repeat >= o.induction_warmup_gap;
      }
      log_ind_first = log_ind_second = 0.0;
      log_n_ind_first = log_n_ind_second = 0;
      std::fprintf(stderr,
                   "step %6d/%d | loss %.4f | lr %.2e | grad norm %.3f | %.0f tok/s | %.1f GFLOPS "
                   "| %.0f s%s\n",
                   step, o.steps, loss, last_lr, grad_norm,
                   window_steps * tokens_per_step / window_seconds,
                   window_flops / window_seconds / 1e9, elapsed(), induction);
      window_seconds = 0.0;
      window_flops = 0.0;
      window_steps = 0;
      if (end_warmup) {
        std::fprintf(stderr, "induction warm-up ends at step %d (random-span gap >= %.2f nats)\n",
                     step, o.induction_warmup_gap);
        o.induction_warmup_steps = step;
        log["induction_warmup_ended_at"] = step;
        o.mlp_off_steps = std::min(o.mlp_off_steps, step);
        o.shallow_steps = std::min(o.shallow_steps, step);
        // The warm-up's context-length stages end with it: the rest trains
        // at n_positions.
        std::vector<std::pair<int, int>> kept;
        int begin = 0;
        for (const auto& [len, steps] : o.seq_schedule) {
          if (begin >= step) break;
          kept.emplace_back(len, std::min(steps, step - begin));
          begin += steps;
        }
        o.seq_schedule = kept;
        log["data_mix"]["seq_schedule_run"] = schedule_json(o.seq_schedule);
        refit_at = step + 20;  // priced by the speed of the first steps after it
        if (o.end_with_warmup) o.steps = step;  // phase one ends here
      }
    }
    if (checkpoint_steps.count(step)) {
      char name[32];
      std::snprintf(name, sizeof name, "step-%05d", step);
      const std::string dir = model_file(model_file(o.out_dir, "checkpoints"), name);
      write_model_folder(dir, params, o.dtype, vocab_json, merges_txt,
                         {{"format", "pt"}, {"step", std::to_string(step)}});
      log["checkpoints"].push_back({{"step", step},
                                    {"dir", std::string("checkpoints/") + name},
                                    {"tokens_seen", step * tokens_per_step},
                                    {"train_loss", loss}});
    }
    if (time_limit_s > 0 && elapsed() > time_limit_s && step < o.steps) {
      std::fprintf(stderr, "time limit reached at step %d\n", step);
      stopped_by_time = true;
      break;
    }
    if (step % o.eval_every == 0 && step < o.steps) run_eval(step, last_lr);
  }
  if (!trainer.mlp_enabled()) {
    // The written folder is a model with MLPs: its last validation is of it
    // as the engine runs it, MLPs on.
    trainer.set_mlp_enabled(true);
    std::fprintf(stderr, "MLPs on for the last validation (the written model has them)\n");
  }
  if (trainer.active_layers() < o.model.n_layer) {
    trainer.set_active_layers(o.model.n_layer);
    std::fprintf(stderr, "all blocks on for the last validation (the written model has them)\n");
  }
  run_eval(step, last_lr);

  log["steps"] = step;
  log["stopped_by_time_limit"] = stopped_by_time;
  log["train_seconds"] = train_seconds;
  log["total_seconds"] = elapsed();
  log["tokens_seen"] = step * tokens_per_step;
  log["tokens_per_s"] = step * tokens_per_step / train_seconds;
  log["gflops"] = flops_done / train_seconds / 1e9;
  log["flops_per_step"] = flops_per_step;
  write_model_folder(o.out_dir, params, o.dtype, vocab_json, merges_txt,
                     {{"format", "pt"}, {"step", std::to_string(step)}});
  write_log();
  std::fprintf(stderr, "done: %d steps, %.0f tokens/s, %.1f GFLOPS, %.0f s; wrote %s\n", step,
               step * tokens_per_step / train_seconds, flops_done / train_seconds / 1e9,
               elapsed(), o.out_dir.c_str());
  return 0;
}
