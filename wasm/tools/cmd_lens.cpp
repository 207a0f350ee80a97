// headlight lens: the logit lens of a text at every layer and position, and
// (with --answer and --foil) the direct logit attribution of logit(answer) -
// logit(foil) at one position, as one JSON object (--json) or a short table.
// Definitions: docs/circuits.md.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attribution.h"
#include "commands.h"
#include "cli_parse.h"
#include "engine.h"
#include "error.h"
#include "lens.h"
#include "model.h"
#include "model_dir.h"

namespace {

const char* kUsage =
    "usage: headlight lens --model DIR --text TEXT [--answer TOKEN --foil TOKEN]\n"
    "                      [--position P] [--edit L.H=GAIN]... [--json]\n"
    "  Logit lens: the top-5 next tokens read from the residual stream entering\n"
    "  each layer and leaving the last, at every position. With --answer, that\n"
    "  token's rank and probability at each; with --foil too, the direct logit\n"
    "  attribution of logit(answer) - logit(foil) at position P (default: the last).\n"
    "  TOKEN is taken exactly as written and must be ONE token of the model's\n"
    "  vocabulary: a leading space matters (' Mary' is not 'Mary').\n";

constexpr int kTopK = 5;

struct LensOptions {
  std::string model_dir;
  std::string text;
  bool has_text = false;
  std::string answer, foil;
  bool has_answer = false, has_foil = false;
  int position = -1;  // -1: the last
  std::vector<HeadEdit> edits;
  bool json = false;
};

// Throws hl::Error for bad values; returns false (after printing) for a usage error.
bool parse_args(int argc, char** argv, LensOptions* o) {
  // Every option but --json and --help takes one value: one setter each.
  const OptionSetters setters = {
      {"--model", [&](const std::string& v) { o->model_dir = v; }},
      {"--text", [&](const std::string& v) { o->text = v, o->has_text = true; }},
      {"--answer", [&](const std::string& v) { o->answer = v, o->has_answer = true; }},
      {"--foil", [&](const std::string& v) { o->foil = v, o->has_foil = true; }},
      {"--edit", [&](const std::string& v) { o->edits.push_back(parse_edit(v)); }},
      {"--position",
       [&](const std::string& v) {
         if (!parse_int(v, 0, 1 << 30, &o->position)) {
           throw hl::Error("bad --position '" + v + "': expected a whole number >= 0");
         }
       }},
  };
  if (!parse_options(argc, argv, "lens", kUsage, setters, &o->json)) return false;
  if (o->model_dir.empty() || !o->has_text) {
    std::fputs("headlight lens: --model DIR and --text TEXT are required (headlight lens --help)\n",
               stderr);
    return false;
  }
  if (o->has_foil && !o->has_answer) {
    std::fputs("headlight lens: --foil needs --answer (the attribution is of answer - foil)\n",
               stderr);
    return false;
  }
  return true;
}

nlohmann::json lens_json(const hl::Model& model, const hl::LogitLens& lens) {
  const int P = static_cast<int>(lens.positions.size()), K = lens.top_k;
  nlohmann::json layers = nlohmann::json::array();
  for (int l = 0; l < lens.n_rows; l++) {
    nlohmann::json row = nlohmann::json::array();
    for (int p = 0; p < P; p++) {
      nlohmann::json top = nlohmann::json::array();
      for (int k = 0; k < K; k++) {
        const size_t i = (static_cast<size_t>(l) * P + p) * K + k;
        top.push_back({{"id", lens.top_k_ids[i]},
                       {"token", hl::token_display(model, lens.top_k_ids[i])},
                       {"prob", lens.top_k_probs[i]}});
      }
      row.push_back(std::move(top));
    }
    layers.push_back(std::move(row));
  }
  return layers;
}

// (L+1, P) answer ranks or probabilities as nested arrays.
template <typename X>
nlohmann::json per_layer(const std::vector<X>& v, int n_rows, int P) {
  nlohmann::json out = nlohmann::json::array();
  for (int l = 0; l < n_rows; l++) {
    out.push_back(std::vector<X>(v.begin() + static_cast<size_t>(l) * P,
                                 v.begin() + static_cast<size_t>(l + 1) * P));
  }
  return out;
}

nlohmann::json dla_json(const hl::LogitAttribution& a, int L, int H) {
  nlohmann::json heads = nlohmann::json::array();
  for (int l = 0; l < L; l++) {
    heads.push_back(std::vector<double>(a.heads.begin() + static_cast<size_t>(l) * H,
                                        a.heads.begin() + static_cast<size_t>(l + 1) * H));
  }
  return {{"position", a.position}, {"heads", heads},
          {"mlps", a.mlps},         {"embed", a.embed},
          {"bias", a.bias},         {"total", a.total},
          {"actual", a.actual},     {"error", std::fabs(a.total - a.actual)}};
}

void print_table(const hl::Model& model, const hl::Trace& tr, const hl::LogitLens& lens, int t,
                 const hl::LogitAttribution* dla) {
  const int P = static_cast<int>(lens.positions.size()), K = lens.top_k;
  std::printf("logit lens at position %d (%s)\n", t,
              nlohmann::json(hl::token_display(model, tr.ids[t])).dump().c_str());
  for (int l = 0; l < lens.n_rows; l++) {
    std::printf("  %s %-2d ", l < lens.n_rows - 1 ? "layer" : "final", l);
    for (int k = 0; k < K; k++) {
      const size_t i = (static_cast<size_t>(l) * P + t) * K + k;
      std::printf(" %s %.3f",
                  nlohmann::json(hl::token_display(model, lens.top_k_ids[i])).dump().c_str(),
                  lens.top_k_probs[i]);
    }
    if (lens.answer >= 0) {
      const size_t c = static_cast<size_t>(l) * P + t;
      std::printf("   answer rank %d p %.3f", lens.answer_rank[c], lens.answer_prob[c]);
    }
    std::printf("\n");
  }
  if (!dla) return;
  const int L = model.config.n_layer, H = model.config.n_head;
  std::printf("direct logit attribution of logit(answer) - logit(foil) at position %d\n", t);
  std::printf("  embed %+.4f  bias %+.4f\n", dla->embed, dla->bias);
  for (int l = 0; l < L; l++) {
    std::printf("  layer %d heads", l);
    for (int h = 0; h < H; h++) std::printf(" %+.3f", dla->heads[static_cast<size_t>(l) * H + h]);
    std::printf("   mlp %+.3f\n", dla->mlps[l]);
  }
  std::printf("  total %.6f  actual %.6f  error %.2g\n", dla->total, dla->actual,
              std::fabs(dla->total - dla->actual));
}

}  // namespace

