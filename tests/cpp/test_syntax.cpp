// Syntax probing (syntax.h): pair masses and the positional-profile chance
// on hand-built attention with answers worked out by hand, token tags with a
// hand-made tokenizer, the probe file's errors, and the shipped probe on
// attn-only-2l (every query's attention accounted for).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "error.h"
#include "fixtures.h"
#include "syntax_run.h"
#include "tokenizer.h"

namespace {

// attn (L=1, H=2, T=3, T=3) of one sentence: head 0 looks at the previous
// token (query 0 at itself); head 1 spreads its attention evenly over the
// keys tagged D (tag 1), or looks at itself when there are none.
std::vector<float> two_heads(const std::vector<int>& tags) {
  const int T = static_cast<int>(tags.size());
  std::vector<float> attn(2 * T * T, 0.0f);
  for (int q = 0; q < T; ++q) {
    attn[q * T + (q == 0 ? 0 : q - 1)] = 1.0f;
    int n_d = 0;
    for (int k = 0; k <= q; ++k) n_d += tags[k] == 1;
    for (int k = 0; k <= q; ++k) {
      const float a = n_d == 0 ? (k == q ? 1.0f : 0.0f) : (tags[k] == 1 ? 1.0f / n_d : 0.0f);
      attn[T * T + q * T + k] = a;
    }
  }
  return attn;
}

}  // namespace

TEST_CASE("syntax probe: a content head beats its positional profile, a previous-token head equals it") {
  // Tags N = 0, D = 1. Sentences N D N and D N D, ten copies each, so that
  // each tag has 20 queries (kSyntaxMinQueries).
  const std::vector<int> a = {0, 1, 0}, b = {1, 0, 1};
  hl::SyntaxAccumulator acc(1, 2, 2, 3);
  for (int i = 0; i < 10; ++i) {
    acc.add(two_heads(a).data(), a);
    acc.add(two_heads(b).data(), b);
  }
  const hl::SyntaxProbeResult r = hl::syntax_result(acc, {"N", "D"});
  CHECK(r.queries == std::vector<int>{20, 20});
  // Head 1 by hand, per copy of the pair of sentences: masses N->D 2, D->D 2
  // (every query's whole attention is on D keys). Its profile is row 1
  // (0.5, 0.5), row 2 (0.25, 0.5, 0.25), which gives every pair a chance
  // of 1. So N->D and D->D: share 1, chance share 0.5, ratio 2.
  const std::vector<hl::SyntaxPair> pairs = r.top_pairs(0, 1, 5);
  REQUIRE(pairs.size() == 2);  // N->N and D->N have share 0 (< kSyntaxMinShare)
  for (const hl::SyntaxPair& p : pairs) {
    std::printf("[syntax] content head %s->%s share %.3f chance share %.3f ratio %.3f (by hand 1, 0.5, 2)\n",
                r.tags[p.query_tag].c_str(), r.tags[p.key_tag].c_str(), p.share, p.chance_share, p.ratio);
    CHECK(p.key_tag == 1);
    CHECK(p.share == 1.0);
    CHECK(p.chance_share == 0.5);
    CHECK(p.ratio == 2.0);
  }
  CHECK(r.is_syntactic(0, 1));
  // Head 0 attends by position alone: its chance is its mass, ratio exactly 1.
  double worst = 0;
  for (int i = 0; i < 4; ++i) worst = std::max(worst, std::fabs(r.mass[i] - r.chance[i]));
  const std::vector<hl::SyntaxPair> prev = r.top_pairs(0, 0, 5);
  std::printf("[syntax] previous-token head: max |mass - chance| %.3g over 4 pairs, top ratio %.3f (1)\n",
              worst, prev.empty() ? 0.0 : prev[0].ratio);
  CHECK(worst == 0.0);
  REQUIRE(!prev.empty());
  CHECK(prev[0].ratio == 1.0);
  CHECK_FALSE(r.is_syntactic(0, 0));
  CHECK_THROWS_AS(r.top_pairs(1, 0, 1), hl::Error);
}

