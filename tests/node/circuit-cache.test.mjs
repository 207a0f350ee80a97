// The worker's circuit requests (web/src/engine/circuit-cache.ts) over the
// real wasm engine, on the shipped attn-only-2l and gpt-4l (with MLPs) with the
// induction-circuit preset: the lens' output row is the analysis' own
// top-k (bit for bit); a patched run with nothing patched is the corrupted
// run's metric of the maps, with one head patched that head's map cell
// (setHeadPatches = the batched patcher), on the logit difference and on
// the answer's log-prob (no foil); the analysis after a patched run
// equals the one before (the cache forgets the trace, no patch survives);
// different token counts and a word of several tokens are named.
//
// Needs build/wasm (scripts/build-wasm.sh).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { importTs } from '../web/ts-import.mjs';
import { maxAbsDiff, sameBits } from './compare.mjs';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from './wasm-helpers.mjs';

let Module;
let EngineCache;
let CircuitCache;
let inductionCircuit;

before(async () => {
  Module = await createModule();
  ({ EngineCache } = await importTs('web/src/engine/engine-cache.ts'));
  ({ CircuitCache } = await importTs('web/src/engine/circuit-cache.ts'));
  ({ inductionCircuit } = await importTs('web/src/views/presets.ts'));
});

function open(dir, name) {
  const files = readModelFolder(dir);
  const engine = new Module.Engine();
  const info = expectOk(loadFolder(engine, files), 'loadModel');
  const model = { name, bytes: 0, load_ms: 0, ...info };
  const cache = new EngineCache(engine, model);
  return { model, cache, circuits: new CircuitCache(engine, cache, model) };
}

function analyze(cache, model, text, gains) {
  const L = model.n_layer * model.n_head;
  return cache.analyze({ text, gains, means: new Int32Array(L), topK: 5, position: -1, heldAttention: 0 }, () => {}).core;
}

const CASES = [
  { name: 'attn-only-2l', dir: path.join(REPO_ROOT, 'models/attn-only-2l') },
  { name: 'gpt-4l', dir: path.join(REPO_ROOT, 'models/gpt-4l') },
];

