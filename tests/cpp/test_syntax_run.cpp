// The syntax probe in parts (syntax_run.h) on the shipped Brown probe: the
// batched one call equals the probe's definition run literally (each
// sentence alone through a Session, its whole attention added at once)
// bit for bit, and the parts, however grouped, equal the one call bit for
// bit; on gpt-4l (MLP blocks) and attn-only-2l (none). Prints the largest
// differences and the batches.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "error.h"
#include "fixtures.h"
#include "session.h"
#include "syntax_run.h"

namespace {

// The probe as syntax.h defines it: every sentence run alone by a Session,
// its (L, H, T, T) attention added in one go.
hl::SyntaxProbeResult probe_sentence_by_sentence(const std::shared_ptr<const hl::Model>& model,
                                                 const hl::PosProbe& probe) {
  const hl::TokenizedProbe tokens = hl::tokenize_probe(*model, probe);
  const hl::ModelConfig& cfg = model->config;
  hl::SyntaxAccumulator acc(cfg.n_layer, cfg.n_head, static_cast<int>(probe.tags.size()), tokens.max_T);
  hl::Session session(model, 1);
  for (size_t s = 0; s < tokens.ids.size(); ++s) {
    session.run(tokens.ids[s]);
    acc.add(session.trace().attn_probs.data(), tokens.tags[s]);
  }
  return hl::syntax_result(acc, probe.tags);
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

bool same_bits(const hl::SyntaxProbeResult& a, const hl::SyntaxProbeResult& b) {
  return a.n_sentences == b.n_sentences && a.n_tokens == b.n_tokens && a.n_untagged == b.n_untagged &&
         a.queries == b.queries && a.mass.size() == b.mass.size() && a.chance.size() == b.chance.size() &&
         std::memcmp(a.mass.data(), b.mass.data(), a.mass.size() * sizeof(double)) == 0 &&
         std::memcmp(a.chance.data(), b.chance.data(), a.chance.size() * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("syntax probe in parts: batched = sentence by sentence, parts = one call, bit for bit") {
  const hl::PosProbe probe =
      hl::parse_pos_probe(hl_test::read_file(std::string(HL_SOURCE_DIR) + "/web/public/probes/brown-pos.json"));
  for (const char* name : {"gpt-4l", "attn-only-2l"}) {
    const std::shared_ptr<const hl::Model> model = hl_test::load_shipped(name);
    const hl::SyntaxProbeResult literal = probe_sentence_by_sentence(model, probe);
    const hl::SyntaxProbeResult whole = hl::syntax_probe(model, probe);
    const double diff_whole =
        std::max(max_abs_diff(whole.mass, literal.mass), max_abs_diff(whole.chance, literal.chance));

    // One part a step, then the parts in groups of 1, 2, 3, ... (the worker
    // groups as many as fit its time).
    hl::SyntaxRun one(model, probe), grouped(model, probe);
    CHECK_THROWS_AS(one.result(), hl::Error);
    CHECK_THROWS_AS(one.step(0), hl::Error);
    const int L = model->config.n_layer;
    CHECK(one.parts_total() == one.n_batches() * L + 1);
    CHECK(std::string(one.next_kind()) == "layer");
    double last_work = -1;
    int steps = 0;
    while (!one.done()) {
      CHECK(one.work_done() > last_work);
      last_work = one.work_done();
      if (one.parts_done() == one.parts_total() - 1) CHECK(std::string(one.next_kind()) == "result");
      one.step(1);
      ++steps;
    }
    CHECK(std::string(one.next_kind()).empty());
    CHECK(steps == one.parts_total());
    CHECK(one.work_done() == one.work_total());
    int group = 1, groups = 0;
    while (!grouped.step(group++)) ++groups;
    const double diff_parts = std::max(max_abs_diff(one.result().mass, whole.mass),
                                       max_abs_diff(one.result().chance, whole.chance));
    std::printf("[syntax-run] %s: %d sentences, %d tokens in %d batches of <= %d rows, %d parts; "
                "max |batched - sentence by sentence| %g; max |parts - one call| %g (one a step), "
                "grouped %d steps\n",
                name, whole.n_sentences, whole.n_tokens, one.n_batches(), hl::kSyntaxBatchRows,
                one.parts_total(), diff_whole, diff_parts, groups + 1);
    CHECK(same_bits(whole, literal));
    CHECK(same_bits(one.result(), whole));
    CHECK(same_bits(grouped.result(), whole));
    // Steps past the end do nothing.
    CHECK(grouped.step(3));
    CHECK(same_bits(grouped.result(), whole));
  }
}
