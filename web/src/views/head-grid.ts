/**
 * Head grid: every head's attention pattern as a small heatmap, one row per
 * layer. Each head is a toggle button: click mutes or unmutes it, shift-click
 * solos it (mutes all others; shift-click again undoes), the "mute layer"
 * button beside a row mutes the whole layer. A muted head is dimmed, struck
 * through and says "muted"; a scaled head shows its gain.
 *
 * Keyboard: the grid is one Tab stop; arrows move the focus (column -1 is
 * the layer buttons), Space toggles mute, Enter selects the head for the
 * detail view. Hover or focus shows layer.head and its strongest
 * (query -> key) pair.
 *
 * Redraws only what changed: after a head edit the worker reruns from the
 * lowest edited layer, so the layers below it keep their pixels.
 */
import type { CopyingStatus } from '../app/copying-store';
import type { Analysis } from '../engine/protocol';
import type { ViewFactory } from '../app/view';
import { type AppState, toggleLayer, toggleMute, toggleSolo } from '../state/app-state';
import { formatGain, headName, type HeadRef } from '../state/heads';
import { AttentionHeatmap } from './heatmap';
import { GridLabels } from './head-grid-labels';
import { headTooltip } from './head-grid-tooltip';
import { markHeadTypes } from './head-types';
import { meanFlags } from '../app/mean-ablation';
import type { Tooltip } from './tooltip';

export interface HeadGridActions {
  toggle(layer: number, head: number): void;
  solo(layer: number, head: number): void;
  toggleLayer(layer: number): void;
  select(layer: number, head: number): void;
  /**
   * The reader is about to click this control (the pointer or the focus
   * came to it, or a pointer went down on it): the page may compute the edit
   * it would make ahead of the click. Never changes any state.
   */
  prepare(edit: 'toggle' | 'solo' | 'layer', layer: number, head: number): void;
}

interface HeadCell {
  root: HTMLElement;
  button: HTMLButtonElement;
  heatmap: AttentionHeatmap;
  state: HTMLElement;
  /** The head's type badge (head-types.ts), empty for 'none'. */
  badge: HTMLElement;
}

export class HeadGridView {
  private readonly grid: HTMLElement;
  private cells: HeadCell[] = [];  // [L x H]
  private layerButtons: HTMLButtonElement[] = [];  // [L]
  /** The gain each cell shows [L x H] and whether each layer button says "unmute" [L]: only changes are written. */
  private marks = new Float32Array(0);
  private layerMarks: (boolean | null)[] = [];
  private n_layer = 0;
  private n_head = 0;
  private focus = { layer: 0, head: 0 };  // head -1 = the layer button
  private analysis: Analysis | null = null;
  /** The drawn model's copying scores (app/copying-store.ts): known, being computed, or none. */
  private copying: CopyingStatus = { kind: 'none' };
  /** The head the hover card is shown for (and where), so new copying figures refresh it. */
  private tooltipFor: { button: HTMLButtonElement; x: number | undefined; y: number | undefined } | null = null;
  private drawnIds: Int32Array | null = null;
  private drawnModel = '';
  /** The column labels and head captions, fitted to the column width (head-grid-labels.ts). */
  private readonly labels: GridLabels;
  /** Heads repainted by the last render (for the timing line and tests). */
  lastRepainted = 0;
  private revision = 0;

  constructor(
    root: HTMLElement,
    private readonly actions: HeadGridActions,
    private readonly tooltip: Tooltip,
  ) {
    this.grid = root.querySelector<HTMLElement>('[data-role="head-grid"]')!;
    this.labels = new GridLabels(this.grid);
    this.grid.addEventListener('click', (event) => this.onClick(event));
    this.grid.addEventListener('keydown', (event) => this.onKey(event));
    this.grid.addEventListener('pointermove', (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>('button.head');
      if (button) this.showTooltip(button, event.clientX, event.clientY);
      else this.hideTooltip();
    });
    this.grid.addEventListener('pointerleave', () => this.hideTooltip());
    this.grid.addEventListener('focusin', (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>('button.head');
      if (button && button.matches(':focus-visible')) this.showTooltip(button);
    });
    this.grid.addEventListener('focusout', () => this.hideTooltip());
    // The edit a click would make, computed while the reader aims at it.
    this.grid.addEventListener('pointerover', (event) => this.onAim(event.target, event.shiftKey));
    this.grid.addEventListener('pointerdown', (event) => this.onAim(event.target, event.shiftKey));
    this.grid.addEventListener('focusin', (event) => this.onAim(event.target, false));
    // The columns shrink with the panel (a phone, a blog column, 12 heads at
    // 1280 px): the labels are fitted to the width each time it changes.
    new ResizeObserver(() => this.labels.fit()).observe(this.grid);
  }

