/**
 * Drawing one head large, on a 2D canvas context: the labelled heatmap
 * (query rows, key columns) and the BertViz-style line view (query tokens
 * left, key tokens right, line opacity = weight). Pure drawing with the
 * geometry returned for hit-testing; shared by the head detail view and the
 * PNG export. Token labels are drawn with fillText: text, never HTML.
 */
import type { Analysis } from '../engine/protocol';
import { type ColorLut, viridis } from './colormap';
import { paintAttention } from './heatmap';

export interface PlotColours {
  background: string;
  masked: string;
  text: string;
  soft: string;
  accent: string;
  line: string;
}

export interface HeatmapGeometry {
  kind: 'heatmap';
  x0: number;  // left edge of key column 0, CSS px
  y0: number;  // top edge of query row 0
  cell: number;
  T: number;
}

export interface LinesGeometry {
  kind: 'lines';
  leftX: number;   // right edge of the query labels
  rightX: number;  // left edge of the key labels
  y0: number;
  row: number;
  T: number;
}

const FONT = 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace';

/** A token as a one-line label: spaces as a middle dot, newlines as ↵, long ones cut. */
export function tokenLabel(token: string, max = 12): string {
  const shown = token.replace(/ /g, '\u00b7').replace(/\n/g, '\u21b5').replace(/\t/g, '\u2192');
  // eslint-disable-next-line no-control-regex
  const clean = shown.replace(/[\u0000-\u001f\u007f]/g, '\ufffd');
  const chars = [...clean];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : clean || '\u2205';
}

/** What drawing a head needs of an analysis: its tokens and [heads x T x T] attention (a whole pass's, or one pattern with n_head 1). */
export type AttentionOf = Pick<Analysis, 'T' | 'n_head' | 'tokens' | 'attn'>;

export function headOffset(analysis: AttentionOf, layer: number, head: number): number {
  const { T, n_head } = analysis;
  return (layer * n_head + head) * T * T;
}

function labelWidth(ctx: CanvasRenderingContext2D, labels: string[]): number {
  let width = 0;
  for (const label of labels) width = Math.max(width, ctx.measureText(label).width);
  return width;
}

/** Every how-many-th label fits when rows are `cell` px apart. */
function labelStride(cell: number, fontPx: number): number {
  return Math.max(1, Math.ceil((fontPx + 1) / cell));
}

/**
 * The heatmap with token labels: key tokens along the top (rotated), query
 * tokens down the left. Draws into a width x height CSS-px area; the caller
 * has already scaled the context by devicePixelRatio.
 */
export function drawHeatmap(
  ctx: CanvasRenderingContext2D,
  width: number,
  height: number,
  analysis: AttentionOf,
  layer: number,
  head: number,
  selectedQuery: number,
  colours: PlotColours,
  lut: ColorLut = viridis,
): HeatmapGeometry {
  const { T } = analysis;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = colours.background;
  ctx.fillRect(0, 0, width, height);
  const labels = analysis.tokens.slice(0, T).map((t) => tokenLabel(t));
  const fontPx = Math.max(9, Math.min(13, Math.floor(width / 50)));
  ctx.font = `${fontPx}px ${FONT}`;
  const margin = Math.min(labelWidth(ctx, labels) + 10, width * 0.28);
  // Top labels are rotated 60 degrees: their height is width * sin(60).
  const top = Math.min(margin * 0.87 + 6, height * 0.28);
  const cell = Math.max(0.5, Math.min((width - margin - 4) / T, (height - top - 4) / T));
  const x0 = margin;
  const y0 = top;

  // Future cells: a flat theme grey (the pattern canvas leaves them transparent).
  ctx.fillStyle = colours.masked;
  ctx.fillRect(x0, y0, cell * T, cell * T);
  const pattern = document.createElement('canvas');
  pattern.width = T;
  pattern.height = T;
  const pctx = pattern.getContext('2d')!;
  const image = pctx.createImageData(T, T);
  paintAttention(image.data, analysis.attn, headOffset(analysis, layer, head), T, lut);
  pctx.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(pattern, x0, y0, cell * T, cell * T);

  const stride = labelStride(cell, fontPx);
  ctx.fillStyle = colours.text;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  for (let q = 0; q < T; q += stride) {
    ctx.fillStyle = q === selectedQuery ? colours.accent : colours.text;
    ctx.fillText(clip(ctx, labels[q]!, margin - 8), x0 - 6, y0 + (q + 0.5) * cell);
  }
  ctx.textAlign = 'left';
  for (let k = 0; k < T; k += stride) {
    ctx.save();
    ctx.translate(x0 + (k + 0.5) * cell, y0 - 5);
    ctx.rotate(-Math.PI / 3);
    ctx.fillStyle = colours.text;
    ctx.fillText(clip(ctx, labels[k]!, (top - 6) / 0.87), 0, 0);
    ctx.restore();
  }
  if (selectedQuery >= 0 && selectedQuery < T) {
    ctx.strokeStyle = colours.accent;
    ctx.lineWidth = 2;
    ctx.strokeRect(x0 - 1, y0 + selectedQuery * cell - 1, cell * T + 2, cell + 2);
  }
  return { kind: 'heatmap', x0, y0, cell, T };
}

