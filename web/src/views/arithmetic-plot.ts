/**
 * The arithmetic panel's pictures, on 2D canvas contexts the caller sized
 * and scaled by devicePixelRatio: the query/key scatter (each key of one
 * head in 2-D, the query marked, points labelled by token) and a vector as a
 * strip of coloured cells. Pure drawing from the engine's numbers
 * (HeadArithmeticResult: key_xy [n x 2], query_xy [2]); token labels are
 * drawn with fillText: text, never HTML.
 */
import { tokenLabel, type PlotColours } from './attention-plot';
import { type ColorLut, divergingLut, lutCss, viridis } from './colormap';
import type { Arithmetic } from './arithmetic-steps';

const FONT = 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace';
/** Keys labelled at most: the most attended ones (a label per key would be unreadable at 100 keys). */
const MAX_LABELS = 8;

/** Where the scatter put each key and the query, CSS px (for tests and hit tests). */
export interface ScatterGeometry {
  keys: [number, number][];  // [n] canvas (x, y) of each key
  query: [number, number];
  labelled: number[];        // the keys labelled, most attended first
}

/**
 * Keys as points at key_xy (x along q: further right, a higher score), size
 * and colour by their softmax weight, the query as a diamond at (|q|, 0).
 * Both axes use one scale, so distances are true.
 */
export function drawKeyScatter(
  ctx: CanvasRenderingContext2D,
  width: number,
  height: number,
  a: Arithmetic,
  tokens: readonly string[],
  colours: PlotColours,
): ScatterGeometry {
  const n = a.position + 1;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = colours.background;
  ctx.fillRect(0, 0, width, height);
  const xs = [a.query_xy[0]!, 0];
  const ys = [a.query_xy[1]!, 0];
  for (let s = 0; s < n; s++) {
    xs.push(a.key_xy[2 * s]!);
    ys.push(a.key_xy[2 * s + 1]!);
  }
  const pad = 18;
  const spanX = Math.max(...xs) - Math.min(...xs) || 1;
  const spanY = Math.max(...ys) - Math.min(...ys) || 1;
  const scale = Math.min((width - 2 * pad) / spanX, (height - 2 * pad) / spanY);
  const cx = (Math.max(...xs) + Math.min(...xs)) / 2;
  const cy = (Math.max(...ys) + Math.min(...ys)) / 2;
  const at = (x: number, y: number): [number, number] => [width / 2 + (x - cx) * scale, height / 2 - (y - cy) * scale];

  // Axes through the origin: the score is 0 on the vertical line.
  const [ox, oy] = at(0, 0);
  ctx.strokeStyle = colours.soft;
  ctx.globalAlpha = 0.45;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(ox, 4);
  ctx.lineTo(ox, height - 4);
  ctx.moveTo(4, oy);
  ctx.lineTo(width - 4, oy);
  ctx.stroke();
  ctx.globalAlpha = 1;

  const keys: [number, number][] = [];
  const order = [...Array(n).keys()].sort((i, j) => a.probs[i]! - a.probs[j]!);  // the heaviest drawn last
  for (let s = 0; s < n; s++) keys.push(at(a.key_xy[2 * s]!, a.key_xy[2 * s + 1]!));
  for (const s of order) {
    const p = a.probs[s]!;
    const [x, y] = keys[s]!;
    ctx.beginPath();
    ctx.arc(x, y, 2.5 + 6 * Math.sqrt(p), 0, 2 * Math.PI);
    ctx.fillStyle = lutCss(viridis, p);
    ctx.fill();
    ctx.strokeStyle = colours.text;
    ctx.globalAlpha = 0.5;
    ctx.lineWidth = 0.75;
    ctx.stroke();
    ctx.globalAlpha = 1;
  }
  const query = at(a.query_xy[0]!, a.query_xy[1]!);
  ctx.beginPath();
  ctx.moveTo(query[0], query[1] - 8);
  ctx.lineTo(query[0] + 8, query[1]);
  ctx.lineTo(query[0], query[1] + 8);
  ctx.lineTo(query[0] - 8, query[1]);
  ctx.closePath();
  ctx.fillStyle = colours.accent;
  ctx.fill();

  ctx.font = `11px ${FONT}`;
  ctx.textBaseline = 'middle';
  // The most attended keys first; a label that would overlap one placed
  // before it is left out (its point stays).
  const placed: [number, number, number, number][] = [];  // x0, y0, x1, y1
  const labelled: number[] = [];
  for (const s of [...order].reverse()) {
    if (labelled.length === MAX_LABELS) break;
    const [x, y] = keys[s]!;
    const text = tokenLabel(tokens[s] ?? '', 10);
    const w = ctx.measureText(text).width;
    const right = x > width - 80;
    const x0 = right ? x - 10 - w : x + 10;
    const box: [number, number, number, number] = [x0 - 2, y - 7, x0 + w + 2, y + 7];
    if (placed.some((b) => box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3])) continue;
    placed.push(box);
    labelled.push(s);
    ctx.fillStyle = colours.text;
    ctx.textAlign = 'left';
    ctx.fillText(text, x0, y);
  }
  ctx.fillStyle = colours.accent;
  ctx.textAlign = query[0] > width - 80 ? 'right' : 'left';
  ctx.fillText(`q ${tokenLabel(tokens[a.position] ?? '', 10)}`, query[0] + (query[0] > width - 80 ? -12 : 12), query[1] - 12);
  return { keys, query, labelled };
}

/**
 * values as one row of cells, blue < 0 < red on a symmetric scale (the
 * largest |value| at the ends), into the whole width x height.
 */
export function drawStrip(
  ctx: CanvasRenderingContext2D,
  width: number,
  height: number,
  values: ArrayLike<number>,
  lut: ColorLut = divergingLut,
): void {
  ctx.clearRect(0, 0, width, height);
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]!));
  const cell = width / Math.max(1, values.length);
  for (let i = 0; i < values.length; i++) {
    ctx.fillStyle = lutCss(lut, max > 0 ? 0.5 + values[i]! / (2 * max) : 0.5);
    // Cells overlap by a pixel so no background shows between them.
    ctx.fillRect(Math.floor(i * cell), 0, Math.ceil(cell) + 1, height);
  }
}
