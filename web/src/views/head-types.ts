/**
 * The head types the grid badges and the legend name (docs/heads.md): the
 * engine's type names, a short badge, and each definition in plain words.
 * One table, read by head-grid.ts (badges), head-grid-tooltip.ts (scores)
 * and head-type-legend.ts (filter and definitions).
 */
import type { HeadTypes } from '../engine/protocol';

export type HeadTypeName = 'previous_token' | 'duplicate_token' | 'induction' | 'first_token' | 'local';

export interface HeadTypeRow {
  type: HeadTypeName;
  badge: string;
  /** docs/heads.md's definition, in words. */
  definition: string;
  /** docs/heads.md's "what a high score means". */
  meaning: string;
}

export const HEAD_TYPE_ROWS: readonly HeadTypeRow[] = [
  {
    type: 'previous_token',
    badge: 'prev',
    definition: 'mean over queries q ≥ 1 of A[q][q-1]',
    meaning: 'the head looks one token back',
  },
  {
    type: 'duplicate_token',
    badge: 'dup',
    definition: 'mean, over the queries q whose token occurs earlier, of Σ A[q][k] over earlier keys k < q with ids[k] = ids[q]',
    meaning: 'the head finds earlier copies of the current token',
  },
  {
    type: 'induction',
    badge: 'ind',
    definition:
      'mean, over the queries q that have at least one key k with 1 ≤ k ≤ q and ids[k-1] = ids[q] (the token after an earlier copy of the current one), of Σ A[q][k] over those keys',
    meaning: 'the head looks at what came after the current token last time: the attention half of an induction head',
  },
  {
    type: 'first_token',
    badge: 'sink',
    definition: 'mean over queries q ≥ 1 of A[q][0]',
    meaning: 'the head parks its attention on the first token when it has nothing to do',
  },
  {
    type: 'local',
    badge: 'local',
    definition: 'mean over queries q ≥ 1 of Σ A[q][k] over q-3 ≤ k ≤ q',
    meaning: 'the head looks at the last few tokens',
  },
];

/**
 * The copying score (docs/heads.md "Copying"): a property of the head's
 * weights, not of the text. The grid marks an induction candidate (its
 * induction score reaches the threshold) whose score is positive: the two
 * halves of an induction head, attention to the token after the earlier copy
 * and an OV circuit that copies it.
 */
export const COPYING_ROW = {
  badge: 'copy',
  definition:
    'Σ Re λ / Σ |λ| over the eigenvalues λ of the head’s OV circuit from token embeddings to logits (W_U · W_O · W_V · W_E, the layernorms’ weights and centring folded in), in [-1, 1]',
  meaning: 'what the head writes when it attends to a token raises that token’s own logit (positive) or lowers it (negative)',
} as const;

/** True when head i is an induction candidate (induction ≥ threshold) with a positive copying score. */
export function isCopyingInductionHead(types: HeadTypes, copying: Float32Array | undefined, i: number): boolean {
  return (types.induction[i] ?? 0) >= types.threshold && (copying?.[i] ?? 0) > 0;
}

/** "copying +0.83": head i's copying score, or '' when the model has none. */
export function copyingLine(copying: Float32Array | undefined, i: number): string {
  const score = copying?.[i];
  if (score === undefined) return '';
  return `copying ${score >= 0 ? '+' : '−'}${Math.abs(score).toFixed(2)}`;
}

/** The row of an engine type name; undefined for 'none'. */
export function headTypeRow(type: string | undefined): HeadTypeRow | undefined {
  return HEAD_TYPE_ROWS.find((row) => row.type === type);
}

/**
 * Every type head i passes, its type (the engine's, docs/heads.md) first:
 * the specific patterns (prev, ind, dup, sink) that reach the threshold,
 * highest score first; else local when it does; else none ([]). A head can
 * be an induction head and a sink at once (gpt-4l's 1.5 on the default text).
 */
export function headTypesOf(types: HeadTypes, i: number): HeadTypeName[] {
  const passing = (type: HeadTypeName) => (types[type][i] ?? 0) >= types.threshold;
  const specific = HEAD_TYPE_ROWS.filter((row) => row.type !== 'local' && passing(row.type))
    .map((row) => row.type)
    .sort((a, b) => (types[b][i] ?? 0) - (types[a][i] ?? 0));
  if (specific.length > 0) return specific;
  return passing('local') ? ['local'] : [];
}

/** "prev 0.83 · dup 0.02 · ind 0.10 · sink 0.05 · local 0.97 · entropy 0.31": head i's scores. */
export function headTypeScoresLine(types: HeadTypes, i: number): string {
  const parts = HEAD_TYPE_ROWS.map((row) => `${row.badge} ${(types[row.type][i] ?? NaN).toFixed(2)}`);
  parts.push(`entropy ${(types.entropy[i] ?? NaN).toFixed(2)}`);
  return parts.join(' · ');
}

/**
 * Head i's badges (every type it passes, its type first) on its grid cell,
 * and data-head-types on the cell, which the legend's filter matches; an
 * induction candidate that copies gets the "copy" mark (data-copying on
 * the cell; head-types.css draws it in the square's lower left corner).
 */
export function markHeadTypes(
  cell: HTMLElement,
  badge: HTMLElement,
  types: HeadTypes,
  i: number,
  copying?: Float32Array,
): void {
  const names = headTypesOf(types, i);
  const key = names.join(' ') || 'none';
  const copies = isCopyingInductionHead(types, copying, i);
  if (cell.dataset['headTypes'] === key && (cell.dataset['copying'] === 'true') === copies) return;
  cell.dataset['headTypes'] = key;
  if (copies) cell.dataset['copying'] = 'true';
  else delete cell.dataset['copying'];
  const rows = names.map((type) => headTypeRow(type)!);
  badge.textContent = rows.map((row) => row.badge).join(' ');
  const titles = rows.map((row) => `${row.type.replace('_', '-')}: ${row.meaning}`);
  // The mark itself is drawn by head-types.css in the square's corner (data-copying); the badge's text stays its types.
  if (copies) titles.push(`copying ${copying![i]!.toFixed(2)}: ${COPYING_ROW.meaning}`);
  badge.title = titles.join('; ');
}
