/**
 * Tokens view: the input as the model sees it, one chip per token. Colour by
 * loss: how surprised the model was by the NEXT token (nats, 0 to ln(vocab),
 * the loss of a uniform guess). Colour by attention: how much the selected
 * query token attends to each earlier token, in the selected head or
 * averaged over all heads that are not muted. Click a chip to select it as
 * the query position.
 */
import type { Analysis } from '../engine/protocol';
import type { ViewFactory } from '../app/view';
import { headName } from '../state/heads';
import type { AttentionSource, ColorMode } from '../state/url-state';
import { inkOn, lossLut, lutCss, viridis } from './colormap';
import { drawColorbar } from './heatmap';
import { quoteToken, renderTokenText } from './token-text';

export interface TokensActions {
  selectPosition(position: number): void;
  setColorMode(mode: ColorMode): void;
  setSource(source: AttentionSource): void;
}

export interface TokenColouring {
  mode: ColorMode;
  source: AttentionSource;
  layer: number;
  head: number;
  position: number;
  gains: Float32Array;
  vocab_size: number;
}

/** Attention of query `position` over keys [0, T): one head, or the mean over unmuted heads. */
export function attentionRow(analysis: Analysis, c: TokenColouring): Float32Array {
  const { T, n_layer, n_head } = analysis;
  const row = new Float32Array(T);
  const q = c.position;
  const add = (layer: number, head: number, scale: number) => {
    const base = ((layer * n_head + head) * T + q) * T;
    for (let k = 0; k <= q; k++) row[k]! += analysis.attn[base + k]! * scale;
  };
  if (c.source === 'head') {
    add(c.layer, c.head, 1);
    return row;
  }
  let count = 0;
  for (let i = 0; i < n_layer * n_head; i++) if (c.gains[i] !== 0) count++;
  if (count === 0) return row;
  for (let i = 0; i < n_layer * n_head; i++) {
    if (c.gains[i] !== 0) add(Math.floor(i / n_head), i % n_head, 1 / count);
  }
  return row;
}

export class TokensView {
  private readonly list: HTMLElement;
  private readonly note: HTMLElement;
  private readonly legendLabel: HTMLElement;
  private readonly legendLow: HTMLElement;
  private readonly legendHigh: HTMLElement;
  private readonly legendBar: HTMLCanvasElement;
  private readonly modeButtons: HTMLButtonElement[];
  private readonly sourceBox: HTMLElement;
  private readonly sourceButtons: HTMLButtonElement[];
  private chips: HTMLElement[] = [];
  private legendMode: ColorMode | null = null;

