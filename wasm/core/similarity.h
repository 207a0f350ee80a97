// Which heads do the same job on a text: pairwise similarity of the heads'
// attention patterns, by the Jensen-Shannon divergence between their rows.
// For heads a and b with attention A_a, A_b (T, T) on the same text
// (row q = query q's distribution over keys 0..q):
//
//   JSD(P, Q) = H(M) - (H(P) + H(Q)) / 2,  M = (P + Q) / 2,
//               H(P) = -sum_k P[k] ln P[k]   (0 ln 0 = 0), in [0, ln 2]
//   similarity(a, b) = 1 - mean over queries q in 1..T-1 of JSD(A_a[q], A_b[q]) / ln 2
//
// in [0, 1]: 1 when the two heads attend identically at every query, 0 when
// at every query they attend to disjoint keys. Query 0 is left out: it can
// only attend to key 0, so every pair of heads agrees there. With T < 2
// there is no query left and every similarity is 1 (the heads cannot differ).
// Symmetric, 1 on the diagonal. Cost: (L H)^2 / 2 pairs x T^2 / 2 logarithms,
// in SIMD lanes (GPT-2 small in wasm: 0.06 s at 64 tokens, 28 s at 1024).
// Definitions in docs/heads.md ("Similar heads").
#pragma once
#include <vector>

namespace hl {

// attn_probs (L, H, T, T) as in the Trace (rows sum to 1 over keys 0..q,
// zero above the diagonal). Returns (L*H, L*H), head l.h at index l*H + h.
std::vector<float> attention_similarity(const float* attn_probs, int L, int H, int T);

// JSD(p, q) of two distributions of n probabilities, in [0, ln 2]: exactly
// 0 when the rows are equal bit for bit (run_compare.h uses it too).
double js_divergence(const float* p, const float* q, int n);

}  // namespace hl
