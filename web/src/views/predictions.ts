/**
 * Predictions view: the K most probable next tokens after the selected
 * position, as bars; behind each bar a ghost bar with the unedited model's
 * probability of the same token. Below: how the log-probability of the token
 * that really comes next moved, and the mean loss over the text before and
 * after the edits. Every row and line exists from the start and has a fixed
 * height, so updates never shift the layout.
 *
 * After a head edit the bars come first (PredictionsPart: one position's
 * figures) and the mean loss, which needs every position, a moment later
 * (the full AnalysisCore of the same pass): until then the mean-loss line
 * keeps its text and carries data-pending.
 */
import type { ViewFactory } from '../app/view';
import type { AnalysisCore, PredictionsPart } from '../engine/protocol';
import { TOP_K } from '../state/app-state';
import { formatProbability } from '../state/format';
import { clampPosition } from '../state/position';
import { quoteToken, renderTokenText } from './token-text';

/** What the view draws: the figures at one position t, K = top-k. */
export interface Predictions {
  T: number;
  t: number;
  tokens: readonly string[];         // [T] display text (context and actual next token)
  top_k_ids: ArrayLike<number>;      // [K]
  top_k_probs: ArrayLike<number>;    // [K]
  top_k_tokens: readonly string[];   // [K]
  baseline_probs: ArrayLike<number>; // [K] unedited probability of each (NaN: unknown)
  loss: number;                      // -log p(tokens[t + 1]); NaN at T - 1
  baseline_loss: number;
  /**
   * The unedited model's top-1 token at t: id, display text, unedited
   * probability and edited probability (NaN: below top_k_probs[K - 1],
   * not known yet). Shown as its own row when the edits push it out of the
   * top-k.
   */
  top_1: { id: number; token: string; prob: number; edited_prob: number };
  /** Mean loss over the text; null while only position t is known. */
  mean_loss: number | null;
  baseline_mean_loss: number | null;
}

/** The figures of `core` at position t (clamped), as views of its arrays. */
export function predictionsOf(core: AnalysisCore, position: number): Predictions {
  const { T, top_k: K, baseline } = core;
  const t = clampPosition(position, T);
  return {
    T,
    t,
    tokens: core.tokens,
    top_k_ids: core.top_k_ids.subarray(t * K, (t + 1) * K),
    top_k_probs: core.top_k_probs.subarray(t * K, (t + 1) * K),
    top_k_tokens: core.top_k_tokens.slice(t * K, (t + 1) * K),
    baseline_probs: baseline.probs_of_top_k.subarray(t * K, (t + 1) * K),
    loss: core.loss[t]!,
    baseline_loss: baseline.loss[t]!,
    top_1: {
      id: baseline.top_k_ids[t * K]!,
      token: baseline.top_k_tokens[t * K] ?? '',
      prob: baseline.top_k_probs[t * K]!,
      edited_prob: baseline.edited_probs_of_top_1[t]!,
    },
    mean_loss: core.mean_loss,
    baseline_mean_loss: baseline.mean_loss,
  };
}

