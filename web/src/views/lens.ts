/**
 * Logit lens view (nostalgebraist 2020; docs/circuits.md): a layer ×
 * position grid of the top token the residual stream would predict if it
 * went straight to ln_f and the unembedding, each cell coloured by that
 * token's probability (viridis); the last row is the model's own
 * prediction. Beside it, the answer's rank and probability at every layer
 * at the selected position. A column header selects that position.
 * Shapes: L+1 rows (the stream entering each layer, then leaving the last),
 * T positions, K = top-k.
 */
import { circuitView } from '../app/circuit-store';
import type { PageActions, ViewFactory } from '../app/view';
import type { LensReply } from '../engine/protocol';
import { formatProbability } from '../state/format';
import type { Figure } from './circuit-figures';
import { addExportButtons } from './circuit-export';
import { inkOn, lutCss, viridis } from './colormap';
import { renderTokenText } from './token-text';
import type { Tooltip } from './tooltip';

/** The label of lens row l of L+1: the stream entering layer l, or the output. */
export function lensRowLabel(l: number, L: number): string {
  return l === L ? 'output' : l === 0 ? 'embeddings' : `after ${l - 1}`;
}

function shortToken(token: string): string {
  const visible = token.replace(/ /g, '·').replace(/\n/g, '↵');
  return visible.length > 9 ? `${visible.slice(0, 8)}…` : visible;
}

export class LensView {
  private readonly grid: HTMLElement;
  private readonly ranks: HTMLElement;
  private readonly status: HTMLElement;
  private drawn: { reply: LensReply; tokens: string[]; model: string } | null = null;

  constructor(root: HTMLElement, private readonly page: PageActions, private readonly tooltip: Tooltip) {
    const box = root.querySelector<HTMLElement>('[data-role="lens"]')!;
    this.status = document.createElement('p');
    this.status.className = 'note';
    this.status.dataset['role'] = 'lens-status';
    const scroller = document.createElement('div');
    scroller.className = 'lens-scroll';
    this.grid = document.createElement('div');
    this.grid.className = 'lens-grid';
    this.grid.dataset['role'] = 'lens-grid';
    this.grid.setAttribute('role', 'table');
    this.grid.setAttribute('aria-label', 'Logit lens: the top token at each layer (rows) and position (columns)');
    scroller.append(this.grid);
    this.ranks = document.createElement('div');
    this.ranks.className = 'lens-ranks';
    this.ranks.dataset['role'] = 'lens-ranks';
    box.append(this.status, scroller, this.ranks);
    addExportButtons(box, 'logit lens grid', () => this.figure(), (m) => page.showError(m));
    this.grid.addEventListener('pointerover', (event) => this.hover(event));
    this.grid.addEventListener('pointerleave', () => this.tooltip.hide());
  }

  private hover(event: PointerEvent): void {
    const cell = (event.target as Element).closest<HTMLElement>('.lens-cell');
    const drawn = this.drawn;
    if (!cell || !drawn) return;
    const l = Number(cell.dataset['row']);
    const t = Number(cell.dataset['col']);
    const { lens } = drawn.reply;
    const P = lens.positions.length;
    const K = lens.top_k;
    const lines: string[] = [`${lensRowLabel(l, lens.n_rows - 1)}, position ${t} (${JSON.stringify(drawn.tokens[t] ?? '')}):`];
    for (let k = 0; k < K; k++) {
      const i = (l * P + t) * K + k;
      lines.push(`${JSON.stringify(lens.top_k_tokens[i] ?? '')} ${formatProbability(lens.top_k_probs[i]!)}`);
    }
    this.tooltip.show([lines.join('\n')], event.clientX, event.clientY);
  }

