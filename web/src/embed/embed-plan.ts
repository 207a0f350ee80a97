/**
 * What the "Copy embed code" dialog can offer for the page as it is now.
 * An embed loads Headlight and its model from a web server, so a snippet
 * only works when both are on one: a page opened from disk (file://, e.g.
 * the single-file build) or a model opened from the reader's own files gives
 * no snippet but a plain sentence saying what can be embedded instead, and
 * the single-file build served over http has no element script beside it,
 * so only its iframe works. Pure: unit-tested in Node.
 */
import type { AppSnapshot } from '../app/app-api';
import { linkTextNote, linkTextOf } from '../state/url-state';
import { embedSnippets } from './embed-code';

export interface EmbedWhere {
  /** The page's own URL (document.baseURI). */
  pageUrl: string;
  /** The single-file build (inline-files.ts marks it), which has no embed/ folder. */
  singleFile: boolean;
  /** The served models' names (models/index.json); null when the list could not be read. */
  servedModels: ReadonlySet<string> | null;
}

export interface EmbedPlan {
  /** null: this snippet would not work here. */
  element: string | null;
  iframe: string | null;
  /**
   * What cannot be embedded and what can, or what the snippets leave out of
   * the text, as paragraphs; null when both snippets work and carry it all.
   */
  note: string[] | null;
}

const HOST_THE_BUILD =
  'To embed Headlight, put its build (npm run build makes web/dist) on any static web ' +
  'server, open it there and copy the embed code.';

export function embedPlan(state: AppSnapshot, where: EmbedWhere): EmbedPlan {
  const nothing = (...note: string[]): EmbedPlan => ({ element: null, iframe: null, note });
  const protocol = new URL(where.pageUrl).protocol;
  if (protocol !== 'http:' && protocol !== 'https:') {
    const what = where.singleFile ? 'This single-file Headlight was' : 'This page was';
    return nothing(
      `${what} opened from a file on your computer (${protocol}//). A page on the web cannot ` +
        "show a file from its reader's disk, so nothing here can be embedded.",
      HOST_THE_BUILD,
    );
  }
  if (where.singleFile) {
    return nothing(
      'This is the single-file build, made to be opened on its own: it has no embed mode page ' +
        'or element script beside it, so nothing here can be embedded.',
      HOST_THE_BUILD,
    );
  }
  if (state.model !== null && where.servedModels !== null && !where.servedModels.has(state.model)) {
    return nothing(
      `The model "${state.model}" was opened from your own files and lives only in this tab ` +
        '(nothing was uploaded), so no other page can load it: there is no snippet for it.',
      "To embed a model of your own, host its folder in a Headlight build: in models/, listed in " +
        "models/index.json (npm run build does both for a folder in the repository's models/). " +
        'Copy the embed code from that build, or give the element base="<that build\'s address>" ' +
        'and model="<folder name>".',
      'The models in the Model menu can be embedded from here.',
    );
  }
  const snippets = embedSnippets(state, where.pageUrl);
  const cut = linkTextNote(linkTextOf(state.text));
  const note = cut === null ? null : [`In both snippets, as in this page's address, ${cut}.`];
  return { element: snippets.element, iframe: snippets.iframe, note };
}
