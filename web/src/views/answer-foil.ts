/**
 * Answer and foil (issue 17): the two tokens the circuit views compare,
 * logit(answer) − logit(foil). The reader picks them on the predictions:
 * click a row (or Enter on it) for the answer, shift-click (Shift+Enter) for
 * the foil; or types them in the circuits panel. Each shows as a chip; a
 * typed word of several tokens is named as such (the worker's TokenPick).
 * With nothing chosen the top predictions stand in (state/answer-foil.ts).
 * The choice lives in the URL (`answer=`, `foil=`).
 */
import { circuitView } from '../app/circuit-store';
import type { PageActions, ViewFactory } from '../app/view';
import type { TokenPick } from '../engine/protocol';
import type { Pick } from '../state/answer-foil';
import { MAX_TOKEN_TEXT } from '../state/url-state';
import { smallButton } from './circuit-export';
import { renderTokenText } from './token-text';

type Which = 'answer' | 'foil';

interface Slot {
  chip: HTMLElement;
  token: HTMLElement;
  input: HTMLInputElement;
}

/** "“ Pemberthwaite” is 4 tokens: · P | ember | th | waite" */
function severalTokens(which: Which, pick: TokenPick): string {
  const pieces = pick.tokens.map((t) => t.replace(/ /g, '·')).join(' | ');
  return `The ${which} ${JSON.stringify(pick.text)} is ${pick.ids.length} tokens (${pieces}): ` +
    'the circuit views need one token; pick its first piece or another word.';
}

export class AnswerFoilView {
  private readonly slots: Record<Which, Slot>;
  private readonly note: HTMLElement;

  constructor(root: HTMLElement, private readonly page: PageActions) {
    const box = root.querySelector<HTMLElement>('[data-role="answer-foil"]')!;
    const make = (which: Which): Slot => {
      const label = document.createElement('label');
      label.className = 'pick';
      const name = document.createElement('span');
      name.className = 'pick-name';
      name.textContent = which === 'answer' ? 'Answer' : 'Foil';
      const chip = document.createElement('span');
      chip.className = `pick-chip is-${which}`;
      chip.dataset['role'] = `${which}-chip`;
      const token = document.createElement('span');
      token.className = 'token';
      chip.append(token);
      const input = document.createElement('input');
      input.type = 'text';
      input.className = 'pick-input';
      input.dataset['role'] = `${which}-input`;
      input.maxLength = MAX_TOKEN_TEXT;
      input.spellcheck = false;
      input.autocomplete = 'off';
      input.placeholder = 'type a token';
      input.setAttribute('aria-label', `${which === 'answer' ? 'Answer' : 'Foil'} token (a leading space counts)`);
      input.addEventListener('change', () => this.choose(which, input.value));
      label.append(name, chip, input);
      box.append(label);
      return { chip, token, input };
    };
    this.slots = { answer: make('answer'), foil: make('foil') };
    const swap = smallButton({ role: 'swap-picks' }, 'Swap', 'Swap the answer and the foil', () => {
      const { answer, foil } = this.shown;
      page.setCircuit({ answer: foil, foil: answer });
    });
    const auto = smallButton({ role: 'auto-picks' }, 'Use the top predictions', 'Let the top two predictions stand in', () =>
      page.setCircuit({ answer: '', foil: '' }));
    this.note = document.createElement('p');
    this.note.className = 'note pick-note';
    this.note.dataset['role'] = 'pick-note';
    this.note.setAttribute('aria-live', 'polite');
    box.append(swap, auto, this.note);

    // The predictions' rows are the tokens to click: Enter / click = answer, with Shift = foil.
    const list = root.querySelector<HTMLElement>('[data-role="prediction-list"]');
    const rowToken = (event: Event) => {
      const row = (event.target as Element | null)?.closest('li.prediction:not(.is-empty)');
      return row?.querySelector<HTMLElement>('.token')?.dataset['text'] ?? null;
    };
    list?.addEventListener('click', (event) => {
      const token = rowToken(event);
      if (token !== null) this.choose(event.shiftKey ? 'foil' : 'answer', token);
    });
    list?.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter') return;
      const token = rowToken(event);
      if (token === null) return;
      event.preventDefault();
      this.choose(event.shiftKey ? 'foil' : 'answer', token);
    });
    for (const row of list?.querySelectorAll<HTMLElement>('li.prediction') ?? []) {
      row.tabIndex = 0;
      row.classList.add('is-pickable');
      row.setAttribute('aria-description', 'Enter: make it the answer; Shift+Enter: the foil');
    }
    const hint = document.createElement('p');
    hint.className = 'note';
    hint.dataset['role'] = 'pick-hint';
    hint.textContent = 'Click a token to make it the answer of the circuit views, shift-click for the foil.';
    list?.after(hint);
  }

  /** The texts shown now (the reader's choice or the stand-in). */
  private shown: { answer: string; foil: string } = { answer: '', foil: '' };

  private choose(which: Which, text: string): void {
    if (text.length > MAX_TOKEN_TEXT) {
      this.page.showError(`A token's text has at most ${MAX_TOKEN_TEXT} characters.`);
      return;
    }
    this.page.setCircuit(which === 'answer' ? { answer: text } : { foil: text });
  }

  render(picks: { answer: Pick; foil: Pick }, counted: { answer: TokenPick; foil: TokenPick } | null): void {
    this.shown = { answer: picks.answer.text, foil: picks.foil.text };
    const notes: string[] = [];
    for (const which of ['answer', 'foil'] as const) {
      const pick = picks[which];
      const slot = this.slots[which];
      renderTokenText(slot.token, pick.text);
      slot.chip.classList.toggle('is-auto', pick.auto);
      slot.chip.title = pick.auto
        ? `${JSON.stringify(pick.text)}: none chosen, the model's ${which === 'answer' ? 'top prediction' : 'next prediction'} stands in`
        : JSON.stringify(pick.text);
      slot.chip.dataset['text'] = pick.text;
      slot.chip.dataset['auto'] = String(pick.auto);
      if (document.activeElement !== slot.input) slot.input.value = pick.auto ? '' : pick.text;
      const count = counted && counted[which].text === pick.text ? counted[which] : null;
      slot.chip.dataset['tokens'] = count ? String(count.ids.length) : '';
      slot.chip.classList.toggle('is-bad', count !== null && count.ids.length !== 1);
      if (count && count.ids.length !== 1 && pick.text !== '') notes.push(severalTokens(which, count));
    }
    if (picks.answer.text !== '' && picks.answer.text === picks.foil.text) notes.push('The answer and the foil are the same token: their difference is 0.');
    this.note.textContent = notes.join(' ');
    // The line keeps its place when empty: the panel does not move when a note comes or goes.
    this.note.dataset['empty'] = String(notes.length === 0);
  }
}

/** Registry entry (app/views.ts). */
export const answerFoilView: ViewFactory = ({ root, page, circuits }) => {
  const view = new AnswerFoilView(root, page);
  return circuitView('answer-foil', circuits, (frame) => {
    if (!frame.analysis) return;
    view.render(circuits.picksAt(frame.analysis, frame.position), circuits.figures.lens?.reply ?? null);
  });
};
