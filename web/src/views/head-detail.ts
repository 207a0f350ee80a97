/**
 * Head detail: the selected head large. Heatmap: row = query token, column =
 * key token, colour = attention weight, future cells grey; hover a cell for
 * its exact weight, click a row to select that query position. Line view (as
 * in BertViz): query tokens left, key tokens right, line opacity = weight;
 * hover a token to see only its lines. A slider scales the head's output
 * from 0 (muted) to 2.
 */
import type { Analysis } from '../engine/protocol';
import type { ViewFactory } from '../app/view';
import { setGain } from '../state/app-state';
import { formatGain, headName, type HeadRef, MAX_GAIN } from '../state/heads';
import { clampPosition } from '../state/position';
import type { ViewMode } from '../state/url-state';
import {
  drawHeatmap,
  drawLines,
  type HeatmapGeometry,
  headOffset,
  linesRowHeight,
  type LinesGeometry,
  themeColours,
} from './attention-plot';
import { renderTokenText } from './token-text';
import type { Tooltip } from './tooltip';

export interface HeadDetailActions {
  setGain(layer: number, head: number, gain: number): void;
  setView(view: ViewMode): void;
  selectPosition(position: number): void;
}

export class HeadDetailView {
  private readonly title: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly frame: HTMLElement;
  private readonly slider: HTMLInputElement;
  private readonly gainValue: HTMLOutputElement;
  private readonly viewButtons: HTMLButtonElement[];
  private analysis: Analysis | null = null;
  private head: HeadRef = { layer: 0, head: 0 };
  private position = -1;
  private view: ViewMode = 'heatmap';
  private geometry: HeatmapGeometry | LinesGeometry | null = null;
  private focus: { side: 'query' | 'key'; index: number } | null = null;
  private frameWidth = 0;
  private pending = false;

