/**
 * Direct effect bars (direct logit attribution, docs/circuits.md): how much
 * each head's output (with its gain), each MLP's, the embeddings and the
 * biases push logit(answer) − logit(foil) at the selected position, with
 * ln_f's scale frozen at the real final residual. Grouped by layer, zero in
 * the middle, blue toward the answer and red toward the foil. Under the
 * bars the sum of the parts against the real logit difference, and the
 * error. A head's row selects that head.
 */
import { circuitView } from '../app/circuit-store';
import type { PageActions, ViewFactory } from '../app/view';
import type { LensReply } from '../engine/protocol';
import type { BarFigure } from './circuit-figures';
import { addExportButtons } from './circuit-export';
import { renderTokenText } from './token-text';

type Dla = NonNullable<LensReply['lens']['dla']>;

/** The parts in drawing order: per layer its heads then its MLP, then embeddings and biases. [label, value, head?] */
export function dlaParts(dla: Dla, n_layer: number, n_head: number, attnOnly: boolean) {
  const parts: { label: string; value: number; layer: number; head: number | null }[] = [];
  for (let l = 0; l < n_layer; l++) {
    for (let h = 0; h < n_head; h++) parts.push({ label: `head ${l}.${h}`, value: dla.heads[l * n_head + h]!, layer: l, head: h });
    if (!attnOnly) parts.push({ label: `MLP ${l}`, value: dla.mlps[l]!, layer: l, head: null });
  }
  parts.push({ label: 'embeddings', value: dla.embed, layer: -1, head: null });
  parts.push({ label: 'biases', value: dla.bias, layer: -1, head: null });
  return parts;
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
}

export class AttributionView {
  private readonly list: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly status: HTMLElement;
  private drawn: { dla: Dla; parts: ReturnType<typeof dlaParts>; model: string; answer: string; foil: string } | null = null;

  constructor(root: HTMLElement, private readonly page: PageActions) {
    const box = root.querySelector<HTMLElement>('[data-role="attribution"]')!;
    this.status = document.createElement('p');
    this.status.className = 'figure-line';
    this.status.dataset['role'] = 'dla-status';
    this.list = document.createElement('div');
    this.list.className = 'dla-list';
    this.list.dataset['role'] = 'dla-bars';
    this.summary = document.createElement('p');
    this.summary.className = 'figure-line dla-summary';
    this.summary.dataset['role'] = 'dla-summary';
    box.append(this.status, this.list, this.summary);
    addExportButtons(box, 'direct effects', () => this.figure(), (m) => page.showError(m));
  }

