// Which heads matter, as the page's worker computes them
// (web/src/engine/importance-jobs.ts over EngineCache.engineWithEdits), on
// the real wasm engine: the scan a layer at a time equals the engine's whole
// scan bit for bit (zero and mean, with an edit on top), reports one
// progress step per layer and stops between layers when asked; the pruning
// curves a part at a time equal the one-call curves bit for bit and stop
// between parts when asked; the gradient is the engine's own at the edits
// (mean ablation included). Prints the figures it checks.
//
// Needs build/wasm (scripts/build-wasm.sh).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { importTs } from '../web/ts-import.mjs';
import { sameBits } from './compare.mjs';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from './wasm-helpers.mjs';

const TEXT = 'The quick brown fox jumps over the lazy dog. The quick brown fox jumps again.';

let Module;
let EngineCache;
let jobs;

before(async () => {
  Module = await createModule();
  ({ EngineCache } = await importTs('web/src/engine/engine-cache.ts'));
  jobs = await importTs('web/src/engine/importance-jobs.ts');
});

/** A cache over tiny-gpt that has analyzed TEXT with gains (the worker's state before a job). */
function analyzedCache(gains) {
  const files = readModelFolder(path.join(REPO_ROOT, 'tests/fixtures/tiny-gpt'));
  const engine = new Module.Engine();
  const info = expectOk(loadFolder(engine, files), 'loadModel');
  const model = { name: 'tiny-gpt', bytes: 0, load_ms: 0, ...info };
  const cache = new EngineCache(engine, model);
  const L = info.n_layer, H = info.n_head;
  const means = new Int32Array(L * H);
  cache.analyze({ text: TEXT, gains: gains(L, H), means, topK: 5, position: -1, heldAttention: 0 }, () => {});
  return { cache, engine, model, L, H };
}

for (const mode of ['zero', 'mean']) {
  test(`scan by layer (${mode}) equals the engine's whole scan bit for bit, one progress step per layer`, async () => {
    // Head 0.1 muted by the reader: the scan is on top of that edit.
    const edited = (L, H) => new Float32Array(L * H).fill(1).fill(0, 1, 2);
    const { cache, engine, model, L, H } = analyzedCache(edited);
    const { ids } = cache.engineWithEdits(TEXT, edited(L, H));
    const steps = [];
    const byLayer = await jobs.scanByLayer(engine, model, ids, mode, 5, (p) => steps.push(p.loaded), () => false);
    const whole = expectOk(engine.ablationScan(mode, 5), 'ablationScan');
    const nanHeads = [...byLayer.delta_mean_loss].filter(Number.isNaN).length;
    console.log(`  ${mode}: ${L * H} heads, progress ${steps.join(' ')}, NaN heads ${nanHeads}, ` +
      `bit-equal: delta_mean_loss ${sameBits(byLayer.delta_mean_loss, whole.delta_mean_loss)}, ` +
      `delta_logprob ${sameBits(byLayer.delta_logprob, whole.delta_logprob)}`);
    assert.equal(byLayer.cancelled, false);
    assert.equal(nanHeads, 0);
    assert.ok(sameBits(byLayer.delta_mean_loss, whole.delta_mean_loss));
    assert.ok(sameBits(byLayer.delta_logprob, whole.delta_logprob));
    assert.equal(byLayer.mean_loss, whole.mean_loss);
    assert.equal(byLayer.position, 5);
    assert.deepEqual(steps, Array.from({ length: L + 1 }, (_, l) => l * H));
    cache.delete();
  });
}

test('a cancelled scan stops between layers: one layer scanned, no figures', async () => {
  const ones = (L, H) => new Float32Array(L * H).fill(1);
  const { cache, engine, model, L, H } = analyzedCache(ones);
  const { ids } = cache.engineWithEdits(TEXT, ones(L, H));
  const steps = [];
  let asked = 0;
  // Stopped from the second check on: after the first layer.
  const result = await jobs.scanByLayer(engine, model, ids, 'zero', -1, (p) => steps.push(p.loaded), () => ++asked > 1);
  console.log(`  cancelled: ${result.cancelled}, progress ${steps.join(' ')} of ${L * H}, checks ${asked}`);
  assert.equal(result.cancelled, true);
  assert.deepEqual(steps, [0, H]);
  assert.throws(() => cache.engineWithEdits('another text', ones(L, H)), /has not been run yet/);
  cache.delete();
});

