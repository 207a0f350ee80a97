/**
 * The progress line of a long worker job a panel starts with a button (the
 * importance scan, the pruning curves): a <progress> bar and its label
 * inside a status element, and the Cancel button beside the panel's
 * Compute. One class, so both panels show and stop their jobs alike.
 */
import type { Progress } from '../engine/protocol';

export interface JobProgressElements {
  /** The status element holding bar and label; hidden while no job runs. */
  progress: HTMLElement;
  bar: HTMLProgressElement;
  progressLabel: HTMLElement;
  cancel: HTMLButtonElement;
}

export class JobProgress {
  constructor(private readonly els: JobProgressElements) {}

  /** Shows (busy) or hides the line; cancellable: Cancel is shown with it; first: the label before the first report. */
  setBusy(busy: boolean, cancellable: boolean, first = 'starting…'): void {
    const { progress, cancel, bar, progressLabel } = this.els;
    progress.hidden = !busy;
    cancel.hidden = !busy || !cancellable;
    cancel.disabled = !busy;
    progress.setAttribute('aria-busy', String(busy));
    if (busy) {
      bar.removeAttribute('value');
      progressLabel.textContent = first;
    }
  }

  /** "label: loaded of total" with the bar at loaded / total; the label alone when there is no count. */
  show({ label, loaded, total }: Progress): void {
    if (total > 0) {
      this.els.bar.max = total;
      this.els.bar.value = loaded;
      this.els.progressLabel.textContent = `${label}: ${loaded} of ${total}`;
    } else {
      this.els.progressLabel.textContent = label;
    }
  }

  /** Cancel pressed: disabled until the job answers, and the label says so. */
  cancelling(): void {
    this.els.cancel.disabled = true;
    this.els.progressLabel.textContent = 'cancelling…';
  }
}
