/**
 * Reading the syntax probe (protocol.ts SyntaxProbe; docs/heads.md,
 * "Syntactic heads") for the page: a head's counted tag pairs, and their
 * words ("NOUN → DET 3.1× chance"). No DOM: tests/web runs it in Node.
 */
import type { SyntaxProbe } from '../engine/protocol';
import { formatProbability } from '../state/format';

/** One counted pair of a head: query tag → key tag. */
export interface TagPair {
  query: string;
  key: string;
  /** Of the attention of the query tag's tokens, the part on key-tag tokens. */
  share: number;
  /** The same for the head's positional profile (chance). */
  chanceShare: number;
  /** share / chanceShare. */
  ratio: number;
}

/** The universal tags in plain words (the probe's tag names). */
export const TAG_WORDS: Readonly<Record<string, string>> = {
  NOUN: 'nouns',
  VERB: 'verbs',
  ADJ: 'adjectives',
  ADV: 'adverbs',
  DET: 'determiners (the, a, this)',
  ADP: 'prepositions (of, in, to)',
  PRON: 'pronouns',
  CONJ: 'conjunctions (and, that)',
  NUM: 'numbers',
  PRT: 'particles (to, up)',
  PUNCT: 'punctuation',
  X: 'other words',
};

/** Head i's (l * H + h) counted pairs, highest ratio first (at most probe.top_pairs). */
export function headPairs(probe: SyntaxProbe, i: number): TagPair[] {
  const pairs: TagPair[] = [];
  for (let p = 0; p < probe.top_pairs; p++) {
    const at = i * probe.top_pairs + p;
    const query = probe.top_query[at] ?? -1;
    if (query < 0) break;
    pairs.push({
      query: probe.tags[query] ?? '?',
      key: probe.tags[probe.top_key[at] ?? -1] ?? '?',
      share: probe.top_share[at] ?? NaN,
      chanceShare: probe.top_chance_share[at] ?? NaN,
      ratio: probe.top_ratio[at] ?? NaN,
    });
  }
  return pairs;
}

/** "NOUN → DET 3.1× chance". */
export function pairLabel(pair: TagPair): string {
  return `${pair.query} → ${pair.key} ${pair.ratio.toFixed(1)}× chance`;
}

/** "42.0% of the attention of nouns goes to determiners (the, a, this); chance 13.6%". */
export function pairDetail(pair: TagPair): string {
  const from = TAG_WORDS[pair.query] ?? pair.query;
  const to = TAG_WORDS[pair.key] ?? pair.key;
  return `${formatProbability(pair.share)} of the attention of ${from} goes to ${to}; chance ${formatProbability(pair.chanceShare)}`;
}

/** Indices (l * H + h) of the syntactic heads, strongest top pair first. */
export function syntacticHeads(probe: SyntaxProbe): number[] {
  const heads: number[] = [];
  for (let i = 0; i < probe.syntactic.length; i++) if (probe.syntactic[i]) heads.push(i);
  const top = (i: number) => probe.top_ratio[i * probe.top_pairs] ?? 0;
  return heads.sort((a, b) => top(b) - top(a) || a - b);
}
