/**
 * Preset prompts, each showing a phenomenon the served models really have,
 * with a one-line guide: what to look at, and which heads do it. A name
 * that comes back (the default text): its second mention is completed by
 * induction heads, which look at what followed the first mention (Olsson et
 * al., 2022). Repeated random words: the second copy is predictable only by
 * looking back at the first. Plain prose: a previous-token head and a
 * duplicate-token head at work on ordinary text. "Type your own" focuses
 * the text box.
 *
 * The heads a guide names come from a table per model (HEADS_OF), checked
 * on the shipped models by tests/node/presets.test.mjs; for another model
 * the guide says what to look for without naming heads.
 */
import { mulberry32 } from '../../../scripts/lib/random.mjs';
import { DEFAULT_TEXT } from '../state/url-state';
import type { ViewFactory } from '../app/view';
import type { HeadRef } from '../state/heads';

// Short common words: each is one token in any GPT-2-style vocabulary of a few thousand.
const WORDS = [
  'apple', 'river', 'stone', 'green', 'seven', 'table', 'cloud', 'horse', 'light', 'music',
  'paper', 'glass', 'north', 'bread', 'chair', 'smile', 'ocean', 'tiger', 'sugar', 'plant',
  'house', 'money', 'water', 'field', 'dream', 'metal', 'night', 'queen', 'train', 'voice',
  'black', 'sound', 'clock', 'floor', 'heart', 'earth', 'radio', 'story', 'truth', 'wheel',
];

// The words of WORDS that are one token after a space in the shipped
// models' 3584-token vocabulary too (checked by tests/web/circuits-state):
// a corrupted prompt that swaps them keeps the token count.
export const ONE_TOKEN_WORDS = [
  'green', 'seven', 'table', 'horse', 'light', 'music', 'paper', 'glass', 'smile', 'plant', 'house', 'money',
  'water', 'field', 'dream', 'night', 'voice', 'black', 'sound', 'floor', 'heart', 'earth', 'story', 'truth',
];

/** n distinct words of ONE_TOKEN_WORDS for a seed (deterministic); none of `avoid`. */
function randomWords(seed: number, n: number, avoid: readonly string[] = []): string[] {
  if (n + avoid.length > ONE_TOKEN_WORDS.length) throw new Error(`only ${ONE_TOKEN_WORDS.length} words to draw from`);
  const next = mulberry32(seed);
  const words: string[] = [];
  while (words.length < n) {
    const word = ONE_TOKEN_WORDS[Math.floor(next() * ONE_TOKEN_WORDS.length)]!;
    if (!words.includes(word) && !avoid.includes(word)) words.push(word);
  }
  return words;
}

/**
 * The induction circuit to patch (issue 17): "Words: w1 .. w10 w1 .. w9",
 * whose answer is " w10"; the corrupted prompt has other words in the first
 * copy (as many tokens: every word is one token after a space), so nothing
 * earlier says what follows w9, and the foil is the word that replaced w10.
 */
export function inductionCircuit(seed: number, n = 10): { text: string; corrupted: string; answer: string; foil: string } {
  const words = randomWords(seed, n);
  const other = randomWords(seed + 7919, n, words);
  const second = words.slice(0, n - 1).join(' ');
  return {
    text: `Words: ${words.join(' ')} ${second}`,
    corrupted: `Words: ${other.join(' ')} ${second}`,
    answer: ` ${words[n - 1]}`,
    foil: ` ${other[n - 1]}`,
  };
}

/**
 * The name story's corrupted prompt (issue 17): the first mention of the
 * name swapped for another, so nothing earlier says what follows "Bracken";
 * the answer is "b", what the models with induction heads predict. Huntingdon
 * is as many tokens as Brackenbury in every served vocabulary (3584 and 8192
 * tokens), so the two prompts line up position by position
 * (tests/node/presets.test.mjs).
 */
export const NAME_CIRCUIT = { corrupted: DEFAULT_TEXT.replace('Brackenbury', 'Huntingdon'), answer: 'b', foil: '' };

/** Deterministic for a seed, so a test can ask for the same text. */
export function repeatedRandomTokens(seed: number, n = 12): string {
  const next = mulberry32(seed);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(next() * WORDS.length)]!);
  const run = words.join(' ');
  return `${run} ${run}`;
}

/** The heads of a served model that the guides name (measured: models/README.md). */
export interface KnownHeads {
  previousToken: string[];
  induction: string[];
  duplicateToken: string[];
  /**
   * Heads with no induction badge whose OV circuit copies (copying score at
   * least 0.7) and which write the answer the induction heads find: where the
   * copying is shared, muting the induction heads alone does not break it.
   */
  copying: string[];
}

