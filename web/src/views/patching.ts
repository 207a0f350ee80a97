/**
 * Activation patching maps (docs/circuits.md): the corrupted prompt run
 * with one part taken from the clean run, as the share of the metric's gap
 * it recovers, recovery = (patched − corrupted) / (clean − corrupted).
 * Heads: every head's z at every position, [L][H]; residual: the stream
 * entering each layer (and ln_f's input) at one position, [L+1][T]. A
 * diverging map (RdBu, white at 0, blue at +1 = all recovered); hover a cell
 * for its value. A head cell is a button: clicking it (or Space / Enter)
 * patches that head live in the corrupted run (the compare panel's
 * predictions move), and again removes the patch.
 */
import { circuitView } from '../app/circuit-store';
import type { Frame, PageActions, ViewFactory } from '../app/view';
import type { PatchMapsReply } from '../engine/protocol';
import { headName, type HeadRef, sortHeads } from '../state/heads';
import { divergingCss, type Figure } from './circuit-figures';
import { addExportButtons } from './circuit-export';
import type { Tooltip } from './tooltip';
import { lensRowLabel } from './lens';

function percent(x: number): string {
  return Number.isNaN(x) ? '—' : `${(x * 100).toFixed(0)}%`;
}

function cellText(x: number): string {
  return Number.isNaN(x) ? '' : x.toFixed(2);
}

export class PatchingView {
  private readonly heads: HTMLElement;
  private readonly residual: HTMLElement;
  private readonly status: HTMLElement;
  private drawn: { reply: PatchMapsReply; model: string } | null = null;

  constructor(root: HTMLElement, private readonly page: PageActions, private readonly tooltip: Tooltip, private readonly patched: () => HeadRef[]) {
    const box = root.querySelector<HTMLElement>('[data-role="patching"]')!;
    this.status = document.createElement('p');
    this.status.className = 'note';
    this.status.dataset['role'] = 'patching-status';
    const headsTitle = document.createElement('h4');
    headsTitle.textContent = 'Each head (all positions)';
    this.heads = document.createElement('div');
    this.heads.className = 'patch-heads';
    this.heads.dataset['role'] = 'patch-heads';
    this.heads.setAttribute('role', 'group');
    this.heads.setAttribute('aria-label', 'Recovery of each head, rows are layers; press a head to patch it');
    const residualTitle = document.createElement('h4');
    residualTitle.textContent = 'The residual stream (each layer × position)';
    const scroller = document.createElement('div');
    scroller.className = 'lens-scroll';
    this.residual = document.createElement('div');
    this.residual.className = 'patch-residual';
    this.residual.dataset['role'] = 'patch-residual';
    this.residual.setAttribute('role', 'img');
    scroller.append(this.residual);
    const legend = document.createElement('p');
    legend.className = 'note patch-legend';
    const swatch = (v: number, text: string) => {
      const s = document.createElement('span');
      s.className = 'patch-swatch';
      s.style.background = divergingCss(v, 1).fill;
      s.textContent = text;
      s.style.color = divergingCss(v, 1).ink;
      return s;
    };
    legend.append('Recovery: ', swatch(-1, '−100%'), swatch(0, '0'), swatch(1, '+100%'), ' (blue: patching it restores the clean answer)');
    box.append(this.status, legend, headsTitle, this.heads);
    addExportButtons(box, 'head patching map', () => this.figure('heads'), (m) => page.showError(m));
    box.append(residualTitle, scroller);
    addExportButtons(box, 'residual patching map', () => this.figure('residual'), (m) => page.showError(m));
    for (const grid of [this.heads, this.residual]) {
      grid.addEventListener('pointerover', (event) => {
        const cell = (event.target as Element).closest<HTMLElement>('[data-recovery]');
        if (cell) this.tooltip.show([cell.dataset['tip'] ?? ''], event.clientX, event.clientY);
      });
      grid.addEventListener('pointerleave', () => this.tooltip.hide());
    }
    this.heads.addEventListener('focusin', (event) => {
      const cell = (event.target as Element).closest<HTMLElement>('[data-recovery]');
      if (cell) this.tooltip.showBeside([cell.dataset['tip'] ?? ''], cell);
    });
    this.heads.addEventListener('focusout', () => this.tooltip.hide());
  }

  private toggle(ref: HeadRef): void {
    const now = this.patched();
    const has = now.some((h) => h.layer === ref.layer && h.head === ref.head);
    const next = has ? now.filter((h) => h.layer !== ref.layer || h.head !== ref.head) : sortHeads([...now, ref]);
    this.page.setCircuit({ patchedHeads: next });
  }