for (const { name, dir } of CASES) {
  test(`${name}: lens, patching maps and patched runs of the circuit cache`, () => {
    const { model, cache, circuits } = open(dir, name);
    const { n_layer: L, n_head: H } = model;
    const ones = new Float32Array(L * H).fill(1);
    const { text, corrupted, answer, foil } = inductionCircuit(5);
    const first = analyze(cache, model, text, ones);
    const T = first.T;

    // The lens of the drawn analysis: row L at the last position is its top-k.
    const lens = circuits.lens({ text, gains: ones, topK: 5, position: -1, answer, foil });
    const K = lens.lens.top_k;
    const row = (L * T + (T - 1)) * K;
    const lensTop = lens.lens.top_k_probs.slice(row, row + K);
    const drawnTop = first.top_k_probs.slice((T - 1) * K, T * K);
    console.log(`  ${name}: lens ${lens.lens.n_rows} x ${lens.lens.positions.length}; output row vs analysis top-k same bits: ${sameBits(lensTop, drawnTop)}`);
    assert.ok(sameBits(lensTop, drawnTop));
    const dla = lens.lens.dla;
    if (dla) {
      console.log(`  DLA at the last position: total ${dla.total.toFixed(6)}, actual ${dla.actual.toFixed(6)}, error ${Math.abs(dla.total - dla.actual).toExponential(2)}`);
      assert.ok(Math.abs(dla.total - dla.actual) < 1e-3);
    }

    const maps = circuits.patchMaps({ clean: text, corrupted, answer, foil, metric: 'logit_diff' });
    assert.equal(maps.maps.head_z.length, L * H);
    assert.equal(maps.maps.residual.length, (L + 1) * T);
    const none = circuits.patchedRun({ clean: text, corrupted, answer, foil, metric: 'logit_diff', patched: new Int32Array(L * H), topK: 5 });
    console.log(`  metric clean ${maps.maps.clean.toFixed(4)}, corrupted ${maps.maps.corrupted.toFixed(4)}; patched run with nothing patched ${none.metric.toFixed(4)}`);
    assert.ok(Math.abs(none.metric - maps.maps.corrupted) < 1e-5, 'nothing patched: the corrupted run');
    let worst = 0;
    for (const i of [0, L * H - 1, H + 1].filter((j) => j < L * H)) {
      const flags = new Int32Array(L * H);
      flags[i] = 1;
      const one = circuits.patchedRun({ clean: text, corrupted, answer, foil, metric: 'logit_diff', patched: flags, topK: 5 });
      worst = Math.max(worst, Math.abs(one.metric - maps.maps.head_z_metric[i]));
    }
    const all = circuits.patchedRun({ clean: text, corrupted, answer, foil, metric: 'logit_diff', patched: new Int32Array(L * H).fill(1), topK: 5 });
    console.log(`  one head patched live vs its map cell: max |diff| ${worst.toExponential(2)}; every head patched: ${all.metric.toFixed(4)}`);
    assert.ok(worst < 1e-4);
    assert.equal(maps.maps.metric_kind, 'logit_diff');

    // The answer's log-prob: no foil needed; the live patched runs read it
    // from the lens (log of the answer's probability) and agree with the maps.
    const lp = { clean: text, corrupted, answer, foil: '', metric: 'logprob' };
    const lpMaps = circuits.patchMaps(lp);
    assert.equal(lpMaps.maps.metric_kind, 'logprob');
    assert.ok(lpMaps.maps.clean <= 0 && lpMaps.maps.corrupted <= 0, 'a log-prob is at most 0');
    const lpNone = circuits.patchedRun({ ...lp, patched: new Int32Array(L * H), topK: 5 });
    let lpWorst = Math.abs(lpNone.metric - lpMaps.maps.corrupted);
    for (const i of [0, L * H - 1, H + 1].filter((j) => j < L * H)) {
      const flags = new Int32Array(L * H);
      flags[i] = 1;
      const one = circuits.patchedRun({ ...lp, patched: flags, topK: 5 });
      lpWorst = Math.max(lpWorst, Math.abs(one.metric - lpMaps.maps.head_z_metric[i]));
    }
    console.log(`  log p(answer) clean ${lpMaps.maps.clean.toFixed(4)}, corrupted ${lpMaps.maps.corrupted.toFixed(4)}; ` +
      `patched runs (none, one head) vs the maps: max |diff| ${lpWorst.toExponential(2)}`);
    assert.ok(lpWorst < 1e-4);

    // The cache forgot its trace: the next analyze is a whole pass with the same figures as the first.
    const again = analyze(cache, model, text, ones);
    console.log(`  analyze after the patched runs: top-k ${maxAbsDiff(again.top_k_probs, first.top_k_probs)} from the first, loss same bits ${sameBits(again.loss, first.loss)}`);
    assert.ok(sameBits(again.top_k_probs, first.top_k_probs));
    assert.ok(sameBits(again.loss, first.loss));

    assert.throws(() => circuits.patchMaps({ clean: text, corrupted: `${corrupted} night`, answer, foil, metric: 'logit_diff' }),
      new RegExp(`the clean prompt has ${T} tokens and the corrupted prompt ${T + 1}`));
    const several = circuits.lens({ text, gains: ones, topK: 5, position: -1, answer: ' Pemberthwaite', foil, metric: 'logit_diff' });
    console.log(`  " Pemberthwaite": ${several.answer.ids.length} tokens (${several.answer.tokens.join('|')}); DLA ${several.lens.dla ? 'given' : 'not given'}`);
    assert.ok(several.answer.ids.length > 1);
    assert.equal(several.lens.dla, undefined);
    assert.equal(several.lens.answer_rank, undefined);
    assert.throws(() => circuits.patchMaps({ clean: text, corrupted, answer: ' Pemberthwaite', foil, metric: 'logit_diff' }), /the answer " Pemberthwaite" is \d+ tokens, not one/);
    cache.delete();
  });
}
