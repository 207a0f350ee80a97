/**
 * The page's state: what the reader chose (model, text, head gains, which
 * head and position are selected, how things are drawn). The views draw from
 * an Analysis; this is the input. The choices are those of the URL-state
 * table (url-state.ts), under the same names and with the table's defaults;
 * the page holds the model itself and the gains as one [L x H] array.
 */
import type { LoadedModel } from '../engine/protocol';
import { type HeadEdit, headName, joinEdits, MAX_GAIN } from './heads';
import { CHOICE_FIELDS, type Choices, copyChoice, defaultChoices } from './choices';
import { DEFAULT_TEXT, editsFromGains, type UrlState } from './url-state';

export { DEFAULT_TEXT };

export const TOP_K = 5;

/** The choices the page holds as they are; `model` and `edits` are held in richer form. */
type HeldChoices = Omit<Choices, 'model' | 'edits'>;

export interface AppState extends HeldChoices {
  /** The model the engine holds (null until one loads). */
  model: LoadedModel | null;
  /** [L x H] gain per head: 1 = as trained, 0 = muted. */
  gains: Float32Array;
  /** The gains before a shift-click solo, to give back on the second shift-click. */
  beforeSolo: Float32Array | null;
}

/** Copies the held choices of `from` onto `to`. */
function copyHeld(to: HeldChoices, from: HeldChoices): void {
  const target = to as unknown as Record<keyof HeldChoices, unknown>;
  for (const field of CHOICE_FIELDS) {
    if (field !== 'model') target[field] = copyChoice(from[field]);
  }
}

export function createState(): AppState {
  const state = { model: null, gains: new Float32Array(0), beforeSolo: null } as unknown as AppState;
  copyHeld(state, defaultChoices());
  return state;
}

/** Sets the held choices from `choices` (a parsed URL); the model and the edits wait for the model. */
export function applyChoices(state: AppState, choices: Choices): void {
  copyHeld(state, choices);
}

/**
 * The reader's choices now. The edits come from the gains once a model is
 * loaded, before that from the URL's edits that wait for it (`pending`).
 */
export function choicesOfState(state: AppState, pending: Pick<UrlState, 'muted' | 'gains'> | null): Choices {
  let edits: HeadEdit[] = [];
  if (state.model) {
    const split = editsFromGains(state.gains, state.model.n_head);
    edits = joinEdits(split.muted, split.gains);
  } else if (pending) {
    edits = joinEdits(pending.muted, pending.gains);
  }
  const choices = { model: state.model?.name ?? null, edits } as Choices;
  copyHeld(choices, state);
  return choices;
}

/**
 * A new model starts with every head as trained. A selected head the model
 * lacks goes back to 0.0: returns that head's name, or null.
 */
export function setModel(state: AppState, model: LoadedModel): string | null {
  state.model = model;
  state.gains = new Float32Array(model.n_layer * model.n_head).fill(1);
  state.beforeSolo = null;
  const { layer, head } = state.selectedHead;
  if (layer < model.n_layer && head < model.n_head) return null;
  state.selectedHead = { layer: 0, head: 0 };
  return headName({ layer, head });
}

function index(state: AppState, layer: number, head: number): number {
  if (!state.model) throw new Error('no model is loaded');
  const { n_layer, n_head } = state.model;
  if (!(layer >= 0 && layer < n_layer && head >= 0 && head < n_head)) {
    throw new Error(`head ${layer}.${head} is outside this model (${n_layer} layers x ${n_head} heads)`);
  }
  return layer * n_head + head;
}

/** Mutes an unmuted head (any gain != 0) or restores a muted one to 1; returns muted. */
export function toggleMute(state: AppState, layer: number, head: number): boolean {
  if (!state.model) return false;
  const i = index(state, layer, head);
  state.gains[i] = state.gains[i] === 0 ? 1 : 0;
  state.beforeSolo = null;
  return state.gains[i] === 0;
}

export function setGain(state: AppState, layer: number, head: number, gain: number): void {
  if (!state.model) return;
  if (!(gain >= 0 && gain <= MAX_GAIN)) throw new Error(`gain ${gain} is not between 0 and ${MAX_GAIN}`);
  state.gains[index(state, layer, head)] = gain;
  state.beforeSolo = null;
}

/** True when this head is the only one not muted. */
export function isSolo(state: AppState, layer: number, head: number): boolean {
  if (!state.model) return false;
  const i = index(state, layer, head);
  return state.gains.every((gain, j) => (j === i ? gain !== 0 : gain === 0));
}

/**
 * Shift-click: mute every other head (solo). On a head already solo, undo:
 * the gains from before the solo come back (or all 1 after a reload).
 */
export function toggleSolo(state: AppState, layer: number, head: number): void {
  if (!state.model) return;
  const i = index(state, layer, head);
  if (isSolo(state, layer, head)) {
    const previous = state.beforeSolo;
    state.gains = previous ? previous.slice() : new Float32Array(state.gains.length).fill(1);
    state.beforeSolo = null;
    return;
  }
  const before = state.gains.slice();
  state.gains.fill(0);
  state.gains[i] = before[i] === 0 ? 1 : before[i]!;
  state.beforeSolo = before;
}

/** Per-layer mute: mutes every head of the layer, or unmutes them all if all are muted. */
export function toggleLayer(state: AppState, layer: number): boolean {
  if (!state.model) return false;
  const { n_head } = state.model;
  const start = index(state, layer, 0);
  const row = state.gains.subarray(start, start + n_head);
  const allMuted = row.every((gain) => gain === 0);
  row.fill(allMuted ? 1 : 0);
  state.beforeSolo = null;
  return !allMuted;
}

export function resetGains(state: AppState): void {
  state.gains.fill(1);
  state.beforeSolo = null;
}

export function countMuted(state: AppState): number {
  return state.gains.reduce((n, gain) => n + (gain === 0 ? 1 : 0), 0);
}

export function countEdited(state: AppState): number {
  return state.gains.reduce((n, gain) => n + (gain !== 1 ? 1 : 0), 0);
}
