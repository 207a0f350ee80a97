// headlight analyze: what each head does and which heads matter, on one text.
//
//   headlight analyze --model DIR (--text TEXT | --ids I,J,K,...) [--position P]
//                     [--mode zero|mean] [--rescan-every K] [--seed S] [--json]
//
// With --json, one JSON object (shapes: L layers, H heads, T tokens):
//   ids, tokens                  (T) the text as run
//   truncated                    the input was longer than n_positions (stderr says so)
//   head_scores, probe_scores    {previous_token, first_token, duplicate_token, induction,
//                                 local, entropy}, each [L][H] (head_types.h), on the text
//                                 and on the repeated random-token probe of `headlight eval`
//   head_types, probe_types      [L][H] the type each score set names (head_types.h)
//   ablation                     {mode, mean_loss, logprob, position, delta_mean_loss [L][H],
//                                 delta_logprob [L][H]}: the exact scan (ablation.h)
//   pruning                      {mode, rescan_every, seed, order ["l.h"], mean_loss (LH+1),
//                                 random_order, random_mean_loss}: the pruning curves
//   gradient                     [L][H] d mean loss / d gain at gain 1 (importance.h)
//   gradient_rank_correlation    Spearman rho of -gradient against delta_mean_loss
//   copying                      [L][H] the copying score of each head's OV circuit
//                                 (copying.h; weights only, in [-1, 1], > 0 copies)
//   similarity                   [L*H][L*H] 1 - mean JS divergence / ln 2 of two
//                                 heads' attention rows (similarity.h)
// Without --json, a table of every head. Bad arguments exit non-zero with one
// line naming the problem.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ablation.h"
#include "analysis.h"
#include "cli_parse.h"
#include "commands.h"
#include "copying.h"
#include "engine.h"
#include "error.h"
#include "head_types.h"
#include "importance.h"
#include "model.h"
#include "model_dir.h"
#include "similarity.h"

namespace {

const char* kUsage =
    "usage: headlight analyze --model DIR (--text TEXT | --ids I,J,K,...) [--position P]\n"
    "                         [--mode zero|mean] [--rescan-every K] [--seed S] [--json]\n"
    "  --position P      the position whose next token the scan follows (default T-2, the last\n"
    "                    with a next token)\n"
    "  --mode M          how the scan and the pruning remove a head: zero (default) or mean\n"
    "  --rescan-every K  pruning: heads removed between exact scans (default 4)\n"
    "  --seed S          pruning: seed of the random order (default 1)\n";

struct AnalyzeOptions {
  std::string model_dir;
  std::string text;
  std::vector<int> ids;
  int n_inputs = 0;
  bool has_text = false;
  int position = -1;  // -1: T - 2
  hl::AblationMode mode = hl::AblationMode::zero;
  int rescan_every = 4;
  int seed = 1;
  bool json = false;
};

// Throws hl::Error naming the first bad argument.
AnalyzeOptions parse_args(int argc, char** argv) {
  AnalyzeOptions o;
  for (int i = 1; i < argc; i++) {
    const std::string arg = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw hl::Error("option " + arg + " needs a value");
      return argv[++i];
    };
    const auto count = [&](long min, int* out) {
      const std::string v = value();
      if (!parse_int(v, min, 1 << 30, out)) {
        throw hl::Error("bad " + arg + " '" + v + "': expected a whole number >= " +
                        std::to_string(min));
      }
    };
    if (arg == "--model") {
      o.model_dir = value();
    } else if (arg == "--text") {
      o.text = value();
      o.has_text = true;
      o.n_inputs++;
    } else if (arg == "--ids") {
      o.ids = parse_ids(value());
      o.n_inputs++;
    } else if (arg == "--position") {
      count(0, &o.position);
    } else if (arg == "--mode") {
      o.mode = hl::parse_ablation_mode(value());
    } else if (arg == "--rescan-every") {
      count(1, &o.rescan_every);
    } else if (arg == "--seed") {
      count(0, &o.seed);
    } else if (arg == "--json") {
      o.json = true;
    } else {
      throw hl::Error("unknown option '" + arg + "' (see headlight analyze --help)");
    }
  }
  if (o.model_dir.empty()) throw hl::Error("--model DIR is required");
  if (o.n_inputs == 0) throw hl::Error("no text: give exactly one of --text, --ids");
  if (o.n_inputs > 1) throw hl::Error("more than one text: give one --text or one --ids");
  if (o.has_text && o.text.empty()) throw hl::Error("empty --text: nothing to analyze");
  return o;
}

