// The binding's headArithmetic and composition (wasm/bindings/embind.cpp,
// wasm/core/head_arithmetic.h, composition.h) against the independent
// float64 reference (tests/reference/gpt2-reference.mjs) on tiny-gpt with an
// edited head: q·k, the scaled scores, the softmax row, z, the output
// through the head's rows of c_proj; the composition's pattern after a mute
// against the reference run with that head muted; out-of-range heads and
// positions come back as messages naming them. Needs build/wasm.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { loadReferenceModel, referenceForward } from '../reference/gpt2-reference.mjs';
import { REPO_ROOT, engineWithEditedHead, expectOk } from './wasm-helpers.mjs';

const DIR = path.join(REPO_ROOT, 'tests/fixtures/tiny-gpt');
const TEXT = 'The farmer saw the hens in the barn, and the farmer fed the';

const state = {};

before(async () => {
  Object.assign(state, await engineWithEditedHead(DIR, TEXT, { layer: 0, head: 2, gain: 0.5 }));
  state.model = loadReferenceModel(DIR);
  state.forward = referenceForward(state.model, Array.from(state.ids), { headGains: state.gains });
});

after(() => state.engine?.delete());

test('headArithmetic equals the float64 reference step by step', () => {
  const { engine, ids, model, forward, info, gains } = state;
  const { n_layer: L, n_head: H, n_embd: C } = info;
  const D = C / H, T = ids.length;
  const err = { scores: 0, probs: 0, z: 0, output: 0, rowSum: 0 };
  let n = 0;
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < H; h++) {
      for (const t of [0, 4, T - 1]) {
        const a = expectOk(engine.headArithmetic(l, h, t), 'headArithmetic');
        assert.equal(a.probs.length, t + 1);
        assert.equal(a.k.length, (t + 1) * D);
        assert.equal(a.output.length, C);
        assert.equal(a.gain, gains[l * H + h]);
        let sum = 0;
        for (let s = 0; s <= t; s++) {
          // The reference's scaled score, from its softmax row: log p_s - log p_t + scaled_t.
          const p = forward.attn[((l * H + h) * T + t) * T + s];
          err.probs = Math.max(err.probs, Math.abs(a.probs[s] - p));
          sum += a.probs[s];
        }
        err.rowSum = Math.max(err.rowSum, Math.abs(sum - 1));
        // Scores: softmax(scaled) must be the row; compare scaled differences with the reference's log-ratios.
        for (let s = 0; s <= t; s++) {
          const p = forward.attn[((l * H + h) * T + t) * T + s];
          const p0 = forward.attn[((l * H + h) * T + t) * T + t];
          const want = Math.log(p / p0);
          err.scores = Math.max(err.scores, Math.abs((a.scaled[s] - a.scaled[t]) - want));
        }
        const zRef = forward.z[l];  // (T, H, D)
        for (let d = 0; d < D; d++) err.z = Math.max(err.z, Math.abs(a.z[d] - zRef[(t * H + h) * D + d]));
        // output = gain * z @ c_proj rows [h D, (h+1) D)
        const w = model.layers[l].c_proj_w;
        for (let j = 0; j < C; j++) {
          let o = 0;
          for (let d = 0; d < D; d++) o += gains[l * H + h] * zRef[(t * H + h) * D + d] * w[(h * D + d) * C + j];
          err.output = Math.max(err.output, Math.abs(a.output[j] - o));
        }
        n++;
      }
    }
  }
  console.log(`  ${n} (head, position) pairs against float64: probs max abs diff ${err.probs.toExponential(2)}, ` +
    `scaled-score differences ${err.scores.toExponential(2)}, z ${err.z.toExponential(2)}, output ${err.output.toExponential(2)}, ` +
    `row sums ${err.rowSum.toExponential(2)}`);
  assert.ok(err.probs < 1e-5);
  assert.ok(err.scores < 1e-3);
  assert.ok(err.z < 1e-4);
  assert.ok(err.output < 1e-4);
  assert.ok(err.rowSum < 1e-5);
});

test('composition equals the float64 reference with the source head muted', () => {
  const { engine, ids, model, info, gains } = state;
  const { n_head: H } = info;
  const T = ids.length;
  const c = expectOk(engine.composition(0, 1, 1, 3), 'composition');
  assert.equal(c.composes, true);
  const muted = gains.slice();
  muted[1] = 0;
  const ref = referenceForward(model, Array.from(ids), { headGains: muted });
  let before = 0, after = 0, changed = 0;
  for (let i = 0; i < T * T; i++) {
    before = Math.max(before, Math.abs(c.before[i] - state.forward.attn[(1 * H + 3) * T * T + i]));
    after = Math.max(after, Math.abs(c.after[i] - ref.attn[(1 * H + 3) * T * T + i]));
    changed = Math.max(changed, Math.abs(c.after[i] - c.before[i]));
  }
  console.log(`  0.1 muted -> 1.3: before vs float64 ${before.toExponential(2)}, after vs float64 (0.1 muted) ${after.toExponential(2)}, ` +
    `the pattern moved by up to ${changed.toFixed(4)}; induction ${c.before_scores.induction.toFixed(4)} -> ${c.after_scores.induction.toFixed(4)}`);
  assert.ok(before < 1e-5 && after < 1e-5);
  assert.ok(changed > 1e-4);
});

test('out-of-range heads and positions come back as messages naming them', () => {
  const { engine, ids, info } = state;
  const T = ids.length;
  const bad = [
    [engine.headArithmetic(info.n_layer, 0, 0), `headArithmetic: head ${info.n_layer}.0 is outside this model`],
    [engine.headArithmetic(0, info.n_head, 0), `headArithmetic: head 0.${info.n_head} is outside this model`],
    [engine.headArithmetic(0, 0, T), `headArithmetic: position ${T} is outside the text (positions 0..${T - 1})`],
    [engine.composition(0, 0, 9, 0), 'composition: target head 9.0 is outside this model'],
  ];
  for (const [result, start] of bad) {
    console.log(`  ${result.error}`);
    assert.equal(result.ok, false);
    assert.ok(result.error.startsWith(start), result.error);
  }
});