  render(reply: LensReply | null, error: string | null, tokens: string[], position: number, model: string): void {
    if (!reply) {
      this.status.textContent = error ? `The logit lens could not be computed: ${error}` : 'Computing the logit lens…';
      this.status.dataset['state'] = error ? 'error' : 'pending';
      return;
    }
    if (this.drawn?.reply === reply) return;
    this.drawn = { reply, tokens, model };
    const { lens } = reply;
    // The column header that has the focus gets it back after the rebuild (keyboard users).
    const focused = this.grid.contains(document.activeElement) ? (document.activeElement as HTMLElement).dataset['col'] : undefined;
    const rows = lens.n_rows;
    const P = lens.positions.length;
    const K = lens.top_k;
    this.status.textContent = `Each row reads the residual stream through the final LayerNorm and the unembedding (${reply.lens_ms.toFixed(0)} ms).`;
    this.status.dataset['state'] = 'ready';
    const cells: HTMLElement[] = [];
    const corner = document.createElement('div');
    corner.className = 'lens-corner';
    corner.setAttribute('role', 'columnheader');
    corner.textContent = 'layer \\ position';
    cells.push(corner);
    for (let t = 0; t < P; t++) {
      const head = document.createElement('button');
      head.type = 'button';
      head.className = 'lens-col token';
      head.setAttribute('role', 'columnheader');
      head.dataset['col'] = String(t);
      head.classList.toggle('is-selected', t === position);
      head.setAttribute('aria-pressed', String(t === position));
      head.title = `Position ${t}: select it`;
      renderTokenText(head, tokens[t] ?? '');
      head.addEventListener('click', () => this.page.selectPosition(t));
      cells.push(head);
    }
    // Rows in layer order: the embeddings first, the model's own output last.
    for (let l = 0; l < rows; l++) {
      const label = document.createElement('div');
      label.className = 'lens-row';
      label.setAttribute('role', 'rowheader');
      label.textContent = lensRowLabel(l, rows - 1);
      cells.push(label);
      for (let t = 0; t < P; t++) {
        const i = (l * P + t) * K;
        const prob = lens.top_k_probs[i]!;
        const cell = document.createElement('div');
        cell.className = 'lens-cell';
        cell.setAttribute('role', 'cell');
        cell.dataset['row'] = String(l);
        cell.dataset['col'] = String(t);
        cell.dataset['prob'] = String(prob);
        cell.dataset['id'] = String(lens.top_k_ids[i]);
        cell.classList.toggle('is-selected', t === position);
        cell.style.background = lutCss(viridis, prob);
        cell.style.color = inkOn(viridis, prob);
        cell.textContent = shortToken(lens.top_k_tokens[i] ?? '');
        cells.push(cell);
      }
    }
    this.grid.style.gridTemplateColumns = `auto repeat(${P}, minmax(4.2em, max-content))`;
    this.grid.replaceChildren(...cells);
    if (focused !== undefined) this.grid.querySelector<HTMLElement>(`.lens-col[data-col="${focused}"]`)?.focus();
    this.grid.dataset['rows'] = String(rows);
    this.grid.dataset['cols'] = String(P);
    this.grid.dataset['position'] = String(position);
    this.grid.dataset['answer'] = reply.answer.text;
    this.grid.dataset['foil'] = reply.foil.text;
    this.renderRanks(reply, position);
  }

  private renderRanks(reply: LensReply, position: number): void {
    const { lens, answer } = reply;
    const title = document.createElement('p');
    title.className = 'figure-line';
    const P = lens.positions.length;
    // Without a one-token answer the rows stay (with dashes): the panel keeps its height.
    const known = lens.answer_rank !== undefined && lens.answer_prob !== undefined;
    if (known) {
      const at = document.createElement('span');
      at.className = 'token';
      renderTokenText(at, answer.text);
      title.append('Rank and probability of the answer ', at, ` at position ${position}, layer by layer:`);
    } else {
      title.textContent = 'Pick an answer of one token to see its rank at each layer.';
    }
    const list = document.createElement('ol');
    list.className = 'lens-rank-list';
    const ranks: number[] = [];
    for (let l = 0; l < lens.n_rows; l++) {
      const rank = known ? lens.answer_rank![l * P + position]! : NaN;
      const prob = known ? lens.answer_prob![l * P + position]! : NaN;
      ranks.push(rank);
      const item = document.createElement('li');
      item.dataset['rank'] = String(rank);
      item.dataset['prob'] = String(prob);
      const name = document.createElement('span');
      name.className = 'lens-rank-layer';
      name.textContent = lensRowLabel(l, lens.n_rows - 1);
      const track = document.createElement('span');
      track.className = 'bar-track';
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.transform = `scaleX(${known ? Math.max(0, Math.min(1, prob)) : 0})`;
      track.append(bar);
      const value = document.createElement('span');
      value.className = 'prob';
      value.textContent = known ? `#${rank} · ${formatProbability(prob)}` : '—';
      item.append(name, track, value);
      list.append(item);
    }
    this.ranks.replaceChildren(title, list);
    if (known) this.ranks.dataset['ranks'] = ranks.join(',');
    else delete this.ranks.dataset['ranks'];
  }

  private figure(): { figure: Figure; name: string } | null {
    const drawn = this.drawn;
    if (!drawn) return null;
    const { lens } = drawn.reply;
    const P = lens.positions.length;
    const K = lens.top_k;
    const values = new Float64Array(lens.n_rows * P);
    for (let l = 0; l < lens.n_rows; l++) for (let t = 0; t < P; t++) values[l * P + t] = lens.top_k_probs[(l * P + t) * K]!;
    return {
      name: `headlight-${drawn.model}-lens`,
      figure: {
        kind: 'matrix',
        figure: {
          title: `Logit lens, ${drawn.model}: the top token of each layer's residual stream`,
          rowLabels: Array.from({ length: lens.n_rows }, (_, l) => lensRowLabel(l, lens.n_rows - 1)),
          colLabels: drawn.tokens.map((token, t) => `${t} ${shortToken(token)}`),
          values,
          valueName: 'top_prob',
          cellText: (l, t) => shortToken(lens.top_k_tokens[(l * P + t) * K] ?? ''),
          fill: (l, t) => {
            const p = values[l * P + t]!;
            return { fill: lutCss(viridis, p), ink: inkOn(viridis, p) };
          },
        },
      },
    };
  }
}

/** Registry entry (app/views.ts). */
export const lensView: ViewFactory = ({ root, page, tooltip, circuits }) => {
  const view = new LensView(root, page, tooltip);
  return circuitView('lens', circuits, (frame) => {
    if (!frame.analysis) return;
    const figure = circuits.current('lens');
    view.render(figure?.reply ?? null, figure?.error ?? null, frame.analysis.tokens, frame.position, frame.model.name);
  });
};
