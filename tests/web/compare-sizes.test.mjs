// The Compare sizes view's figures, in Node (web/src/views/compare-sizes-data.ts):
// heads counted in every type whose badge the grid gives them, the bytes
// of a token's display text (a partial UTF-8 byte "\xE2" is one), bits per
// byte against a sum done by hand, and the sentence naming the models
// without an induction head. Prints what it checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importTs } from './ts-import.mjs';

const { typeCounts, tokenBytes, bitsPerByte, whatToNotice } = await importTs('web/src/views/compare-sizes-data.ts');

// Four heads: previous-token, induction (and a sink below it), local only, nothing.
function types(induction = 0.9) {
  return {
    threshold: 0.4,
    previous_token: Float32Array.from([0.9, 0.1, 0.3, 0.0]),
    induction: Float32Array.from([0.0, induction, 0.0, 0.0]),
    duplicate_token: Float32Array.from([0.0, 0.0, 0.0, 0.1]),
    first_token: Float32Array.from([0.0, 0.5, 0.0, 0.2]),
    local: Float32Array.from([0.95, 0.2, 0.8, 0.1]),
    entropy: Float32Array.from([0.1, 0.2, 0.3, 0.9]),
  };
}

test('type counts: a head in every type whose badge it gets, none without one', () => {
  const counts = typeCounts(types(), 4);
  console.log(`counts: ${JSON.stringify(counts)}`);
  // head 0: prev (local is named only when no specific type passes); head 1: ind and sink; head 2: local; head 3: none.
  assert.deepEqual(counts, { previous_token: 1, duplicate_token: 0, induction: 1, first_token: 1, local: 1, none: 1 });
  assert.equal(typeCounts(types(0.3), 4).induction, 0);
});

test('bytes and bits per byte', () => {
  assert.equal(tokenBytes(' the'), 4);
  assert.equal(tokenBytes('é'), 2);
  assert.equal(tokenBytes('\\xE2\\x80'), 2);
  const run = { tokens: ['A', ' cat', ' sat', '.'], loss: Float32Array.from([2, 1, 0.5, NaN]) };
  const want = (2 + 1 + 0.5) / Math.LN2 / (4 + 4 + 1);
  const got = bitsPerByte(run);
  console.log(`bits per byte: ${got.toFixed(6)} (by hand ${want.toFixed(6)})`);
  assert.ok(Math.abs(got - want) < 1e-12);
  assert.ok(Number.isNaN(bitsPerByte({ tokens: ['A'], loss: Float32Array.from([NaN]) })));
});

test('what to notice names the models without an induction head and the lowest loss', () => {
  const run = (name, induction, loss) => ({ name, n_layer: 1, n_head: 4, head_types: types(induction), tokens: ['A', ' b'], loss: Float32Array.from([loss, NaN]) });
  const text = whatToNotice([run('small', 0.9, 3), run('big', 0.1, 2)]);
  console.log(`note: ${text}`);
  assert.match(text, /Induction heads on this text: small 1, big 0\./);
  assert.match(text, /big has none/);
  assert.match(text, /Lowest loss: big/);
  assert.match(whatToNotice([run('a', 0.1, 1)]), /No model shows one here/);
  assert.match(whatToNotice([run('a', 0.9, 1), run('b', 0.9, 2)]), /Every model has one/);
  assert.equal(whatToNotice([]), '');
});