  constructor(
    root: HTMLElement,
    private readonly actions: HeadDetailActions,
    private readonly tooltip: Tooltip,
  ) {
    const get = <T extends HTMLElement>(role: string) =>
      root.querySelector<T>(`[data-role="${role}"]`)!;
    this.title = get('detail-title');
    this.canvas = get<HTMLCanvasElement>('detail-canvas');
    this.frame = get('detail-frame');
    this.slider = get<HTMLInputElement>('gain-slider');
    this.gainValue = get<HTMLOutputElement>('gain-value');
    this.viewButtons = [...root.querySelectorAll<HTMLButtonElement>('[data-role="view-toggle"] button')];
    this.slider.max = String(MAX_GAIN);
    this.slider.addEventListener('input', () => {
      const gain = Number(this.slider.value);
      this.showGain(gain);
      this.actions.setGain(this.head.layer, this.head.head, gain);
    });
    for (const button of this.viewButtons) {
      button.addEventListener('click', () => this.actions.setView(button.dataset['view'] as ViewMode));
    }
    this.canvas.addEventListener('pointermove', (event) => this.onPointer(event));
    this.canvas.addEventListener('pointerleave', () => {
      this.tooltip.hide();
      if (this.focus) {
        this.focus = null;
        this.schedule();
      }
    });
    this.canvas.addEventListener('click', (event) => {
      const hit = this.hit(event);
      if (hit && hit.query >= 0) this.actions.selectPosition(hit.query);
    });
    new ResizeObserver(() => {
      const width = Math.round(this.frame.clientWidth);
      if (width !== this.frameWidth) {
        this.frameWidth = width;
        this.schedule();
      }
    }).observe(this.frame);
    window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => this.schedule());
  }

  render(analysis: Analysis, head: HeadRef, position: number, gain: number, view: ViewMode): void {
    this.analysis = analysis;
    this.head = head;
    this.position = position;
    this.view = view;
    this.title.textContent = `Head ${headName(head)}`;
    this.setGain(gain);
    for (const button of this.viewButtons) {
      button.setAttribute('aria-pressed', String(button.dataset['view'] === view));
    }
    this.canvas.dataset['view'] = view;
    this.canvas.setAttribute(
      'aria-label',
      `Attention of layer ${head.layer} head ${head.head} over ${analysis.T} tokens, ${
        view === 'heatmap' ? 'as a heatmap' : 'as lines from query tokens to key tokens'
      }`,
    );
    this.draw();
  }

  /** Moves the slider without firing (the state changed elsewhere). */
  setGain(gain: number): void {
    if (document.activeElement !== this.slider) this.slider.value = String(gain);
    this.showGain(gain);
  }

  private showGain(gain: number): void {
    this.gainValue.textContent = gain === 0 ? 'muted' : `×${formatGain(gain)}`;
    this.slider.setAttribute('aria-valuetext', gain === 0 ? 'muted' : `gain ${formatGain(gain)}`);
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  private draw(): void {
    const analysis = this.analysis;
    if (!analysis) return;
    const width = this.frame.clientWidth || 480;
    const T = analysis.T;
    const height = this.view === 'heatmap' ? width : Math.max(120, T * linesRowHeight(T) + 8);
    const dpr = Math.min(window.devicePixelRatio || 1, 3);
    const pixelWidth = Math.round(width * dpr);
    const pixelHeight = Math.round(height * dpr);
    if (this.canvas.width !== pixelWidth) this.canvas.width = pixelWidth;
    if (this.canvas.height !== pixelHeight) this.canvas.height = pixelHeight;
    this.canvas.style.height = `${height}px`;
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const colours = themeColours(this.canvas);
    const position = clampPosition(this.position, T);
    this.geometry =
      this.view === 'heatmap'
        ? drawHeatmap(ctx, width, height, analysis, this.head.layer, this.head.head, position, colours)
        : drawLines(ctx, width, height, analysis, this.head.layer, this.head.head, position, this.focus, colours);
    // Geometry in CSS px, for hit tests in the browser tests.
    const g = this.geometry;
    this.canvas.dataset['geometry'] = JSON.stringify(g);
    this.canvas.dataset['head'] = headName(this.head);
  }

  /** (query, key) under the pointer; key -1 when over a query label, query -1 over a key label. */
  private hit(event: MouseEvent): { query: number; key: number } | null {
    const g = this.geometry;
    if (!g) return null;
    const x = event.offsetX;
    const y = event.offsetY;
    if (g.kind === 'heatmap') {
      const query = Math.floor((y - g.y0) / g.cell);
      const key = Math.floor((x - g.x0) / g.cell);
      if (query < 0 || query >= g.T) return null;
      if (x < g.x0) return { query, key: -1 };
      if (key < 0 || key >= g.T) return null;
      return { query, key };
    }
    const index = Math.floor((y - g.y0) / g.row);
    if (index < 0 || index >= g.T) return null;
    if (x <= g.leftX) return { query: index, key: -1 };
    if (x >= g.rightX) return { query: -1, key: index };
    return null;
  }

  private onPointer(event: PointerEvent): void {
    const analysis = this.analysis;
    const hit = this.hit(event);
    if (!analysis || !hit) {
      this.tooltip.hide();
      if (this.focus) {
        this.focus = null;
        this.schedule();
      }
      return;
    }
    if (this.geometry?.kind === 'lines') {
      const focus = hit.key < 0 ? { side: 'query' as const, index: hit.query } : { side: 'key' as const, index: hit.key };
      if (focus.side !== this.focus?.side || focus.index !== this.focus?.index) {
        this.focus = focus;
        this.canvas.dataset['focus'] = `${focus.side}:${focus.index}`;
        this.schedule();
      }
      const token = this.tokenChip(analysis, focus.index);
      this.tooltip.show(
        [
          focus.side === 'query' ? 'query ' : 'key ',
          token,
          ` (${focus.index}) · ${focus.side === 'query' ? 'click to select' : 'lines from the queries that read it'}`,
        ],
        event.clientX,
        event.clientY,
      );
      return;
    }
    if (hit.key < 0) {
      this.tooltip.show(['query ', this.tokenChip(analysis, hit.query), ` (${hit.query}) · click to select`], event.clientX, event.clientY);
      return;
    }
    const { T } = analysis;
    const content: (Node | string)[] = [
      'query ',
      this.tokenChip(analysis, hit.query),
      ` (${hit.query}) → key `,
      this.tokenChip(analysis, hit.key),
      ` (${hit.key})`,
    ];
    const value = document.createElement('div');
    value.className = 'tooltip-value';
    if (hit.key > hit.query) {
      value.textContent = 'future position: the model cannot look here';
    } else {
      const weight = analysis.attn[headOffset(analysis, this.head.layer, this.head.head) + hit.query * T + hit.key]!;
      value.textContent = `attention weight ${weight.toFixed(6)}`;
      value.dataset['weight'] = String(weight);
    }
    content.push(value);
    this.tooltip.show(content, event.clientX, event.clientY);
  }

  private tokenChip(analysis: Analysis, index: number): HTMLElement {
    const chip = document.createElement('span');
    chip.className = 'token';
    renderTokenText(chip, analysis.tokens[index] ?? '');
    return chip;
  }
}

/** Registry entry (app/views.ts): the selected head, on a new analysis or selection. */
export const headDetailView: ViewFactory = ({ root, page, tooltip }) => {
  const detail = new HeadDetailView(
    root,
    {
      setGain: (layer, head, gain) => page.edit((state) => setGain(state, layer, head, gain)),
      setView: (view) => page.setDisplay('view', view),
      selectPosition: (t) => page.selectPosition(t),
    },
    tooltip,
  );
  return {
    label: 'detail',
    draw({ reason, analysis, state, head, position }) {
      if ((reason !== 'analysis' && reason !== 'selection') || !analysis) return;
      const gain = state.gains[head.layer * analysis.n_head + head.head] ?? 1;
      detail.render(analysis, head, position, gain, state.view);
    },
  };
};
