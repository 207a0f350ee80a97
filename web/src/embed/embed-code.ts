/**
 * The two embed snippets for the page's current state: the custom element
 * (<headlight-explorer> with its attributes) and a plain iframe of the embed
 * mode. Pure string building, unit-tested in Node.
 */
import type { AppSnapshot } from '../app/app-api';
import { formatGain, headName, splitEdits } from '../state/heads';
import { embedHash, embedPageUrl } from './embed-url';

export const SNIPPET_HEIGHT_PX = 640;

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
  const scriptUrl = new URL('embed/headlight-explorer.js', folder).href;
  const iframeUrl = embedPageUrl(state, folder.href);

  const attributes: [string, string][] = [];
  if (state.model) attributes.push(['model', state.model]);
  attributes.push(['text', state.text]);
  const { muted, gains } = splitEdits(state.edits);
  if (muted.length > 0) attributes.push(['muted', muted.map(headName).join(',')]);
  if (gains.length > 0) {
    attributes.push(['gains', gains.map((e) => `${headName(e)}:${formatGain(e.gain)}`).join(',')]);
  }
  if (state.selectedHead.layer !== 0 || state.selectedHead.head !== 0) {
    attributes.push(['head', headName(state.selectedHead)]);
  }
  if (state.hidden.length > 0) attributes.push(['hide', state.hidden.join(',')]);
  attributes.push(['height', String(SNIPPET_HEIGHT_PX)]);

  const element = [
    `<script type="module" src="${escapeAttribute(scriptUrl)}"></script>`,
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
