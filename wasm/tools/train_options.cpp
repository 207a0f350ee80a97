#include "train_options.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>
#include <type_traits>
#include <vector>

#include "error.h"

namespace {

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

// The items of a comma-separated value ("a,b"; "" is one empty item).
std::vector<std::string> split_commas(const std::string& v) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= v.size()) {
    const size_t comma = std::min(v.find(',', start), v.size());
    items.push_back(v.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

std::vector<hl::SeqStage> parse_schedule(const std::string& flag, const std::string& v) {
  std::vector<hl::SeqStage> stages;
  for (const std::string& stage : split_commas(v)) {
    const size_t colon = stage.find(':');
    if (colon == std::string::npos)
      throw hl::Error("bad stage '" + stage + "' in --seq-schedule (expected LEN:STEPS)");
    stages.push_back({parse_count(flag, stage.substr(0, colon), 1, 1 << 20),
                      parse_count(flag, stage.substr(colon + 1), 0, 100000000)});
  }
  return stages;
}

// --checkpoint-steps: FROM:TO:COUNT or STEP, comma-separated.
std::vector<hl::CheckpointRange> parse_checkpoint_ranges(const std::string& flag,
                                                         const std::string& v) {
  std::vector<hl::CheckpointRange> ranges;
  for (const std::string& item : split_commas(v)) {
    const size_t c1 = item.find(':');
    hl::CheckpointRange r;
    if (c1 == std::string::npos) {
      r.from = r.to = parse_count(flag, item, 1, 100000000);
    } else {
      const size_t c2 = item.find(':', c1 + 1);
      if (c2 == std::string::npos)
        throw hl::Error("bad range '" + item + "' in " + flag + " (expected FROM:TO:COUNT or STEP)");
      r.from = parse_count(flag, item.substr(0, c1), 1, 100000000);
      r.to = parse_count(flag, item.substr(c1 + 1, c2 - c1 - 1), r.from, 100000000);
      r.count = parse_count(flag, item.substr(c2 + 1), 1, 1000);
    }
    ranges.push_back(r);
  }
  return ranges;
}

nlohmann::json checkpoint_ranges_json(const std::vector<hl::CheckpointRange>& ranges) {
  nlohmann::json out = nlohmann::json::array();
  for (const hl::CheckpointRange& r : ranges)
    out.push_back({{"from", r.from}, {"to", r.to}, {"count", r.count}});
  return out;
}

const char* dtype_name(hl::DType d) {
  return d == hl::DType::F32 ? "f32" : d == hl::DType::BF16 ? "bf16" : "f16";
}

// One row of the table. parse sets the field from the flag's value (a
// switch gets ""); value reads it back, for --help and the log.
struct Option {
  const char* flag;
  const char* group;  // --help section
  const char* log;    // "section.key" in train_log.json, or nullptr
  const char* help;
  bool takes_value;
  std::function<void(TrainOptions&, const std::string& flag, const std::string& v)> parse;
  std::function<nlohmann::json(const TrainOptions&)> value;
  const char* meta = nullptr;  // what a text value is (FILE, DIR), for --help
};

// A field of TrainOptions, for const and non-const access alike.
#define FIELD(path) [](auto& o) -> auto& { return o.path; }

// The value of field `get` as JSON.
template <class Get>
std::function<nlohmann::json(const TrainOptions&)> shows(Get get) {
  return [=](const TrainOptions& o) { return nlohmann::json(get(o)); };
}

template <class Get>
Option count(const char* flag, Get get, int min, int max, const char* group, const char* log,
             const char* help) {
  auto parse = [=](TrainOptions& o, const std::string& f, const std::string& v) {
    get(o) = parse_count(f, v, min, max);
  };
  return {flag, group, log, help, true, parse, shows(get)};
}

template <class Get>
Option number(const char* flag, Get get, double min, double max, const char* group,
              const char* log, const char* help) {
  auto parse = [=](TrainOptions& o, const std::string& f, const std::string& v) {
    using T = std::remove_reference_t<decltype(get(o))>;
    get(o) = static_cast<T>(parse_number(f, v, min, max));
  };
  return {flag, group, log, help, true, parse, shows(get)};
}

template <class Get>
Option text(const char* flag, Get get, const char* meta, const char* group, const char* help) {
  auto parse = [=](TrainOptions& o, const std::string&, const std::string& v) { get(o) = v; };
  return {flag, group, nullptr, help, true, parse, shows(get), meta};
}

template <class Get>
Option toggle(const char* flag, Get get, const char* group, const char* log, const char* help) {
  auto parse = [=](TrainOptions& o, const std::string&, const std::string&) { get(o) = true; };
  return {flag, group, log, help, false, parse, shows(get)};
}

const std::vector<Option>& options() {
  static const std::vector<Option> table = {
      text("--train", FIELD(train_path), "FILE", "files", "training text (UTF-8)"),
      text("--val", FIELD(val_path), "FILE", "files", "validation text"),
      text("--tokenizer", FIELD(tokenizer_dir), "DIR", "files", "folder with vocab.json and merges.txt"),
      text("--out", FIELD(out_dir), "DIR", "files", "model folder to write"),
      count("--n-layer", FIELD(model.n_layer), 1, 64, "model", nullptr, "blocks"),
      count("--n-head", FIELD(model.n_head), 1, 64, "model", nullptr, "heads per block"),
      count("--n-embd", FIELD(model.n_embd), 1, 4096, "model", nullptr, "width C"),
      count("--n-positions", FIELD(model.n_positions), 2, 4096, "model", nullptr,
            "context length T (also --ctx)"),
      toggle("--attn-only", FIELD(model.attn_only), "model", nullptr, "no MLP blocks"),
      count("--batch", FIELD(plan.batch), 1, 4096, "schedule", "optimizer.batch",
            "sequences per step"),
      count("--steps", FIELD(plan.steps), 1, 10000000, "schedule", nullptr, "optimizer steps"),
      number("--lr", FIELD(opt.lr), 0, 10, "schedule", "optimizer.lr", "peak learning rate"),
      number("--min-lr-frac", FIELD(opt.min_lr_frac), 0, 1, "schedule", "optimizer.min_lr_frac",
             "the cosine ends at lr times this"),
      count("--warmup", FIELD(opt.warmup_steps), 0, 10000000, "schedule", "optimizer.warmup",
            "linear learning-rate warm-up steps"),
      number("--weight-decay", FIELD(opt.weight_decay), 0, 10, "schedule", "optimizer.weight_decay",
             "AdamW decay of the 2-D tensors"),
      number("--grad-clip", FIELD(opt.grad_clip), 0, 1e6, "schedule", "optimizer.grad_clip",
             "global gradient norm clip (0: none)"),
      number("--seed", FIELD(mix.seed), 0, 9e15, "schedule", "optimizer.seed",
             "initial weights and batches"),
      count("--threads", FIELD(threads), 1, 256, "schedule", "optimizer.threads",
            "native threads (default: every core)"),
      number("--time-limit-min", FIELD(time_limit_min), 0, 1e6, "schedule", nullptr,
             "fit the steps to this many minutes (0: none)"),
      number("--induction-frac", FIELD(mix.induction_frac), 0, 1, "data", "data_mix.induction_frac",
             "random-token span, repeated"),
      number("--repeat-text-frac", FIELD(mix.repeat_text_frac), 0, 1, "data",
             "data_mix.repeat_text_frac", "natural-text span, repeated"),
      count("--induction-warmup-steps", FIELD(plan.induction_warmup_steps), 0, 100000000, "data",
            "data_mix.induction_warmup_steps", "only random-token repeats at first"),
      number("--induction-warmup-gap", FIELD(plan.induction_warmup_gap), 0, 100, "data",
             "data_mix.induction_warmup_gap", "end the warm-up once first - repeat >= gap nats"),
      toggle("--induction-fill", FIELD(mix.induction_fill), "data", "data_mix.induction_fill",
             "warm-up: random tokens with spans copied at random distances"),
      toggle("--copy-loss", FIELD(mix.copy_loss), "data", "data_mix.copy_loss",
             "warm-up: the loss on copy targets only (the LM head skips the rest)"),
      number("--copy-loss-others", FIELD(mix.copy_loss_others), 0, 1, "data",
             "data_mix.copy_loss_others",
             "with --copy-loss: each other target counts with this probability, weighted 1/it"),
      toggle("--periodic-fill", FIELD(mix.periodic_fill), "data", "data_mix.periodic_fill",
             "warm-up: one random span repeated end to end (period 4..(T+1)/2)"),
      count("--fill-span-max", FIELD(mix.fill_span_max), 0, 1 << 20, "data",
            "data_mix.fill_span_max", "longest copied span of the fill (0: (T+1)/4)"),
      number("--fill-near-frac", FIELD(mix.fill_near_frac), 0, 1, "data", "data_mix.fill_near_frac",
             "fill copies 2-8 positions after their source"),
      count("--fill-alternations", FIELD(mix.fill_alternations), 0, 64, "data",
            "data_mix.fill_alternations", "two-back segments a b p(a) p(b) ... per fill sequence"),
      count("--fill-alternations-steps", FIELD(plan.fill_alternations_steps), 0, 100000000, "data",
            "data_mix.fill_alternations_steps", "only in the first N steps (0: all)"),
      count("--random-vocab", FIELD(mix.random_vocab), 0, 1 << 30, "data", "data_mix.random_vocab",
            "random-span tokens from the K most frequent (0: all)"),
      {"--seq-schedule", "data", "data_mix.seq_schedule",
       "LEN:STEPS,... shorter sequences first, same tokens per step", true,
       [](TrainOptions& o, const std::string& f, const std::string& v) {
         o.plan.seq_schedule = parse_schedule(f, v);
       },
       [](const TrainOptions& o) { return schedule_json(o.plan.seq_schedule); }},
      count("--mlp-off-steps", FIELD(plan.mlp_off_steps), 0, 100000000, "data",
            "data_mix.mlp_off_steps", "MLPs off, attention only, for the first N steps"),
      count("--shallow-steps", FIELD(plan.shallow_steps), 0, 100000000, "data",
            "data_mix.shallow_steps", "only the first --shallow-layers blocks, first N steps"),
      count("--shallow-layers", FIELD(plan.shallow_layers), 1, 1000, "data",
            "data_mix.shallow_layers", "K blocks of the shallow stage"),
      {"--wpe-init", "init", "data_mix.wpe_init", "normal|sinusoidal position embeddings", true,
       [](TrainOptions& o, const std::string&, const std::string& v) {
         if (v != "normal" && v != "sinusoidal")
           throw hl::Error("bad value '" + v + "' for --wpe-init (expected normal or sinusoidal)");
         o.wpe_init = v;
       },
       [](const TrainOptions& o) { return nlohmann::json(o.wpe_init); }},
      text("--init-from", FIELD(init_from), "DIR", "init",
           "start from a model folder's weights (same shape and tokenizer)"),
      toggle("--end-with-warmup", FIELD(plan.end_with_warmup), "init", nullptr,
             "stop, and write the model, when the induction warm-up ends"),
      count("--eval-every", FIELD(eval_every), 1, 10000000, "output", nullptr,
            "steps between validations"),
      count("--eval-tokens", FIELD(eval_tokens), 1, 1 << 30, "output", nullptr,
            "validation tokens (windows of n_positions)"),
      count("--log-every", FIELD(log_every), 1, 10000000, "output", nullptr,
            "steps between log lines"),
      count("--checkpoints", FIELD(checkpoints), 0, 1000, "output", nullptr,
            "log-spaced checkpoint folders"),
      {"--checkpoint-steps", "output", nullptr,
       "FROM:TO:COUNT|STEP,... more checkpoints, evenly spaced in each range", true,
       [](TrainOptions& o, const std::string& f, const std::string& v) {
         o.checkpoint_ranges = parse_checkpoint_ranges(f, v);
       },
       [](const TrainOptions& o) { return checkpoint_ranges_json(o.checkpoint_ranges); }},
      {"--dtype", "output", nullptr, "f16|bf16|f32 weights written", true,
       [](TrainOptions& o, const std::string&, const std::string& v) {
         if (v == "f16")
           o.dtype = hl::DType::F16;
         else if (v == "f32")
           o.dtype = hl::DType::F32;
         else if (v == "bf16")
           o.dtype = hl::DType::BF16;
         else
           throw hl::Error("bad value '" + v + "' for --dtype (expected f16, bf16 or f32)");
       },
       [](const TrainOptions& o) { return nlohmann::json(dtype_name(o.dtype)); }},
  };
  return table;
}

#undef FIELD

const Option* find_option(const std::string& flag) {
  const std::string name = flag == "--ctx" ? "--n-positions" : flag;
  for (const Option& opt : options())
    if (name == opt.flag) return &opt;
  return nullptr;
}

}  // namespace

nlohmann::json schedule_json(const std::vector<hl::SeqStage>& schedule) {
  nlohmann::json stages = nlohmann::json::array();
  for (const hl::SeqStage& s : schedule)
    stages.push_back({{"seq_len", s.seq_len}, {"steps", s.steps}});
  return stages;
}

TrainOptions parse_train_options(int argc, char** argv) {
  TrainOptions o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const Option* opt = find_option(flag);
    if (!opt) throw hl::Error("unknown option " + flag);
    if (opt->takes_value && i + 1 >= argc) throw hl::Error("missing value after " + flag);
    opt->parse(o, flag, opt->takes_value ? argv[++i] : "");
  }
  if (o.train_path.empty()) throw hl::Error("missing --train FILE");
  if (o.val_path.empty()) throw hl::Error("missing --val FILE");
  if (o.tokenizer_dir.empty()) throw hl::Error("missing --tokenizer DIR");
  if (o.out_dir.empty()) throw hl::Error("missing --out DIR");
  if (o.model.n_embd % o.model.n_head != 0)
    throw hl::Error("--n-embd " + std::to_string(o.model.n_embd) +
                    " is not divisible by --n-head " + std::to_string(o.model.n_head));
  if (o.plan.mlp_off_steps > 0 && o.model.attn_only)
    throw hl::Error("--mlp-off-steps needs a model with MLPs (not --attn-only)");
  if (o.mix.induction_frac + o.mix.repeat_text_frac > 1.0f)
    throw hl::Error("--induction-frac + --repeat-text-frac must be <= 1");
  o.plan.n_positions = o.model.n_positions;
  o.plan.n_layer = o.model.n_layer;
  const hl::Curriculum check(o.plan);  // throws for stages that do not fit
  if (!o.init_from.empty() && o.wpe_init != "normal")
    throw hl::Error("--wpe-init has no effect with --init-from (the positions come from " +
                    o.init_from + ")");
  if (o.threads == 0) o.threads = std::max(1u, std::thread::hardware_concurrency());
  return o;
}

