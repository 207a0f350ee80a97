/**
 * How the worker runs a long engine computation a part at a time (the
 * copying scores, copying-parts.ts; the syntax probe, syntax-parts.ts;
 * fine-tuning's steps, finetune-job.ts): one
 * request runs engine parts while the next, judged by the last, still fits
 * its budget, at least one, so the page's other requests wait at most about
 * the budget plus one part.
 */

/**
 * step() runs one engine part and says whether the run is done; parts run
 * until done or until the next would end after budgetMs from t0. Returns
 * the last step's answer.
 */
export function partsWithin<S extends { done: boolean }>(step: () => S, budgetMs: number, t0 = performance.now()): S {
  for (;;) {
    const t = performance.now();
    const last = step();
    const now = performance.now();
    if (last.done || now - t0 + (now - t) > budgetMs) return last;
  }
}