test('gradient and pruning jobs give the engine figures of the analyzed tokens', async () => {
  const ones = (L, H) => new Float32Array(L * H).fill(1);
  const { cache, engine, model, L, H } = analyzedCache(ones);
  const { ids } = cache.engineWithEdits(TEXT, ones(L, H));
  const scan = expectOk(engine.ablationScan('zero', -1), 'ablationScan');
  const compare = { with: scan.delta_mean_loss, spearmanRho: (a, b) => Module.spearmanRho(a, b) };
  const gradient = jobs.gradientOf(engine, model, ids, compare);
  const direct = expectOk(engine.gradientImportance(ids, ones(L, H)), 'gradientImportance');
  const rho = expectOk(Module.spearmanRho(direct.gradient.map((g) => -g), scan.delta_mean_loss), 'spearmanRho').rho;
  // The same order, reversed, and a constant: 1, -1, NaN.
  const same = Module.spearmanRho(Float32Array.from([1, 2, 3]), Float32Array.from([10, 20, 30])).rho;
  const reversed = Module.spearmanRho(Float32Array.from([1, 2, 3]), Float32Array.from([3, 2, 1])).rho;
  const constant = Module.spearmanRho(Float32Array.from([1, 1, 1]), Float32Array.from([3, 2, 1])).rho;
  console.log(`  rank correlation of -gradient with the zero scan: ${gradient.rank_correlation} (engine ${rho}); same ${same}, reversed ${reversed}, constant ${constant}`);
  assert.equal(gradient.rank_correlation, rho);
  assert.ok(rho > -1 && rho <= 1);
  assert.deepEqual([same, reversed], [1, -1]);
  assert.ok(Number.isNaN(constant));
  assert.equal(Module.spearmanRho(Float32Array.from([1]), Float32Array.from([1, 2])).ok, false);
  const steps = [];
  const curves = await jobs.pruningOf(engine, model, ids, 'zero', 4, 1, (p) => steps.push(`${p.loaded}/${p.total}`), () => false);
  const engineCurves = expectOk(engine.pruningCurve('zero', 4, 1), 'pruningCurve');
  console.log(`  gradient of ${gradient.gradient.length} heads bit-equal: ${sameBits(gradient.gradient, direct.gradient)}; ` +
    `pruning ${curves.order.length} heads in parts, progress ${steps.join(' ')}, loss ${curves.mean_loss[0].toFixed(4)} -> ${curves.mean_loss[L * H].toFixed(4)}, ` +
    `bit-equal to the one-call curve: ${sameBits(curves.mean_loss, engineCurves.mean_loss) && sameBits(curves.random_mean_loss, engineCurves.random_mean_loss)}`);
  assert.ok(sameBits(gradient.gradient, direct.gradient));
  assert.equal(curves.cancelled, false);
  assert.ok(sameBits(curves.mean_loss, engineCurves.mean_loss));
  assert.ok(sameBits(curves.random_mean_loss, engineCurves.random_mean_loss));
  assert.deepEqual([...curves.order], [...engineCurves.order]);
  assert.deepEqual([...curves.random_order], [...engineCurves.random_order]);
  // One report at the start and one per part (4 heads each) over both curves.
  assert.equal(steps.length, 1 + 2 * Math.ceil((L * H) / 4));
  assert.equal(steps.at(-1), `${2 * L * H}/${2 * L * H}`);
  assert.equal(curves.ids.length, expectOk(engine.getTraceWithoutAttention(), 'trace').T);
  cache.delete();
});

test('a cancelled pruning stops between parts: one part run, no curves', async () => {
  const ones = (L, H) => new Float32Array(L * H).fill(1);
  const { cache, engine, model, L, H } = analyzedCache(ones);
  const { ids } = cache.engineWithEdits(TEXT, ones(L, H));
  const steps = [];
  let asked = 0;
  const result = await jobs.pruningOf(engine, model, ids, 'mean', 4, 1, (p) => steps.push(p.loaded), () => ++asked > 1);
  console.log(`  pruning cancelled: ${result.cancelled}, progress ${steps.join(' ')} of ${2 * L * H}, checks ${asked}`);
  assert.equal(result.cancelled, true);
  assert.deepEqual(steps, [0, 4]);
  assert.equal(result.order.length, 0);
  cache.delete();
});

test("the gradient job honours mean ablation: the engine's edited gradient, not the gains-only one", () => {
  const ones = (L, H) => new Float32Array(L * H).fill(1);
  const { cache, engine, model, L, H } = analyzedCache(ones);
  const means = new Int32Array(L * H);
  means[1] = 1;  // head 0.1 mean-ablated
  const { ids } = cache.engineWithEdits(TEXT, ones(L, H), means);
  const gradient = jobs.gradientOf(engine, model, ids);
  const gainsOnly = expectOk(engine.gradientImportance(ids, ones(L, H)), 'gradientImportance').gradient;
  let differ = 0;
  for (let i = 0; i < L * H; i++) differ += gradient.gradient[i] !== gainsOnly[i];
  console.log(`  with 0.1 mean-ablated: ${differ} of ${L * H} heads' gradients differ from the gains-only gradient`);
  assert.ok(differ > 0);
  cache.delete();
});
