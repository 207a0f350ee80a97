/**
 * The page's state in the URL hash, through ONE typed property table (as in
 * TensorFlow Playground): each property has a name, a default, a parser and
 * a serialiser. Defaults are left out of the hash, so a fresh page has an
 * empty hash and a shared link carries only what the reader changed.
 *
 *   #model=gpt-4l&text=The+cat+sat&muted=1.3,0.5&gain=2.1:0.5&mean=0.2&head=1.3&pos=4
 *    &view=lines&color=attention&source=mean&hide=edits,picker&embed=1
 *
 * Parsing never throws: a malformed part is skipped and named in `problems`
 * (the page shows them in a notice). Pure functions, no DOM: unit-tested in Node.
 */
import { dedupeHeads, editsFromGains, formatGain, gainsFromEdits, type HeadEdit, headName } from './heads';
import { type HeadRef, MAX_GAIN, sortHeads, splitEdits } from './heads';

// Also here, where the tests and the page have always found them.
export { editsFromGains, formatGain, gainsFromEdits, MAX_GAIN };
export {
  countLoneSurrogates, linkTextNote, linkTextOf, MAX_LINK_TEXT, MAX_QUOTED, quote, wellFormed, type LinkText,
} from './link-text';
import { linkTextOf, quote, wellFormed } from './link-text';

export type ViewMode = 'heatmap' | 'lines';
export type ColorMode = 'loss' | 'attention';
/** Token colours in attention mode: the selected head, or the mean over the unmuted heads. */
export type AttentionSource = 'head' | 'mean';

/** Panels a lesson can hide (URL `hide=edits,picker`, TensorFlow Playground style). */
export const PANELS = [
  'header',      // title, tagline and model bar
  'picker',      // model picker and "open your own"
  'presets',     // preset prompt buttons
  'text',        // the text box (the token chips stay)
  'tokens',      // token chips
  'predictions', // next-token bars
  'heads',       // head grid
  'detail',      // selected head's large heatmap / line view and gain slider
  'edits',       // edits list, reset, ablation mode
  'pruning',     // pruning curves and the slider that removes heads
  'export',      // export buttons
  'arithmetic',  // one head's arithmetic, step by step
  'composition', // a head's attention with an earlier head muted
  'circuits',    // answer and foil, logit lens, direct effects, compare prompts (issue 17)
  'timeline',    // training: a model's checkpoints, loss, ICL and head scores over steps (issue 18)
  'sizes',       // the shipped models side by side on the same text: head types and loss (issue 18)
  'train',       // train a small model live (issue 18)
  'finetune',    // fine-tune chosen heads and see the side effects (issue 18)
  'runs',        // compare two runs: one head's attention side by side (issue 17)
  'footer',      // colophon
] as const;
export type PanelName = (typeof PANELS)[number];

export interface UrlState {
  /** null: the index's default model. */
  model: string | null;
  text: string;
  /** Heads at gain 0. */
  muted: HeadRef[];
  /** Heads at a gain other than 0 and 1. */
  gains: HeadEdit[];
  /** Mean-ablated heads: z replaced by its mean over the text (docs/heads.md). */
  mean: HeadRef[];
  head: HeadRef;
  /** Query position; -1 means the last token. */
  pos: number;
  view: ViewMode;
  color: ColorMode;
  source: AttentionSource;
  hide: PanelName[];
  embed: boolean;
  /** The answer token's text ('' = the top prediction); docs/circuits.md. */
  answer: string;
  /** The foil token's text ('' = the second prediction). */
  foil: string;
  /** The corrupted prompt of "Compare prompts" ('' = none). */
  corrupted: string;
  /** Heads whose z is patched clean -> corrupted in the corrupted run. */
  patch: HeadRef[];
  /** What patching measures at the last position: logit(answer) - logit(foil), or log p(answer). */
  metric: PatchMetricKind;
  /** Compare two runs: which pair (two prompts, two models, edited vs unedited). */
  runs: RunPairKind;
  /** The second prompt of a pair of prompts ('' = the corrupted prompt of Compare prompts). */
  runtext: string;
  /** The other model of a pair of models ('' = none chosen): a model name, or model/checkpoint. */
  runwith: string;
}

/** The metrics of activation patching (docs/circuits.md): the engine's names. */
export const PATCH_METRICS = ['logit_diff', 'logprob'] as const;
export type PatchMetricKind = (typeof PATCH_METRICS)[number];

/** The pairs "Compare two runs" knows (docs/circuits.md). */
export const RUN_PAIRS = ['edits', 'prompts', 'models'] as const;
export type RunPairKind = (typeof RUN_PAIRS)[number];

