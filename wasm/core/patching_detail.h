// Internal to the patching files (patching.cpp, row_patches.cpp,
// path_patching.cpp): what they share beyond patching.h.
#pragma once
#include <algorithm>
#include <vector>

#include "batch_scratch.h"
#include "block.h"
#include "patching.h"

namespace hl {
namespace patching_detail {

// Whether two rows of C floats are the same bits.
bool same_row(const float* a, const float* b, int C);

// The last layer as far as the metric reads it, for one sequence: rows
// [t0, T) as keys and values (a.qkv holds the rows before t0), the query and
// everything after c_attn of row T - 1 only. The keys and values alone when
// the columns split on GEMM panels.
void last_layer_for_metric(const BlockPass& pass, const BlockActivations& a, int t0);

// Throws hl::Error "patching: <what> <i> is outside 0..<n - 1>".
void check_index(const char* what, int i, int n);

}  // namespace patching_detail

// The working buffers of run_row_patches: at most max_rows stacked rows.
struct ActivationPatcher::RowBatch {
  int max_rows;
  BatchScratch stacked;          // (max_rows) rows t.. of every patch, one after another
  BatchScratch gathered;         // (max_rows) one row per patch (its row t, or its last row)
  std::vector<float> seq_qkv;    // (T, 3C) one patch's keys and values, for its attention
  std::vector<float> seq_z;      // (T, C)
  std::vector<float> seq_probs;  // (H, T, T)
  // seq_qkv holds layer seq_layer's corrupted rows (-1: none yet) except
  // rows [dirty_begin, dirty_end), the last patch's own.
  int seq_layer = -1;
  int dirty_begin = 0;
  int dirty_end = 0;

  RowBatch(const ModelConfig& cfg, int T, int rows)
      : max_rows(std::max(rows, T)),
        stacked(cfg, 1, max_rows, /*attention=*/false),
        gathered(cfg, 1, max_rows, /*attention=*/false),
        seq_qkv(static_cast<size_t>(T) * 3 * cfg.n_embd),
        seq_z(static_cast<size_t>(T) * cfg.n_embd),
        seq_probs(static_cast<size_t>(cfg.n_head) * T * T) {}
};

}  // namespace hl