  render(reply: PatchMapsReply | null, error: string | null, hasCorrupted: boolean, model: string): void {
    const box = this.status.parentElement!;
    box.hidden = !hasCorrupted;
    if (!reply) {
      this.status.textContent = error ? 'No maps: see the message above.' : hasCorrupted ? 'Computing the maps…' : '';
      if (error || !hasCorrupted) {
        this.heads.replaceChildren();
        this.residual.replaceChildren();
        this.drawn = null;
      }
      return;
    }
    const patched = new Set(this.patched().map(headName));
    // The same maps again (a patch was toggled): only the pressed states change, the focus stays.
    if (this.drawn?.reply === reply) {
      this.markPatched(patched);
      return;
    }
    this.drawn = { reply, model };
    const { maps } = reply;
    const { n_layer: L, n_head: H, T } = maps;
    const metricName = maps.metric_kind === 'logprob' ? 'log p(answer)' : 'logit difference';
    this.status.textContent =
      `${metricName}: clean ${maps.clean.toFixed(3)}, corrupted ${maps.corrupted.toFixed(3)}: 100% = the clean run's metric.`;
    this.status.dataset['metric'] = maps.metric_kind;
    const headCells: HTMLElement[] = [document.createElement('span')];
    for (let h = 0; h < H; h++) {
      const label = document.createElement('span');
      label.className = 'patch-label';
      label.textContent = `h${h}`;
      headCells.push(label);
    }
    for (let l = 0; l < L; l++) {
      const label = document.createElement('span');
      label.className = 'patch-label';
      label.textContent = `L${l}`;
      headCells.push(label);
      for (let h = 0; h < H; h++) {
        const value = maps.head_z[l * H + h]!;
        const cell = document.createElement('button');
        cell.type = 'button';
        cell.className = 'patch-cell';
        const { fill, ink } = divergingCss(value, 1);
        cell.style.background = fill;
        cell.style.color = ink;
        cell.textContent = cellText(value);
        cell.dataset['head'] = headName({ layer: l, head: h });
        cell.dataset['recovery'] = String(value);
        cell.dataset['metric'] = String(maps.head_z_metric[l * H + h]);
        cell.addEventListener('click', () => this.toggle({ layer: l, head: h }));
        headCells.push(cell);
      }
    }
    this.heads.style.gridTemplateColumns = `auto repeat(${H}, minmax(2.6em, 1fr))`;
    this.heads.replaceChildren(...headCells);
    this.markPatched(patched);
    this.heads.dataset['shape'] = `${L}x${H}`;

    const residualCells: HTMLElement[] = [document.createElement('span')];
    for (let t = 0; t < T; t++) {
      const label = document.createElement('span');
      label.className = 'patch-label patch-token';
      label.textContent = (reply.clean_tokens[t] ?? '').replace(/ /g, '·');
      label.title = `position ${t}`;
      residualCells.push(label);
    }
    for (let l = 0; l <= L; l++) {
      const label = document.createElement('span');
      label.className = 'patch-label';
      label.textContent = lensRowLabel(l, L);
      residualCells.push(label);
      for (let t = 0; t < T; t++) {
        const value = maps.residual[l * T + t]!;
        const cell = document.createElement('span');
        cell.className = 'patch-cell is-small';
        cell.style.background = divergingCss(value, 1).fill;
        cell.dataset['recovery'] = String(value);
        cell.dataset['tip'] = `${lensRowLabel(l, L)}, position ${t} (${JSON.stringify(reply.clean_tokens[t] ?? '')} → ${JSON.stringify(reply.corrupted_tokens[t] ?? '')}): recovery ${percent(value)}`;
        residualCells.push(cell);
      }
    }
    this.residual.style.gridTemplateColumns = `auto repeat(${T}, minmax(1.6em, 1fr))`;
    this.residual.replaceChildren(...residualCells);
    this.residual.dataset['shape'] = `${L + 1}x${T}`;
    this.residual.setAttribute('aria-label', `Recovery of the residual stream at each layer (rows, ${L + 1}) and position (columns, ${T})`);
  }

  /** aria-pressed, label and tooltip of each head cell for the patched heads (by name). */
  private markPatched(patched: Set<string>): void {
    for (const cell of this.heads.querySelectorAll<HTMLElement>('button.patch-cell')) {
      const name = cell.dataset['head']!;
      const on = patched.has(name);
      const recovery = percent(Number(cell.dataset['recovery']));
      cell.setAttribute('aria-pressed', String(on));
      cell.setAttribute('aria-label', `head ${name}: recovery ${recovery}${on ? ', patched' : ''}`);
      cell.dataset['tip'] = `head ${name}: recovery ${recovery} (metric ${Number(cell.dataset['metric']).toFixed(3)}). ` +
        (on ? 'Patched: press to remove.' : 'Press to patch it live.');
    }
  }

  private figure(which: 'heads' | 'residual'): { figure: Figure; name: string } | null {
    const drawn = this.drawn;
    if (!drawn) return null;
    const { maps } = drawn.reply;
    const { n_layer: L, n_head: H, T } = maps;
    const heads = which === 'heads';
    const values = heads ? maps.head_z : maps.residual;
    const cols = heads ? H : T;
    return {
      name: `headlight-${drawn.model}-patching-${which}`,
      figure: {
        kind: 'matrix',
        figure: {
          title: `Activation patching, ${heads ? 'each head' : 'the residual stream'}: recovery, ${drawn.model}`,
          rowLabels: heads ? Array.from({ length: L }, (_, l) => `layer ${l}`) : Array.from({ length: L + 1 }, (_, l) => lensRowLabel(l, L)),
          colLabels: heads ? Array.from({ length: H }, (_, h) => `head ${h}`) : drawn.reply.clean_tokens.map((t, i) => `${i} ${t}`),
          values,
          valueName: 'recovery',
          ...(heads ? { cellText: (r: number, c: number) => cellText(values[r * cols + c]!) } : {}),
          fill: (r, c) => divergingCss(values[r * cols + c]!, 1),
        },
      },
    };
  }
}

/** Registry entry (app/views.ts). */
export const patchingView: ViewFactory = ({ root, page, tooltip, circuits }) => {
  const shown: { frame: Frame | null } = { frame: null };
  const view = new PatchingView(root, page, tooltip, () => shown.frame?.state.patchedHeads ?? []);
  return circuitView('patching', circuits, (frame) => {
    shown.frame = frame;
    const maps = circuits.current('maps');
    view.render(maps?.reply ?? null, maps?.error ?? null, frame.state.corrupted !== '', frame.model.name);
  });
};
