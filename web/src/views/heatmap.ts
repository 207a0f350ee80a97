/**
 * One small canvas class: paints a T x T attention pattern, one canvas pixel
 * per (query, key) cell; CSS scales it up with crisp edges. Future positions
 * (key > query) stay transparent, so the canvas background shows the causal
 * mask in the theme's colour.
 */
import { type ColorLut, LUT_SIZE, lutIndex, viridis } from './colormap';

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

  /**
   * attn: [.. x T x T] probabilities, query rows and key columns; the pattern
   * drawn starts at `offset` (e.g. ((layer * H) + head) * T * T).
   */
  draw(attn: Float32Array, offset: number, T: number, lut: ColorLut = viridis): void {
    if (this.canvas.width !== T || this.canvas.height !== T || !this.image) {
      this.canvas.width = T;
      this.canvas.height = T;
      this.image = this.context.createImageData(T, T);
    }
    const pixels = this.image.data;  // (T, T, 4) RGBA
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
