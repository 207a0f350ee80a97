/**
 * The engine worker: a message loop that answers the requests of
 * protocol.ts in arrival order. It loads the wasm module and the model files;
 * what a request computes is EngineCache's (engine-cache.ts). Everything slow
 * (downloads, forward passes) happens here, so the page never blocks.
 *
 * A classic worker on purpose: build/wasm/headlight.js is a MODULARIZE'd
 * script (not an ES module) and the page's CSP forbids eval, so importScripts
 * is the CSP-safe way to load it; Vite bundles this file's imports into it
 * (vite.config.ts worker.format 'iife').
 */
import { CircuitCache } from './circuit-cache';
import { cancelledCopyingPart, copyingAtLoad } from './copying-parts';
import { cancelledSyntaxPart } from './syntax-parts';
import { EngineCache } from './engine-cache';
import { unwrap } from './engine-calls';
import { composition, headArithmetic } from './pass-questions';
import { gradientOf, pruningOf, scanByLayer } from './importance-jobs';
import { fetchBytes, fetchModelFiles, fetchText } from './fetch-bytes';
import { explainLoadError } from './open-local';
import { RunCompare } from './run-compare';
import { cancelledFineTunePart, FineTuneJob } from './finetune-job';
import { formatBytes } from '../state/format';
import type { Engine, HeadlightModule, HeadlightModuleOptions } from './headlight-wasm';
import type {
  LoadedModel,
  LocalModelFiles,
  Method,
  Methods,
  PartialOf,
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

/** Everything the worker holds: the wasm module, then the loaded model's engine and cache. */
const worker: {
  headlight: HeadlightModule | null;
  cache: EngineCache | null;
  /** The circuit requests on the same engine (lens, patching). */
  circuits: CircuitCache | null;
  /** Numbers the attention sent, across models (EngineCache). */
  attentionVersions: { next: number };
  /** One request at a time, in order: a model load that awaits downloads must not interleave with a forward pass. */
  queue: Promise<void>;
  /** Why the module aborted (onAbort), if it did: every later call would fail. */
  aborted: string | null;
  /** Probe files read so far (the syntax probe), by url. */
  probes: Map<string, string>;
  /** The importance jobs a 'cancel' named (Methods.cancel), until the job sees it. */
  cancelledJobs: Set<number>;
  /** Compare two runs, with the other model of a pair of models (run-compare.ts). */
  runs: RunCompare | null;
  /** The loaded model's engine and tokenizer files: fine-tuning writes a model folder of its own. */
  loaded: { engine: Engine; vocabJson: string; mergesTxt: string } | null;
  /** The fine-tuning run the page is stepping in parts, on the loaded model (finetune-job.ts). */
  finetune: FineTuneJob | null;
} = {
  headlight: null,
  cache: null,
  circuits: null,
  attentionVersions: { next: 1 },
  queue: Promise.resolve(),
  aborted: null,
  probes: new Map(),
  cancelledJobs: new Set(),
  runs: null,
  loaded: null,
  finetune: null,
};

type Handler<M extends Method> = (
  params: Methods[M]['params'],
  report: (progress: Progress) => void,
  sendPartial: (partial: PartialOf<M>) => void,
) => Promise<Methods[M]['result']> | Methods[M]['result'];

const handlers: { [M in Method]: Handler<M> } = {
  async init({ scriptUrl, wasmUrl }, report) {
    const t0 = performance.now();
    if (!worker.headlight) {
      const wasmBinary = await fetchBytes(wasmUrl, 'engine (headlight.wasm)', report);
      scope.importScripts(scriptUrl);
      const create = scope.createHeadlight;
      if (typeof create !== 'function') {
        throw new Error(`${scriptUrl} did not define createHeadlight`);
      }
      worker.headlight = await create({
        wasmBinary,
        locateFile: (path) => new URL(path, wasmUrl).href,
        onAbort: (what) => {
          worker.aborted = String(what ?? 'abort');
        },
      });
    }
    return { init_ms: performance.now() - t0 };
  },

  async loadModel({ name, baseUrl }, report) {
    if (!worker.headlight) throw new Error('the engine is not loaded yet');
    const t0 = performance.now();
    return installModel(await fetchModelFiles(name, baseUrl, report), t0, report);
  },

  estimateMemory({ configJson, safetensorsBytes }) {
    if (!worker.headlight) throw new Error('the engine is not loaded yet');
    // The engine's message names the file ("config.json: missing n_head").
    return unwrap(worker.headlight.estimateMemory(configJson, safetensorsBytes), '', /^estimateMemory: /);
  },

  loadModelFiles(files, report) {
    if (!worker.headlight) throw new Error('the engine is not loaded yet');
    return installModel(files, performance.now(), report);
  },

  analyze(params, _report, sendPartial) {
    const result = loadedCache().analyze(params, sendPartial);
    result.core.engine_bytes = worker.headlight!.memoryBytes();
    return result;
  },

  async syntaxPart({ model, probeUrl }, report) {
    let probe = worker.probes.get(probeUrl);
    if (probe === undefined) {
      probe = await fetchText(probeUrl, 'syntax probe', report);
      worker.probes.set(probeUrl, probe);
    }
    // A part asked for before another model was loaded: that run is gone.
    const cache = worker.cache;
    return cache && cache.model.name === model ? cache.syntaxPart(probe) : cancelledSyntaxPart(model);
  },

  finetuneStart(request) {
    const cache = loadedCache();
    const { engine, vocabJson, mergesTxt } = worker.loaded!;
    worker.finetune = null;  // the engine's start replaces a run it held
    worker.finetune = FineTuneJob.start(engine, { ...cache.model, vocabJson, mergesTxt }, request);
    return worker.finetune.started;
  },

  finetunePart({ model }) {
    // A part asked for after a cancel or another model's load: that run is gone.
    const job = worker.finetune;
    if (!job || job.modelName !== model) return cancelledFineTunePart(model);
    try {
      return job.part();
    } catch (error) {
      worker.finetune = null;
      throw error;
    }
  },

  finetuneFinish({ model }) {
    const job = worker.finetune;
    if (!job || job.modelName !== model) throw new Error('the fine-tuning was cancelled: another model was opened');
    worker.finetune = null;
    return job.finish();
  },

  finetuneCancel() {
    const job = worker.finetune;
    worker.finetune = null;
    job?.cancel();
    return { cancelled: job !== null };
  },

  prepare(params) {
    const cache = worker.cache;
    if (!cache) return { prepared: false, compute_ms: 0 };
    const result = cache.prepare(params);
    // The rest of that pass while the reader has not clicked yet (a model
    // loaded since has no prepared edit: then this does nothing).
    if (result.prepared) setTimeout(() => worker.cache?.finishPrepared(), 0);
    return result;
  },

  headArithmetic(params) {
    return headArithmetic(loadedCache(), params);
  },

  composition(params) {
    return composition(loadedCache(), params);
  },

  async importance({ job, kind, text, gains, means, position, compareWith }, report) {
    const cache = loadedCache();
    const { engine, ids } = cache.engineWithEdits(text, gains, means);
    if (kind === 'gradient') {
      const compare = compareWith && { with: compareWith, spearmanRho: worker.headlight!.spearmanRho.bind(worker.headlight) };
      return gradientOf(engine, cache.model, ids, compare);
    }
    try {
      return await scanByLayer(engine, cache.model, ids, kind, position, report, () => worker.cancelledJobs.has(job));
    } finally {
      worker.cancelledJobs.delete(job);
    }
  },

  async pruning({ job, text, gains, means, mode, rescanEvery, seed }, report) {
    const cache = loadedCache();
    const { engine, ids } = cache.engineWithEdits(text, gains, means);
    try {
      return await pruningOf(engine, cache.model, ids, mode, rescanEvery, seed, report, () => worker.cancelledJobs.has(job));
    } finally {
      worker.cancelledJobs.delete(job);
    }
  },

  // Handled as it arrives, not in the queue (see the message listener).
  cancel({ job }) {
    worker.cancelledJobs.add(job);
    return { cancelled: true };
  },

  lens(params) {
    return loadedCircuits().lens(params);
  },

  patchMaps(params) {
    return loadedCircuits().patchMaps(params);
  },

  patchedRun(params) {
    return loadedCircuits().patchedRun(params);
  },

  compareRuns(params, report) {
    worker.runs ??= new RunCompare(worker.headlight!);
    return worker.runs.compare(loadedCache(), params, (name, baseUrl) => fetchModelFiles(name, baseUrl, report));
  },

  copyingPart({ model }) {
    // A part asked for before another model was loaded: that run is gone.
    const cache = worker.cache;
    return cache && cache.model.name === model ? cache.copyingPart() : cancelledCopyingPart(model);
  },

  releaseCompare() {
    return { released: worker.runs?.release() ?? false };
  },
};

function loadedCache(): EngineCache {
  if (!worker.cache) throw new Error('no model is loaded');
  return worker.cache;
}

function loadedCircuits(): CircuitCache {
  if (!worker.circuits) throw new Error('no model is loaded');
  return worker.circuits;
}

/** Swaps in a model from its four files; the previous model stays if they are bad. */
function installModel(files: LocalModelFiles, t0: number, report: (progress: Progress) => void): LoadedModel {
  const { name, configJson, safetensors, vocabJson, mergesTxt } = files;
  // Parsing, converting to f32 and packing is one synchronous engine call:
  // no byte count to show, so the page counts the seconds of this step.
  report({ label: `converting and packing ${formatBytes(safetensors.length)} of weights`, loaded: 0, total: 0, timed: true });
  // A fresh engine: if this model is bad, the one already loaded keeps working.
  const fresh = new worker.headlight!.Engine();
  let info;
  let copying;
  try {
    info = unwrap(
      fresh.loadModel(configJson, safetensors, vocabJson, mergesTxt),
      `Model "${name}" could not be loaded`,
    );
    // The copying scores depend on the weights alone: once per model, in this
    // timed step, when that is quick (the shipped models: tens of ms). Their
    // cost is V·C² + L·C³ multiply-adds: on the GPT-2-small shape (3·10¹⁰) it
    // would add seconds to every load, so such a model is shown without them
    // and the page asks for them in parts after (copyingPart).
    if (copyingAtLoad(info)) {
      copying = unwrap(fresh.copyingScores(), `Model "${name}": copying scores`).copying;
    }
  } catch (error) {
    fresh.delete();
    // A cut-short file says so in a plain sentence first.
    throw new Error(explainLoadError(error instanceof Error ? error.message : String(error)));
  }
  const bytes = safetensors.length + configJson.length + vocabJson.length + mergesTxt.length;
  const model: LoadedModel = {
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
    copying,
  };
  worker.cache?.delete();  // and the old engine with it, a fine-tuning run it held included
  worker.finetune = null;
  worker.runs?.release();  // a pair of models is of the model loaded before
  worker.cache = new EngineCache(fresh, model, worker.attentionVersions);
  worker.circuits = new CircuitCache(fresh, worker.cache, model);
  worker.loaded = { engine: fresh, vocabJson, mergesTxt };
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
    // A trap (out of bounds, unreachable) or an abort leaves the module's
    // memory in an unknown state: the page must start a new worker.
    if (worker.aborted !== null || error instanceof WebAssembly.RuntimeError) {
      const why = worker.aborted ?? text;
      scope.postMessage({ id, kind: 'error', error: why || 'abort', fatal: true });
      return;
    }
    scope.postMessage({ id, kind: 'error', error: text || 'unknown engine error' });
  }
}

scope.addEventListener('message', (event) => {
  const message = event.data;
  // A cancel must not wait behind the scan it stops: the scan yields between
  // layers, so this runs then.
  if (message.method === 'cancel') void handle(message);
  else worker.queue = worker.queue.then(() => handle(message));
});
