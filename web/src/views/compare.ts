/**
 * Compare prompts (issue 17): the text box of the page is the clean prompt,
 * this panel's text box the corrupted one (URL `corrupt=`; a preset fills
 * it). It shows the metric at the last position for both prompts: the
 * reader's choice (URL `metric=`) of logit(answer) − logit(foil) or the
 * answer's log-prob (the foil then unused, and the caption says so), says
 * so when their token counts differ (naming both), and shows the corrupted
 * prompt run with the patched heads (clicked in the head patching map, URL
 * `patch=`): its metric, how much of the gap it recovers, and its
 * predictions, which move with every patch.
 */
import { circuitView } from '../app/circuit-store';
import type { Frame, PageActions, ViewFactory } from '../app/view';
import type { PatchedRunReply, PatchMapsReply, TokenPick } from '../engine/protocol';
import { formatProbability } from '../state/format';
import { headName } from '../state/heads';
import { PATCH_METRICS, type PatchMetricKind } from '../state/url-state';
import { smallButton } from './circuit-export';
import { renderTokenText } from './token-text';

const TYPING_DEBOUNCE_MS = 250;

function signed(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
}

const METRIC_LABELS: Record<PatchMetricKind, string> = {
  logit_diff: 'logit difference',
  logprob: 'log-prob of the answer',
};

function tokenChip(pick: TokenPick): HTMLElement {
  const chip = document.createElement('span');
  chip.className = 'token';
  renderTokenText(chip, pick.text);
  return chip;
}

/** What the metric is, in words with the tokens: "logit( a) − logit( b) at the last position". */
function metricCaption(kind: PatchMetricKind, maps: PatchMapsReply): (string | HTMLElement)[] {
  return kind === 'logprob'
    ? ['log p(', tokenChip(maps.answer), ') at the last position (the foil is unused)']
    : ['logit(', tokenChip(maps.answer), ') − logit(', tokenChip(maps.foil), ') at the last position'];
}

export class CompareView {
  readonly input: HTMLTextAreaElement;
  private readonly metrics: HTMLElement;
  private readonly message: HTMLElement;
  private readonly patched: HTMLElement;
  private readonly predictions: HTMLElement;
  private readonly clear: HTMLButtonElement;
  private readonly metricRadios = new Map<PatchMetricKind, HTMLInputElement>();
  private readonly typing: { timer: number | undefined } = { timer: undefined };

  constructor(root: HTMLElement, private readonly page: PageActions) {
    const box = root.querySelector<HTMLElement>('[data-role="compare"]')!;
    this.input = document.createElement('textarea');
    this.input.className = 'text-input compare-input';
    this.input.dataset['role'] = 'corrupted-input';
    this.input.rows = 3;
    this.input.spellcheck = false;
    this.input.autocomplete = 'off';
    this.input.placeholder = 'The same prompt with one word changed (as many tokens)';
    this.input.setAttribute('aria-label', 'Corrupted prompt');
    this.input.addEventListener('input', () => {
      window.clearTimeout(this.typing.timer);
      this.typing.timer = window.setTimeout(() => page.setCircuit({ corrupted: this.input.value }), TYPING_DEBOUNCE_MS);
    });
    // The metric: a radio group (Tab in, arrow keys choose), URL `metric=`.
    const choice = document.createElement('fieldset');
    choice.className = 'compare-metric-choice';
    choice.dataset['role'] = 'patch-metric';
    const legend = document.createElement('legend');
    legend.className = 'compare-metric-legend';
    legend.textContent = 'Metric';
    choice.append(legend);
    for (const kind of PATCH_METRICS) {
      const label = document.createElement('label');
      const radio = document.createElement('input');
      radio.type = 'radio';
      radio.name = 'patch-metric';
      radio.value = kind;
      radio.dataset['role'] = `patch-metric-${kind}`;
      radio.addEventListener('change', () => {
        if (radio.checked) page.setCircuit({ patchMetric: kind });
      });
      this.metricRadios.set(kind, radio);
      label.append(radio, ` ${METRIC_LABELS[kind]}`);
      choice.append(label);
    }
    this.message = document.createElement('p');
    this.message.className = 'note compare-message';
    this.message.dataset['role'] = 'compare-message';
    this.message.setAttribute('aria-live', 'polite');
    this.metrics = document.createElement('dl');
    this.metrics.className = 'compare-metrics';
    this.metrics.dataset['role'] = 'compare-metrics';
    this.patched = document.createElement('p');
    this.patched.className = 'figure-line';
    this.patched.dataset['role'] = 'patched-summary';
    this.predictions = document.createElement('ol');
    this.predictions.className = 'compare-predictions';
    this.predictions.dataset['role'] = 'patched-predictions';
    this.predictions.setAttribute('aria-live', 'polite');
    this.clear = smallButton({ role: 'clear-patches' }, 'Clear patches', 'Run the corrupted prompt with no head patched', () =>
      page.setCircuit({ patchedHeads: [] }));
    box.append(this.input, choice, this.message, this.metrics, this.patched, this.predictions, this.clear);
  }

