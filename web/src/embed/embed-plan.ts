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
  /** What cannot be embedded and what can; null when both snippets work. */
  note: string | null;
}

const HOST_THE_BUILD =
  'To embed Headlight, put its build (npm run build makes web/dist) on any static web ' +
  'server, open it there and copy the embed code.';

export function embedPlan(state: AppSnapshot, where: EmbedWhere): EmbedPlan {
  const localModel =
    state.model !== null && where.servedModels !== null && !where.servedModels.has(state.model);
  const protocol = new URL(where.pageUrl).protocol;
  if (protocol !== 'http:' && protocol !== 'https:') {
    const what = where.singleFile ? 'This single-file Headlight was' : 'This page was';
    return {
      element: null,
      iframe: null,
      note:
        `${what} opened from a file on your computer (${protocol}//), and a page on the web ` +
        `cannot show a file from its reader's disk: nothing here can be embedded. ${HOST_THE_BUILD}`,
    };
  }
  if (where.singleFile) {
    return {
      element: null,
      iframe: null,
      note:
        'This is the single-file build, made to be opened on its own: it has no embed mode ' +
        `page or element script beside it, so nothing here can be embedded. ${HOST_THE_BUILD}`,
    };
  }
  if (localModel) {
    return {
      element: null,
      iframe: null,
      note:
        `The model "${state.model}" was opened from your own files: it lives in this tab only ` +
        '(nothing was uploaded), so no other page can load it. To embed a model of your own, ' +
        'host its folder: put it in models/ of a Headlight build on your web server (listed in ' +
        'models/index.json; npm run build does both for a folder in the repository\'s models/), ' +
        'open that build and copy the embed code there, or give the element base="<that ' +
        'build\'s address>" and model="<folder name>". The served models in the Model menu ' +
        'can be embedded from here.',
    };
  }
  const snippets = embedSnippets(state, where.pageUrl);
  return { element: snippets.element, iframe: snippets.iframe, note: null };
}
