/**
 * The PNG, SVG and CSV buttons under each circuit map (lens grid, direct
 * effects, patching maps): the file is made from the figure on screen when
 * the button is pressed (circuit-figures.ts) and saved through a download
 * link, like the other exports (export.ts).
 */
import { type Figure, figureFile } from './circuit-figures';
import { save } from './export';

const FORMATS = ['png', 'svg', 'csv'] as const;

/** A small button of the circuits panel: its data-role (or data-export), label, title and click. */
export function smallButton(data: Record<string, string>, label: string, title: string, onClick: () => void): HTMLButtonElement {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'button small';
  Object.assign(button.dataset, data);
  button.textContent = label;
  button.title = title;
  button.addEventListener('click', onClick);
  return button;
}

/**
 * Appends the three buttons to `parent`. figure(): the figure drawn now
 * (null: nothing drawn yet, the buttons say so); name: the file's stem,
 * e.g. "headlight-gpt-4l-lens".
 */
export function addExportButtons(
  parent: HTMLElement,
  what: string,
  current: () => { figure: Figure; name: string } | null,
  onError: (message: string) => void,
): HTMLElement {
  const box = document.createElement('div');
  box.className = 'circuit-export';
  box.setAttribute('role', 'group');
  box.setAttribute('aria-label', `Export the ${what}`);
  for (const format of FORMATS) {
    const name = format.toUpperCase();
    box.append(smallButton({ export: format }, name, `Save the ${what} as ${name}`, async () => {
      try {
        const shown = current();
        if (!shown) throw new Error(`the ${what} is not drawn yet`);
        save(await figureFile(shown.figure, format), `${shown.name}.${format}`);
      } catch (error) {
        onError(`Export failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }));
  }
  parent.append(box);
  return box;
}
