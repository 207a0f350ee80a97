/**
 * Model picker: the served models (models/index.json) with shape, parameter
 * count, download size and a one-line description; and "open your own": a
 * folder or the four files of a GPT-2 model from the reader's disk, chosen
 * with a file input or dropped anywhere on the page. Choosing asks the
 * controller to load (onChoose / onOpenFiles); this view only shows.
 */
import type { ModelEntry } from '../engine/model-index';
import type { LoadedModel } from '../engine/protocol';
import { readDroppedItems } from '../engine/open-local';
import './model-picker.css';
import { formatBytes } from '../state/format';

// The reader's own model is one more option; its value cannot be a served
// model's name (those match /^[\w.-]+$/).
const LOCAL_VALUE = 'local:';

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}k`;
  return String(n);
}

/** "gpt-4l · 4×8 · 4.1M params · 7.9 MB": what one option says. */
export function optionLabel(model: {
  name: string;
  bytes: number;
  n_layer?: number | undefined;
  n_head?: number | undefined;
  n_params?: number | undefined;
}): string {
  const parts = [model.name];
  if (model.n_layer !== undefined && model.n_head !== undefined) {
    parts.push(`${model.n_layer}×${model.n_head}`);
  }
  if (model.n_params !== undefined) parts.push(`${formatCount(model.n_params)} params`);
  parts.push(formatBytes(model.bytes));
  return parts.join(' · ');
}

function make<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  role?: string,
): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  if (role) node.setAttribute('data-role', role);
  return node;
}

export class ModelPicker {
  private readonly description: HTMLElement;
  private readonly openLocal: HTMLDetailsElement;
  private readonly dropOverlay: HTMLElement;
  private models: ModelEntry[] = [];
  private localOption: HTMLOptionElement | null = null;
  private localFiles: File[] = [];
  private busy = false;

  constructor(
    private readonly select: HTMLSelectElement,
    onChoose: (name: string) => void,
    private readonly onOpenFiles?: (files: File[]) => void,
  ) {
    // The picker's own parts go in a box after the select's row, in the same
    // panel (data-panel="picker"), so that hiding the picker (URL `hide=picker`,
    // embeds) hides them too.
    const anchor = select.closest<HTMLElement>('[data-panel]') ?? select.closest('label') ?? select;
    const extra = make('div', { className: 'model-extra' });
    if (anchor.dataset['panel']) extra.dataset['panel'] = anchor.dataset['panel'];
    this.description = make('p', { className: 'model-description' }, 'model-description');
    this.description.hidden = true;
    this.openLocal = this.buildOpenLocal();
    this.openLocal.hidden = !onOpenFiles;
    extra.append(this.description, this.openLocal);
    anchor.after(extra);
    this.dropOverlay = make('div', { className: 'drop-overlay' }, 'drop-overlay');
    this.dropOverlay.append(
      make('p', { textContent: 'Drop a model folder (or its four files) to open it' }),
    );
    this.dropOverlay.hidden = true;
    document.body.append(this.dropOverlay);
    if (onOpenFiles) this.listenForDrops();

    select.addEventListener('change', () => {
      if (select.value.startsWith(LOCAL_VALUE)) {
        if (this.localFiles.length > 0) this.onOpenFiles?.(this.localFiles);
      } else {
        onChoose(select.value);
      }
      this.describe(select.value);
    });
  }

  setModels(models: ModelEntry[]): void {
    this.models = models;
    const options = models.map((model) => {
      const option = make('option', { value: model.name, textContent: optionLabel(model) });
      option.title = model.description;
      return option;
    });
    this.select.replaceChildren(...options);
    if (this.localOption) this.select.append(this.localOption);
    this.setBusy(this.busy);
  }

  /** Shows `name` as chosen without firing a change. */
  show(name: string | null): void {
    if (name === null) return;
    const local = this.localOption && this.localOption.dataset['name'] === name;
    this.select.value = local ? this.localOption!.value : name;
    this.describe(this.select.value);
  }

  /** Adds (or replaces) the reader's own model as an option, and shows it chosen. */
  showLocal(model: LoadedModel, files: File[]): void {
    this.localFiles = files;
    this.localOption ??= make('option');
    this.localOption.value = `${LOCAL_VALUE}${model.name}`;
    this.localOption.dataset['name'] = model.name;
    this.localOption.textContent = optionLabel(model);
    this.localOption.title = 'Opened from your files: nothing was uploaded';
    if (!this.localOption.parentElement) this.select.append(this.localOption);
    this.select.value = this.localOption.value;
    this.describe(this.select.value);
    this.openLocal.open = false;
    this.setBusy(this.busy);
  }

  setBusy(busy: boolean): void {
    this.busy = busy;
    // Loading started: the popover would cover the progress bar.
    if (busy) this.openLocal.open = false;
    this.select.disabled = busy || this.select.options.length < 2;
    for (const button of this.openLocal.querySelectorAll('button')) button.disabled = busy;
  }

  private describe(value: string): void {
    const text = value.startsWith(LOCAL_VALUE)
      ? 'Your own model, read from your disk in this page: nothing was uploaded.'
      : (this.models.find((m) => m.name === value)?.description ?? '');
    this.description.textContent = text;
    this.description.hidden = text === '';
  }

  private buildOpenLocal(): HTMLDetailsElement {
    const details = make('details', { className: 'open-local' }, 'open-local');
    const summary = make('summary', { textContent: 'Open your own model' });
    const explain = make('p', { className: 'open-local-explain' });
    explain.append(
      'Any GPT-2-family model folder with ',
      make('code', { textContent: 'config.json' }),
      ', ',
      make('code', { textContent: 'model.safetensors' }),
      ', ',
      make('code', { textContent: 'vocab.json' }),
      ' and ',
      make('code', { textContent: 'merges.txt' }),
      ', such as the files of Hugging Face’s gpt2 repository. The files stay on your computer.',
    );
    const folderInput = make('input', { type: 'file', hidden: true }, 'open-local-folder');
    folderInput.webkitdirectory = true;
    const filesInput = make('input', { type: 'file', multiple: true, hidden: true }, 'open-local-files');
    folderInput.setAttribute('aria-label', 'Model folder');
    filesInput.setAttribute('aria-label', 'Model files');
    const folderButton = make('button', { type: 'button', textContent: 'Choose a folder…' });
    const filesButton = make('button', { type: 'button', textContent: 'Choose the files…' });
    folderButton.addEventListener('click', () => folderInput.click());
    filesButton.addEventListener('click', () => filesInput.click());
    for (const input of [folderInput, filesInput]) {
      input.addEventListener('change', () => {
        const files = Array.from(input.files ?? []);
        input.value = '';  // choosing the same files again fires change again
        if (files.length > 0) this.onOpenFiles?.(files);
      });
    }
    const actions = make('div', { className: 'open-local-actions' });
    actions.append(folderButton, filesButton, make('span', { textContent: 'or drop them on the page' }));
    // A popover under the summary: opening it does not push the page down.
    const panel = make('div', { className: 'open-local-panel' });
    panel.append(explain, actions);
    details.append(summary, panel, folderInput, filesInput);
    // Escape closes it, as any popover.
    details.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && details.open) {
        details.open = false;
        summary.focus();
      }
    });
    return details;
  }

  // Files dragged over the window show an overlay; a drop anywhere opens them.
  private listenForDrops(): void {
    let depth = 0;
    const hasFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
    window.addEventListener('dragenter', (event) => {
      if (!hasFiles(event)) return;
      depth++;
      this.dropOverlay.hidden = this.busy;
    });
    window.addEventListener('dragleave', (event) => {
      if (!hasFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) this.dropOverlay.hidden = true;
    });
    window.addEventListener('dragover', (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();  // allows the drop
      if (event.dataTransfer) event.dataTransfer.dropEffect = this.busy ? 'none' : 'copy';
    });
    window.addEventListener('drop', (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();  // the browser would otherwise navigate to the file
      depth = 0;
      this.dropOverlay.hidden = true;
      if (this.busy || !event.dataTransfer) return;
      // A folder that cannot be walked gives no files: the controller then
      // says which model files are missing.
      void readDroppedItems(event.dataTransfer)
        .catch(() => [] as File[])
        .then((files) => this.onOpenFiles?.(files));
    });
  }
}
