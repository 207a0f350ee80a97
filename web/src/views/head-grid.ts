/**
 * Head grid: every head's attention pattern as a small heatmap, one row per
 * layer. Each head is a button: click (or Space/Enter) mutes or unmutes it;
 * a muted head is dimmed, struck through and says "muted".
 */
import type { Analysis } from '../engine/protocol';
import { AttentionHeatmap } from './heatmap';

interface HeadCell {
  button: HTMLButtonElement;
  heatmap: AttentionHeatmap;
  state: HTMLElement;
}

export class HeadGridView {
  private readonly grid: HTMLElement;
  private cells: HeadCell[] = [];  // [L x H]
  private n_layer = 0;
  private n_head = 0;

  constructor(
    root: HTMLElement,
    private readonly onToggle: (layer: number, head: number) => void,
  ) {
    this.grid = root.querySelector<HTMLElement>('[data-role="head-grid"]')!;
    this.grid.addEventListener('click', (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>('button.head');
      if (!button || !this.grid.contains(button)) return;
      this.onToggle(Number(button.dataset['layer']), Number(button.dataset['head']));
    });
  }

  /** Builds the L x H cells (only when the model's shape changes). */
  setShape(n_layer: number, n_head: number): void {
    if (n_layer === this.n_layer && n_head === this.n_head) return;
    this.n_layer = n_layer;
    this.n_head = n_head;
    this.grid.style.setProperty('--n-head', String(n_head));
    const children: HTMLElement[] = [];

    const corner = document.createElement('span');
    corner.className = 'grid-corner';
    children.push(corner);
    for (let head = 0; head < n_head; head++) {
      const label = document.createElement('span');
      label.className = 'grid-col-label';
      label.textContent = `head ${head}`;
      children.push(label);
    }

    this.cells = [];
    for (let layer = 0; layer < n_layer; layer++) {
      const rowLabel = document.createElement('span');
      rowLabel.className = 'grid-row-label';
      rowLabel.textContent = `layer ${layer}`;
      children.push(rowLabel);
      for (let head = 0; head < n_head; head++) {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'head';
        button.dataset['layer'] = String(layer);
        button.dataset['head'] = String(head);
        const heatmap = new AttentionHeatmap();
        heatmap.canvas.className = 'head-canvas';
        heatmap.canvas.setAttribute('aria-hidden', 'true');
        const caption = document.createElement('span');
        caption.className = 'head-caption';
        const name = document.createElement('span');
        name.className = 'head-name';
        name.textContent = `${layer}.${head}`;
        const state = document.createElement('span');
        state.className = 'head-state';
        caption.append(name, state);
        button.append(heatmap.canvas, caption);
        children.push(button);
        this.cells.push({ button, heatmap, state });
        this.setMuted(layer, head, false);
      }
    }
    this.grid.replaceChildren(...children);
  }

  /** Draws every head; the mute marks follow `gains` [L x H], the reader's latest choice. */
  render(analysis: Analysis, gains: Float32Array): void {
    const { n_layer: L, n_head: H, T } = analysis;
    this.setShape(L, H);
    for (let layer = 0; layer < L; layer++) {
      for (let head = 0; head < H; head++) {
        const cell = this.cells[layer * H + head]!;
        cell.heatmap.draw(analysis.attn, (layer * H + head) * T * T, T);
        this.setMuted(layer, head, gains[layer * H + head] === 0);
      }
    }
    this.grid.dataset['tokens'] = String(T);
  }

  /** Shows the mute state at once, before the engine answers. */
  setMuted(layer: number, head: number, muted: boolean): void {
    const cell = this.cells[layer * this.n_head + head];
    if (!cell) return;
    cell.button.classList.toggle('is-muted', muted);
    cell.button.setAttribute('aria-pressed', String(muted));
    cell.state.textContent = muted ? 'muted' : '';
    cell.button.title = `Layer ${layer}, head ${head}: ${
      muted ? 'muted (output × 0). Click to restore.' : 'click to mute (output × 0).'
    }`;
    cell.button.setAttribute(
      'aria-label',
      `Layer ${layer} head ${head}${muted ? ', muted' : ''}. Toggle mute.`,
    );
  }
}
