/**
 * One head's arithmetic: a teaching panel that steps through how the
 * selected head turns the selected query token into attention and an
 * output, with the numbers of the pass on screen (BertViz's neuron view,
 * from the engine on every model): scores q·k → scaled by 1/√d → causal
 * mask → softmax → weighted sum of v → output through c_proj. The engine
 * computes every number (wasm/core/head_arithmetic.h, asked through
 * page.compute); this view lays them out: a row per key token, bars for
 * the softmax, q, z and the output as strips, and the query/key scatter.
 * Keyboard: the step buttons are a toolbar (← → Home End), the description
 * line is aria-live.
 */
import type { Frame, PageActions, ViewFactory } from '../app/view';
import type { Analysis } from '../engine/protocol';
import { headName } from '../state/heads';
import { formatProbability } from '../state/format';
import { drawKeyScatter, drawStrip, type ScatterGeometry } from './arithmetic-plot';
import { type Arithmetic, STEPS, argmax, describeStep, formatValue, stepAfter } from './arithmetic-steps';
import { themeColours } from './attention-plot';
import { NearViewport, element as el, redrawOnChange, showFailure, shownOnPage, sizedCanvas as sized } from './panel-dom';
import { renderTokenText } from './token-text';

/** Rows of the key table at most: the keys with the most weight beyond it (a table of 1024 rows teaches nothing). */
const MAX_ROWS = 128;

/** The keys the table lists: all of them, or the MAX_ROWS with the most weight, in position order. */
export function shownKeys(probs: ArrayLike<number>): number[] {
  const keys = [...Array(probs.length).keys()];
  if (keys.length <= MAX_ROWS) return keys;
  return keys.sort((i, j) => probs[j]! - probs[i]! || i - j).slice(0, MAX_ROWS).sort((i, j) => i - j);
}

class ArithmeticPanel {
  private readonly panel: HTMLElement;
  private readonly subject: HTMLElement;
  private readonly stepButtons: HTMLButtonElement[];
  private readonly say: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly scatter: HTMLCanvasElement;
  private readonly strips: { q: HTMLCanvasElement; z: HTMLCanvasElement; output: HTMLCanvasElement };
  private readonly note: HTMLElement;
  /** Whether the panel is near the viewport: it asks the engine only then. */
  private readonly view: NearViewport;
  /**
   * What the panel shows: the step, the answer on screen and the tokens it
   * is about, the request waited for, the last frame (asked about when the
   * panel comes into view).
   */
  private readonly shown: {
    step: number;
    arithmetic: Arithmetic | null;
    tokens: readonly string[];
    asked: { analysis: Analysis | null; choice: string };
    seq: number;
    frame: Frame | null;
  } = { step: 0, arithmetic: null, tokens: [], asked: { analysis: null, choice: '' }, seq: 0, frame: null };

  constructor(root: HTMLElement, private readonly page: PageActions) {
    this.panel = root.querySelector<HTMLElement>('[data-panel="arithmetic"]')!;
    const box = root.querySelector<HTMLElement>('[data-role="arithmetic"]')!;
    this.subject = root.querySelector<HTMLElement>('[data-role="arith-subject"]')!;

    const toolbar = el('div', 'arith-steps', 'arith-steps');
    toolbar.setAttribute('role', 'toolbar');
    toolbar.setAttribute('aria-label', 'Steps of the arithmetic (arrow keys move)');
    const back = el('button', 'button arith-back', 'arith-back');
    back.type = 'button';
    back.textContent = '←';
    back.setAttribute('aria-label', 'Previous step');
    back.tabIndex = -1;
    const next = el('button', 'button arith-next', 'arith-next');
    next.type = 'button';
    next.textContent = '→';
    next.setAttribute('aria-label', 'Next step');
    next.tabIndex = -1;
    this.stepButtons = STEPS.map((step, i) => {
      const button = el('button', 'button arith-step');
      button.type = 'button';
      button.dataset['step'] = step.id;
      button.textContent = `${i + 1} ${step.label}`;
      button.title = step.name;
      button.addEventListener('click', () => this.go(i, false));
      return button;
    });
    back.addEventListener('click', () => this.go(stepAfter(this.shown.step, -1), false));
    next.addEventListener('click', () => this.go(stepAfter(this.shown.step, 1), false));
    toolbar.append(back, ...this.stepButtons, next);
    toolbar.addEventListener('keydown', (event) => {
      const to = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 }[event.key];
      if (to !== undefined) this.go(stepAfter(this.shown.step, to), true);
      else if (event.key === 'Home') this.go(0, true);
      else if (event.key === 'End') this.go(STEPS.length - 1, true);
      else return;
      event.preventDefault();
    });