/** True for a model name or model/checkpoint, each part a name isModelName accepts. */
export function isRunModelName(raw: string): boolean {
  const parts = raw.split('/');
  return parts.length <= 2 && parts.every(isModelName);
}

// A rare name that comes back, cut inside its second mention: the default
// model's induction heads complete it (web/src/views/presets.ts, 'name').
export const DEFAULT_TEXT =
  'Our neighbour, Mr. Brackenbury, keeps bees behind the old mill. ' +
  'Every summer the children visit Mr. Bracken';

interface Property<K extends keyof UrlState> {
  /** Name in the hash. */
  name: string;
  /**
   * The property's name in the app's choices (AppState, AppSnapshot, the
   * embed code). `muted` and `gains` together are the one list `edits`.
   */
  field: string;
  /** What the value means, for error messages. */
  expects: string;
  default: () => UrlState[K];
  /** Throws an Error naming the problem when `raw` is not valid. */
  parse: (raw: string) => UrlState[K];
  serialise: (value: UrlState[K]) => string;
  equal?: (a: UrlState[K], b: UrlState[K]) => boolean;
}

// A model name is a folder of models/: no '/', and not '.' or '..', which
// would reach the models folder itself or the site root.
const MODEL_NAME = /^[A-Za-z0-9_][\w.-]{0,63}$/;

/** True for a name that can only name a folder inside models/. */
export function isModelName(raw: string): boolean {
  return MODEL_NAME.test(raw) && !raw.includes('..');
}

const HEAD = /^(\d{1,3})\.(\d{1,3})$/;

function parseHead(raw: string): HeadRef {
  const match = HEAD.exec(raw);
  if (!match) throw new Error(`${quote(raw)} is not a head (layer.head, e.g. 1.3)`);
  return { layer: Number(match[1]), head: Number(match[2]) };
}

function parseHeadList(raw: string): HeadRef[] {
  if (raw === '') return [];
  const heads = raw.split(',').map(parseHead);
  return sortHeads(dedupeHeads(heads));
}

function parseGainList(raw: string): HeadEdit[] {
  if (raw === '') return [];
  const edits = raw.split(',').map((part) => {
    const colon = part.indexOf(':');
    if (colon < 0) throw new Error(`${quote(part)} is not head:gain (e.g. 2.1:0.5)`);
    const ref = parseHead(part.slice(0, colon));
    const gainText = part.slice(colon + 1);
    const gain = Number(gainText);
    if (gainText === '' || !Number.isFinite(gain) || gain < 0 || gain > MAX_GAIN) {
      throw new Error(`gain ${quote(gainText)} of head ${headName(ref)} is not a number from 0 to ${MAX_GAIN}`);
    }
    return { ...ref, gain };
  });
  return sortHeads(dedupeHeads(edits));
}

