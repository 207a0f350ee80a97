/**
 * The live-training charts on canvases sized by panel-dom.ts sizedCanvas, in
 * the theme's colours (CSS variables read at draw time, so light and dark
 * both work): a line chart of values against steps (the loss curve, the
 * in-context-learning score) and one small chart per head of its induction
 * and previous-token scores over the probes so far.
 */
import { ticks } from './pruning-chart';
import { sizedCanvas } from './panel-dom';

export interface Line {
  /** Steps, increasing. */
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  /** A CSS variable name ("--accent") or colour. */
  color: string;
  width?: number;
  alpha?: number;
}

export interface ChartFrame {
  /** x runs over [0, xMax] steps. */
  xMax: number;
  /** y range; undefined: fitted to the lines. */
  yMin?: number;
  yMax?: number;
  /** A dashed horizontal guide (the 0.5 induction line), if any. */
  guide?: number;
  /** Axis labels; none on the small multiples. */
  axes?: { x: string; y: string };
}

const MARGIN_AXES = { left: 44, right: 10, top: 8, bottom: 26 };
const MARGIN_BARE = { left: 2, right: 2, top: 2, bottom: 2 };

function cssColor(style: CSSStyleDeclaration, color: string): string {
  return color.startsWith('--') ? style.getPropertyValue(color).trim() || '#888' : color;
}

function extent(lines: Line[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const line of lines) {
    for (let i = 0; i < line.ys.length; i++) {
      const y = line.ys[i]!;
      if (!Number.isFinite(y)) continue;
      if (y < lo) lo = y;
      if (y > hi) hi = y;
    }
  }
  if (!Number.isFinite(lo)) return [0, 1];
  if (hi - lo < 1e-6) return [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

/**
 * The indices of line's finite points to draw, in step order: in each
 * device-pixel column (x in CSS pixels times pixelRatio) the first, the
 * lowest, the highest and the last, so every point of a column that holds
 * four or fewer, and the same picture as every point draws where more
 * fall into one column. A long run (8,000 steps, a probe a step) would
 * otherwise stroke 16,000 segments per small chart on every repaint.
 */
export function drawnPoints(line: Line, x: (step: number) => number, pixelRatio = 1): number[] {
  const out: number[] = [];
  let column = NaN;
  let group: number[] = [];
  const flush = () => {
    if (group.length === 0) return;
    let lo = group[0]!, hi = group[0]!;
    for (const i of group) {
      if (line.ys[i]! < line.ys[lo]!) lo = i;
      if (line.ys[i]! > line.ys[hi]!) hi = i;
    }
    const keep = new Set([group[0]!, lo, hi, group[group.length - 1]!]);
    out.push(...[...keep].sort((a, b) => a - b));
    group = [];
  };
  for (let i = 0; i < line.xs.length; i++) {
    if (!Number.isFinite(line.ys[i]!)) continue;
    const c = Math.floor(x(line.xs[i]!) * pixelRatio);
    if (c !== column) {
      flush();
      column = c;
    }
    group.push(i);
  }
  flush();
  return out;
}

/** Draws lines over steps into canvas (sized to its CSS box). */
export function drawChart(canvas: HTMLCanvasElement, lines: Line[], frame: ChartFrame): void {
  const sized = sizedCanvas(canvas);
  if (!sized) return;
  const { ctx, width, height } = sized;
  const style = getComputedStyle(canvas);
  const margin = frame.axes ? MARGIN_AXES : MARGIN_BARE;
  const [fitLo, fitHi] = extent(lines);
  const yLo = frame.yMin ?? fitLo, yHi = frame.yMax ?? fitHi;
  const xMax = Math.max(1, frame.xMax);
  const plotW = width - margin.left - margin.right, plotH = height - margin.top - margin.bottom;
  const x = (step: number) => margin.left + (step / xMax) * plotW;
  const y = (value: number) => margin.top + (1 - (value - yLo) / (yHi - yLo || 1)) * plotH;
  ctx.clearRect(0, 0, width, height);
  const soft = cssColor(style, '--soft');
  const border = cssColor(style, '--border');

  ctx.strokeStyle = border;
  ctx.lineWidth = 1;
  ctx.strokeRect(margin.left + 0.5, margin.top + 0.5, plotW - 1, plotH - 1);
  if (frame.axes) {
    ctx.fillStyle = soft;
    ctx.font = `11px ${style.getPropertyValue('--sans') || 'sans-serif'}`;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const tick of ticks(yLo, yHi, 4)) {
      if (tick < yLo || tick > yHi) continue;
      ctx.fillText(String(tick), margin.left - 5, y(tick));
      ctx.beginPath();
      ctx.strokeStyle = border;
      ctx.moveTo(margin.left, Math.round(y(tick)) + 0.5);
      ctx.lineTo(margin.left + plotW, Math.round(y(tick)) + 0.5);
      ctx.stroke();
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const tick of ticks(0, xMax, 5)) ctx.fillText(String(tick), x(tick), margin.top + plotH + 4);
    ctx.textAlign = 'right';
    ctx.fillText(frame.axes.x, margin.left + plotW, margin.top + plotH + 14);
    ctx.save();
    ctx.translate(10, margin.top + plotH / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.fillText(frame.axes.y, 0, 0);
    ctx.restore();
  }
  if (frame.guide !== undefined && frame.guide >= yLo && frame.guide <= yHi) {
    ctx.save();
    ctx.setLineDash([3, 3]);
    ctx.strokeStyle = soft;
    ctx.beginPath();
    ctx.moveTo(margin.left, y(frame.guide));
    ctx.lineTo(margin.left + plotW, y(frame.guide));
    ctx.stroke();
    ctx.restore();
  }
  ctx.save();
  ctx.beginPath();
  ctx.rect(margin.left, margin.top, plotW, plotH);
  ctx.clip();
  for (const line of lines) {
    ctx.strokeStyle = cssColor(style, line.color);
    ctx.globalAlpha = line.alpha ?? 1;
    ctx.lineWidth = line.width ?? 1.5;
    ctx.beginPath();
    let started = false;
    for (const i of drawnPoints(line, x, ctx.getTransform().a)) {
      if (started) ctx.lineTo(x(line.xs[i]!), y(line.ys[i]!));
      else ctx.moveTo(x(line.xs[i]!), y(line.ys[i]!));
      started = true;
    }
    ctx.stroke();
  }
  ctx.restore();
}

/**
 * Exponential moving average of ys (the loss is noisy step to step): a
 * smoothed curve drawn over the raw one. alpha: weight of the newest value.
 */
export function smoothed(ys: ArrayLike<number>, alpha = 0.05): Float32Array {
  const out = new Float32Array(ys.length);
  let mean = NaN;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i]!;
    mean = Number.isFinite(mean) ? mean + alpha * (y - mean) : y;
    out[i] = mean;
  }
  return out;
}
