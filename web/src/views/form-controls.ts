/**
 * The controls of the panels that build their own forms (Train a model
 * live, Fine-tune heads): a labelled field and a button, in the Train
 * panel's classes (styles/train.css).
 */
import { element } from './panel-dom';

/** control under a small label; className: the label's classes. */
export function labelled(text: string, control: HTMLElement, className = 'train-field'): HTMLLabelElement {
  const label = element('label', className);
  label.append(element('span', 'train-field-name'), control);
  label.firstElementChild!.textContent = text;
  return label;
}

/** A plain button with data-role `role`; primary: the panel's main action. */
export function button(text: string, role: string, primary = false): HTMLButtonElement {
  const node = element('button', primary ? 'button train-primary' : 'button', role);
  node.type = 'button';
  node.textContent = text;
  return node;
}