export const HEADS_OF: Readonly<Record<string, KnownHeads>> = {
  'gpt-4l-8k': { previousToken: ['0.1'], induction: ['1.5', '1.6'], duplicateToken: ['0.4'], copying: [] },
  'gpt-4l': { previousToken: ['0.1'], induction: ['1.2', '1.5', '1.6'], duplicateToken: ['0.4'], copying: [] },
  'attn-only-2l': { previousToken: ['0.2'], induction: ['1.7'], duplicateToken: ['0.5'], copying: ['1.3', '1.5', '1.6'] },
};

/** "1.2, 1.5 and 1.6" */
function listHeads(heads: string[]): string {
  return heads.length < 2 ? heads.join('') : `${heads.slice(0, -1).join(', ')} and ${heads[heads.length - 1]}`;
}

function plural(heads: string[], one: string, many: string): string {
  return heads.length === 1 ? `${one} ${heads[0]}` : `${many} ${listHeads(heads)}`;
}

/** ", copying heads 1.3, 1.5 and 1.6 write the same answer", or '' when the model has none named. */
function copiers(heads: KnownHeads): string {
  if (heads.copying.length === 0) return '';
  return `, ${plural(heads.copying, 'copying head', 'copying heads')} ${heads.copying.length === 1 ? 'writes' : 'write'} the same answer`;
}

export interface Preset {
  id: string;
  label: string;
  title: string;
  text: (seed: number) => string;
  /** What to look at, for the model shown (its heads when HEADS_OF knows them). */
  guide: (model: string) => string;
  /** The circuit views' prompts for this text: the corrupted prompt, answer and foil ('' = the top predictions). */
  circuit?: (seed: number) => { corrupted: string; answer: string; foil: string };
  /** The head the preset selects on that model; absent or null: the selection stays. */
  select?: (model: string) => HeadRef | null;
}

/**
 * The pair the composition preset shows on a served model: an induction head
 * and the previous-token head of an earlier layer whose output it reads, and
 * the induction head's score on the preset's texts as it is and with the
 * previous-token head muted (measured on seeds 1-8; checked by
 * tests/node/composition-preset.test.mjs).
 */
export interface CompositionPair {
  previousToken: string;
  induction: string;
  before: number;
  after: number;
}

export const COMPOSITION_OF: Readonly<Record<string, CompositionPair>> = {
  'gpt-4l-8k': { previousToken: '0.1', induction: '1.5', before: 0.9, after: 0.06 },
  'gpt-4l': { previousToken: '0.1', induction: '1.5', before: 0.85, after: 0.02 },
  'attn-only-2l': { previousToken: '0.2', induction: '1.7', before: 0.62, after: 0.15 },
};

function headOf(name: string): HeadRef {
  const [layer, head] = name.split('.').map(Number);
  return { layer: layer!, head: head! };
}