int cmd_lens(int argc, char** argv) {
  LensOptions o;
  if (!parse_args(argc, argv, &o)) return 2;
  if (o.text.empty()) throw hl::Error("empty text: nothing to run");

  const std::shared_ptr<const hl::Model> model = load_model_dir(o.model_dir);
  const int answer = o.has_answer ? single_token(*model, "--answer", o.answer) : -1;
  const int foil = o.has_foil ? single_token(*model, "--foil", o.foil) : -1;

  hl::Engine engine(model);
  // Positions name tokens of the text: a text the model cannot read whole is refused, not cut.
  const std::vector<int> ids = model->tokenizer.encode(o.text);
  if (ids.size() > static_cast<size_t>(model->config.n_positions)) {
    throw hl::Error("the text is " + std::to_string(ids.size()) +
                    " tokens; the model reads at most " +
                    std::to_string(model->config.n_positions) + " (n_positions): shorten it");
  }
  // A mean edit replaces the head's z by its mean over this text (unedited model).
  for (const HeadEdit& e : o.edits) {
    if (e.mean) engine.set_head_mean(e.layer, e.head, ids);
    else engine.set_head_gain(e.layer, e.head, e.gain);
  }
  engine.run(ids, kTopK);
  const hl::Trace& tr = engine.trace();
  const int t = o.position < 0 ? tr.T - 1 : o.position;
  if (t >= tr.T) {
    throw hl::Error("--position " + std::to_string(t) + " is out of range: the text is " +
                    std::to_string(tr.T) + " tokens (positions 0.." + std::to_string(tr.T - 1) +
                    ")");
  }

  // Every position at every layer: the full (L+1, T) grid of the interface.
  const hl::LogitLens lens = hl::logit_lens(*model, tr, kTopK, answer);
  std::unique_ptr<hl::LogitAttribution> dla;
  if (foil >= 0) {
    dla = std::make_unique<hl::LogitAttribution>(
        hl::direct_logit_attribution(*model, tr, engine.head_gains(), t, answer, foil));
  }

  if (!o.json) {
    print_table(*model, tr, lens, t, dla.get());
    return 0;
  }
  const int T = tr.T;
  nlohmann::json out;
  out["ids"] = tr.ids;
  std::vector<std::string> tokens;
  for (int id : tr.ids) tokens.push_back(hl::token_display(*model, id));
  out["tokens"] = tokens;
  out["position"] = t;
  out["layers"] = lens_json(*model, lens);
  if (answer >= 0) {
    out["answer"] = {{"id", answer},
                     {"token", hl::token_display(*model, answer)},
                     {"rank", per_layer(lens.answer_rank, lens.n_rows, T)},
                     {"prob", per_layer(lens.answer_prob, lens.n_rows, T)}};
  }
  if (dla) {
    out["foil"] = {{"id", foil}, {"token", hl::token_display(*model, foil)}};
    out["dla"] = dla_json(*dla, model->config.n_layer, model->config.n_head);
  }
  const std::string text = out.dump() + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}
