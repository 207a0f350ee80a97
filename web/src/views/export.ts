/**
 * Export: the selected head's heatmap as PNG (labelled, as drawn) and SVG
 * (one rect per visible cell, token labels as SVG text), the whole Trace of
 * the last pass as JSON, and the head grid as one PNG. Files are made in the
 * page and saved through a download link: nothing is sent anywhere.
 */
import type { Analysis } from '../engine/protocol';
import type { Frame, ViewFactory } from '../app/view';
import { formatGain, type HeadRef } from '../state/heads';
import { clampPosition } from '../state/position';
import { drawHeatmap, headOffset, themeColours, tokenLabel } from './attention-plot';
import { lutIndex, viridis } from './colormap';

export interface ExportSource {
  analysis(): Analysis | null;
  head(): HeadRef;
  position(): number;
  text(): string;
  gains(): Float32Array;
  gridCanvases(): HTMLCanvasElement[];
}

/** Saves blob as filename through a download link (also the importance exports', importance-export.ts). */
export function save(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function canvasBlob(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('the browser could not encode the PNG'))), 'image/png'),
  );
}

function baseName(analysis: Analysis): string {
  return `headlight-${analysis.model}`;
}

/** A canvas of width x height CSS pixels drawn at `scale` device pixels each (a sharp PNG), and its context. */
export function scaledCanvas(width: number, height: number, scale = 2): { canvas: HTMLCanvasElement; ctx: CanvasRenderingContext2D } {
  const canvas = document.createElement('canvas');
  canvas.width = width * scale;
  canvas.height = height * scale;
  const ctx = canvas.getContext('2d')!;
  ctx.scale(scale, scale);
  return { canvas, ctx };
}

export async function headPng(analysis: Analysis, head: HeadRef, position: number, theme: Element): Promise<Blob> {
  const size = 900;
  const { canvas, ctx } = scaledCanvas(size, size);
  drawHeatmap(ctx, size, size, analysis, head.layer, head.head, position, themeColours(theme));
  return canvasBlob(canvas);
}

