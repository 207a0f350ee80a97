/**
 * The engine worker: owns the wasm module and the one loaded model, answers
 * the requests of protocol.ts in arrival order. Everything slow (downloads,
 * forward passes) happens here, so the page never blocks.
 *
 * A classic worker on purpose: build/wasm/headlight.js is a MODULARIZE'd
 * script (not an ES module) and the page's CSP forbids eval, so importScripts
 * is the CSP-safe way to load it. Only type imports below.
 */
import type { Engine, HeadlightModule, HeadlightModuleOptions } from './headlight-wasm';
import type {
  AnalysisCore,
  AttentionPart,
  Baseline,
  LoadedModel,
  LocalModelFiles,
  Method,
  Methods,
  PartialOf,
  PredictionsPart,
  Progress,
  RequestMessage,
  ResponseMessage,
} from './protocol';

// The parts of DedicatedWorkerGlobalScope used here (the page's tsconfig has
// the DOM lib, not the WebWorker lib).
interface WorkerScope {
  importScripts(...urls: string[]): void;
  postMessage(message: ResponseMessage, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<RequestMessage>) => void): void;
  createHeadlight?: (options?: HeadlightModuleOptions) => Promise<HeadlightModule>;
}
const scope = self as unknown as WorkerScope;

const PROGRESS_INTERVAL_MS = 50;

let headlight: HeadlightModule | null = null;
let engine: Engine | null = null;
let model: LoadedModel | null = null;
// What the engine holds now, so analyze() redoes only what changed.
let lastText: string | null = null;
let lastIds: Int32Array | null = null;
let lastTopK = 0;
let engineGains: Float32Array | null = null;  // [L x H]
// The version of the attention last sent to the page (AttentionPart), while
// it is still the engine's trace; 0 = none (not sent yet, or the engine ran
// since). A request that names it gets only the layers a rerun changed.
let attentionVersion = 0;
let nextAttentionVersion = 1;

// The unedited model on lastIds (see Baseline), recomputed only when the
// text, top-k or model changes.
interface BaselineCache {
  ids: Int32Array;              // [T] the tokens run
  data: Omit<Baseline, 'probs_of_top_k'>;
  logits: Float32Array | null;  // [T x V] unedited logits, when small enough
  lse: Float32Array | null;     // [T] log-sum-exp of each logits row
  vocab_size: number;
}
let baseline: BaselineCache | null = null;
// Above this many floats (T x V) the unedited logits are not kept: ghost bars
// then show only for tokens that are also in the unedited top-k.
const MAX_BASELINE_LOGITS = 16 * 1024 * 1024;

// A head edit computed ahead of its click ('prepare'): the predictions the
// rerun's first phase gave for these gains at this position, from the trace
// the page holds. The engine's trace is then that pass (its other positions
// possibly still pending), so an analyze with the same gains and position
// posts these at once; any other request reruns from the trace as it is,
// which the session tracks like any other pass.
interface PreparedEdit {
  ids: Int32Array;       // lastIds when it was computed
  topK: number;
  gains: Float32Array;   // [L x H]
  at: { position: number; from_layer: number; top_k_ids: Int32Array; top_k_probs: Float32Array;
    top_k_tokens: string[]; loss: number };
  computeMs: number;
}
let prepared: PreparedEdit | null = null;
// The gains of the last analyze, whose attention the page holds: with
// prepare calls since, the engine has run other gains in between, so the
// layers whose attention an analyze changes are found from these.
let analyzedGains: Float32Array | null = null;

type Handler<M extends Method> = (
  params: Methods[M]['params'],
  report: (progress: Progress) => void,
  sendPartial: (partial: PartialOf<M>) => void,
) => Promise<Methods[M]['result']> | Methods[M]['result'];

function unwrap<T extends { ok: boolean }>(result: T | { ok: false; error: string }, what: string) {
  if (!result.ok) throw new Error(`${what}: ${(result as { error: string }).error}`);
  return result as Exclude<T, { ok: false }>;
}

async function fetchBytes(url: string, label: string, report: (p: Progress) => void) {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`could not download ${label} (${url}): HTTP ${response.status}`);
  }
  const total = Number(response.headers.get('content-length')) || 0;
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    report({ label, loaded: bytes.length, total: bytes.length });
    return bytes;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  let lastReport = 0;
  report({ label, loaded: 0, total });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    const now = performance.now();
    if (now - lastReport >= PROGRESS_INTERVAL_MS) {
      lastReport = now;
      report({ label, loaded, total });
    }
  }
  report({ label, loaded, total: Math.max(total, loaded) });
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