  private onAim(target: EventTarget | null, shift: boolean): void {
    if (!(target instanceof Element)) return;
    const layerButton = target.closest<HTMLButtonElement>('button.layer-mute');
    if (layerButton && this.grid.contains(layerButton)) {
      this.actions.prepare('layer', Number(layerButton.dataset['layer']), -1);
      return;
    }
    const button = target.closest<HTMLButtonElement>('button.head');
    if (!button || !this.grid.contains(button)) return;
    this.actions.prepare(shift ? 'solo' : 'toggle', Number(button.dataset['layer']), Number(button.dataset['head']));
  }

  /** Builds the L x H cells (only when the model's shape changes). */
  setShape(n_layer: number, n_head: number): void {
    if (n_layer === this.n_layer && n_head === this.n_head) return;
    this.n_layer = n_layer;
    this.n_head = n_head;
    this.drawnIds = null;
    this.focus = { layer: 0, head: 0 };
    this.grid.style.setProperty('--n-head', String(n_head));
    const children: HTMLElement[] = [];

    const corner = document.createElement('span');
    corner.className = 'grid-corner';
    children.push(corner);
    children.push(...this.labels.setShape(n_layer, n_head));

    this.cells = [];
    this.layerButtons = [];
    for (let layer = 0; layer < n_layer; layer++) {
      const rowLabel = document.createElement('div');
      rowLabel.className = 'grid-row-label';
      const name = document.createElement('span');
      name.textContent = `layer ${layer}`;
      const layerButton = document.createElement('button');
      layerButton.type = 'button';
      layerButton.className = 'layer-mute';
      layerButton.dataset['layer'] = String(layer);
      layerButton.tabIndex = -1;
      rowLabel.append(name, layerButton);
      children.push(rowLabel);
      this.layerButtons.push(layerButton);
      for (let head = 0; head < n_head; head++) {
        const cell = document.createElement('div');
        cell.className = 'head-cell';
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'head';
        button.dataset['layer'] = String(layer);
        button.dataset['head'] = String(head);
        button.tabIndex = layer === 0 && head === 0 ? 0 : -1;
        const heatmap = new AttentionHeatmap();
        heatmap.canvas.className = 'head-canvas';
        heatmap.canvas.setAttribute('aria-hidden', 'true');
        const state = document.createElement('span');
        state.className = 'head-state';
        const badge = document.createElement('span');
        badge.className = 'head-badge';
        button.append(heatmap.canvas, state, badge);
        const caption = document.createElement('span');
        caption.className = 'head-caption';
        const select = document.createElement('button');
        select.type = 'button';
        select.className = 'head-select';
        select.tabIndex = -1;
        select.dataset['layer'] = String(layer);
        select.dataset['head'] = String(head);
        select.textContent = headName({ layer, head });
        select.title = `Show head ${headName({ layer, head })} in the detail view (keyboard: Enter)`;
        caption.append(select);
        cell.append(button, caption);
        children.push(cell);
        this.cells.push({ root: cell, button, heatmap, state, badge });
      }
    }
    this.grid.replaceChildren(...children);
    this.labels.fit();
    this.marks = new Float32Array(n_layer * n_head).fill(NaN);
    this.layerMarks = new Array<boolean | null>(n_layer).fill(null);
    this.setGains(new Float32Array(n_layer * n_head).fill(1));
  }

  /**
   * Draws the heads whose attention may have changed: all of them for a new
   * text or model, else the layers from `fromLayer` up (by default
   * analysis.attention_from_layer; lower when the page skipped drawing an
   * analysis in between).
   */
  render(analysis: Analysis, fromLayer = analysis.attention_from_layer, copying: CopyingStatus = { kind: 'none' }): void {
    const { n_layer: L, n_head: H, T } = analysis;
    this.setShape(L, H);
    const sameTokens =
      this.drawnModel === analysis.model &&
      this.drawnIds !== null &&
      this.drawnIds.length === T &&
      this.drawnIds.every((id, i) => id === analysis.ids[i]);
    const from = sameTokens ? Math.max(0, Math.min(fromLayer, L)) : 0;
    let repainted = 0;
    for (let layer = from; layer < L; layer++) {
      for (let head = 0; head < H; head++) {
        this.cells[layer * H + head]!.heatmap.draw(analysis.attn, (layer * H + head) * T * T, T);
        repainted++;
      }
    }
    this.lastRepainted = repainted;
    this.analysis = analysis;
    this.setCopying(copying);
    this.drawnIds = analysis.ids.slice();
    this.drawnModel = analysis.model;
    this.grid.dataset['tokens'] = String(T);
    this.grid.dataset['repainted'] = String(repainted);
    // Bumped on every render, as the predictions' data-revision: the grid
    // (and the other attention views, drawn with it) may follow the
    // predictions by a frame after a head edit.
    this.revision++;
    this.grid.dataset['revision'] = String(this.revision);
  }

