// A cut-short or damaged model.safetensors (web/src/engine/open-local.ts
// explainLoadError): every error of that family, whether the page's own
// header check or the engine's (wasm/core/safetensors.cpp, messages as the
// worker passes them on), starts with one plain sentence; other errors are
// left as they are.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importTs } from './ts-import.mjs';

const m = await importTs('web/src/engine/open-local.ts');
const SENTENCE = 'model.safetensors is cut short or damaged';

test('the cut-short family gets the plain sentence first, once', () => {
  const family = [
    `Model "gpt2 (your files)" could not be loaded: loadModel: safetensors: tensor 'h.1.mlp.c_fc.bias': data_offsets [1000, 4072] outside the data section of 2048 bytes`,
    'Model "x" could not be loaded: loadModel: safetensors: header length 9000 past end of file (100 bytes follow the length; file truncated or not safetensors)',
    'Model "x" could not be loaded: loadModel: safetensors: file truncated: 5 bytes, shorter than the 8-byte header length',
    `Model "x" could not be loaded: loadModel: safetensors: tensor 'wte.weight' does not fit this file's data`,
  ];
  for (const message of family) {
    const explained = m.explainLoadError(message);
    console.log(`  ${explained.slice(0, 140)}…`);
    assert.ok(explained.startsWith(SENTENCE), explained);
    assert.ok(explained.endsWith(message), 'the engine message follows in full');
    assert.equal(m.explainLoadError(explained), explained, 'explaining twice adds nothing');
  }
});

test('other load errors are left unchanged', () => {
  const others = [
    'Model "x" could not be loaded: loadModel: config.json: n_embd 66 is not divisible by n_head 4',
    `Model "x" could not be loaded: loadModel: safetensors: tensor 'wte.weight': unsupported dtype 'I8'`,
    'Missing merges.txt.',
  ];
  for (const message of others) assert.equal(m.explainLoadError(message), message);
  console.log(`  ${others.length} other messages unchanged`);
});

test('the page\'s own header check says it too when the header runs past the end', async () => {
  const bytes = new Uint8Array(64);
  new DataView(bytes.buffer).setBigUint64(0, 4000n, true);  // 4000-byte header in a 64-byte file
  await assert.rejects(m.checkSafetensorsHeader(new File([bytes], 'model.safetensors')), (error) => {
    console.log(`  ${error.message}`);
    assert.ok(error.message.startsWith(SENTENCE));
    assert.match(error.message, /header length reads as 4000 bytes, but only 56 bytes follow/);
    return true;
  });
});
