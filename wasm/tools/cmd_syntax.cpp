// headlight syntax: which part-of-speech pairs each head attends between
// above chance, on the tagged Brown probe (wasm/core/syntax.h; definitions in
// docs/heads.md, "Syntactic heads").
//
//   headlight syntax --model DIR [--probe FILE] [--top N] [--json]
//
// With --json, one JSON object (L layers, H heads, G tags):
//   probe        {file, sentences, tokens, untagged}
//   tags         (G) names; queries (G) queries q >= 1 of each tag
//   thresholds   {ratio, min_share, min_queries}
//   share, chance_share  [L][H][G][G]: mass and chance / queries of the query tag
//   heads        [L][H] {syntactic, pairs: [{query, key, share, chance_share, ratio}]}
//                the counted pairs, highest ratio first, at most N (default 5)
//   syntactic    ["l.h", ...]
// Without --json, one line per syntactic head and its top pairs.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_parse.h"
#include "commands.h"
#include "error.h"
#include "model_dir.h"
#include "syntax_run.h"

namespace {

const char* kUsage =
    "usage: headlight syntax --model DIR [--probe FILE] [--top N] [--json]\n"
    "  Runs every sentence of a part-of-speech probe (default\n"
    "  web/public/probes/brown-pos.json, from the repository root) and gives each\n"
    "  head's query-tag -> key-tag pairs above chance (its positional profile),\n"
    "  at most N per head (default 5), and which heads are syntactic.\n";

constexpr const char* kDefaultProbe = "web/public/probes/brown-pos.json";

std::string head_name(int l, int h) { return std::to_string(l) + "." + std::to_string(h); }

}  // namespace

int cmd_syntax(int argc, char** argv) {
  std::string model_dir, probe_file = kDefaultProbe;
  int top = hl::kSyntaxTopPairs;
  bool json = false;
  const OptionSetters setters = {
      {"--model", [&](const std::string& v) { model_dir = v; }},
      {"--probe", [&](const std::string& v) { probe_file = v; }},
      {"--top",
       [&](const std::string& v) {
         if (!parse_int(v, 1, 1000, &top)) throw hl::Error("bad --top '" + v + "': expected 1..1000");
       }},
  };
  if (!parse_options(argc, argv, "syntax", kUsage, setters, &json)) return 2;
  if (model_dir.empty()) {
    std::fputs("headlight syntax: --model DIR is required (headlight syntax --help)\n", stderr);
    return 2;
  }
  const std::shared_ptr<const hl::Model> model = hl::load_model_dir(model_dir);
  const hl::PosProbe probe = hl::parse_pos_probe(hl::read_file(probe_file));
  const hl::SyntaxProbeResult r = hl::syntax_probe(model, probe);
  const int L = r.L, H = r.H, G = r.G;

  std::vector<std::string> syntactic;
  for (int l = 0; l < L; l++)
    for (int h = 0; h < H; h++)
      if (r.is_syntactic(l, h)) syntactic.push_back(head_name(l, h));

  if (!json) {
    std::printf("%d sentences, %d tokens (%d untagged); %zu of %d heads syntactic (ratio >= %.1f, share >= %.2f)\n",
                r.n_sentences, r.n_tokens, r.n_untagged, syntactic.size(), L * H, hl::kSyntaxRatio,
                hl::kSyntaxMinShare);
    for (int l = 0; l < L; l++) {
      for (int h = 0; h < H; h++) {
        std::printf("  %s%s", head_name(l, h).c_str(), r.is_syntactic(l, h) ? " syntactic" : "");
        for (const hl::SyntaxPair& p : r.top_pairs(l, h, top))
          std::printf("  %s->%s %.1fx (share %.2f)", r.tags[p.query_tag].c_str(), r.tags[p.key_tag].c_str(),
                      p.ratio, p.share);
        std::printf("\n");
      }
    }
    return 0;
  }
  using Json = nlohmann::json;
  Json share = Json::array(), chance_share = Json::array(), heads = Json::array();
  for (int l = 0; l < L; l++) {
    Json share_row = Json::array(), chance_row = Json::array(), head_row = Json::array();
    for (int h = 0; h < H; h++) {
      const size_t base = (static_cast<size_t>(l) * H + h) * G * G;
      Json s = Json::array(), c = Json::array();
      for (int a = 0; a < G; a++) {
        std::vector<double> srow(G), crow(G);
        for (int b = 0; b < G; b++) {
          srow[b] = r.queries[a] > 0 ? r.mass[base + a * G + b] / r.queries[a] : 0.0;
          crow[b] = r.queries[a] > 0 ? r.chance[base + a * G + b] / r.queries[a] : 0.0;
        }
        s.push_back(srow);
        c.push_back(crow);
      }
      Json pairs = Json::array();
      for (const hl::SyntaxPair& p : r.top_pairs(l, h, top))
        pairs.push_back({{"query", r.tags[p.query_tag]}, {"key", r.tags[p.key_tag]}, {"share", p.share},
                         {"chance_share", p.chance_share}, {"ratio", p.ratio}});
      share_row.push_back(std::move(s));
      chance_row.push_back(std::move(c));
      head_row.push_back({{"syntactic", r.is_syntactic(l, h)}, {"pairs", std::move(pairs)}});
    }
    share.push_back(std::move(share_row));
    chance_share.push_back(std::move(chance_row));
    heads.push_back(std::move(head_row));
  }
  Json out;
  out["probe"] = {{"file", probe_file}, {"sentences", r.n_sentences}, {"tokens", r.n_tokens},
                  {"untagged", r.n_untagged}};
  out["tags"] = r.tags;
  out["queries"] = r.queries;
  out["thresholds"] = {{"ratio", hl::kSyntaxRatio}, {"min_share", hl::kSyntaxMinShare},
                       {"min_queries", hl::kSyntaxMinQueries}};
  out["share"] = std::move(share);
  out["chance_share"] = std::move(chance_share);
  out["heads"] = std::move(heads);
  out["syntactic"] = syntactic;
  const std::string text = out.dump() + "\n";
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}
