/**
 * The PNG, SVG and CSV buttons under each circuit map (lens grid, direct
 * effects, patching maps): the file is made from the figure on screen when
 * the button is pressed (circuit-figures.ts) and saved through a download
 * link, like the other exports (export.ts).
 */
import { type Figure, figureFile } from './circuit-figures';
import { save } from './export';

const FORMATS = ['png', 'svg', 'csv'] as const;

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
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'button small';
    button.dataset['export'] = format;
    button.textContent = format.toUpperCase();
    button.title = `Save the ${what} as ${format.toUpperCase()}`;
    button.addEventListener('click', async () => {
      try {
        const shown = current();
        if (!shown) throw new Error(`the ${what} is not drawn yet`);
        save(await figureFile(shown.figure, format), `${shown.name}.${format}`);
      } catch (error) {
        onError(`Export failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
    box.append(button);
  }
  parent.append(box);
  return box;
}