function clip(ctx: CanvasRenderingContext2D, label: string, max: number): string {
  if (ctx.measureText(label).width <= max) return label;
  const chars = [...label];
  while (chars.length > 1 && ctx.measureText(`${chars.join('')}…`).width > max) chars.pop();
  return `${chars.join('')}…`;
}

/** Row height of the line view for T tokens (keeps 256 tokens on one screen-ish). */
export function linesRowHeight(T: number): number {
  return Math.max(3, Math.min(18, Math.floor(720 / Math.max(1, T))));
}

/**
 * BertViz's head view: query tokens on the left, key tokens on the right,
 * one line per (query, key <= query) with opacity = weight. `focus`
 * highlights one token's lines: side 'query' = its row, 'key' = its column.
 */
export function drawLines(
  ctx: CanvasRenderingContext2D,
  width: number,
  height: number,
  analysis: Analysis,
  layer: number,
  head: number,
  selectedQuery: number,
  focus: { side: 'query' | 'key'; index: number } | null,
  colours: PlotColours,
): LinesGeometry {
  const { T } = analysis;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = colours.background;
  ctx.fillRect(0, 0, width, height);
  const row = linesRowHeight(T);
  const fontPx = Math.max(8, Math.min(13, row - 3));
  ctx.font = `${fontPx}px ${FONT}`;
  const labels = analysis.tokens.slice(0, T).map((t) => tokenLabel(t, 16));
  const labelSpace = Math.min(labelWidth(ctx, labels) + 12, width * 0.3);
  const leftX = labelSpace;
  const rightX = width - labelSpace;
  const y0 = 4;
  const offset = headOffset(analysis, layer, head);
  const yOf = (i: number) => y0 + (i + 0.5) * row;

  ctx.lineWidth = Math.max(1, Math.min(2.5, row / 6));
  ctx.strokeStyle = colours.line;
  for (let q = 0; q < T; q++) {
    for (let k = 0; k <= q; k++) {
      const weight = analysis.attn[offset + q * T + k]!;
      if (weight < 0.01) continue;
      const inFocus = !focus || (focus.side === 'query' ? focus.index === q : focus.index === k);
      ctx.globalAlpha = inFocus ? Math.min(1, weight) : Math.min(1, weight) * 0.08;
      ctx.beginPath();
      ctx.moveTo(leftX, yOf(q));
      ctx.lineTo(rightX, yOf(k));
      ctx.stroke();
    }
  }
  ctx.globalAlpha = 1;

  const stride = labelStride(row, fontPx);
  ctx.textBaseline = 'middle';
  for (let i = 0; i < T; i += stride) {
    const isQuery = focus?.side === 'query' && focus.index === i;
    const isKey = focus?.side === 'key' && focus.index === i;
    ctx.textAlign = 'right';
    ctx.fillStyle = i === selectedQuery || isQuery ? colours.accent : colours.text;
    ctx.fillText(clip(ctx, labels[i]!, labelSpace - 10), leftX - 6, yOf(i));
    ctx.textAlign = 'left';
    ctx.fillStyle = isKey ? colours.accent : colours.text;
    ctx.fillText(clip(ctx, labels[i]!, labelSpace - 10), rightX + 6, yOf(i));
  }
  return { kind: 'lines', leftX, rightX, y0, row, T };
}

/** Reads the theme's colours from CSS custom properties of `element`. */
export function themeColours(element: Element): PlotColours {
  const style = getComputedStyle(element);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    background: read('--panel', '#ffffff'),
    masked: read('--masked', '#e9e9e5'),
    text: read('--fg', '#1d1e22'),
    soft: read('--soft', '#5c6068'),
    accent: read('--accent', '#21918c'),
    line: read('--line', '#3b528b'),
  };
}
