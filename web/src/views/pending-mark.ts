/**
 * The predictions panel says it is waiting for the engine: a run that has
 * not drawn its bars ~100 ms after it was asked for (a head edit on GPT-2
 * small takes 80-460 ms) marks the panel aria-busy and shows a thin moving
 * bar over the list; the bars of that run (or its error) remove both. A
 * fast run never shows it, so quick edits do not flicker.
 */
export const PENDING_AFTER_MS = 100;

export class PendingMark {
  private readonly panel: HTMLElement | null;
  private readonly bar: HTMLElement | null;
  /** The timer that marks the panel, while a run is waiting. */
  private timer: number | undefined = undefined;

  constructor(root: HTMLElement) {
    this.panel = root.querySelector<HTMLElement>('[data-panel="predictions"]');
    this.bar = root.querySelector<HTMLElement>('[data-role="prediction-pending"]');
  }

  /** A run was asked for: mark the panel if its bars are not up within PENDING_AFTER_MS. */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = window.setTimeout(() => this.show(true), PENDING_AFTER_MS);
  }

  /** The run's bars are drawn (or it failed): unmark at once. */
  stop(): void {
    window.clearTimeout(this.timer);
    this.timer = undefined;
    this.show(false);
  }

  private show(busy: boolean): void {
    if (!this.panel) return;
    if (busy) this.panel.setAttribute('aria-busy', 'true');
    else this.panel.removeAttribute('aria-busy');
    if (this.bar) this.bar.hidden = !busy;
  }
}
