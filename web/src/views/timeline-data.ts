/**
 * A model's training timeline, models/<name>/timeline.json (written by
 * models/recipes/timeline.mjs from train_log.json and `headlight eval` on
 * every checkpoint): read, checked and put in the shapes the Training view
 * draws. Pure: no DOM, tested in Node (tests/web/timeline.test.mjs).
 */
import { checkpointName } from '../engine/checkpoint-names';

/** One point of the validation / training loss curve (every --eval-every steps). */
export interface LossPoint {
  step: number;
  train_loss: number | null;
  val_loss: number | null;
}

/** What the batches held over steps [from, to). */
export interface Phase {
  from: number;
  to: number;
  /** 'warmup': the induction warm-up's random tokens; 'text': the text data mix. */
  data: 'warmup' | 'text';
  seq_len: number;
  /** In words, e.g. "random tokens with spans copied forward at random distances". */
  feeds: string;
}

/** One checkpoint as the timeline measured it. */
export interface TimelinePoint {
  step: number;
  /** The page's model name of this checkpoint (engine/checkpoint-names.ts). */
  name: string;
  val_loss: number | null;
  /** Probe: loss on the second copy of the random tokens minus the first. */
  probe_icl: number;
  /** Text: mean loss of the late tokens of a window minus the early ones (null before issue 18's timelines). */
  text_icl: number | null;
  /** [L x H] per-head scores on the probe. */
  induction: Float64Array;
  prev_token: Float64Array;
}

export interface Timeline {
  model: string;
  n_layer: number;
  n_head: number;
  loss: LossPoint[];
  points: TimelinePoint[];
  phases: Phase[];
  /** The tokens of the text ICL score's bands ([first, last], 0-based), if measured. */
  text_icl_tokens: { early: [number, number]; late: [number, number] } | null;
  /** The probe's random tokens per copy (64 before issue 18's timelines). */
  probe_half_len: number;
  /** The last step of the run. */
  last_step: number;
}

function finiteOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function scores(raw: unknown, what: string, step: number, L: number, H: number): Float64Array {
  if (!Array.isArray(raw) || raw.length !== L || raw.some((row) => !Array.isArray(row) || row.length !== H)) {
    throw new Error(`timeline.json: step ${step}'s ${what} is not ${L} x ${H}`);
  }
  return Float64Array.from((raw as unknown[][]).flat(), (v) => (typeof v === 'number' && Number.isFinite(v) ? v : NaN));
}

function band(raw: unknown): [number, number] | null {
  return Array.isArray(raw) && raw.length === 2 && raw.every((v) => Number.isInteger(v)) ? [raw[0], raw[1]] : null;
}

/**
 * Checks a parsed timeline.json and returns the view's shapes. Throws an
 * Error naming the first problem (the view shows it; the page goes on).
 */
export function parseTimeline(json: unknown, model: string): Timeline {
  const raw = json as Record<string, unknown> | null;
  if (!raw || typeof raw !== 'object' || !Array.isArray(raw['checkpoints']) || raw['checkpoints'].length === 0) {
    throw new Error('timeline.json lists no checkpoints');
  }
  const first = (raw['checkpoints'] as Record<string, unknown>[])[0]!;
  const L = Array.isArray(first['induction']) ? first['induction'].length : 0;
  const H = L > 0 && Array.isArray((first['induction'] as unknown[])[0]) ? ((first['induction'] as unknown[][])[0]!.length) : 0;
  if (L === 0 || H === 0) throw new Error('timeline.json: no per-head scores');
  const points: TimelinePoint[] = [];
  for (const c of raw['checkpoints'] as Record<string, unknown>[]) {
    const step = c['step'];
    if (!Number.isInteger(step) || (step as number) < 0) throw new Error('timeline.json: a checkpoint without a step');
    if (points.length > 0 && (step as number) <= points[points.length - 1]!.step) {
      throw new Error(`timeline.json: step ${step} is not after step ${points[points.length - 1]!.step}`);
    }
    points.push({
      step: step as number,
      name: checkpointName(model, String(c['dir'])),
      val_loss: finiteOrNull(c['val_loss']),
      probe_icl: finiteOrNull(c['icl_score']) ?? NaN,
      text_icl: finiteOrNull(c['text_icl_score']),
      induction: scores(c['induction'], 'induction', step as number, L, H),
      prev_token: scores(c['prev_token'], 'prev_token', step as number, L, H),
    });
  }
  const loss = (Array.isArray(raw['loss_curve']) ? (raw['loss_curve'] as Record<string, unknown>[]) : [])
    .filter((p) => Number.isInteger(p?.['step']))
    .map((p) => ({ step: p['step'] as number, train_loss: finiteOrNull(p['train_loss']), val_loss: finiteOrNull(p['val_loss']) }));
  const phases = (Array.isArray(raw['phases']) ? (raw['phases'] as Record<string, unknown>[]) : [])
    .filter((p) => Number.isInteger(p?.['from']) && Number.isInteger(p['to']) && (p['to'] as number) > (p['from'] as number))
    .map((p) => ({
      from: p['from'] as number,
      to: p['to'] as number,
      data: p['data'] === 'warmup' ? ('warmup' as const) : ('text' as const),
      seq_len: Number.isInteger(p['seq_len']) ? (p['seq_len'] as number) : 0,
      feeds: typeof p['feeds'] === 'string' ? p['feeds'] : '',
    }));
  const tokens = raw['text_icl_tokens'] as Record<string, unknown> | undefined;
  const early = band(tokens?.['early']);
  const late = band(tokens?.['late']);
  const lastStep = Math.max(points[points.length - 1]!.step, loss.length ? loss[loss.length - 1]!.step : 0);
  return {
    model,
    n_layer: L,
    n_head: H,
    loss,
    points,
    phases,
    text_icl_tokens: early && late ? { early, late } : null,
    probe_half_len: Number.isInteger(raw['probe_half_len']) ? (raw['probe_half_len'] as number) : 64,
    last_step: lastStep,
  };
}

