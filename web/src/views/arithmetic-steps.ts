/**
 * The steps of one head's arithmetic (wasm/core/head_arithmetic.h) and what
 * the panel says at each, in words with the real numbers: plain functions of
 * the engine's answer and the tokens, no DOM (tests/web run them in Node).
 * n = position + 1 keys, D = d_head, C = n_embd.
 */
import type { HeadArithmeticResult } from '../engine/headlight-wasm';
import { formatProbability } from '../state/format';

export type Arithmetic = Omit<HeadArithmeticResult, 'ok'>;

export const STEPS = [
  { id: 'scores', label: 'q·k', name: 'scores' },
  { id: 'scaled', label: '÷ √d', name: 'scaled' },
  { id: 'masked', label: 'mask', name: 'masked' },
  { id: 'softmax', label: 'softmax', name: 'softmax' },
  { id: 'weighted', label: 'Σ p·v', name: 'weighted v' },
  { id: 'output', label: 'output', name: 'output' },
] as const;

export type StepId = (typeof STEPS)[number]['id'];

/** The step `delta` away from `step`, held within the first and the last. */
export function stepAfter(step: number, delta: number): number {
  return Math.max(0, Math.min(STEPS.length - 1, step + delta));
}

/** A number as the panel prints it: 3 significant digits, a true minus sign. */
export function formatValue(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? '∞' : x < 0 ? '−∞' : 'NaN';
  const a = Math.abs(x);
  const text = a === 0 ? '0' : a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : a >= 0.01 ? x.toFixed(2) : x.toExponential(1);
  return text.replaceAll('-', '−');
}

/** The key with the largest value of row [n] (the first on a tie). */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

function norm(v: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  return Math.sqrt(sum);
}

/** “token” (position p). */
function keyName(tokens: readonly string[], p: number): string {
  return `“${tokens[p] ?? ''}” (${p})`;
}

/**
 * What step `step` does, with its figures, as one or two sentences for the
 * aria-live line. tokens: [T] display text of the pass.
 */
export function describeStep(step: number, a: Arithmetic, tokens: readonly string[]): string {
  const n = a.position + 1;
  const later = a.T - n;
  const top = argmax(a.probs);
  const head = `${a.layer}.${a.head}`;
  const where = `Step ${step + 1} of ${STEPS.length}, ${STEPS[step]!.name}: `;
  switch (STEPS[step]!.id) {
    case 'scores': {
      const best = argmax(a.scores);
      return `${where}head ${head}'s query at ${keyName(tokens, a.position)} takes the dot product of its q (${a.d_head} numbers) ` +
        `with the k of each of the ${n} tokens up to it. Highest: ${keyName(tokens, best)}, ${formatValue(a.scores[best]!)}.`;
    }
    case 'scaled':
      return `${where}each score is divided by √${a.d_head} = ${formatValue(1 / a.scale)}, so that the softmax is not too peaked: ` +
        `${formatValue(a.scores[top]!)} becomes ${formatValue(a.scaled[top]!)}.`;
    case 'masked':
      return later > 0
        ? `${where}the ${later} later token${later === 1 ? '' : 's'} get −∞: a query never sees the future (the causal mask).`
        : `${where}this is the last token: there is no later token to hide, so nothing changes.`;
    case 'softmax':
      return `${where}exp of each scaled score, divided by their sum: the weights add up to 1. ` +
        `${formatProbability(a.probs[top]!)} goes to ${keyName(tokens, top)}.`;
    case 'weighted':
      return `${where}z = Σ p·v, the values of the ${n} tokens weighted by the softmax: a vector of ${a.d_head} numbers ` +
        `(length ${formatValue(norm(a.z))}), mostly the v of ${keyName(tokens, top)}.`;
    case 'output': {
      const what = a.z_replaced ? 'the head\'s mean z (mean ablation) in place of z' : 'z';
      const gain = a.gain === 1 ? '' : a.gain === 0 ? ', times gain 0 (muted)' : `, times gain ${formatValue(a.gain)}`;
      return `${where}${what}${gain}, through the head's ${a.d_head} rows of the output projection c_proj: ` +
        `${a.output.length} numbers (length ${formatValue(norm(a.output))}) added to the residual stream at ${keyName(tokens, a.position)}.`;
    }
  }
}
