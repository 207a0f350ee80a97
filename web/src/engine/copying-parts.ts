/**
 * The copying scores (docs/heads.md "Copying") as the worker computes them.
 * They depend on the weights alone and cost V·C² + L·C³ multiply-adds: a
 * small model is scored in its load step (tens of ms); a larger one (the
 * GPT-2-small shape: 3.5·10¹⁰, seconds) is shown without them and scored
 * afterwards a part at a time, one 'copyingPart' request each
 * (app/copying-store.ts asks for the next when the last arrives), so the
 * reader's edits wait at most one part. The engine's run (copying.h
 * CopyingRun) does the same operations in the same order as the one call,
 * so the scores are copyingScores' bits. No worker scope here: the Node
 * tests drive it over the real wasm engine (tests/node/copying-parts.test.mjs).
 * Shapes use L = n_layer, H = n_head.
 */
import type { Engine, ModelInfo } from './headlight-wasm';
import { owned, unwrap } from './engine-calls';
import { partsWithin } from './engine-parts';
import type { CopyingPart } from './protocol';

/** The largest copying cost scored at load (about 0.2 s of wasm); above it, in parts after. */
export const COPYING_AT_LOAD_MAX_MULTIPLY_ADDS = 2e9;

/**
 * One request's share of the worker, ms: engine parts (a block of 512 rows
 * of wte, or a layer: ~30-60 ms each on the GPT-2-small shape) are run while
 * the next one, judged by the last, still fits.
 */
export const COPYING_PART_MS = 80;

/** V·C² + L·C³: the multiply-adds of the scores (the Gram matrix of wte, then every layer's product). */
export function copyingCost(info: Pick<ModelInfo, 'vocab_size' | 'n_embd' | 'n_layer'>): number {
  return info.vocab_size * info.n_embd ** 2 + info.n_layer * info.n_embd ** 3;
}

/** Whether the load step scores this model (else copyingPart does, after it is shown). */
export function copyingAtLoad(info: Pick<ModelInfo, 'vocab_size' | 'n_embd' | 'n_layer'>): boolean {
  return copyingCost(info) <= COPYING_AT_LOAD_MAX_MULTIPLY_ADDS;
}

/**
 * The next engine parts of `model`'s scores, for about budgetMs (at least
 * one part): how far the run is, and the [L x H] scores once done.
 */
export function copyingPart(engine: Engine, model: string, budgetMs = COPYING_PART_MS): CopyingPart {
  const t0 = performance.now();
  const step = partsWithin(() => unwrap(engine.copyingStep(1), `Model "${model}": copying scores`), budgetMs, t0);
  return {
    model,
    cancelled: false,
    done: step.done,
    parts_done: step.parts_done,
    parts_total: step.parts_total,
    work_done: step.work_done,
    work_total: step.work_total,
    compute_ms: performance.now() - t0,
    copying: step.done ? owned(step.copying) : undefined,
  };
}

/** The answer to a part of a model that is no longer the loaded one. */
export function cancelledCopyingPart(model: string): CopyingPart {
  return { model, cancelled: true, done: false, parts_done: 0, parts_total: 0, work_done: 0, work_total: 0, copying: undefined, compute_ms: 0 };
}
