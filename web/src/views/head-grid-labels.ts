/**
 * The head grid's column labels and head captions, fitted to the width of
 * the grid's columns so that they never overlap (a phone, a 700 px blog
 * column, 12 heads at 1280 px): "head 10" when it fits, else "10", else the
 * number on every k-th column; captions become thin bars when their names
 * do not fit.
 */
import { headName } from '../state/heads';

type LabelForm = 'long' | 'short';

export class GridLabels {
  /** The column labels [H]: "head h", "h", or "h" on every k-th column only. */
  private columns: HTMLElement[] = [];
  private n_layer = 0;
  private n_head = 0;
  /** The width the labels were last fitted to (column width, gap, shape). */
  private fitted = '';
  /** The canvas context that measures text. */
  private measure: CanvasRenderingContext2D | null | undefined;

  constructor(private readonly grid: HTMLElement) {}

  /** New column labels for a model of this shape (the grid places them). */
  setShape(n_layer: number, n_head: number): HTMLElement[] {
    this.n_layer = n_layer;
    this.n_head = n_head;
    this.fitted = '';
    this.columns = Array.from({ length: n_head }, (_, head) => {
      const label = document.createElement('span');
      label.className = 'grid-col-label';
      label.textContent = `head ${head}`;
      return label;
    });
    return this.columns;
  }

  /**
   * Column labels and head captions that fit their column, never overlapping:
   * "head 10" when it fits, else "10"; when even that does not, the number
   * on every k-th column only. A caption ("10.11", the button that selects a
   * head for the detail view) that does not fit becomes a thin bar under its
   * heatmap (its text, kept for screen readers, and its title name it).
   * Widths come from the grid's column tracks and the labels' font (canvas
   * measureText): one layout read per width, no layout thrash.
   */
  fit(): void {
    const H = this.n_head;
    if (H === 0 || this.columns.length !== H) return;
    const style = getComputedStyle(this.grid);
    const column = parseFloat(style.gridTemplateColumns.split(' ')[1] ?? '');
    const gap = parseFloat(style.columnGap) || 0;
    if (!(column > 0)) return;
    const key = `${column.toFixed(1)}:${gap}:${this.n_layer}x${H}`;
    if (key === this.fitted) return;
    this.fitted = key;
    // Labels and captions are both 0.75rem (head-grid.css); the captions'
    // own font reads 0 once they are bars, so the label's is measured.
    const labelStyle = getComputedStyle(this.columns[0]!);
    // The `font` shorthand reads '' in Chromium: build it from its parts.
    const font = `${labelStyle.fontStyle} ${labelStyle.fontWeight} ${labelStyle.fontSize} ${labelStyle.fontFamily}`;
    const widest = (texts: string[]) => Math.max(...texts.map((text) => this.textWidth(font, text)));
    const numbers = Array.from({ length: H }, (_, h) => String(h));
    // A label may use its column and the gap after it; keep 4 px between labels.
    const room = column + gap - 4;
    let form: LabelForm = 'long';
    let every = 1;
    if (widest(numbers.map((h) => `head ${h}`)) > room) {
      form = 'short';
      every = Math.max(1, Math.ceil(widest(numbers) / room));
    }
    // The caption sits inside the cell (3 px padding and 1 px border a side)
    // and has 2 px of padding a side itself.
    const names = Array.from({ length: this.n_layer * H }, (_, i) => headName({ layer: Math.floor(i / H), head: i % H }));
    const captionsFit = widest(names) + 12 <= column;
    this.grid.classList.toggle('has-bar-captions', !captionsFit);
    this.grid.dataset['labels'] = every > 1 ? `every ${every}` : form;
    this.columns.forEach((label, head) => {
      const shown = head % every === 0;
      label.textContent = !shown ? '' : form === 'long' ? `head ${head}` : String(head);
    });
  }

  /** Width in CSS px of `text` in `font`, measured on a canvas (the layout is not touched). */
  private textWidth(font: string, text: string): number {
    this.measure ??= document.createElement('canvas').getContext('2d');
    const context = this.measure;
    if (!context) return text.length * 8;
    context.font = font;
    return context.measureText(text).width;
  }
}