async function fetchText(url: string, label: string, report: (p: Progress) => void) {
  return new TextDecoder('utf-8', { fatal: true }).decode(await fetchBytes(url, label, report));
}

/** Sets the engine's head gains to target ([L x H]), only those that differ. */
function setEngineGains(engine: Engine, target: ArrayLike<number>, n_head: number): void {
  for (let i = 0; i < target.length; i++) {
    const gain = target[i]!;
    if (engineGains![i] === gain) continue;
    const layer = Math.floor(i / n_head);
    const head = i % n_head;
    unwrap(engine.setHeadGain(layer, head, gain), `head ${layer}.${head}`);
    engineGains![i] = gain;
  }
}

function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The prepared edit, if it is the first phase of these ids, top-k, position
 * and gains on the trace the engine holds (its gains still those prepared).
 */
function preparedFor(ids: Int32Array, topK: number, t: number, gains: ArrayLike<number>): PreparedEdit | null {
  const ok =
    prepared && prepared.ids === ids && prepared.topK === topK && prepared.at.position === t &&
    sameValues(prepared.gains, gains) && engineGains && sameValues(engineGains, gains);
  return ok ? prepared : null;
}

/** The lowest layer with a head whose gain differs between a and b ([L x H]); L if none. */
function firstEditedLayer(a: ArrayLike<number>, b: ArrayLike<number>, n_head: number): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return Math.floor(i / n_head);
  return Math.floor(a.length / n_head);
}

// Typed arrays from Embind are JS-owned copies; transfer each buffer once, and
// copy anything that is only a view of a larger buffer (never move wasm memory).
function owned<T extends Int32Array | Float32Array>(array: T): T {
  const whole = array.byteOffset === 0 && array.buffer.byteLength === array.byteLength;
  return whole && array.buffer instanceof ArrayBuffer ? array : (array.slice() as T);
}

