/**
 * The pruning panel: heads removed one by one from the unedited model,
 * least important first (the engine's exact scan every 4 removals) and in a
 * random order, mean loss against the fraction removed (pruning-chart.ts;
 * Michel et al. 2019: many heads go with little loss, then it collapses).
 * The slider applies the first k removals of the importance order to the
 * model as head edits (zero: gain 0; mean: the head's mean z), replacing
 * the reader's edits, so the predictions and attention repaint and the link
 * holds them. The worker computes the curves a part at a time (one exact
 * scan and its removals), so the panel shows a progress bar and can cancel
 * between parts, as the importance scan does. Shapes use L = n_layer, H = n_head.
 */
import type { Frame, PageActions } from '../app/view';
import type { EngineClient } from '../engine/client';
import type { PruningCurves } from '../engine/protocol';
import { isMeanAblated, meanFlags, resetHead, setAblation } from '../app/mean-ablation';
import type { AppState } from '../state/app-state';
import { headName } from '../state/heads';
import { type ImportanceResults, sameIds } from './importance-results';
import { JobProgress } from './job-progress';
import { pruningSvg } from './pruning-chart';

const RESCAN_EVERY = 4;
const SEED = 1;

/** Head i (l * H + h) removed by mode: gain 0 and its own z (zero), or gain 1 and its mean z (mean). */
function isRemoved(state: AppState, i: number, H: number, mode: 'zero' | 'mean'): boolean {
  const layer = Math.floor(i / H), head = i % H;
  const mean = isMeanAblated(state, layer, head);
  return mode === 'mean' ? mean && state.gains[i] === 1 : !mean && state.gains[i] === 0;
}

/** The first k heads of the importance order removed, every other head as trained. */
export function applyFirstRemovals(state: AppState, curves: PruningCurves, k: number): void {
  const H = curves.n_head;
  curves.order.forEach((i, rank) => {
    const layer = Math.floor(i / H), head = i % H;
    if (rank < k) setAblation(state, layer, head, curves.mode);
    else resetHead(state, layer, head);
  });
}

/** k when the state's edits are exactly the first k removals of the order, else -1. */
export function removalsShown(state: AppState, curves: PruningCurves): number {
  const H = curves.n_head;
  const flags = meanFlags(state);
  let k = 0;
  while (k < curves.order.length && isRemoved(state, curves.order[k]!, H, curves.mode)) k++;
  for (let rank = k; rank < curves.order.length; rank++) {
    const i = curves.order[rank]!;
    if (state.gains[i] !== 1 || flags[i] !== 0) return -1;
  }
  return k;
}

export class PruningPanel {
  private readonly els: {
    mode: HTMLSelectElement;
    run: HTMLButtonElement;
    cancel: HTMLButtonElement;
    progress: HTMLElement;
    bar: HTMLProgressElement;
    progressLabel: HTMLElement;
    chart: HTMLElement;
    slider: HTMLInputElement;
    value: HTMLOutputElement;
    note: HTMLElement;
  };
  private frame: Frame | null = null;
  private readonly progress: JobProgress;
  /** The job running (its number, for cancel; 0: none) and the model and tokens it is of. */
  private readonly job = { running: 0, model: '', ids: new Int32Array(0) };

  constructor(
    root: HTMLElement,
    private readonly results: ImportanceResults,
    private readonly engine: Pick<EngineClient, 'call'>,
    private readonly page: PageActions,
  ) {
    const find = <E extends HTMLElement>(role: string) => root.querySelector<E>(`[data-role="${role}"]`)!;
    this.els = {
      mode: find('pruning-mode'),
      run: find('pruning-run'),
      cancel: find('pruning-cancel'),
      progress: find('pruning-progress'),
      bar: find('pruning-progress-bar'),
      progressLabel: find('pruning-progress-label'),
      chart: find('pruning-chart'),
      slider: find('pruning-slider'),
      value: find('pruning-value'),
      note: find('pruning-note'),
    };
    this.progress = new JobProgress(this.els);
    this.els.run.addEventListener('click', () => void this.compute());
    this.els.cancel.addEventListener('click', () => this.cancel());
    this.els.slider.addEventListener('input', () => this.applySlider());
    results.onChange(() => this.render());
    this.render();
  }

  draw(frame: Frame): void {
    this.frame = frame;
    // Another model or other tokens: a running computation is not of this text any more.
    if (this.job.running && (frame.reason === 'analysis' || frame.reason === 'empty-text')) {
      const ids = frame.reason === 'analysis' && frame.analysis?.model === frame.model.name ? frame.analysis.ids : null;
      if (!ids || this.job.model !== frame.model.name || !sameIds(this.job.ids, ids)) this.cancel();
    }
    this.els.run.disabled = this.job.running !== 0 || !frame.analysis;
    // The reader's own edits move the slider's mark only when they are a prefix of the order.
    if ((frame.reason === 'gains' || frame.reason === 'analysis') && this.results.pruning) this.syncSlider();
  }