using Json = nlohmann::json;

// (L * H) values -> [L][H].
template <typename F>
Json per_head(const hl::ModelConfig& cfg, F&& at) {
  Json rows = Json::array();
  for (int l = 0; l < cfg.n_layer; l++) {
    Json row = Json::array();
    for (int h = 0; h < cfg.n_head; h++) row.push_back(at(l * cfg.n_head + h));
    rows.push_back(std::move(row));
  }
  return rows;
}

// The six scores as {name: [L][H]}, and the types they name.
Json scores_json(const hl::ModelConfig& cfg, const std::vector<hl::HeadTypeScores>& s) {
  return {
      {"previous_token", per_head(cfg, [&](int i) { return s[i].previous_token; })},
      {"first_token", per_head(cfg, [&](int i) { return s[i].first_token; })},
      {"duplicate_token", per_head(cfg, [&](int i) { return s[i].duplicate_token; })},
      {"induction", per_head(cfg, [&](int i) { return s[i].induction; })},
      {"local", per_head(cfg, [&](int i) { return s[i].local; })},
      {"entropy", per_head(cfg, [&](int i) { return s[i].entropy; })},
  };
}

Json types_json(const hl::ModelConfig& cfg, const std::vector<hl::HeadTypeScores>& s) {
  return per_head(cfg, [&](int i) { return hl::head_type(s[i]); });
}

// Head index l * H + h -> "l.h".
Json head_names(const hl::ModelConfig& cfg, const std::vector<int>& heads) {
  Json names = Json::array();
  for (int i : heads) {
    names.push_back(std::to_string(i / cfg.n_head) + "." + std::to_string(i % cfg.n_head));
  }
  return names;
}

void print_table(const hl::ModelConfig& cfg, const std::vector<hl::HeadTypeScores>& text,
                 const std::vector<hl::HeadTypeScores>& probe, const hl::AblationScan& scan) {
  std::printf("%-5s %-16s %-16s %9s %9s %9s %14s\n", "head", "type (text)", "type (probe)",
              "prev", "induct", "dup", "d mean loss");
  for (int i = 0; i < cfg.n_layer * cfg.n_head; i++) {
    const std::string name = std::to_string(i / cfg.n_head) + "." + std::to_string(i % cfg.n_head);
    std::printf("%-5s %-16s %-16s %9.3f %9.3f %9.3f %+14.5f\n", name.c_str(),
                hl::head_type(text[i]).c_str(), hl::head_type(probe[i]).c_str(),
                probe[i].previous_token, probe[i].induction, probe[i].duplicate_token,
                scan.delta_mean_loss[i]);
  }
  std::printf("mean loss %.4f nats/token; scan (%s) at position %d\n", scan.mean_loss,
              hl::ablation_mode_name(scan.mode), scan.position);
}

}  // namespace

