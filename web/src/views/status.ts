/**
 * Status view: download progress, the model's one-line summary, timings, and
 * the message box that shows errors (the page keeps working under it).
 */
import type { Progress } from '../engine/protocol';

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export class StatusView {
  private readonly progress: HTMLProgressElement;
  private readonly progressLabel: HTMLElement;
  private readonly progressBox: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly timing: HTMLElement;
  private readonly message: HTMLElement;

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
    const amount = total > 0 ? `${formatBytes(loaded)} / ${formatBytes(total)}` : formatBytes(loaded);
    this.progressLabel.textContent = `${progress.label} · ${amount}`;
    this.progress.setAttribute('aria-label', `${stage} ${progress.label}`);
  }

  hideProgress(): void {
    this.progressBox.hidden = true;
  }

  setSummary(text: string): void {
    this.summary.textContent = text;
  }

  setTiming(text: string): void {
    this.timing.textContent = text;
  }

  showError(text: string): void {
    this.message.textContent = text;
    this.message.className = 'message is-error';
    this.message.hidden = false;
  }

  showNotice(text: string): void {
    this.message.textContent = text;
    this.message.className = 'message is-notice';
    this.message.hidden = false;
  }

  clearMessage(): void {
    this.message.hidden = true;
    this.message.textContent = '';
  }
}