  async compute(): Promise<void> {
    const frame = this.frame;
    if (!frame?.analysis || this.job.running) return;
    const mode = this.els.mode.value === 'mean' ? 'mean' : 'zero';
    const job = this.results.nextJob();
    Object.assign(this.job, { running: job, model: frame.model.name, ids: frame.analysis.ids.slice() });
    this.setBusy(true);
    this.els.note.textContent = `Computing the pruning curves (${mode} ablation, ${frame.model.n_layer * frame.model.n_head} heads)…`;
    try {
      const curves = await this.engine.call(
        'pruning',
        {
          job,
          text: frame.state.text,
          gains: frame.state.gains.slice(),
          means: meanFlags(frame.state),
          mode,
          rescanEvery: RESCAN_EVERY,
          seed: SEED,
        },
        (progress) => this.progress.show(progress),
      );
      const shown = this.frame?.analysis;
      if (curves.cancelled) {
        this.els.note.textContent = this.results.pruning
          ? 'Cancelled: the curves shown are the last ones computed.'
          : 'Cancelled: no curves computed.';
      } else if (shown?.model === curves.model && sameIds(shown.ids, curves.ids)) {
        this.results.setPruning(curves);
      } else {
        this.els.note.textContent = 'The text changed while the curves were computed: compute them again.';
      }
    } catch (error) {
      this.page.showError(`Pruning: ${error instanceof Error ? error.message : String(error)}`);
      this.els.note.textContent = '';
    } finally {
      if (this.job.running === job) this.job.running = 0;
      this.setBusy(false);
    }
  }

  /** Asks the worker to stop the running job before its next part (it answers with cancelled). */
  cancel(): void {
    if (!this.job.running) return;
    this.progress.cancelling();
    void this.engine.call('cancel', { job: this.job.running });
  }

  private setBusy(busy: boolean): void {
    this.progress.setBusy(busy, true);
    this.els.run.disabled = busy || !this.frame?.analysis;
    if (busy) this.els.chart.setAttribute('aria-busy', 'true');
    else this.els.chart.removeAttribute('aria-busy');
  }

  private applySlider(): void {
    const curves = this.results.pruning;
    if (!curves) return;
    const k = Number(this.els.slider.value);
    this.page.edit((state) => applyFirstRemovals(state, curves, k));
    this.showK(k);
  }

  private syncSlider(): void {
    const curves = this.results.pruning;
    if (!curves || !this.frame) return;
    const k = removalsShown(this.frame.state as AppState, curves);
    if (k >= 0 && k !== Number(this.els.slider.value)) {
      this.els.slider.value = String(k);
      this.showK(k);
    }
  }

  /** The chart, the slider's range and the note from the results (none: empty and disabled). */
  private render(): void {
    const curves = this.results.pruning;
    const { slider, chart, note } = this.els;
    slider.disabled = !curves;
    if (!curves) {
      chart.replaceChildren();
      chart.hidden = true;
      slider.value = '0';
      slider.max = '0';
      this.els.value.textContent = '';
      if (!this.job.running) note.textContent = 'Compute the curves to see how the loss grows as heads go.';
      return;
    }
    chart.hidden = false;
    slider.max = String(curves.order.length);
    const k = Math.min(Number(slider.value), curves.order.length);
    this.showK(k);
    const half = Math.floor(curves.order.length / 2);
    note.textContent =
      `${curves.mode} ablation, ${curves.order.length} heads in ${(curves.compute_ms / 1000).toFixed(1)} s. ` +
      `Mean loss ${curves.mean_loss[0]!.toFixed(3)} nats with every head; with half removed ` +
      `${curves.mean_loss[half]!.toFixed(3)} (importance order) against ${curves.random_mean_loss[half]!.toFixed(3)} (random). ` +
      'Moving the slider replaces your edits with the first k removals.';
  }

  private showK(k: number): void {
    const curves = this.results.pruning;
    if (!curves) return;
    const n = curves.order.length;
    const last = k > 0 ? `, last ${headName({ layer: Math.floor(curves.order[k - 1]! / curves.n_head), head: curves.order[k - 1]! % curves.n_head })}` : '';
    this.els.value.textContent = `${k} of ${n} removed (${Math.round((100 * k) / n)}%${last}): loss ${curves.mean_loss[k]!.toFixed(3)}`;
    this.els.slider.setAttribute('aria-valuetext', this.els.value.textContent);
    this.els.chart.replaceChildren(pruningSvg(curves, k));
    this.els.chart.dataset['k'] = String(k);
  }
}
