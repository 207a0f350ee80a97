// headlight patch: activation patching between a clean and a corrupted text
// of the same token count, on logit(answer) - logit(foil) at the last
// position: every head's z and the residual stream at every layer and
// position, clean -> corrupted, as recovery. Definitions: docs/circuits.md.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_parse.h"
#include "commands.h"
#include "engine.h"
#include "error.h"
#include "model.h"
#include "model_dir.h"
#include "patching.h"

namespace {

const char* kUsage =
    "usage: headlight patch --model DIR --clean TEXT --corrupted TEXT\n"
    "                       --answer TOKEN --foil TOKEN [--json]\n"
    "  Activation patching on logit(answer) - logit(foil) at the last position:\n"
    "  the corrupted run with one head's z (every position), or the residual\n"
    "  stream entering one layer at one position, taken from the clean run.\n"
    "  Each figure is a recovery, (patched - corrupted) / (clean - corrupted).\n"
    "  Both texts must have the same token count. TOKEN is taken exactly as\n"
    "  written and must be ONE token: a leading space matters.\n";

struct PatchOptions {
  std::string model_dir, clean, corrupted, answer, foil;
  bool json = false;
};

// Throws hl::Error for a missing value; returns false (after printing) for a usage error.
bool parse_args(int argc, char** argv, PatchOptions* o) {
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
  if (!parse_options(argc, argv, "patch", kUsage, setters, &o->json)) return false;
  for (const auto& [flag, unused] : values) {
    if (!given[flag]) {
      std::fprintf(stderr, "headlight patch: %s is required (headlight patch --help)\n",
                   flag.c_str());
      return false;
    }
  }
  return true;
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
  std::printf("metric logit(answer) - logit(foil): clean %.4f  corrupted %.4f\n", m.clean,
              m.corrupted);
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

  const std::shared_ptr<const hl::Model> model = load_model_dir(o.model_dir);
  const int answer = single_token(*model, "--answer", o.answer);
  const int foil = single_token(*model, "--foil", o.foil);
  const hl::Engine engine(model);
  const hl::PatchingMaps m = engine.activation_patching(
      model->tokenizer.encode(o.clean), model->tokenizer.encode(o.corrupted), answer, foil);
  const int L = model->config.n_layer, H = model->config.n_head;
  const int T = static_cast<int>(m.clean_ids.size());
  if (!o.json) {
    print_table(m, L, H, T);
    return 0;
  }
  // NaN (clean == corrupted: nothing to recover) becomes null.
  const nlohmann::json out = {{"clean_ids", m.clean_ids},
                              {"corrupted_ids", m.corrupted_ids},
                              {"metric", {{"clean", m.clean}, {"corrupted", m.corrupted}}},
                              {"head_z", rows_of(m.head_z, L, H)},
                              {"residual", rows_of(m.residual, L + 1, T)}};
  const std::string text = out.dump() + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}
