/**
 * Which answer and foil the circuit views use (docs/circuits.md): the
 * reader's choice (URL `answer=`, `foil=`), or, when none is chosen, the
 * model's own top prediction as the answer and the next one that differs
 * from the answer as the foil. Pure: tested in Node (tests/web/).
 */

export interface Pick {
  /** The token's text, as the tokenizer reads it (leading space included). */
  text: string;
  /** True when the reader did not choose it (the top predictions stand in). */
  auto: boolean;
}

export interface AnswerFoil {
  answer: Pick;
  foil: Pick;
}

/**
 * The answer and foil for a position whose top-k token texts are
 * `topTokens` (best first). An empty choice takes the best token that
 * differs from the other one; with no predictions it stays empty.
 */
export function answerFoilOf(chosen: { answer: string; foil: string }, topTokens: readonly string[]): AnswerFoil {
  const answer: Pick = chosen.answer !== ''
    ? { text: chosen.answer, auto: false }
    : { text: topTokens.find((token) => token !== chosen.foil) ?? '', auto: true };
  const foil: Pick = chosen.foil !== ''
    ? { text: chosen.foil, auto: false }
    : { text: topTokens.find((token) => token !== answer.text) ?? '', auto: true };
  return { answer, foil };
}

/** The K token texts at position t of a [T x K] top-k list. */
export function topTokensAt(top_k_tokens: readonly string[], K: number, t: number): string[] {
  return top_k_tokens.slice(t * K, (t + 1) * K);
}
