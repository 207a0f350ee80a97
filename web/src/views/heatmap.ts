/**
 * Attention patterns as pixels: one canvas pixel per (query, key) cell,
 * painted with putImageData from one ImageData per canvas (never a fillRect
 * per cell), then scaled up by CSS or drawImage with crisp edges. Future
 * positions (key > query) stay transparent, so the background shows the
 * causal mask in the theme's colour.
 */
import { type ColorLut, LUT_SIZE, lutIndex, viridis } from './colormap';

// Each LUT as packed RGBA words (ImageData bytes are R, G, B, A in memory;
// a little-endian Uint32 view sees them as 0xAABBGGRR): one store per pixel.
const packedLuts = new WeakMap<ColorLut, Uint32Array>();
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function packed(lut: ColorLut): Uint32Array {
  let words = packedLuts.get(lut);
  if (!words) {
    words = new Uint32Array(LUT_SIZE);
    const bytes = new Uint8Array(words.buffer);
    for (let i = 0; i < LUT_SIZE; i++) {
      bytes.set([lut[i * 3]!, lut[i * 3 + 1]!, lut[i * 3 + 2]!, 255], i * 4);
    }
    packedLuts.set(lut, words);
  }
  return words;
}

/**
 * Paints the T x T pattern at attn[offset ..] into RGBA `pixels` (T x T x 4).
 * attn: [.. x T x T] probabilities, query rows and key columns.
 */
export function paintAttention(
  pixels: Uint8ClampedArray,
  attn: Float32Array,
  offset: number,
  T: number,
  lut: ColorLut = viridis,
): void {
  if (!LITTLE_ENDIAN) {
    paintAttentionBytes(pixels, attn, offset, T, lut);
    return;
  }
  const words = packed(lut);
  const out = new Uint32Array(pixels.buffer, pixels.byteOffset, T * T);
  const top = LUT_SIZE - 1;
  for (let query = 0; query < T; query++) {
    const row = offset + query * T;
    const base = query * T;
    for (let key = 0; key <= query; key++) {
      const value = attn[row + key]!;
      // lutIndex inlined: NaN and negatives -> 0, >= 1 -> top.
      const index = value > 0 ? (value >= 1 ? top : (value * top + 0.5) | 0) : 0;
      out[base + key] = words[index]!;
    }
    out.fill(0, base + query + 1, base + T);  // the future: transparent
  }
}

function paintAttentionBytes(
  pixels: Uint8ClampedArray,
  attn: Float32Array,
  offset: number,
  T: number,
  lut: ColorLut,
): void {
  for (let query = 0; query < T; query++) {
    const row = offset + query * T;
    for (let key = 0; key < T; key++) {
      const p = (query * T + key) * 4;
      if (key > query) {
        pixels[p + 3] = 0;
        continue;
      }
      const c = lutIndex(attn[row + key]!) * 3;
      pixels[p] = lut[c]!;
      pixels[p + 1] = lut[c + 1]!;
      pixels[p + 2] = lut[c + 2]!;
      pixels[p + 3] = 255;
    }
  }
}

export class AttentionHeatmap {
  readonly canvas: HTMLCanvasElement;
  private readonly context: CanvasRenderingContext2D;
  private image: ImageData | null = null;

  constructor(canvas: HTMLCanvasElement = document.createElement('canvas')) {
    this.canvas = canvas;
    const context = canvas.getContext('2d');
    if (!context) throw new Error('this browser gives no 2D canvas');
    this.context = context;
  }

  /** Draws the pattern that starts at `offset` (e.g. ((layer * H) + head) * T * T). */
  draw(attn: Float32Array, offset: number, T: number, lut: ColorLut = viridis): void {
    if (this.canvas.width !== T || this.canvas.height !== T || !this.image) {
      this.canvas.width = T;
      this.canvas.height = T;
      this.image = this.context.createImageData(T, T);
    }
    paintAttention(this.image.data, attn, offset, T, lut);
    this.context.putImageData(this.image, 0, 0);
  }
}

/** Paints the colour map left (0) to right (1) across a canvas: the legend. */
export function drawColorbar(canvas: HTMLCanvasElement, lut: ColorLut = viridis): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  canvas.width = LUT_SIZE;
  canvas.height = 1;
  const image = context.createImageData(LUT_SIZE, 1);
  for (let i = 0; i < LUT_SIZE; i++) {
    image.data.set([lut[i * 3]!, lut[i * 3 + 1]!, lut[i * 3 + 2]!, 255], i * 4);
  }
  context.putImageData(image, 0, 0);
}

/** The strongest (query, key) weight of a head, skipping query 0 (which can only see itself). */
export function topAttendedPair(
  attn: Float32Array,
  offset: number,
  T: number,
): { query: number; key: number; weight: number } | null {
  let best: { query: number; key: number; weight: number } | null = null;
  for (let query = T > 1 ? 1 : 0; query < T; query++) {
    for (let key = 0; key <= query; key++) {
      const weight = attn[offset + query * T + key]!;
      if (!best || weight > best.weight) best = { query, key, weight };
    }
  }
  return best;
}