export function headSvg(analysis: Analysis, head: HeadRef): string {
  const { T } = analysis;
  const NS = 'http://www.w3.org/2000/svg';
  const cell = Math.max(4, Math.min(24, Math.floor(720 / T)));
  const margin = 110;
  const size = margin + cell * T + 10;
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('xmlns', NS);
  svg.setAttribute('width', String(size));
  svg.setAttribute('height', String(size));
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('font-family', 'ui-monospace, Menlo, Consolas, monospace');
  svg.setAttribute('font-size', String(Math.max(6, Math.min(12, cell - 2))));
  const title = document.createElementNS(NS, 'title');
  title.textContent = `Attention of head ${head.layer}.${head.head}, ${analysis.model}: query rows, key columns`;
  svg.append(title);
  const background = document.createElementNS(NS, 'rect');
  background.setAttribute('width', String(size));
  background.setAttribute('height', String(size));
  background.setAttribute('fill', '#ffffff');
  svg.append(background);
  const masked = document.createElementNS(NS, 'rect');
  masked.setAttribute('x', String(margin));
  masked.setAttribute('y', String(margin));
  masked.setAttribute('width', String(cell * T));
  masked.setAttribute('height', String(cell * T));
  masked.setAttribute('fill', '#e9e9e5');
  svg.append(masked);
  const offset = headOffset(analysis, head.layer, head.head);
  const cells = document.createElementNS(NS, 'g');
  for (let q = 0; q < T; q++) {
    for (let k = 0; k <= q; k++) {
      const weight = analysis.attn[offset + q * T + k]!;
      const c = lutIndex(weight) * 3;
      const rect = document.createElementNS(NS, 'rect');
      rect.setAttribute('x', String(margin + k * cell));
      rect.setAttribute('y', String(margin + q * cell));
      rect.setAttribute('width', String(cell));
      rect.setAttribute('height', String(cell));
      rect.setAttribute('fill', `rgb(${viridis[c]},${viridis[c + 1]},${viridis[c + 2]})`);
      rect.setAttribute('data-weight', weight.toFixed(6));
      cells.append(rect);
    }
  }
  svg.append(cells);
  const labels = document.createElementNS(NS, 'g');
  labels.setAttribute('fill', '#1d1e22');
  for (let i = 0; i < T; i++) {
    const label = tokenLabel(analysis.tokens[i] ?? '');
    const row = document.createElementNS(NS, 'text');
    row.setAttribute('x', String(margin - 4));
    row.setAttribute('y', String(margin + (i + 0.5) * cell));
    row.setAttribute('text-anchor', 'end');
    row.setAttribute('dominant-baseline', 'middle');
    row.textContent = label;
    const column = document.createElementNS(NS, 'text');
    const x = margin + (i + 0.5) * cell;
    column.setAttribute('transform', `translate(${x} ${margin - 4}) rotate(-60)`);
    column.setAttribute('dominant-baseline', 'middle');
    column.textContent = label;
    labels.append(row, column);
  }
  svg.append(labels);
  // XMLSerializer escapes &, <, > in token text: the file is well-formed SVG.
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(svg)}\n`;
}

/** Rounds to 1e-6 so the JSON stays readable; NaN (no next token) becomes null. */
function rounded(values: ArrayLike<number>): (number | null)[] {
  return Array.from(values, (v) => (Number.isNaN(v) ? null : Math.round(v * 1e6) / 1e6));
}

export function traceJson(analysis: Analysis, text: string, gains: Float32Array): string {
  const { T, n_layer: L, n_head: H, top_k: K } = analysis;
  const trace = {
    format: 'headlight-trace/1',
    note: 'attn is [L][H][T][T] flattened, query rows and key columns; numbers rounded to 1e-6; loss in nats',
    model: analysis.model,
    text,
    T,
    n_input_tokens: analysis.n_input_tokens,
    truncated: analysis.truncated,
    n_layer: L,
    n_head: H,
    top_k: K,
    gains: Array.from(gains, (g) => Number(formatGain(g))),
    ids: Array.from(analysis.ids),
    tokens: analysis.tokens,
    loss: rounded(analysis.loss),
    mean_loss: analysis.mean_loss,
    top_k_ids: Array.from(analysis.top_k_ids),
    top_k_probs: rounded(analysis.top_k_probs),
    top_k_tokens: analysis.top_k_tokens,
    attn: { shape: [L, H, T, T], data: rounded(analysis.attn) },
    unedited: {
      loss: rounded(analysis.baseline.loss),
      mean_loss: analysis.baseline.mean_loss,
      top_k_ids: Array.from(analysis.baseline.top_k_ids),
      top_k_probs: rounded(analysis.baseline.top_k_probs),
      top_k_tokens: analysis.baseline.top_k_tokens,
    },
  };
  return JSON.stringify(trace);
}

export async function gridPng(
  canvases: HTMLCanvasElement[],
  n_layer: number,
  n_head: number,
  gains: Float32Array,
  theme: Element,
): Promise<Blob> {
  const colours = themeColours(theme);
  const tile = 120;
  const gap = 10;
  const left = 70;
  const top = 30;
  const width = left + n_head * (tile + gap);
  const height = top + n_layer * (tile + gap);
  const { canvas, ctx } = scaledCanvas(width, height);
  ctx.fillStyle = colours.background;
  ctx.fillRect(0, 0, width, height);
  ctx.font = '12px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  ctx.imageSmoothingEnabled = false;
  for (let head = 0; head < n_head; head++) {
    ctx.fillStyle = colours.soft;
    ctx.textAlign = 'center';
    ctx.fillText(`head ${head}`, left + head * (tile + gap) + tile / 2, top / 2);
  }
  for (let layer = 0; layer < n_layer; layer++) {
    const y = top + layer * (tile + gap);
    ctx.fillStyle = colours.soft;
    ctx.textAlign = 'right';
    ctx.fillText(`layer ${layer}`, left - 10, y + tile / 2);
    for (let head = 0; head < n_head; head++) {
      const x = left + head * (tile + gap);
      const gain = gains[layer * n_head + head] ?? 1;
      ctx.fillStyle = colours.masked;
      ctx.fillRect(x, y, tile, tile);
      ctx.globalAlpha = gain === 0 ? 0.2 : 1;
      const source = canvases[layer * n_head + head];
      if (source && source.width > 0) ctx.drawImage(source, x, y, tile, tile);
      ctx.globalAlpha = 1;
      if (gain !== 1) {
        ctx.fillStyle = gain === 0 ? '#b3261e' : colours.text;
        ctx.textAlign = 'right';
        ctx.fillText(gain === 0 ? 'muted' : `×${formatGain(gain)}`, x + tile - 4, y + tile - 10);
      }
    }
  }
  return canvasBlob(canvas);
}

export class ExportView {
  constructor(root: HTMLElement, source: ExportSource, onError: (message: string) => void) {
    const box = root.querySelector<HTMLElement>('[data-role="export"]')!;
    const run = (job: () => Promise<void> | void) => async () => {
      try {
        await job();
      } catch (error) {
        onError(`Export failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    const need = () => {
      const analysis = source.analysis();
      if (!analysis) throw new Error('nothing is drawn yet');
      return analysis;
    };
    const fileHeadName = (h: HeadRef) => `L${h.layer}H${h.head}`;
    const jobs: Record<string, () => Promise<void> | void> = {
      'head-png': async () => {
        const a = need();
        save(await headPng(a, source.head(), source.position(), box), `${baseName(a)}-${fileHeadName(source.head())}.png`);
      },
      'head-svg': () => {
        const a = need();
        save(new Blob([headSvg(a, source.head())], { type: 'image/svg+xml' }), `${baseName(a)}-${fileHeadName(source.head())}.svg`);
      },
      'trace-json': () => {
        const a = need();
        save(new Blob([traceJson(a, source.text(), source.gains())], { type: 'application/json' }), `${baseName(a)}-trace.json`);
      },
      'grid-png': async () => {
        const a = need();
        save(await gridPng(source.gridCanvases(), a.n_layer, a.n_head, source.gains(), box), `${baseName(a)}-heads.png`);
      },
    };
    for (const button of box.querySelectorAll<HTMLButtonElement>('button[data-export]')) {
      const job = jobs[button.dataset['export'] ?? ''];
      if (job) button.addEventListener('click', run(job));
    }
  }
}

/**
 * Registry entry (app/views.ts): keeps the last frame, and makes the files
 * from it (and the reader's choices at the click) when a button is pressed.
 */
export const exportView: ViewFactory = ({ root, page }) => {
  let last: Frame | null = null;
  new ExportView(
    root,
    {
      analysis: () => last?.analysis ?? null,
      head: () => last?.state.selectedHead ?? { layer: 0, head: 0 },
      position: () => clampPosition(last?.state.selectedPosition ?? -1, last?.analysis?.T ?? 0),
      text: () => last?.state.text ?? '',
      gains: () => last?.state.gains ?? new Float32Array(0),
      // The grid's canvases in its DOM order, [L x H] (head-grid.ts builds them layer by layer).
      gridCanvases: () => [...root.querySelectorAll<HTMLCanvasElement>('[data-role="head-grid"] canvas.head-canvas')],
    },
    (message) => page.showError(message),
  );
  return {
    label: 'export',
    draw(frame) {
      last = frame;
    },
  };
};
