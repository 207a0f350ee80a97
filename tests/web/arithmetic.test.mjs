// The arithmetic panel's words and the composition view's choice of head, in
// Node (web/src/views/arithmetic-steps.ts, composition.ts): each step's
// description carries the real figures of the answer it is given, the step
// moves stay within the six steps, numbers print with a true minus sign, and
// the head muted by default is the model's previous-token head, or the most
// previous-token-like head of an earlier layer. Prints what it checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importTs } from './ts-import.mjs';

const { STEPS, stepAfter, formatValue, argmax, describeStep } = await importTs('web/src/views/arithmetic-steps.ts');
const { defaultSource, watchedHead } = await importTs('web/src/views/composition.ts');

// A hand-made answer: 3 keys of a 5-token text, D = 4, the softmax of scores / 2.
function answer() {
  const scores = Float32Array.from([1, 5, -2]);
  const scaled = scores.map((s) => s / 2);
  const e = Array.from(scaled, Math.exp);
  const sum = e.reduce((a, b) => a + b, 0);
  return {
    layer: 1, head: 5, position: 2, T: 5, d_head: 4, scale: 0.5, gain: 1, z_replaced: false,
    q: Float32Array.from([1, 0, 0, 0]), k: new Float32Array(12), v: new Float32Array(12),
    scores, scaled, probs: Float32Array.from(e, (x) => x / sum),
    z: Float32Array.from([3, 4, 0, 0]), z_used: Float32Array.from([3, 4, 0, 0]), output: Float32Array.from([0.6, -0.8]),
    key_xy: new Float32Array(6), query_xy: Float32Array.from([1, 0]),
  };
}

test('each step says what it does with the answer\'s own figures', () => {
  const a = answer();
  const tokens = ['The', ' cat', ' sat', ' on', ' the'];
  const said = STEPS.map((_, i) => describeStep(i, a, tokens));
  for (const line of said) console.log(`  ${line}`);
  assert.equal(STEPS.length, 6);
  assert.deepEqual(STEPS.map((s) => s.id), ['scores', 'scaled', 'masked', 'softmax', 'weighted', 'output']);
  assert.match(said[0], /^Step 1 of 6, scores: head 1\.5's query at “ sat” \(2\).*Highest: “ cat” \(1\), 5\.00\./);
  assert.match(said[1], /divided by √4 = 2\.00.*5\.00 becomes 2\.50/);
  assert.match(said[2], /the 2 later tokens get −∞/);
  assert.match(said[3], /85\.8% goes to “ cat” \(1\)/);
  assert.match(said[4], /length 5\.00/);
  assert.match(said[5], /2 numbers \(length 1\.00\)/);
  const last = { ...a, position: 4, T: 5 };
  assert.match(describeStep(2, last, tokens), /the last token: there is no later token/);
  const muted = { ...a, gain: 0 };
  assert.match(describeStep(5, muted, tokens), /times gain 0 \(muted\)/);
  const mean = { ...a, z_replaced: true };
  assert.match(describeStep(5, mean, tokens), /mean z \(mean ablation\)/);
});

test('steps stay within the six; numbers print with a true minus sign', () => {
  assert.equal(stepAfter(0, -1), 0);
  assert.equal(stepAfter(5, 1), 5);
  assert.equal(stepAfter(2, 1), 3);
  assert.equal(formatValue(-3.14159), '−3.14');
  assert.equal(formatValue(123.4), '123');
  assert.equal(formatValue(0), '0');
  assert.equal(formatValue(-Infinity), '−∞');
  assert.equal(formatValue(0.0004), '4.0e−4');
  assert.equal(formatValue(-0.0004), '−4.0e−4');
  assert.equal(argmax([0.1, 0.7, 0.7]), 1);
});

test('the head muted by default: the model card\'s previous-token head, else the best earlier one', () => {
  const H = 4;
  const prev = new Float32Array(3 * H);
  prev[2] = 0.3;
  prev[H + 3] = 0.8;  // head 1.3, the best of the layers before the target's (2)
  const known = defaultSource('gpt-4l', { layer: 1, head: 5 }, new Float32Array(8 * 4), 8);
  const scored = defaultSource('some-model', { layer: 2, head: 0 }, prev, H);
  const first = defaultSource('some-model', { layer: 0, head: 1 }, prev, H);
  console.log(`  gpt-4l 1.5 -> ${JSON.stringify(known)}; by scores 2.0 -> ${JSON.stringify(scored)}; 0.1 -> ${first}`);
  assert.deepEqual(known, { layer: 0, head: 1 });
  assert.deepEqual(scored, { layer: 1, head: 3 });
  assert.equal(first, null);
});

test('the head watched: the selected one past the first layer, else the strongest later induction head', () => {
  const induction = new Float32Array(3 * 4);
  induction[1] = 0.99;         // 0.1: in the first layer, nothing can change it
  induction[2 * 4 + 2] = 0.7;  // 2.2
  const selected = watchedHead({ layer: 1, head: 3 }, induction, 3, 4);
  const instead = watchedHead({ layer: 0, head: 0 }, induction, 3, 4);
  const none = watchedHead({ layer: 0, head: 0 }, new Float32Array(4), 1, 4);
  console.log(`  1.3 -> ${JSON.stringify(selected)}; 0.0 -> ${JSON.stringify(instead)}; one layer -> ${none}`);
  assert.deepEqual(selected, { layer: 1, head: 3 });
  assert.deepEqual(instead, { layer: 2, head: 2 });
  assert.equal(none, null);
});
