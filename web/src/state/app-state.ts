/**
 * The page's state: which model, what text, which head gains. The views draw
 * from an Analysis; this is what the reader chose. Kept as plain data so the
 * URL-hash table of the full page (issue 4) can (de)serialise it.
 */
import type { LoadedModel } from '../engine/protocol';

export const TOP_K = 5;

export const DEFAULT_TEXT = 'When Mary and John went to the store, John gave a drink to';

export interface AppState {
  /** The model the engine holds (null until one loads). */
  model: LoadedModel | null;
  text: string;
  /** [L x H] gain per head: 1 = as trained, 0 = muted. */
  gains: Float32Array;
}

export function createState(): AppState {
  return { model: null, text: DEFAULT_TEXT, gains: new Float32Array(0) };
}

/** A new model starts with every head as trained. */
export function setModel(state: AppState, model: LoadedModel): void {
  state.model = model;
  state.gains = new Float32Array(model.n_layer * model.n_head).fill(1);
}

/** Mutes an unmuted head (any gain != 0) or restores a muted one to 1; returns muted. */
export function toggleMute(state: AppState, layer: number, head: number): boolean {
  if (!state.model) return false;
  const { n_layer, n_head } = state.model;
  if (layer < 0 || layer >= n_layer || head < 0 || head >= n_head) {
    throw new Error(`head ${layer}.${head} is outside this model (${n_layer} layers x ${n_head} heads)`);
  }
  const i = layer * n_head + head;
  state.gains[i] = state.gains[i] === 0 ? 1 : 0;
  return state.gains[i] === 0;
}

export function countMuted(state: AppState): number {
  return state.gains.reduce((n, gain) => n + (gain === 0 ? 1 : 0), 0);
}
