/**
 * The messages between the page (client.ts) and the engine worker (worker.ts).
 * Types only: the worker is a classic script and imports nothing at run time.
 * Shapes use L = n_layer, H = n_head, T = tokens, K = top-k.
 */
import type {
  CompositionResult,
  HeadArithmeticResult,
  HeadTypeScoresResult,
  MemoryEstimate,
  ModelInfo,
  PatchMetricKind,
  SyntaxProbeResult,
} from './headlight-wasm';

import type { LensReply, PatchedRunReply, PatchMapsReply, RunCompareReply, RunPair, TokenPick } from './protocol-circuits';
import type { FineTunePart, FineTuneReply, FineTuneRequest, FineTuneStarted } from './protocol-finetune';

export type {
  LensReply,
  PatchedRunReply,
  PatchMapsReply,
  PromptPair,
  RunCompareReply,
  RunPair,
  RunPairKind,
  RunSide,
  TokenPick,
} from './protocol-circuits';
export type { FineTunePart, FineTuneReply, FineTuneRequest, FineTuneStarted } from './protocol-finetune';

/** Every head's type scores on a pass's attention (docs/heads.md): [L x H] arrays, types, threshold. */
export type HeadTypes = Omit<HeadTypeScoresResult, 'ok'>;

/** The syntax probe of a model (docs/heads.md, "Syntactic heads"), with the model it is of and its time (all its parts'). */
export type SyntaxProbe = Omit<SyntaxProbeResult, 'ok'> & { model: string; compute_ms: number };

/** How far the syntax probe of a model is (syntaxPart: engine parts are a layer over a batch of sentences, then the result), and the probe once done. */
export interface SyntaxPart extends PartsProgress {
  probe: SyntaxProbe | undefined;
}

export interface Progress {
  /** What is being read, e.g. "engine" or "model.safetensors". */
  label: string;
  loaded: number;
  /** Bytes expected; 0 when the server did not say. */
  total: number;
  /**
   * A step with no byte count (e.g. converting and packing the weights, one
   * engine call): the page shows the seconds since the step began instead.
   */
  timed?: boolean;
}

/** One forward pass (or incremental rerun) as the views need it. */
export interface Analysis {
  model: string;
  T: number;
  n_input_tokens: number;
  /** false: the text has more tokens than n_input_tokens (it is tokenized as far as TOKENS_COUNTED). */
  n_input_tokens_exact: boolean;
  /** The engine's wasm memory after the pass, bytes (0 until the worker fills it in). */
  engine_bytes: number;
  truncated: boolean;
  n_layer: number;
  n_head: number;
  top_k: number;
  ids: Int32Array;           // [T]
  tokens: string[];          // [T] display text (partial UTF-8 shown as \xE2)
  attn: Float32Array;        // [L x H x T x T] query rows, key columns
  loss: Float32Array;        // [T] next-token loss in nats, NaN at T-1
  mean_loss: number;
  top_k_ids: Int32Array;     // [T x K]
  top_k_probs: Float32Array; // [T x K]
  top_k_tokens: string[];    // [T x K]
  gains: Float32Array;       // [L x H] the gains this pass used
  means: Int32Array;         // [L x H] 1: the head mean-ablated in this pass (its z replaced by its mean over the text)
  /** The head-type scores of this pass's attention (the edited model's: a muted head moves later layers). */
  head_types: HeadTypes;
  /**
   * The unedited model (every gain 1) on the same tokens, computed once per
   * text and model by the engine (Engine.runWithBaseline), its fixed part
   * cached by the worker: the predictions' ghost bars.
   */
  baseline: Baseline;
  /** First layer recomputed: 0 for a full pass, L when only the text was re-read. */
  rerun_from_layer: number;
  /**
   * First layer whose attention this pass changed: 0 for a full pass; for a
   * rerun the layer after rerun_from_layer, since a head gain acts after its
   * layer's attention (L: none changed).
   */
  attention_from_layer: number;
  /**
   * Worker-side time of each step, ms. forward_ms: the whole pass or rerun;
   * position_ms: of it, the rerun up to the shown position's predictions
   * (PredictionsPart; null when none was sent first); prepared_ms: when a
   * prepare call computed those predictions before the request, what it took
   * (else null); attention_ms: reading the attention out of the engine.
   */
  timing: {
    tokenize_ms: number;
    forward_ms: number;
    position_ms: number | null;
    prepared_ms: number | null;
    trace_ms: number;
    attention_ms: number;
  };
}

