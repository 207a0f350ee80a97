// What kind of head is this? Six scores of one head's attention pattern on a
// given sequence, each in [0, 1], and the type they add up to.
//
// A is one head's attention, (T, T), rows are queries, causal (A[q][k] = 0 for
// k > q), ids the sequence's token ids. Definitions (docs/heads.md has them in
// words):
//   previous_token   mean over queries q >= 1 of A[q][q-1]
//   first_token      mean over queries q >= 1 of A[q][0] (an attention sink)
//   duplicate_token  mean, over the queries q whose token occurs earlier, of
//                    the sum of A[q][k] over earlier keys k < q with ids[k] = ids[q]
//   induction        mean, over the queries q that have at least one key k with
//                    1 <= k <= q and ids[k-1] = ids[q] (the token after an
//                    earlier copy of the current one), of the sum of A[q][k]
//                    over those keys (prefix matching, Olsson et al. 2022)
//   local            mean over queries q >= 1 of the sum of A[q][k] over
//                    q-3 <= k <= q
//   entropy          mean over queries q >= 1 of H(A[q]) / ln(q + 1)
//                    (0 = all on one key, 1 = uniform over the q + 1 keys)
// A score whose set of queries is empty (no repeated token in the text: no
// duplicate or induction query) is 0, and its query count says so.
#pragma once
#include <string>
#include <vector>

namespace hl {

struct HeadTypeScores {
  float previous_token = 0, first_token = 0, duplicate_token = 0, induction = 0, local = 0,
        entropy = 0;
};

// Queries each score averages over; the same for every head of a sequence.
struct HeadTypeQueries {
  int all = 0;        // queries q >= 1 (previous_token, first_token, local, entropy)
  int duplicate = 0;  // queries whose token occurs earlier
  int induction = 0;  // queries with a key after an earlier copy of their token
};

// The scores of one head. attn is (T, T); ids has T entries.
HeadTypeScores head_type_scores(const float* attn, const std::vector<int>& ids);

// Every head of a trace: attn_probs is (L, H, T, T); returns (L * H) scores.
std::vector<HeadTypeScores> head_type_scores_all(const float* attn_probs, int n_layer, int n_head,
                                                 const std::vector<int>& ids);

HeadTypeQueries head_type_queries(const std::vector<int>& ids);

// A head's type is the score that passes the threshold: the most specific
// pattern first (previous_token, induction, duplicate_token, first_token, the
// highest of those that pass), then "local" (every previous-token head is also
// local, so local is named only when no specific pattern passes), else "none".
// 0.4 is the threshold published detectors use.
constexpr float kHeadTypeThreshold = 0.4f;
std::string head_type(const HeadTypeScores& s, float threshold = kHeadTypeThreshold);

}  // namespace hl
