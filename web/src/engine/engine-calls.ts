/**
 * Small helpers for calling the wasm engine from the workers' side
 * (engine-cache.ts, importance-jobs.ts, pass-questions.ts, finetune-job.ts,
 * train-worker.ts): a result or a named Error, JS-owned typed arrays,
 * token texts and the tokenizing bound.
 */
import type { Engine } from './headlight-wasm';

/**
 * The success case of an { ok } answer of a wasm module (the engine's, the
 * trainer's), or an Error with its message. The bindings' messages start
 * with the method's name (js_values.h guarded: "finetuneStart: fine-tune:
 * head 9.0 is outside ..."). prefix: what failed, said first
 * (`${prefix}: ${message}`); '' leaves the message as the module gave it.
 * drop: a leading part of the message the reader need not see (the
 * method's name, a core area's tag), taken off before the prefix is put on.
 */
export function unwrap<T extends { ok: boolean }>(result: T | { ok: false; error: string }, prefix = '', drop?: RegExp) {
  if (!result.ok) {
    const error = (result as { error: string }).error;
    const message = drop ? error.replace(drop, '') : error;
    throw new Error(prefix ? `${prefix}: ${message}` : message);
  }
  return result as Exclude<T, { ok: false }>;
}

/**
 * Typed arrays from Embind are JS-owned copies: a message transfers each
 * buffer once, and anything that is only a view of a larger buffer is copied
 * (never move wasm memory).
 */
export function owned<T extends Int32Array | Float32Array>(array: T): T {
  const whole = array.byteOffset === 0 && array.buffer.byteLength === array.byteLength;
  return whole && array.buffer instanceof ArrayBuffer ? array : (array.slice() as T);
}

/** Element-wise equality of two number arrays. */
export function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Display text of each id, decoded alone (a piece of a UTF-8 character shows as U+FFFD). */
export function tokenTexts(engine: Engine, ids: Int32Array): string[] {
  return Array.from(ids, (id) => unwrap(engine.decode(new Int32Array([id])), 'decode').text);
}

/** How far a text is tokenized (wasm/core/tokenizer.h kTokensCounted). */
export const TOKENS_COUNTED = 65536;