const handlers: { [M in Method]: Handler<M> } = {
  async init({ scriptUrl, wasmUrl }, report) {
    const t0 = performance.now();
    if (!headlight) {
      const wasmBinary = await fetchBytes(wasmUrl, 'engine (headlight.wasm)', report);
      scope.importScripts(scriptUrl);
      const create = scope.createHeadlight;
      if (typeof create !== 'function') {
        throw new Error(`${scriptUrl} did not define createHeadlight`);
      }
      headlight = await create({
        wasmBinary,
        locateFile: (path) => new URL(path, wasmUrl).href,
      });
    }
    return { init_ms: performance.now() - t0 };
  },

  async loadModel({ name, baseUrl }, report) {
    if (!headlight) throw new Error('the engine is not loaded yet');
    const t0 = performance.now();
    const file = (f: string) => new URL(f, baseUrl).href;
    const configJson = await fetchText(file('config.json'), 'config.json', report);
    const safetensors = await fetchBytes(file('model.safetensors'), 'model.safetensors', report);
    const vocabJson = await fetchText(file('vocab.json'), 'vocab.json', report);
    const mergesTxt = await fetchText(file('merges.txt'), 'merges.txt', report);
    return installModel({ name, configJson, safetensors, vocabJson, mergesTxt }, t0);
  },

  estimateMemory({ configJson, safetensorsBytes }) {
    if (!headlight) throw new Error('the engine is not loaded yet');
    const estimate = headlight.estimateMemory(configJson, safetensorsBytes);
    // The engine's message names the file ("config.json: missing n_head").
    if (!estimate.ok) throw new Error(estimate.error.replace(/^estimateMemory: /, ''));
    return estimate;
  },

  loadModelFiles(files, report) {
    if (!headlight) throw new Error('the engine is not loaded yet');
    // Converting and packing is one synchronous engine call: no byte count to show.
    report({ label: 'converting the weights', loaded: 0, total: 0 });
    return installModel(files, performance.now());
  },

  analyze({ text, gains, topK, position, heldAttention }, _report, sendPartial) {
    if (!engine || !model || !engineGains) throw new Error('no model is loaded');
    const { n_layer, n_head } = model;
    if (gains.length !== n_layer * n_head) {
      throw new Error(`expected ${n_layer * n_head} head gains (${n_layer} x ${n_head}), got ${gains.length}`);
    }
    if (text.length === 0) throw new Error('the text is empty: type something to run the model');

    // The attention the page holds matches the engine's trace only until the
    // engine runs again: from here on, until this request's attention is
    // sent, nothing the page holds may be the base of a delta.
    const baseVersion = attentionVersion;
    attentionVersion = 0;

    const t0 = performance.now();
    let ids = lastIds;
    if (text !== lastText || !ids) {
      ids = unwrap(engine.tokenize(text), 'tokenizer').ids;
      if (ids.length === 0) throw new Error('the text gave no tokens');
    }
    const t1 = performance.now();

    const setGains = (target: ArrayLike<number>) => setEngineGains(engine!, target, n_head);

    let rerunFrom: number;
    // True when only the head gains changed: the layers below rerunFrom keep
    // the attention of the previous pass.
    let rerun = false;
    let positionMs: number | null = null;
    let preparedMs: number | null = null;
    if (ids !== lastIds || topK !== lastTopK || !baseline) {
      lastText = null;
      lastIds = null;
      baseline = null;
      const edited = gains.some((gain) => gain !== 1);
      // First the unedited model (the ghost bars), then the edits on top of it
      // as an incremental rerun from the lowest edited layer.
      setGains(new Float32Array(gains.length).fill(1));
      unwrap(engine.run(ids, topK), 'forward pass');
      baseline = captureBaseline(engine);
      if (edited) {
        setGains(gains);
        unwrap(engine.update(), 'rerun after head edit');
      }
      lastText = text;
      lastIds = ids;
      lastTopK = topK;
      rerunFrom = 0;
    } else {
      // Same tokens, new gains: the rerun in two phases. First the edited
      // layers and the LM head at the shown position only, posted at once;
      // then the head at the other positions (a (T - 1) x vocab GEMM, about
      // a layer's worth of work) while the page paints the bars.
      const T = baseline.ids.length;
      const t = position >= 0 && position < T ? position : T - 1;
      const ready = preparedFor(ids, topK, t, gains);
      setGains(gains);
      const at = ready ? ready.at : unwrap(engine.updateAt(t), 'rerun after head edit');
      rerunFrom = at.from_layer;
      rerun = true;
      positionMs = performance.now() - t1;
      preparedMs = ready ? ready.computeMs : null;
      sendPartial({
        model: model.name,
        T,
        top_k: at.top_k_ids.length,
        ids: baseline.ids.slice(),
        position: at.position,
        top_k_ids: owned(at.top_k_ids),
        top_k_probs: owned(at.top_k_probs),
        top_k_tokens: at.top_k_tokens,
        loss: at.loss,
        gains: engineGains.slice(),
        baseline: {
          loss: baseline.data.loss[at.position]!,
          probs_of_top_k: baselineProbs(baseline, at.top_k_ids, at.position),
        },
        rerun_from_layer: rerunFrom,
        timing: { tokenize_ms: t1 - t0, position_ms: positionMs, prepared_ms: preparedMs },
      } satisfies PredictionsPart);
      unwrap(engine.finishUpdate(), 'rerun after head edit');
    }
    // The trace is this pass now: what was prepared before it is gone. The
    // attention changed above the lowest layer whose gains differ from the
    // last analyze's (a gain acts after its layer's attention), whatever
    // prepare calls ran in between.
    prepared = null;
    const attentionFrom = rerun && analyzedGains ? Math.min(n_layer, firstEditedLayer(analyzedGains, gains, n_head) + 1) : 0;
    analyzedGains = gains.slice();
    const t2 = performance.now();

    // Then everything: predictions and losses at every position, and the
    // attention (only the layers it changed when the page holds the
    // previous pass's attention, else all of it), in one message.
    const trace = unwrap(engine.getTraceWithoutAttention(), 'trace');
    const core: AnalysisCore = {
      model: model.name,
      T: trace.T,
      n_input_tokens: trace.n_input_tokens,
      truncated: trace.truncated,
      n_layer: trace.n_layer,
      n_head: trace.n_head,
      top_k: trace.top_k,
      ids: owned(trace.ids),
      tokens: trace.tokens,
      loss: owned(trace.loss),
      mean_loss: trace.mean_loss,
      top_k_ids: owned(trace.top_k_ids),
      top_k_probs: owned(trace.top_k_probs),
      top_k_tokens: trace.top_k_tokens,
      gains: owned(trace.gains),
      baseline: baselineFor(baseline, trace.top_k_ids, trace.T, trace.top_k),
      rerun_from_layer: rerunFrom,
      attention_from_layer: attentionFrom,
      timing: {
        tokenize_ms: t1 - t0,
        forward_ms: t2 - t1,
        position_ms: positionMs,
        prepared_ms: preparedMs,
        trace_ms: performance.now() - t2,
      },
    };

    const t3 = performance.now();
    const from = heldAttention !== 0 && heldAttention === baseVersion ? core.attention_from_layer : 0;
    const attn = readAttention(engine, from, n_layer, n_head, trace.T);
    attentionVersion = nextAttentionVersion++;
    const attention: AttentionPart = {
      version: attentionVersion,
      base_version: from > 0 ? baseVersion : 0,
      from_layer: from,
      attn,
      attention_ms: performance.now() - t3,
    };
    return { core, attention };
  },

  prepare({ text, gains, topK, position }) {
    // Only on the trace the page holds (same text and top-k, after its
    // first analyze), and only for gains other than the engine's own.
    if (!engine || !model || !engineGains || !baseline || !lastIds) return { prepared: false, compute_ms: 0 };
    if (text !== lastText || topK !== lastTopK || gains.length !== engineGains.length) {
      return { prepared: false, compute_ms: 0 };
    }
    const T = baseline.ids.length;
    const t = position >= 0 && position < T ? position : T - 1;
    if (preparedFor(lastIds, topK, t, gains)) return { prepared: true, compute_ms: 0 };
    if (sameValues(engineGains, gains)) return { prepared: false, compute_ms: 0 };
    const t0 = performance.now();
    setEngineGains(engine, gains, model.n_head);
    const at = unwrap(engine.updateAt(t), 'head edit prepared ahead of its click');
    const computeMs = performance.now() - t0;
    prepared = {
      ids: lastIds,
      topK,
      gains: gains.slice(),
      at: {
        position: at.position,
        from_layer: at.from_layer,
        top_k_ids: at.top_k_ids.slice(),
        top_k_probs: at.top_k_probs.slice(),
        top_k_tokens: at.top_k_tokens.slice(),
        loss: at.loss,
      },
      computeMs,
    };
    // The rest of that pass while the reader has not clicked yet: a click
    // on another head then reruns from a finished trace.
    setTimeout(() => {
      if (prepared && engine) unwrap(engine.finishUpdate(), 'head edit prepared ahead of its click');
    }, 0);
    return { prepared: true, compute_ms: computeMs };
  },
};

