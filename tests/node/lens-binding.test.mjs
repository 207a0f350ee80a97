// The binding's logitLens (wasm/bindings/embind.cpp) against the float64
// reference (tests/reference/lens-reference.mjs) on tiny-gpt with an edited
// head: the lens at one position and at every position, the answer's rank
// and probability, and the direct logit attribution; bad arguments come
// back as messages. Needs build/wasm (scripts/build-wasm.sh).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { loadReferenceModel, referenceForward } from '../reference/gpt2-reference.mjs';
import { referenceAttribution, referenceLens } from '../reference/lens-reference.mjs';
import { REPO_ROOT, engineWithEditedHead, expectOk } from './wasm-helpers.mjs';

const DIR = path.join(REPO_ROOT, 'tests/fixtures/tiny-gpt');
const TEXT = 'The farmer saw the hens in the barn, and the farmer fed the';
const K = 5;

const state = {};

before(async () => {
  Object.assign(state, await engineWithEditedHead(DIR, TEXT, { layer: 1, head: 3, gain: 0.5 }, K));
  state.model = loadReferenceModel(DIR);
  state.forward = referenceForward(state.model, Array.from(state.ids), { headGains: state.gains });
});

after(() => state.engine?.delete());

test('logitLens at one position and at all equals the float64 reference', () => {
  const { engine, ids, model, forward, info } = state;
  const T = ids.length;
  const L = info.n_layer;
  const answer = ids[3];
  const foil = ids[5];
  const ref = referenceLens(model, forward, answer);
  let lensErr = 0;
  for (const all of [false, true]) {
    const r = expectOk(engine.logitLens(all ? 7 : -1, K, answer, foil, all), 'logitLens');
    const P = r.positions.length;
    assert.equal(P, all ? T : 1);
    assert.equal(r.position, all ? 7 : T - 1);
    assert.equal(r.top_k_ids.length, (L + 1) * P * K);
    for (let l = 0; l <= L; l++) {
      for (let p = 0; p < P; p++) {
        const { probs, rank } = ref[l][r.positions[p]];
        for (let k = 0; k < K; k++) {
          const i = (l * P + p) * K + k;
          lensErr = Math.max(lensErr, Math.abs(r.top_k_probs[i] - probs[r.top_k_ids[i]]));
        }
        lensErr = Math.max(lensErr, Math.abs(r.answer_prob[l * P + p] - probs[answer]));
        assert.equal(r.answer_rank[l * P + p], rank);
      }
    }
    const refDla = referenceAttribution(model, forward, Array.from(ids), r.position, answer, foil,
      state.gains);
    let dlaErr = Math.max(...['embed', 'bias', 'total', 'actual'].map((k) => Math.abs(r.dla[k] - refDla[k])));
    refDla.heads.flat().forEach((v, i) => { dlaErr = Math.max(dlaErr, Math.abs(r.dla.heads[i] - v)); });
    refDla.mlps.forEach((v, i) => { dlaErr = Math.max(dlaErr, Math.abs(r.dla.mlps[i] - v)); });
    console.log(`logitLens ${all ? `all ${T} positions` : 'last position'}: lens max err ` +
      `${lensErr.toExponential(2)}; DLA at ${r.position} max err ${dlaErr.toExponential(2)}, ` +
      `|total - actual| ${Math.abs(r.dla.total - r.dla.actual).toExponential(2)}`);
    assert.ok(lensErr <= 1e-4);
    assert.ok(dlaErr <= 1e-4);
  }
});

test('logitLens: bad arguments are messages, and no foil means no attribution', () => {
  const { engine, ids } = state;
  const r = expectOk(engine.logitLens(-1, K, -1, -1, false), 'logitLens');
  assert.equal(r.dla, undefined);
  assert.equal(r.answer_rank, undefined);
  for (const [args, pattern] of [
    [[ids.length, K, 1, 2, false], /position/],
    [[0, 0, 1, 2, false], /top_k/],
    [[0, K, 1, 1, false], /same token/],
    [[0, K, -1, 2, false], /answer id -1/],
  ]) {
    const bad = engine.logitLens(...args);
    console.log(`  logitLens(${args.join(', ')}): ${bad.error}`);
    assert.equal(bad.ok, false);
    assert.match(bad.error, /^logitLens: /);
    assert.match(bad.error, pattern);
  }
});