  /**
   * The copying scores of the drawn model, now known or further along: the
   * badges and copy marks again, data-copying on the grid ("computing",
   * "ready", "failed", "none"), and the hover card if it is shown.
   */
  setCopying(copying: CopyingStatus): void {
    this.copying = copying;
    this.grid.dataset['copying'] = copying.kind;
    if (copying.kind === 'computing') this.grid.dataset['copyingProgress'] = copying.fraction.toFixed(3);
    else delete this.grid.dataset['copyingProgress'];
    if (this.analysis) this.setTypes(this.analysis);
    const shown = this.tooltipFor;
    if (shown && shown.button.isConnected && !this.tooltip.element.hidden) this.showTooltip(shown.button, shown.x, shown.y);
  }

  /** The model whose heads are drawn ('' before the first analysis). */
  get modelName(): string {
    return this.drawnModel;
  }

  /** Each head's badges and data-head-types (the legend's filter) from the pass's scores. */
  private setTypes(analysis: Analysis): void {
    const scores = this.copying.kind === 'ready' ? this.copying.scores : undefined;
    for (const [i, cell] of this.cells.entries())
      markHeadTypes(cell.root, cell.badge, analysis.head_types, i, scores);
  }

  /** Shows mute / gain marks from gains [L x H] at once, before the engine answers. */
  setGains(gains: Float32Array): void {
    const H = this.n_head;
    for (let layer = 0; layer < this.n_layer; layer++) {
      let allMuted = true;
      for (let head = 0; head < H; head++) {
        const gain = gains[layer * H + head] ?? 1;
        if (gain !== 0) allMuted = false;
        if (this.marks[layer * H + head] === gain) continue;
        this.marks[layer * H + head] = gain;
        this.setHeadMark(layer, head, gain);
      }
      if (this.layerMarks[layer] === allMuted) continue;
      this.layerMarks[layer] = allMuted;
      const button = this.layerButtons[layer]!;
      button.textContent = allMuted ? 'unmute' : 'mute';
      button.setAttribute('aria-pressed', String(allMuted));
      button.title = allMuted ? `Unmute every head of layer ${layer}` : `Mute every head of layer ${layer}`;
      button.setAttribute('aria-label', `${allMuted ? 'Unmute' : 'Mute'} all heads of layer ${layer}`);
    }
  }

  /** Marks mean-ablated heads at gain 1 "mean" (flags [L x H]); call after setGains. */
  setMeans(flags: Int32Array): void {
    for (const [i, cell] of this.cells.entries()) {
      const mean = flags[i] === 1 && this.marks[i] === 1;
      if (cell.button.classList.contains('is-mean') === mean) continue;
      cell.button.classList.toggle('is-mean', mean);
      cell.state.textContent = mean ? 'mean' : gainMark(this.marks[i] ?? 1);
    }
  }

  setSelected(selected: HeadRef): void {
    for (const [i, cell] of this.cells.entries()) {
      const isSelected = Math.floor(i / this.n_head) === selected.layer && i % this.n_head === selected.head;
      cell.root.classList.toggle('is-selected', isSelected);
      cell.button.setAttribute('aria-current', String(isSelected));
    }
  }

  /** The grid canvases, [L x H], for the PNG export. */
  canvases(): HTMLCanvasElement[] {
    return this.cells.map((cell) => cell.heatmap.canvas);
  }

  private setHeadMark(layer: number, head: number, gain: number): void {
    const cell = this.cells[layer * this.n_head + head];
    if (!cell) return;
    const muted = gain === 0;
    cell.button.classList.toggle('is-muted', muted);
    cell.button.classList.toggle('is-scaled', !muted && gain !== 1);
    cell.button.setAttribute('aria-pressed', String(muted));
    cell.button.dataset['gain'] = String(gain);
    cell.state.textContent = gainMark(gain);
    cell.button.setAttribute(
      'aria-label',
      `Layer ${layer} head ${head}${muted ? ', muted' : gain !== 1 ? `, gain ${formatGain(gain)}` : ''}. ` +
        'Space: mute or unmute. Enter: show in detail. Shift-click: solo.',
    );
  }

