/**
 * Colour lookup tables. Attention: viridis, perceptually uniform, readable in
 * grey and by colour-blind readers. Loss: ColorBrewer's OrRd, a sequential
 * map whose lightness falls monotonically from near-white (the model expected
 * this token) to dark red (it was surprised). Both come from
 * d3-scale-chromatic; a 256-entry table makes painting a T x T canvas a
 * table lookup per cell.
 */
import { interpolateOrRd, interpolateRdBu, interpolateViridis } from 'd3-scale-chromatic';

export const LUT_SIZE = 256;

/** [LUT_SIZE x 3] RGB bytes. */
export type ColorLut = Uint8ClampedArray;

export function parseColor(css: string): [number, number, number] {
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
export const lossLut: ColorLut = makeLut(interpolateOrRd);
/** Signed values (vectors of activations): ColorBrewer's RdBu reversed, blue < 0 < red, white at the middle (index 0.5). */
export const divergingLut: ColorLut = makeLut((t) => interpolateRdBu(1 - t));

/** Index into a LUT for a value in [0, 1] (clamped; NaN -> 0). */
export function lutIndex(value: number): number {
  if (!(value > 0)) return 0;
  if (value >= 1) return LUT_SIZE - 1;
  return Math.round(value * (LUT_SIZE - 1));
}

/** CSS colour of a value in [0, 1]. */
export function lutCss(lut: ColorLut, value: number): string {
  const i = lutIndex(value) * 3;
  return `rgb(${lut[i]}, ${lut[i + 1]}, ${lut[i + 2]})`;
}

/** CIE L* (0 black .. 100 white) of an sRGB colour. */
export function lightness(r: number, g: number, b: number): number {
  const linear = (v: number) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const y = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  const f = y > 216 / 24389 ? Math.cbrt(y) : (24389 / 27 * y + 16) / 116;
  return 116 * f - 16;
}

/** Text colour readable on a LUT colour: dark on light cells, white on dark ones. */
export function inkOn(lut: ColorLut, value: number): string {
  const i = lutIndex(value) * 3;
  return lightness(lut[i]!, lut[i + 1]!, lut[i + 2]!) > 60 ? '#111' : '#fff';
}
