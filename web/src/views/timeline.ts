/**
 * The Training view: a model's training timeline (views/timeline-data.ts),
 * for any served model whose index entry has checkpoints (attn-only-2l).
 * A step slider over the checkpoints; the loss curve on the training
 * phases' bands; the in-context learning scores; per head a tiny chart of
 * its induction and previous-token scores over training, above its
 * attention on the current text at the selected checkpoint. Moving the
 * slider loads that checkpoint as the page's model (PageActions.openModel:
 * the whole page shows it; the files are fetched once, with progress, and
 * kept: app/checkpoint-files.ts); the last step is the trained model itself.
 * Play walks through the checkpoints, each shown until its pass is drawn
 * and PLAY_DWELL_MS more. Zoom narrows every chart's step axis to the phase
 * change (timeline-data.ts phaseChange: where the ICL score falls), where the checkpoints are dense.
 */
import type { PageActions, ViewFactory } from '../app/view';
import { baseModelName } from '../engine/checkpoint-names';
import { fetchModelIndex, modelsBaseUrl, type ModelIndex } from '../engine/model-index';
import type { Analysis, Progress } from '../engine/protocol';
import { formatBytes } from '../state/format';
import { AttentionHeatmap } from './heatmap';
import { element, redrawOnChange } from './panel-dom';
import { headChart, iclChart, lossChart, type StepDomain } from './timeline-charts';
import { formatStep, parseTimeline, phaseChange, phaseLabel, playOrder, pointOf, zoomDomain, type Timeline } from './timeline-data';

const PLAY_DWELL_MS = 700;

interface TimelineElements {
  note: HTMLElement;
  body: HTMLElement;
  play: HTMLButtonElement;
  zoom: HTMLButtonElement;
  slider: HTMLInputElement;
  step: HTMLElement;
  progress: HTMLProgressElement;
  loss: HTMLElement;
  phases: HTMLElement;
  icl: HTMLElement;
  iclNote: HTMLElement;
  heads: HTMLElement;
}

function build(container: HTMLElement): TimelineElements {
  const note = element('p', 'tl-note', 'timeline-note');
  const body = element('div', 'tl-body', 'timeline-body');
  const controls = element('div', 'tl-controls');
  const play = element('button', 'tl-play', 'timeline-play');
  play.type = 'button';
  play.textContent = 'Play';
  const slider = element('input', 'tl-slider', 'timeline-slider');
  slider.type = 'range';
  slider.min = '0';
  slider.step = '1';
  slider.setAttribute('aria-label', 'Training step (checkpoint)');
  const step = element('span', 'tl-step', 'timeline-step');
  step.setAttribute('aria-live', 'polite');
  const progress = element('progress', 'tl-progress', 'timeline-progress');
  progress.hidden = true;
  const zoom = element('button', 'tl-zoom', 'timeline-zoom');
  zoom.type = 'button';
  zoom.setAttribute('aria-pressed', 'false');
  zoom.hidden = true;
  controls.append(play, slider, step, progress, zoom);

  const charts = element('div', 'tl-charts');
  const lossBlock = element('figure', 'tl-figure');
  const loss = element('div', 'tl-chart', 'timeline-loss');
  const phases = element('ul', 'tl-phases', 'timeline-phases');
  const lossCaption = element('figcaption', 'tl-caption');
  lossCaption.append(
    keyed('tl-key-val', 'validation loss on text (nats/token)'),
    keyed('tl-key-train', 'training loss, on what the phase feeds'),
    keyed('tl-key-mark', 'checkpoints: click one to load it'),
  );
  lossBlock.append(loss, lossCaption, phases);
  const iclBlock = element('figure', 'tl-figure');
  const icl = element('div', 'tl-chart', 'timeline-icl');
  const iclNote = element('figcaption', 'tl-caption', 'timeline-icl-note');
  iclBlock.append(icl, iclNote);
  charts.append(lossBlock, iclBlock);

  const headsTitle = element('h3', 'tl-heads-title');
  headsTitle.innerHTML =
    'Every head over training: <span class="tl-key tl-key-induction"></span> induction score ' +
    '<span class="tl-key tl-key-prev"></span> previous-token score (on the random-token probe), ' +
    'and below, its attention on the text above at the selected step';
  const heads = element('div', 'tl-heads', 'timeline-heads');
  body.append(controls, charts, headsTitle, heads);
  body.hidden = true;
  container.append(note, body);
  return { note, body, play, zoom, slider, step, progress, loss, phases, icl, iclNote, heads };
}

/** One head's cell: its score chart and its attention thumbnail. */
interface HeadCell {
  cell: HTMLElement;
  chart: HTMLElement;
  heatmap: AttentionHeatmap;
}