TEST_CASE("syntax probe: a token takes the tag of the word holding its first non-space byte") {
  // "aab ab.": merges make "aab" two tokens (a, ab), " ab" two (a space
  // alone, ab): the word's tag on both of its tokens, none on the space.
  const hl::Tokenizer tokenizer(R"({"a": 0, "b": 1, "ab": 2, "\u0120": 3, ".": 4})", "#version: 0.2\na b\n");
  hl::TaggedSentence s{"aab ab.", {{0, 3, 7}, {4, 6, 8}, {6, 7, 9}}};
  const std::vector<int> ids = tokenizer.encode(s.text);
  REQUIRE(ids == std::vector<int>{0, 2, 3, 2, 4});
  const std::vector<int> tags = hl::token_tags(tokenizer, ids, s);
  std::printf("[syntax] token tags of \"aab ab.\": %d %d %d %d %d (7 7 -1 8 9)\n", tags[0], tags[1], tags[2],
              tags[3], tags[4]);
  CHECK(tags == std::vector<int>{7, 7, -1, 8, 9});
}

TEST_CASE("syntax probe: the probe file's errors name the sentence and word") {
  const auto error_of = [](const std::string& json) {
    try {
      hl::parse_pos_probe(json);
    } catch (const hl::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string head = R"({"format": "headlight-pos-probe-1", "tags": ["N", "V"], "sentences": )";
  CHECK(error_of(head + R"([{"text": "a b", "words": [[0, 1, 0], [2, 3, 1]]}]})").empty());
  CHECK(error_of("[1").find("not valid JSON") != std::string::npos);
  CHECK(error_of(R"({"format": "x"})").find("format") != std::string::npos);
  CHECK(error_of(head + R"([{"text": "a b", "words": [[0, 1, 0], [2, 4, 1]]}]})")
            .find("sentence 0 word 1 spans bytes 2..4") != std::string::npos);
  CHECK(error_of(head + R"([{"text": "a b", "words": [[2, 3, 0], [0, 1, 1]]}]})")
            .find("out of order") != std::string::npos);
  CHECK(error_of(head + R"([{"text": "a b", "words": [[0, 1, 2]]}]})").find("has tag 2 of 2") !=
        std::string::npos);
  CHECK(error_of(head + R"([{"text": "a b", "words": [[0, -1, 0]]}]})").find("out of range") !=
        std::string::npos);
  CHECK(error_of(head + "[]}").find("non-empty") != std::string::npos);
}

TEST_CASE("syntax probe: the shipped Brown probe on attn-only-2l accounts for every query's attention") {
  const hl::PosProbe all =
      hl::parse_pos_probe(hl_test::read_file(std::string(HL_SOURCE_DIR) + "/web/public/probes/brown-pos.json"));
  const std::shared_ptr<const hl::Model> model = hl_test::load_shipped("attn-only-2l");
  // The sentences whose every token is tagged (a few have a token of one
  // space, which BPE did not merge with the next character).
  hl::PosProbe probe{all.tags, {}};
  int n_untagged = 0;
  for (const hl::TaggedSentence& s : all.sentences) {
    int untagged = 0;
    for (int tag : hl::token_tags(model->tokenizer, model->tokenizer.encode(s.text), s)) untagged += tag < 0;
    if (untagged == 0) probe.sentences.push_back(s);
    n_untagged += untagged;
  }
  const hl::SyntaxProbeResult everything = hl::syntax_probe(model, all);
  std::printf("[syntax] attn-only-2l: %d untagged tokens in %zu sentences (probe: %d)\n", n_untagged,
              all.sentences.size() - probe.sentences.size(), everything.n_untagged);
  CHECK(everything.n_untagged == n_untagged);
  const hl::SyntaxProbeResult r = hl::syntax_probe(model, probe);
  int n_queries = 0;
  for (int n : r.queries) n_queries += n;
  // Each query row sums to 1 over keys 0..q, and so does each row of the
  // profile: over all pairs, mass and chance both add up to the queries
  // (less what untagged keys get).
  double worst = 0;
  for (int i = 0; i < r.L * r.H; ++i) {
    double m = 0, c = 0;
    for (int p = 0; p < r.G * r.G; ++p) m += r.mass[i * r.G * r.G + p], c += r.chance[i * r.G * r.G + p];
    worst = std::max({worst, std::fabs(m - n_queries), std::fabs(c - n_queries)});
  }
  std::printf("[syntax] attn-only-2l: %d sentences, %d tokens, %d untagged, %d queries; max |sum - queries| %.3g\n",
              r.n_sentences, r.n_tokens, r.n_untagged, n_queries, worst);
  CHECK(r.n_sentences == static_cast<int>(probe.sentences.size()));
  CHECK(r.n_untagged == 0);
  CHECK(worst < 1e-2);
}
