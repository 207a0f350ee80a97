/**
 * Compare two runs (issue 17 item 6, docs/circuits.md): the selected head's
 * attention in run A and run B side by side, and the difference B − A as a
 * diverging map with its legend and the largest differences named, for
 * three pairs: edited against unedited (the page's edits), two prompts (the
 * text and a second one, by default the corrupted prompt of Compare
 * prompts; different counts aligned by position, and said), or the text in
 * the loaded model and in another of the same shape (a checkpoint of its
 * training). The engine computes everything (worker compareRuns: passes of
 * their own, then compareAttention); this view draws, and lists per query
 * row the total variation and Jensen–Shannon distance the engine gave.
 * URL: runs= (the pair), runtext=, runwith=; the head is the page's head=.
 */
import type { Frame, PageActions, ViewFactory } from '../app/view';
import type { EngineClient } from '../engine/client';
import { fetchModelIndex, modelsBaseUrl, type ModelEntry } from '../engine/model-index';
import type { LoadedModel, RunCompareReply, RunPair } from '../engine/protocol';
import { headName } from '../state/heads';
import { RUN_PAIRS, type RunPairKind } from '../state/url-state';
import { drawHeatmap, themeColours, tokenLabel } from './attention-plot';
import { diverging, divergingCss, divergingIndex, type Figure } from './circuit-figures';
import { addExportButtons } from './circuit-export';
import { NearViewport, element as el, redrawOnChange, showFailure, shownOnPage, sizedCanvas } from './panel-dom';
import { type RunMap, type RunModelChoice, diffScale, runMapFigure, runModelChoices } from './run-compare-figures';

const TYPING_DEBOUNCE_MS = 300;

const PAIR_LABELS: Record<RunPairKind, string> = {
  edits: 'Edited vs unedited',
  prompts: 'Two prompts',
  models: 'Two models',
};

const SCORE_NAMES = [
  ['induction', 'induction'],
  ['previous_token', 'previous-token'],
  ['first_token', 'first-token'],
  ['duplicate_token', 'duplicate-token'],
  ['local', 'local'],
  ['entropy', 'entropy'],
] as const;

function signed(x: number): string {
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
}

class RunComparePanel {
  private readonly panel: HTMLElement;
  private readonly radios: Map<RunPairKind, HTMLInputElement> = new Map();
  private readonly textB: HTMLTextAreaElement;
  private readonly modelB: HTMLSelectElement;
  private readonly subject: HTMLElement;
  private readonly canvases: Record<RunMap, HTMLCanvasElement>;
  private readonly captions: Record<RunMap, HTMLElement>;
  private readonly legend: HTMLElement;
  private readonly rows: HTMLCanvasElement;
  private readonly scores: HTMLTableElement;
  private readonly largest: HTMLOListElement;
  private readonly note: HTMLElement;
  private readonly view: NearViewport;
  /** The served models (fetched once), what was asked last, the reply drawn and the other model held. */
  private readonly shown: {
    index: Promise<ModelEntry[]> | null;
    models: ModelEntry[] | null;
    asked: string;
    seq: number;
    frame: Frame | null;
    reply: RunCompareReply | null;
    holdsModel: boolean;
    typing: number | undefined;
  } = { index: null, models: null, asked: '', seq: 0, frame: null, reply: null, holdsModel: false, typing: undefined };

