/**
 * The Syntax view: which parts of speech each head connects, from the syntax
 * probe of the loaded model (protocol.ts Methods.syntaxPart; docs/heads.md,
 * "Syntactic heads"). The probe is about half a second of one core on gpt-4l
 * and about 12 s on the GPT-2-small shape, so the view asks for it only once the
 * reader shows interest (the panel scrolls into view, or the "syn" toggle is
 * pressed), then once per model, after its first analysis is drawn; the
 * worker computes it a part at a time between the page's other requests
 * (app/syntax-runs.ts), and the view shows "computing… N%" with a progress
 * bar meanwhile. It shows the selected head's top tag pairs, the
 * list of syntactic heads (a click selects one), a "syn" toggle in the
 * head-type legend (addLegendFilter) that dims every other head of the grid,
 * and the definition beside the other head types'.
 */
import { SyntaxRuns } from '../app/syntax-runs';
import type { ViewFactory } from '../app/view';
import type { SyntaxProbe } from '../engine/protocol';
import { headName } from '../state/heads';
import { addLegendFilter, setLegendCount } from './head-type-legend';
import { headPairs, pairDetail, pairLabel, syntacticHeads } from './syntax-pairs';

const PROBE_PATH = 'probes/brown-pos.json';
const FILTER = { filter: 'syntactic', name: 'syntactic', meaning: 'it links words of one part of speech to another more than its positions alone would' };

interface SyntaxElements {
  status: HTMLElement;
  progress: HTMLElement;
  head: HTMLElement;
  heads: HTMLElement;
  grid: HTMLElement;
  toggle: HTMLButtonElement;
}

class SyntaxView {
  /** The probe on screen, the model it is of, and the model asked for (null: none yet). */
  private readonly shown: {
    probe: SyntaxProbe | null;
    /** The model whose analysis is drawn, the one the probe was asked for; null: none yet. */
    model: string | null;
    asked: string | null;
    /** True once the reader looked at the panel or pressed "syn": from then on every model is probed. */
    wanted: boolean;
    /** The page's selected head, and the head whose pairs are drawn (l * H + h; -1 none). */
    selected: { layer: number; head: number };
    head: number;
  } = { probe: null, model: null, asked: null, wanted: false, selected: { layer: 0, head: 0 }, head: -1 };