    this.say = el('p', 'arith-say', 'arith-say');
    this.say.setAttribute('aria-live', 'polite');
    const wrap = el('div', 'arith-table-wrap');
    wrap.tabIndex = 0;
    wrap.setAttribute('role', 'region');
    wrap.setAttribute('aria-label', 'Each key token and its numbers');
    this.table = el('table', 'arith-table', 'arith-table');
    wrap.append(this.table);
    const figure = el('figure', 'arith-scatter');
    this.scatter = el('canvas', 'arith-scatter-canvas', 'arith-scatter');
    this.scatter.setAttribute('role', 'img');
    const caption = el('figcaption', 'note');
    caption.textContent = 'Keys (dots, bigger = more attention) and the query (◆). Across: each key along q, so further right is a higher score (0 at the vertical line). Up: the keys\' largest spread that q cannot see.';
    figure.append(this.scatter, caption);
    const body = el('div', 'arith-body');
    body.append(wrap, figure);

    const strip = (name: string, label: string) => {
      const row = el('div', 'arith-vector');
      row.dataset['vector'] = name;
      const title = el('span', 'arith-vector-label');
      title.textContent = label;
      const canvas = el('canvas', 'arith-strip', `arith-${name}`);
      canvas.setAttribute('role', 'img');
      row.append(title, canvas);
      return { row, canvas };
    };
    const q = strip('q', 'q');
    const z = strip('z', 'z = Σ p·v');
    const output = strip('output', 'output');
    this.strips = { q: q.canvas, z: z.canvas, output: output.canvas };
    const vectors = el('div', 'arith-vectors');
    vectors.append(q.row, z.row, output.row);
    this.note = el('p', 'note', 'arith-note');
    box.replaceChildren(toolbar, this.say, body, vectors, this.note);
    this.go(0, false);
    redrawOnChange(this.panel, () => {
      if (this.shown.arithmetic) this.render();
    });
    this.view = new NearViewport(this.panel, () => {
      if (this.shown.frame) this.draw(this.shown.frame);
    });
  }

  draw(frame: Frame): void {
    if (frame.reason !== 'analysis' && frame.reason !== 'selection') return;
    this.shown.frame = frame;
    const { analysis, head, position } = frame;
    if (!analysis || !this.view.near || !shownOnPage(this.panel) || position < 0) return;
    // A new pass is a new Analysis object; the same pass and choice is asked once.
    const choice = `${headName(head)}@${position}`;
    if (analysis === this.shown.asked.analysis && choice === this.shown.asked.choice) return;
    this.shown.asked = { analysis, choice };
    const seq = ++this.shown.seq;
    const tokens = analysis.tokens;
    this.page
      .compute('headArithmetic', {
        text: frame.state.text,
        gains: analysis.gains.slice(),
        means: analysis.means.slice(),
        layer: head.layer,
        head: head.head,
        position,
      })
      .then((arithmetic) => {
        if (seq !== this.shown.seq) return;  // a newer request is on its way
        this.shown.arithmetic = arithmetic;
        this.shown.tokens = tokens;
        this.render();
      })
      .catch((error: unknown) => {
        if (seq !== this.shown.seq) return;
        showFailure(error, this.note);
      });
  }

  /** Moves to step i; focus follows it when the keyboard moved it. */
  private go(i: number, focus: boolean): void {
    this.shown.step = i;
    this.stepButtons.forEach((button, j) => {
      button.setAttribute('aria-pressed', String(j === i));
      button.tabIndex = j === i ? 0 : -1;
    });
    if (focus) this.stepButtons[i]!.focus();
    this.table.dataset['step'] = STEPS[i]!.id;
    this.panel.dataset['step'] = STEPS[i]!.id;
    this.showStep();
  }

  private showStep(): void {
    const a = this.shown.arithmetic;
    if (!a) {
      this.say.textContent = 'Select a head and a token: this panel steps through how that head attends from it.';
      return;
    }
    this.say.textContent = describeStep(this.shown.step, a, this.shown.tokens);
  }

  /** The whole panel for a new answer; steps only toggle what the CSS shows (data-step). */
  private render(): void {
    const a = this.shown.arithmetic!;
    const tokens = this.shown.tokens;
    const D = a.d_head;
    this.subject.textContent = `head ${a.layer}.${a.head} · query “${tokens[a.position] ?? ''}” (${a.position})`;
    this.panel.dataset['head'] = `${a.layer}.${a.head}`;
    this.panel.dataset['position'] = String(a.position);

    const head = document.createElement('thead');
    const titles: [string, string][] = [['#', 'c-pos'], ['key token', 'c-key'], ['q·k', 'c-scores'], [`÷ √${D}`, 'c-scaled'], ['softmax', 'c-softmax'], ['v (× p)', 'c-weighted']];
    const headRow = document.createElement('tr');
    for (const [text, cls] of titles) {
      const th = el('th', cls);
      th.scope = 'col';
      th.textContent = text;
      headRow.append(th);
    }
    head.append(headRow);
    const body = document.createElement('tbody');
    const keys = shownKeys(a.probs);
    const top = argmax(a.probs);
    const vStrips: [HTMLCanvasElement, number][] = [];
    for (const s of keys) {
      const row = el('tr', s === top ? 'arith-row is-top' : 'arith-row');
      row.dataset['key'] = String(s);
      const pos = el('td', 'c-pos');
      pos.textContent = String(s);
      const token = el('td', 'c-key');
      const chip = el('span', 'arith-token');
      renderTokenText(chip, tokens[s] ?? '');
      token.append(chip);
      const score = el('td', 'num c-scores');
      score.textContent = formatValue(a.scores[s]!);
      score.dataset['value'] = String(a.scores[s]);
      const scaled = el('td', 'num c-scaled');
      scaled.textContent = formatValue(a.scaled[s]!);
      scaled.dataset['value'] = String(a.scaled[s]);
      const soft = el('td', 'c-softmax');
      soft.dataset['prob'] = String(a.probs[s]);
      const bar = el('span', 'arith-bar');
      bar.style.width = `${(100 * a.probs[s]!).toFixed(2)}%`;
      const label = el('span', 'arith-prob');
      label.textContent = formatProbability(a.probs[s]!);
      soft.append(bar, label);
      const weighted = el('td', 'c-weighted');
      const canvas = el('canvas', 'arith-v');
      canvas.style.opacity = String(0.15 + 0.85 * Math.min(1, a.probs[s]! / a.probs[top]!));
      weighted.append(canvas);
      vStrips.push([canvas, s]);
      row.append(pos, token, score, scaled, soft, weighted);
      body.append(row);
    }
    const later = a.T - a.position - 1;
    const masked = el('tr', 'arith-masked');
    const cell = el('td', 'c-key');
    cell.colSpan = 4;
    cell.textContent = later > 0
      ? `${later} later token${later === 1 ? '' : 's'} (${a.position + 1}..${a.T - 1}): masked`
      : 'no later token to mask';
    cell.textContent += later > 0 ? ': −∞' : '';
    const zero = el('td', 'c-softmax');
    zero.textContent = later > 0 ? '0' : '';
    masked.append(cell, zero, el('td', 'c-weighted'));
    body.append(masked);
    this.table.replaceChildren(head, body);
    this.table.dataset['probs'] = Array.from(a.probs, String).join(',');

    // The most attended key in view: the table scrolls, the page does not.
    const topRow = body.querySelector<HTMLElement>('.arith-row.is-top');
    const wrap = this.table.parentElement!;
    if (topRow) wrap.scrollTop += topRow.getBoundingClientRect().top - wrap.getBoundingClientRect().top - wrap.clientHeight / 2;
    for (const [canvas, s] of vStrips) {
      const box = sized(canvas);
      if (box) drawStrip(box.ctx, box.width, box.height, a.v.subarray(s * D, (s + 1) * D));
    }
    const strips: [HTMLCanvasElement, Float32Array][] = [[this.strips.q, a.q], [this.strips.z, a.z], [this.strips.output, a.output]];
    for (const [canvas, values] of strips) {
      const box = sized(canvas);
      if (box) drawStrip(box.ctx, box.width, box.height, values);
      canvas.setAttribute('aria-label', `${values.length} numbers, from ${formatValue(Math.min(...values))} to ${formatValue(Math.max(...values))}`);
    }
    const box = sized(this.scatter);
    if (box) {
      const g: ScatterGeometry = drawKeyScatter(box.ctx, box.width, box.height, a, tokens, themeColours(this.scatter));
      this.scatter.dataset['geometry'] = JSON.stringify(g);
      this.scatter.setAttribute('aria-label', `Scatter of the ${a.position + 1} keys of head ${a.layer}.${a.head}; the most attended: ${g.labelled.map((s) => `“${tokens[s] ?? ''}”`).join(', ')}`);
    }
    const hidden = a.probs.length - keys.length;
    const edits = a.z_replaced ? ' This head is mean-ablated: c_proj gets its mean z, not this z.' : a.gain !== 1 ? ` This head's gain is ${formatValue(a.gain)}: its z is multiplied by it before c_proj.` : '';
    this.note.textContent = (hidden > 0 ? `The ${keys.length} keys with the most weight of ${a.probs.length}. ` : '') +
      `Every number is the engine's, from this pass (the softmax row is the attention the other views draw).${edits}`;
    this.showStep();
  }
}

export const arithmeticView: ViewFactory = ({ root, page }) => {
  const panel = new ArithmeticPanel(root, page);
  return {
    label: 'arithmetic',
    draw(frame) {
      panel.draw(frame);
    },
  };
};
