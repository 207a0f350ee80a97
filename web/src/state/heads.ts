/**
 * Heads and head edits as the page names them: a head is "layer.head"
 * (1.3), an edit is a head and its gain (0 = muted, 1 = as trained, up to
 * MAX_GAIN). The one definition of each: the URL, the edits list, the grid,
 * the embed snippets and the host messages all call these.
 */

/** Largest gain a head may get (the slider's end, the URL's and the host API's bound). */
export const MAX_GAIN = 2;

export interface HeadRef {
  layer: number;
  head: number;
}

/** One edited head: gain 0 = muted, 1 = as trained, up to MAX_GAIN. */
export interface HeadEdit extends HeadRef {
  gain: number;
}

/** "layer.head", e.g. "1.3". */
export function headName(ref: HeadRef): string {
  return `${ref.layer}.${ref.head}`;
}

/** Shortest decimal that reads back as the same float32 gain. */
export function formatGain(gain: number): string {
  const f = Math.fround(gain);
  for (let digits = 1; digits <= 9; digits++) {
    const text = String(Number(f.toPrecision(digits)));
    if (Math.fround(Number(text)) === f) return text;
  }
  return String(f);
}

/** In place, by (layer, head). */
export function sortHeads<T extends HeadRef>(heads: T[]): T[] {
  return heads.sort((a, b) => a.layer - b.layer || a.head - b.head);
}

/** Each head once; the last one listed wins. */
export function dedupeHeads<T extends HeadRef>(heads: T[]): T[] {
  const seen = new Map<string, T>();
  for (const h of heads) seen.set(headName(h), h);
  return [...seen.values()];
}

/** The URL's two edit lists: heads at gain 0, heads at another gain than 0 and 1. */
export interface EditLists {
  muted: HeadRef[];
  gains: HeadEdit[];
}

/**
 * One edit list -> the URL's two lists: heads at gain 0 (muted) and heads at
 * any other gain but 1 (a gain of 1 is no edit and is dropped).
 */
export function splitEdits(edits: readonly HeadEdit[]): EditLists {
  return {
    muted: edits.filter((e) => e.gain === 0).map(({ layer, head }) => ({ layer, head })),
    gains: edits.filter((e) => e.gain !== 0 && e.gain !== 1).map(({ layer, head, gain }) => ({ layer, head, gain })),
  };
}

/** The inverse of splitEdits: one list in (layer, head) order. */
export function joinEdits(muted: readonly HeadRef[], gains: readonly HeadEdit[]): HeadEdit[] {
  return sortHeads([
    ...muted.map(({ layer, head }) => ({ layer, head, gain: 0 })),
    ...gains.map(({ layer, head, gain }) => ({ layer, head, gain })),
  ]);
}

/** gains [L x H] -> the muted and gain lists (the URL's). */
export function editsFromGains(gains: ArrayLike<number>, n_head: number): EditLists {
  const muted: HeadRef[] = [];
  const edited: HeadEdit[] = [];
  for (let i = 0; i < gains.length; i++) {
    const gain = gains[i]!;
    if (gain === 1) continue;
    const ref = { layer: Math.floor(i / n_head), head: i % n_head };
    if (gain === 0) muted.push(ref);
    else edited.push({ ...ref, gain });
  }
  return { muted, gains: edited };
}

/**
 * The muted and gain lists -> gains [L x H]. Heads outside the model
 * are skipped and named in the returned problems.
 */
export function gainsFromEdits(
  state: EditLists,
  n_layer: number,
  n_head: number,
): { gains: Float32Array; problems: string[] } {
  const gains = new Float32Array(n_layer * n_head).fill(1);
  const outside: string[] = [];
  const apply = (ref: HeadRef, gain: number) => {
    if (ref.layer >= n_layer || ref.head >= n_head) outside.push(headName(ref));
    else gains[ref.layer * n_head + ref.head] = gain;
  };
  for (const ref of state.muted) apply(ref, 0);
  for (const edit of state.gains) apply(edit, edit.gain);
  const problems =
    outside.length === 0
      ? []
      : [`head ${outside.join(', ')} is outside this model (${n_layer} layers × ${n_head} heads)`];
  return { gains, problems };
}