  render(reply: LensReply | null, error: string | null, model: { name: string; n_layer: number; n_head: number; attn_only: boolean }): void {
    if (!reply) {
      this.status.textContent = error ? `The direct effects could not be computed: ${error}` : 'Computing the direct effects…';
      return;
    }
    const dla = reply.lens.dla;
    if (!dla) {
      this.status.textContent = 'Pick an answer and a foil of one token each to see each part\'s push.';
      // The bars stay, empty: the panel keeps its height.
      for (const bar of this.list.querySelectorAll<HTMLElement>('.dla-bar')) bar.style.width = '0';
      for (const value of this.list.querySelectorAll<HTMLElement>('.dla-value')) value.textContent = '—';
      for (const row of this.list.querySelectorAll<HTMLElement>('.dla-row')) row.dataset['value'] = '';
      this.summary.textContent = 'Sum of the parts — · real logit difference —';
      this.drawn = null;
      delete this.summary.dataset['error'];
      return;
    }
    if (this.drawn?.dla === dla) return;  // the same figures (e.g. a head selected from a row): the focus stays
    const parts = dlaParts(dla, model.n_layer, model.n_head, model.attn_only);
    this.drawn = { dla, parts, model: model.name, answer: reply.answer.text, foil: reply.foil.text };
    const answer = document.createElement('span');
    answer.className = 'token';
    renderTokenText(answer, reply.answer.text);
    const foil = document.createElement('span');
    foil.className = 'token';
    renderTokenText(foil, reply.foil.text);
    this.status.replaceChildren('Push of each part on logit(', answer, ') − logit(', foil, `) at position ${dla.position}:`);
    const scale = Math.max(1e-9, ...parts.map((p) => Math.abs(p.value)));
    // One group per layer (its heads, then its MLP), then the embeddings and biases.
    const groups: HTMLElement[] = [];
    let group: HTMLElement | null = null;
    let layer = -2;
    for (const part of parts) {
      if (part.layer !== layer || !group) {
        layer = part.layer;
        group = document.createElement('div');
        group.className = 'dla-group';
        const heading = document.createElement('div');
        heading.className = 'dla-layer';
        heading.textContent = layer >= 0 ? `layer ${layer}` : 'embeddings and biases';
        group.append(heading);
        groups.push(group);
      }
      const row = document.createElement(part.head !== null ? 'button' : 'div');
      row.className = 'dla-row';
      if (row instanceof HTMLButtonElement) {
        row.type = 'button';
        const { head } = part;
        row.title = `${part.label}: ${signed(part.value)} (select the head)`;
        row.addEventListener('click', () => this.page.selectHead(part.layer, head!));
      }
      row.dataset['value'] = String(part.value);
      row.dataset['part'] = part.label;
      const label = document.createElement('span');
      label.className = 'dla-label';
      label.textContent = part.label;
      const track = document.createElement('span');
      track.className = 'dla-track';
      const bar = document.createElement('span');
      bar.className = `dla-bar ${part.value >= 0 ? 'is-toward' : 'is-away'}`;
      const half = (Math.abs(part.value) / scale) * 50;
      bar.style.left = `${part.value >= 0 ? 50 : 50 - half}%`;
      bar.style.width = `${half}%`;
      track.append(bar);
      const value = document.createElement('span');
      value.className = 'dla-value';
      value.textContent = signed(part.value);
      row.append(label, track, value);
      group.append(row);
    }
    this.list.replaceChildren(...groups);
    const sum = parts.reduce((s, p) => s + p.value, 0);
    const err = Math.abs(sum - dla.actual);
    this.summary.textContent =
      `Sum of the parts ${signed(sum)} · real logit difference ${signed(dla.actual)} · error ${err.toExponential(1)}`;
    this.summary.dataset['sum'] = String(sum);
    this.summary.dataset['actual'] = String(dla.actual);
    this.summary.dataset['error'] = String(err);
  }

  private figure(): { figure: { kind: 'bars'; figure: BarFigure }; name: string } | null {
    const drawn = this.drawn;
    if (!drawn) return null;
    const sum = drawn.parts.reduce((s, p) => s + p.value, 0);
    return {
      name: `headlight-${drawn.model}-direct-effects`,
      figure: {
        kind: 'bars',
        figure: {
          title: `Direct effect on logit(${JSON.stringify(drawn.answer)}) − logit(${JSON.stringify(drawn.foil)}) at position ${drawn.dla.position}, ${drawn.model}`,
          labels: drawn.parts.map((p) => p.label),
          values: drawn.parts.map((p) => p.value),
          valueName: 'logit_difference',
          notes: [`sum of the parts ${sum.toFixed(6)} · real logit difference ${drawn.dla.actual.toFixed(6)} · error ${Math.abs(sum - drawn.dla.actual).toExponential(2)}`],
        },
      },
    };
  }
}

/** Registry entry (app/views.ts). */
export const attributionView: ViewFactory = ({ root, page, circuits }) => {
  const view = new AttributionView(root, page);
  return circuitView('attribution', circuits, (frame) => {
    if (!frame.analysis) return;
    const figure = circuits.current('lens');
    view.render(figure?.reply ?? null, figure?.error ?? null, frame.model);
  });
};
