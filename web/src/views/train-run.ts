/**
 * What the train panel knows of one live run, as plain data (no DOM): the
 * choices, the model's shape, every step's loss, the speed, the probes over
 * time, and whether it plays. The worker's events of other runs (a run
 * dropped by Reset that still had a chunk in flight) are ignored by number.
 * Time is wall time since Train was pressed, pauses left out: the figure the
 * issue's target is about (an induction head within 60 s).
 */
import type { TrainChoices, TrainCreated, TrainProbe } from '../engine/train-protocol';

/** The induction score at which a head counts as an induction head (issue 18's target). */
export const INDUCTION_FORMED = 0.5;

export interface ProbePoint {
  step: number;
  icl: number;
  induction: Float32Array; // [L x H]
  prev_token: Float32Array; // [L x H]
}

function headLabel(index: number, nHead: number): string {
  return `${Math.floor(index / nHead)}.${index % nHead}`;
}

export class TrainRun {
  /** The worker's number of the run shown; -1: none yet. */
  id = -1;
  /** A Train press waits for its run's 'created'. */
  waiting = false;
  choices: TrainChoices | null = null;
  info: TrainCreated | null = null;
  /** Loss of step i + 1 at [i] (nats/token). */
  losses: number[] = [];
  stepsDone = 0;
  totalSteps = 0;
  /** Smoothed over the last chunks. */
  stepsPerS = 0;
  probes: ProbePoint[] = [];
  latest: TrainProbe | null = null;
  playing = false;
  finished = false;
  error: string | null = null;
  /** A line about the last open or download. */
  note = '';
  /** When the first probe showed a head at INDUCTION_FORMED or more. */
  inductionAt: { step: number; seconds: number } | null = null;
  private pressedAt = 0;
  private pausedMs = 0;
  private pausedSince: number | null = null;

  begin(choices: TrainChoices): void {
    this.clear();
    this.choices = choices;
    this.waiting = true;
    this.pressedAt = performance.now();
  }

  clear(): void {
    Object.assign(this, new TrainRun());
  }

  /** Wall seconds since Train was pressed, pauses left out. */
  seconds(now = performance.now()): number {
    if (!this.pressedAt) return 0;
    const paused = this.pausedMs + (this.pausedSince !== null ? now - this.pausedSince : 0);
    return (now - this.pressedAt - paused) / 1000;
  }

  onCreated(id: number, info: TrainCreated): void {
    if (!this.waiting) return;
    this.waiting = false;
    this.id = id;
    this.info = info;
    this.totalSteps = info.total_steps;
  }

  onSteps(id: number, losses: Float32Array, stepsDone: number, totalSteps: number, stepsPerS: number): void {
    if (id !== this.id) return;
    for (const loss of losses) this.losses.push(loss);
    this.stepsDone = stepsDone;
    this.totalSteps = totalSteps;
    this.stepsPerS = this.stepsPerS > 0 ? 0.7 * this.stepsPerS + 0.3 * stepsPerS : stepsPerS;
  }

  onProbe(id: number, probe: TrainProbe): void {
    if (id !== this.id) return;
    this.latest = probe;
    this.probes.push({ step: probe.steps_done, icl: probe.icl_score, induction: probe.induction, prev_token: probe.prev_token });
    if (!this.inductionAt && Math.max(...probe.induction) >= INDUCTION_FORMED) {
      this.inductionAt = { step: probe.steps_done, seconds: this.seconds() };
    }
  }

  onState(id: number, playing: boolean, finished: boolean): void {
    if (id !== this.id) return;
    const now = performance.now();
    if (playing && this.pausedSince !== null) {
      this.pausedMs += now - this.pausedSince;
      this.pausedSince = null;
    } else if (!playing && this.pausedSince === null) {
      this.pausedSince = now;
    }
    this.playing = playing;
    this.finished = finished;
  }

  fail(message: string): void {
    this.error = message;
    this.waiting = false;
    this.playing = false;
    if (this.pausedSince === null) this.pausedSince = performance.now();
  }

  /** The strongest induction score on the latest probe (0 before any). */
  bestInduction(): number {
    return this.latest ? Math.max(0, ...this.latest.induction) : 0;
  }

  statusLine(): string {
    if (this.error) return `Training stopped: ${this.error}`;
    if (this.waiting) return 'Loading the trainer and its text…';
    if (!this.info || !this.latest) return 'Press Train to start.';
    const nHead = this.info.n_head;
    const ind = this.latest.induction;
    const best = ind.indexOf(Math.max(...ind));
    const lastLoss = this.losses.length ? this.losses[this.losses.length - 1]! : NaN;
    const parts = [
      `Step ${this.stepsDone} of ${this.totalSteps}`,
      `${this.stepsPerS.toFixed(1)} steps/s`,
      `${this.seconds().toFixed(0)} s`,
      `loss ${lastLoss.toFixed(2)}`,
      `ICL score ${this.latest.icl_score.toFixed(2)} nats`,
      `strongest induction head ${headLabel(best, nHead)}: ${ind[best]!.toFixed(2)}`,
    ];
    if (this.inductionAt) {
      parts.push(`≥ ${INDUCTION_FORMED} at step ${this.inductionAt.step} (${this.inductionAt.seconds.toFixed(0)} s)`);
    }
    const state = this.finished ? 'Done. ' : this.playing ? '' : 'Paused. ';
    return `${state}${parts.join(' · ')}${this.note ? `. ${this.note}` : ''}`;
  }
}

export { headLabel };