  constructor(root: HTMLElement, private readonly page: PageActions, private readonly engine: Pick<EngineClient, 'call'>) {
    this.panel = root.querySelector<HTMLElement>('[data-panel="runs"]')!;
    const box = root.querySelector<HTMLElement>('[data-role="runs"]')!;
    const pairs = el('fieldset', 'runs-pairs', 'runs-pairs');
    const legend = el('legend', 'runs-pairs-legend');
    legend.textContent = 'Compare';
    pairs.append(legend);
    for (const kind of RUN_PAIRS) {
      const label = el('label', 'runs-pair');
      const radio = el('input', 'runs-radio', `runs-pair-${kind}`);
      radio.type = 'radio';
      radio.name = 'runs-pair';
      radio.value = kind;
      radio.addEventListener('change', () => {
        if (radio.checked) page.setCircuit({ runPair: kind });
      });
      this.radios.set(kind, radio);
      label.append(radio, ` ${PAIR_LABELS[kind]}`);
      pairs.append(label);
    }
    this.textB = el('textarea', 'text-input runs-text', 'runs-text');
    this.textB.rows = 2;
    this.textB.spellcheck = false;
    this.textB.setAttribute('aria-label', 'Second prompt (run B)');
    this.textB.addEventListener('input', () => {
      window.clearTimeout(this.shown.typing);
      this.shown.typing = window.setTimeout(() => page.setCircuit({ runText: this.textB.value }), TYPING_DEBOUNCE_MS);
    });
    this.modelB = el('select', 'runs-model', 'runs-model');
    this.modelB.setAttribute('aria-label', 'Model of run B');
    this.modelB.addEventListener('change', () => page.setCircuit({ runModel: this.modelB.value }));
    this.subject = el('p', 'runs-subject', 'runs-subject');
    const maps = el('div', 'runs-maps');
    const figure = (map: RunMap) => {
      const fig = el('figure', 'runs-figure');
      const caption = el('figcaption', 'runs-caption');
      const canvas = el('canvas', 'runs-canvas', `runs-${map}`);
      canvas.setAttribute('role', 'img');
      fig.append(caption, canvas);
      maps.append(fig);
      return { fig, canvas, caption };
    };
    const figures = { a: figure('a'), b: figure('b'), diff: figure('diff') };
    this.canvases = { a: figures.a.canvas, b: figures.b.canvas, diff: figures.diff.canvas };
    this.captions = { a: figures.a.caption, b: figures.b.caption, diff: figures.diff.caption };
    this.legend = el('p', 'note runs-legend', 'runs-legend');
    figures.diff.fig.append(this.legend);
    const what: Record<RunMap, string> = { a: 'run A attention map', b: 'run B attention map', diff: 'difference map' };
    for (const map of ['a', 'b', 'diff'] as const) {
      addExportButtons(figures[map].fig, what[map], () => this.figure(map), (m) => page.showError(m));
    }
    const rowsTitle = el('h4', 'runs-rows-title');
    rowsTitle.textContent = 'Per query row: total variation (bars) and Jensen–Shannon distance (dots) between A and B';
    this.rows = el('canvas', 'runs-rows', 'runs-rows');
    this.rows.setAttribute('role', 'img');
    this.scores = el('table', 'runs-scores', 'runs-scores');
    const largestTitle = el('h4', 'runs-largest-title');
    largestTitle.textContent = 'Largest differences (query → key: B − A)';
    this.largest = el('ol', 'runs-largest', 'runs-largest');
    this.note = el('p', 'note runs-note', 'runs-note');
    this.note.setAttribute('aria-live', 'polite');
    box.replaceChildren(pairs, this.textB, this.modelB, this.subject, this.note, maps, rowsTitle, this.rows, this.scores, largestTitle, this.largest);
    redrawOnChange(this.panel, () => {
      if (this.shown.reply) this.render(this.shown.reply);
    });
    this.view = new NearViewport(this.panel, () => {
      if (this.shown.frame) this.draw(this.shown.frame);
    });
  }

  private figure(map: RunMap): { figure: Figure; name: string } | null {
    const reply = this.shown.reply;
    const model = this.shown.frame?.model.name ?? 'model';
    if (!reply) return null;
    return { figure: { kind: 'matrix', figure: runMapFigure(reply, map) }, name: `headlight-${model}-runs-${reply.kind}-${reply.layer}.${reply.head}-${map}` };
  }

