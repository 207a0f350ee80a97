// The one rule for printing a probability (web/src/state/format.ts): a
// percentage people can read, never "1.6e-2%".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importTs } from './ts-import.mjs';

const { formatProbability } = await importTs('web/src/state/format.ts');

test('probabilities print as plain percentages at every scale', () => {
  const cases = [
    [1, '100.0%'],
    [0.198, '19.8%'],
    [0.1, '10.0%'],
    [0.0512, '5.12%'],
    [0.0023, '0.23%'],
    [0.001, '0.10%'],
    [1.6e-4, '0.016%'],   // was "1.6e-2%"
    [7.8e-4, '0.078%'],   // was "7.8e-2%"
    [7.8e-5, '0.0078%'],
    [1e-5, '0.001%'],
    [9.9e-6, '< 0.001%'],
    [1e-12, '< 0.001%'],
    [0, '0%'],
    [NaN, '?'],
  ];
  for (const [p, expected] of cases) {
    const text = formatProbability(p);
    console.log(`  ${p} -> ${text}`);
    assert.equal(text, expected);
  }
});

test('no exponent and at most two significant digits below 0.1%, over 10^4 values', () => {
  let worst = 0;
  for (let i = 0; i < 10_000; i++) {
    const p = 10 ** (-8 + (8 * i) / 10_000);
    const text = formatProbability(p);
    assert.doesNotMatch(text, /e/i, `${p} -> ${text}`);
    assert.match(text, /^(< )?\d+(\.\d+)?%$/, `${p} -> ${text}`);
    if (text.startsWith('<')) continue;
    // The printed number is within 5% (relative) of the probability, or the rounding of two decimals.
    const shown = Number(text.slice(0, -1)) / 100;
    const error = Math.abs(shown - p) / p;
    if (p * 100 < 0.1) worst = Math.max(worst, error);
  }
  console.log(`  worst relative error below 0.1%: ${(worst * 100).toFixed(2)}%`);
  assert.ok(worst <= 0.05);
});