/**
 * Attention probabilities of layers [from, L) of the last pass,
 * [(L - from) x H x T x T], read one layer at a time (getAttention): never a
 * copy of the whole trace (GPT-2 at 1024 tokens has 604 MB of attention, and
 * a copy that fails names its layer).
 */
function readAttention(engine: Engine, from: number, n_layer: number, n_head: number, T: number): Float32Array {
  const perLayer = n_head * T * T;
  if (from >= n_layer) return new Float32Array(0);
  const layerAttention = (layer: number) => {
    const result = unwrap(engine.getAttention(layer), `attention of layer ${layer}`);
    if (result.attn.length !== perLayer) {
      throw new Error(`attention of layer ${layer}: ${result.attn.length} values, expected ${perLayer}`);
    }
    return result.attn;
  };
  // One layer: the engine's copy is the message's buffer.
  if (from === n_layer - 1) return owned(layerAttention(from));
  const attn = new Float32Array((n_layer - from) * perLayer);
  for (let layer = from; layer < n_layer; layer++) {
    attn.set(layerAttention(layer), (layer - from) * perLayer);
  }
  return attn;
}

function captureBaseline(engine: Engine): BaselineCache {
  // Without attention: the baseline keeps only losses and top-k, and the
  // attention of a large model is hundreds of MB (GPT-2 at 1024 tokens: 604 MB).
  const trace = unwrap(engine.getTraceWithoutAttention(), 'trace of the unedited model');
  let logits: Float32Array | null = null;
  let lse: Float32Array | null = null;
  let vocab_size = 0;
  if (model && trace.T * model.vocab_size <= MAX_BASELINE_LOGITS) {
    const result = unwrap(engine.getLogits(), 'logits of the unedited model');
    logits = result.logits;
    vocab_size = result.vocab_size;
    lse = new Float32Array(result.T);
    for (let t = 0; t < result.T; t++) {
      const row = t * vocab_size;
      let max = -Infinity;
      for (let v = 0; v < vocab_size; v++) max = Math.max(max, logits[row + v]!);
      let sum = 0;
      for (let v = 0; v < vocab_size; v++) sum += Math.exp(logits[row + v]! - max);
      lse[t] = max + Math.log(sum);
    }
  }
  // Copies: the cache outlives the analyses whose buffers are transferred.
  return {
    ids: trace.ids.slice(),
    data: {
      loss: trace.loss.slice(),
      mean_loss: trace.mean_loss,
      top_k_ids: trace.top_k_ids.slice(),
      top_k_probs: trace.top_k_probs.slice(),
      top_k_tokens: trace.top_k_tokens.slice(),
    },
    logits,
    lse,
    vocab_size,
  };
}

