#include "curriculum.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "error.h"

namespace hl {

Curriculum::Curriculum(const CurriculumConfig& config) : config_(config) {
  const CurriculumConfig& c = config_;
  for (const SeqStage& s : c.seq_schedule) {
    if (s.seq_len < 1 || s.seq_len > c.n_positions || (c.batch * c.n_positions) % s.seq_len != 0)
      throw Error("--seq-schedule length " + std::to_string(s.seq_len) +
                  " must be <= n_positions and divide batch * n_positions (" +
                  std::to_string(c.batch * c.n_positions) + ")");
  }
  if (c.shallow_steps > 0 && (c.shallow_layers == 0 || c.shallow_layers >= c.n_layer))
    throw Error("--shallow-steps needs --shallow-layers K with 1 <= K < --n-layer (" +
                std::to_string(c.n_layer) + ")");
  if (c.shallow_layers > 0 && c.shallow_steps == 0)
    throw Error("--shallow-layers needs --shallow-steps N");
  if (c.end_with_warmup && c.induction_warmup_steps == 0)
    throw Error("--end-with-warmup needs --induction-warmup-steps");
  steps_ = c.end_with_warmup ? std::min(c.steps, c.induction_warmup_steps) : c.steps;
  requested_steps_ = steps_;
}

StepPlan Curriculum::at(int step) const {
  const CurriculumConfig& c = config_;
  StepPlan p;
  p.seq_len = c.n_positions;
  int end = 0;
  for (const SeqStage& s : c.seq_schedule) {
    if (step < (end += s.steps)) {
      p.seq_len = s.seq_len;
      break;
    }
  }
  p.batch = c.batch * c.n_positions / p.seq_len;
  p.mlp_on = step >= c.mlp_off_steps;
  p.active_layers = step < c.shallow_steps ? c.shallow_layers : c.n_layer;
  p.warmup = step < c.induction_warmup_steps;
  p.two_back = p.warmup && (c.fill_alternations_steps == 0 || step < c.fill_alternations_steps);
  return p;
}

bool Curriculum::warmup_gap_reached(int step, double first, double repeat) const {
  return config_.induction_warmup_gap > 0 && step < config_.induction_warmup_steps &&
         first - repeat >= config_.induction_warmup_gap;
}

void Curriculum::end_warmup(int step) {
  CurriculumConfig& c = config_;
  c.induction_warmup_steps = step;
  c.mlp_off_steps = std::min(c.mlp_off_steps, step);
  c.shallow_steps = std::min(c.shallow_steps, step);
  // The warm-up's context-length stages end with it: the rest trains at
  // n_positions.
  std::vector<SeqStage> kept;
  int begin = 0;
  for (const SeqStage& s : c.seq_schedule) {
    if (begin >= step) break;
    kept.push_back({s.seq_len, std::min(s.steps, step - begin)});
    begin += s.steps;
  }
  c.seq_schedule = kept;
  warmup_ended_at_ = step;
  refit_at_ = step + 20;                 // priced by the speed of the first steps after it
  if (c.end_with_warmup) steps_ = step;  // phase one ends here
}

bool Curriculum::refit_due(int step, int eval_every) const {
  return step == 10 || step == 100 || step == 500 || step == refit_at_ ||
         (step > 500 && step % eval_every == 0 && 2 * step < steps_);
}

int Curriculum::affordable_steps(int step, double budget,
                                 const std::function<double(const StepPlan&)>& seconds) const {
  int affordable = step;
  while (affordable < requested_steps_) {
    const double cost = seconds(at(affordable));
    if (cost > budget) break;
    budget -= cost;
    ++affordable;
  }
  return affordable;
}

std::set<int> checkpoint_steps(int n_log, const std::vector<CheckpointRange>& dense, int total) {
  std::set<int> steps;
  if (n_log > 0) {
    int prev = 0;
    for (int k = 0; k < n_log; ++k) {
      const double frac = n_log == 1 ? 1.0 : static_cast<double>(k) / (n_log - 1);
      int s = static_cast<int>(std::lround(std::pow(static_cast<double>(total), frac)));
      s = std::max(s, prev + 1);
      if (s > total) break;
      steps.insert(s);
      prev = s;
    }
    steps.insert(total);
  }
  for (const CheckpointRange& r : dense) {
    for (int k = 0; k < r.count; ++k) {
      const double frac = r.count == 1 ? 0.0 : static_cast<double>(k) / (r.count - 1);
      const int s = static_cast<int>(std::lround(r.from + frac * (r.to - r.from)));
      if (s >= 1 && s <= total) steps.insert(s);
    }
  }
  return steps;
}

}  // namespace hl
