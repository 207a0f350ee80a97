/**
 * Fine-tune heads, as the worker runs it (wasm/core/head_finetune.h), in
 * parts: FineTuneJob.start tokenizes the example texts (each cut to
 * n_positions + 1 tokens, with a notice) and starts the engine's run on a
 * copy of the weights; each part() runs the next AdamW steps for about
 * FINETUNE_PART_MS (one 'finetunePart' request each, asked by the page:
 * views/finetune-run.ts), so that a head edit made meanwhile waits one
 * part at most; finish() gives the effects and the fine-tuned model's
 * files; cancel() drops the run, and the loaded model is as it was (the
 * run never writes to it). No worker scope here: the Node tests drive it
 * over the real wasm engine (tests/node/finetune.test.mjs).
 * Shapes: L = n_layer, H = n_head.
 */
import type { Engine } from './headlight-wasm';
import { tokenTexts, unwrap } from './engine-calls';
import { partsWithin } from './engine-parts';
import type { FineTunePart, FineTuneReply, FineTuneRequest, FineTuneStarted } from './protocol';

/** What the job needs of the loaded model: its name, context, and tokenizer files (for the new folder). */
export interface FineTuneModel {
  name: string;
  n_positions: number;
  vocabJson: string;
  mergesTxt: string;
}

/** The most steps one request may ask for (a few seconds each on the largest shipped model). */
export const MAX_FINETUNE_STEPS = 500;

/**
 * One part's share of the worker, ms: steps (~5-15 ms each on gpt-4l-8k)
 * are run while the next one, judged by the last, still fits.
 */
export const FINETUNE_PART_MS = 50;

/** The method's name and the core's tag ("finetuneStart: fine-tune: "): the panel says what failed. */
const ENGINE_PREFIXES = /^\w+: (fine-tune: )?/;

export class FineTuneJob {
  /** [steps] each step's examples' loss before its update; filled part by part. */
  private readonly losses: Float32Array;
  private stepsDone = 0;
  /** The worker's time on this run so far, ms (start, parts, finish). */
  private computeMs = 0;

  private constructor(
    private readonly engine: Engine,
    private readonly model: FineTuneModel,
    private readonly request: FineTuneRequest,
    /** [E][T_e + 1 at most] each example's ids as trained on; the held-out ids (at most P). */
    private readonly ids: Int32Array[],
    private readonly heldIds: Int32Array,
    private readonly notices: string[],
    readonly started: FineTuneStarted,
  ) {
    this.losses = new Float32Array(request.steps);
  }

  /** Checks the request, tokenizes it and starts the engine's run (replacing one it held). */
  static start(engine: Engine, model: FineTuneModel, request: FineTuneRequest): FineTuneJob {
    const t0 = performance.now();
    const { heads, heldout, steps, lr } = request;
    const P = model.n_positions;
    if (heads.length === 0) throw new Error('choose at least one head to fine-tune');
    if (!(Number.isInteger(steps) && steps >= 1 && steps <= MAX_FINETUNE_STEPS))
      throw new Error(`steps must be a whole number from 1 to ${MAX_FINETUNE_STEPS}, got ${steps}`);
    const examples = request.examples.map((text) => text.trim()).filter((text) => text.length > 0);
    if (examples.length === 0) throw new Error('type at least one example text');
    if (heldout.trim().length === 0) throw new Error('type a held-out text to measure the side effects on');

    const notices: string[] = [];
    const ids: Int32Array[] = examples.map((text, e) => {
      // One token past P + 1 tells a cut example from one of exactly P + 1.
      const { ids: prefix, complete } = unwrap(engine.tokenizePrefix(text, P + 2), `example ${e + 1}`);
      if (!complete || prefix.length > P + 1) {
        notices.push(`Example ${e + 1} is longer than ${P + 1} tokens (the model's context is ${P}): only its first ${P + 1} tokens are used.`);
      }
      return prefix.slice(0, P + 1);
    });
    const held = unwrap(engine.tokenizePrefix(heldout, P + 1), 'held-out text');
    if (!held.complete || held.ids.length > P) notices.push(`The held-out text is longer than ${P} tokens: only its first ${P} are measured.`);
    const heldIds = held.ids.slice(0, P);
    if (heldIds.length < 2) throw new Error('the held-out text needs at least 2 tokens');

    const lengths = Int32Array.from(ids, (x) => x.length);
    const all = new Int32Array(lengths.reduce((a, b) => a + b, 0));
    ids.reduce((at, x) => (all.set(x, at), at + x.length), 0);
    const run = unwrap(engine.finetuneStart(heads, all, lengths, lr), '', ENGINE_PREFIXES);
    const job = new FineTuneJob(engine, model, request, ids, heldIds, notices, { model: model.name, steps, loss: run.loss });
    job.computeMs = performance.now() - t0;
    return job;
  }

