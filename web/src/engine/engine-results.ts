/**
 * The two ways the worker side takes an engine call's answer: unwrap (the
 * success case, or an Error naming the call) and owned (typed arrays a
 * message may transfer). Used by the engine cache and the circuits cache.
 */
/** The success case of an engine call, or an Error naming `what` and the engine's message. */
export function unwrap<T extends { ok: boolean }>(result: T | { ok: false; error: string }, what: string) {
  if (!result.ok) throw new Error(`${what}: ${(result as { error: string }).error}`);
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