  draw(frame: Frame): void {
    if (frame.reason !== 'analysis' && frame.reason !== 'selection') return;
    this.shown.frame = frame;
    const { state, analysis, model } = frame;
    const kind = state.runPair;
    for (const [k, radio] of this.radios) radio.checked = k === kind;
    this.textB.hidden = kind !== 'prompts';
    this.modelB.hidden = kind !== 'models';
    this.panel.dataset['pair'] = kind;
    if (document.activeElement !== this.textB && this.textB.value !== state.runText) this.textB.value = state.runText;
    this.textB.placeholder = state.corrupted !== '' ? `Empty: the corrupted prompt (${state.corrupted.slice(0, 60)})` : 'A second prompt (run B)';
    if (!shownOnPage(this.panel)) {
      this.release();
      return;
    }
    if (kind !== 'models') this.release();
    if (!analysis || !this.view.near) return;
    if (kind === 'models' && !this.shown.models) {
      this.shown.index ??= fetchModelIndex().then((index) => index.models);
      this.shown.index.then((models) => {
        this.shown.models = models;
        if (this.shown.frame) this.draw(this.shown.frame);
      }).catch((error: unknown) => showFailure(error, this.note));
      return;
    }
    const pair = this.pairOf(frame, model);
    if (!pair) return;
    const head = frame.head;
    const key = JSON.stringify([model.name, pair, headName(head), state.text, Array.from(analysis.gains), Array.from(analysis.means)]);
    if (key === this.shown.asked) return;
    this.shown.asked = key;
    const seq = ++this.shown.seq;
    this.panel.setAttribute('aria-busy', 'true');
    this.note.textContent = pair.kind === 'models' && !this.shown.holdsModel ? `Loading ${pair.model} beside ${model.name}…` : 'Running both…';
    this.page
      .compute('compareRuns', { text: state.text, gains: analysis.gains.slice(), means: analysis.means.slice(), layer: head.layer, head: head.head, pair })
      .then((reply) => {
        this.shown.holdsModel = pair.kind === 'models';
        if (seq !== this.shown.seq) return;
        this.panel.removeAttribute('aria-busy');
        this.render(reply);
      })
      .catch((error: unknown) => {
        if (seq !== this.shown.seq) return;
        this.panel.removeAttribute('aria-busy');
        this.shown.asked = '';
        this.clear();
        showFailure(error, this.note);
      });
  }

  /** The pair the state asks for, or null with the reason shown. */
  private pairOf(frame: Frame, model: LoadedModel): RunPair | null {
    const { state } = frame;
    if (state.runPair === 'edits') return { kind: 'edits' };
    if (state.runPair === 'prompts') {
      const textB = state.runText !== '' ? state.runText : state.corrupted;
      if (textB === '') {
        this.clear();
        this.note.textContent = 'Type a second prompt here, or a corrupted prompt in Compare prompts.';
        return null;
      }
      return { kind: 'prompts', textB };
    }
    const choices = runModelChoices(this.shown.models ?? [], model);
    this.fillModels(choices, state.runModel);
    const chosen = choices.find((c) => c.value === state.runModel) ?? choices.find((c) => !c.mismatch);
    if (!chosen || chosen.mismatch) {
      this.clear();
      this.note.textContent = chosen?.mismatch ??
        `No other served model or checkpoint has the shape of ${model.name} (${model.n_layer} layers × ${model.n_head} heads, width ${model.n_embd}).`;
      this.panel.dataset['mismatch'] = 'true';
      return null;
    }
    delete this.panel.dataset['mismatch'];
    this.modelB.value = chosen.value;
    return { kind: 'models', model: chosen.value, baseUrl: new URL(chosen.path, modelsBaseUrl()).href };
  }

  private fillModels(choices: RunModelChoice[], value: string): void {
    const options = choices.map((c) => {
      const option = document.createElement('option');
      option.value = c.value;
      option.textContent = c.mismatch ? `${c.label} (another shape)` : c.label;
      return option;
    });
    this.modelB.replaceChildren(...options);
    if (value !== '') this.modelB.value = value;
  }

