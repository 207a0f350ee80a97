/**
 * An attribute change of a running <headlight-explorer>, as postMessage API
 * messages (host-messages.ts) for what changed and nothing else. The element
 * sends them in the same queue as the host's own element.send() messages, so
 * they apply in the order they were made, and a text sent with send() stays
 * when a later change touches only `muted`. Pure: unit-tested in Node.
 */
import type { HeadEdit } from '../state/heads';
import { headName } from '../state/heads';
import { defaultUrlState } from '../state/url-state';
import type { EmbedOptions } from './attributes';
import type { HostMessage } from './host-messages';

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** A list of edits as the set-edits message writes them. */
function setEdits(edits: readonly HeadEdit[]): HostMessage {
  const muted = edits.filter((e) => e.gain === 0).map(headName);
  const gains = Object.fromEntries(
    edits.filter((e) => e.gain !== 0).map((e) => [headName(e), e.gain]),
  );
  return { type: 'headlight:set-edits', muted, gains };
}

/**
 * The messages that take the explorer from the attributes `before` to the
 * attributes `after`. A removed attribute brings its property back to the
 * page's default, as a missing key of the URL does; a removed `model` keeps
 * the loaded model (the element does not know the served default's name).
 * Loading another model resets the head edits (and the head, if the new
 * model lacks it), so a new `model` sends the attributes' edits and head
 * again after it. `base` and the element's own
 * `height` are not the explorer's state: they give no message.
 */
export function messagesForChange(before: EmbedOptions, after: EmbedOptions): HostMessage[] {
  const defaults = defaultUrlState();
  const messages: HostMessage[] = [];
  const newModel = after.model !== null && after.model !== before.model;
  if (newModel) messages.push({ type: 'headlight:set-model', model: after.model as string });
  if (after.text !== before.text) {
    messages.push({ type: 'headlight:set-text', text: after.text ?? defaults.text });
  }
  const again = (value: unknown) => newModel && value !== null && !same(value, []);
  if (again(after.edits) || !same(after.edits, before.edits)) messages.push(setEdits(after.edits));
  if (again(after.selectedHead) || !same(after.selectedHead, before.selectedHead)) {
    const head = after.selectedHead ?? defaults.head;
    messages.push({ type: 'headlight:select-head', layer: head.layer, head: head.head });
  }
  if (after.selectedPosition !== before.selectedPosition) {
    const position = after.selectedPosition ?? defaults.pos;
    messages.push({ type: 'headlight:select-position', position });
  }
  const display: Extract<HostMessage, { type: 'headlight:set-display' }> = {
    type: 'headlight:set-display',
  };
  if (after.view !== before.view) display.view = after.view ?? defaults.view;
  if (after.colorMode !== before.colorMode) display.color = after.colorMode ?? defaults.color;
  if (after.source !== before.source) display.source = after.source ?? defaults.source;
  if (!same(after.hidden, before.hidden)) display.hide = after.hidden;
  if (Object.keys(display).length > 1) messages.push(display);
  return messages;
}
