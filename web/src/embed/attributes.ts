/**
 * The attributes of <headlight-explorer>, parsed and checked. Pure: no DOM,
 * so the rules are unit-tested in Node (tests/web/embed.test.mjs).
 *
 *   model   served model name, e.g. "gpt-4l" (default: the page's default model)
 *   text    the text the model reads
 *   muted   heads to mute, "layer.head" comma-separated: "1.3,0.5"
 *   gains   other head gains, "layer.head:gain" comma-separated, gain in [0, 2]: "2.1:1.5"
 *   head    the selected head, "layer.head": "1.3"
 *   pos     the selected query token, from 0 (default: the last token)
 *   view    the head detail as "heatmap" or "lines"
 *   color   token colours: "loss" or "attention"
 *   source  attention colours from the selected "head" or the "mean" of the unmuted heads
 *   hide    panels to hide, comma-separated names from PANELS: "edits,picker"
 *   height  the element's height: a number of px, a CSS length ("560", "70vh"), or
 *           "auto" (the default): as tall as the explorer's content (no scroll bar inside)
 *   base    the folder that holds Headlight's index.html, wasm/ and models/
 *           (default: the folder above the element's script, embed/..)
 *
 * Together they carry every property of the page's URL state
 * (state/url-state.ts), so an element and an iframe of the same snippet show
 * the same thing. A bad attribute never throws: it is left out and named in
 * `problems`, which the element shows above the explorer.
 */
import { type HeadEdit, headName, type HeadRef, MAX_GAIN } from '../state/heads';
import {
  type AttentionSource,
  type ColorMode,
  isModelName,
  PANELS,
  type PanelName,
  PROPERTIES,
  type ViewMode,
} from '../state/url-state';

export const ATTRIBUTES = [
  'model',
  'text',
  'muted',
  'gains',
  'head',
  'pos',
  'view',
  'color',
  'source',
  'hide',
  'height',
  'base',
] as const;
export type AttributeName = (typeof ATTRIBUTES)[number];

/**
 * A frame this tall shows the whole embed mode at a blog column's 700 px
 * with the default model and text (688 px of content; the mean-loss line
 * ends at 668 px), with room for one more row of tokens. The iframe
 * snippet's height, and where height="auto" starts before the explorer has
 * reported its content height. tests/e2e/embed-cross-origin.test.mjs checks it.
 */
export const FRAME_HEIGHT_PX = 840;
/** No height attribute: as tall as the content. */
export const DEFAULT_HEIGHT = 'auto';
export const MIN_GAIN = 0;
export { MAX_GAIN };
/** Far above any model Headlight runs; only to reject typos like "130.5". */
export const MAX_INDEX = 127;
/** A longer text is cut by the model's context anyway; this keeps URLs sane. */
export const MAX_TEXT_LENGTH = 4000;

export interface EmbedOptions {
  model: string | null;
  text: string | null;
  /** Muted heads (gain 0) and scaled heads, in (layer, head) order, each head once. */
  edits: HeadEdit[];
  selectedHead: HeadRef | null;
  /** The query token; null: the page's default (the last token). */
  selectedPosition: number | null;
  view: ViewMode | null;
  colorMode: ColorMode | null;
  source: AttentionSource | null;
  hidden: PanelName[];
  /** A CSS length, or 'auto' (follow the explorer's content height). */
  height: string;
  /** Absolute URL of the folder holding index.html, ending in "/". */
  base: string;
}

export interface ParsedAttributes {
  options: EmbedOptions;
  /** One sentence per bad attribute, naming it and saying what is expected. */
  problems: string[];
}

type Attributes = Partial<Record<AttributeName, string | null>>;

const HEAD_REF = /^(\d+)\.(\d+)$/;
const GAIN = /^(?:\d+(?:\.\d*)?|\.\d+)$/;
const CSS_LENGTH = /^(\d+(?:\.\d+)?)(px|vh|svh|dvh|em|rem)?$/;

function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
}

function parseHeadRef(token: string): HeadRef | string {
  const match = HEAD_REF.exec(token);
  if (!match) return `${quote(token)} is not "layer.head" (two whole numbers, like 1.3)`;
  const layer = Number(match[1]);
  const head = Number(match[2]);
  if (layer > MAX_INDEX || head > MAX_INDEX) return `${quote(token)} is out of range`;
  return { layer, head };
}

