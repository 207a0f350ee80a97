/**
 * Fine-tune heads, as the worker runs it (wasm/core/head_finetune.h): the
 * example texts tokenized (each cut to n_positions + 1 tokens, with a
 * notice), the engine's run stepped one AdamW step at a time with a
 * progress message after each, then its effects and both models' files.
 * No worker scope here: the Node tests drive it over the real wasm engine
 * (tests/node/finetune.test.mjs). Shapes: L = n_layer, H = n_head.
 */
import type { Engine } from './headlight-wasm';
import { tokenTexts, unwrap } from './engine-calls';
import type { FineTuneReply, FineTuneRequest, Progress } from './protocol';

/** What the job needs of the loaded model: its name, context, and tokenizer files (for the new folder). */
export interface FineTuneModel {
  name: string;
  n_positions: number;
  vocabJson: string;
  mergesTxt: string;
}

/** The most steps one request may ask for (a few seconds each on the largest shipped model). */
export const MAX_FINETUNE_STEPS = 500;

/** The engine's answer, or its message without the method's and core's prefixes ("finetuneStart: fine-tune: "). */
function answer<T extends { ok: boolean }>(result: T | { ok: false; error: string }): Exclude<T, { ok: false }> {
  if (!result.ok) throw new Error((result as { error: string }).error.replace(/^\w+: (fine-tune: )?/, ''));
  return result as Exclude<T, { ok: false }>;
}

/** Lets the worker post the progress message before the next step. */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export async function finetuneHeads(
  engine: Engine,
  model: FineTuneModel,
  request: FineTuneRequest,
  report: (progress: Progress) => void,
): Promise<FineTuneReply> {
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
  answer(engine.finetuneStart(heads, all, lengths, lr));
  const losses = new Float32Array(steps);
  try {
    for (let step = 0; step < steps; step++) {
      const done = answer(engine.finetuneStep(1));
      losses[step] = done.losses[0]!;
      report({ label: `step ${step + 1} of ${steps}, loss ${losses[step]!.toFixed(3)}`, loaded: step + 1, total: steps });
      await nextTask();
    }
  } catch (error) {
    engine.finetuneCancel();
    throw error;
  }
  const done = answer(engine.finetuneFinish(heldIds));
  const example_tokens = ids.map((x) => tokenTexts(engine, x.slice(0, Math.min(x.length, P))));
  return {
    model: model.name,
    heads,
    losses,
    notices,
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
    original_safetensors: done.original_safetensors,
    vocab_json: model.vocabJson,
    merges_txt: model.mergesTxt,
    compute_ms: performance.now() - t0,
  };
}
