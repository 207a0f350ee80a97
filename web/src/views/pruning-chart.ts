/**
 * The pruning chart as SVG: mean loss (nats, y) against the fraction of
 * heads removed (x, 0..100 %), the importance order (least important first,
 * solid, the accent colour) beside a random order (dashed), with axes, ticks,
 * labels, a legend and a marker at the k heads the slider removes. Colours
 * come from the page's CSS variables, so the chart follows light and dark.
 * Shapes: mean_loss and random_mean_loss [L*H + 1], k-th = first k removed.
 */
import type { PruningCurves } from '../engine/protocol';

const NS = 'http://www.w3.org/2000/svg';
const WIDTH = 480;
const HEIGHT = 250;
const MARGIN = { left: 52, right: 14, top: 34, bottom: 42 };

export function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** About 5 round steps covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** The chart for curves, with the first k heads of the importance order marked. */
export function pruningSvg(curves: PruningCurves, k: number): SVGSVGElement {
  const n = curves.order.length;
  const finite = [...curves.mean_loss, ...curves.random_mean_loss].filter(Number.isFinite);
  const yTicks = ticks(Math.min(...finite), Math.max(...finite));
  const yLo = Math.min(yTicks[0]!, ...finite);
  const yHi = Math.max(yTicks[yTicks.length - 1]!, ...finite);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (removed: number) => MARGIN.left + (removed / n) * plotW;
  const y = (loss: number) => MARGIN.top + (1 - (loss - yLo) / (yHi - yLo || 1)) * plotH;

  const svg = el('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'pruning-svg', role: 'img' });
  svg.append(el('title', {}, `Mean loss against heads removed (${curves.mode} ablation): importance order and random order`));
  const axes = el('g', { class: 'pruning-axes' });
  axes.append(el('line', { x1: MARGIN.left, y1: MARGIN.top + plotH, x2: MARGIN.left + plotW, y2: MARGIN.top + plotH }));
  axes.append(el('line', { x1: MARGIN.left, y1: MARGIN.top, x2: MARGIN.left, y2: MARGIN.top + plotH }));
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    const at = x(fraction * n);
    axes.append(el('line', { x1: at, y1: MARGIN.top + plotH, x2: at, y2: MARGIN.top + plotH + 4 }));
    axes.append(el('text', { x: at, y: MARGIN.top + plotH + 16, 'text-anchor': 'middle' }, `${fraction * 100}%`));
  }
  for (const value of yTicks) {
    const at = y(value);
    axes.append(el('line', { class: 'pruning-grid', x1: MARGIN.left, y1: at, x2: MARGIN.left + plotW, y2: at }));
    axes.append(el('text', { x: MARGIN.left - 6, y: at + 4, 'text-anchor': 'end' }, String(value)));
  }
  axes.append(el('text', { x: MARGIN.left + plotW / 2, y: HEIGHT - 6, 'text-anchor': 'middle' }, `heads removed (of ${n})`));
  axes.append(el('text', { x: 12, y: MARGIN.top + plotH / 2, 'text-anchor': 'middle', transform: `rotate(-90 12 ${MARGIN.top + plotH / 2})` }, 'mean loss (nats)'));
  svg.append(axes);

  const line = (losses: Float32Array, cls: string) => {
    const points = Array.from(losses, (loss, i) => (Number.isFinite(loss) ? `${x(i).toFixed(1)},${y(loss).toFixed(1)}` : '')).filter(Boolean);
    return el('polyline', { class: cls, points: points.join(' '), fill: 'none' });
  };
  svg.append(line(curves.random_mean_loss, 'pruning-random'), line(curves.mean_loss, 'pruning-importance'));

  const marker = el('g', { class: 'pruning-marker', 'data-k': k });
  marker.append(el('line', { x1: x(k), y1: MARGIN.top, x2: x(k), y2: MARGIN.top + plotH }));
  const loss = curves.mean_loss[k];
  if (loss !== undefined && Number.isFinite(loss)) marker.append(el('circle', { cx: x(k), cy: y(loss), r: 4 }));
  svg.append(marker);

  // The legend above the plot, in one row: the curves may reach any corner.
  const legend = el('g', { class: 'pruning-legend' });
  const lx = MARGIN.left;
  const ly = 12;
  legend.append(el('line', { class: 'pruning-importance', x1: lx, y1: ly, x2: lx + 22, y2: ly }));
  legend.append(el('text', { x: lx + 28, y: ly + 4 }, `importance order (scan every ${curves.rescan_every})`));
  legend.append(el('line', { class: 'pruning-random', x1: lx + 270, y1: ly, x2: lx + 292, y2: ly }));
  legend.append(el('text', { x: lx + 298, y: ly + 4 }, 'random order'));
  svg.append(legend);
  return svg;
}
