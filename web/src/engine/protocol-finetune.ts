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
}

/**
 * What a fine-tuning did, and both models' files (the page opens the
 * fine-tuned one and keeps the original's for Undo). E examples, K edited
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
  /** The fine-tuned weights and the original's, F32. */
  safetensors: Uint8Array;
  original_safetensors: Uint8Array;
  vocab_json: string;
  merges_txt: string;
  compute_ms: number;
}
