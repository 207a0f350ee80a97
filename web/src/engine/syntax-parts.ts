/**
 * The syntax probe (docs/heads.md "Syntactic heads") as the worker computes
 * it: a part at a time, one 'syntaxPart' request each (the Syntax view asks
 * for the next when the last arrives, app/syntax-runs.ts), so the reader's
 * edits and hovers wait at most one part. On the GPT-2-small shape the whole
 * probe is seconds of one core; a part is one layer over a batch of
 * sentences (wasm/core/syntax_run.h: ~128 tokens, tens of ms there). The
 * engine's run adds the same sums in the same order as the one call, so the
 * probe is syntaxProbe's bits. No worker scope here: the Node tests drive it
 * over the real wasm engine (tests/node/syntax-parts.test.mjs).
 */
import type { Engine, SyntaxStepResult } from './headlight-wasm';
import { unwrap } from './engine-calls';
import { partsWithin } from './engine-parts';
import type { SyntaxPart } from './protocol';

/** One request's share of the worker, ms (the start's tokenizing included). */
export const SYNTAX_PART_MS = 80;

/** The run an engine holds: the probe file it is of (null: none begun) and the compute time of its parts so far. */
export interface HeldSyntaxRun {
  probeJson: string | null;
  compute_ms: number;
}

export function noSyntaxRun(): HeldSyntaxRun {
  return { probeJson: null, compute_ms: 0 };
}

/**
 * The next engine parts of `model`'s probe on probeJson, for about budgetMs
 * (at least one part, unless beginning the run, which tokenizes the probe,
 * took all of it): how far the run is, and the probe once done. `run` is
 * the engine's run; another probe file begins a new one.
 */
export function syntaxPart(engine: Engine, model: string, probeJson: string, run: HeldSyntaxRun, budgetMs = SYNTAX_PART_MS): SyntaxPart {
  const t0 = performance.now();
  const what = `Model "${model}": syntax probe`;
  let step: SyntaxStepResult | null = null;
  if (run.probeJson !== probeJson) {
    step = unwrap(engine.syntaxStart(probeJson), what);
    run.probeJson = probeJson;
    run.compute_ms = 0;
  }
  if (!step || performance.now() - t0 < budgetMs) step = partsWithin(() => unwrap(engine.syntaxStep(1), what), budgetMs, t0);
  const compute_ms = performance.now() - t0;
  run.compute_ms += compute_ms;
  const { parts_done, parts_total, work_done, work_total } = step;
  const part = { model, cancelled: false, done: step.done, parts_done, parts_total, work_done, work_total, compute_ms };
  if (!step.done) return { ...part, probe: undefined };
  const { ok: _ok, done: _done, next_kind: _next, parts_done: _pd, parts_total: _pt, work_done: _wd, work_total: _wt, ...fields } = step;
  return { ...part, probe: { ...fields, model, compute_ms: run.compute_ms } };
}

/** The answer to a part of a model that is no longer the loaded one. */
export function cancelledSyntaxPart(model: string): SyntaxPart {
  return { model, cancelled: true, done: false, parts_done: 0, parts_total: 0, work_done: 0, work_total: 0, probe: undefined, compute_ms: 0 };
}
