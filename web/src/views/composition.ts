/**
 * Composition made visible: the selected head's attention pattern as it is
 * and with an earlier head muted, side by side. An induction head matches
 * its query against keys that a previous-token head wrote into the residual
 * stream (K-composition, Olsson et al. 2022): mute the previous-token head
 * and the induction head's stripe fades. The engine computes both patterns
 * and their head-type scores (wasm/core/composition.h, through
 * page.compute); this view draws them with the head detail's heatmap
 * (attention-plot.ts) and prints the scores.
 */
import type { Frame, PageActions, ViewFactory } from '../app/view';
import type { CompositionResult } from '../engine/headlight-wasm';
import type { Analysis } from '../engine/protocol';
import { type HeadRef, headName } from '../state/heads';
import { drawHeatmap, themeColours } from './attention-plot';
import { NearViewport, element as el, redrawOnChange, showFailure, shownOnPage, sizedCanvas } from './panel-dom';
import { HEADS_OF } from './presets';

type Composition = Omit<CompositionResult, 'ok'>;

/**
 * The head to watch: the selected head when a layer before it can change it,
 * else the strongest induction head of the later layers (the page opens with
 * head 0.0 selected); null for a one-layer model. induction: [L x H] scores.
 */
export function watchedHead(selected: HeadRef, induction: ArrayLike<number>, n_layer: number, n_head: number): HeadRef | null {
  if (selected.layer > 0) return selected;
  if (n_layer < 2) return null;
  let best = n_head;
  for (let i = n_head; i < n_layer * n_head; i++) if (induction[i]! > induction[best]!) best = i;
  return { layer: Math.floor(best / n_head), head: best % n_head };
}

/**
 * The head to mute by default for `target`: the model's known
 * previous-token head (HEADS_OF) in an earlier layer, else the earlier
 * head with the highest previous-token score; null for a first-layer target.
 * prevScores: [L x H] previous_token scores of the pass.
 */
export function defaultSource(model: string, target: HeadRef, prevScores: ArrayLike<number>, n_head: number): HeadRef | null {
  const known = HEADS_OF[model]?.previousToken.map((name) => {
    const [layer, head] = name.split('.').map(Number);
    return { layer: layer!, head: head! };
  }).find((h) => h.layer < target.layer);
  if (known) return known;
  let best: HeadRef | null = null;
  for (let i = 0; i < target.layer * n_head; i++) {
    if (!best || prevScores[i]! > prevScores[best.layer * n_head + best.head]!) best = { layer: Math.floor(i / n_head), head: i % n_head };
  }
  return best;
}

class CompositionPanel {
  private readonly panel: HTMLElement;
  private readonly source: HTMLSelectElement;
  private readonly target: HTMLElement;
  private readonly canvases: { before: HTMLCanvasElement; after: HTMLCanvasElement };
  private readonly captions: { before: HTMLElement; after: HTMLElement };
  private readonly scores: HTMLElement;
  private readonly note: HTMLElement;
  /** Whether the panel is near the viewport: it asks the engine only then. */
  private readonly view: NearViewport;
  /** The reader's pick of the head to mute (null: the default), what was asked last, the answer drawn. */
  private readonly shown: {
    picked: HeadRef | null;
    asked: { analysis: Analysis | null; choice: string };
    seq: number;
    frame: Frame | null;
    /** The answer on screen and what it is of, to draw again at another width or colour scheme. */
    drawn: { result: Composition; analysis: Analysis; source: HeadRef; target: HeadRef } | null;
  } = { picked: null, asked: { analysis: null, choice: '' }, seq: 0, frame: null, drawn: null };

  constructor(root: HTMLElement, private readonly page: PageActions) {
    this.panel = root.querySelector<HTMLElement>('[data-panel="composition"]')!;
    const box = root.querySelector<HTMLElement>('[data-role="composition"]')!;
    const controls = el('p', 'comp-controls');
    const label = el('label', 'comp-pick');
    label.append('Mute ');
    this.source = el('select', 'comp-source', 'comp-source');
    label.append(this.source);
    this.target = el('span', 'comp-target', 'comp-target');
    controls.append(label, ' and watch ', this.target);
    this.source.addEventListener('change', () => {
      const [layer, head] = this.source.value.split('.').map(Number);
      this.shown.picked = { layer: layer!, head: head! };
      if (this.shown.frame) this.draw(this.shown.frame);
    });
    const pair = el('div', 'comp-pair');
    const figure = (role: string) => {
      const fig = el('figure', 'comp-figure');
      const caption = el('figcaption', 'comp-caption');
      const canvas = el('canvas', 'comp-canvas', role);
      canvas.setAttribute('role', 'img');
      fig.append(caption, canvas);
      pair.append(fig);
      return { canvas, caption };
    };
    const before = figure('comp-before');
    const after = figure('comp-after');
    this.canvases = { before: before.canvas, after: after.canvas };
    this.captions = { before: before.caption, after: after.caption };
    this.scores = el('p', 'figure-line comp-scores', 'comp-scores');
    this.scores.setAttribute('aria-live', 'polite');
    this.note = el('p', 'note', 'comp-note');
    box.replaceChildren(controls, pair, this.scores, this.note);
    redrawOnChange(this.panel, () => {
      const d = this.shown.drawn;
      if (d) this.render(d.result, d.analysis, d.source, d.target);
    });
    this.view = new NearViewport(this.panel, () => {
      if (this.shown.frame) this.draw(this.shown.frame);
    });
  }