int cmd_analyze(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    if (std::string(argv[i]) == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  const AnalyzeOptions o = parse_args(argc, argv);
  const std::shared_ptr<const hl::Model> model = load_model_dir(o.model_dir);
  const hl::ModelConfig& cfg = model->config;
  // (A --text is at most an argument's length, 128 KB: tokenized whole.)
  const std::vector<int> ids = o.has_text ? model->tokenizer.encode(o.text) : o.ids;

  hl::Engine engine(model);
  engine.run(ids, 1);
  // As headlight run: a text longer than n_positions is cut, and stderr says so.
  if (engine.trace().truncated) {
    std::fprintf(stderr,
                 "headlight analyze: input has %d tokens; the model reads at most %d "
                 "(n_positions), so only the first %d were analyzed\n",
                 engine.trace().n_input_tokens, cfg.n_positions, engine.trace().T);
  }
  // The scan first: it checks the position (and that there is a next token)
  // before the slower parts run.
  const hl::AblationScan scan = engine.ablation_scan(o.mode, o.position, {});
  const hl::Trace& tr = engine.trace();
  const std::vector<hl::HeadTypeScores> text_scores =
      hl::head_type_scores_all(tr.attn_probs.data(), cfg.n_layer, cfg.n_head, tr.ids);
  // (L*H, L*H) similarity of the heads' patterns, and d mean loss / d gain at
  // gain 1 (one backward pass), on the text as run.
  const std::vector<float> similarity =
      hl::attention_similarity(tr.attn_probs.data(), cfg.n_layer, cfg.n_head, tr.T);
  const std::vector<float> gradient = hl::gradient_importance(
      *model, tr.ids, std::vector<float>(static_cast<size_t>(cfg.n_layer) * cfg.n_head, 1.0f));
  // Muting a head from gain 1 changes the loss by about -gradient: the rank
  // correlation of that with the exact zero-ablation scan.
  std::vector<float> predicted_delta(gradient.size());
  for (size_t i = 0; i < gradient.size(); ++i) predicted_delta[i] = -gradient[i];
  const double rho = hl::spearman_rho(predicted_delta, scan.delta_mean_loss);
  hl::RepeatedSequenceProbe probe;  // as headlight eval's defaults
  probe.half_len = std::min(64, cfg.n_positions / 2);
  const std::vector<hl::HeadTypeScores> probe_scores = hl::probe_head_type_scores(model, probe);

  hl::PruningOptions pruning;
  pruning.mode = o.mode;
  pruning.rescan_every = o.rescan_every;
  pruning.seed = static_cast<uint64_t>(o.seed);
  const hl::PruningCurve curve = engine.pruning_curve(pruning, {});
  const hl::CopyingScores copying = hl::copying_scores(*model);

  if (!o.json) {
    print_table(cfg, text_scores, probe_scores, scan);
    return 0;
  }
  Json out;
  out["ids"] = tr.ids;
  out["truncated"] = tr.truncated;  // the input was longer than n_positions: its start was run
  Json tokens = Json::array();
  for (int id : tr.ids) tokens.push_back(hl::token_display(*model, id));
  out["tokens"] = std::move(tokens);
  out["n_layer"] = cfg.n_layer;
  out["n_head"] = cfg.n_head;
  out["head_scores"] = scores_json(cfg, text_scores);
  out["head_types"] = types_json(cfg, text_scores);
  out["probe_scores"] = scores_json(cfg, probe_scores);
  out["probe_types"] = types_json(cfg, probe_scores);
  out["probe"] = {{"half_len", probe.half_len}, {"sequences", probe.n_sequences},
                  {"seed", probe.seed}};
  out["ablation"] = {
      {"mode", hl::ablation_mode_name(scan.mode)},
      {"position", scan.position},
      {"mean_loss", scan.mean_loss},
      {"logprob", scan.logprob},
      {"delta_mean_loss", per_head(cfg, [&](int i) { return scan.delta_mean_loss[i]; })},
      {"delta_logprob", per_head(cfg, [&](int i) { return scan.delta_logprob[i]; })},
  };
  out["pruning"] = {
      {"mode", hl::ablation_mode_name(curve.mode)},
      {"rescan_every", curve.rescan_every},
      {"seed", o.seed},
      {"order", head_names(cfg, curve.order)},
      {"mean_loss", curve.mean_loss},
      {"random_order", head_names(cfg, curve.random_order)},
      {"random_mean_loss", curve.random_mean_loss},
  };
  out["gradient"] = per_head(cfg, [&](int i) { return gradient[i]; });
  out["gradient_rank_correlation"] = rho;  // Spearman: -gradient vs the scan's delta_mean_loss
  out["copying"] = per_head(cfg, [&](int i) { return copying.score[i]; });
  Json rows = Json::array();
  const size_t n = static_cast<size_t>(cfg.n_layer) * cfg.n_head;
  for (size_t a = 0; a < n; ++a)
    rows.push_back(std::vector<float>(similarity.begin() + a * n, similarity.begin() + (a + 1) * n));
  out["similarity"] = std::move(rows);
  std::puts(out.dump().c_str());
  return 0;
}