function oneOf<T extends string>(values: readonly T[]) {
  return (raw: string): T => {
    if ((values as readonly string[]).includes(raw)) return raw as T;
    throw new Error(`${quote(raw)} is not one of ${values.join(', ')}`);
  };
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** A list of heads (muted, mean-ablated, patched): parsed sorted and without repeats. */
const HEAD_LIST = {
  default: (): HeadRef[] => [],
  parse: parseHeadList,
  serialise: (value: HeadRef[]) => value.map(headName).join(','),
  equal: sameJson,
};

/** A text (the prompt, the corrupted prompt): kept as typed; a link carries at most MAX_LINK_TEXT characters. */
const TEXT_VALUE = {
  expects: 'text',
  parse: (raw: string) => raw,
  serialise: (value: string) => linkTextOf(value).text,
};

/** The most characters an answer or foil may have: one token's text is short. */
export const MAX_TOKEN_TEXT = 64;

/** An answer or foil: one token's text, kept as typed (its leading space matters); '' = none chosen. */
const TOKEN_VALUE = {
  default: () => '',
  parse: (raw: string): string => {
    if (raw.length > MAX_TOKEN_TEXT) {
      throw new Error(`${quote(raw)} is longer than a token's text (at most ${MAX_TOKEN_TEXT} characters)`);
    }
    if (raw !== wellFormed(raw)) throw new Error(`${quote(raw)} holds a lone surrogate`);
    return raw;
  },
  serialise: String,
};

/** The table. Order = order in the hash. */
export const PROPERTIES = {
  model: {
    field: 'model' as const,
    name: 'model',
    expects: 'a model name (letters, digits, . _ -)',
    default: () => null,
    parse: (raw) => {
      if (!isModelName(raw)) throw new Error(`${quote(raw)} is not a model name`);
      return raw;
    },
    serialise: (value) => value ?? '',
  },
  text: {
    field: 'text' as const,
    name: 'text',
    default: () => DEFAULT_TEXT,
    ...TEXT_VALUE,
  },
  muted: {
    field: 'edits' as const,
    name: 'muted',
    expects: 'heads as layer.head, comma-separated (e.g. 1.3,0.5)',
    ...HEAD_LIST,
  },
  gains: {
    field: 'edits' as const,
    name: 'gain',
    expects: 'head:gain pairs, comma-separated (e.g. 2.1:0.5)',
    default: () => [],
    parse: parseGainList,
    serialise: (value: HeadEdit[]) => value.map((e) => `${headName(e)}:${formatGain(e.gain)}`).join(','),
    equal: sameJson,
  },
  mean: {
    field: 'meanHeads' as const,
    name: 'mean',
    expects: 'heads as layer.head, comma-separated (e.g. 1.3,0.5)',
    ...HEAD_LIST,
  },
  head: {
    field: 'selectedHead' as const,
    name: 'head',
    expects: 'a head as layer.head (e.g. 1.3)',
    default: () => ({ layer: 0, head: 0 }),
    parse: parseHead,
    serialise: headName,
    equal: sameJson,
  },
  pos: {
    field: 'selectedPosition' as const,
    name: 'pos',
    expects: 'a token position (0, 1, 2, ...)',
    default: () => -1,
    parse: (raw) => {
      if (!/^\d{1,6}$/.test(raw)) throw new Error(`${quote(raw)} is not a token position`);
      return Number(raw);
    },
    serialise: String,
  },
  view: {
    field: 'view' as const,
    name: 'view',
    expects: 'heatmap or lines',
    default: () => 'heatmap',
    parse: oneOf<ViewMode>(['heatmap', 'lines']),
    serialise: String,
  },
  color: {
    field: 'colorMode' as const,
    name: 'color',
    expects: 'loss or attention',
    default: () => 'loss',
    parse: oneOf<ColorMode>(['loss', 'attention']),
    serialise: String,
  },
  source: {
    field: 'source' as const,
    name: 'source',
    expects: 'head or mean',
    default: () => 'head',
    parse: oneOf<AttentionSource>(['head', 'mean']),
    serialise: String,
  },
  hide: {
    field: 'hidden' as const,
    name: 'hide',
    expects: `panel names, comma-separated (${PANELS.join(', ')})`,
    default: () => [],
    parse: (raw) => {
      if (raw === '') return [];
      const names = [...new Set(raw.split(','))];
      for (const name of names) {
        if (!(PANELS as readonly string[]).includes(name)) {
          throw new Error(`${quote(name)} is not a panel (${PANELS.join(', ')})`);
        }
      }
      return PANELS.filter((p) => names.includes(p));
    },
    serialise: (value) => value.join(','),
    equal: sameJson,
  },
  embed: {
    field: 'embed' as const,
    name: 'embed',
    expects: '1 or 0',
    default: () => false,
    parse: (raw) => {
      if (raw === '1' || raw === 'true') return true;
      if (raw === '0' || raw === 'false') return false;
      throw new Error(`${quote(raw)} is not 1 or 0`);
    },
    serialise: (value) => (value ? '1' : '0'),
  },
  answer: {
    field: 'answer' as const,
    name: 'answer',
    expects: `one token's text (e.g. +Mary), at most ${MAX_TOKEN_TEXT} characters`,
    ...TOKEN_VALUE,
  },
  foil: {
    field: 'foil' as const,
    name: 'foil',
    expects: `one token's text (e.g. +John), at most ${MAX_TOKEN_TEXT} characters`,
    ...TOKEN_VALUE,
  },
  corrupted: {
    field: 'corrupted' as const,
    name: 'corrupt',
    default: () => '',
    ...TEXT_VALUE,
  },
  patch: {
    field: 'patchedHeads' as const,
    name: 'patch',
    expects: 'heads as layer.head, comma-separated (e.g. 0.1,1.2)',
    ...HEAD_LIST,
  },
  metric: {
    field: 'patchMetric' as const,
    name: 'metric',
    expects: PATCH_METRICS.join(', '),
    default: () => 'logit_diff',
    parse: oneOf<PatchMetricKind>(PATCH_METRICS),
    serialise: String,
  },
  runs: {
    field: 'runPair' as const,
    name: 'runs',
    expects: RUN_PAIRS.join(', '),
    default: () => 'edits',
    parse: oneOf<RunPairKind>(RUN_PAIRS),
    serialise: String,
  },
  runtext: {
    field: 'runText' as const,
    name: 'runtext',
    default: () => '',
    ...TEXT_VALUE,
  },
  runwith: {
    field: 'runModel' as const,
    name: 'runwith',
    expects: 'a model name, or model/checkpoint (e.g. attn-only-2l/step-03500)',
    default: () => '',
    parse: (raw) => {
      if (!isRunModelName(raw)) throw new Error(`${quote(raw)} is not a model name`);
      return raw;
    },
    serialise: String,
  },
} satisfies { [K in keyof UrlState]: Property<K> };

/** The URL keys in the table's order. */
export const ORDER = Object.keys(PROPERTIES) as (keyof UrlState)[];

export function defaultUrlState(): UrlState {
  const state = {} as Record<keyof UrlState, unknown>;
  for (const key of ORDER) state[key] = PROPERTIES[key].default();
  return state as unknown as UrlState;
}

/** The names the hash may hold. */
export const PROPERTY_NAMES: string[] = ORDER.map((key) => PROPERTIES[key].name);

// Percent-encoding that keeps , : . readable; space is '+' (a literal '+' is %2B).
// Never throws: a lone surrogate (which encodeURIComponent refuses) is U+FFFD.
function encodeValue(value: string): string {
  return encodeURIComponent(wellFormed(value))
    .replace(/%2C/g, ',')
    .replace(/%3A/g, ':')
    .replace(/%20/g, '+');
}

// A hash typed or pasted by hand may hold a lone surrogate as a character
// (not %-encoded): read it as U+FFFD, as the page writes it, so that what is
// read is what the next link says.
function decodeValue(raw: string): string {
  return wellFormed(decodeURIComponent(raw.replace(/\+/g, ' ')));
}

/** The hash (without '#') for a state; properties at their default are left out. */
export function serialiseHash(state: UrlState): string {
  const parts: string[] = [];
  for (const key of ORDER) {
    const property = PROPERTIES[key] as Property<typeof key>;
    const value = state[key];
    const fallback = property.default();
    const same = property.equal ? property.equal(value as never, fallback as never) : value === fallback;
    if (same) continue;
    parts.push(`${property.name}=${encodeValue(property.serialise(value as never))}`);
  }
  return parts.join('&');
}

export interface ParsedHash {
  state: UrlState;
  /** Which properties the hash set (the rest are defaults). */
  present: Set<keyof UrlState>;
  /** One line per ignored part, naming it and why. Empty when all was well. */
  problems: string[];
}

const BY_NAME = new Map(ORDER.map((key) => [PROPERTIES[key].name, key]));

/** Reads a hash ('#a=1&b=2' or 'a=1&b=2'); never throws. */
export function parseHash(hash: string): ParsedHash {
  const state = defaultUrlState();
  const present = new Set<keyof UrlState>();
  const problems: string[] = [];
  const body = hash.startsWith('#') ? hash.slice(1) : hash;
  if (body.trim() === '') return { state, present, problems };

  for (const part of body.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const shown = quote(rawName);
    let name: string;
    try {
      name = decodeValue(rawName);
    } catch {
      problems.push(`${shown} is not valid URL encoding`);
      continue;
    }
    const key = BY_NAME.get(name);
    if (!key) {
      problems.push(`unknown setting ${shown}`);
      continue;
    }
    if (eq < 0) {
      problems.push(`"${name}" has no value (expected ${PROPERTIES[key].expects})`);
      continue;
    }
    let value: string;
    try {
      value = decodeValue(part.slice(eq + 1));
    } catch {
      problems.push(`the value of "${name}" is not valid URL encoding`);
      continue;
    }
    try {
      (state as unknown as Record<string, unknown>)[key] = PROPERTIES[key].parse(value);
      present.add(key);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      problems.push(`${name}: ${reason}`);
    }
  }

  // A head both muted and given a gain: the explicit gain is dropped.
  if (state.muted.length > 0 && state.gains.length > 0) {
    const muted = new Set(state.muted.map(headName));
    const clash = state.gains.filter((e) => muted.has(headName(e)));
    if (clash.length > 0) {
      problems.push(`head ${clash.map(headName).join(', ')} is both muted and given a gain: kept muted`);
      state.gains = state.gains.filter((e) => !muted.has(headName(e)));
    }
  }
  // A gain of 0 is a mute; a gain of 1 is no edit.
  if (state.gains.some((e) => e.gain === 0 || e.gain === 1)) {
    const split = splitEdits(state.gains);
    state.muted = sortHeads(dedupeHeads([...state.muted, ...split.muted]));
    state.gains = split.gains;
  }
  return { state, present, problems };
}
