// What each training step does: the stages of a run (models/README.md,
// "Induction heads", has what each taught the models here), written once so
// that `headlight train` and a trainer in the page follow the same plan.
//
//   - sequence-length stages: the first stages train on shorter sequences
//     (seq_len tokens, batch * n_positions / seq_len of them, so every step
//     sees as many tokens), then on n_positions: a context-length curriculum;
//   - MLPs off for the first mlp_off_steps steps: the model trains as its
//     attention-only twin (Trainer::set_mlp_enabled), the circuit
//     attn-only-2l grows, without MLPs that fit the warm-up's statistics first;
//   - shallow: only the first shallow_layers blocks for the first
//     shallow_steps steps (Trainer::set_active_layers): a depth curriculum;
//   - the induction warm-up: the first induction_warmup_steps steps' batches
//     are warm-up data (data.h), two-back segments only in the first
//     fill_alternations_steps of them (0: all). It ends early at the first
//     log line whose random-span losses show first copy - repeat >= gap nats
//     (the heads have formed); the sequence-length, MLP and shallow stages
//     end with it, and with end_with_warmup the run ends there (phase one).
//   - with a time limit, the step count is fitted to the time left, each
//     step priced by its own work (affordable_steps).
//   - checkpoints: log-spaced over the run, plus dense ranges where the
//     reader should see a change happen (checkpoint_steps).
#pragma once
#include <functional>
#include <set>
#include <vector>

namespace hl {

struct SeqStage {
  int seq_len = 0;
  int steps = 0;
};

struct CurriculumConfig {
  int steps = 2000;       // requested steps
  int batch = 16;         // sequences per step at the full length
  int n_positions = 128;  // the full length
  int n_layer = 4;
  std::vector<SeqStage> seq_schedule;  // stages before the rest runs at n_positions
  int induction_warmup_steps = 0;
  float induction_warmup_gap = 0.0f;  // 0: the warm-up runs all its steps
  int fill_alternations_steps = 0;    // 0: two-back segments in every warm-up step
  int mlp_off_steps = 0;
  int shallow_steps = 0;
  int shallow_layers = 0;
  bool end_with_warmup = false;
};

// What step `step` (from 0) does.
struct StepPlan {
  int seq_len = 0;        // T of the batch
  int batch = 0;          // B of the batch: batch * n_positions / seq_len
  bool mlp_on = true;     // false in the MLP-off stage
  int active_layers = 0;  // blocks that run: shallow_layers in the shallow stage, else n_layer
  bool warmup = false;    // the batch is induction warm-up data
  bool two_back = false;  // the warm-up fill writes its two-back segments
};

// `count` checkpoint steps evenly spaced from `from` to `to`, both included
// (`--checkpoint-steps FROM:TO:COUNT`; a single STEP is STEP:STEP:1).
struct CheckpointRange {
  int from = 0;
  int to = 0;
  int count = 1;
};

// The steps after which a run of `total` steps writes a checkpoint: n_log
// log-spaced steps in [1, total], strictly increasing, the last one being
// total (none when n_log is 0), and every step of the dense ranges that lies
// in [1, total]. Evenly spaced steps are rounded to the nearest whole step.
std::set<int> checkpoint_steps(int n_log, const std::vector<CheckpointRange>& dense, int total);

class Curriculum {
 public:
  // Throws hl::Error for stages that do not fit (a length above n_positions
  // or one that does not divide batch * n_positions, shallow_layers outside
  // 1..n_layer - 1, end_with_warmup without a warm-up).
  explicit Curriculum(const CurriculumConfig& config);

  StepPlan at(int step) const;
  // Steps the run takes: the requested ones, fewer with end_with_warmup (the
  // warm-up's) or after set_steps.
  int steps() const { return steps_; }
  void set_steps(int steps) { steps_ = steps; }
  // The step count asked for (the most a time-limit fit may give back).
  int requested_steps() const { return requested_steps_; }
  const std::vector<SeqStage>& seq_schedule() const { return config_.seq_schedule; }

  // Whether the warm-up ends after `step` steps, given the random-span
  // losses (nats/token) of the first and repeated copies since the last log
  // line.
  bool warmup_gap_reached(int step, double first, double repeat) const;
  // Ends the warm-up after `step` steps (see the file comment).
  void end_warmup(int step);
  int warmup_ended_at() const { return warmup_ended_at_; }  // -1: it did not end early

  // Whether a time-limited run refits its step count after `step` steps: at
  // steps 10, 100 and 500, at each validation in the first half of training,
  // and 20 steps after an early end of the warm-up (the steps left cost more).
  bool refit_due(int step, int eval_every) const;
  // How many steps (of at most requested_steps()) the run can take when the
  // steps from `step` on must fit in `budget` seconds, step s costing
  // seconds(at(s)).
  int affordable_steps(int step, double budget,
                       const std::function<double(const StepPlan&)>& seconds) const;

 private:
  CurriculumConfig config_;
  int steps_;
  int requested_steps_;
  int warmup_ended_at_ = -1;
  int refit_at_ = -1;
};

}  // namespace hl