/** The cached baseline plus the unedited probability of each edited top-k token. */
function baselineFor(cache: BaselineCache | null, topKIds: Int32Array, T: number, K: number): Baseline {
  if (!cache) throw new Error('the unedited baseline is missing');
  const probs = new Float32Array(T * K);  // [T x K]
  for (let t = 0; t < T; t++) {
    probs.set(baselineProbs(cache, topKIds.subarray(t * K, (t + 1) * K), t), t * K);
  }
  // Copies of the cached arrays: the message transfers its buffers.
  const { data } = cache;
  return {
    loss: data.loss.slice(),
    mean_loss: data.mean_loss,
    top_k_ids: data.top_k_ids.slice(),
    top_k_probs: data.top_k_probs.slice(),
    top_k_tokens: data.top_k_tokens,
    probs_of_top_k: probs,
  };
}

/** [K] the unedited model's probability at position t of each id of `ids` ([K]); NaN where unknown. */
function baselineProbs(cache: BaselineCache, ids: Int32Array, t: number): Float32Array {
  const K = ids.length;
  const probs = new Float32Array(K).fill(NaN);
  const { logits, lse, vocab_size, data } = cache;
  for (let k = 0; k < K; k++) {
    const id = ids[k]!;
    if (logits && lse) {
      probs[k] = Math.exp(logits[t * vocab_size + id]! - lse[t]!);
      continue;
    }
    for (let j = 0; j < K; j++) {
      if (data.top_k_ids[t * K + j] === id) probs[k] = data.top_k_probs[t * K + j]!;
    }
  }
  return probs;
}

/** Swaps in a model from its four files; the previous model stays if they are bad. */
function installModel(files: LocalModelFiles, t0: number): LoadedModel {
  const { name, configJson, safetensors, vocabJson, mergesTxt } = files;
  // A fresh engine: if this model is bad, the one already loaded keeps working.
  const fresh = new headlight!.Engine();
  let info;
  try {
    info = unwrap(
      fresh.loadModel(configJson, safetensors, vocabJson, mergesTxt),
      `Model "${name}" could not be loaded`,
    );
  } catch (error) {
    fresh.delete();
    throw error;
  }
  engine?.delete();
  engine = fresh;
  lastText = null;
  lastIds = null;
  baseline = null;
  attentionVersion = 0;
  engineGains = new Float32Array(info.n_layer * info.n_head).fill(1);
  prepared = null;
  analyzedGains = null;
  const bytes = safetensors.length + configJson.length + vocabJson.length + mergesTxt.length;
  model = {
    name,
    bytes,
    load_ms: performance.now() - t0,
    n_layer: info.n_layer,
    n_head: info.n_head,
    n_embd: info.n_embd,
    n_positions: info.n_positions,
    vocab_size: info.vocab_size,
    attn_only: info.attn_only,
    n_params: info.n_params,
  };
  return model;
}

/**
 * The buffers of the typed arrays in `result` and in the plain objects it
 * holds (analyze's { core, attention }, core.baseline): each is transferred,
 * not copied. Arrays of strings are left to the structured clone.
 */
function transferables(result: unknown, buffers = new Set<ArrayBuffer>(), depth = 0): Transferable[] {
  if (!result || typeof result !== 'object' || depth > 2) return [...buffers];
  for (const value of Object.values(result)) {
    if (ArrayBuffer.isView(value)) {
      if (value.buffer instanceof ArrayBuffer) buffers.add(value.buffer);
    } else if (value && typeof value === 'object' && !Array.isArray(value)) {
      transferables(value, buffers, depth + 1);
    }
  }
  return [...buffers];
}

async function handle(message: RequestMessage): Promise<void> {
  const { id } = message;
  const report = (progress: Progress) => scope.postMessage({ id, kind: 'progress', progress });
  const sendPartial = (partial: PartialOf<Method>) =>
    scope.postMessage({ id, kind: 'partial', partial }, transferables(partial));
  try {
    const handler = handlers[message.method] as Handler<Method>;
    if (typeof handler !== 'function') throw new Error(`unknown method ${String(message.method)}`);
    const result = await handler(message.params as never, report, sendPartial);
    scope.postMessage({ id, kind: 'result', result }, transferables(result));
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    scope.postMessage({ id, kind: 'error', error: text || 'unknown engine error' });
  }
}

// One request at a time, in order: a model load that awaits downloads must
// not interleave with a forward pass.
let queue: Promise<void> = Promise.resolve();
scope.addEventListener('message', (event) => {
  const message = event.data;
  queue = queue.then(() => handle(message));
});
