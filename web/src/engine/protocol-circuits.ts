/**
 * The engine worker's replies for the circuit views (docs/circuits.md): the
 * logit lens, activation patching of two prompts, and two runs compared.
 * Types only, re-exported by protocol.ts. Shapes use L = n_layer,
 * H = n_head, T = tokens, K = top-k.
 */
import type { LogitLensResult, PatchingResult, RunComparisonResult } from './headlight-wasm';

/**
 * A token the reader named by its text (answer or foil, docs/circuits.md):
 * the ids the tokenizer gives it. Only a text of exactly one token can be
 * used; the page says so otherwise.
 */
export interface TokenPick {
  text: string;
  ids: Int32Array;
  /** Display text of each id. */
  tokens: string[];
}

/** The logit lens of a pass at every position, with the answer's rank and the direct logit attribution at `position` (Methods.lens). */
export interface LensReply {
  ids: Int32Array;           // [T] the tokens the lens read (the page checks they are the drawn analysis')
  answer: TokenPick;
  foil: TokenPick;
  lens: Omit<LogitLensResult, 'ok'>;
  lens_ms: number;
}

/** The two prompts of "Compare prompts" as the tokenizer reads them (display text, [T] each). */
export interface PromptPair {
  clean_tokens: string[];
  corrupted_tokens: string[];
  answer: TokenPick;
  foil: TokenPick;
}

/** Activation patching maps of two prompts (Methods.patchMaps). */
export interface PatchMapsReply extends PromptPair {
  maps: Omit<PatchingResult, 'ok'>;
  patch_ms: number;
}

/** The corrupted prompt run with some heads' z from the clean run (Methods.patchedRun). */
export interface PatchedRunReply extends PromptPair {
  /**
   * The metric at the last position of the patched corrupted run:
   * logit(answer) - logit(foil), or log p(answer) (params.metric).
   */
  metric: number;
  top_k_ids: Int32Array;     // [K] its predictions at the last position
  top_k_probs: Float32Array; // [K]
  top_k_tokens: string[];    // [K]
  run_ms: number;
}

/**
 * Which two runs "Compare two runs" puts side by side (docs/circuits.md):
 * two prompts (A the text, B textB, both with the page's edits); the text
 * in the loaded model (A) and in another model of the same shape (B, e.g.
 * one of its checkpoints, files under baseUrl), both unedited; or the text
 * unedited (A) and with the page's edits (B).
 */
export type RunPair =
  | { kind: 'prompts'; textB: string }
  | { kind: 'models'; model: string; baseUrl: string }
  | { kind: 'edits' };
export type RunPairKind = RunPair['kind'];

/** One side of a compared pair: the selected head's attention in that run. */
export interface RunSide {
  /** e.g. "gpt-4l, unedited". */
  label: string;
  tokens: string[];          // [T] display text of the ids run
  attn: Float32Array;        // [T x T]
}

/** One head's attention in two runs and their difference (Methods.compareRuns). */
export interface RunCompareReply {
  kind: RunPairKind;
  layer: number;
  head: number;
  a: RunSide;
  b: RunSide;
  comparison: Omit<RunComparisonResult, 'ok'>;
  /** How the two runs' tokens line up ('' when they are the same tokens). */
  alignment: string;
  compute_ms: number;
}
