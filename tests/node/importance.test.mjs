// The two head analyses of the Embind surface (web/src/engine/headlight-wasm.d.ts):
//   gradientImportance  against central finite differences computed in
//                       float64 through the independent reference
//                       (tests/reference/gpt2-reference.mjs, headGains),
//                       at gains all 1 and at a mixed set, on both fixtures;
//   attentionSimilarity against the Jensen-Shannon divergence written out
//                       in JS (the two KL terms) on the engine's own trace.
// Errors come back as messages. Prints the figures it checks.
//
// Needs build/wasm (scripts/build-wasm.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { loadReferenceModel, referenceForward } from '../reference/gpt2-reference.mjs';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from './wasm-helpers.mjs';

const FIXTURES = ['tiny-gpt', 'tiny-attn-only'];
const TEXT = 'The cat sat on the mat. The dog sat on the log. The cat sat on the mat again.';
const EPS = 1e-3;  // float64: the central difference's error is O(EPS^2)

async function loadedEngine(name) {
  const Module = await createModule();
  const engine = new Module.Engine();
  const info = expectOk(loadFolder(engine, readModelFolder(fixtureDir(name))), 'loadModel');
  return { engine, info };
}

function fixtureDir(name) {
  return path.join(REPO_ROOT, 'tests/fixtures', name);
}

// The reference's mean next-token loss (nats) over the T-1 predictions;
// zReplace: the reference's replaced z (mean ablation).
function referenceMeanLoss(model, ids, headGains, zReplace = []) {
  const { logits } = referenceForward(model, ids, { headGains, zReplace });
  const V = model.config.vocab_size;
  let sum = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[t * V + v]);
    let z = 0;
    for (let v = 0; v < V; v++) z += Math.exp(logits[t * V + v] - max);
    sum += max + Math.log(z) - logits[t * V + ids[t + 1]];
  }
  return sum / (ids.length - 1);
}

for (const name of FIXTURES) {
  test(`gradientImportance on ${name} equals float64 central differences`, async () => {
    const { engine, info } = await loadedEngine(name);
    const ids = Array.from(expectOk(engine.tokenize(TEXT), 'tokenize').ids);
    const model = loadReferenceModel(fixtureDir(name));
    const n = info.n_layer * info.n_head;
    const mixed = Array.from({ length: n }, (_, i) => [1, 0, 0.5, 1.5, -0.5, 1, 0.25][(i * 5 + 2) % 7]);
    for (const [label, gains] of [['all 1', new Array(n).fill(1)], ['mixed', mixed]]) {
      const got = expectOk(engine.gradientImportance(Int32Array.from(ids), Float32Array.from(gains)),
        'gradientImportance');
      assert.equal(got.n_layer, info.n_layer);
      assert.equal(got.gradient.length, n);
      let maxAbs = 0, maxRel = 0, largest = 0;
      for (let i = 0; i < n; i++) {
        const up = gains.slice(), down = gains.slice();
        up[i] += EPS;
        down[i] -= EPS;
        const fd = (referenceMeanLoss(model, ids, up) - referenceMeanLoss(model, ids, down)) / (2 * EPS);
        const err = Math.abs(got.gradient[i] - fd);
        maxAbs = Math.max(maxAbs, err);
        maxRel = Math.max(maxRel, err / Math.max(Math.abs(fd), 1e-3));
        largest = Math.max(largest, Math.abs(fd));
      }
      console.log(`[importance] ${name}, gains ${label}, T=${ids.length}: wasm gradient vs float64 ` +
        `central FD (eps ${EPS}): max abs error ${maxAbs.toExponential(2)}, max relative error ` +
        `${maxRel.toExponential(2)}, largest |d loss / d gain| ${largest.toFixed(3)}`);
      assert.ok(largest > 1e-3, 'the gradients are not all 0');
      assert.ok(maxRel < 2e-4, `relative error ${maxRel}`);
    }
    engine.delete();
  });
}

