// Compare two runs (issue 17, item 6): one head's attention in run A and in
// run B side by side, and their difference. The runs may be two prompts,
// the same prompt in two models of the same shape, or the edited and the
// unedited model; each pattern comes from a pass of its own
// (Engine::head_attention), so this file only compares two patterns.
//
// Two texts may have different token counts: the patterns are aligned by
// position (query row t and key column k of A against those of B), over
// the first T = min(T_A, T_B) positions. Attention is causal, so rows
// 0..T-1 of a pattern do not depend on the tokens after T: the aligned part
// of the longer run is exactly what its first T tokens give.
//
// For each compared query row t (each row a distribution over keys 0..t):
//   diff[t][k]           = B[t][k] - A[t][k]                    (T, T)
//   total_variation[t]   = 1/2 sum_k |B[t][k] - A[t][k]|        in [0, 1]
//   js_distance[t]       = sqrt(JSD(A[t], B[t]) / ln 2)         in [0, 1]
// (JSD as in similarity.h, natural log; its square root over ln 2 is a
// metric, Endres & Schindelin 2003.) Each run's head-type scores
// (head_types.h) are of its own whole pattern on its own ids.
//
// Shapes (config.h letters): T tokens; N the largest differences asked for.
#pragma once
#include <vector>

#include "head_types.h"

namespace hl {

// One cell of the difference map.
struct AttentionDifference {
  int query = 0;        // row t
  int key = 0;          // column k <= t
  float value = 0.0f;   // B - A
};

struct RunComparison {
  int T_a = 0, T_b = 0;
  int T = 0;                              // min(T_a, T_b): rows and columns compared
  std::vector<float> diff;                // (T, T) B - A; 0 above the diagonal
  std::vector<float> total_variation;     // (T)
  std::vector<float> js_distance;         // (T)
  HeadTypeScores scores_a, scores_b;      // each on its own ids and whole pattern
  // The N cells of largest |B - A| (ties: lower query, then lower key
  // first); cells that do not differ are left out, so a run against itself
  // lists none.
  std::vector<AttentionDifference> largest;
  float max_abs = 0.0f;                   // max |B - A| over the compared cells
};

// a (T_a, T_a) with ids_a (T_a) and b (T_b, T_b) with ids_b (T_b): causal
// attention patterns. top: how many largest differences to name (>= 0).
// Empty runs or a negative top throw hl::Error.
RunComparison compare_head_runs(const float* a, const std::vector<int>& ids_a, const float* b,
                                const std::vector<int>& ids_b, int top);

}  // namespace hl
