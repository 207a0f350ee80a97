/**
 * Edits panel: every head whose gain is not 1 (0 = muted), each with a
 * button to undo it; "reset all"; and the ablation mode. Zero ablation
 * multiplies the head's output by its gain; mean ablation (replace the
 * output by its average over a corpus) arrives with the analysis issue, so
 * it is shown but disabled.
 */
import type { ViewFactory } from '../app/view';
import { resetGains, setGain } from '../state/app-state';
import { formatGain, headName } from '../state/heads';

export interface EditsActions {
  reset(layer: number, head: number): void;
  resetAll(): void;
  select(layer: number, head: number): void;
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
      if (!button) return;
      const layer = Number(button.dataset['layer']);
      const head = Number(button.dataset['head']);
      if (button.dataset['action'] === 'reset') actions.reset(layer, head);
      else actions.select(layer, head);
    });
  }

  /** gains: [L x H]. */
  render(gains: Float32Array, n_head: number): void {
    const key = `${n_head}:${gains.join(',')}`;
    if (key === this.shown) return;
    this.shown = key;
    const items: HTMLElement[] = [];
    for (let i = 0; i < gains.length; i++) {
      const gain = gains[i]!;
      if (gain === 1) continue;
      const layer = Math.floor(i / n_head);
      const head = i % n_head;
      const item = document.createElement('li');
      item.className = 'edit';
      const name = headButton('edit-head', layer, head, 'select');
      name.textContent = `head ${headName({ layer, head })}`;
      name.title = `Show head ${headName({ layer, head })} in the detail view`;
      const value = document.createElement('span');
      value.className = gain === 0 ? 'edit-gain is-muted' : 'edit-gain';
      value.textContent = gain === 0 ? 'muted (× 0)' : `gain × ${formatGain(gain)}`;
      const undo = headButton('edit-reset', layer, head, 'reset');
      undo.textContent = 'reset';
      undo.setAttribute('aria-label', `Reset head ${headName({ layer, head })} to gain 1`);
      item.append(name, value, undo);
      items.push(item);
    }
    this.list.replaceChildren(...items);
    this.list.dataset['count'] = String(items.length);
    this.empty.hidden = items.length > 0;
    this.resetAll.disabled = items.length === 0;
  }
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
    reset: (layer, head) => page.edit((state) => setGain(state, layer, head, 1)),
    resetAll: () => page.edit((state) => resetGains(state)),
    select: (layer, head) => page.selectHead(layer, head),
  });
  return {
    label: 'edits',
    draw({ reason, state, model }) {
      if (reason === 'analysis' || reason === 'gains') view.render(state.gains, model.n_head);
    },
  };
};
