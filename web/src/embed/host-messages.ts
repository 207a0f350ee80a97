/**
 * The postMessage API between a host page and an embedded Headlight (iframe
 * or <headlight-explorer>): message shapes and their validation. Pure, so it
 * is unit-tested in Node; embed-bridge.ts applies the commands to the app.
 * The protocol is documented in README.md beside this file.
 */
import type {
  AnalysisSummary,
  AppSnapshot,
  ChangeReason,
  HeadEdit,
  HeadRef,
} from '../app/app-api';
import { headName } from '../state/heads';
import {
  type AttentionSource,
  type ColorMode,
  countLoneSurrogates,
  isModelName,
  PANELS,
  type PanelName,
  PROPERTIES,
  quote,
  type ViewMode,
} from '../state/url-state';
import { MAX_GAIN, MAX_INDEX, MAX_TEXT_LENGTH, MIN_GAIN } from './attributes';

export const MESSAGE_PREFIX = 'headlight:';

/** Host -> Headlight. */
export type HostMessage =
  | { type: 'headlight:set-text'; text: string }
  | {
      type: 'headlight:set-edits';
      /** Heads to mute: "layer.head" strings, [layer, head] pairs or {layer, head}. */
      muted?: unknown[];
      /** Other gains: {"layer.head": gain}, gain in [0, 2]. */
      gains?: Record<string, number>;
    }
  | { type: 'headlight:select-head'; layer: number; head: number }
  /** The query token, from 0; -1 is the last token. */
  | { type: 'headlight:select-position'; position: number }
  /** How the explorer draws: each field is optional, the others stay. */
  | {
      type: 'headlight:set-display';
      view?: ViewMode;
      color?: ColorMode;
      source?: AttentionSource;
      /** Exactly these panels hidden (the others shown). */
      hide?: PanelName[];
    }
  | { type: 'headlight:set-model'; model: string }
  | { type: 'headlight:reset' }
  | { type: 'headlight:get-state' };

/** Headlight -> host. */
export type HeadlightEvent =
  | { type: 'headlight:ready'; state: AppSnapshot; analysis: AnalysisSummary | null }
  | {
      type: 'headlight:state';
      /** What changed, or 'get-state' for the reply to that request. */
      reason: ChangeReason | 'get-state';
      state: AppSnapshot;
      analysis: AnalysisSummary | null;
    }
  | { type: 'headlight:error'; message: string; request: string | null }
  /** The page's content height in CSS px, whenever it changes (for height="auto"). */
  | { type: 'headlight:size'; height: number };

/** A validated host message, in the app's terms. */
export type HostCommand =
  | { kind: 'set-text'; text: string }
  | { kind: 'set-edits'; edits: HeadEdit[] }
  | { kind: 'select-head'; head: HeadRef }
  | { kind: 'select-position'; position: number }
  | { kind: 'set-display'; display: Display }
  | { kind: 'set-model'; model: string }
  | { kind: 'reset' }
  | { kind: 'get-state' };

/** The display choices of a set-display command, under the app's field names. */
export interface Display {
  view?: ViewMode;
  colorMode?: ColorMode;
  source?: AttentionSource;
  hidden?: PanelName[];
}

/** Largest query position accepted (the URL's pos has at most 6 digits). */
const MAX_POSITION = 999_999;

export type ParsedMessage =
  | { ignored: true }
  | { ignored: false; command: HostCommand }
  | { ignored: false; error: string; request: string };

const IGNORED: ParsedMessage = { ignored: true };
/** How many of an object's keys a description names. */
const DESCRIBED_KEYS = 5;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_INDEX;
}

function headRefOf(value: unknown): HeadRef | null {
  if (typeof value === 'string') {
    const match = /^(\d+)\.(\d+)$/.exec(value.trim());
    if (!match) return null;
    const ref = { layer: Number(match[1]), head: Number(match[2]) };
    return isIndex(ref.layer) && isIndex(ref.head) ? ref : null;
  }
  if (Array.isArray(value) && value.length === 2 && isIndex(value[0]) && isIndex(value[1])) {
    return { layer: value[0], head: value[1] };
  }
  if (isRecord(value) && isIndex(value['layer']) && isIndex(value['head'])) {
    return { layer: value['layer'], head: value['head'] };
  }
  return null;
}

/**
 * A bad value in an error, bounded and safe for any value a host can post
 * (cycles, deep nesting, megabytes): strings quoted up to MAX_QUOTED
 * characters, containers by their size and first keys, never serialised whole.
 */
export function describe(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return 'an empty object';
    const shown = keys.slice(0, DESCRIBED_KEYS).map(quote).join(', ');
    return `an object with key${keys.length === 1 ? '' : 's'} ${shown}${keys.length > DESCRIBED_KEYS ? `, … (${keys.length} keys)` : ''}`;
  }
  return `a ${typeof value}`;
}

function parseEdits(data: Record<string, unknown>): HeadEdit[] | string {
  const { muted = [], gains = {} } = data;
  if (!Array.isArray(muted))
    return 'muted must be an array of heads like "1.3" or {layer: 1, head: 3}';
  if (!isRecord(gains)) return 'gains must be an object like {"2.1": 1.5}';
  const edits = new Map<string, HeadEdit>();
  for (const item of muted) {
    const ref = headRefOf(item);
    if (!ref) return `muted: ${describe(item)} is not a head (use "layer.head" or {layer, head})`;
    edits.set(headName(ref), { ...ref, gain: 0 });
  }
  for (const [key, gain] of Object.entries(gains)) {
    const ref = headRefOf(key);
    if (!ref) return `gains: key ${describe(key)} is not "layer.head"`;
    if (typeof gain !== 'number' || !(gain >= MIN_GAIN && gain <= MAX_GAIN)) {
      const range = `a number from ${MIN_GAIN} to ${MAX_GAIN}`;
      return `gains: the gain of head ${key} must be ${range}, got ${describe(gain)}`;
    }
    if (edits.get(headName(ref))?.gain === 0) {
      return `head ${key} is both muted and given gain ${gain}`;
    }
    edits.set(headName(ref), { ...ref, gain });
  }
  return [...edits.values()].sort((a, b) => a.layer - b.layer || a.head - b.head);
}

