// Colour scales: viridis for attention and OrRd for loss (d3-scale-chromatic)
// have the documented endpoints and a lightness that moves one way only, so
// "more" always reads as "brighter" (attention) or "darker" (loss), also in grey.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importTs } from './ts-import.mjs';

const { viridis, lossLut, LUT_SIZE, lutIndex, lightness, inkOn, lutCss } = await importTs('web/src/views/colormap.ts');

const rgb = (lut, i) => [lut[i * 3], lut[i * 3 + 1], lut[i * 3 + 2]];

test('endpoints: viridis runs dark purple to yellow, OrRd near-white to dark red', () => {
  assert.equal(LUT_SIZE, 256);
  assert.deepEqual(rgb(viridis, 0), [0x44, 0x01, 0x54]);
  assert.deepEqual(rgb(viridis, 255), [0xfd, 0xe7, 0x25]);
  assert.deepEqual(rgb(lossLut, 0), [255, 247, 236]);
  assert.deepEqual(rgb(lossLut, 255), [127, 0, 0]);
  assert.equal(lutIndex(0), 0);
  assert.equal(lutIndex(1), 255);
  assert.equal(lutIndex(NaN), 0);
  assert.equal(lutIndex(-3), 0);
  assert.equal(lutIndex(7), 255);
  assert.equal(lutCss(viridis, 1), 'rgb(253, 231, 37)');
});

function lightnessProfile(lut) {
  return Array.from({ length: LUT_SIZE }, (_, i) => lightness(...rgb(lut, i)));
}

/** Largest step against the overall direction, in L* units. */
function worstReversal(values, direction) {
  let worst = 0;
  for (let i = 1; i < values.length; i++) worst = Math.max(worst, -direction * (values[i] - values[i - 1]));
  return worst;
}

test('viridis lightness rises monotonically (within 8-bit rounding)', () => {
  const L = lightnessProfile(viridis);
  const reversal = worstReversal(L, +1);
  console.log(`  viridis L* ${L[0].toFixed(1)} -> ${L[255].toFixed(1)}, worst reversal ${reversal.toFixed(3)} L*`);
  assert.ok(L[255] - L[0] > 70, 'spans most of the lightness range');
  assert.ok(reversal < 0.5, `no visible reversal (${reversal})`);
  // Sampled coarsely (every 16th entry), strictly increasing.
  for (let i = 16; i < LUT_SIZE; i += 16) assert.ok(L[i] > L[i - 16], `L*(${i}) > L*(${i - 16})`);
});

test('loss map lightness falls monotonically', () => {
  const L = lightnessProfile(lossLut);
  const reversal = worstReversal(L, -1);
  console.log(`  OrRd L* ${L[0].toFixed(1)} -> ${L[255].toFixed(1)}, worst reversal ${reversal.toFixed(3)} L*`);
  assert.ok(L[0] - L[255] > 60);
  assert.ok(reversal < 0.5);
  for (let i = 16; i < LUT_SIZE; i += 16) assert.ok(L[i] < L[i - 16]);
});

test('lightness: black 0, white 100, mid grey about 53.4', () => {
  assert.ok(Math.abs(lightness(0, 0, 0)) < 1e-9);
  assert.ok(Math.abs(lightness(255, 255, 255) - 100) < 1e-6);
  assert.ok(Math.abs(lightness(128, 128, 128) - 53.585) < 0.01);
});

test('token text stays readable: dark ink on light colours, white on dark', () => {
  assert.equal(inkOn(viridis, 0), '#fff');
  assert.equal(inkOn(viridis, 1), '#111');
  assert.equal(inkOn(lossLut, 0), '#111');
  assert.equal(inkOn(lossLut, 1), '#fff');
});
