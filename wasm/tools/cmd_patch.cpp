// headlight patch: activation patching between a clean and a corrupted text
// of the same token count, on logit(answer) - logit(foil) at the last
// position (or, --metric logprob, the answer's log-prob there): every head's z and the residual stream at every layer and
// position, clean -> corrupted, as recovery; on request every head's z at
// each position alone (--per-position) and a path patch (--path-sender).
// Definitions: docs/circuits.md.
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <functional>
#include <tuple>
#include <utility>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_parse.h"
#include "commands.h"
#include "error.h"
#include "model.h"
#include "model_dir.h"
#include "patching.h"

namespace {

const char* kUsage =
    "usage: headlight patch --model DIR --clean TEXT --corrupted TEXT\n"
    "                       --answer TOKEN --foil TOKEN [--json]\n"
    "                       [--metric logit_diff|logprob]\n"
    "                       [--per-position]\n"
    "                       [--path-sender L.H --path-receivers L.H,... [--path-into q,k,v]]\n"
    "  Activation patching on logit(answer) - logit(foil) at the last position\n"
    "  (--metric logprob: on log p(answer) there; --foil may then be omitted):\n"
    "  the corrupted run with one head's z (every position), or the residual\n"
    "  stream entering one layer at one position, taken from the clean run.\n"
    "  Each figure is a recovery, (patched - corrupted) / (clean - corrupted).\n"
    "  Both texts must have the same token count. TOKEN is taken exactly as\n"
    "  written and must be ONE token: a leading space matters.\n"
    "  --per-position adds head_z_pos [L][H][T]: each head's z at one position.\n"
    "  --path-sender adds path: the sender head's clean output only into the\n"
    "  receivers' chosen inputs (q, k, v; default all three).\n";

struct PatchOptions {
  std::string model_dir, clean, corrupted, answer, foil;
  std::string path_sender, path_receivers, path_into = "q,k,v";  // empty sender: no path patch
  std::string metric = "logit_diff";
  bool json = false;
  bool per_position = false;
};

// Options without a value, taken out of argv before the shared option loop.
const char* const kPerPosition = "--per-position";

// Throws hl::Error for a missing value; returns false (after printing) for a usage error.
bool parse_args(int argc, char** argv, PatchOptions* o) {
  std::vector<char*> args;  // argv without the options that take no value
  for (int i = 0; i < argc; i++) {
    if (i > 0 && std::string(argv[i]) == kPerPosition) {
      o->per_position = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  std::map<std::string, std::string*> values = {{"--model", &o->model_dir},
                                                {"--clean", &o->clean},
                                                {"--corrupted", &o->corrupted},
                                                {"--answer", &o->answer},
                                                {"--foil", &o->foil}};
  std::map<std::string, bool> given;
  OptionSetters setters;
  for (const auto& [flag, field] : values) {
    setters[flag] = [&given, flag = flag, field = field](const std::string& v) {
      *field = v;
      given[flag] = true;
    };
  }
  std::map<std::string, std::string*> optional = {{"--path-sender", &o->path_sender},
                                                  {"--path-receivers", &o->path_receivers},
                                                  {"--path-into", &o->path_into},
                                                  {"--metric", &o->metric}};
  for (const auto& [flag, field] : optional) {
    setters[flag] = [&given, flag = flag, field = field](const std::string& v) {
      *field = v;
      given[flag] = true;
    };
  }
  if (!parse_options(static_cast<int>(args.size()), args.data(), "patch", kUsage, setters,
                     &o->json)) {
    return false;
  }
  if (given["--path-sender"] != given["--path-receivers"] ||
      (given["--path-into"] && !given["--path-sender"])) {
    std::fprintf(stderr,
                 "headlight patch: --path-sender and --path-receivers go together "
                 "(--path-into with them)\n");
    return false;
  }
  // The log-prob reads no foil; a bad --metric is named first (hl::Error).
  const bool foil_needed = hl::patch_metric_from_name(o->metric) != hl::PatchMetric::logprob;
  for (const auto& [flag, unused] : values) {
    if (!given[flag] && (flag != "--foil" || foil_needed)) {
      std::fprintf(stderr, "headlight patch: %s is required (headlight patch --help)\n",
                   flag.c_str());
      return false;
    }
  }
  return true;
}

// "L.H" -> {L, H}, each in range; hl::Error naming the flag and the value.
std::pair<int, int> parse_head(const char* flag, const std::string& text, int L, int H) {
  const size_t dot = text.find('.');
  int layer = 0, head = 0;
  if (dot == std::string::npos || !parse_int(text.substr(0, dot), 0, L - 1, &layer) ||
      !parse_int(text.substr(dot + 1), 0, H - 1, &head)) {
    throw hl::Error(std::string(flag) + " '" + text + "': expected L.H with L in 0.." +
                    std::to_string(L - 1) + " and H in 0.." + std::to_string(H - 1));
  }
  return {layer, head};
}

// The path patch the --path-* options ask for; its receivers as l * H + h.
hl::PathPatch path_of(const PatchOptions& o, int L, int H) {
  hl::PathPatch path;
  std::tie(path.sender_layer, path.sender_head) = parse_head("--path-sender", o.path_sender, L, H);
  size_t begin = 0;
  while (begin <= o.path_receivers.size()) {
    const size_t end = std::min(o.path_receivers.find(',', begin), o.path_receivers.size());
    const auto [layer, head] =
        parse_head("--path-receivers", o.path_receivers.substr(begin, end - begin), L, H);
    path.receivers.push_back(layer * H + head);
    begin = end + 1;
  }
  path.q = path.k = path.v = false;
  begin = 0;
  while (begin <= o.path_into.size()) {
    const size_t end = std::min(o.path_into.find(',', begin), o.path_into.size());
    const std::string part = o.path_into.substr(begin, end - begin);
    bool* flag = part == "q" ? &path.q : part == "k" ? &path.k : part == "v" ? &path.v : nullptr;
    if (!flag) throw hl::Error("--path-into '" + o.path_into + "': expected q, k and/or v, e.g. q,k");
    *flag = true;
    begin = end + 1;
  }
  return path;
}

std::string head_label(int layer, int head) {
  return std::to_string(layer) + "." + std::to_string(head);
}

// (rows, cols) of a flat row-major vector as nested arrays.
nlohmann::json rows_of(const std::vector<float>& v, int rows, int cols) {
  nlohmann::json out = nlohmann::json::array();
  for (int r = 0; r < rows; r++) {
    out.push_back(std::vector<float>(v.begin() + static_cast<size_t>(r) * cols,
                                     v.begin() + static_cast<size_t>(r + 1) * cols));
  }
  return out;
}

void print_table(const hl::PatchingMaps& m, int L, int H, int T) {
  std::printf("metric %s: clean %.4f  corrupted %.4f\n",
              m.metric == hl::PatchMetric::logprob ? "log p(answer)" : "logit(answer) - logit(foil)",
              m.clean, m.corrupted);
  std::printf("head z recovery\n");
  for (int l = 0; l < L; l++) {
    std::printf("  layer %d", l);
    for (int h = 0; h < H; h++) std::printf(" %+.3f", m.head_z[static_cast<size_t>(l) * H + h]);
    std::printf("\n");
  }
  std::printf("residual recovery (rows: layer 0..%d, columns: position 0..%d)\n", L, T - 1);
  for (int l = 0; l <= L; l++) {
    std::printf("  %s %d", l < L ? "layer" : "final", l);
    for (int t = 0; t < T; t++) std::printf(" %+.2f", m.residual[static_cast<size_t>(l) * T + t]);
    std::printf("\n");
  }
}

}  // namespace

int cmd_patch(int argc, char** argv) {
  PatchOptions o;
  if (!parse_args(argc, argv, &o)) return 2;
  if (o.clean.empty() || o.corrupted.empty()) throw hl::Error("empty text: nothing to patch");

  const hl::PatchMetric metric = hl::patch_metric_from_name(o.metric);
  const bool logprob = metric == hl::PatchMetric::logprob;
  const std::shared_ptr<const hl::Model> model = load_model_dir(o.model_dir);
  const int answer = single_token(*model, "--answer", o.answer);
  const int foil = logprob ? -1 : single_token(*model, "--foil", o.foil);  // the log-prob reads none
  // The metric would be 0 in every run and every recovery 0 / 0 (null): say why instead.
  if (!logprob && answer == foil) {
    throw hl::Error("--answer and --foil are the same token: logit(answer) - logit(foil) is 0 in every run");
  }
  const int L = model->config.n_layer, H = model->config.n_head;
  const bool with_path = !o.path_sender.empty();
  const hl::PathPatch path = with_path ? path_of(o, L, H) : hl::PathPatch{};
  const hl::ActivationPatcher patcher(model, model->tokenizer.encode(o.clean),
                                      model->tokenizer.encode(o.corrupted), answer, foil, metric);
  // The path first: a receiver not above the sender fails before the maps run.
  const float path_metric = with_path ? patcher.path_patched(path) : 0.0f;
  const hl::PatchingMaps m = patcher.maps(true, true, o.per_position);
  const int T = static_cast<int>(m.clean_ids.size());
  const float path_recovery = hl::patch_recovery(path_metric, m.clean, m.corrupted);
  if (!o.json) {
    print_table(m, L, H, T);
    if (with_path) {
      std::printf("path patch %s -> %s (%s): metric %.4f, recovery %+.3f\n",
                  o.path_sender.c_str(), o.path_receivers.c_str(), o.path_into.c_str(),
                  path_metric, path_recovery);
    }
    return 0;
  }
  // NaN (clean == corrupted: nothing to recover) becomes null.
  nlohmann::json out = {{"clean_ids", m.clean_ids},
                        {"corrupted_ids", m.corrupted_ids},
                        {"metric", {{"clean", m.clean}, {"corrupted", m.corrupted}}},
                        {"metric_kind", hl::patch_metric_name(m.metric)},
                        {"head_z", rows_of(m.head_z, L, H)},
                        {"residual", rows_of(m.residual, L + 1, T)}};
  if (o.per_position) {
    nlohmann::json layers = nlohmann::json::array();  // [L][H][T]
    for (int l = 0; l < L; l++) {
      const std::vector<float> layer(m.head_z_pos.begin() + static_cast<size_t>(l) * H * T,
                                     m.head_z_pos.begin() + static_cast<size_t>(l + 1) * H * T);
      layers.push_back(rows_of(layer, H, T));
    }
    out["head_z_pos"] = layers;
  }
  if (with_path) {
    nlohmann::json receivers = nlohmann::json::array(), into = nlohmann::json::array();
    for (const int r : path.receivers) receivers.push_back(head_label(r / H, r % H));
    if (path.q) into.push_back("q");
    if (path.k) into.push_back("k");
    if (path.v) into.push_back("v");
    out["path"] = {{"sender", head_label(path.sender_layer, path.sender_head)},
                   {"receivers", receivers},
                   {"into", into},
                   {"metric", path_metric},
                   {"recovery", path_recovery}};
  }
  const std::string text = out.dump() + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}