  private onClick(event: MouseEvent): void {
    const target = event.target as Element;
    const select = target.closest<HTMLButtonElement>('button.head-select');
    if (select) {
      this.actions.select(Number(select.dataset['layer']), Number(select.dataset['head']));
      return;
    }
    const layerButton = target.closest<HTMLButtonElement>('button.layer-mute');
    if (layerButton) {
      this.moveFocus(Number(layerButton.dataset['layer']), -1, false);
      this.actions.toggleLayer(Number(layerButton.dataset['layer']));
      return;
    }
    const button = target.closest<HTMLButtonElement>('button.head');
    if (!button || !this.grid.contains(button)) return;
    const layer = Number(button.dataset['layer']);
    const head = Number(button.dataset['head']);
    this.moveFocus(layer, head, false);
    // event.detail 0 = a keyboard "click" (Space); Enter is handled in onKey.
    if (event.shiftKey) this.actions.solo(layer, head);
    else this.actions.toggle(layer, head);
  }

  private onKey(event: KeyboardEvent): void {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const { layer, head } = this.focus;
    const moves: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
    };
    const move = moves[event.key];
    if (move) {
      event.preventDefault();
      this.moveFocus(layer + move[0], head + move[1], true);
      return;
    }
    if (event.key === 'Home' || event.key === 'End') {
      event.preventDefault();
      this.moveFocus(layer, event.key === 'Home' ? 0 : this.n_head - 1, true);
      return;
    }
    if (event.key === 'Enter' && head >= 0 && (event.target as Element).matches('button.head')) {
      // Enter selects; the browser would otherwise "click" (= mute).
      event.preventDefault();
      this.actions.select(layer, head);
    }
  }

  private moveFocus(layer: number, head: number, focus: boolean): void {
    if (this.n_layer === 0) return;
    const l = Math.max(0, Math.min(this.n_layer - 1, layer));
    const h = Math.max(-1, Math.min(this.n_head - 1, head));
    const previous = this.focusTarget();
    this.focus = { layer: l, head: h };
    const next = this.focusTarget();
    if (previous && previous !== next) previous.tabIndex = -1;
    if (next) {
      next.tabIndex = 0;
      if (focus) next.focus();
    }
  }

  private showTooltip(button: HTMLButtonElement, x?: number, y?: number): void {
    const content = headTooltip(button, this.analysis, this.copying);
    this.tooltipFor = { button, x, y };
    if (x === undefined || y === undefined) this.tooltip.showBeside(content, button);
    else this.tooltip.show(content, x, y);
  }

  private hideTooltip(): void {
    this.tooltipFor = null;
    this.tooltip.hide();
  }

  private focusTarget(): HTMLButtonElement | undefined {
    const { layer, head } = this.focus;
    return head < 0 ? this.layerButtons[layer] : this.cells[layer * this.n_head + head]?.button;
  }
}

/** What a head's corner says about its gain: "muted", "×2" or nothing. */
function gainMark(gain: number): string {
  return gain === 0 ? 'muted' : gain !== 1 ? `×${formatGain(gain)}` : '';
}

/** The gains a grid control changes: the same function for its click and for its prepare. */
function gridEdit(kind: 'toggle' | 'solo' | 'layer', layer: number, head: number): (state: AppState) => void {
  if (kind === 'layer') return (state) => toggleLayer(state, layer);
  return kind === 'solo' ? (state) => toggleSolo(state, layer, head) : (state) => toggleMute(state, layer, head);
}

/**
 * Registry entry (app/views.ts): heatmaps on a new analysis (from the lowest
 * changed layer), marks as soon as the gains change, the selection ring.
 */
export const headGridView: ViewFactory = ({ root, page, tooltip, copying }) => {
  const actions: HeadGridActions = {
    toggle: (layer, head) => page.edit(gridEdit('toggle', layer, head)),
    solo: (layer, head) => page.edit(gridEdit('solo', layer, head)),
    toggleLayer: (layer) => page.edit(gridEdit('layer', layer, -1)),
    select: (layer, head) => page.selectHead(layer, head),
    prepare: (kind, layer, head) => page.prepareEdit(gridEdit(kind, layer, head)),
  };
  const grid = new HeadGridView(root, actions, tooltip);
  // Scores computed after the load arrive between frames: the marks and the hover card follow.
  copying.subscribe(() => {
    if (grid.modelName) grid.setCopying(copying.statusOf(grid.modelName));
  });
  return {
    label: 'grid',
    draw({ reason, analysis, fromLayer, state, model, head }) {
      if (reason === 'gains') {
        grid.setShape(model.n_layer, model.n_head);
        grid.setGains(state.gains);
        grid.setMeans(meanFlags(state));
      } else if (reason === 'analysis' && analysis) {
        grid.render(analysis, fromLayer, copying.statusOf(analysis.model));
        grid.setGains(state.gains);
        grid.setMeans(meanFlags(state));
        grid.setSelected(head);
      } else if (reason === 'selection') {
        grid.setSelected(head);
      }
    },
    timingNote: () => `for ${grid.lastRepainted} heads`,
  };
};