for (const name of FIXTURES) {
  test(`editedGradientImportance on ${name} with mean-ablated heads equals float64 central differences`, async () => {
    const { engine, info } = await loadedEngine(name);
    const ids = Array.from(expectOk(engine.tokenize(TEXT), 'tokenize').ids);
    const model = loadReferenceModel(fixtureDir(name));
    const { n_layer: L, n_head: H, n_embd: C } = info;
    const D = C / H, T = ids.length, n = L * H;
    // Head 0.1 mean-ablated at gain 1, head 1.0 mean-ablated at gain 0.5, 0.2 muted.
    const ablated = [[0, 1], [1, 0]];
    const gains = new Array(n).fill(1);
    gains[1 * H + 0] = 0.5;
    gains[2] = 0;
    const flags = new Int32Array(n);
    for (const [l, h] of ablated) flags[l * H + h] = 1;
    expectOk(engine.setHeadMeans(flags, Int32Array.from(ids)), 'setHeadMeans');
    expectOk(engine.setHeadGains(Float32Array.from(gains)), 'setHeadGains');
    expectOk(engine.run(Int32Array.from(ids), 5), 'run');
    const got = expectOk(engine.editedGradientImportance(), 'editedGradientImportance');
    const gainsOnly = expectOk(engine.gradientImportance(Int32Array.from(ids), Float32Array.from(gains)),
      'gradientImportance');
    // The reference's means: each ablated head's z over all T positions of the unedited model.
    const { z } = referenceForward(model, ids);
    const zReplace = ablated.map(([l, h]) => {
      const mean = new Float64Array(D);
      for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) mean[d] += z[l][(t * H + h) * D + d] / T;
      return { layer: l, head: h, z: mean };
    });
    let maxAbs = 0, maxRel = 0, largest = 0, ablatedRel = 0, gainsOnlyOff = 0;
    for (let i = 0; i < n; i++) {
      const up = gains.slice(), down = gains.slice();
      up[i] += EPS;
      down[i] -= EPS;
      const fd = (referenceMeanLoss(model, ids, up, zReplace) - referenceMeanLoss(model, ids, down, zReplace)) / (2 * EPS);
      const err = Math.abs(got.gradient[i] - fd);
      const rel = err / Math.max(Math.abs(fd), 1e-3);
      maxAbs = Math.max(maxAbs, err);
      maxRel = Math.max(maxRel, rel);
      largest = Math.max(largest, Math.abs(fd));
      if (flags[i]) ablatedRel = Math.max(ablatedRel, rel);
      gainsOnlyOff = Math.max(gainsOnlyOff, Math.abs(gainsOnly.gradient[i] - fd) / Math.max(Math.abs(fd), 1e-3));
    }
    console.log(`[importance] ${name}, heads 0.1 and 1.0 mean-ablated, T=${T}: wasm edited gradient vs float64 ` +
      `central FD (eps ${EPS}): max abs error ${maxAbs.toExponential(2)}, max relative error ` +
      `${maxRel.toExponential(2)} (the ablated heads ${ablatedRel.toExponential(2)}); ` +
      `the gains-only gradient is off by up to ${gainsOnlyOff.toExponential(2)} relative`);
    assert.ok(largest > 1e-3, 'the gradients are not all 0');
    assert.ok(maxRel < 2e-4, `relative error ${maxRel}`);
    assert.ok(gainsOnlyOff > 1e-2, 'the mean ablation changes the gradient');
    engine.delete();
  });
}

// JSD(P, Q) = 1/2 KL(P || M) + 1/2 KL(Q || M), M = (P + Q) / 2, in nats.
function jsd(p, q) {
  let sum = 0;
  for (let k = 0; k < p.length; k++) {
    const m = 0.5 * (p[k] + q[k]);
    if (p[k] > 0) sum += 0.5 * p[k] * Math.log(p[k] / m);
    if (q[k] > 0) sum += 0.5 * q[k] * Math.log(q[k] / m);
  }
  return sum;
}

test('attentionSimilarity equals 1 - mean JSD / ln 2 of the trace\'s attention rows', async () => {
  const { engine, info } = await loadedEngine('tiny-gpt');
  const ids = expectOk(engine.tokenize(TEXT), 'tokenize').ids;
  expectOk(engine.setHeadGain(0, 1, 0), 'setHeadGain');  // a pass with an edit: its own attention
  expectOk(engine.run(ids, 5), 'run');
  const { attn, T } = expectOk(engine.getTrace(), 'getTrace');
  const got = expectOk(engine.attentionSimilarity(), 'attentionSimilarity');
  const n = info.n_layer * info.n_head;
  assert.equal(got.n_heads, n);
  assert.equal(got.T, T);
  assert.equal(got.similarity.length, n * n);
  const row = (a, q) => attn.subarray((a * T + q) * T, (a * T + q) * T + q + 1);
  let maxErr = 0, lowest = 1;
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      let sum = 0;
      for (let q = 1; q < T; q++) sum += jsd(row(a, q), row(b, q));
      const expected = 1 - sum / (T - 1) / Math.LN2;
      maxErr = Math.max(maxErr, Math.abs(got.similarity[a * n + b] - expected));
      lowest = Math.min(lowest, expected);
    }
  }
  console.log(`[similarity] tiny-gpt, T=${T}, ${n} heads: max |wasm - JS| = ${maxErr.toExponential(2)}, ` +
    `least similar pair ${lowest.toFixed(3)}`);
  assert.ok(maxErr < 1e-5, `max error ${maxErr}`);
  assert.ok(lowest < 0.9, 'the heads differ');
  engine.delete();
});

test('gradientImportance and attentionSimilarity: errors come back as messages', async () => {
  const Module = await createModule();
  const empty = new Module.Engine();
  assert.match(empty.attentionSimilarity().error, /^attentionSimilarity: no model loaded/);
  assert.match(empty.gradientImportance(new Int32Array([1, 2]), new Float32Array(8)).error,
    /^gradientImportance: no model loaded/);
  empty.delete();
  const { engine, info } = await loadedEngine('tiny-gpt');
  assert.match(engine.attentionSimilarity().error, /no trace yet/);
  const ones = new Float32Array(info.n_layer * info.n_head).fill(1);
  const cases = [
    [new Int32Array([5]), ones, /at least 2 tokens/],
    [new Int32Array([5, 6]), new Float32Array(3), /gains must hold n_layer x n_head = 8 values, got 3/],
    [new Int32Array([5, info.vocab_size]), ones, /outside the vocabulary/],
  ];
  for (const [ids, gains, message] of cases) {
    const result = engine.gradientImportance(ids, gains);
    assert.equal(result.ok, false);
    assert.match(result.error, message);
    console.log(`[importance] error: ${result.error}`);
  }
  // The engine keeps working after an error.
  expectOk(engine.gradientImportance(new Int32Array([5, 6, 7]), ones), 'gradientImportance');
  engine.delete();
});
