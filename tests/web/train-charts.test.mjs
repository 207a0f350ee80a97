// The live-training charts' point thinning (views/train-charts.ts
// drawnPoints): a long run's curves keep, in each pixel column, the first,
// lowest, highest and last point, so the picture is the one every point
// draws, with at most four points a column; short curves keep every point;
// missing values are skipped. Prints the counts it checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importTs } from './ts-import.mjs';

const { drawnPoints } = await importTs('web/src/views/train-charts.ts');

test('train charts: a long curve is thinned to its columns, keeping each column\'s extremes', () => {
  const n = 8000, width = 300;
  const xs = Array.from({ length: n }, (_, i) => i + 1);
  // A noisy falling loss with one spike and one dip.
  const ys = xs.map((s) => 8 * Math.exp(-s / 2000) + 0.3 * Math.sin(s * 1.7));
  ys[4321] = 12;
  ys[6543] = -3;
  const x = (step) => (step / n) * width;
  const kept = drawnPoints({ xs, ys, color: '--accent' }, x);
  console.log(`${n} points over ${width} px: ${kept.length} drawn (at most ${4 * (width + 1)})`);
  assert.ok(kept.length <= 4 * (width + 1));
  assert.ok(kept.length >= width);
  for (let i = 1; i < kept.length; i++) assert.ok(kept[i] > kept[i - 1], 'indices in step order');
  assert.equal(kept[0], 0);
  assert.equal(kept[kept.length - 1], n - 1);
  assert.ok(kept.includes(4321) && kept.includes(6543), 'the spike and the dip are drawn');
  // Every column's lowest and highest point is among the drawn ones.
  const byColumn = new Map();
  xs.forEach((s, i) => {
    const c = Math.floor(x(s));
    const [lo, hi] = byColumn.get(c) ?? [Infinity, -Infinity];
    byColumn.set(c, [Math.min(lo, ys[i]), Math.max(hi, ys[i])]);
  });
  const drawn = new Map();
  for (const i of kept) {
    const c = Math.floor(x(xs[i]));
    const [lo, hi] = drawn.get(c) ?? [Infinity, -Infinity];
    drawn.set(c, [Math.min(lo, ys[i]), Math.max(hi, ys[i])]);
  }
  for (const [c, range] of byColumn) assert.deepEqual(drawn.get(c), range, `column ${c}`);
  // On a screen of two device pixels per CSS pixel, twice the columns.
  const sharp = drawnPoints({ xs, ys, color: '--accent' }, x, 2);
  console.log(`the same at pixel ratio 2: ${sharp.length} drawn (at most ${4 * (2 * width + 1)})`);
  assert.ok(sharp.length > kept.length && sharp.length <= 4 * (2 * width + 1));
});

test('train charts: a short curve keeps every point; missing values are skipped', () => {
  const xs = [1, 2, 3, 4, 5], ys = [1, NaN, 3, 4, 5];
  const kept = drawnPoints({ xs, ys, color: '--accent' }, (s) => s * 50);
  console.log(`5 points, one missing, over 250 px: drawn ${kept.join(',')}`);
  assert.deepEqual(kept, [0, 2, 3, 4]);
});
