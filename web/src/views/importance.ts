/**
 * Which heads matter, on the head grid: the reader picks the exact scan
 * (every head removed alone, zero or mean ablation: Δ mean loss and Δ log p
 * of the next token at the selected position) or the gradient importance
 * (d mean loss / d gain, one backward pass), computes it on the current text
 * with the current edits, watches a progress bar (the worker scans a layer
 * at a time) and may cancel; the grid then shows the importance overlay
 * (importance-overlay.ts). The overlay goes when the text or the model
 * changes. Definitions: docs/heads.md ("Ablation", "Gradient importance").
 *
 * The registry entry also makes the pruning panel (pruning.ts) and the
 * exports of these figures (importance-export.ts), which share the results
 * (importance-results.ts).
 */
import type { Frame, PageActions, ViewFactory } from '../app/view';
import type { EngineClient } from '../engine/client';
import { meanFlags } from '../app/mean-ablation';
import { ImportanceExport } from './importance-export';
import {
  helpOf,
  ImportanceOverlay,
  type ImportanceMetric,
  metricLabel,
  paintLegendBar,
  scaleOf,
  signed,
} from './importance-overlay';
import { ImportanceResults, sameIds } from './importance-results';
import { JobProgress } from './job-progress';
import { PruningPanel } from './pruning';

type Kind = 'zero' | 'mean' | 'gradient';

/** The elements of the importance controls (index.html, data-role="importance-*"). */
interface ImportanceElements {
  kind: HTMLSelectElement;
  metric: HTMLSelectElement;
  run: HTMLButtonElement;
  cancel: HTMLButtonElement;
  hide: HTMLButtonElement;
  progress: HTMLElement;
  bar: HTMLProgressElement;
  progressLabel: HTMLElement;
  legend: HTMLElement;
  low: HTMLElement;
  high: HTMLElement;
  legendLabel: HTMLElement;
  note: HTMLElement;
}

export class ImportancePanel {
  private readonly overlay: ImportanceOverlay;
  private readonly progress: JobProgress;
  /** The job running (its number, for cancel; 0: none) and the tokens it is of. */
  private readonly job = { running: 0, model: '', ids: new Int32Array(0) };
  /** The frame last drawn: the text, edits and position a computation uses. */
  private frame: Frame | null = null;

  constructor(
    root: HTMLElement,
    private readonly els: ImportanceElements,
    private readonly results: ImportanceResults,
    private readonly engine: Pick<EngineClient, 'call'>,
    private readonly page: PageActions,
  ) {
    this.overlay = new ImportanceOverlay(root);
    this.progress = new JobProgress(els);
    paintLegendBar(root.querySelector<HTMLCanvasElement>('[data-role="importance-bar"]')!);
    els.run.addEventListener('click', () => void this.compute());
    els.cancel.addEventListener('click', () => this.cancel());
    els.hide.addEventListener('click', () => this.results.show(null));
    els.metric.addEventListener('change', () => this.repaint());
    els.kind.addEventListener('change', () => {
      const which = els.kind.value === 'gradient' ? 'gradient' : 'scan';
      const has = which === 'gradient' ? results.gradient : results.scan?.kind === els.kind.value ? results.scan : null;
      if (has) results.show(which);
    });
    results.onChange(() => this.repaint());
  }

  draw(frame: Frame): void {
    this.frame = frame;
    if (frame.reason === 'analysis' || frame.reason === 'gains' || frame.reason === 'empty-text') {
      // Another model or other tokens: the figures (and a running scan) are not of this text.
      const { analysis, model } = frame;
      const ids = frame.reason !== 'empty-text' && analysis?.model === model.name ? analysis.ids : null;
      const jobStale = !ids || this.job.model !== model.name || !sameIds(this.job.ids, ids);
      if (this.job.running && jobStale) this.cancel();
      this.results.clearUnless(model.name, ids);
    }
    // A new model rebuilds the grid's cells: paint them again.
    if (frame.reason === 'analysis') this.repaint();
    this.els.run.disabled = this.job.running !== 0 || !frame.analysis;
  }

