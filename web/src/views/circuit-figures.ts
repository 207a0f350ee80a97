/**
 * The circuit maps as figures: one description (a labelled matrix of values
 * with a colour per cell, or a list of signed bars) turned into the page's
 * DOM cells' colours, a PNG, an SVG and a CSV, so the files show what the
 * page shows. Colours: viridis for probabilities, ColorBrewer's RdBu
 * (diverging, white at 0, blue for positive) for recovery and logit pushes.
 */
import { interpolateRdBu } from 'd3-scale-chromatic';
import { type ColorLut, inkOn, lutCss, makeLut } from './colormap';
import { canvasBlob, scaledCanvas } from './export';

/** RdBu from red (-1) through white (0) to blue (+1). */
export const diverging: ColorLut = makeLut(interpolateRdBu);

/** Position in the diverging LUT of v in [-scale, scale] (0.5 = white). */
export function divergingIndex(v: number, scale: number): number {
  if (!Number.isFinite(v) || !(scale > 0)) return 0.5;
  return Math.max(0, Math.min(1, 0.5 + v / (2 * scale)));
}

export function divergingCss(v: number, scale: number): { fill: string; ink: string } {
  const x = divergingIndex(v, scale);
  return { fill: lutCss(diverging, x), ink: inkOn(diverging, x) };
}

/** A matrix figure: rows x cols cells, each with a colour, an optional short text and a value. */
export interface MatrixFigure {
  title: string;
  rowLabels: string[];
  colLabels: string[];
  /** [rows x cols] the figure's numbers (CSV), row-major. */
  values: ArrayLike<number>;
  /** Optional text inside each cell (e.g. the lens' top token). */
  cellText?: (row: number, col: number) => string;
  fill: (row: number, col: number) => { fill: string; ink: string };
  /** Header of the CSV's value column. */
  valueName: string;
}

