/**
 * What the views that build their own markup share (the arithmetic panel,
 * the composition view): making an element with a class and a data-role,
 * sizing a canvas to its CSS box at the device's pixel ratio, and whether a
 * panel is on screen at all (hidden by hide= or by the embed's CSS: then a
 * view asks the engine nothing), or near the viewport (a view far below asks
 * nothing either until the reader scrolls to it, so its questions never
 * queue up in the worker ahead of the next head edit).
 */

export function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, role?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (role) node.dataset['role'] = role;
  return node;
}

/**
 * The canvas's backing store sized to its CSS box times devicePixelRatio
 * (at most 3), and its context scaled so that drawing is in CSS px; null
 * while the canvas has no box (not laid out).
 */
export function sizedCanvas(canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D; width: number; height: number } | null {
  const width = canvas.clientWidth, height = canvas.clientHeight;
  const ctx = canvas.getContext('2d');
  if (!ctx || width === 0 || height === 0) return null;
  const dpr = Math.min(window.devicePixelRatio || 1, 3);
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { ctx, width, height };
}

/** True when the panel takes up room on the page (not hidden, not display: none). */
export function shownOnPage(panel: HTMLElement): boolean {
  return !panel.hidden && panel.getClientRects().length > 0;
}

/**
 * Whether the panel is within 300 px of the viewport, kept up to date; comes
 * into view: onShow() (the view then asks what it skipped while away).
 */
export class NearViewport {
  near = false;

  constructor(panel: HTMLElement, onShow: () => void) {
    new IntersectionObserver((entries) => {
      const was = this.near;
      this.near = entries[entries.length - 1]!.isIntersecting;
      if (this.near && !was) onShow();
    }, { rootMargin: '300px 0px' }).observe(panel);
  }
}

/**
 * Calls redraw (once per animation frame at most) when the colour scheme
 * changes or the panel's width does: its canvases are drawn at one size in
 * the theme's colours.
 */
export function redrawOnChange(panel: HTMLElement, redraw: () => void): void {
  const scheduled = { frame: 0, width: panel.clientWidth };
  const schedule = () => {
    if (scheduled.frame) return;
    scheduled.frame = requestAnimationFrame(() => {
      scheduled.frame = 0;
      redraw();
    });
  };
  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', schedule);
  new ResizeObserver(() => {
    if (panel.clientWidth === scheduled.width) return;
    scheduled.width = panel.clientWidth;
    schedule();
  }).observe(panel);
}

/**
 * Shows in `note` why a view's question to the engine failed, except when
 * the text changed under it (the worker had not run it yet: the next pass
 * asks again).
 */
export function showFailure(error: unknown, note: HTMLElement): void {
  const message = error instanceof Error ? error.message : String(error);
  if (!message.includes('has not been run yet')) note.textContent = message;
}
