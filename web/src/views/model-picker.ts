/**
 * Model picker: the served models (models/index.json) with size and a line
 * of description. Choosing one asks the controller to load it.
 */
import type { ModelEntry } from '../engine/model-index';
import { formatBytes } from './status';

export class ModelPicker {
  constructor(
    private readonly select: HTMLSelectElement,
    onChoose: (name: string) => void,
  ) {
    select.addEventListener('change', () => onChoose(select.value));
  }

  setModels(models: ModelEntry[]): void {
    const options = models.map((model) => {
      const option = document.createElement('option');
      option.value = model.name;
      option.textContent = `${model.name} (${formatBytes(model.bytes)})`;
      option.title = model.description;
      return option;
    });
    this.select.replaceChildren(...options);
  }

  /** Shows `name` as chosen without firing a change. */
  show(name: string | null): void {
    if (name !== null) this.select.value = name;
  }

  setBusy(busy: boolean): void {
    this.select.disabled = busy || this.select.options.length < 2;
  }
}