  /** Starts the chosen computation on the text, edits and position of the last frame. */
  async compute(): Promise<void> {
    const frame = this.frame;
    if (!frame?.analysis || this.job.running) return;
    const kind = this.els.kind.value as Kind;
    const job = this.results.nextJob();
    Object.assign(this.job, { running: job, model: frame.model.name, ids: frame.analysis.ids.slice() });
    this.setBusy(true, kind);
    try {
      const result = await this.engine.call(
        'importance',
        {
          job,
          kind,
          text: frame.state.text,
          gains: frame.state.gains.slice(),
          means: meanFlags(frame.state),
          position: frame.position,
          // The gradient's order of the heads against the last exact scan's.
          ...(kind === 'gradient' && this.results.scan ? { compareWith: this.results.scan.delta_mean_loss } : {}),
        },
        (progress) => this.progress.show(progress),
      );
      if (result.cancelled) {
        this.els.note.textContent = 'Cancelled: the overlay is as it was.';
      } else if (this.frame?.analysis?.model === result.model && sameIds(this.frame.analysis.ids, result.ids)) {
        this.results.setImportance(result);
        this.els.note.textContent = this.summary();
      }
    } catch (error) {
      this.page.showError(`Which heads matter: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      if (this.job.running === job) this.job.running = 0;
      this.setBusy(false, kind);
    }
  }

  cancel(): void {
    if (!this.job.running) return;
    this.progress.cancelling();
    void this.engine.call('cancel', { job: this.job.running });
  }

  private setBusy(busy: boolean, kind: Kind): void {
    this.progress.setBusy(busy, kind !== 'gradient', kind === 'gradient' ? 'one backward pass…' : 'starting…');
    this.els.run.disabled = busy || !this.frame?.analysis;
  }

  /** The overlay and legend from the results (or none). */
  private repaint(): void {
    const result = this.results.shownResult();
    const { legend, hide, metric } = this.els;
    legend.hidden = !result;
    hide.hidden = !result;
    if (!result) {
      this.overlay.clear();
      return;
    }
    metric.disabled = result.kind === 'gradient';
    const which = metric.value as ImportanceMetric;
    const values = helpOf(result, which);
    const scale = scaleOf(values);
    this.overlay.paint(result, values, scale);
    this.els.low.textContent = signed(-scale);
    this.els.high.textContent = signed(scale);
    this.els.legendLabel.textContent =
      `${metricLabel(result, which)}, nats. Red: removing the head raises the loss (it helps); ` +
      'blue: removing it lowers the loss (it hurts); white: no effect.';
    legend.dataset['scale'] = String(scale);
  }

  /** "Exact scan (zero) of 32 heads in 95 ms; base mean loss 3.21 nats; next token after position 12." */
  private summary(): string {
    const result = this.results.shownResult();
    if (!result) return '';
    const heads = result.n_layer * result.n_head;
    if (result.kind === 'gradient') {
      const scan = this.results.scan;
      const rho = Number.isFinite(result.rank_correlation) && scan
        ? ` Rank correlation (Spearman ρ) of −gradient with the exact scan's Δ mean loss (${scan.kind}): ${result.rank_correlation.toFixed(3)}.`
        : '';
      return `Gradient of ${heads} heads in ${result.compute_ms.toFixed(0)} ms (one backward pass at the current edits, mean ablations included).${rho}`;
    }
    return `Exact scan (${result.kind} ablation) of ${heads} heads in ${result.compute_ms.toFixed(0)} ms, on top of the current edits: ` +
      `mean loss ${result.mean_loss.toFixed(3)} nats; log p of token ${result.position + 1} after position ${result.position}: ${result.logprob.toFixed(3)}.`;
  }
}

/**
 * Registry entry (app/views.ts): the importance controls and overlay, the
 * pruning panel and the exports, over one ImportanceResults.
 */
export const importanceView: ViewFactory = ({ root, page, engine }) => {
  const find = <E extends HTMLElement>(role: string) => root.querySelector<E>(`[data-role="${role}"]`)!;
  const results = new ImportanceResults();
  const panel = new ImportancePanel(
    root,
    {
      kind: find('importance-kind'),
      metric: find('importance-metric'),
      run: find('importance-run'),
      cancel: find('importance-cancel'),
      hide: find('importance-hide'),
      progress: find('importance-progress'),
      bar: find('importance-progress-bar'),
      progressLabel: find('importance-progress-label'),
      legend: find('importance-legend'),
      low: find('importance-low'),
      high: find('importance-high'),
      legendLabel: find('importance-legend-label'),
      note: find('importance-note'),
    },
    results,
    engine,
    page,
  );
  const pruning = new PruningPanel(root, results, engine, page);
  const exports = new ImportanceExport(root, results, page);
  return {
    label: 'importance',
    draw(frame) {
      panel.draw(frame);
      pruning.draw(frame);
      exports.draw(frame);
    },
  };
};
