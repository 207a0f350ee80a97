/**
 * The Training view's charts as SVG, all over the same step axis (linear,
 * 0 .. the run's last step): the loss curve on the training phases' bands
 * (what each phase feeds the model, labelled), the in-context learning
 * scores, and one tiny chart per head of its induction and previous-token
 * scores. Every checkpoint has a mark (data-role="checkpoint-mark",
 * data-point=i: a click selects it), the selected step a vertical line
 * (data-role="step-mark"). Colours come from CSS classes (styles/timeline.css),
 * so the charts follow light and dark. Each chart is drawn at the width its
 * box has on the page (one SVG unit = one CSS pixel), so its text keeps its
 * size from a phone to a wide screen. The step axis covers a domain: the
 * whole run, or (zoomed) the phase change, where the checkpoints are dense;
 * what falls outside the plot is clipped by an inner <svg> viewport.
 */
import { el, ticks } from './pruning-chart';
import { formatStep, phaseLabel, type PhaseChange, type Timeline } from './timeline-data';

/** The steps a chart's x axis covers, [first, last]. */
export type StepDomain = readonly [number, number];

interface Box {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** A chart's step (x) and value (y) scales over its plot area. */
interface Scales {
  x: (step: number) => number;
  y: (value: number) => number;
  box: Box;
}

function scales(box: Box, domain: StepDomain, lo: number, hi: number): Scales {
  const plotW = box.width - box.left - box.right;
  const plotH = box.height - box.top - box.bottom;
  const [first, last] = domain;
  return {
    x: (step) => box.left + ((step - first) / (last - first || 1)) * plotW,
    y: (value) => box.top + (1 - (value - lo) / (hi - lo || 1)) * plotH,
    box,
  };
}

/**
 * An SVG path through the points whose value is finite ("M x y L x y ...");
 * a missing value breaks the line. points: [step, value] pairs.
 */
export function linePath(points: readonly (readonly [number, number | null])[], s: Pick<Scales, 'x' | 'y'>): string {
  let d = '';
  let pen = false;
  for (const [step, value] of points) {
    if (value === null || !Number.isFinite(value)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${s.x(step).toFixed(1)} ${s.y(value).toFixed(1)} `;
    pen = true;
  }
  return d.trim();
}

/** The values' range widened to round ticks. */
function valueRange(values: number[], fallback: [number, number]): { lo: number; hi: number; marks: number[] } {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { lo: fallback[0], hi: fallback[1], marks: ticks(fallback[0], fallback[1], 4) };
  const marks = ticks(Math.min(...finite), Math.max(...finite), 4);
  return { lo: Math.min(marks[0]!, ...finite), hi: Math.max(marks[marks.length - 1]!, ...finite), marks };
}

/**
 * The plot area as a nested <svg> whose viewport clips what it holds to the
 * plot's x range (its coordinates are the outer chart's), for lines and
 * bands that run past a zoomed domain.
 */
function plotArea(svg: SVGSVGElement, box: Box): SVGSVGElement {
  const plotW = box.width - box.left - box.right;
  const inner = el('svg', { x: box.left, y: 0, width: plotW, height: box.height, viewBox: `${box.left} 0 ${plotW} ${box.height}`, overflow: 'hidden' });
  svg.append(inner);
  return inner;
}

function inDomain(step: number, domain: StepDomain): boolean {
  return step >= domain[0] && step <= domain[1];
}

function axes(svg: SVGSVGElement, s: Scales, domain: StepDomain, yMarks: number[], yLabel: string | null): void {
  const { box } = s;
  const bottom = box.height - box.bottom;
  const g = el('g', { class: 'tl-axes' });
  g.append(el('line', { x1: box.left, y1: bottom, x2: box.width - box.right, y2: bottom }));
  for (const value of yMarks) {
    const at = s.y(value);
    g.append(el('line', { class: 'tl-grid', x1: box.left, y1: at, x2: box.width - box.right, y2: at }));
    g.append(el('text', { x: box.left - 5, y: at + 4, 'text-anchor': 'end' }, String(value)));
  }
  for (const step of ticks(domain[0], domain[1], box.width < 420 ? 2 : 4)) {
    if (!inDomain(step, domain)) continue;
    g.append(el('text', { x: s.x(step), y: bottom + 14, 'text-anchor': 'middle' }, formatStep(step)));
  }
  if (yLabel) g.append(el('text', { class: 'tl-axis-name', x: box.left, y: box.top - 6 }, yLabel));
  svg.append(g);
}

/** The selected step's vertical line, and the hit areas that select a checkpoint. */
function stepMark(svg: SVGSVGElement, s: Scales, step: number, domain: StepDomain): void {
  if (!inDomain(step, domain)) return;
  svg.append(
    el('line', {
      class: 'tl-step-mark',
      'data-role': 'step-mark',
      'data-step': step,
      x1: s.x(step),
      y1: s.box.top,
      x2: s.x(step),
      y2: s.box.height - s.box.bottom,
    }),
  );
}

function checkpointMarks(svg: SVGSVGElement, s: Scales, timeline: Timeline, valueOf: (i: number) => number | null, selected: number, domain: StepDomain): void {
  const g = el('g', { class: 'tl-marks' });
  timeline.points.forEach((p, i) => {
    if (!inDomain(p.step, domain)) return;
    const value = valueOf(i);
    const y = value !== null && Number.isFinite(value) ? s.y(value) : s.box.height - s.box.bottom;
    const mark = el('circle', {
      class: i === selected ? 'tl-mark tl-mark-selected' : 'tl-mark',
      'data-role': 'checkpoint-mark',
      'data-point': i,
      cx: s.x(p.step),
      cy: y,
      r: i === selected ? 4.5 : 3,
    });
    mark.append(el('title', {}, `step ${formatStep(p.step)}`));
    g.append(mark);
  });
  svg.append(g);
}

/** The chart's box at `width` CSS px (at least 280). */
function sized(box: Box, width: number): Box {
  return { ...box, width: Math.max(280, Math.round(width)) };
}

/** About the width of one character of an 11 px label (a bold one's, to be safe). */
const LABEL_CHAR_PX = 6.6;

const LOSS_BOX: Box = { width: 640, height: 230, left: 32, right: 10, top: 44, bottom: 22 };

/**
 * The loss curve: validation (solid) and training-mix (dashed) loss every
 * eval, over the phases' bands, each band labelled at the top with its data
 * and sequence length; the checkpoints' validation losses marked.
 */
export function lossChart(timeline: Timeline, selected: number, width: number, domain: StepDomain): SVGSVGElement {
  const box = sized(LOSS_BOX, width);
  const values = timeline.loss.flatMap((p) => [p.val_loss ?? NaN, p.train_loss ?? NaN]);
  const range = valueRange([...values, ...timeline.points.map((p) => p.val_loss ?? NaN)], [0, 10]);
  const s = scales(box, domain, range.lo, range.hi);
  const svg = el('svg', { viewBox: `0 0 ${box.width} ${box.height}`, class: 'tl-svg tl-loss', role: 'img' });
  svg.append(el('title', {}, `Loss over training, steps ${formatStep(domain[0])} to ${formatStep(domain[1])}, with the training phases`));
  const plot = plotArea(svg, box);
  timeline.phases.forEach((phase, i) => {
    if (phase.to <= domain[0] || phase.from >= domain[1]) return;
    const x0 = s.x(Math.max(phase.from, domain[0]));
    const x1 = s.x(Math.min(phase.to, domain[1]));
    const band = el('rect', {
      class: `tl-phase tl-phase-${phase.data}${i % 2 ? ' tl-phase-odd' : ''}`,
      'data-role': 'phase',
      x: x0,
      y: box.top - 34,
      width: Math.max(0, x1 - x0),
      height: box.height - box.bottom - box.top + 34,
    });
    band.append(el('title', {}, `steps ${formatStep(phase.from)}–${formatStep(phase.to)}: ${phase.feeds}, ${phase.seq_len}-token sequences`));
    plot.append(band);
    // The label in two rows (a short band's label may run into the next
    // band's), kept inside the chart; only if the band is wide enough: the
    // legend below names them all.
    if (x1 - x0 > 40) {
      const label = phaseLabel(phase);
      const x = Math.max(box.left, Math.min(x0 + 4, box.width - box.right - label.length * LABEL_CHAR_PX));
      svg.append(el('text', { class: 'tl-phase-label', x, y: box.top - (i % 2 ? 8 : 22) }, label));
    }
  });
  axes(svg, s, domain, range.marks, null);
  const train = timeline.loss.map((p) => [p.step, p.train_loss] as const);
  const val = timeline.loss.map((p) => [p.step, p.val_loss] as const);
  const lines = plotArea(svg, box);
  lines.append(el('path', { class: 'tl-line tl-train', d: linePath(train, s) }));
  lines.append(el('path', { class: 'tl-line tl-val', d: linePath(val, s) }));
  stepMark(svg, s, timeline.points[selected]?.step ?? 0, domain);
  checkpointMarks(svg, s, timeline, (i) => timeline.points[i]!.val_loss, selected, domain);
  return svg;
}

const ICL_BOX: Box = { width: 420, height: 200, left: 32, right: 10, top: 18, bottom: 22 };

/**
 * The in-context learning scores at the checkpoints: on text (Olsson et al.)
 * and on the random-token probe; the phase change (if any) a labelled band.
 */
export function iclChart(timeline: Timeline, selected: number, width: number, domain: StepDomain, change: PhaseChange | null): SVGSVGElement {
  const box = sized(ICL_BOX, width);
  const text = timeline.points.map((p) => [p.step, p.text_icl] as const);
  const probe = timeline.points.map((p) => [p.step, p.probe_icl] as const);
  const range = valueRange([0, ...text.map(([, v]) => v ?? NaN), ...probe.map(([, v]) => v)], [-1, 0]);
  const s = scales(box, domain, range.lo, range.hi);
  const svg = el('svg', { viewBox: `0 0 ${box.width} ${box.height}`, class: 'tl-svg tl-icl', role: 'img' });
  svg.append(el('title', {}, 'In-context learning score at each checkpoint (negative: later tokens are predicted better)'));
  const plot = plotArea(svg, box);
  if (change) {
    // At least 2 px wide, so that on the whole run's axis the band still shows.
    const x0 = s.x(change.from);
    const band = el('rect', { class: 'tl-change', 'data-role': 'phase-change', x: x0, y: box.top, width: Math.max(2, s.x(change.to) - x0), height: box.height - box.top - box.bottom });
    band.append(el('title', {}, `the phase change: steps ${formatStep(change.from)}–${formatStep(change.to)}, ${change.inside} checkpoints inside`));
    plot.append(band);
  }
  axes(svg, s, domain, range.marks, 'ICL score (nats)');
  if (change) {
    // Above the plot, right-aligned (the axis name is at the left): the curves never cross it.
    const steps = `${formatStep(change.from)}–${formatStep(change.to)}`;
    svg.append(el('text', { class: 'tl-change-label', x: box.width - box.right, y: box.top - 6, 'text-anchor': 'end' },
      box.width < 480 ? `shaded: heads form, ${steps}` : `shaded: induction heads form, steps ${steps}`));
  }
  svg.append(el('line', { class: 'tl-zero', x1: box.left, y1: s.y(0), x2: box.width - box.right, y2: s.y(0) }));
  const lines = plotArea(svg, box);
  lines.append(el('path', { class: 'tl-line tl-probe', d: linePath(probe, s) }));
  lines.append(el('path', { class: 'tl-line tl-text-icl', d: linePath(text, s) }));
  stepMark(svg, s, timeline.points[selected]?.step ?? 0, domain);
  const hasText = timeline.points.some((p) => p.text_icl !== null);
  checkpointMarks(svg, s, timeline, (i) => (hasText ? timeline.points[i]!.text_icl : timeline.points[i]!.probe_icl), selected, domain);
  return svg;
}

const HEAD_BOX: Box = { width: 120, height: 64, left: 2, right: 2, top: 14, bottom: 4 };

/**
 * One head's induction (solid) and previous-token (dashed) scores over the
 * checkpoints, 0..1, with the selected step marked; head = layer * H + h.
 */
export function headChart(timeline: Timeline, head: number, selected: number, width: number, domain: StepDomain): SVGSVGElement {
  const box: Box = { ...HEAD_BOX, width: Math.max(60, Math.round(width)) };
  const s = scales(box, domain, 0, 1);
  const layer = Math.floor(head / timeline.n_head);
  const name = `${layer}.${head % timeline.n_head}`;
  const svg = el('svg', { viewBox: `0 0 ${box.width} ${box.height}`, class: 'tl-svg tl-head', role: 'img' });
  svg.append(el('title', {}, `Head ${name}: induction and previous-token scores over training`));
  svg.append(el('rect', { class: 'tl-head-frame', x: box.left, y: box.top, width: box.width - box.left - box.right, height: box.height - box.top - box.bottom }));
  svg.append(el('text', { class: 'tl-head-name', x: box.left, y: 11 }, name));
  const at = timeline.points[selected];
  if (at) {
    // The scores at the step: beside the name in a wide cell, in the title in any.
    const scores = `induction ${at.induction[head]!.toFixed(2)}, previous-token ${at.prev_token[head]!.toFixed(2)} at step ${formatStep(at.step)}`;
    svg.querySelector('title')!.textContent = `Head ${name}: ${scores}`;
    if (box.width >= 110) {
      svg.append(el('text', { class: 'tl-head-value', x: box.width - box.right, y: 11, 'text-anchor': 'end' },
        `ind ${at.induction[head]!.toFixed(2)} · prev ${at.prev_token[head]!.toFixed(2)}`));
    }
  }
  const lines = plotArea(svg, box);
  lines.append(el('path', { class: 'tl-line tl-prev', d: linePath(timeline.points.map((p) => [p.step, p.prev_token[head]!] as const), s) }));
  lines.append(el('path', { class: 'tl-line tl-induction', d: linePath(timeline.points.map((p) => [p.step, p.induction[head]!] as const), s) }));
  stepMark(svg, s, at?.step ?? 0, domain);
  return svg;
}