  /** Frees the other model of a pair of models in the worker, if this panel had one loaded. */
  private release(): void {
    if (!this.shown.holdsModel) return;
    this.shown.holdsModel = false;
    this.shown.asked = '';
    void this.engine.call('releaseCompare', {}).catch(() => undefined);
  }

  private clear(): void {
    this.shown.reply = null;
    for (const map of ['a', 'b', 'diff'] as const) {
      const canvas = this.canvases[map];
      canvas.getContext('2d')?.clearRect(0, 0, canvas.width, canvas.height);
      this.captions[map].textContent = '';
    }
    this.rows.getContext('2d')?.clearRect(0, 0, this.rows.width, this.rows.height);
    this.legend.replaceChildren();
    this.scores.replaceChildren();
    this.largest.replaceChildren();
    this.subject.textContent = '';
    delete this.panel.dataset['maxAbs'];
  }

  private render(reply: RunCompareReply): void {
    this.shown.reply = reply;
    const c = reply.comparison;
    const head = `${reply.layer}.${reply.head}`;
    this.subject.textContent = `Head ${head} (the selected head). A: ${reply.a.label}. B: ${reply.b.label}.`;
    this.captions.a.textContent = `A: ${reply.a.label}`;
    this.captions.b.textContent = `B: ${reply.b.label}`;
    this.captions.diff.textContent = 'B − A';
    const colours = themeColours(this.panel);
    for (const map of ['a', 'b'] as const) {
      const side = reply[map];
      const box = sizedCanvas(this.canvases[map]);
      if (!box) continue;
      drawHeatmap(box.ctx, box.width, box.height, { T: side.tokens.length, n_head: 1, tokens: side.tokens, attn: side.attn }, 0, 0, -1, colours);
      this.canvases[map].setAttribute('aria-label', `Attention of head ${head} in run ${map.toUpperCase()} (${side.label}): query rows, key columns`);
    }
    const scale = diffScale(reply);
    const mapped = new Float32Array(c.diff.length);
    for (let i = 0; i < mapped.length; i++) mapped[i] = divergingIndex(c.diff[i]!, scale);
    const box = sizedCanvas(this.canvases.diff);
    if (box) drawHeatmap(box.ctx, box.width, box.height, { T: c.T, n_head: 1, tokens: reply.a.tokens.slice(0, c.T), attn: mapped }, 0, 0, -1, colours, diverging);
    this.canvases.diff.setAttribute('aria-label', `Difference B − A of head ${head}, largest |B − A| ${c.max_abs.toFixed(3)}`);
    this.drawLegend(scale);
    this.drawRows(reply, colours.accent, colours.text);
    this.renderScores(reply);
    this.renderLargest(reply);
    const same = c.max_abs === 0 ? ' The two runs give this head the same attention everywhere: the map is all white.' : '';
    this.note.textContent = `${reply.alignment ? `${reply.alignment[0]!.toUpperCase()}${reply.alignment.slice(1)}. ` : ''}Largest |B − A| ${c.max_abs.toFixed(3)}.${same} Computed in ${reply.compute_ms.toFixed(0)} ms.`;
    this.panel.dataset['maxAbs'] = String(c.max_abs);
  }

  private drawLegend(scale: number): void {
    const swatch = (v: number, text: string) => {
      const s = el('span', 'patch-swatch');
      const { fill, ink } = divergingCss(v, scale);
      s.style.background = fill;
      s.style.color = ink;
      s.textContent = text;
      return s;
    };
    this.legend.replaceChildren('B − A: ', swatch(-scale, `−${scale.toFixed(2)}`), swatch(0, '0'), swatch(scale, `+${scale.toFixed(2)}`),
      ' (blue: B attends more; red: less)');
  }

