/**
 * The URL of Headlight's embed mode for a set of choices: the page's own
 * index.html with `?embed=1`, the state in the hash through the page's one
 * property table (state/url-state.ts), so the element, the iframe snippet and
 * a shared link all speak the same format.
 */
import { type PartialChoices, urlStateOf } from '../state/choices';
import { serialiseHash } from '../state/url-state';

/**
 * The choices an embed carries: the element's attributes know some (null:
 * the page's default), the full page's snippets know them all (AppSnapshot).
 */
export type EmbedChoices = PartialChoices;

/** The hash (no '#') that makes the page show these choices. */
export function embedHash(choices: EmbedChoices): string {
  return serialiseHash(urlStateOf(choices));
}

/** `<base>index.html?embed=1#<state>`; `base` is the folder that holds index.html. */
export function embedPageUrl(choices: EmbedChoices, base: string): string {
  const url = new URL('index.html', base);
  url.search = '?embed=1';
  url.hash = embedHash(choices);
  return url.href;
}
