/**
 * The URL of Headlight's embed mode for a set of choices: the page's own
 * index.html with `?embed=1`, the state in the hash through the page's one
 * property table (state/url-state.ts), so the element, the iframe snippet and
 * a shared link all speak the same format.
 */
import type { ColorMode, HeadEdit, HeadRef, PanelName, ViewMode } from '../state/app-api';
import { defaultUrlState, serialiseHash } from '../state/url-state';

export interface EmbedChoices {
  model: string | null;
  /** null: the page's default text. */
  text: string | null;
  edits: HeadEdit[];
  selectedHead: HeadRef | null;
  hidden: PanelName[];
  /** The rest of the page's state, when known (the snippets of the full page). */
  selectedPosition?: number;
  view?: ViewMode;
  colorMode?: ColorMode;
}

/** The hash (no '#') that makes the page show these choices. */
export function embedHash(choices: EmbedChoices): string {
  const state = defaultUrlState();
  state.model = choices.model;
  if (choices.text !== null) state.text = choices.text;
  state.muted = choices.edits
    .filter((e) => e.gain === 0)
    .map(({ layer, head }) => ({ layer, head }));
  state.gains = choices.edits.filter((e) => e.gain !== 0 && e.gain !== 1);
  if (choices.selectedHead) state.head = choices.selectedHead;
  state.hide = choices.hidden;
  if (choices.selectedPosition !== undefined) state.pos = choices.selectedPosition;
  if (choices.view !== undefined) state.view = choices.view;
  if (choices.colorMode !== undefined) state.color = choices.colorMode;
  return serialiseHash(state);
}

/** `<base>index.html?embed=1#<state>`; `base` is the folder that holds index.html. */
export function embedPageUrl(choices: EmbedChoices, base: string): string {
  const url = new URL('index.html', base);
  url.search = '?embed=1';
  url.hash = embedHash(choices);
  return url.href;
}
