// Comparisons the engine tests print and assert: bit equality of typed
// arrays, the largest absolute difference, and the float64 softmax
// probability the ghost bars are checked against.
import assert from 'node:assert/strict';

// Byte-for-byte equality of two typed arrays (NaN patterns and -0 included).
export function sameBits(a, b) {
  if (a.length !== b.length || a.constructor !== b.constructor) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return Buffer.compare(x, y) === 0;
}

export function maxAbsDiff(a, b) {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

// [T x K] float64 softmax of logits [T x V] at each of ids [T x K].
export function softmaxAt(logits, V, ids, T, K) {
  const probs = new Float64Array(T * K);
  for (let t = 0; t < T; t++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[t * V + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[t * V + v] - max);
    for (let k = 0; k < K; k++) probs[t * K + k] = Math.exp(logits[t * V + ids[t * K + k]] - max) / sum;
  }
  return probs;
}