function parseDisplay(data: Record<string, unknown>): Display | string {
  const display: Display = {};
  // view, color and source are checked as the page checks them in its URL.
  const fields = [
    ['view', 'view', PROPERTIES.view.parse],
    ['color', 'colorMode', PROPERTIES.color.parse],
    ['source', 'source', PROPERTIES.source.parse],
  ] as const;
  for (const [name, field, parse] of fields) {
    const value = data[name];
    if (value === undefined) continue;
    try {
      if (typeof value !== 'string') throw new Error(`${describe(value)} is not a string`);
      (display as Record<string, unknown>)[field] = parse(value);
    } catch (error) {
      return `${name}: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  const hide = data['hide'];
  if (hide !== undefined) {
    if (!Array.isArray(hide)) return `hide must be an array of panel names (${PANELS.join(', ')})`;
    const bad = hide.find((name) => !(PANELS as readonly unknown[]).includes(name));
    if (bad !== undefined) return `hide: ${describe(bad)} is not a panel (${PANELS.join(', ')})`;
    display.hidden = PANELS.filter((panel) => hide.includes(panel));
  }
  if (Object.keys(display).length === 0) return 'give at least one of view, color, source, hide';
  return display;
}

/**
 * Validates one message event's data. Anything that is not an object with a
 * "headlight:*" type is ignored (other scripts use postMessage too), and so are
 * unknown headlight types (a newer host talking to an older page); a known type
 * with a bad payload gives an error to send back.
 */
export function parseHostMessage(data: unknown): ParsedMessage {
  if (
    !isRecord(data) ||
    typeof data['type'] !== 'string' ||
    !data['type'].startsWith(MESSAGE_PREFIX)
  ) {
    return IGNORED;
  }
  const type = data['type'];
  const fail = (error: string): ParsedMessage => ({
    ignored: false,
    error: `${type}: ${error}`,
    request: type,
  });
  switch (type) {
    case 'headlight:set-text': {
      const text = data['text'];
      if (typeof text !== 'string') return fail('text must be a string');
      if (text.length === 0) return fail('text is empty');
      if (text.length > MAX_TEXT_LENGTH) {
        return fail(`text has ${text.length} characters, at most ${MAX_TEXT_LENGTH} are accepted`);
      }
      // encodeURIComponent (the page's link) and UTF-8 refuse half a surrogate pair.
      const lone = countLoneSurrogates(text);
      if (lone > 0) {
        return fail(`text has ${lone} lone UTF-16 surrogate${lone === 1 ? '' : 's'} (half of a pair, not Unicode text)`);
      }
      return { ignored: false, command: { kind: 'set-text', text } };
    }
    case 'headlight:set-edits': {
      const edits = parseEdits(data);
      if (typeof edits === 'string') return fail(edits);
      return { ignored: false, command: { kind: 'set-edits', edits } };
    }
    case 'headlight:select-head': {
      const ref = headRefOf({ layer: data['layer'], head: data['head'] });
      if (!ref) return fail('layer and head must be whole numbers from 0');
      return { ignored: false, command: { kind: 'select-head', head: ref } };
    }
    case 'headlight:select-position': {
      const position = data['position'];
      if (
        typeof position !== 'number' ||
        !Number.isInteger(position) ||
        position < -1 ||
        position > MAX_POSITION
      ) {
        return fail('position must be a whole number from 0 (or -1 for the last token)');
      }
      return { ignored: false, command: { kind: 'select-position', position } };
    }
    case 'headlight:set-display': {
      const display = parseDisplay(data);
      if (typeof display === 'string') return fail(display);
      return { ignored: false, command: { kind: 'set-display', display } };
    }
    case 'headlight:set-model': {
      const model = data['model'];
      if (typeof model !== 'string') return fail(`model must be a model name (a string), not ${describe(model)}`);
      if (!isModelName(model)) {
        return fail(
          `model must be a model name (letters, digits, "-", "_", "." and no "..", like "gpt-4l"), not ${quote(model)}`,
        );
      }
      return { ignored: false, command: { kind: 'set-model', model } };
    }
    case 'headlight:reset':
      return { ignored: false, command: { kind: 'reset' } };
    case 'headlight:get-state':
      return { ignored: false, command: { kind: 'get-state' } };
    default:
      return IGNORED;
  }
}

/**
 * The heads of `refs` that the loaded model does not have, as an error
 * sentence, or null when all exist.
 */
export function headsOutside(
  refs: HeadRef[],
  model: string | null,
  n_layer: number,
  n_head: number,
): string | null {
  const outside = refs.filter((r) => r.layer >= n_layer || r.head >= n_head);
  if (outside.length === 0) return null;
  const names = outside.map(headName).join(', ');
  const subject = outside.length === 1 ? `head ${names} is` : `heads ${names} are`;
  return `${subject} outside ${model ?? 'the model'} (${n_layer} layers x ${n_head} heads)`;
}
