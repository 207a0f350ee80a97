/**
 * The circuit requests of the worker (issue 17, docs/circuits.md): the
 * logit lens with the direct logit attribution of the drawn pass, the
 * activation-patching maps of two prompts, and the corrupted prompt run
 * with some heads patched. It shares the engine with the EngineCache: the
 * lens reads the cache's trace (rerun to the request's edits when they
 * differ), and a patched run, which runs another text, tells the cache to
 * forget its trace. No DOM, no worker scope.
 * Shapes use L = n_layer, H = n_head, T = tokens, K = top-k.
 */
import type { Engine, LogitLensResult, PatchMetricKind } from './headlight-wasm';
import type { EngineCache } from './engine-cache';
import { owned, tokenTexts, unwrap } from './engine-calls';
import type { LensReply, LoadedModel, Methods, PatchedRunReply, PatchMapsReply, PromptPair, TokenPick } from './protocol';

type Params<M extends 'lens' | 'patchMaps' | 'patchedRun'> = Methods[M]['params'];

/** The id of a one-token pick; -1 for none or several tokens (the page says which). */
export function singleId(pick: TokenPick): number {
  return pick.ids.length === 1 ? pick.ids[0]! : -1;
}

/**
 * The metric of a run from its lens at the last position (one position,
 * row L = the model's own output): the attribution's real logit difference,
 * or the log of the answer's probability (softmax in float64, kept as a
 * float32: the patcher's own log-sum-exp agrees to float32 rounding).
 */
function patchedMetric(lens: Omit<LogitLensResult, 'ok'>, metric: PatchMetricKind, L: number): number {
  if (metric === 'logprob') {
    if (!lens.answer_prob) throw new Error('the patched run has no answer probability');
    return Math.log(lens.answer_prob[L]!);
  }
  if (!lens.dla) throw new Error('the patched run has no logit difference');
  return lens.dla.actual;
}

export class CircuitCache {
  constructor(
    private readonly engine: Engine,
    private readonly cache: EngineCache,
    private readonly model: LoadedModel,
  ) {}

  /** The ids and display text of a token typed by the reader ('' = none). */
  pick(text: string): TokenPick {
    if (text === '') return { text, ids: new Int32Array(0), tokens: [] };
    const { ids } = unwrap(this.engine.tokenize(text), 'tokenizer');
    return { text, ids, tokens: this.tokensOf(ids) };
  }

  private tokensOf(ids: Int32Array): string[] {
    return tokenTexts(this.engine, ids);
  }

  /** Methods.lens. */
  lens(params: Params<'lens'>): LensReply {
    const { text, gains, topK, position, answer, foil } = params;
    const { n_layer, n_head } = this.model;
    const means = params.means ?? new Int32Array(n_layer * n_head);
    const t0 = performance.now();
    const ids = this.cache.traceOf(text, gains, means, topK);
    const answerPick = this.pick(answer);
    const foilPick = this.pick(foil);
    const a = singleId(answerPick);
    const f = a >= 0 ? singleId(foilPick) : -1;
    if (position < -1 || position >= ids.length) {
      throw new Error(`position ${position} is outside the text (0..${ids.length - 1})`);
    }
    const { ok: _ok, ...lens } = unwrap(this.engine.logitLens(position, topK, a, f, true), 'logit lens');
    return { ids: ids.slice(), answer: answerPick, foil: foilPick, lens, lens_ms: performance.now() - t0 };
  }

  /**
   * Both prompts' tokens, checked to be as many, with an answer of one token
   * and, for the logit difference, a foil of one token (f = -1 for the
   * log-prob, which reads none).
   */
  private pair(clean: string, corrupted: string, answer: string, foil: string, metric: PatchMetricKind) {
    if (clean === '' || corrupted === '') throw new Error('both prompts are needed: type a corrupted prompt');
    const cleanIds = unwrap(this.engine.tokenize(clean), 'tokenizer').ids;
    const corruptedIds = unwrap(this.engine.tokenize(corrupted), 'tokenizer').ids;
    const limit = this.model.n_positions;
    if (cleanIds.length > limit || corruptedIds.length > limit) {
      throw new Error(`a prompt is longer than the model's ${limit} positions`);
    }
    if (cleanIds.length !== corruptedIds.length) {
      throw new Error(
        `the clean prompt has ${cleanIds.length} tokens and the corrupted prompt ${corruptedIds.length}: ` +
          'patching compares the same positions, so both need the same count',
      );
    }
    const prompts: PromptPair = {
      clean_tokens: this.tokensOf(cleanIds),
      corrupted_tokens: this.tokensOf(corruptedIds),
      answer: this.pick(answer),
      foil: this.pick(foil),
    };
    const a = singleId(prompts.answer);
    const f = metric === 'logprob' ? -1 : singleId(prompts.foil);
    if (a < 0 || (f < 0 && metric !== 'logprob')) {
      const bad = a < 0 ? prompts.answer : prompts.foil;
      throw new Error(`the ${a < 0 ? 'answer' : 'foil'} ${JSON.stringify(bad.text)} is ${bad.ids.length} tokens, not one`);
    }
    return { cleanIds, corruptedIds, prompts, a, f };
  }

  /** Methods.patchMaps: independent of the trace and the edits. */
  patchMaps(params: Params<'patchMaps'>): PatchMapsReply {
    const t0 = performance.now();
    const { clean, corrupted, answer, foil, metric } = params;
    const { cleanIds, corruptedIds, prompts, a, f } = this.pair(clean, corrupted, answer, foil, metric);
    const { ok: _ok, ...maps } = unwrap(this.engine.patch(cleanIds, corruptedIds, a, f, 'both', metric), 'activation patching');
    return { ...prompts, maps, patch_ms: performance.now() - t0 };
  }

  /** Methods.patchedRun: runs the corrupted prompt, so the cache forgets its trace. */
  patchedRun(params: Params<'patchedRun'>): PatchedRunReply {
    const { n_layer, n_head } = this.model;
    if (params.patched.length !== n_layer * n_head) {
      throw new Error(`expected ${n_layer * n_head} patch flags (${n_layer} x ${n_head}), got ${params.patched.length}`);
    }
    const t0 = performance.now();
    const { clean, corrupted, answer, foil, metric } = params;
    const { cleanIds, corruptedIds, prompts, a, f } = this.pair(clean, corrupted, answer, foil, metric);
    const { engine } = this;
    this.cache.forget();
    try {
      unwrap(engine.setHeadGains(new Float32Array(n_layer * n_head).fill(1)), 'head gains');
      unwrap(engine.setHeadPatches(params.patched, cleanIds), 'patched heads');
      unwrap(engine.run(corruptedIds, params.topK), 'patched run');
      const lens = unwrap(engine.logitLens(-1, params.topK, a, f, false), 'patched run');
      // Row L of the lens is the model's own prediction at the last position.
      const K = lens.top_k;
      const last = n_layer * K;
      return {
        ...prompts,
        metric: patchedMetric(lens, metric, n_layer),
        top_k_ids: owned(lens.top_k_ids.slice(last, last + K)),
        top_k_probs: owned(lens.top_k_probs.slice(last, last + K)),
        top_k_tokens: lens.top_k_tokens.slice(last, last + K),
        run_ms: performance.now() - t0,
      };
    } finally {
      // No patch outlives the request: the next analyze starts from a clean slate.
      unwrap(engine.setHeadPatches(new Int32Array(n_layer * n_head), cleanIds), 'patched heads');
    }
  }
}
