/**
 * Edits panel: every head whose gain is not 1 (0 = muted) or that is
 * mean-ablated, each with a button to undo it; "reset all"; and, for an
 * ablated head, its ablation: zero (output × 0, the gain) or mean (the
 * head's z replaced by its mean over the text, computed by the unedited
 * model; app/mean-ablation.ts).
 */
import { meanFlags, resetHead, setAblation } from '../app/mean-ablation';
import type { ViewFactory } from '../app/view';
import { resetGains } from '../state/app-state';
import { formatGain, headName } from '../state/heads';

export interface EditsActions {
  reset(layer: number, head: number): void;
  resetAll(): void;
  select(layer: number, head: number): void;
  ablate(layer: number, head: number, mode: 'zero' | 'mean'): void;
}

export class EditsView {
  private readonly list: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly resetAll: HTMLButtonElement;
  /** The gains and n_head of the last render: the same list is not rebuilt. */
  private shown = '';

  constructor(root: HTMLElement, actions: EditsActions) {
    const get = <T extends HTMLElement>(role: string) => root.querySelector<T>(`[data-role="${role}"]`)!;
    this.list = get('edit-list');
    this.empty = get('edit-empty');
    this.resetAll = get<HTMLButtonElement>('reset-all');
    this.resetAll.addEventListener('click', () => actions.resetAll());
    this.list.addEventListener('click', (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>('button[data-layer]');
      if (!button || button.dataset['action'] === 'ablate') return;
      const layer = Number(button.dataset['layer']);
      const head = Number(button.dataset['head']);
      if (button.dataset['action'] === 'reset') actions.reset(layer, head);
      else actions.select(layer, head);
    });
    this.list.addEventListener('change', (event) => {
      const input = event.target as HTMLInputElement;
      if (input.type !== 'radio' || !input.checked) return;
      actions.ablate(Number(input.dataset['layer']), Number(input.dataset['head']), input.value as 'zero' | 'mean');
    });
  }

  /** gains: [L x H]; means: [L x H] 1 = mean-ablated. */
  render(gains: Float32Array, means: Int32Array, n_head: number): void {
    const key = `${n_head}:${gains.join(',')}:${means.join(',')}`;
    if (key === this.shown) return;
    this.shown = key;
    const items: HTMLElement[] = [];
    for (let i = 0; i < gains.length; i++) {
      const gain = gains[i]!;
      const mean = means[i] === 1;
      if (gain === 1 && !mean) continue;
      const layer = Math.floor(i / n_head);
      const head = i % n_head;
      const item = document.createElement('li');
      item.className = 'edit';
      const name = headButton('edit-head', layer, head, 'select');
      name.textContent = `head ${headName({ layer, head })}`;
      name.title = `Show head ${headName({ layer, head })} in the detail view`;
      const value = document.createElement('span');
      value.className = gain === 0 ? 'edit-gain is-muted' : 'edit-gain';
      value.textContent = editText(gain, mean);
      const undo = headButton('edit-reset', layer, head, 'reset');
      undo.textContent = 'reset';
      undo.setAttribute('aria-label', `Reset head ${headName({ layer, head })} to as trained`);
      item.append(name, value, undo);
      // Every row, so that a row keeps its height when its gain changes: which
      // ablation (none checked for a head at another gain).
      item.append(ablationChoice(layer, head, mean && gain === 1 ? 'mean' : gain === 0 ? 'zero' : null));
      items.push(item);
    }
    this.list.replaceChildren(...items);
    this.list.dataset['count'] = String(items.length);
    this.empty.hidden = items.length > 0;
    this.resetAll.disabled = items.length === 0;
  }
}

function editText(gain: number, mean: boolean): string {
  if (!mean) return gain === 0 ? 'muted (× 0)' : `gain × ${formatGain(gain)}`;
  if (gain === 1) return 'mean-ablated';
  return gain === 0 ? 'muted (× 0)' : `its mean × ${formatGain(gain)}`;
}

/** "ablate: zero / mean", two radios for head layer.head (one group per head); mode null: neither. */
function ablationChoice(layer: number, head: number, mode: 'zero' | 'mean' | null): HTMLElement {
  const group = document.createElement('span');
  group.className = 'edit-ablation';
  group.setAttribute('role', 'radiogroup');
  group.setAttribute('aria-label', `Ablation of head ${headName({ layer, head })}`);
  group.append('ablate:');
  for (const [value, text, title] of [
    ['zero', 'zero', 'output × 0'],
    ['mean', 'mean', 'z replaced by its mean over this text, from the unedited model'],
  ] as const) {
    const label = document.createElement('label');
    label.title = title;
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = `ablation-${layer}-${head}`;
    input.value = value;
    input.checked = value === mode;
    input.dataset['layer'] = String(layer);
    input.dataset['head'] = String(head);
    label.append(input, ` ${text}`);
    group.append(label);
  }
  return group;
}

/** A button that names head layer.head and what a click on it does (data-action). */
function headButton(className: string, layer: number, head: number, action: 'select' | 'reset'): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = className;
  button.dataset['layer'] = String(layer);
  button.dataset['head'] = String(head);
  button.dataset['action'] = action;
  return button;
}

/** Registry entry (app/views.ts): the list follows the gains as soon as they change. */
export const editsView: ViewFactory = ({ root, page }) => {
  const view = new EditsView(root, {
    reset: (layer, head) => page.edit((state) => resetHead(state, layer, head)),
    resetAll: () =>
      page.edit((state) => {
        resetGains(state);
        state.meanHeads = [];
      }),
    select: (layer, head) => page.selectHead(layer, head),
    ablate: (layer, head, mode) => page.edit((state) => setAblation(state, layer, head, mode)),
  });
  return {
    label: 'edits',
    draw({ reason, state, model }) {
      if (reason === 'analysis' || reason === 'gains') view.render(state.gains, meanFlags(state), model.n_head);
    },
  };
};
