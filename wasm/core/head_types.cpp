#include "head_types.h"

#include <cmath>
#include <cstddef>

#include "error.h"

namespace hl {
namespace {

// Per-query sets of keys, computed once per sequence and shared by all heads:
// the earlier copies of the query's token, and the keys after them.
struct KeySets {
  std::vector<std::vector<int>> duplicate;  // (T) keys k < q with ids[k] == ids[q]
  std::vector<std::vector<int>> induction;  // (T) keys 1 <= k <= q with ids[k-1] == ids[q]
};

KeySets key_sets(const std::vector<int>& ids) {
  const int T = static_cast<int>(ids.size());
  KeySets s;
  s.duplicate.resize(static_cast<size_t>(T));
  s.induction.resize(static_cast<size_t>(T));
  for (int q = 0; q < T; ++q) {
    for (int k = 0; k < q; ++k)
      if (ids[k] == ids[q]) s.duplicate[q].push_back(k);
    for (int k = 1; k <= q; ++k)
      if (ids[k - 1] == ids[q]) s.induction[q].push_back(k);
  }
  return s;
}

HeadTypeScores scores_of(const float* A, int T, const KeySets& keys) {
  double prev = 0, first = 0, dup = 0, ind = 0, local = 0, entropy = 0;
  int n_dup = 0, n_ind = 0;
  for (int q = 1; q < T; ++q) {
    const float* row = A + static_cast<size_t>(q) * T;
    prev += row[q - 1];
    first += row[0];
    for (int k = q >= 3 ? q - 3 : 0; k <= q; ++k) local += row[k];
    double h = 0;
    for (int k = 0; k <= q; ++k)
      if (row[k] > 0) h -= double(row[k]) * std::log(double(row[k]));
    entropy += h / std::log(double(q) + 1.0);
  }
  for (int q = 0; q < T; ++q) {
    const float* row = A + static_cast<size_t>(q) * T;
    if (!keys.duplicate[q].empty()) {
      ++n_dup;
      for (int k : keys.duplicate[q]) dup += row[k];
    }
    if (!keys.induction[q].empty()) {
      ++n_ind;
      for (int k : keys.induction[q]) ind += row[k];
    }
  }
  HeadTypeScores s;
  if (T > 1) {
    s.previous_token = float(prev / (T - 1));
    s.first_token = float(first / (T - 1));
    s.local = float(local / (T - 1));
    s.entropy = float(entropy / (T - 1));
  }
  if (n_dup > 0) s.duplicate_token = float(dup / n_dup);
  if (n_ind > 0) s.induction = float(ind / n_ind);
  return s;
}

void check_ids(const std::vector<int>& ids) {
  if (ids.empty()) throw Error("head_type_scores: no tokens");
}

}  // namespace

HeadTypeScores head_type_scores(const float* attn, const std::vector<int>& ids) {
  check_ids(ids);
  return scores_of(attn, static_cast<int>(ids.size()), key_sets(ids));
}

std::vector<HeadTypeScores> head_type_scores_all(const float* attn_probs, int n_layer, int n_head,
                                                 const std::vector<int>& ids) {
  check_ids(ids);
  const int T = static_cast<int>(ids.size());
  const KeySets keys = key_sets(ids);
  std::vector<HeadTypeScores> out(static_cast<size_t>(n_layer) * n_head);  // (L, H)
  for (size_t lh = 0; lh < out.size(); ++lh)
    out[lh] = scores_of(attn_probs + lh * static_cast<size_t>(T) * T, T, keys);
  return out;
}

HeadTypeQueries head_type_queries(const std::vector<int>& ids) {
  const KeySets keys = key_sets(ids);
  HeadTypeQueries n;
  n.all = ids.size() > 1 ? static_cast<int>(ids.size()) - 1 : 0;
  for (size_t q = 0; q < ids.size(); ++q) {
    n.duplicate += !keys.duplicate[q].empty();
    n.induction += !keys.induction[q].empty();
  }
  return n;
}

std::string head_type(const HeadTypeScores& s, float threshold) {
  const std::pair<const char*, float> specific[] = {{"previous_token", s.previous_token},
                                                    {"induction", s.induction},
                                                    {"duplicate_token", s.duplicate_token},
                                                    {"first_token", s.first_token}};
  const char* best = nullptr;
  float best_score = 0;
  for (const auto& [name, score] : specific) {
    if (score >= threshold && (best == nullptr || score > best_score)) {
      best = name;
      best_score = score;
    }
  }
  if (best) return best;
  return s.local >= threshold ? "local" : "none";
}

}  // namespace hl