/** The figures of a PredictionsPart, with the display text of the tokens it ran. */
export function predictionsOfPart(part: PredictionsPart, tokens: readonly string[]): Predictions {
  return {
    T: part.T,
    t: part.position,
    tokens,
    top_k_ids: part.top_k_ids,
    top_k_probs: part.top_k_probs,
    top_k_tokens: part.top_k_tokens,
    baseline_probs: part.baseline.probs_of_top_k,
    loss: part.loss,
    baseline_loss: part.baseline.loss,
    top_1: part.baseline.top_1,
    mean_loss: null,
    baseline_mean_loss: null,
  };
}

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
  /**
   * One more row, after the K: the unedited model's first choice when the
   * edits pushed it out of the top-k (its ghost bar would vanish with it).
   * It always takes its place, hidden when not needed: no layout shift.
   */
  private readonly dropped: Row;
  private revision = 0;
  /** What the last render showed: the same again is not redrawn. */
  private drawn: { pass: number; t: number; edited: boolean; meanLoss: boolean } | null = null;

  constructor(root: HTMLElement, k: number) {
    const get = (role: string) => root.querySelector<HTMLElement>(`[data-role="${role}"]`)!;
    this.list = get('prediction-list');
    this.context = get('prediction-context');
    this.actual = get('actual-next');
    this.meanLoss = get('mean-loss');
    for (let i = 0; i < k; i++) this.rows.push(this.addRow(false));
    this.dropped = this.addRow(true);
    this.dropped.ghost.hidden = true;
  }

  private addRow(dropped: boolean): Row {
    const row = document.createElement('li');
    // Its own class (not .prediction): the K rows stay the K predictions.
    row.className = dropped ? 'prediction-dropped is-empty' : 'prediction is-empty';
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
    if (dropped) {
      // The token and a note: "unedited 1st".
      const who = document.createElement('span');
      who.className = 'prediction-who';
      const note = document.createElement('span');
      note.className = 'prediction-note';
      note.textContent = 'unedited 1st';
      who.append(token, note);
      row.append(who, track, value);
    } else {
      row.append(token, track, value);
    }
    this.list.append(row);
    return { root: row, token, bar, ghost, value };
  }

  /** The dropped-out row: shown when `edited` and the unedited top-1 is not among the K shown. */
  private renderDropped(p: Predictions, edited: boolean): void {
    const row = this.dropped;
    const { id, token, prob, edited_prob } = p.top_1;
    const K = p.top_k_ids.length;
    let shown = false;
    for (let i = 0; i < K; i++) if (p.top_k_ids[i] === id) shown = true;
    const needed = edited && !shown && K > 0;
    row.root.classList.toggle('is-empty', !needed);
    row.root.setAttribute('aria-hidden', String(!needed));
    // Its ghost bar is hidden with it: ghost bars count the K rows (tests, screen readers).
    row.ghost.hidden = !needed;
    if (!needed) {
      delete row.root.dataset['id'];
      return;
    }
    // Not known yet (the first message of a rerun): below the K-th bar.
    const editedText = Number.isNaN(edited_prob)
      ? `< ${formatProbability(p.top_k_probs[K - 1]!)}`
      : formatProbability(edited_prob);
    renderTokenText(row.token, token);
    row.bar.style.transform = `scaleX(${Number.isNaN(edited_prob) ? 0 : clamp01(edited_prob)})`;
    row.ghost.style.transform = `scaleX(${clamp01(prob)})`;
    row.value.textContent = editedText;
    row.root.title =
      `${quoteToken(token)} · id ${id} · the unedited model's first choice (${formatProbability(prob)}), ` +
      `out of the top ${K} with the edits: ${editedText}`;
    row.root.dataset['id'] = String(id);
    row.root.dataset['prob'] = String(edited_prob);
    row.root.dataset['baseline'] = String(prob);
  }

  /**
   * `pass` names the forward pass the figures come from (its PredictionsPart
   * and its AnalysisCore hold the same figures at t, bit for bit). A pass is
   * drawn once per position and edited flag (data-revision counts real
   * repaints of the bars); the mean-loss line follows when a pass that was
   * drawn without it gets it.
   */
  render(p: Predictions, pass: number, edited: boolean): void {
    const { T, t } = p;
    const drawn = this.drawn;
    const meanLoss = p.mean_loss !== null;
    if (drawn && drawn.pass === pass && drawn.t === t && drawn.edited === edited) {
      if (meanLoss && !drawn.meanLoss) {
        this.renderMeanLoss(p, edited);
        // The full pass knows the dropped-out token's edited probability exactly.
        this.renderDropped(p, edited);
        drawn.meanLoss = true;
      }
      return;
    }
    this.drawn = { pass, t, edited, meanLoss };
    const K = p.top_k_ids.length;
    const at = document.createElement('span');
    at.className = 'token';
    renderTokenText(at, p.tokens[t] ?? '');
    this.context.replaceChildren(document.createTextNode(' after '), at, document.createTextNode(` (position ${t})`));

    const probs: number[] = [];
    const ids: number[] = [];
    this.rows.forEach((row, i) => {
      const filled = i < K;
      row.root.classList.toggle('is-empty', !filled);
      if (!filled) return;
      const prob = p.top_k_probs[i]!;
      const id = p.top_k_ids[i]!;
      const token = p.top_k_tokens[i] ?? '';
      const before = p.baseline_probs[i]!;
      probs.push(prob);
      ids.push(id);
      renderTokenText(row.token, token);
      // A transform, not a width: no reflow when the numbers change.
      row.bar.style.transform = `scaleX(${clamp01(prob)})`;
      row.ghost.style.transform = `scaleX(${Number.isNaN(before) ? 0 : clamp01(before)})`;
      row.ghost.hidden = !edited;
      row.value.textContent = formatProbability(prob);
      const beforeText = Number.isNaN(before) ? 'not known' : formatProbability(before);
      row.root.title = `${quoteToken(token)} · id ${id} · ${formatProbability(prob)}${edited ? ` · unedited model: ${beforeText}` : ''}`;
      row.root.dataset['prob'] = String(prob);
      row.root.dataset['baseline'] = String(before);
    });

    this.renderDropped(p, edited);

    // The token that really comes next, before and after the edits.
    if (t < T - 1) {
      const next = document.createElement('span');
      next.className = 'token';
      renderTokenText(next, p.tokens[t + 1] ?? '');
      const after = -p.loss;
      const before = -p.baseline_loss;
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

    if (meanLoss) this.renderMeanLoss(p, edited);
    else this.meanLoss.dataset['pending'] = 'true';

    this.revision++;
    this.list.dataset['revision'] = String(this.revision);
    // Full-precision figures for tests and for copying.
    this.list.dataset['probs'] = probs.join(',');
    this.list.dataset['ids'] = ids.join(',');
    this.list.dataset['position'] = String(t);
  }

  private renderMeanLoss(p: Predictions, edited: boolean): void {
    const after = p.mean_loss ?? NaN;
    const before = p.baseline_mean_loss ?? NaN;
    if (Number.isNaN(after)) {
      this.meanLoss.textContent = 'Mean loss needs at least two tokens.';
    } else if (edited) {
      this.meanLoss.textContent =
        `Mean loss over the text: ${before.toFixed(3)} → ${after.toFixed(3)} nats ` +
        `(${signed(after - before)}) with the edits.`;
    } else {
      this.meanLoss.textContent = `Mean loss over the text: ${after.toFixed(3)} nats (no edits).`;
    }
    this.meanLoss.dataset['after'] = String(after);
    this.meanLoss.dataset['before'] = String(before);
    delete this.meanLoss.dataset['pending'];
  }
}

function clamp01(x: number): number {
  return Math.max(0, Math.min(1, x));
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
}

/** Registry entry (app/views.ts): the bars the frame says are shown. */
export const predictionsView: ViewFactory = ({ root }) => {
  const view = new PredictionsView(root, TOP_K);
  return {
    label: 'predictions',
    draw({ predictions }) {
      if (predictions) view.render(predictions.predictions, predictions.pass, predictions.edited);
    },
  };
};
