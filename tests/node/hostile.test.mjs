// Hostile model files through the wasm engine's public API (issue 19): a
// config.json or safetensors header nested 10,000 levels deep gets an
// { ok: false } answer naming the problem (it used to throw a raw RangeError
// and leak about 0.47 MB a throw), and the loaded model keeps working.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from './wasm-helpers.mjs';

const MB = 1024 * 1024;
const DEEP = '['.repeat(10000) + ']'.repeat(10000);

function safetensorsWithHeader(header) {
  const text = new TextEncoder().encode(header);
  const file = new Uint8Array(8 + text.length);
  new DataView(file.buffer).setBigUint64(0, BigInt(text.length), true);
  file.set(text, 8);
  return file;
}

test('deeply nested JSON in a model folder: a named error, no leak, the model keeps running', async () => {
  const Module = await createModule();
  const engine = new Module.Engine();
  const good = readModelFolder(path.join(REPO_ROOT, 'tests/fixtures/tiny-gpt'));
  expectOk(loadFolder(engine, good), 'loadModel tiny-gpt');
  const { ids } = expectOk(engine.tokenize('Hello there'), 'tokenize');

  const deepConfig = `{"n_layer": ${DEEP}}`;
  const deepHeader = safetensorsWithHeader(`{"a": ${DEEP}}`);
  let memoryAfterFirst = 0;
  const rounds = 40;
  for (let i = 0; i < rounds; ++i) {
    const estimate = Module.estimateMemory(deepConfig, 100);
    assert.equal(estimate.ok, false);
    assert.match(estimate.error, /config\.json is nested deeper than 32 levels$/);
    const load = engine.loadModel(good.configJson, deepHeader, good.vocabJson, good.mergesTxt);
    assert.equal(load.ok, false);
    assert.match(load.error, /safetensors: header is nested deeper than 32 levels/);
    if (i === 0) memoryAfterFirst = Module.memoryBytes();
  }
  const grew = (Module.memoryBytes() - memoryAfterFirst) / MB;
  console.log(`${rounds} rounds of both errors: wasm memory grew ${grew.toFixed(2)} MB; ` +
    `"${Module.estimateMemory(deepConfig, 100).error}"`);
  assert.ok(grew < 1, `wasm memory grew ${grew} MB`);

  // The model loaded before the errors still tokenizes and runs.
  const again = expectOk(engine.tokenize('Hello there'), 'tokenize after');
  assert.deepEqual(Array.from(again.ids), Array.from(ids));
  expectOk(engine.run(again.ids, 5), 'run after');
});
