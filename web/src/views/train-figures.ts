/**
 * The figures of the train panel, drawn from a TrainRun: the loss curve (raw
 * steps faint, smoothed on top), the in-context-learning score over the
 * probes, one small chart per head of its induction (accent) and
 * previous-token (warning amber) scores over time, laid out as the head grid
 * (a row per layer), and every head's attention on the probe's latest run.
 */
import { AttentionHeatmap } from './heatmap';
import { element } from './panel-dom';
import { drawChart, smoothed } from './train-charts';
import { headLabel, INDUCTION_FORMED, type TrainRun } from './train-run';

interface HeadCell {
  chart: HTMLCanvasElement;
  attention: AttentionHeatmap;
  score: HTMLElement;
}

function figure(title: string, className: string): { root: HTMLElement; body: HTMLElement } {
  const root = element('figure', `train-figure ${className}`);
  const caption = element('figcaption', 'train-caption');
  caption.textContent = title;
  const body = element('div', 'train-figure-body');
  root.append(caption, body);
  return { root, body };
}

/** A legend entry: a short bar in the line's colour (train.css) and its name. */
function swatch(className: string, label: string): HTMLElement {
  const entry = element('span', `train-swatch ${className}`);
  entry.textContent = label;
  return entry;
}

export class TrainFigures {
  readonly root = element('div', 'train-figures', 'train-figures');
  private readonly loss = element('canvas', 'train-chart', 'train-loss');
  private readonly icl = element('canvas', 'train-chart', 'train-icl');
  private readonly multiples: HTMLElement;
  private readonly attention: HTMLElement;
  private readonly attentionTitle: HTMLElement;
  private cells: HeadCell[] = [];
  /** The shape the cells were made for ("L x H"), and the probe step last painted into them. */
  private cellShape = '';
  private paintedProbe = -1;

  constructor(private readonly panel: HTMLElement) {
    const loss = figure('Training loss (nats/token; faint: each step, line: smoothed)', 'train-fig-loss');
    loss.body.append(this.loss);
    const icl = figure('In-context learning score on the probe (loss on the repeat − loss on the first copy)', 'train-fig-icl');
    icl.body.append(this.icl);
    const multiples = figure('Each head over time, scores 0 to 1 (dashed: 0.5):', 'train-fig-heads');
    multiples.root.firstElementChild!.append(swatch('train-swatch-induction', 'induction'), swatch('train-swatch-prev', 'previous-token'));
    this.multiples = multiples.body;
    this.multiples.classList.add('train-heads');
    const attention = figure('Each head’s attention on the probe', 'train-fig-attn');
    this.attentionTitle = attention.root.firstElementChild as HTMLElement;
    this.attention = attention.body;
    this.attention.classList.add('train-heads');
    this.root.append(loss.root, icl.root, multiples.root, attention.root);
  }

  private ensureCells(nLayer: number, nHead: number): void {
    const shape = `${nLayer}x${nHead}`;
    if (shape === this.cellShape) return;
    this.cellShape = shape;
    this.paintedProbe = -1;
    this.multiples.replaceChildren();
    this.attention.replaceChildren();
    this.cells = [];
    this.multiples.style.setProperty('--train-cols', String(nHead));
    this.attention.style.setProperty('--train-cols', String(nHead));
    for (let i = 0; i < nLayer * nHead; i++) {
      const label = headLabel(i, nHead);
      const chartCell = element('div', 'train-head');
      const chart = element('canvas', 'train-head-chart');
      const name = element('span', 'train-head-name');
      name.textContent = label;
      const score = element('span', 'train-head-score');
      chartCell.append(name, score, chart);
      this.multiples.append(chartCell);

      const attnCell = element('div', 'train-head');
      const attnName = element('span', 'train-head-name');
      attnName.textContent = label;
      const heatmap = new AttentionHeatmap();
      heatmap.canvas.className = 'train-head-attn';
      heatmap.canvas.setAttribute('role', 'img');
      heatmap.canvas.setAttribute('aria-label', `head ${label} attention on the probe`);
      attnCell.append(attnName, heatmap.canvas);
      this.attention.append(attnCell);
      this.cells.push({ chart, attention: heatmap, score });
    }
  }

  draw(run: TrainRun): void {
    this.root.hidden = run.info === null;
    this.panel.classList.toggle('is-training', run.playing);
    if (!run.info) {
      this.cellShape = '';
      return;
    }
    const { n_layer, n_head } = run.info;
    this.ensureCells(n_layer, n_head);
    const xMax = Math.max(run.stepsDone, Math.min(run.totalSteps, 200));
    const steps = Array.from(run.losses, (_, i) => i + 1);
    drawChart(
      this.loss,
      [
        { xs: steps, ys: run.losses, color: '--soft', width: 1, alpha: 0.35 },
        { xs: steps, ys: smoothed(run.losses), color: '--accent', width: 2 },
      ],
      { xMax, axes: { x: 'step', y: 'loss' } },
    );
    const probeSteps = run.probes.map((p) => p.step);
    drawChart(this.icl, [{ xs: probeSteps, ys: run.probes.map((p) => p.icl), color: '--accent', width: 2 }], {
      xMax,
      yMax: 0.5,
      guide: 0,
      axes: { x: 'step', y: 'ICL score' },
    });
    for (const [i, cell] of this.cells.entries()) {
      drawChart(
        cell.chart,
        [
          { xs: probeSteps, ys: run.probes.map((p) => p.prev_token[i]!), color: '--warning', width: 1.5 },
          { xs: probeSteps, ys: run.probes.map((p) => p.induction[i]!), color: '--accent', width: 2 },
        ],
        { xMax, yMin: 0, yMax: 1, guide: INDUCTION_FORMED },
      );
    }
    const latest = run.latest;
    if (latest && latest.steps_done !== this.paintedProbe) {
      this.paintedProbe = latest.steps_done;
      const T = latest.T;
      this.attentionTitle.textContent =
        `Each head’s attention on the probe (${T / 2} random tokens, then the same ${T / 2} again)`;
      for (const [i, cell] of this.cells.entries()) {
        cell.attention.draw(latest.attn, i * T * T, T);
        const ind = latest.induction[i]!, prev = latest.prev_token[i]!;
        cell.score.textContent = `ind ${ind.toFixed(2)} · prev ${prev.toFixed(2)}`;
        cell.score.classList.toggle('is-formed', ind >= INDUCTION_FORMED);
      }
    }
  }
}