class TimelineView {
  /** Everything the view holds, by name. */
  private readonly state: {
    index: Promise<ModelIndex> | null;
    /** Timelines fetched, by served model name. */
    timelines: Map<string, Promise<Timeline>>;
    /** The timeline drawn, and the point the page's model is (-1: none yet). */
    shown: Timeline | null;
    selected: number;
    /** The point asked for last (the slider, a click, Play), and whether a load runs. */
    wanted: number;
    loading: boolean;
    playing: boolean;
    /** The pass the thumbnails show, and resolvers waiting for a model's pass to be drawn. */
    drawn: Analysis | null;
    waiters: { name: string; resolve: () => void }[];
    cells: HeadCell[];
    /** The page's model (its name picks the timeline and the point). */
    model: string;
    /** The last analysis drawn, repainted when a timeline arrives after it. */
    analysis: Analysis | null;
    /** Whether the charts' step axes show only the phase change. */
    zoomed: boolean;
  } = {
    index: null,
    timelines: new Map(),
    shown: null,
    selected: -1,
    wanted: -1,
    loading: false,
    playing: false,
    drawn: null,
    waiters: [],
    cells: [],
    model: '',
    analysis: null,
    zoomed: false,
  };

  constructor(
    private readonly dom: TimelineElements,
    private readonly page: PageActions,
  ) {
    dom.slider.addEventListener('input', () => this.ask(Number(dom.slider.value)));
    dom.play.addEventListener('click', () => (this.state.playing ? this.stop() : void this.play()));
    dom.zoom.addEventListener('click', () => {
      this.state.zoomed = !this.state.zoomed;
      this.redraw();
    });
    for (const chart of [dom.loss, dom.icl]) {
      chart.addEventListener('click', (event) => {
        const mark = (event.target as Element).closest<SVGElement>('[data-role="checkpoint-mark"]');
        if (mark) this.ask(Number(mark.dataset['point']));
      });
    }
    dom.heads.addEventListener('click', (event) => {
      const cell = (event.target as Element).closest<HTMLElement>('[data-head]');
      if (!cell || !this.state.shown) return;
      const head = Number(cell.dataset['head']);
      this.page.selectHead(Math.floor(head / this.state.shown.n_head), head % this.state.shown.n_head);
    });
  }

  /** The page's model changed or a pass was drawn: find its timeline, draw. */
  modelShown(name: string, analysis: Analysis | null): void {
    const s = this.state;
    s.model = name;
    if (analysis && analysis.model === name) s.analysis = analysis;
    const base = baseModelName(name);
    if (s.shown && s.shown.model !== base) {
      // Another model: its timeline (if any) replaces this one; a Play stops.
      this.stop();
      s.shown = null;
      s.selected = -1;
    }
    if (s.shown?.model === base) {
      this.render();
      return;
    }
    void this.timelineOf(base).then((timeline) => {
      // Another frame's request may have shown it already (a model load draws two frames).
      if (baseModelName(this.state.model) !== base || this.state.shown?.model === base) return;
      this.state.shown = timeline;
      this.buildCells(timeline);
      this.render();
    }, (error: unknown) => {
      if (baseModelName(this.state.model) !== base) return;
      this.state.shown = null;
      this.showNote(error instanceof Error ? error.message : String(error));
    });
  }

  private async timelineOf(base: string): Promise<Timeline> {
    const s = this.state;
    s.index ??= fetchModelIndex();
    const index = await s.index;
    const entry = index.models.find((m) => m.name === base);
    if (!entry || entry.timeline !== true) {
      const withTimeline = index.models.filter((m) => m.timeline === true).map((m) => m.name);
      throw new Error(
        withTimeline.length > 0
          ? `${base} was served without training checkpoints. Open ${withTimeline.join(' or ')} to scrub through its training.`
          : 'No served model has training checkpoints.',
      );
    }
    let timeline = s.timelines.get(base);
    if (!timeline) {
      timeline = fetch(new URL(`${base}/timeline.json`, modelsBaseUrl()))
        .then((response) => {
          if (!response.ok) throw new Error(`no timeline for ${base} (HTTP ${response.status})`);
          return response.json();
        })
        .then((json) => parseTimeline(json, base));
      s.timelines.set(base, timeline);
      timeline.catch(() => s.timelines.delete(base));
    }
    return timeline;
  }

  private showNote(text: string): void {
    this.dom.note.textContent = text;
    this.dom.note.hidden = false;
    this.dom.body.hidden = true;
  }