/** The index of the point a loaded model's name is (-1: not of this timeline). */
export function pointOf(timeline: Timeline, name: string): number {
  return timeline.points.findIndex((p) => p.name === name);
}

/** A phase's label on the chart: "warm-up · 32 tokens" / "text · 128 tokens". */
export function phaseLabel(phase: Phase): string {
  return `${phase.data === 'warmup' ? 'warm-up' : 'text'} · ${phase.seq_len} tokens`;
}

/** Steps as people read them: 5634 -> "5,634". */
export function formatStep(step: number): string {
  return step.toLocaleString('en-US');
}

/** Where the induction heads form, read off the checkpoints (see phaseChange). */
export interface PhaseChange {
  /** The last checkpoint before the fall and the first after it (steps). */
  from: number;
  to: number;
  /** Checkpoints strictly between `from` and `to`: the ones that see it happen. */
  inside: number;
  /** The probe's ICL score at `from` and at `to` (nats). */
  icl_from: number;
  icl_to: number;
  /** The best head's induction score at `from` and at `to`. */
  induction_from: number;
  induction_to: number;
}

/** The best induction score over all heads at each point (NaN scores skipped). */
export function bestInduction(timeline: Timeline): number[] {
  return timeline.points.map((p) => Math.max(0, ...Array.from(p.induction).filter(Number.isFinite)));
}

/**
 * The phase change (Olsson et al. 2022 find it as an abrupt fall of the
 * in-context learning score): the steps over which the probe's ICL score
 * makes the middle 80% of its fall, from the first checkpoint's score to the
 * lowest: `from` is the last checkpoint before the score has fallen 10% of
 * the way, `to` the first where it has fallen 90%. Null when it falls less
 * than 1 nat (nothing copies from context) or the run has fewer than 3 points.
 */
export function phaseChange(timeline: Timeline): PhaseChange | null {
  const icl = timeline.points.map((p) => (Number.isFinite(p.probe_icl) ? p.probe_icl : Infinity));
  if (icl.length < 3 || !Number.isFinite(icl[0]!)) return null;
  const start = icl[0]!;
  const fall = start - Math.min(...icl);
  if (!(fall >= 1)) return null;
  const end = icl.findIndex((v) => v <= start - 0.9 * fall);
  let before = end;
  while (before > 0 && icl[before]! <= start - 0.1 * fall) before--;
  if (before === end) return null;
  const best = bestInduction(timeline);
  return {
    from: timeline.points[before]!.step,
    to: timeline.points[end]!.step,
    inside: end - before - 1,
    icl_from: icl[before]!,
    icl_to: icl[end]!,
    induction_from: best[before]!,
    induction_to: best[end]!,
  };
}

/**
 * The step range the zoomed charts show: the phase change with a tenth of its
 * width on each side, so its first and last checkpoints sit inside the plot.
 */
export function zoomDomain(change: PhaseChange, lastStep: number): [number, number] {
  const pad = Math.max(1, Math.round(0.1 * (change.to - change.from)));
  return [Math.max(0, change.from - pad), Math.min(lastStep, change.to + pad)];
}

/**
 * The steps a Play walks through from point `from`: every later point, then
 * (from the last) the whole timeline again from the first.
 */
export function playOrder(count: number, from: number): number[] {
  const start = from >= count - 1 ? 0 : from + 1;
  return Array.from({ length: count - start }, (_, i) => start + i);
}