  constructor(root: HTMLElement, actions: TokensActions) {
    const get = <T extends HTMLElement>(role: string) => root.querySelector<T>(`[data-role="${role}"]`)!;
    this.list = get('token-list');
    this.note = get('token-note');
    this.legendLabel = get('token-legend-label');
    this.legendLow = get('token-legend-low');
    this.legendHigh = get('token-legend-high');
    this.legendBar = get<HTMLCanvasElement>('token-legend-bar');
    this.modeButtons = [...get('color-mode').querySelectorAll<HTMLButtonElement>('button')];
    this.sourceBox = get('attention-source');
    this.sourceButtons = [...this.sourceBox.querySelectorAll<HTMLButtonElement>('button')];
    for (const button of this.modeButtons) {
      button.addEventListener('click', () => actions.setColorMode(button.dataset['mode'] as ColorMode));
    }
    for (const button of this.sourceButtons) {
      button.addEventListener('click', () => actions.setSource(button.dataset['source'] as AttentionSource));
    }
    this.list.addEventListener('click', (event) => {
      const chip = (event.target as Element).closest<HTMLElement>('.token[data-position]');
      if (chip) actions.selectPosition(Number(chip.dataset['position']));
    });
    this.list.addEventListener('keydown', (event) => {
      const chip = (event.target as Element).closest<HTMLElement>('.token[data-position]');
      if (!chip) return;
      const t = Number(chip.dataset['position']);
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (step !== 0) {
        event.preventDefault();
        const next = this.chips[Math.max(0, Math.min(this.chips.length - 1, t + step))];
        next?.focus();
      } else if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        actions.selectPosition(t);
      }
    });
  }

  render(analysis: Analysis, colouring: TokenColouring): void {
    const { T } = analysis;
    const position = colouring.position;
    if (this.chips.length !== T || this.list.dataset['model'] !== analysis.model || this.changedTokens(analysis)) {
      this.chips = [];
      for (let t = 0; t < T; t++) {
        const chip = document.createElement('span');
        chip.className = 'token';
        chip.setAttribute('role', 'listitem');
        chip.dataset['position'] = String(t);
        chip.tabIndex = -1;
        renderTokenText(chip, analysis.tokens[t] ?? '');
        this.chips.push(chip);
      }
      this.list.replaceChildren(...this.chips);
      this.list.dataset['model'] = analysis.model;
    }
    this.list.dataset['count'] = String(T);

    const maxLoss = Math.log(colouring.vocab_size);
    const row = colouring.mode === 'attention' ? attentionRow(analysis, colouring) : null;
    for (let t = 0; t < T; t++) {
      const chip = this.chips[t]!;
      const token = analysis.tokens[t] ?? '';
      const loss = analysis.loss[t]!;
      const lossText = Number.isNaN(loss) ? 'last token: no next token to predict' : `next-token loss ${loss.toFixed(2)} nats`;
      let value: number;
      let extra = '';
      if (row) {
        value = t <= position ? row[t]! : NaN;
        extra = t <= position ? ` · attention from position ${position}: ${row[t]!.toFixed(4)}` : ' · after the query: not visible';
      } else {
        value = Number.isNaN(loss) ? NaN : loss / maxLoss;
      }
      const lut = row ? viridis : lossLut;
      if (Number.isNaN(value)) {
        chip.style.background = '';
        chip.style.color = '';
        chip.classList.add('is-blank');
      } else {
        chip.style.background = lutCss(lut, value);
        chip.style.color = inkOn(lut, value);
        chip.classList.remove('is-blank');
      }
      chip.classList.toggle('is-selected', t === position);
      chip.setAttribute('aria-current', String(t === position));
      chip.tabIndex = t === position ? 0 : -1;
      chip.title = `${quoteToken(token)} · id ${analysis.ids[t]} · position ${t} · ${lossText}${extra}`;
    }

    for (const button of this.modeButtons) {
      button.setAttribute('aria-pressed', String(button.dataset['mode'] === colouring.mode));
    }
    this.sourceBox.hidden = colouring.mode !== 'attention';
    for (const button of this.sourceButtons) {
      button.setAttribute('aria-pressed', String(button.dataset['source'] === colouring.source));
      if (button.dataset['source'] === 'head') button.textContent = `head ${headName(colouring)}`;
    }
    if (this.legendMode !== colouring.mode) {
      this.legendMode = colouring.mode;
      drawColorbar(this.legendBar, colouring.mode === 'attention' ? viridis : lossLut);
    }
    if (colouring.mode === 'attention') {
      this.legendLabel.textContent = `attention from position ${position}`;
      this.legendLow.textContent = '0';
      this.legendHigh.textContent = '1';
    } else {
      this.legendLabel.textContent = 'next-token loss (nats)';
      this.legendLow.textContent = '0';
      this.legendHigh.textContent = maxLoss.toFixed(1);
    }

    const parts = [`${T} token${T === 1 ? '' : 's'}`];
    if (analysis.truncated) {
      const of = `${analysis.n_input_tokens_exact ? '' : 'more than '}${analysis.n_input_tokens.toLocaleString('en-US')}`;
      parts.push(`only the first ${T} of ${of} are used: the model's context ends there`);
    }
    this.note.textContent = parts.join(' · ');
    this.note.classList.toggle('is-warning', analysis.truncated);
  }

  clear(message: string): void {
    this.chips = [];
    this.list.replaceChildren();
    this.list.dataset['count'] = '0';
    this.note.textContent = message;
    this.note.classList.remove('is-warning');
  }

  private changedTokens(analysis: Analysis): boolean {
    return this.chips.some((chip, t) => chip.dataset['text'] !== analysis.tokens[t]);
  }
}

/** Registry entry (app/views.ts): draws on a new analysis or selection, clears on an empty text. */
export const tokensView: ViewFactory = ({ root, page }) => {
  const view = new TokensView(root, {
    selectPosition: (t) => page.selectPosition(t),
    setColorMode: (mode) => page.setDisplay('colorMode', mode),
    setSource: (source) => page.setDisplay('source', source),
  });
  return {
    label: 'tokens',
    draw({ reason, analysis, state, head, position, model }) {
      if (reason === 'empty-text') view.clear('Type some text to see its tokens.');
      if ((reason !== 'analysis' && reason !== 'selection') || !analysis) return;
      view.render(analysis, {
        mode: state.colorMode,
        source: state.source,
        layer: head.layer,
        head: head.head,
        position,
        gains: state.gains,
        vocab_size: model.vocab_size,
      });
    },
  };
};
