/**
 * The URL of Headlight's embed mode for a set of choices: the page's own
 * index.html with `?embed=1`, the state in the hash through the page's one
 * property table (state/url-state.ts), so the element, the iframe snippet and
 * a shared link all speak the same format.
 */
import type { HeadEdit, HeadRef, PanelName } from '../state/app-api';
import { defaultUrlState, serialiseHash } from '../state/url-state';

export interface EmbedChoices {
  model: string | null;
  text: string | null;
  edits: HeadEdit[];
  selectedHead: HeadRef | null;
  hidden: PanelName[];
  /** Absolute URL of the folder that holds index.html, ending in "/". */
  base: string;
}

export function embedHash(choices: Omit<EmbedChoices, 'base'>): string {
  const state = defaultUrlState();
  state.model = choices.model;
  if (choices.text !== null) state.text = choices.text;
  state.muted = choices.edits.filter((e) => e.gain === 0).map(({ layer, head }) => ({ layer, head }));
  state.gains = choices.edits.filter((e) => e.gain !== 0 && e.gain !== 1);
  if (choices.selectedHead) state.head = choices.selectedHead;
  state.hide = choices.hidden;
  return serialiseHash(state);
}

/** `<base>index.html?embed=1#<state>`. */
export function embedPageUrl(choices: EmbedChoices): string {
  const url = new URL('index.html', choices.base);
  url.search = '?embed=1';
  url.hash = embedHash(choices);
  return url.href;
}
