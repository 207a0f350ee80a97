/**
 * One floating tooltip for the whole page (head grid, head detail, line
 * view). Content is built from DOM nodes by the caller, so token text stays
 * text. It follows the pointer and never takes pointer events, so it cannot
 * cause hover flicker or layout shift.
 */
export class Tooltip {
  readonly element: HTMLElement;

  constructor(parent: HTMLElement = document.body) {
    this.element = document.createElement('div');
    this.element.className = 'tooltip';
    this.element.setAttribute('role', 'tooltip');
    this.element.hidden = true;
    parent.append(this.element);
  }

  /** Shows `content` near (x, y) in viewport coordinates. */
  show(content: (Node | string)[], x: number, y: number): void {
    this.element.replaceChildren(...content);
    this.element.hidden = false;
    const { width, height } = this.element.getBoundingClientRect();
    const margin = 8;
    let left = x + 14;
    let top = y + 16;
    if (left + width + margin > window.innerWidth) left = Math.max(margin, x - width - 14);
    if (top + height + margin > window.innerHeight) top = Math.max(margin, y - height - 12);
    this.element.style.transform = `translate(${Math.round(left)}px, ${Math.round(top)}px)`;
  }

  /** Shows the tooltip beside an element (keyboard focus has no pointer). */
  showBeside(content: (Node | string)[], target: Element): void {
    const box = target.getBoundingClientRect();
    this.show(content, box.right - 10, box.top + 4);
  }

  hide(): void {
    this.element.hidden = true;
  }
}
