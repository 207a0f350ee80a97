/**
 * The importance overlay on the head grid: every head cell tinted by how much
 * the head matters on this text, on a diverging colour map (ColorBrewer's
 * RdBu: red = the head helps, blue = it hurts, white = no effect), with the
 * figure in the cell, the legend's scale and sign, and the figures in the
 * hover card (head-grid-tooltip.ts reads the button's data-importance).
 *
 * One sign for every kind, "what removing the head does to the loss":
 *   scan, mean loss   Δ mean loss of the head removed alone (> 0: it helps)
 *   scan, log p       −Δ log p(next token) at the scanned position (> 0: it helps)
 *   gradient          −d mean loss / d gain: the first-order Δ mean loss of
 *                     muting the head from gain 1 (> 0: it helps)
 * The tint sits over the attention heatmap and under the badges and the
 * "muted" mark; a click on the cell still mutes the head (the grid's button).
 */
import { interpolateRdBu } from 'd3-scale-chromatic';
import type { HeadImportance } from '../engine/protocol';
import { headName } from '../state/heads';
import { inkOn, lutCss, makeLut } from './colormap';

export type ImportanceMetric = 'loss' | 'logprob';

/** RdBu runs red (0) -> white -> blue (1): a head that helps (v > 0) maps below 0.5. */
const rdbu = makeLut(interpolateRdBu);

/** [L x H] the signed figure the overlay colours (see the file comment); NaN where none. */
export function helpOf(result: HeadImportance, metric: ImportanceMetric): Float32Array {
  if (result.kind === 'gradient') return result.gradient.map((g) => -g);
  return metric === 'loss' ? result.delta_mean_loss.slice() : result.delta_logprob.map((d) => -d);
}

/** The largest |v| (the legend's ends), at least a tiny positive number. */
export function scaleOf(values: Float32Array): number {
  let max = 0;
  for (const v of values) if (Number.isFinite(v)) max = Math.max(max, Math.abs(v));
  return max > 0 ? max : 1e-9;
}

/** A signed figure for a cell or the legend: 2 significant digits, "+" for positive. */
export function signed(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const text = Math.abs(value) >= 100 ? value.toFixed(0) : Number(value.toPrecision(2)).toString();
  return value > 0 ? `+${text}` : text;
}

/** Where v falls on the RdBu table: +scale -> 0 (red), 0 -> 0.5, -scale -> 1 (blue). */
function position(value: number, scale: number): number {
  return 0.5 - Math.max(-1, Math.min(1, value / scale)) / 2;
}

/** What the legend and the hover card call the figure. */
export function metricLabel(result: HeadImportance, metric: ImportanceMetric): string {
  if (result.kind === 'gradient') return '−d mean loss / d gain (gradient)';
  return metric === 'loss' ? `Δ mean loss, ${result.kind} ablation` : `−Δ log p(next token), ${result.kind} ablation`;
}

/** The hover card's line for head i: every figure of the result, raw, in nats. */
function cardLine(result: HeadImportance, i: number): string {
  const name = headName({ layer: Math.floor(i / result.n_head), head: i % result.n_head });
  if (result.kind === 'gradient') {
    return `${name} d mean loss / d gain: ${signed(result.gradient[i]!)} nats`;
  }
  return `${name} removed (${result.kind}): Δ mean loss ${signed(result.delta_mean_loss[i]!)} nats · ` +
    `Δ log p(next at ${result.position}) ${signed(result.delta_logprob[i]!)}`;
}

export class ImportanceOverlay {
  private readonly grid: HTMLElement;

  constructor(root: HTMLElement) {
    this.grid = root.querySelector<HTMLElement>('[data-role="head-grid"]')!;
  }

  /** Tints every cell with values [L x H] (helpOf) on ±scale; result's figures go to the hover card. */
  paint(result: HeadImportance, values: Float32Array, scale: number): void {
    for (const button of this.grid.querySelectorAll<HTMLButtonElement>('button.head')) {
      const i = Number(button.dataset['layer']) * result.n_head + Number(button.dataset['head']);
      const value = values[i] ?? NaN;
      let tint = button.querySelector<HTMLElement>('.head-importance');
      if (!tint) {
        tint = document.createElement('span');
        tint.className = 'head-importance';
        tint.setAttribute('aria-hidden', 'true');
        button.prepend(tint);
      }
      const t = position(value, scale);
      tint.style.background = Number.isFinite(value) ? lutCss(rdbu, t) : 'transparent';
      tint.style.color = inkOn(rdbu, t);
      tint.textContent = signed(value);
      button.dataset['importance'] = cardLine(result, i);
      button.dataset['importanceValue'] = String(value);
    }
    this.grid.dataset['importance'] = result.kind;
  }

  clear(): void {
    // Nothing painted: no work on every frame of a page that never used the overlay.
    if (this.grid.dataset['importance'] === undefined) return;
    for (const tint of this.grid.querySelectorAll('.head-importance')) tint.remove();
    for (const button of this.grid.querySelectorAll<HTMLButtonElement>('button.head')) {
      delete button.dataset['importance'];
      delete button.dataset['importanceValue'];
    }
    delete this.grid.dataset['importance'];
  }
}

/** Paints the legend's colour bar canvas: blue (left, hurts) to red (right, helps). */
export function paintLegendBar(canvas: HTMLCanvasElement): void {
  const width = 120;
  canvas.width = width;
  canvas.height = 1;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  for (let x = 0; x < width; x++) {
    ctx.fillStyle = lutCss(rdbu, 1 - x / (width - 1));
    ctx.fillRect(x, 0, 1, 1);
  }
}
