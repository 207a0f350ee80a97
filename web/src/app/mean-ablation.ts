/**
 * Mean ablation as the page holds it: AppState.meanHeads (URL `mean`), the
 * heads whose z the engine replaces by its mean over the text, computed by
 * the unedited model (docs/heads.md). A mean-ablated head keeps gain 1; a
 * gain other than 1 on it scales the mean (the engine replaces z before the
 * gain). These are the edits the edits panel makes; the engine gets them as
 * flags [L x H].
 */
import { type AppState, setGain } from '../state/app-state';
import { sortHeads } from '../state/heads';

/** [L x H] 1 where the head is mean-ablated; heads outside the model (an old link) are left out. */
export function meanFlags(state: AppState): Int32Array {
  const { n_layer, n_head } = state.model ?? { n_layer: 0, n_head: 0 };
  const flags = new Int32Array(n_layer * n_head);
  for (const { layer, head } of state.meanHeads) {
    if (layer < n_layer && head < n_head) flags[layer * n_head + head] = 1;
  }
  return flags;
}

export function isMeanAblated(state: AppState, layer: number, head: number): boolean {
  return state.meanHeads.some((h) => h.layer === layer && h.head === head);
}

/** Head layer.head ablated by `mode`: zero = gain 0, its own z; mean = gain 1, z its mean. */
export function setAblation(state: AppState, layer: number, head: number, mode: 'zero' | 'mean'): void {
  const others = state.meanHeads.filter((h) => h.layer !== layer || h.head !== head);
  state.meanHeads = mode === 'mean' ? sortHeads([...others, { layer, head }]) : others;
  setGain(state, layer, head, mode === 'mean' ? 1 : 0);
}

/** The head as trained again: gain 1 and its own z. */
export function resetHead(state: AppState, layer: number, head: number): void {
  state.meanHeads = state.meanHeads.filter((h) => h.layer !== layer || h.head !== head);
  setGain(state, layer, head, 1);
}
