// Activation and path patching through Embind (patch with maps
// 'head_z_pos', pathPatch) on the tiny-gpt fixture, against the float64
// reference (tests/reference/gpt2-reference.mjs): every per-position head
// entry (zReplace with the clean row at t) and a path patch (qkvInput from
// pathPatchInputs), and on the answer's log-prob every head's z and the path
// patch (referenceLogProb), <= 1e-4, max errors printed; bad paths come back as
// messages naming the problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import {
  loadReferenceModel, pathPatchInputs, referenceForward, referenceLogProb,
} from '../reference/gpt2-reference.mjs';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from './wasm-helpers.mjs';

const DIR = path.join(REPO_ROOT, 'tests/fixtures/tiny-gpt');
const CLEAN = 'The farmer saw the hens in the barn, and the farmer fed the';
const CORRUPTED = 'The farmer saw the cows in the barn, and the farmer fed the';
const TOLERANCE = 1e-4;

function metricOf(forward, answer, foil) {
  const row = (forward.T - 1) * forward.config.vocab_size;
  return forward.logits[row + answer] - forward.logits[row + foil];
}

test('patch (head_z_pos) and pathPatch through Embind match the float64 reference', async () => {
  const mod = await createModule();
  const engine = new mod.Engine();
  const info = expectOk(loadFolder(engine, readModelFolder(DIR)), 'loadModel');
  const { n_layer: L, n_head: H, n_embd: C } = info;
  const D = C / H;
  const clean = expectOk(engine.tokenize(CLEAN), 'tokenize').ids;
  const corrupted = expectOk(engine.tokenize(CORRUPTED), 'tokenize').ids;
  const [answer] = expectOk(engine.tokenize(' the'), 'tokenize').ids;
  const [foil] = expectOk(engine.tokenize(' a'), 'tokenize').ids;
  const T = clean.length;
  const model = loadReferenceModel(DIR);
  const refClean = referenceForward(model, Array.from(clean));
  const refCorrupted = referenceForward(model, Array.from(corrupted));

  const r = expectOk(engine.patch(clean, corrupted, answer, foil, 'head_z_pos', 'logit_diff'), 'patch');
  assert.equal(r.head_z_pos.length, L * H * T);
  assert.equal(r.head_z_pos_metric.length, L * H * T);
  assert.equal(r.head_z.length, 0); // the maps not asked for stay empty
  assert.equal(r.residual.length, 0);
  let posErr = 0;
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const z = new Float64Array(T * D); // (T, D): the corrupted z, the clean row at t
        for (let i = 0; i < T; i++) {
          const from = i === t ? refClean : refCorrupted;
          for (let d = 0; d < D; d++) z[i * D + d] = from.z[l][(i * H + h) * D + d];
        }
        const ref = metricOf(referenceForward(model, Array.from(corrupted),
          { zReplace: [{ layer: l, head: h, z }] }), answer, foil);
        posErr = Math.max(posErr, Math.abs(r.head_z_pos_metric[(l * H + h) * T + t] - ref));
      }
    }
  }

  const receivers = [[1, 0], [1, 3]];
  const p = expectOk(engine.pathPatch(clean, corrupted, answer, foil, 0, 2,
    Int32Array.from(receivers.map(([l, h]) => l * H + h)), 'kv', 'logit_diff'), 'pathPatch');
  const qkvInput = pathPatchInputs(model, refClean, refCorrupted, [0, 2], receivers, ['k', 'v']);
  const ref = metricOf(referenceForward(model, Array.from(corrupted), { qkvInput }), answer, foil);
  const pathErr = Math.abs(p.metric - ref);
  assert.ok(Math.abs(p.recovery - (p.metric - p.corrupted) / (p.clean - p.corrupted)) <= 1e-5);
  console.log(`tiny-gpt via Embind: max |error| per-position head z ${posErr.toExponential(2)} ` +
    `(${L * H * T} patches); path 0.2 -> 1.0,1.3 (kv) metric ${p.metric.toFixed(5)}, reference ` +
    `${ref.toFixed(5)}, |error| ${pathErr.toExponential(2)}`);
  assert.ok(posErr <= TOLERANCE, `per-position error ${posErr}`);
  assert.ok(pathErr <= TOLERANCE, `path error ${pathErr}`);

  for (const [args, message] of [
    [[1, 0, Int32Array.of(H + 1), 'qkv'], /receiver 1\.1 is not in a layer above the sender 1\.0/],
    [[0, 0, Int32Array.of(L * H), 'qkv'], /receiver head/],
    [[0, 0, Int32Array.of(H), 'qx'], /unknown inputs 'qx'/],
  ]) {
    const bad = engine.pathPatch(clean, corrupted, answer, foil, ...args, 'logit_diff');
    assert.equal(bad.ok, false);
    console.log(`pathPatch refused: ${bad.error}`);
    assert.match(bad.error, message);
  }

  // The answer's log-prob (no foil: -1): every head's z map and the path
  // patch against the reference's log-softmax; a bad metric is a message.
  const logProb = (forward) => referenceLogProb(forward, T - 1, answer);
  const lp = expectOk(engine.patch(clean, corrupted, answer, -1, 'head_z', 'logprob'), 'patch logprob');
  assert.equal(lp.metric_kind, 'logprob');
  let lpErr = Math.max(Math.abs(lp.clean - logProb(refClean)), Math.abs(lp.corrupted - logProb(refCorrupted)));
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < H; h++) {
      const z = new Float64Array(T * D); // (T, D) head (l, h) of the clean run
      for (let t = 0; t < T; t++) {
        for (let d = 0; d < D; d++) z[t * D + d] = refClean.z[l][(t * H + h) * D + d];
      }
      const ref = logProb(referenceForward(model, Array.from(corrupted), { zReplace: [{ layer: l, head: h, z }] }));
      lpErr = Math.max(lpErr, Math.abs(lp.head_z_metric[l * H + h] - ref));
    }
  }
  const lpPath = expectOk(engine.pathPatch(clean, corrupted, answer, -1, 0, 2,
    Int32Array.from(receivers.map(([l, h]) => l * H + h)), 'kv', 'logprob'), 'pathPatch logprob');
  const lpPathErr = Math.abs(lpPath.metric - logProb(referenceForward(model, Array.from(corrupted), { qkvInput })));
  console.log(`tiny-gpt via Embind, log p(answer): clean ${lp.clean.toFixed(5)} corrupted ${lp.corrupted.toFixed(5)}; ` +
    `max |error| metrics and head z ${lpErr.toExponential(2)} (${L * H} patches), path ${lpPathErr.toExponential(2)}`);
  assert.ok(lpErr <= TOLERANCE, `log-prob error ${lpErr}`);
  assert.ok(lpPathErr <= TOLERANCE, `log-prob path error ${lpPathErr}`);
  const badMetric = engine.patch(clean, corrupted, answer, foil, 'head_z', 'prob');
  assert.equal(badMetric.ok, false);
  console.log(`patch refused: ${badMetric.error}`);
  assert.match(badMetric.error, /unknown metric 'prob' \(expected logit_diff or logprob\)/);
  engine.delete();
});
