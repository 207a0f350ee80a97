/**
 * The two embed snippets for the page's current state: the custom element
 * (<headlight-explorer> with its attributes, loaded by a classic script tag
 * that works from any origin) and a plain iframe of the embed mode. Both
 * carry every property of the page's URL state (state/url-state.ts), so they
 * show the same thing. Pure string building, unit-tested in Node.
 */
import type { AppSnapshot } from '../app/app-api';
import { defaultChoices } from '../state/choices';
import { formatGain, headName, splitEdits } from '../state/heads';
import { linkTextOf } from '../state/url-state';
import { FRAME_HEIGHT_PX } from './attributes';
import { ELEMENT_SCRIPT } from './element-script';
import { embedHash, embedPageUrl } from './embed-url';

/** The iframe snippet's height: the embed mode's content at 700 px wide fits (attributes.ts). */
export const SNIPPET_HEIGHT_PX = FRAME_HEIGHT_PX;

export interface EmbedSnippets {
  element: string;
  iframe: string;
  /** The iframe's src: the embed mode of this page, same state. */
  iframeUrl: string;
}

/** Escapes a value for a double-quoted HTML attribute. */
export function escapeAttribute(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/"/g, '&quot;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** The URL hash (no '#') of the page in this state. */
export function embedHashOf(state: AppSnapshot): string {
  return embedHash(state);
}

/**
 * `pageUrl` is the URL of Headlight's index.html (or its folder) as the host
 * page will reach it; the element's script sits at embed/headlight-explorer.js
 * beside it.
 */
export function embedSnippets(state: AppSnapshot, pageUrl: string): EmbedSnippets {
  const folder = new URL('./', pageUrl);
  const scriptUrl = new URL(ELEMENT_SCRIPT, folder).href;
  const iframeUrl = embedPageUrl(state, folder.href);

  // What the URL hash carries, as attributes (attributes.ts reads them back);
  // defaults are left out, as in the hash. No height: the element's default,
  // "auto", fits the content at any width.
  const defaults = defaultChoices();
  const attributes: [string, string][] = [];
  if (state.model) attributes.push(['model', state.model]);
  // The text as the iframe's link carries it (cut to MAX_LINK_TEXT, well-formed).
  attributes.push(['text', linkTextOf(state.text).text]);
  const { muted, gains } = splitEdits(state.edits);
  if (muted.length > 0) attributes.push(['muted', muted.map(headName).join(',')]);
  if (gains.length > 0) {
    attributes.push(['gains', gains.map((e) => `${headName(e)}:${formatGain(e.gain)}`).join(',')]);
  }
  if (headName(state.selectedHead) !== headName(defaults.selectedHead)) {
    attributes.push(['head', headName(state.selectedHead)]);
  }
  if (state.selectedPosition !== defaults.selectedPosition) {
    attributes.push(['pos', String(state.selectedPosition)]);
  }
  if (state.view !== defaults.view) attributes.push(['view', state.view]);
  if (state.colorMode !== defaults.colorMode) attributes.push(['color', state.colorMode]);
  if (state.source !== defaults.source) attributes.push(['source', state.source]);
  if (state.hidden.length > 0) attributes.push(['hide', state.hidden.join(',')]);

  const element = [
    // A classic script, not type="module": it loads from any origin without CORS headers.
    `<script src="${escapeAttribute(scriptUrl)}"></script>`,
    '<headlight-explorer',
    ...attributes.map(([name, value]) => `  ${name}="${escapeAttribute(value)}"`),
    '></headlight-explorer>',
  ].join('\n');

  const title = `Headlight: the attention heads of ${state.model ?? 'a small GPT'}`;
  const iframeSnippet =
    `<iframe src="${escapeAttribute(iframeUrl)}"\n` +
    `  title="${escapeAttribute(title)}"\n` +
    `  width="100%" height="${SNIPPET_HEIGHT_PX}" style="border: 0" loading="lazy"></iframe>`;

  return { element, iframe: iframeSnippet, iframeUrl };
}