/** An Analysis without its attention: losses, top-k and the ghost-bar baseline, a few KB. */
export type AnalysisCore = Omit<Analysis, 'attn' | 'timing'> & {
  timing: Omit<Analysis['timing'], 'attention_ms'>;
};

/**
 * The predictions at the one position the page shows, sent first after a
 * head edit on the same tokens: the worker reruns the edited layers and the
 * LM head at that position only, posts this, and only then computes the
 * head at the other T - 1 positions (losses, mean loss, top-k everywhere).
 * Every figure here equals the one of the full AnalysisCore that follows,
 * bit for bit.
 */
export interface PredictionsPart {
  model: string;
  T: number;
  top_k: number;
  ids: Int32Array;             // [T] the tokens run, to match the page's drawn analysis
  /** t: the query position whose next token these predict. */
  position: number;
  top_k_ids: Int32Array;       // [K] at t
  top_k_probs: Float32Array;   // [K] at t
  top_k_tokens: string[];      // [K] at t
  /** -log p(ids[t + 1]) in nats; NaN at T - 1. */
  loss: number;
  gains: Float32Array;         // [L x H] the gains this pass used
  means: Int32Array;           // [L x H] the mean-ablated heads this pass used
  baseline: {
    /** The unedited model's loss at t. */
    loss: number;
    /** [K] the unedited model's probability of each token of top_k_ids (NaN: unknown). */
    probs_of_top_k: Float32Array;
    /**
     * The unedited model's top-1 token at t (the ghost row when the edits
     * push it out of the top-k): its id, display text, unedited probability,
     * and its probability with the edits: exact when it is still in the
     * edited top-k, else NaN here (below top_k_probs[K - 1]; the
     * AnalysisCore that follows has it exactly, edited_probs_of_top_1).
     */
    top_1: { id: number; token: string; prob: number; edited_prob: number };
  };
  rerun_from_layer: number;
  /**
   * Worker-side ms: tokenize, and the rerun up to these predictions;
   * prepared_ms: when a prepare call had computed them before this request
   * (position_ms is then the time to post them), what that took; else null.
   */
  timing: { tokenize_ms: number; position_ms: number; prepared_ms: number | null };
}

/**
 * The attention of an analysis. Only the layers whose attention the pass
 * changed (AnalysisCore.attention_from_layer up) are sent when the page holds
 * the attention of the previous pass (the version it names in
 * `heldAttention`): a rerun from the lowest edited layer leaves the layers up
 * to and including it unchanged, so the page keeps its own copy of them.
 */
export interface AttentionPart {
  /** This attention's version; the page names it in its next request. */
  version: number;
  /** The version the layers below from_layer come from; 0 when from_layer is 0. */
  base_version: number;
  /** First layer sent: 0 = all of them; n_layer = none changed. */
  from_layer: number;
  attn: Float32Array;        // [(L - from_layer) x H x T x T]
  /** Worker-side time to read it out of the engine, ms. */
  attention_ms: number;
}

export interface Baseline {
  loss: Float32Array;        // [T] next-token loss of the unedited model, NaN at T-1
  mean_loss: number;
  top_k_ids: Int32Array;     // [T x K] the unedited model's own top-k
  top_k_probs: Float32Array; // [T x K]
  top_k_tokens: string[];    // [T x K]
  /**
   * [T x K] the unedited model's probability of each token of the EDITED
   * top-k (analysis.top_k_ids); NaN where unknown (the engine keeps the
   * unedited logits only while T x vocab is at most 16M floats).
   */
  probs_of_top_k: Float32Array;
  /**
   * [T] the EDITED model's probability of the unedited model's top-1 token
   * (top_k_ids[t * K]): what the ghost row shows when the edits push that
   * token out of the edited top-k. Read by the worker from the edited
   * logits; NaN where unknown (T x vocab above 16M floats, as above).
   */
  edited_probs_of_top_1: Float32Array;
}