/** Signed bars, zero in the middle (the direct effects). */
export interface BarFigure {
  title: string;
  labels: string[];
  values: number[];
  valueName: string;
  /** Lines under the bars (e.g. the sum against the real logit difference). */
  notes: string[];
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function matrixCsv(figure: MatrixFigure): string {
  const lines = [['row', 'col', 'row_label', 'col_label', figure.valueName, ...(figure.cellText ? ['text'] : [])].join(',')];
  const cols = figure.colLabels.length;
  figure.rowLabels.forEach((rowLabel, r) => {
    for (let c = 0; c < cols; c++) {
      const v = figure.values[r * cols + c]!;
      const fields = [String(r), String(c), csvField(rowLabel), csvField(figure.colLabels[c]!), Number.isFinite(v) ? String(v) : ''];
      if (figure.cellText) fields.push(csvField(figure.cellText(r, c)));
      lines.push(fields.join(','));
    }
  });
  return `${lines.join('\n')}\n`;
}

export function barCsv(figure: BarFigure): string {
  const lines = [`part,${figure.valueName}`, ...figure.labels.map((label, i) => `${csvField(label)},${figure.values[i]}`)];
  return `${lines.join('\n')}\n`;
}

const NS = 'http://www.w3.org/2000/svg';

function svgElement(name: string, attributes: Record<string, string | number>, text?: string): Element {
  const element = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function serialise(svg: Element): string {
  // XMLSerializer escapes &, <, > in token text: the file is well-formed SVG.
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(svg)}\n`;
}

/** A drawing surface both the SVG and the PNG use, so the two files match. */
interface Painter {
  rect(x: number, y: number, w: number, h: number, fill: string): void;
  text(x: number, y: number, text: string, options: { anchor: 'start' | 'middle' | 'end'; fill: string; size: number; rotate?: number }): void;
}

const CELL_W = 64;
const CELL_H = 26;
const LEFT = 90;
const TOP_LABELS = 70;
const TITLE_H = 28;

function matrixSize(figure: MatrixFigure) {
  const cellW = figure.cellText ? CELL_W : 34;
  return { cellW, width: LEFT + cellW * figure.colLabels.length + 10, height: TITLE_H + TOP_LABELS + CELL_H * figure.rowLabels.length + 10 };
}

function paintMatrix(figure: MatrixFigure, p: Painter): void {
  const { cellW, width, height } = matrixSize(figure);
  p.rect(0, 0, width, height, '#ffffff');
  p.text(8, 18, figure.title, { anchor: 'start', fill: '#1d1e22', size: 13 });
  const top = TITLE_H + TOP_LABELS;
  figure.colLabels.forEach((label, c) => {
    p.text(LEFT + (c + 0.5) * cellW, top - 6, label, { anchor: 'start', fill: '#5c6068', size: 11, rotate: -50 });
  });
  figure.rowLabels.forEach((label, r) => {
    p.text(LEFT - 6, top + (r + 0.5) * CELL_H, label, { anchor: 'end', fill: '#5c6068', size: 11 });
    for (let c = 0; c < figure.colLabels.length; c++) {
      const { fill, ink } = figure.fill(r, c);
      p.rect(LEFT + c * cellW, top + r * CELL_H, cellW - 1, CELL_H - 1, fill);
      const text = figure.cellText?.(r, c);
      if (text) p.text(LEFT + (c + 0.5) * cellW, top + (r + 0.5) * CELL_H, text, { anchor: 'middle', fill: ink, size: 11 });
    }
  });
}

const BAR_ROW = 20;
const BAR_LABEL = 120;
const BAR_HALF = 200;

function barSize(figure: BarFigure) {
  return { width: BAR_LABEL + 2 * BAR_HALF + 90, height: TITLE_H + BAR_ROW * (figure.labels.length + figure.notes.length) + 16 };
}

function paintBars(figure: BarFigure, p: Painter): void {
  const { width, height } = barSize(figure);
  p.rect(0, 0, width, height, '#ffffff');
  p.text(8, 18, figure.title, { anchor: 'start', fill: '#1d1e22', size: 13 });
  const scale = Math.max(1e-12, ...figure.values.map(Math.abs));
  const zero = BAR_LABEL + BAR_HALF;
  figure.labels.forEach((label, i) => {
    const y = TITLE_H + i * BAR_ROW;
    const v = figure.values[i]!;
    const w = (Math.abs(v) / scale) * BAR_HALF;
    p.text(BAR_LABEL - 8, y + BAR_ROW / 2, label, { anchor: 'end', fill: '#5c6068', size: 11 });
    p.rect(v >= 0 ? zero : zero - w, y + 4, Math.max(w, 0.5), BAR_ROW - 8, v >= 0 ? '#2166ac' : '#b2182b');
    p.text(zero + BAR_HALF + 6, y + BAR_ROW / 2, v.toFixed(3), { anchor: 'start', fill: '#1d1e22', size: 11 });
  });
  p.rect(zero, TITLE_H, 1, BAR_ROW * figure.labels.length, '#5c6068');
  figure.notes.forEach((note, i) => {
    p.text(8, TITLE_H + (figure.labels.length + i + 0.5) * BAR_ROW, note, { anchor: 'start', fill: '#1d1e22', size: 11 });
  });
}

function svgOf(width: number, height: number, title: string, paint: (p: Painter) => void): string {
  const svg = svgElement('svg', { xmlns: NS, width, height, viewBox: `0 0 ${width} ${height}`, 'font-family': 'system-ui, sans-serif' });
  svg.append(svgElement('title', {}, title));
  paint({
    rect: (x, y, w, h, fill) => svg.append(svgElement('rect', { x, y, width: w, height: h, fill })),
    text: (x, y, text, o) => {
      const attributes: Record<string, string | number> = {
        x, y, 'text-anchor': o.anchor, 'dominant-baseline': 'middle', fill: o.fill, 'font-size': o.size,
      };
      if (o.rotate) attributes['transform'] = `rotate(${o.rotate} ${x} ${y})`;
      svg.append(svgElement('text', attributes, text));
    },
  });
  return serialise(svg);
}

function pngOf(width: number, height: number, paint: (p: Painter) => void): Promise<Blob> {
  const { canvas, ctx } = scaledCanvas(width, height);
  paint({
    rect: (x, y, w, h, fill) => {
      ctx.fillStyle = fill;
      ctx.fillRect(x, y, w, h);
    },
    text: (x, y, text, o) => {
      ctx.save();
      ctx.translate(x, y);
      if (o.rotate) ctx.rotate((o.rotate * Math.PI) / 180);
      ctx.fillStyle = o.fill;
      ctx.font = `${o.size}px system-ui, sans-serif`;
      ctx.textAlign = o.anchor === 'middle' ? 'center' : o.anchor === 'end' ? 'right' : 'left';
      ctx.textBaseline = 'middle';
      ctx.fillText(text, 0, 0);
      ctx.restore();
    },
  });
  return canvasBlob(canvas);
}

export type Figure = { kind: 'matrix'; figure: MatrixFigure } | { kind: 'bars'; figure: BarFigure };

/** The three files of a figure. */
export function figureFile(figure: Figure, format: 'png' | 'svg' | 'csv'): Promise<Blob> | Blob {
  if (format === 'csv') {
    const csv = figure.kind === 'matrix' ? matrixCsv(figure.figure) : barCsv(figure.figure);
    return new Blob([csv], { type: 'text/csv' });
  }
  const size = figure.kind === 'matrix' ? matrixSize(figure.figure) : barSize(figure.figure);
  const paint = (p: Painter) => (figure.kind === 'matrix' ? paintMatrix(figure.figure, p) : paintBars(figure.figure, p));
  if (format === 'svg') return new Blob([svgOf(size.width, size.height, figure.figure.title, paint)], { type: 'image/svg+xml' });
  return pngOf(size.width, size.height, paint);
}