  draw(frame: Frame): void {
    if (frame.reason !== 'analysis' && frame.reason !== 'selection') return;
    this.shown.frame = frame;
    const { analysis, head: selected, model } = frame;
    if (!analysis || !this.view.near || !shownOnPage(this.panel)) return;
    const H = analysis.n_head;
    const target = watchedHead(selected, analysis.head_types.induction, analysis.n_layer, H);
    if (!target) {
      this.clear('This model has one layer: no head can read what another head wrote.');
      return;
    }
    this.target.textContent = target === selected
      ? `head ${headName(target)} (the selected head)`
      : `head ${headName(target)} (the strongest induction head: select a head of a later layer to watch it)`;
    const prev = analysis.head_types.previous_token;
    const picked = this.shown.picked;
    const source = picked && picked.layer < target.layer ? picked : defaultSource(model.name, target, prev, H);
    this.fillSources(target, source, prev, H);
    if (!source) return;  // a target has a layer before it: never null here
    const choice = `${headName(source)}>${headName(target)}`;
    if (analysis === this.shown.asked.analysis && choice === this.shown.asked.choice) return;
    this.shown.asked = { analysis, choice };
    const seq = ++this.shown.seq;
    this.page
      .compute('composition', {
        text: frame.state.text,
        gains: analysis.gains.slice(),
        means: analysis.means.slice(),
        source,
        target,
      })
      .then((result) => {
        if (seq === this.shown.seq) this.render(result, analysis, source, target);
      })
      .catch((error: unknown) => {
        if (seq !== this.shown.seq) return;
        showFailure(error, this.note);
      });
  }

  /** The earlier layers' heads, each with its previous-token score; the source selected. */
  private fillSources(target: HeadRef, source: HeadRef | null, prev: ArrayLike<number>, H: number): void {
    const options: HTMLOptionElement[] = [];
    for (let i = 0; i < target.layer * H; i++) {
      const name = headName({ layer: Math.floor(i / H), head: i % H });
      const option = document.createElement('option');
      option.value = name;
      option.textContent = `${name} · prev ${prev[i]!.toFixed(2)}`;
      options.push(option);
    }
    this.source.replaceChildren(...options);
    this.source.disabled = options.length === 0;
    if (source) this.source.value = headName(source);
  }

  private clear(message: string): void {
    this.shown.asked = { analysis: null, choice: '' };
    this.shown.drawn = null;
    for (const canvas of [this.canvases.before, this.canvases.after]) canvas.getContext('2d')?.clearRect(0, 0, canvas.width, canvas.height);
    this.captions.before.textContent = '';
    this.captions.after.textContent = '';
    this.scores.textContent = '';
    delete this.panel.dataset['before'];
    delete this.panel.dataset['after'];
    this.note.textContent = message;
  }

  private render(c: Composition, analysis: Analysis, source: HeadRef, target: HeadRef): void {
    this.shown.drawn = { result: c, analysis, source, target };
    const t = headName(target), s = headName(source);
    this.captions.before.textContent = `${t} as it is`;
    this.captions.after.textContent = `${t} with ${s} muted`;
    for (const [canvas, attn] of [[this.canvases.before, c.before], [this.canvases.after, c.after]] as const) {
      const box = sizedCanvas(canvas);
      if (!box) continue;
      const { ctx, width, height } = box;
      const one = { T: c.T, n_head: 1, tokens: analysis.tokens, attn };
      drawHeatmap(ctx, width, height, one, 0, 0, -1, themeColours(canvas));
      canvas.setAttribute('aria-label', `Attention of head ${t}${attn === c.after ? ` with ${s} muted` : ''}: query rows, key columns`);
    }
    const b = c.before_scores, a = c.after_scores;
    const change = (x: number, y: number) => `${x.toFixed(2)} → ${y.toFixed(2)}`;
    this.scores.textContent = `Head ${t}: induction score ${change(b.induction, a.induction)}, previous-token ${change(b.previous_token, a.previous_token)}, first-token ${change(b.first_token, a.first_token)}.`;
    this.panel.dataset['before'] = String(b.induction);
    this.panel.dataset['after'] = String(a.induction);
    this.panel.dataset['pair'] = `${s}>${t}`;
    this.note.textContent = c.composes
      ? `Muting ${s} is a what-if: the page's own edits stay as they are. ${t} reads the residual stream ${s} writes to; when its pattern changes, it was using ${s}'s output (through its queries, keys or values).`
      : `${s} is not in an earlier layer than ${t}: muting it cannot change ${t}'s attention.`;
  }
}

export const compositionView: ViewFactory = ({ root, page }) => {
  const panel = new CompositionPanel(root, page);
  return {
    label: 'composition',
    draw(frame) {
      panel.draw(frame);
    },
  };
};
