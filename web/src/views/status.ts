/**
 * Status view: download progress, the model's one-line summary, timings, and
 * the message box that shows errors (the page keeps working under it).
 */
import type { Progress } from '../engine/protocol';
import { formatBytes } from '../state/format';


export class StatusView {
  private readonly progress: HTMLProgressElement;
  private readonly progressLabel: HTMLElement;
  private readonly progressBox: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly timing: HTMLElement;
  private readonly message: HTMLElement;
  /** The timed step on show (Progress.timed) and the timer that counts its seconds. */
  private step: { label: string; timer: number | undefined } = { label: '', timer: undefined };

  constructor(root: HTMLElement, messageBox: HTMLElement) {
    this.progressBox = root.querySelector<HTMLElement>('[data-role="progress"]')!;
    this.progress = this.progressBox.querySelector('progress')!;
    this.progressLabel = this.progressBox.querySelector<HTMLElement>('[data-role="progress-label"]')!;
    this.summary = root.querySelector<HTMLElement>('[data-role="model-summary"]')!;
    this.timing = root.querySelector<HTMLElement>('[data-role="timing"]')!;
    this.message = messageBox;
  }

  showProgress(stage: string, progress: Progress): void {
    this.progressBox.hidden = false;
    const { loaded, total } = progress;
    if (total > 0) {
      this.progress.max = total;
      this.progress.value = Math.min(loaded, total);
    } else {
      this.progress.removeAttribute('value');  // indeterminate
    }
    this.progress.setAttribute('aria-label', `${stage} ${progress.label}`);
    this.progressBox.dataset['step'] = progress.label;
    if (progress.timed) {
      // One step with no byte count (e.g. one engine call): its seconds tick.
      if (this.step.label !== progress.label) this.startTicker(progress.label);
      return;
    }
    this.stopTicker();
    const amount = total > 0 ? `${formatBytes(loaded)} / ${formatBytes(total)}` : formatBytes(loaded);
    this.progressLabel.textContent = `${progress.label} · ${amount}`;
  }

  hideProgress(): void {
    this.stopTicker();
    this.progressBox.hidden = true;
    delete this.progressBox.dataset['step'];
  }

  private startTicker(label: string): void {
    this.stopTicker();
    const started = performance.now();
    const tick = () => {
      this.progressLabel.textContent = `${label} · ${((performance.now() - started) / 1000).toFixed(1)} s`;
    };
    tick();
    this.step = { label, timer: window.setInterval(tick, 100) };
  }

  private stopTicker(): void {
    window.clearInterval(this.step.timer);
    this.step = { label: '', timer: undefined };
  }

  setSummary(text: string): void {
    this.summary.textContent = text;
  }

  /**
   * The timing line; engineBytes (the worker's wasm memory) goes in its
   * tooltip and in data-engine-bytes (the soak test reads it), not in the
   * line, which must not grow a second row on a narrow panel.
   */
  setTiming(text: string, engineBytes = 0): void {
    this.timing.textContent = text;
    if (engineBytes > 0) {
      this.timing.dataset['engineBytes'] = String(engineBytes);
      this.timing.title = `engine memory ${formatBytes(engineBytes)}`;
    }
  }

  showError(text: string): void {
    delete this.message.dataset['sticky'];
    this.message.textContent = text;
    this.message.className = 'message is-error';
    this.message.hidden = false;
  }

  /** A notice; a sticky one stays until another message replaces it (clearMessage leaves it). */
  showNotice(text: string, sticky = false): void {
    this.message.textContent = text;
    this.message.className = 'message is-notice';
    this.message.hidden = false;
    if (sticky) this.message.dataset['sticky'] = 'true';
    else delete this.message.dataset['sticky'];
  }

  clearMessage(): void {
    if (this.message.dataset['sticky']) return;
    this.message.hidden = true;
    this.message.textContent = '';
  }
}