  get modelName(): string {
    return this.model.name;
  }

  /** The next steps for about budgetMs (at least one): their losses, and how far the run is. */
  part(budgetMs = FINETUNE_PART_MS): FineTunePart {
    const t0 = performance.now();
    const total = this.request.steps;
    const first = this.stepsDone;
    const step = () => {
      this.losses[this.stepsDone++] = unwrap(this.engine.finetuneStep(1), '', ENGINE_PREFIXES).losses[0]!;
      return { done: this.stepsDone === total };
    };
    try {
      if (this.stepsDone < total) partsWithin(step, budgetMs, t0);
    } catch (error) {
      this.cancel();
      throw error;
    }
    const compute_ms = performance.now() - t0;
    this.computeMs += compute_ms;
    return {
      model: this.model.name,
      cancelled: false,
      steps_done: this.stepsDone,
      steps_total: total,
      losses: this.losses.slice(first, this.stepsDone),
      done: this.stepsDone === total,
      compute_ms,
    };
  }

  /** After the last part: the effects, the fine-tuned model's files (and the original's if asked); the run is released. */
  finish(): FineTuneReply {
    const t0 = performance.now();
    if (this.stepsDone < this.request.steps)
      throw new Error(`the fine-tuning has run ${this.stepsDone} of ${this.request.steps} steps: it cannot finish yet`);
    const { engine, model, request, ids } = this;
    const P = model.n_positions;
    // The reader's own files cannot be fetched again: their weights go with
    // the reply (a copy, F32) for Undo. A served model is reopened by name.
    const original = request.keep_original ? unwrap(engine.modelFiles(), 'the original weights').safetensors : null;
    const done = unwrap(engine.finetuneFinish(this.heldIds), '', ENGINE_PREFIXES);
    const example_tokens = ids.map((x) => tokenTexts(engine, x.slice(0, Math.min(x.length, P))));
    return {
      model: model.name,
      heads: request.heads,
      losses: this.losses,
      notices: this.notices,
      examples_loss_before: done.examples_loss_before,
      examples_loss_after: done.examples_loss_after,
      heldout_loss_before: done.heldout_loss_before,
      heldout_loss_after: done.heldout_loss_after,
      heldout_tokens: done.heldout_tokens,
      moved: done.moved,
      example_tokens,
      edited_before: done.edited_before,
      edited_after: done.edited_after,
      config_json: done.config_json,
      safetensors: done.safetensors,
      original_safetensors: original,
      vocab_json: model.vocabJson,
      merges_txt: model.mergesTxt,
      compute_ms: this.computeMs + performance.now() - t0,
    };
  }

  /** Drops the engine's run: the loaded model was never written to. */
  cancel(): void {
    this.engine.finetuneCancel();
  }
}

/** The answer to a part of a run that is gone (cancelled, or of a model no longer loaded). */
export function cancelledFineTunePart(model: string): FineTunePart {
  return { model, cancelled: true, steps_done: 0, steps_total: 0, losses: new Float32Array(0), done: false, compute_ms: 0 };
}