  /** Bars of the total variation per query row, dots of the JS distance; both in [0, 1]. */
  private drawRows(reply: RunCompareReply, bar: string, ink: string): void {
    const box = sizedCanvas(this.rows);
    if (!box) return;
    const { ctx, width, height } = box;
    const { T, total_variation: tv, js_distance: js } = reply.comparison;
    ctx.clearRect(0, 0, width, height);
    const left = 28, bottom = height - 14, top = 6;
    const step = (width - left - 4) / Math.max(T, 1);
    ctx.fillStyle = ink;
    ctx.font = '10px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.fillText('1', 4, top);
    ctx.fillText('0', 4, bottom);
    ctx.fillRect(left, bottom, width - left - 4, 1);
    const y = (v: number) => bottom - v * (bottom - top);
    let worst = 0;
    for (let t = 0; t < T; t++) {
      ctx.fillStyle = bar;
      ctx.fillRect(left + t * step + step * 0.15, y(tv[t]!), Math.max(1, step * 0.7), bottom - y(tv[t]!));
      ctx.fillStyle = ink;
      ctx.beginPath();
      ctx.arc(left + (t + 0.5) * step, y(js[t]!), Math.max(1.5, Math.min(3, step / 3)), 0, 2 * Math.PI);
      ctx.fill();
      if (tv[t]! > tv[worst]!) worst = t;
    }
    this.rows.setAttribute('aria-label', T === 0 ? 'No rows' :
      `Per query row: most different at query ${worst} ${tokenLabel(reply.a.tokens[worst] ?? '')}, total variation ${tv[worst]!.toFixed(3)}, JS distance ${js[worst]!.toFixed(3)}`);
    this.rows.dataset['worst'] = String(worst);
  }

  private renderScores(reply: RunCompareReply): void {
    const c = reply.comparison;
    const head = el('tr', 'runs-score-head');
    for (const text of ['run', ...SCORE_NAMES.map(([, name]) => name)]) {
      const th = document.createElement('th');
      th.textContent = text;
      head.append(th);
    }
    const row = (name: string, scores: typeof c.scores_a) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = name;
      tr.append(th);
      for (const [key] of SCORE_NAMES) {
        const td = document.createElement('td');
        td.textContent = scores[key].toFixed(2);
        td.dataset['score'] = key;
        tr.append(td);
      }
      return tr;
    };
    const caption = document.createElement('caption');
    caption.textContent = 'Head-type scores of each run (docs/heads.md)';
    this.scores.replaceChildren(caption, head, row('A', c.scores_a), row('B', c.scores_b));
  }

  private renderLargest(reply: RunCompareReply): void {
    const c = reply.comparison;
    const items: HTMLLIElement[] = [];
    for (let i = 0; i < c.largest_query.length; i++) {
      const q = c.largest_query[i]!, k = c.largest_key[i]!, v = c.largest_value[i]!;
      const li = document.createElement('li');
      const a = reply.a.attn[q * reply.a.tokens.length + k]!;
      const b = reply.b.attn[q * reply.b.tokens.length + k]!;
      li.textContent = `query ${q} ${tokenLabel(reply.a.tokens[q]!)} → key ${k} ${tokenLabel(reply.a.tokens[k]!)}: ${signed(v)} (A ${a.toFixed(3)}, B ${b.toFixed(3)})`;
      li.dataset['query'] = String(q);
      li.dataset['key'] = String(k);
      li.dataset['value'] = String(v);
      items.push(li);
    }
    if (items.length === 0) {
      const li = document.createElement('li');
      li.textContent = 'None: no cell differs.';
      items.push(li);
    }
    this.largest.replaceChildren(...items);
  }
}

export const runCompareView: ViewFactory = ({ root, page, engine }) => {
  const panel = new RunComparePanel(root, page, engine);
  return {
    label: 'compare runs',
    draw(frame) {
      panel.draw(frame);
    },
  };
};
