/**
 * The engine worker's fine-tune request and reply (wasm/core/head_finetune.h,
 * the Fine-tune heads panel). Types only, re-exported by protocol.ts.
 */

/** Fine-tune heads (wasm/core/head_finetune.h): what the page asks for. */
export interface FineTuneRequest {
  /** [l0, h0, l1, h1, ...]: the heads whose slices of c_attn and c_proj train. */
  heads: Int32Array;
  /** The example texts; the mean next-token loss over all of them is what falls. */
  examples: string[];
  /** An unrelated text: the side effect on it is measured, it is not trained on. */
  heldout: string;
  steps: number;
  lr: number;
  /**
   * Send the loaded model's weights back with the reply (F32, ~21 MB on
   * gpt-4l-8k): Undo of a model opened from the reader's files, which the
   * page cannot fetch again. A served model is reopened by name instead.
   */
  keep_original: boolean;
}

/** A fine-tuning started (finetuneStart): the worker holds the run; the page asks for its steps in parts. */
export interface FineTuneStarted {
  /** The model it is of (LoadedModel.name): parts of a model no longer loaded come back cancelled. */
  model: string;
  steps: number;
  /** The examples' mean loss before any step (nats/token). */
  loss: number;
}

/** One part of a run's steps (finetunePart): as many as fit in about FINETUNE_PART_MS of the worker. */
export interface FineTunePart {
  model: string;
  /** The run is gone (another model was loaded, or it was cancelled): nothing more will come. */
  cancelled: boolean;
  steps_done: number;
  steps_total: number;
  /** [steps of this part] each step's examples' loss before its update. */
  losses: Float32Array;
  /** Every step has run: finetuneFinish gives the effects. */
  done: boolean;
  compute_ms: number;
}

/**
 * What a fine-tuning did, and the fine-tuned model's files (the page opens
 * them; the original's only when asked, keep_original). E examples, K edited
 * heads (in the request's order), T_e example e's tokens as run.
 */
export interface FineTuneReply {
  /** The model it was of (LoadedModel.name). */
  model: string;
  heads: Int32Array;
  /** [steps] each step's examples' loss before its update (nats/token). */
  losses: Float32Array;
  /** What was cut or left out, in words (long examples, a long held-out text). */
  notices: string[];
  examples_loss_before: number;
  examples_loss_after: number;
  heldout_loss_before: number;
  heldout_loss_after: number;
  heldout_tokens: number;
  /** [L x H] mean JS distance of each head's pattern on the held-out text, before against after. */
  moved: Float32Array;
  /** [E][T_e] the tokens of each example as run. */
  example_tokens: string[][];
  /** For each example e, each edited head k: [T_e x T_e]. */
  edited_before: Float32Array;
  edited_after: Float32Array;
  config_json: string;
  /** The fine-tuned weights, F32. */
  safetensors: Uint8Array;
  /** The loaded model's weights, F32, when the request asked (keep_original); else null. */
  original_safetensors: Uint8Array | null;
  vocab_json: string;
  merges_txt: string;
  /** The run's time in the worker (its parts and the finish), ms. */
  compute_ms: number;
}