/**
 * Which heads matter (docs/heads.md), on the tokens of the last analyze with
 * the page's edits: the exact ablation scan (kind zero or mean: each head
 * removed alone) or the gradient importance (kind gradient). [L x H] arrays
 * are flat, l * H + h; the arrays of the other kind are empty.
 */
export interface HeadImportance {
  kind: 'zero' | 'mean' | 'gradient';
  model: string;
  ids: Int32Array;               // [T] the tokens the figures are of
  n_layer: number;
  n_head: number;
  /** Scan: p, the position whose next token ids[p + 1] delta_logprob follows; gradient: -1. */
  position: number;
  /** The pass with the edits: its mean loss, and log p(ids[p + 1]) (scan; NaN for gradient). */
  mean_loss: number;
  logprob: number;
  delta_mean_loss: Float32Array; // [L x H] scan: each head removed alone, minus the base
  delta_logprob: Float32Array;   // [L x H]
  gradient: Float32Array;        // [L x H] d mean loss / d gain at the page's gains
  /**
   * Gradient asked with compareWith: Spearman's rank correlation of the
   * gradient's first-order Δ mean loss of muting (−gradient) with it; else NaN.
   */
  rank_correlation: number;
  /** True when a cancel stopped the scan: nothing else is set. */
  cancelled: boolean;
  compute_ms: number;
}

/** The pruning curves (engine pruningCurve) of the last analyze's tokens, from the unedited model. */
export interface PruningCurves {
  model: string;
  ids: Int32Array;               // [T]
  n_layer: number;
  n_head: number;
  mode: 'zero' | 'mean';
  rescan_every: number;
  seed: number;
  order: Int32Array;             // [L*H] heads as l * H + h, least important first
  mean_loss: Float32Array;       // [L*H + 1] k-th: the first k of order removed
  random_order: Int32Array;      // [L*H] a seeded shuffle
  random_mean_loss: Float32Array; // [L*H + 1]
  /** true: stopped by a cancel before the end (the curves are empty). */
  cancelled: boolean;
  compute_ms: number;
}

/** The four files of a model folder, read by the page (open your own model). */
export interface LocalModelFiles {
  /** Shown in the picker, e.g. the folder's name. */
  name: string;
  configJson: string;
  safetensors: Uint8Array;
  vocabJson: string;
  mergesTxt: string;
}

export interface LoadedModel extends ModelInfo {
  name: string;
  bytes: number;
  load_ms: number;
  /**
   * [L x H] each head's copying score (docs/heads.md "Copying": Σ Re λ / Σ |λ|
   * over its OV circuit's eigenvalues, in [-1, 1], > 0: it copies). The
   * weights alone decide it, so the worker computes it once, at load;
   * undefined for a model on which that takes seconds (copying-parts.ts
   * COPYING_AT_LOAD_MAX_MULTIPLY_ADDS: the GPT-2-small shape): the page then
   * asks for it in parts after the model is shown (copyingPart).
   */
  copying: Float32Array | undefined;
}

/** How far a computation the worker runs in parts for a model is (copyingPart, syntaxPart). */
export interface PartsProgress {
  model: string;
  /** true: another model is loaded now; nothing else is set. */
  cancelled: boolean;
  done: boolean;
  /** Engine parts done and in all. */
  parts_done: number;
  parts_total: number;
  /** Their multiply-adds: what a progress bar moves with. */
  work_done: number;
  work_total: number;
  /** This request's compute time. */
  compute_ms: number;
}

/** How far the copying scores of a model not scored at load are (copyingPart: engine parts are blocks of wte rows, then layers), and the scores once done. */
export interface CopyingPart extends PartsProgress {
  /** [L x H] once done. */
  copying: Float32Array | undefined;
}

/** The pass a view's own request is about: the text and edits the page ran (analyze's). */
export interface PassOf {
  text: string;
  gains: Float32Array;       // [L x H]
  means?: Int32Array;        // [L x H]
}