export const PRESETS: readonly Preset[] = [
  {
    id: 'name',
    label: 'A name that comes back',
    title: 'A rare name, then its first letters again: can the model finish it?',
    text: () => DEFAULT_TEXT,
    circuit: () => ({ ...NAME_CIRCUIT }),
    guide: (model) => {
      const heads = HEADS_OF[model];
      if (!heads || heads.induction.length === 0) {
        return 'The name Brackenbury comes back: look for heads that attend to the token after its first mention, and mute them.';
      }
      const dup = heads.duplicateToken.length > 0
        ? ` and ${plural(heads.duplicateToken, 'duplicate-token head', 'duplicate-token heads')}`
        : '';
      return `The name Brackenbury comes back: ${plural(heads.induction, 'induction head', 'induction heads')} ` +
        `${heads.induction.length === 1 ? 'attends' : 'attend'} to what followed its first mention ` +
        `(with ${plural(heads.previousToken, 'previous-token head', 'previous-token heads')}${dup})` +
        `${copiers(heads)}, and the model predicts “b”. Mute them and it cannot finish the name.`;
    },
  },
  {
    id: 'induction',
    label: 'Repeated random words',
    title: 'Random words, then the same words again: induction heads predict the second copy',
    text: (seed) => repeatedRandomTokens(seed),
    guide: (model) => {
      const heads = HEADS_OF[model];
      const who = heads && heads.induction.length > 0
        ? `${plural(heads.induction, 'induction head', 'induction heads')} look at the word after the earlier copy (the stripe below the diagonal)${copiers(heads)}`
        : 'induction heads look at the word after the earlier copy (a stripe below the diagonal)';
      return `The second copy is predicted from the first: ${who}. Compare the losses of the two halves, then mute them.`;
    },
  },
  {
    id: 'circuit',
    label: 'Patch the induction circuit',
    title: 'Random words repeated, with a corrupted first copy: patch heads to bring the answer back',
    text: (seed) => inductionCircuit(seed).text,
    circuit: (seed) => {
      const { corrupted, answer, foil } = inductionCircuit(seed);
      return { corrupted, answer, foil };
    },
    guide: (model) => {
      const heads = HEADS_OF[model];
      const who = heads && heads.induction.length > 0
        ? `${plural(heads.induction, 'induction head', 'induction heads')} (with ${plural(heads.previousToken, 'previous-token head', 'previous-token heads')})` +
          (heads.copying.length > 0 ? ` and ${plural(heads.copying, 'copying head', 'copying heads')}` : '')
        : 'the induction heads';
      return `The last word is predictable only from the first copy, which the corrupted prompt changes (Circuits panel). ` +
        `Click heads in the patching map to take them from the clean run, e.g. ${who}, and see how much of the answer comes back.`;
    },
  },
  {
    id: 'prose',
    label: 'Plain prose',
    title: 'Ordinary English text',
    text: () =>
      'The old lighthouse stood at the edge of the cliff. Every night its keeper climbed the ' +
      'stairs, lit the lamp, and watched the ships pass safely through the dark water.',
    guide: (model) => {
      const heads = HEADS_OF[model];
      if (!heads || heads.previousToken.length === 0) {
        return 'Ordinary text: look for a head that attends to the previous token (a stripe just below the diagonal).';
      }
      const dup = heads.duplicateToken.length > 0
        ? `; ${plural(heads.duplicateToken, 'head', 'heads')} looks back at earlier copies of the same word (“the”)`
        : '';
      return `Ordinary text: ${plural(heads.previousToken, 'head', 'heads')} attends to the previous token everywhere ` +
        `(the stripe just below the diagonal)${dup}.`;
    },
  },
  {
    id: 'composition',
    label: 'Two heads working together',
    title: 'Repeated random words with an induction head selected: the Composition panel mutes the previous-token head it reads',
    text: (seed) => repeatedRandomTokens(seed),
    select: (model) => {
      const pair = COMPOSITION_OF[model];
      return pair ? headOf(pair.induction) : null;
    },
    guide: (model) => {
      const pair = COMPOSITION_OF[model];
      if (!pair) {
        return 'Select an induction head (a stripe below the diagonal in the second copy): the Composition panel below mutes a ' +
          'previous-token head of an earlier layer and shows its pattern before and after.';
      }
      return `Induction head ${pair.induction} finds the word after the earlier copy with keys built from what ` +
        `previous-token head ${pair.previousToken} wrote (K-composition). The Composition panel below mutes ${pair.previousToken}: ` +
        `${pair.induction}'s stripe fades and its induction score falls from about ${pair.before} to about ${pair.after}.`;
    },
  },
];

/** The preset buttons and the guide line of the preset whose text is shown. */
export const presetsView: ViewFactory = ({ root, page }) => {
  const box = root.querySelector<HTMLElement>('[data-role="presets"]')!;
  const textInput = root.querySelector<HTMLTextAreaElement>('[data-role="text-input"]')!;
  const guide = document.createElement('p');
  guide.className = 'preset-guide';
  guide.dataset['role'] = 'preset-guide';
  guide.setAttribute('aria-live', 'polite');
  guide.hidden = true;
  // The text each preset set last, so the guide follows it until the reader edits the text.
  const shown = { seed: 1, texts: new Map<string, string>([['name', DEFAULT_TEXT]]), model: '' };
  const buttons = PRESETS.map((preset) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'preset';
    button.dataset['preset'] = preset.id;
    button.textContent = preset.label;
    button.title = preset.title;
    button.addEventListener('click', () => {
      const seed = shown.seed++;
      const text = preset.text(seed);
      shown.texts.set(preset.id, text);
      // The circuit views' prompts go with the text (none: the top predictions, no corrupted prompt).
      page.setCircuit({ corrupted: '', answer: '', foil: '', ...preset.circuit?.(seed), patchedHeads: [] });
      page.setText(text, true);
      const head = preset.select?.(shown.model);
      if (head) page.selectHead(head.layer, head.head);
    });
    return button;
  });
  const own = document.createElement('button');
  own.type = 'button';
  own.className = 'preset';
  own.dataset['preset'] = 'own';
  own.textContent = 'Type your own';
  own.title = 'Write any text in the box';
  own.addEventListener('click', () => {
    textInput.focus();
    textInput.select();
  });
  // The guide is inside the presets panel, so hiding the presets (an embed) hides it too.
  box.replaceChildren(...buttons, own, guide);
  return {
    label: 'presets',
    draw({ reason, state, model }) {
      if (reason !== 'analysis' && reason !== 'empty-text') return;
      shown.model = model.name;
      const preset = PRESETS.find((p) => shown.texts.get(p.id) === state.text);
      guide.hidden = !preset;
      guide.dataset['preset'] = preset?.id ?? '';
      guide.textContent = preset ? preset.guide(model.name) : '';
      for (const button of buttons) button.setAttribute('aria-pressed', String(button.dataset['preset'] === preset?.id));
    },
  };
};
