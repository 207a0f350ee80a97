/**
 * Colour lookup tables for heatmaps. Viridis: perceptually uniform, readable
 * in grey and by colour-blind readers. A 256-entry table makes painting a
 * T x T canvas a table lookup per cell.
 */
import { interpolateViridis } from 'd3-scale-chromatic';

export const LUT_SIZE = 256;

/** [LUT_SIZE x 3] RGB bytes. */
export type ColorLut = Uint8ClampedArray;

function parseColor(css: string): [number, number, number] {
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(css);
  if (hex) return [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16), parseInt(hex[3]!, 16)];
  const rgb = /^rgb\((\d+),\s*(\d+),\s*(\d+)\)$/.exec(css);
  if (rgb) return [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])];
  throw new Error(`colour map returned an unexpected colour "${css}"`);
}

export function makeLut(interpolate: (t: number) => string): ColorLut {
  const lut = new Uint8ClampedArray(LUT_SIZE * 3);
  for (let i = 0; i < LUT_SIZE; i++) {
    lut.set(parseColor(interpolate(i / (LUT_SIZE - 1))), i * 3);
  }
  return lut;
}

export const viridis: ColorLut = makeLut(interpolateViridis);

/** Index into a LUT for a value in [0, 1] (clamped; NaN -> 0). */
export function lutIndex(value: number): number {
  if (!(value > 0)) return 0;
  if (value >= 1) return LUT_SIZE - 1;
  return Math.round(value * (LUT_SIZE - 1));
}