  private buildCells(timeline: Timeline): void {
    const { heads } = this.dom;
    heads.replaceChildren();
    heads.style.setProperty('--n-head', String(timeline.n_head));
    this.state.cells = [];
    for (let i = 0; i < timeline.n_layer * timeline.n_head; i++) {
      const cell = element('div', 'tl-head-cell', 'timeline-head');
      cell.dataset['head'] = String(i);
      const chart = element('div', 'tl-head-chart');
      const heatmap = new AttentionHeatmap();
      heatmap.canvas.className = 'tl-thumb';
      heatmap.canvas.dataset['role'] = 'timeline-thumb';
      cell.append(chart, heatmap.canvas);
      heads.append(cell);
      this.state.cells.push({ cell, chart, heatmap });
    }
  }

  /** Draws everything for the page's model; the thumbnails when its pass is drawn. */
  private render(): void {
    const s = this.state;
    const timeline = s.shown;
    if (!timeline) return;
    const point = pointOf(timeline, s.model);
    this.dom.note.hidden = true;
    this.dom.body.hidden = false;
    const { slider } = this.dom;
    slider.max = String(timeline.points.length - 1);
    if (point >= 0 && !s.loading) slider.value = String(point);
    if (point !== s.selected || this.dom.loss.childElementCount === 0) {
      s.selected = point;
      this.drawCharts(timeline, Math.max(0, point));
    }
    this.describeStep();
    const analysis = s.analysis;
    if (analysis && analysis.model === s.model && point >= 0 && s.drawn !== analysis) {
      s.drawn = analysis;
      this.paintThumbnails(analysis, timeline.points[point]!.step);
    }
    if (analysis && analysis.model === s.model) this.passShown(s.model);
  }

  /** A pass of model `name` is on the page (or none will come: the text is empty): a Play goes on. */
  passShown(name: string): void {
    const s = this.state;
    for (const waiter of s.waiters.filter((w) => w.name === name)) waiter.resolve();
    s.waiters = s.waiters.filter((w) => w.name !== name);
  }

  /** The charts again at the widths their boxes have now (the panel was resized). */
  redraw(): void {
    const { shown, selected } = this.state;
    if (shown && !this.dom.body.hidden) this.drawCharts(shown, Math.max(0, selected));
  }

  private drawCharts(timeline: Timeline, point: number): void {
    const { dom } = this;
    const change = phaseChange(timeline);
    const zoomed = this.state.zoomed && change !== null;
    const domain: StepDomain = zoomed ? zoomDomain(change, timeline.last_step) : [0, timeline.last_step];
    dom.zoom.hidden = change === null;
    dom.zoom.setAttribute('aria-pressed', String(zoomed));
    dom.zoom.textContent = zoomed ? 'Whole run' : 'Zoom to the phase change';
    dom.zoom.title = change
      ? `Induction heads form between steps ${formatStep(change.from)} and ${formatStep(change.to)}: ` +
        `the probe's ICL score goes from ${change.icl_from.toFixed(2)} to ${change.icl_to.toFixed(2)} nats and ` +
        `the best head's induction score from ${change.induction_from.toFixed(2)} to ${change.induction_to.toFixed(2)}, ` +
        `seen by ${change.inside} checkpoints in between`
      : '';
    dom.loss.replaceChildren(lossChart(timeline, point, dom.loss.clientWidth || 640, domain));
    dom.icl.replaceChildren(iclChart(timeline, point, dom.icl.clientWidth || 420, domain, change));
    dom.phases.replaceChildren(
      ...timeline.phases.map((phase) => {
        const item = element('li', `tl-phase-item tl-phase-item-${phase.data}`);
        item.textContent = `Steps ${formatStep(phase.from)}–${formatStep(phase.to)}, ${phaseLabel(phase)}: ${phase.feeds}.`;
        return item;
      }),
    );
    const bands = timeline.text_icl_tokens;
    dom.iclNote.innerHTML = '';
    dom.iclNote.append(
      keyed('tl-key-text-icl', bands
        ? `on text: loss of tokens ${bands.late[0]}–${bands.late[1]} of a window minus tokens ${bands.early[0]}–${bands.early[1]} ` +
          '(Olsson et al. 2022 take the 500th token minus the 50th; ours keep that tenfold ratio in 128 tokens); ' +
          'above 0 in the warm-up, whose sequences leave the late positions untrained'
        : 'on text: not measured for this timeline'),
      keyed('tl-key-probe', `on the probe: loss on the second copy of ${timeline.probe_half_len} random tokens minus the first ` +
        '(short enough to fit the warm-up\'s shortest sequences, where the heads form)'),
    );
    this.state.cells.forEach((cell, head) => cell.chart.replaceChildren(headChart(timeline, head, point, cell.chart.clientWidth || 120, domain)));
  }

