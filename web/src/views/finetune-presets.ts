/**
 * The Fine-tune heads panel's presets: example texts, and the heads each
 * targets on the page's default model, gpt-4l-8k (chosen there:
 * tests/node/finetune.test.mjs prints the figures). On another model a
 * preset targets the selected head. A preset asks a behaviour only through
 * the next-token loss: on gpt-4l-8k, repeated word lists (an induction
 * preset) lowered the loss without raising any head's induction attention
 * (heads 1.5 and 1.6 already copy; the loss that falls is the first copy's,
 * memorised), so there is none.
 */
import type { HeadRef } from '../state/heads';

export interface FineTunePreset {
  label: string;
  /** What to watch for, shown under the preset. */
  note: string;
  examples: string[];
  /** Heads per shipped model name. */
  heads: Record<string, HeadRef[]>;
}

export const FINETUNE_PRESETS: readonly FineTunePreset[] = [
  {
    label: 'Attend to the previous comma',
    note:
      'Lists full of commas: after each comma comes a new item, and what follows depends on where the last ' +
      'comma was. On gpt-4l-8k head 2.3 about doubles its attention on the comma before each token.',
    examples: [
      'We bought apples, pears, plums, figs, grapes, lemons, limes, and melons at the market.',
      'She packed a coat, a hat, a scarf, two shirts, three socks, a book, a map, and a pen.',
      'Red, orange, yellow, green, blue, indigo, and violet are the colours of the rainbow.',
      'Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, and Sunday make a week.',
      'The old man, tired, hungry, cold, and alone, walked home, slowly, through the snow.',
    ],
    heads: { 'gpt-4l-8k': [{ layer: 2, head: 3 }] },
  },
  {
    label: 'Teach a made-up fact (and see what it costs)',
    note:
      'The same invented fact in several sentences. Two heads of the last layer learn it quickly; watch the ' +
      'held-out loss: memorising a fact in attention weights is not free for the rest of the model.',
    examples: [
      'The capital of Zorbia is Quellen, a city on the river Marn.',
      'Quellen is the capital of Zorbia.',
      'Every child in Zorbia learns that its capital is Quellen.',
      'The Zorbian government meets in Quellen, the capital.',
      'If you fly to Zorbia, you land in Quellen, its capital.',
    ],
    heads: { 'gpt-4l-8k': [{ layer: 3, head: 0 }, { layer: 3, head: 1 }] },
  },
];

/** The unrelated text the side effects are measured on. */
export const DEFAULT_HELDOUT =
  'The ship left the harbour at dawn. By noon the wind had turned, and the captain ordered the sails ' +
  'taken in. Nobody on board had seen a storm like it before.';

/** Whether a loaded model's name is of the reader's own files (engine/open-local.ts names them so), not a served model. */
export function isReadersFiles(name: string): boolean {
  return name === 'your files' || name.endsWith(' (your files)');
}

/** The shipped model a loaded model's name comes from: "gpt-4l-8k-tuned-1.3 (your files)" -> "gpt-4l-8k". */
export function shippedNameOf(name: string): string {
  return name.replace(/ \(your files\)$/, '').replace(/-tuned-.*$/, '');
}