namespace {

// A default as --help shows it: floats as %g (a float's JSON has its binary digits).
std::string shown(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_number_float()) return v.dump();
  char text[32];
  std::snprintf(text, sizeof text, "%g", v.get<double>());
  return text;
}

}  // namespace

std::string train_usage() {
  const TrainOptions defaults;
  std::string usage =
      "usage: headlight train --train FILE --val FILE --tokenizer DIR --out DIR [options]\n";
  for (const char* group : {"files", "model", "schedule", "data", "init", "output"}) {
    usage += std::string("  ") + group + ":\n";
    for (const Option& opt : options()) {
      if (std::string(opt.group) != group) continue;
      std::string left = opt.flag;
      const nlohmann::json v = opt.value(defaults);
      if (opt.meta)
        left += std::string(" ") + opt.meta;
      else if (opt.takes_value && !(v.is_string() && v.get<std::string>().empty()) &&
          !(v.is_array() && v.empty()) && !(std::string(opt.flag) == "--threads"))
        left += " " + shown(v);
      left.resize(std::max<size_t>(left.size(), 34), ' ');
      usage += "    " + left + " " + opt.help + "\n";
    }
  }
  return usage;
}

nlohmann::json logged_config(const TrainOptions& o) {
  nlohmann::json log;
  for (const Option& opt : options()) {
    if (!opt.log) continue;
    const std::string place = opt.log;
    const size_t dot = place.find('.');
    log[place.substr(0, dot)][place.substr(dot + 1)] = opt.value(o);
  }
  // Not options, recorded with them.
  log["optimizer"]["beta1"] = o.opt.beta1;
  log["optimizer"]["beta2"] = o.opt.beta2;
  log["optimizer"]["eps"] = o.opt.eps;
  log["data_mix"]["note"] =
      "induction: random-token span of n in [max(4,(T+1)/16), (T+1)/2] tokens at a random "
      "offset in training text, then the same span; repeat_text: the same with a "
      "natural-text span; rest: consecutive training text. "
      "train_loss is over this mix, val_loss over plain validation text.";
  return log;
}
