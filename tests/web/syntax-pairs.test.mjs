// Reading the syntax probe for the page (web/src/views/syntax-pairs.ts): a
// head's pairs stop at the first -1, labels and details in words, the
// syntactic heads strongest first, on a hand-made probe result.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importTs } from './ts-import.mjs';

const { headPairs, pairDetail, pairLabel, syntacticHeads } = await importTs('web/src/views/syntax-pairs.ts');

// 1 layer x 3 heads, 2 pairs a head (N = 2), tags NOUN DET PUNCT.
const probe = {
  n_layer: 1, n_head: 3, tags: ['NOUN', 'DET', 'PUNCT'], top_pairs: 2,
  syntactic: Uint8Array.from([0, 1, 1]),
  top_query: Int32Array.from([0, -1, 0, 2, 2, -1]),
  top_key: Int32Array.from([0, -1, 1, 2, 2, -1]),
  top_share: Float32Array.from([0.5, NaN, 0.25, 0.4, 0.3, NaN]),
  top_chance_share: Float32Array.from([0.5, NaN, 0.08, 0.2, 0.1, NaN]),
  top_ratio: Float32Array.from([1, NaN, 3.125, 2, 3, NaN]),
};

test('a head\'s pairs, their label and their words', () => {
  assert.equal(headPairs(probe, 0).length, 1);
  const [first, second] = headPairs(probe, 1);
  console.log(`  head 0.1: ${pairLabel(first)} | ${pairDetail(first)}; ${pairLabel(second)}`);
  assert.equal(pairLabel(first), 'NOUN → DET 3.1× chance');
  assert.equal(pairDetail(first), '25.0% of the attention of nouns goes to determiners (the, a, this); chance 8.00%');
  assert.equal(pairLabel(second), 'PUNCT → PUNCT 2.0× chance');
});

test('the syntactic heads, strongest top pair first', () => {
  assert.deepEqual(syntacticHeads(probe), [1, 2]);  // 3.125 before 3
});
