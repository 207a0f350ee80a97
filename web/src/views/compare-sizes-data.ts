/**
 * The Compare sizes view's figures from each model's pass on the same text
 * (views/compare-sizes.ts): the count of heads of each type (the grid's
 * badges: views/head-types.ts headTypesOf), and the loss in bits per byte,
 * which unlike nats per token does not depend on the tokenizer (the
 * shipped models have vocabularies of 3,584 to 8,192 tokens). Pure: tested
 * in Node (tests/web/compare-sizes.test.mjs).
 */
import type { HeadTypes } from '../engine/protocol';
import { HEAD_TYPE_ROWS, type HeadTypeName, headTypesOf } from './head-types';

/** One model's pass on the compared text, as the view keeps it. */
export interface SizeRun {
  name: string;
  n_layer: number;
  n_head: number;
  n_params: number;
  vocab_size: number;
  T: number;
  truncated: boolean;
  /** [L x H x T x T] */
  attn: Float32Array;
  head_types: HeadTypes;
  /** [T] nats, NaN at T - 1 */
  loss: Float32Array;
  tokens: string[];
  mean_loss: number;
}

export type TypeCounts = Record<HeadTypeName | 'none', number>;

/**
 * Heads by badge: a head counts once for every badge the grid gives it (an
 * induction head that is also a sink counts in both), and in `none` without one.
 */
export function typeCounts(types: HeadTypes, n_heads: number): TypeCounts {
  const counts = Object.fromEntries([...HEAD_TYPE_ROWS.map((row) => [row.type, 0]), ['none', 0]]) as TypeCounts;
  for (let i = 0; i < n_heads; i++) {
    const badges = headTypesOf(types, i);
    if (badges.length === 0) counts.none += 1;
    for (const type of badges) counts[type] += 1;
  }
  return counts;
}

/** The bytes a token's display text stands for: "\xE2" (a partial UTF-8 byte) is one. */
export function tokenBytes(display: string): number {
  const partial = display.match(/\\x[0-9A-Fa-f]{2}/g)?.length ?? 0;
  return new TextEncoder().encode(display.replace(/\\x[0-9A-Fa-f]{2}/g, '')).length + partial;
}

/**
 * Bits per byte of the pass: the losses of predicting tokens 1..T-1 (nats)
 * over ln 2 times those tokens' bytes (the first token is not predicted);
 * NaN with fewer than 2 tokens.
 */
export function bitsPerByte(run: Pick<SizeRun, 'loss' | 'tokens'>): number {
  let nats = 0;
  let bytes = 0;
  for (let t = 1; t < run.tokens.length; t++) {
    nats += run.loss[t - 1]!;
    bytes += tokenBytes(run.tokens[t]!);
  }
  return bytes > 0 ? nats / Math.LN2 / bytes : NaN;
}

/**
 * The sentence under the comparison: what the counts show on this text, with
 * the caveat that matters (a model without induction heads may have been
 * trained otherwise: sizes then also compare training recipes).
 */
export function whatToNotice(runs: readonly SizeRun[]): string {
  if (runs.length === 0) return '';
  const induction = runs.map((r) => ({ name: r.name, n: typeCounts(r.head_types, r.n_layer * r.n_head).induction }));
  const withInduction = induction.filter((r) => r.n > 0);
  const best = [...runs].sort((a, b) => bitsPerByte(a) - bitsPerByte(b))[0]!;
  const parts = [
    `Induction heads on this text: ${induction.map((r) => `${r.name} ${r.n}`).join(', ')}.`,
    withInduction.length === 0
      ? 'No model shows one here: induction heads need a repeat to complete (try the repeated random words preset).'
      : withInduction.length < runs.length
        ? `${induction.filter((r) => r.n === 0).map((r) => r.name).join(' and ')} ${induction.filter((r) => r.n === 0).length > 1 ? 'have' : 'has'} none: a head specialises only if its training rewarded it (each model card says how the model was trained), so this compares recipes as much as sizes.`
        : 'Every model has one: the same mechanism appears at every size.',
    `Lowest loss: ${best.name} (${bitsPerByte(best).toFixed(2)} bits per byte). More layers leave more heads for other work: count the previous-token and local heads that feed the induction heads, and the sinks that park attention on the first token.`,
  ];
  return parts.join(' ');
}