  constructor(
    private readonly el: SyntaxElements,
    private readonly ask: (model: string, onProgress: (fraction: number) => void) => Promise<SyntaxProbe | null>,
    private readonly select: (layer: number, head: number) => void,
  ) {
    setLegendCount(el.toggle, 'syn', FILTER.name, null);
    this.setState('waiting', 'The heads are probed when this panel comes into view, or with “syn” above the grid.');
    el.toggle.addEventListener('click', () => this.want());
    el.heads.addEventListener('click', (event) => {
      const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-layer]');
      if (button) this.select(Number(button.dataset['layer']), Number(button.dataset['head']));
    });
  }

  /** The reader shows interest: probe the shown model now, and every model after it. */
  want(): void {
    this.shown.wanted = true;
    if (this.shown.model) this.request(this.shown.model);
  }

  /** A model's analysis is drawn: its probe, if the reader wants probes. */
  modelShown(model: string): void {
    this.shown.model = model;
    if (this.shown.wanted) this.request(model);
    this.markGrid();
  }

  /** Asks for the model's probe unless it is on screen or on its way. */
  private request(model: string): void {
    if (this.shown.asked === model) return;
    this.shown.asked = model;
    this.shown.probe = null;
    this.shown.head = -1;
    this.el.head.replaceChildren();
    this.el.heads.replaceChildren();
    this.setState('computing', 'Probing the heads on 180 tagged sentences, a few at a time between your edits…');
    this.showProgress(0);
    setLegendCount(this.el.toggle, 'syn', FILTER.name, null);
    this.ask(model, (fraction) => {
      if (this.shown.asked === model) this.showProgress(fraction);
    }).then(
      (probe) => {
        // null: stopped for another model; a probe of a model asked before.
        if (!probe || this.shown.asked !== probe.model) return;
        this.shown.probe = probe;
        this.renderAll();
      },
      (error: unknown) => {
        if (this.shown.asked !== model) return;
        this.setState('failed', `Could not probe the heads: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  }

  /** The status line and its state (data-state: waiting, computing, ready, failed); the progress bar only while computing. */
  private setState(state: 'waiting' | 'computing' | 'ready' | 'failed', text: string): void {
    this.el.status.textContent = text;
    this.el.status.dataset['state'] = state;
    this.el.progress.hidden = state !== 'computing';
  }

  /** The progress bar and "computing… N%" (fraction of the probe's work, 0..1; data-progress on the bar's row). */
  private showProgress(fraction: number): void {
    const bar = this.el.progress.querySelector('progress')!;
    bar.value = fraction;
    this.el.progress.dataset['progress'] = String(fraction);
    this.el.progress.querySelector('[data-role="syntax-progress-label"]')!.textContent = `computing… ${Math.floor(fraction * 100)}%`;
  }

  /** The grid's cells again (a new model's grid, drawn after the probe came). */
  markGrid(): void {
    const probe = this.shown.probe;
    if (!probe) return;
    for (const button of this.el.grid.querySelectorAll<HTMLElement>('button[data-layer][data-head]')) {
      const i = Number(button.dataset['layer']) * probe.n_head + Number(button.dataset['head']);
      const cell = button.closest<HTMLElement>('.head-cell');
      if (!cell) continue;
      if (probe.syntactic[i]) cell.dataset['syntactic'] = '';
      else delete cell.dataset['syntactic'];
    }
  }

  showHead(layer: number, head: number): void {
    this.shown.selected = { layer, head };
    const probe = this.shown.probe;
    if (!probe) return;
    const i = layer * probe.n_head + head;
    if (i === this.shown.head) return;
    this.shown.head = i;
    const name = headName({ layer, head });
    const pairs = headPairs(probe, i);
    const title = document.createElement('h3');
    title.className = 'syntax-title';
    title.textContent = pairs.length === 0
      ? `Head ${name}: no tag pair gets ${Math.round(probe.min_share * 100)}% of its queries’ attention`
      : `Head ${name}${probe.syntactic[i] ? ' is syntactic' : ''}: its top tag pairs`;
    const list = document.createElement('ol');
    list.className = 'syntax-pairs';
    for (const pair of pairs) {
      const item = document.createElement('li');
      const label = document.createElement('strong');
      label.textContent = pairLabel(pair);
      item.append(label, ` · ${pairDetail(pair)}`);
      if (pair.ratio >= probe.ratio_threshold) item.classList.add('is-above');
      list.append(item);
    }
    this.el.head.replaceChildren(title, list);
  }

  private renderAll(): void {
    const probe = this.shown.probe!;
    const heads = syntacticHeads(probe);
    const n = probe.n_layer * probe.n_head;
    setLegendCount(this.el.toggle, 'syn', FILTER.name, heads.length);
    this.setState('ready',
      `${heads.length} of ${n} heads are syntactic: a tag pair at ${probe.ratio_threshold}× chance or more, ` +
      `with ${Math.round(probe.min_share * 100)}% or more of its queries’ attention ` +
      `(${probe.n_sentences} sentences, ${probe.n_tokens} tokens, ${(probe.compute_ms / 1000).toFixed(2)} s of compute).`);
    const buttons = heads.map((i) => {
      const layer = Math.floor(i / probe.n_head), head = i % probe.n_head;
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'button syntax-head';
      button.dataset['layer'] = String(layer);
      button.dataset['head'] = String(head);
      const top = headPairs(probe, i)[0];
      button.textContent = `${headName({ layer, head })} ${top ? pairLabel(top) : ''}`;
      button.title = top ? `Inspect head ${headName({ layer, head })}: ${pairDetail(top)}` : '';
      return button;
    });
    const caption = document.createElement('p');
    caption.className = 'syntax-heads-caption';
    caption.textContent = heads.length > 0 ? 'The syntactic heads, strongest pair first (click one to inspect it):' : 'No head is syntactic.';
    this.el.heads.replaceChildren(caption, ...buttons);
    this.shown.head = -1;
    this.showHead(this.shown.selected.layer, this.shown.selected.head);
    this.markGrid();
  }
}

/** The definition in plain words, in the legend's list of definitions after the head types'. */
function appendDefinition(definitions: HTMLElement): void {
  const list = definitions.querySelector('dl') ?? definitions.appendChild(document.createElement('dl'));
  const term = document.createElement('dt');
  const badge = document.createElement('span');
  badge.className = 'head-badge is-inline';
  badge.textContent = 'syn';
  term.append(badge, ' syntactic');
  const meaning = document.createElement('dd');
  meaning.textContent =
    `${FILTER.meaning}. On 180 held-out Brown sentences tagged with parts of speech (noun, verb, determiner, …), ` +
    'each run alone: for each pair of tags, the part of a tag’s attention that goes to words of the other tag, ' +
    'divided by what the head’s average pattern by position alone would give (chance). ' +
    'A head is syntactic when a pair reaches 2× chance with at least 10% of the attention (and 20 queries of its tag). ' +
    'Unlike the other types, this is of the unedited model on the probe, not of the text shown.';
  list.append(term, meaning);
}

/** Registry entry (app/views.ts). */
export const syntaxView: ViewFactory = ({ root, page, engine }) => {
  const find = (role: string) => root.querySelector<HTMLElement>(`[data-role="${role}"]`)!;
  appendDefinition(find('head-type-definitions'));
  const runs = new SyntaxRuns(engine);
  const probeUrl = new URL(PROBE_PATH, document.baseURI).href;
  const view = new SyntaxView(
    {
      status: find('syntax-status'),
      progress: find('syntax-progress'),
      head: find('syntax-head'),
      heads: find('syntax-heads'),
      grid: find('head-grid'),
      toggle: addLegendFilter(find('head-type-legend'), FILTER),
    },
    (model, onProgress) => runs.probe(model, probeUrl, onProgress),
    (layer, head) => page.selectHead(layer, head),
  );
  new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) view.want();
  }).observe(find('syntax-status'));
  return {
    label: 'syntax',
    draw({ reason, model, analysis, head }) {
      if (reason === 'analysis' && analysis) view.modelShown(model.name);
      view.showHead(head.layer, head.head);
    },
  };
};