function splitList(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

function headKey(ref: HeadRef): number {
  return ref.layer * (MAX_INDEX + 1) + ref.head;
}

/**
 * Reads the attributes. `scriptUrl` is the URL of the element's own script,
 * from which the default base is found; `documentUrl`
 * resolves a relative `base` as the browser resolves links in the host page.
 */
export function parseAttributes(
  attributes: Attributes,
  scriptUrl: string,
  documentUrl: string,
): ParsedAttributes {
  const problems: string[] = [];
  const options: EmbedOptions = {
    model: null,
    text: null,
    edits: [],
    selectedHead: null,
    selectedPosition: null,
    view: null,
    colorMode: null,
    source: null,
    hidden: [],
    height: DEFAULT_HEIGHT,
    base: new URL('../', scriptUrl).href,
  };

  const model = attributes.model?.trim();
  if (model) {
    if (isModelName(model)) options.model = model;
    else
      problems.push(
        `model=${quote(model)}: a model name has only letters, digits, "-", "_" and "." (no "..")`,
      );
  }

  const text = attributes.text;
  if (text !== null && text !== undefined) {
    if (text.length > MAX_TEXT_LENGTH) {
      problems.push(`text: ${text.length} characters is too long (at most ${MAX_TEXT_LENGTH})`);
    } else if (text.trim().length === 0) {
      problems.push('text is empty: give the model something to read, or leave the attribute out');
    } else {
      options.text = text;
    }
  }

  // Each head once; muted and gains together make the edit list.
  const edited = new Map<number, HeadEdit>();
  for (const token of splitList(attributes.muted ?? '')) {
    const ref = parseHeadRef(token);
    if (typeof ref === 'string') {
      problems.push(`muted: ${ref}`);
      continue;
    }
    edited.set(headKey(ref), { ...ref, gain: 0 });
  }
  for (const token of splitList(attributes.gains ?? '')) {
    const [refText = '', gainText, ...rest] = token.split(':');
    const ref = parseHeadRef(refText);
    if (typeof ref === 'string' || gainText === undefined || rest.length > 0) {
      problems.push(`gains: ${quote(token)} is not "layer.head:gain" (like 2.1:1.5)`);
      continue;
    }
    const gain = Number(gainText);
    if (!GAIN.test(gainText) || !(gain >= MIN_GAIN && gain <= MAX_GAIN)) {
      problems.push(
        `gains: the gain in ${quote(token)} must be a number from ${MIN_GAIN} to ${MAX_GAIN}`,
      );
      continue;
    }
    if (edited.get(headKey(ref))?.gain === 0) {
      problems.push(`gains: head ${headName(ref)} is also in muted; it stays muted`);
      continue;
    }
    edited.set(headKey(ref), { ...ref, gain });
  }
  options.edits = [...edited.entries()].sort(([a], [b]) => a - b).map(([, edit]) => edit);

  const head = attributes.head?.trim();
  if (head) {
    const ref = parseHeadRef(head);
    if (typeof ref === 'string') problems.push(`head: ${ref}`);
    else options.selectedHead = ref;
  }

  // Position and display choices read as the page reads them in its URL.
  const fromTable = <T>(name: AttributeName, parse: (raw: string) => T): T | null => {
    const raw = attributes[name]?.trim();
    if (!raw) return null;
    try {
      return parse(raw);
    } catch (error) {
      problems.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
  };
  options.selectedPosition = fromTable('pos', PROPERTIES.pos.parse);
  options.view = fromTable('view', PROPERTIES.view.parse);
  options.colorMode = fromTable('color', PROPERTIES.color.parse);
  options.source = fromTable('source', PROPERTIES.source.parse);

  const hidden = new Set<PanelName>();
  for (const name of splitList(attributes.hide ?? '')) {
    if ((PANELS as readonly string[]).includes(name)) hidden.add(name as PanelName);
    else problems.push(`hide: ${quote(name)} is not a panel (one of ${PANELS.join(', ')})`);
  }
  options.hidden = PANELS.filter((panel) => hidden.has(panel));

  const height = attributes.height?.trim();
  if (height === 'auto') {
    options.height = 'auto';
  } else if (height) {
    const match = CSS_LENGTH.exec(height);
    if (match && Number(match[1]) > 0) options.height = match[2] ? height : `${height}px`;
    else
      problems.push(
        `height=${quote(height)}: give a number of pixels (560), a length (560px, 70vh) or auto`,
      );
  }

  const base = attributes.base?.trim();
  if (base) {
    let url: URL | null = null;
    try {
      url = new URL(base, documentUrl);
    } catch {
      problems.push(`base=${quote(base)} is not a URL`);
    }
    if (url && url.protocol !== 'http:' && url.protocol !== 'https:' && url.protocol !== 'file:') {
      problems.push(`base=${quote(base)}: only http:, https: and file: URLs can hold Headlight`);
    } else if (url) {
      // A folder: "dist" and "dist/" both mean the folder; drop any query or hash.
      url.search = '';
      url.hash = '';
      if (url.pathname.endsWith('/index.html'))
        url.pathname = url.pathname.slice(0, -'index.html'.length);
      if (!url.pathname.endsWith('/')) url.pathname += '/';
      options.base = url.href;
    }
  }

  return { options, problems };
}
