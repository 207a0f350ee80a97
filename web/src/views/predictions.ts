/**
 * Predictions view: the K most probable next tokens after the last position,
 * as bars. The rows exist from the start so updates never shift the layout.
 */
import type { Analysis } from '../engine/protocol';
import { quoteToken, renderTokenText } from './token-text';

interface Row {
  root: HTMLElement;
  token: HTMLElement;
  bar: HTMLElement;
  value: HTMLElement;
}

export class PredictionsView {
  private readonly list: HTMLElement;
  private readonly context: HTMLElement;
  private readonly rows: Row[] = [];
  private revision = 0;

  constructor(root: HTMLElement, k: number) {
    this.list = root.querySelector<HTMLElement>('[data-role="prediction-list"]')!;
    this.context = root.querySelector<HTMLElement>('[data-role="prediction-context"]')!;
    for (let i = 0; i < k; i++) {
      const row = document.createElement('li');
      row.className = 'prediction is-empty';
      const token = document.createElement('span');
      token.className = 'token';
      const track = document.createElement('span');
      track.className = 'bar-track';
      const bar = document.createElement('span');
      bar.className = 'bar';
      track.append(bar);
      const value = document.createElement('span');
      value.className = 'prob';
      row.append(token, track, value);
      this.list.append(row);
      this.rows.push({ root: row, token, bar, value });
    }
  }

  render(analysis: Analysis): void {
    const { T, top_k: K } = analysis;
    const last = T - 1;
    const lastToken = document.createElement('span');
    lastToken.className = 'token';
    renderTokenText(lastToken, analysis.tokens[last] ?? '');
    this.context.replaceChildren(
      document.createTextNode(' after '),
      lastToken,
      document.createTextNode(` (position ${last})`),
    );

    const probs: number[] = [];
    const ids: number[] = [];
    this.rows.forEach((row, i) => {
      const filled = i < K;
      row.root.classList.toggle('is-empty', !filled);
      if (!filled) return;
      const p = analysis.top_k_probs[last * K + i]!;
      const token = analysis.top_k_tokens[last * K + i] ?? '';
      probs.push(p);
      ids.push(analysis.top_k_ids[last * K + i]!);
      renderTokenText(row.token, token);
      row.token.title = `${quoteToken(token)} · id ${analysis.top_k_ids[last * K + i]}`;
      // A transform, not a width: no reflow when the numbers change.
      row.bar.style.transform = `scaleX(${Math.max(0, Math.min(1, p))})`;
      row.value.textContent = formatProbability(p);
      row.root.dataset['prob'] = String(p);
    });
    this.revision++;
    this.list.dataset['revision'] = String(this.revision);
    // Full-precision figures for tests and for copying.
    this.list.dataset['probs'] = probs.join(',');
    this.list.dataset['ids'] = ids.join(',');
  }
}

export function formatProbability(p: number): string {
  if (p >= 0.1) return `${(p * 100).toFixed(1)}%`;
  if (p >= 0.001) return `${(p * 100).toFixed(2)}%`;
  return `${(p * 100).toExponential(1)}%`;
}
