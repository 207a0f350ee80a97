// Loads build/wasm/headlight.{js,wasm} into Node, and reads model folders.
//
// The module is built for the page (-sMODULARIZE -sENVIRONMENT=web,worker;
// EXPORT_ES6 is broken in this Emscripten), so Node cannot import it. Its
// source is a classic script that defines `createHeadlight` and, when a
// CommonJS `module` is in scope, assigns it to module.exports. We evaluate it
// as a function body with such a `module` and hand it the .wasm bytes
// (wasmBinary), so it never tries to fetch anything. It runs in this realm
// (not a vm context) so the typed arrays it returns are this realm's
// Float32Array/Int32Array and the Uint8Array we pass passes its instanceof.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// HEADLIGHT_WASM_DIR points at another build folder (e.g. a developer's own).
export const WASM_DIR = process.env.HEADLIGHT_WASM_DIR ?? path.join(REPO_ROOT, 'build/wasm');

let cachedFactory = null;

// The createHeadlight factory of build/wasm/headlight.js.
export function loadFactory(wasmDir = WASM_DIR) {
  if (cachedFactory && wasmDir === WASM_DIR) return cachedFactory;
  const jsPath = path.join(wasmDir, 'headlight.js');
  if (!existsSync(jsPath)) {
    throw new Error(`${jsPath} is missing: build it with scripts/build-wasm.sh`);
  }
  const factory = scriptFactory(jsPath);
  if (wasmDir === WASM_DIR) cachedFactory = factory;
  return factory;
}

// The factory a MODULARIZE'd script at jsPath defines (see the top).
export function scriptFactory(jsPath) {
  const source = readFileSync(jsPath, 'utf8');
  const module = { exports: {} };
  // Neither `window` nor `importScripts` exists in Node, so the script takes
  // no browser path; with wasmBinary given it needs only JS built-ins.
  new Function('module', 'exports', `${source}\n//# sourceURL=${jsPath}`)(module, module.exports);
  const factory = module.exports;
  if (typeof factory !== 'function') throw new Error(`${jsPath} did not define a module factory`);
  return factory;
}

// A fresh live-trainer module (build/wasm/headlight-train.{js,wasm}).
export async function createTrainModule(wasmDir = WASM_DIR) {
  const jsPath = path.join(wasmDir, 'headlight-train.js');
  if (!existsSync(jsPath)) throw new Error(`${jsPath} is missing: build it with scripts/build-wasm.sh`);
  return scriptFactory(jsPath)({ wasmBinary: readFileSync(path.join(wasmDir, 'headlight-train.wasm')) });
}

// A fresh module instance (its own wasm memory). Each call compiles and
// instantiates the .wasm again, so benchmarks can measure memory per case.
export async function createModule(wasmDir = WASM_DIR) {
  const factory = loadFactory(wasmDir);
  const wasmBinary = readFileSync(path.join(wasmDir, 'headlight.wasm'));
  return factory({ wasmBinary });
}

// The four files of a model folder as loadModel takes them.
export function readModelFolder(dir) {
  return {
    configJson: readFileSync(path.join(dir, 'config.json'), 'utf8'),
    safetensors: new Uint8Array(readFileSync(path.join(dir, 'model.safetensors'))),
    vocabJson: readFileSync(path.join(dir, 'vocab.json'), 'utf8'),
    mergesTxt: readFileSync(path.join(dir, 'merges.txt'), 'utf8'),
  };
}

// engine.loadModel on a folder read with readModelFolder.
export function loadFolder(engine, files) {
  return engine.loadModel(files.configJson, files.safetensors, files.vocabJson, files.mergesTxt);
}

// Throws with the engine's message when a result is { ok: false }.
export function expectOk(result, what) {
  if (!result || result.ok !== true) {
    throw new Error(`${what} failed: ${result ? result.error : 'no result'}`);
  }
  return result;
}

// An engine with the model folder `dir` loaded, `text` tokenized and run
// with one head's gain set (layer, head, gain): what the binding tests
// compare with the float64 reference run with the same gains ([L x H], also
// returned). Returns { Module, engine, info, ids, gains }.
export async function engineWithEditedHead(dir, text, { layer, head, gain }, topK = 5) {
  const Module = await createModule();
  const engine = new Module.Engine();
  const info = expectOk(loadFolder(engine, readModelFolder(dir)), 'loadModel');
  const ids = expectOk(engine.tokenize(text), 'tokenize').ids;
  expectOk(engine.setHeadGain(layer, head, gain), 'setHeadGain');
  expectOk(engine.run(ids, topK), 'run');
  const gains = new Float64Array(info.n_layer * info.n_head).fill(1);
  gains[layer * info.n_head + head] = gain;
  return { Module, engine, info, ids, gains };
}