  render(frame: Frame, maps: PatchMapsReply | null, mapsError: string | null, run: PatchedRunReply | null, runError: string | null): void {
    const { state } = frame;
    if (document.activeElement !== this.input && this.input.value !== state.corrupted) this.input.value = state.corrupted;
    this.clear.hidden = state.patchedHeads.length === 0;
    for (const [kind, radio] of this.metricRadios) radio.checked = kind === state.patchMetric;
    if (state.corrupted === '') {
      this.message.textContent = 'Type a corrupted prompt (or pick a preset) to see which heads and positions carry the difference.';
      this.message.dataset['state'] = 'empty';
      this.metrics.replaceChildren();
      this.patched.textContent = '';
      this.predictions.replaceChildren();
      return;
    }
    const error = mapsError ?? runError;
    if (error) {
      this.message.textContent = error;
      this.message.dataset['state'] = 'error';
      this.metrics.replaceChildren();
      this.patched.textContent = '';
      this.predictions.replaceChildren();
      return;
    }
    if (!maps) {
      this.message.textContent = 'Patching every head and every position…';
      this.message.dataset['state'] = 'pending';
      return;
    }
    this.message.textContent = `Both prompts have ${maps.maps.T} tokens. Patching: ${maps.patch_ms.toFixed(0)} ms.`;
    this.message.dataset['state'] = 'ready';
    const metric = (name: string, value: number, role: string) => {
      const dt = document.createElement('dt');
      dt.textContent = name;
      const dd = document.createElement('dd');
      dd.dataset['role'] = role;
      dd.dataset['value'] = String(value);
      dd.textContent = signed(value);
      return [dt, dd];
    };
    const kind = maps.maps.metric_kind;
    const caption = document.createElement('p');
    caption.className = 'note compare-caption';
    caption.dataset['role'] = 'metric-caption';
    caption.append(...metricCaption(kind, maps));
    this.metrics.dataset['metric'] = kind;
    const short = kind === 'logprob' ? 'log p' : 'logit diff';
    this.metrics.replaceChildren(
      ...metric(`clean prompt, ${short}`, maps.maps.clean, 'metric-clean'),
      ...metric(`corrupted prompt, ${short}`, maps.maps.corrupted, 'metric-corrupted'),
      caption,
    );
    if (!run) return;
    const gap = maps.maps.clean - maps.maps.corrupted;
    const recovery = gap !== 0 ? (run.metric - maps.maps.corrupted) / gap : NaN;
    const heads = state.patchedHeads.map(headName);
    this.patched.textContent = heads.length === 0
      ? `Corrupted run, nothing patched: ${signed(run.metric)}. Click a head in the map to patch it.`
      : `Corrupted run with head${heads.length === 1 ? '' : 's'} ${heads.join(', ')} patched from the clean run: ` +
        `${signed(run.metric)}, recovery ${Number.isNaN(recovery) ? '—' : `${(recovery * 100).toFixed(0)}%`}.`;
    this.patched.dataset['metric'] = String(run.metric);
    this.patched.dataset['recovery'] = String(recovery);
    this.patched.dataset['heads'] = heads.join(',');
    const rows = run.top_k_tokens.map((token, k) => {
      const row = document.createElement('li');
      const name = document.createElement('span');
      name.className = 'token';
      renderTokenText(name, token);
      const prob = run.top_k_probs[k]!;
      row.append(name, ` ${formatProbability(prob)}`);
      row.dataset['prob'] = String(prob);
      return row;
    });
    this.predictions.replaceChildren(...rows);
    this.predictions.dataset['ids'] = Array.from(run.top_k_ids).join(',');
  }
}

/** Registry entry (app/views.ts). */
export const compareView: ViewFactory = ({ root, page, circuits }) => {
  const view = new CompareView(root, page);
  return circuitView('compare', circuits, (frame) => {
    const maps = circuits.current('maps');
    const run = circuits.current('run');
    view.render(frame, maps?.reply ?? null, maps?.error ?? null, run?.reply ?? null, run?.error ?? null);
  });
};
