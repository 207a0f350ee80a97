/**
 * What a link may carry of the page's text and of a bad value: text made
 * well-formed (lone UTF-16 surrogates, which encodeURIComponent throws on,
 * become U+FFFD) and cut to MAX_LINK_TEXT; values quoted in notices cut to
 * MAX_QUOTED. Never throws.
 */

/**
 * The most text a link carries: longer text is cut (at a whole character) and
 * the page says "the link carries the first N characters". 4000 is also the
 * embed element's limit (embed/attributes.ts): a hash of 4000 characters is
 * at most ~36 KB (CJK is 9 bytes a character percent-encoded), which every
 * browser reopens, where the whole of a 1 MB paste was 7 MB of URL.
 */
export const MAX_LINK_TEXT = 4000;

/** How much of a bad value a notice quotes; the rest is counted, not repeated. */
export const MAX_QUOTED = 60;

/** A lone UTF-16 surrogate: a high one not followed by a low one, or a low one alone. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The number of lone surrogates in `text` (encodeURIComponent throws on them). */
export function countLoneSurrogates(text: string): number {
  return text.match(LONE_SURROGATE)?.length ?? 0;
}

/** `text` with every lone surrogate replaced by U+FFFD, so it can be percent-encoded. */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * A value quoted for a notice or an error: at most MAX_QUOTED characters,
 * then "… (N characters)", so a 4 MB value gives a line, not a 4 MB notice.
 */
export function quote(raw: string): string {
  if (raw.length <= MAX_QUOTED) return `"${raw}"`;
  return `"${raw.slice(0, MAX_QUOTED)}…" (${raw.length} characters)`;
}

/** What a link carries of a text, and what it changed. */
export interface LinkText {
  text: string;
  /** Lone surrogates replaced by U+FFFD. */
  replaced: number;
  /** The text's length when it was cut to MAX_LINK_TEXT; null when it was not. */
  cutFrom: number | null;
}

/** The text as a link carries it: well-formed, at most MAX_LINK_TEXT characters. */
export function linkTextOf(text: string): LinkText {
  const replaced = countLoneSurrogates(text);
  let carried = replaced > 0 ? wellFormed(text) : text;
  const cutFrom = carried.length > MAX_LINK_TEXT ? carried.length : null;
  if (cutFrom !== null) {
    // Never half a surrogate pair: the cut would itself be a lone surrogate.
    const end = /[\uD800-\uDBFF]/.test(carried[MAX_LINK_TEXT - 1] ?? '') ? MAX_LINK_TEXT - 1 : MAX_LINK_TEXT;
    carried = carried.slice(0, end);
  }
  return { text: carried, replaced, cutFrom };
}

/**
 * One sentence saying how a link's text differs from the page's, or null
 * when it carries the whole text unchanged.
 */
export function linkTextNote(link: LinkText): string | null {
  const parts: string[] = [];
  if (link.cutFrom !== null) {
    parts.push(`the link carries the first ${link.text.length} characters of the text (of ${link.cutFrom})`);
  }
  if (link.replaced > 0) {
    const what = link.replaced === 1 ? 'a lone UTF-16 surrogate' : `${link.replaced} lone UTF-16 surrogates`;
    parts.push(`${what} in the text became \uFFFD in the link`);
  }
  return parts.length > 0 ? parts.join('; ') : null;
}
