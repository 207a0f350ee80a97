/**
 * Which heads matter, as the worker computes them (docs/heads.md): the exact
 * ablation scan a layer at a time and the pruning curves a part at a time,
 * so the page sees their progress and can stop them; the gradient importance. Each runs on the
 * engine EngineCache.engineWithEdits hands over (the last analyze's tokens
 * with the page's edits). No worker scope here: the Node tests drive it over
 * the real wasm engine (tests/node/importance-jobs.test.mjs).
 * Shapes use L = n_layer, H = n_head, T = tokens.
 */
import type { Engine, HeadlightModule } from './headlight-wasm';
import { owned, unwrap } from './engine-calls';
import type { HeadImportance, Progress, PruningCurves } from './protocol';

/** What a job needs besides the engine: the model's shape and name, the tokens the engine holds. */
export interface JobModel {
  name: string;
  n_layer: number;
  n_head: number;
  n_positions: number;
}

/** Lets the worker read the messages that came in (a cancel) before the next layer or part. */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * The exact scan (zero or mean) at position p (-1 or past T - 2: T - 2),
 * one engine call per layer (the engine's ablationScanPart, each figure
 * bit-equal to the whole scan's), reporting after each layer. `stopped` is
 * asked between layers: true returns a cancelled result at once.
 */
export async function scanByLayer(
  engine: Engine,
  model: JobModel,
  ids: Int32Array,
  mode: 'zero' | 'mean',
  position: number,
  report: (progress: Progress) => void,
  stopped: () => boolean,
): Promise<HeadImportance> {
  const t0 = performance.now();
  const { n_layer: L, n_head: H } = model;
  const T = Math.min(ids.length, model.n_positions);
  const p = position >= 0 && position <= T - 2 ? position : T - 2;
  const result = emptyResult(mode, model, ids.slice(0, T), p);
  result.delta_mean_loss = new Float32Array(L * H).fill(NaN);
  result.delta_logprob = new Float32Array(L * H).fill(NaN);
  const label = `exact scan (${mode} ablation), ${L * H} heads`;
  report({ label, loaded: 0, total: L * H });
  for (let layer = 0; layer < L; layer++) {
    await nextTask();
    if (stopped()) return { ...result, cancelled: true, compute_ms: performance.now() - t0 };
    const skip = new Int32Array(L * H).fill(1).fill(0, layer * H, (layer + 1) * H);
    const part = unwrap(engine.ablationScanPart(mode, p, skip), `exact scan of layer ${layer}`);
    result.mean_loss = part.mean_loss;
    result.logprob = part.logprob;
    result.delta_mean_loss.set(part.delta_mean_loss.subarray(layer * H, (layer + 1) * H), layer * H);
    result.delta_logprob.set(part.delta_logprob.subarray(layer * H, (layer + 1) * H), layer * H);
    report({ label, loaded: (layer + 1) * H, total: L * H });
  }
  return { ...result, compute_ms: performance.now() - t0 };
}

/**
 * d mean loss / d gain of every head at the engine's edits (its gains and
 * mean-ablated heads: the pass the page shows; one backward pass); with
 * compareWith ([L x H] an exact scan's Δ mean loss) and the module's
 * spearmanRho, their rank correlation (−gradient is the first-order Δ mean
 * loss of muting a head at gain 1, so 1 = the same order).
 */
export function gradientOf(
  engine: Engine,
  model: JobModel,
  ids: Int32Array,
  compare?: { with: Float32Array; spearmanRho: HeadlightModule['spearmanRho'] },
): HeadImportance {
  const t0 = performance.now();
  const T = Math.min(ids.length, model.n_positions);
  const { gradient } = unwrap(engine.editedGradientImportance(), 'gradient importance');
  const result = emptyResult('gradient', model, ids.slice(0, T), -1);
  const rho = compare ? unwrap(compare.spearmanRho(gradient.map((g) => -g), compare.with), 'rank correlation').rho : NaN;
  return { ...result, gradient: owned(gradient), rank_correlation: rho, compute_ms: performance.now() - t0 };
}

/**
 * The pruning curves of the engine's tokens, from the unedited model, a part
 * at a time (the engine's pruningStart / pruningStep: each part removes up
 * to rescanEvery heads after one exact scan; the curves equal the one-call
 * pruningCurve's bit for bit), reporting the heads removed over both curves
 * after each part. `stopped` is asked between parts: true returns a
 * cancelled result (empty curves) at once.
 */
export async function pruningOf(
  engine: Engine,
  model: JobModel,
  ids: Int32Array,
  mode: 'zero' | 'mean',
  rescanEvery: number,
  seed: number,
  report: (progress: Progress) => void,
  stopped: () => boolean,
): Promise<PruningCurves> {
  const t0 = performance.now();
  const curves: PruningCurves = {
    model: model.name,
    ids: ids.slice(0, Math.min(ids.length, model.n_positions)),
    n_layer: model.n_layer,
    n_head: model.n_head,
    mode,
    rescan_every: rescanEvery,
    seed,
    order: new Int32Array(0),
    mean_loss: new Float32Array(0),
    random_order: new Int32Array(0),
    random_mean_loss: new Float32Array(0),
    cancelled: false,
    compute_ms: 0,
  };
  // Short: a phone shows it beside the bar (the panel's note names the mode).
  const label = 'heads removed';
  let state = unwrap(engine.pruningStart(mode, rescanEvery, seed), 'pruning curve');
  report({ label, loaded: state.removed, total: state.total });
  while (!state.done) {
    await nextTask();
    if (stopped()) return { ...curves, cancelled: true, compute_ms: performance.now() - t0 };
    state = unwrap(engine.pruningStep(1), 'pruning curve');
    report({ label, loaded: state.removed, total: state.total });
  }
  return {
    ...curves,
    mode: state.mode,
    rescan_every: state.rescan_every,
    order: owned(state.order),
    mean_loss: owned(state.mean_loss),
    random_order: owned(state.random_order),
    random_mean_loss: owned(state.random_mean_loss),
    compute_ms: performance.now() - t0,
  };
}

function emptyResult(kind: HeadImportance['kind'], model: JobModel, ids: Int32Array, position: number): HeadImportance {
  return {
    kind,
    model: model.name,
    ids,
    n_layer: model.n_layer,
    n_head: model.n_head,
    position,
    mean_loss: NaN,
    logprob: NaN,
    delta_mean_loss: new Float32Array(0),
    delta_logprob: new Float32Array(0),
    gradient: new Float32Array(0),
    rank_correlation: NaN,
    cancelled: false,
    compute_ms: 0,
  };
}