/** Method name -> parameters and result. One table drives client and worker. */
export interface Methods {
  /** Loads the Emscripten module: scriptUrl is headlight.js, wasmUrl headlight.wasm. */
  init: { params: { scriptUrl: string; wasmUrl: string }; result: { init_ms: number } };
  /** Reads config.json, model.safetensors, vocab.json, merges.txt under baseUrl. */
  loadModel: { params: { name: string; baseUrl: string }; result: LoadedModel };
  /**
   * Checks config.json with the engine's parser and estimates the wasm memory
   * a model.safetensors of safetensorsBytes needs, allocating nothing
   * (open-local.ts calls it before reading the weights).
   */
  estimateMemory: {
    params: { configJson: string; safetensorsBytes: number };
    result: MemoryEstimate;
  };
  /**
   * Loads a model from files the reader opened (open-local.ts). Transfer
   * safetensors.buffer: the worker is its only reader.
   */
  loadModelFiles: { params: LocalModelFiles; result: LoadedModel };
  /**
   * Runs text with the given head gains ([L x H], 1 = unchanged, 0 = muted)
   * and mean ablation (means [L x H], 1 = the head's z replaced by its mean
   * over the text, computed by the unedited model).
   * The worker reruns only what changed: new text -> full pass; same text and
   * new gains -> rerun from the lowest edited layer. A rerun answers in two
   * messages: first the PredictionsPart of `position` (a 'partial' message),
   * then the result: the AnalysisCore (every position's predictions and
   * losses) and the attention. A full pass sends only the result.
   * position: the query position shown, -1 (or past the end) = the last.
   * heldAttention: the version of the attention the page holds
   * (AttentionPart.version; 0 = none).
   */
  analyze: {
    params: {
      text: string;
      gains: Float32Array;
      /** Absent: no head mean-ablated. */
      means?: Int32Array;
      topK: number;
      position: number;
      heldAttention: number;
    };
    partial: PredictionsPart;
    result: { core: AnalysisCore; attention: AttentionPart };
  };
  /**
   * Computes ahead the first phase of an analyze with these gains, on the
   * text and top-k of the last analyze (the page calls it when the pointer
   * or the focus comes to a head, or a pointer goes down on it, before the
   * click). An analyze with the same gains and position then posts those
   * predictions at once; every figure is the same, bit for bit, as without
   * it. prepared: false when there was nothing to do (another text, no
   * analysis yet, or the gains the engine holds).
   */
  prepare: {
    params: { text: string; gains: Float32Array; means?: Int32Array; topK: number; position: number };
    result: { prepared: boolean; compute_ms: number };
  };
  /**
   * The next parts of the syntax probe of the loaded model, unedited, for
   * about SYNTAX_PART_MS (syntax-parts.ts): the worker reads the probe file
   * at probeUrl (once per url), begins the run at the first request and
   * answers the probe once done (again, without work, after that); the page
   * asks again until then, so its other requests wait at most one part. For
   * a model that is no longer the loaded one: cancelled.
   */
  syntaxPart: { params: { model: string; probeUrl: string }; result: SyntaxPart };
  /**
   * One head's arithmetic at a query position (the arithmetic panel), on
   * the pass of this text and these edits: the text must be the one the
   * last analyze ran; the edits are applied first if a prepare moved them.
   */
  headArithmetic: {
    params: PassOf & { layer: number; head: number; position: number };
    result: Omit<HeadArithmeticResult, 'ok'>;
  };
  /** The target head's attention before and after muting the source head (the composition view), on that pass. */
  composition: {
    params: PassOf & { source: { layer: number; head: number }; target: { layer: number; head: number } };
    result: Omit<CompositionResult, 'ok'>;
  };
  /**
   * Which heads matter on the text of the last analyze (an error for
   * another text), with these edits: the exact scan (kind zero or mean) at
   * position (-1 or past T - 2: T - 2) a layer at a time, a progress message
   * after each layer; a 'cancel' naming `job` stops it between layers
   * (result.cancelled). Or the gradient importance (one call).
   */
  importance: {
    params: {
      job: number;
      kind: HeadImportance['kind'];
      text: string;
      gains: Float32Array;
      means?: Int32Array;
      position: number;
      /** With kind gradient: [L x H] an exact scan's Δ mean loss, to rank-correlate with. */
      compareWith?: Float32Array;
    };
    result: HeadImportance;
  };
  /**
   * The pruning curves of the last analyze's text, a part at a time (each up
   * to rescanEvery heads after one exact scan), a progress message after
   * each part (heads removed over both curves); a 'cancel' naming `job`
   * stops it between parts (result.cancelled).
   */
  pruning: {
    params: { job: number; text: string; gains: Float32Array; means?: Int32Array; mode: 'zero' | 'mean'; rescanEvery: number; seed: number };
    result: PruningCurves;
  };
  /**
   * Stops the importance scan or pruning `job` before its next layer or
   * part. Answered at once, ahead of the requests waiting in the worker's
   * queue. Job numbers are one sequence for both (ImportanceResults.nextJob).
   */
  cancel: { params: { job: number }; result: { cancelled: boolean } };
  /**
   * The next parts of the loaded model's copying scores (when the load
   * step did not compute them: LoadedModel.copying undefined), for about
   * COPYING_PART_MS (copying-parts.ts): the page asks again until done, so
   * its other requests wait at most one part. For a model that is no longer
   * the loaded one: cancelled.
   */
  copyingPart: { params: { model: string }; result: CopyingPart };
  /**
   * The logit lens of `text` with these edits (the drawn analysis' text and
   * gains; the worker reruns what differs from its trace) at every layer
   * and position, and with an answer and a foil of one token each, the
   * answer's rank and the direct logit attribution at `position` (-1: the
   * last). answer/foil: token text ('' = none).
   */
  lens: {
    params: { text: string; gains: Float32Array; means?: Int32Array; topK: number; position: number; answer: string; foil: string };
    result: LensReply;
  };
  /**
   * Activation patching clean -> corrupted on the unedited model (every
   * head's z, every residual row), on the metric at the last position:
   * logit(answer) - logit(foil), or log p(answer) (the foil unused). Both
   * prompts must give the same number of tokens.
   */
  patchMaps: {
    params: { clean: string; corrupted: string; answer: string; foil: string; metric: PatchMetricKind };
    result: PatchMapsReply;
  };
  /**
   * The corrupted prompt on the unedited model with the flagged heads' z
   * ([L x H], 1 = patched) from the clean prompt: its metric and predictions.
   */
  patchedRun: {
    params: {
      clean: string; corrupted: string; answer: string; foil: string; metric: PatchMetricKind;
      patched: Int32Array; topK: number;
    };
    result: PatchedRunReply;
  };
  /**
   * The selected head's attention in the two runs of `pair` and their
   * difference (engine: headAttention on passes of their own, then
   * compareAttention). A pair of models keeps the other model loaded in a
   * second engine until another pair is asked or releaseCompare.
   */
  compareRuns: {
    params: PassOf & { layer: number; head: number; pair: RunPair };
    result: RunCompareReply;
  };
  /**
   * Fine-tuning only the given heads of the loaded model on the examples,
   * in parts (engine/finetune-job.ts): finetuneStart holds a run on a copy
   * of the weights (the loaded model stays as it is), each finetunePart
   * runs the next steps for about FINETUNE_PART_MS, so that the page's
   * requests made meanwhile wait one part at most; finetuneFinish gives the
   * effects and the fine-tuned model's files; finetuneCancel drops the run.
   */
  finetuneStart: { params: FineTuneRequest; result: FineTuneStarted };
  finetunePart: { params: { model: string }; result: FineTunePart };
  finetuneFinish: { params: { model: string }; result: FineTuneReply };
  finetuneCancel: { params: Record<string, never>; result: { cancelled: boolean } };
  /** Frees the other model of a pair of models (the panel closed or the pair changed). */
  releaseCompare: { params: Record<string, never>; result: { released: boolean } };
}

/** The methods a view may call itself (PageActions.compute): answers about the pass on screen. */
export type ComputeMethod = 'headArithmetic' | 'composition' | 'compareRuns';

export type Method = keyof Methods;

/** What a method sends before its result ('partial' messages); never for most. */
export type PartialOf<M extends Method> = Methods[M] extends { partial: infer P } ? P : never;

export type RequestMessage = {
  [M in Method]: { id: number; method: M; params: Methods[M]['params'] };
}[Method];

export type ResponseMessage =
  | { id: number; kind: 'progress'; progress: Progress }
  | { id: number; kind: 'partial'; partial: PartialOf<Method> }
  | { id: number; kind: 'result'; result: Methods[Method]['result'] }
  /**
   * fatal: the wasm module aborted or trapped while answering (error: why), so it cannot
   * answer again: the client starts a new worker (EngineClient.onFatal).
   */
  | { id: number; kind: 'error'; error: string; fatal?: true };
