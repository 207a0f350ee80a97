/**
 * Preset prompts that show known phenomena. Repeated random tokens: the
 * second copy is predictable only by looking back at the first, which is
 * what induction heads do (Olsson et al., 2022). A story with a repeated
 * name: indirect-object identification (Wang et al., 2022). Plain prose: a
 * baseline. "Type your own" focuses the text box.
 */
import { mulberry32 } from '../../../scripts/lib/random.mjs';

// Short common words: each is one token in any GPT-2-style vocabulary of a few thousand.
const WORDS = [
  'apple', 'river', 'stone', 'green', 'seven', 'table', 'cloud', 'horse', 'light', 'music',
  'paper', 'glass', 'north', 'bread', 'chair', 'smile', 'ocean', 'tiger', 'sugar', 'plant',
  'house', 'money', 'water', 'field', 'dream', 'metal', 'night', 'queen', 'train', 'voice',
  'black', 'sound', 'clock', 'floor', 'heart', 'earth', 'radio', 'story', 'truth', 'wheel',
];

/** Deterministic for a seed, so a test can ask for the same text. */
export function repeatedRandomTokens(seed: number, n = 12): string {
  const next = mulberry32(seed);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(next() * WORDS.length)]!);
  const run = words.join(' ');
  return `${run} ${run}`;
}

export const PRESETS: { id: string; label: string; title: string; text: (seed: number) => string }[] = [
  {
    id: 'induction',
    label: 'Repeated random words',
    title: 'Random words, then the same words again: induction heads predict the second copy',
    text: (seed) => repeatedRandomTokens(seed),
  },
  {
    id: 'names',
    label: 'Story with a repeated name',
    title: 'Who gets the drink? The model must find the name that was not repeated',
    text: () =>
      'When Mary and John went to the store, John gave a drink to Mary. ' +
      'Later, Anna and Tom sat by the river, and Tom handed the book to',
  },
  {
    id: 'prose',
    label: 'Plain prose',
    title: 'Ordinary English text',
    text: () =>
      'The old lighthouse stood at the edge of the cliff. Every night its keeper climbed the ' +
      'stairs, lit the lamp, and watched the ships pass safely through the dark water.',
  },
];

export class PresetsView {
  private seed = 1;

  constructor(root: HTMLElement, setText: (text: string) => void, textInput: HTMLTextAreaElement) {
    const box = root.querySelector<HTMLElement>('[data-role="presets"]')!;
    const buttons = PRESETS.map((preset) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'preset';
      button.dataset['preset'] = preset.id;
      button.textContent = preset.label;
      button.title = preset.title;
      button.addEventListener('click', () => setText(preset.text(this.seed++)));
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
    box.replaceChildren(...buttons, own);
  }
}
