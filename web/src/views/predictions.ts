/**
 * Predictions view: the K most probable next tokens after the selected
 * position, as bars; behind each bar a ghost bar with the unedited model's
 * probability of the same token. Below: how the log-probability of the token
 * that really comes next moved, and the mean loss over the text before and
 * after the edits. Every row and line exists from the start and has a fixed
 * height, so updates never shift the layout.
 */
import type { AnalysisCore } from '../engine/protocol';
import { quoteToken, renderTokenText } from './token-text';

interface Row {
  root: HTMLElement;
  token: HTMLElement;
  bar: HTMLElement;
  ghost: HTMLElement;
  value: HTMLElement;
}

export class PredictionsView {
  private readonly list: HTMLElement;
  private readonly context: HTMLElement;
  private readonly actual: HTMLElement;
  private readonly meanLoss: HTMLElement;
  private readonly rows: Row[] = [];
  private revision = 0;
  /** What the last render showed: the same again is not redrawn. */
  private drawn: { probs: Float32Array; t: number; edited: boolean } | null = null;

  constructor(root: HTMLElement, k: number) {
    const get = (role: string) => root.querySelector<HTMLElement>(`[data-role="${role}"]`)!;
    this.list = get('prediction-list');
    this.context = get('prediction-context');
    this.actual = get('actual-next');
    this.meanLoss = get('mean-loss');
    for (let i = 0; i < k; i++) {
      const row = document.createElement('li');
      row.className = 'prediction is-empty';
      const token = document.createElement('span');
      token.className = 'token';
      const track = document.createElement('span');
      track.className = 'bar-track';
      const ghost = document.createElement('span');
      ghost.className = 'bar-ghost';
      const bar = document.createElement('span');
      bar.className = 'bar';
      track.append(ghost, bar);
      const value = document.createElement('span');
      value.className = 'prob';
      row.append(token, track, value);
      this.list.append(row);
      this.rows.push({ root: row, token, bar, ghost, value });
    }
  }

  /**
   * `position`: the query position whose next token is predicted (clamped to
   * the text). An analysis is drawn once: the same analysis, position and
   * edited flag again change nothing (data-revision counts real repaints).
   */
  render(analysis: AnalysisCore, position: number, edited: boolean): void {
    const { T, top_k: K, baseline } = analysis;
    const t = position < 0 || position >= T ? T - 1 : position;
    const drawn = this.drawn;
    if (drawn && drawn.probs === analysis.top_k_probs && drawn.t === t && drawn.edited === edited) return;
    this.drawn = { probs: analysis.top_k_probs, t, edited };
    const at = document.createElement('span');
    at.className = 'token';
    renderTokenText(at, analysis.tokens[t] ?? '');
    this.context.replaceChildren(document.createTextNode(' after '), at, document.createTextNode(` (position ${t})`));

    const probs: number[] = [];
    const ids: number[] = [];
    this.rows.forEach((row, i) => {
      const filled = i < K;
      row.root.classList.toggle('is-empty', !filled);
      if (!filled) return;
      const p = analysis.top_k_probs[t * K + i]!;
      const id = analysis.top_k_ids[t * K + i]!;
      const token = analysis.top_k_tokens[t * K + i] ?? '';
      const before = baseline.probs_of_top_k[t * K + i]!;
      probs.push(p);
      ids.push(id);
      renderTokenText(row.token, token);
      // A transform, not a width: no reflow when the numbers change.
      row.bar.style.transform = `scaleX(${clamp01(p)})`;
      row.ghost.style.transform = `scaleX(${Number.isNaN(before) ? 0 : clamp01(before)})`;
      row.ghost.hidden = !edited;
      row.value.textContent = formatProbability(p);
      const beforeText = Number.isNaN(before) ? 'not known' : formatProbability(before);
      row.root.title = `${quoteToken(token)} · id ${id} · ${formatProbability(p)}${edited ? ` · unedited model: ${beforeText}` : ''}`;
      row.root.dataset['prob'] = String(p);
      row.root.dataset['baseline'] = String(before);
    });

    // The token that really comes next, before and after the edits.
    if (t < T - 1) {
      const next = document.createElement('span');
      next.className = 'token';
      renderTokenText(next, analysis.tokens[t + 1] ?? '');
      const after = -analysis.loss[t]!;
      const before = -baseline.loss[t]!;
      const delta = after - before;
      const parts: (Node | string)[] = ['Actual next token ', next, `: log p ${after.toFixed(3)}`];
      if (edited) {
        const change = document.createElement('strong');
        change.className = delta < 0 ? 'is-worse' : delta > 0 ? 'is-better' : '';
        change.textContent = `Δ ${signed(delta)}`;
        parts.push(` (unedited ${before.toFixed(3)}, `, change, ')');
      }
      this.actual.replaceChildren(...parts);
      this.actual.dataset['delta'] = String(delta);
    } else {
      this.actual.textContent = 'The last token: nothing follows it in the text to compare with.';
      delete this.actual.dataset['delta'];
    }

    if (Number.isNaN(analysis.mean_loss)) {
      this.meanLoss.textContent = 'Mean loss needs at least two tokens.';
    } else if (edited) {
      const d = analysis.mean_loss - baseline.mean_loss;
      this.meanLoss.textContent =
        `Mean loss over the text: ${baseline.mean_loss.toFixed(3)} → ${analysis.mean_loss.toFixed(3)} nats ` +
        `(${signed(d)}) with the edits.`;
    } else {
      this.meanLoss.textContent = `Mean loss over the text: ${analysis.mean_loss.toFixed(3)} nats (no edits).`;
    }
    this.meanLoss.dataset['after'] = String(analysis.mean_loss);
    this.meanLoss.dataset['before'] = String(baseline.mean_loss);

    this.revision++;
    this.list.dataset['revision'] = String(this.revision);
    // Full-precision figures for tests and for copying.
    this.list.dataset['probs'] = probs.join(',');
    this.list.dataset['ids'] = ids.join(',');
    this.list.dataset['position'] = String(t);
  }
}

function clamp01(x: number): number {
  return Math.max(0, Math.min(1, x));
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
}

export function formatProbability(p: number): string {
  if (p >= 0.1) return `${(p * 100).toFixed(1)}%`;
  if (p >= 0.001) return `${(p * 100).toFixed(2)}%`;
  return `${(p * 100).toExponential(1)}%`;
}
