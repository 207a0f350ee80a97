// Self-checks of the float64 reference forward pass (tests/reference): the
// properties any correct GPT-2 forward has, so that the engine is compared
// against something that is itself checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadReferenceModel, referenceForward } from '../reference/gpt2-reference.mjs';
import { uniformInts } from '../../scripts/lib/random.mjs';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const gpt = loadReferenceModel(path.join(FIXTURES, 'tiny-gpt'));
const attnOnly = loadReferenceModel(path.join(FIXTURES, 'tiny-attn-only'));

// Deterministic ids in [0, V).
const makeIds = (n, V, seed) => uniformInts(n, V, seed);

function maxAbsDiff(a, b) {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

for (const [name, model] of [['tiny-gpt', gpt], ['tiny-attn-only', attnOnly]]) {
  test(`${name}: attention rows are causal distributions, and not uniform`, () => {
    const { n_layer: L, n_head: H, vocab_size: V } = model.config;
    const T = 24;
    const { attn, logits } = referenceForward(model, makeIds(T, V, 7));
    let worstSum = 0;
    let futureMass = 0;
    let meanMax = 0;
    for (let lh = 0; lh < L * H; lh++) {
      for (let i = 0; i < T; i++) {
        const row = (lh * T + i) * T;
        let sum = 0;
        let max = 0;
        for (let j = 0; j < T; j++) {
          if (j > i) futureMass += Math.abs(attn[row + j]);
          else {
            sum += attn[row + j];
            max = Math.max(max, attn[row + j]);
          }
        }
        worstSum = Math.max(worstSum, Math.abs(sum - 1));
        if (i >= 8) meanMax += max / (L * H * (T - 8));
      }
    }
    console.log(`${name}: max |row sum - 1| ${worstSum.toExponential(2)}, future mass ${futureMass}, ` +
      `mean max prob (rows 8..23) ${meanMax.toFixed(3)} vs uniform <= ${(1 / 9).toFixed(3)}`);
    assert.ok(worstSum < 1e-12);
    assert.equal(futureMass, 0);
    assert.ok(meanMax > 0.3, 'heads should attend selectively on the fixture');
    assert.ok(logits.every(Number.isFinite));
  });

  test(`${name}: gains of 1 equal no gains; a gain scales only what follows its layer`, () => {
    const { n_layer: L, n_head: H, vocab_size: V } = model.config;
    const ids = makeIds(16, V, 11);
    const plain = referenceForward(model, ids);
    const ones = referenceForward(model, ids, { headGains: new Array(L * H).fill(1) });
    assert.equal(maxAbsDiff(plain.logits, ones.logits), 0);
    const gains = Array.from({ length: L }, () => new Array(H).fill(1));
    gains[L - 1][1] = 0;
    const muted = referenceForward(model, ids, { headGains: gains });
    // Layers before and including the edit see the same inputs and the same z.
    for (let l = 0; l < L; l++) assert.equal(maxAbsDiff(plain.residual[l], muted.residual[l]), 0);
    assert.equal(maxAbsDiff(plain.z[L - 1], muted.z[L - 1]), 0); // z is before the gain
    const change = maxAbsDiff(plain.logits, muted.logits);
    console.log(`${name}: muting head ${L - 1}.1 moves logits by up to ${change.toFixed(4)}`);
    assert.ok(change > 1e-3);
  });
}

test('tiny-attn-only with every head muted: logits depend only on the token and its position', () => {
  const { n_layer: L, n_head: H, vocab_size: V } = attnOnly.config;
  const mute = new Array(L * H).fill(0);
  const a = makeIds(12, V, 3);
  const b = makeIds(12, V, 5);
  b[9] = a[9];
  const ra = referenceForward(attnOnly, a, { headGains: mute });
  const rb = referenceForward(attnOnly, b, { headGains: mute });
  const rowA = ra.logits.subarray(9 * V, 10 * V);
  const rowB = rb.logits.subarray(9 * V, 10 * V);
  assert.ok(maxAbsDiff(rowA, rowB) < 1e-12);
  // ...whereas with the heads on, the different prefixes show.
  const onA = referenceForward(attnOnly, a).logits.subarray(9 * V, 10 * V);
  const onB = referenceForward(attnOnly, b).logits.subarray(9 * V, 10 * V);
  assert.ok(maxAbsDiff(onA, onB) > 1e-3);
});

test('a single token attends only to itself', () => {
  const { n_layer: L, n_head: H } = gpt.config;
  const { attn } = referenceForward(gpt, [42]);
  assert.deepEqual(Array.from(attn), new Array(L * H).fill(1));
});

test('F16 and BF16 weights give logits close to the F32 model', () => {
  const ids = makeIds(20, gpt.config.vocab_size, 13);
  const f32 = referenceForward(gpt, ids);
  for (const [file, bound] of [['model.f16.safetensors', 0.02], ['model.bf16.safetensors', 0.2]]) {
    const model = loadReferenceModel(path.join(FIXTURES, 'tiny-gpt'), {
      weightsFile: path.join(FIXTURES, 'dtypes', file),
    });
    const diff = maxAbsDiff(f32.logits, referenceForward(model, ids).logits);
    console.log(`${file}: max abs logit difference to F32 ${diff.toExponential(3)} (bound ${bound})`);
    assert.ok(diff > 0 && diff < bound);
  }
});

test('sequences longer than n_positions and ids outside the vocabulary are refused', () => {
  const { n_positions: P, vocab_size: V } = gpt.config;
  assert.throws(() => referenceForward(gpt, new Array(P + 1).fill(0)), /out of range/);
  assert.throws(() => referenceForward(gpt, [0, V]), /token id/);
});