  private paintThumbnails(analysis: Analysis, step: number): void {
    const { T, n_head } = analysis;
    this.state.cells.forEach((cell, head) => {
      const layer = Math.floor(head / n_head);
      if (layer >= analysis.n_layer) return;
      cell.heatmap.draw(analysis.attn, (layer * n_head + (head % n_head)) * T * T, T);
      cell.heatmap.canvas.dataset['step'] = String(step);
    });
    this.dom.heads.dataset['drawnStep'] = String(step);
  }

  private describeStep(progressText = ''): void {
    const s = this.state;
    const timeline = s.shown;
    if (!timeline) return;
    const at = timeline.points[s.loading ? s.wanted : s.selected];
    if (!at) {
      this.dom.step.textContent = '';
      return;
    }
    const last = at.step === timeline.last_step ? ' (the trained model)' : '';
    const icl = [at.text_icl === null ? null : `text ${at.text_icl.toFixed(2)}`, `probe ${at.probe_icl.toFixed(2)}`].filter(Boolean).join(', ');
    this.dom.step.textContent =
      `step ${formatStep(at.step)} of ${formatStep(timeline.last_step)}${last}` +
      (s.loading ? ` · loading${progressText}` : ` · validation loss ${at.val_loss?.toFixed(2) ?? '–'} · ICL ${icl}`);
    this.dom.slider.setAttribute('aria-valuetext', `step ${formatStep(at.step)}`);
  }

  /** The reader asked for point i: load it (the newest ask wins; one load at a time). */
  ask(i: number): void {
    const s = this.state;
    if (!s.shown || !(i >= 0 && i < s.shown.points.length)) return;
    s.wanted = i;
    if (!s.loading) void this.loadWanted();
    else this.describeStep();
  }

  private async loadWanted(): Promise<string | null> {
    const s = this.state;
    let error: string | null = null;
    s.loading = true;
    const { progress } = this.dom;
    try {
      while (s.shown && s.wanted >= 0 && s.shown.points[s.wanted]!.name !== s.model) {
        const target = s.shown.points[s.wanted]!;
        this.describeStep();
        progress.hidden = false;
        progress.removeAttribute('value');
        error = await this.page.openModel(target.name, (p: Progress) => {
          if (p.total > 0) {
            progress.max = p.total;
            progress.value = p.loaded;
            this.describeStep(` ${formatBytes(p.loaded)} of ${formatBytes(p.total)}`);
          }
        });
        if (error) break;
      }
    } finally {
      s.loading = false;
      progress.hidden = true;
      this.render();
    }
    if (error) this.stop();
    return error;
  }

  /** Resolves once the page has drawn a pass of model `name`. */
  private passDrawn(name: string): Promise<void> {
    const s = this.state;
    if (s.analysis?.model === name && s.model === name) return Promise.resolve();
    return new Promise((resolve) => s.waiters.push({ name, resolve }));
  }

  private async play(): Promise<void> {
    const s = this.state;
    if (!s.shown) return;
    s.playing = true;
    this.dom.play.textContent = 'Pause';
    this.dom.play.setAttribute('aria-pressed', 'true');
    for (const i of playOrder(s.shown.points.length, Math.max(0, s.selected))) {
      if (!s.playing || !s.shown) break;
      s.wanted = i;
      const name = s.shown.points[i]!.name;
      const error = s.loading ? null : await this.loadWanted();
      if (error || !s.playing) break;
      await this.passDrawn(name);
      await new Promise((resolve) => window.setTimeout(resolve, PLAY_DWELL_MS));
    }
    this.stop();
  }

  private stop(): void {
    this.state.playing = false;
    this.dom.play.textContent = 'Play';
    this.dom.play.setAttribute('aria-pressed', 'false');
  }
}

function keyed(keyClass: string, text: string): HTMLElement {
  const line = element('span', 'tl-keyed');
  const key = element('span', `tl-key ${keyClass}`);
  line.append(key, document.createTextNode(` ${text}`));
  return line;
}

export const timelineView: ViewFactory = ({ root, page }) => {
  const container = root.querySelector<HTMLElement>('[data-role="timeline"]');
  if (!container) return { label: 'training', draw() {} };
  const view = new TimelineView(build(container), page);
  redrawOnChange(container, () => view.redraw());
  return {
    label: 'training',
    draw({ reason, model, analysis }) {
      if (reason === 'analysis' || reason === 'gains') view.modelShown(model.name, analysis);
      if (reason === 'empty-text') view.passShown(model.name);
    },
  };
};
