/**
 * Tokens view: the input as the model sees it, one chip per token, with the
 * token id and its next-token loss on hover.
 */
import type { Analysis } from '../engine/protocol';
import { quoteToken, renderTokenText } from './token-text';

export class TokensView {
  private readonly list: HTMLElement;
  private readonly note: HTMLElement;

  constructor(root: HTMLElement) {
    this.list = root.querySelector<HTMLElement>('[data-role="token-list"]')!;
    this.note = root.querySelector<HTMLElement>('[data-role="token-note"]')!;
  }

  render(analysis: Analysis): void {
    const chips: HTMLElement[] = [];
    for (let t = 0; t < analysis.T; t++) {
      const token = analysis.tokens[t] ?? '';
      const chip = document.createElement('span');
      chip.className = 'token';
      chip.setAttribute('role', 'listitem');
      renderTokenText(chip, token);
      const loss = analysis.loss[t]!;
      const lossText = Number.isNaN(loss) ? 'last token' : `next-token loss ${loss.toFixed(2)} nats`;
      chip.title = `${quoteToken(token)} · id ${analysis.ids[t]} · position ${t} · ${lossText}`;
      chips.push(chip);
    }
    this.list.replaceChildren(...chips);
    this.list.dataset['count'] = String(analysis.T);

    const parts = [`${analysis.T} token${analysis.T === 1 ? '' : 's'}`];
    if (analysis.truncated) {
      parts.push(
        `only the first ${analysis.T} of ${analysis.n_input_tokens} are used: the model's context ends there`,
      );
    }
    if (!Number.isNaN(analysis.mean_loss)) {
      parts.push(`mean next-token loss ${analysis.mean_loss.toFixed(3)} nats`);
    }
    this.note.textContent = parts.join(' · ');
    this.note.classList.toggle('is-warning', analysis.truncated);
  }

  clear(message: string): void {
    this.list.replaceChildren();
    this.list.dataset['count'] = '0';
    this.note.textContent = message;
    this.note.classList.remove('is-warning');
  }
}
