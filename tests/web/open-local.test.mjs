// The checks "open your own model" makes before reading any weight
// (web/src/engine/open-local.ts): which files are missing, the safetensors
// header, and the refusal of a model too big for wasm memory.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importTs } from './ts-import.mjs';

const m = await importTs('web/src/engine/open-local.ts');

// A File whose webkitRelativePath is set, as a folder input gives it.
function fileIn(folder, name, content = 'x') {
  const file = new File([content], name);
  if (folder) Object.defineProperty(file, 'webkitRelativePath', { value: `${folder}/${name}` });
  return file;
}

test('the four files are found by name in a folder, extra files ignored', () => {
  const given = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt', 'README.md', 'tokenizer.json']
    .map((name) => fileIn('gpt2', name));
  const set = m.findModelFiles(given);
  assert.equal(set.folder, 'gpt2');
  assert.deepEqual(Object.keys(set.files), ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt']);
  assert.equal(set.files['merges.txt'].name, 'merges.txt');
  // Files chosen one by one have no folder.
  const loose = m.findModelFiles(['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'].map((n) => fileIn('', n)));
  assert.equal(loose.folder, '');
});

test('missing files are named, with a hint for pytorch_model.bin and tokenizer.json', () => {
  const given = ['config.json', 'pytorch_model.bin', 'tokenizer.json'].map((name) => fileIn('gpt2', name));
  assert.throws(() => m.findModelFiles(given), (error) => {
    console.log(`  ${error.message}`);
    assert.ok(error instanceof m.OpenLocalError);
    assert.ok(error.message.startsWith('Missing model.safetensors, vocab.json, merges.txt.'));
    assert.match(error.message, /pytorch_model\.bin is not read/);
    assert.match(error.message, /tokenizer\.json alone is not enough/);
    return true;
  });
  assert.throws(() => m.findModelFiles([]), /^OpenLocalError: Missing config\.json, model\.safetensors, vocab\.json, merges\.txt\./);
});

test('a file that is not safetensors is refused from its first bytes', async () => {
  await assert.rejects(m.checkSafetensorsHeader(new File([new Uint8Array(4)], 'model.safetensors')), /empty or cut short/);
  const huge = new Uint8Array(64);
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  await assert.rejects(m.checkSafetensorsHeader(new File([huge], 'model.safetensors')), /not a safetensors file \(its header length/);
  const notJson = new Uint8Array(16);
  new DataView(notJson.buffer).setBigUint64(0, 8n, true);
  notJson.set(new TextEncoder().encode('nonsense'), 8);
  await assert.rejects(m.checkSafetensorsHeader(new File([notJson], 'model.safetensors')), /header is not JSON/);
  const ok = new Uint8Array(8 + 8);
  new DataView(ok.buffer).setBigUint64(0, 8n, true);
  ok.set(new TextEncoder().encode('{}      '), 8);
  await m.checkSafetensorsHeader(new File([ok], 'model.safetensors'));
});

test('memory refusal: above 3 GB, with the figures; GPT-2 small passes', () => {
  const GB = 1024 ** 3;
  const base = { ok: true, n_layer: 12, n_head: 12, n_embd: 768, n_positions: 1024, vocab_size: 50257, attn_only: false };
  const small = { ...base, n_params: 124e6, file_bytes: 0.46 * GB, weights_bytes: 0.46 * GB, packed_bytes: 0.46 * GB,
    session_bytes: 0.03 * GB, trace_bytes: 0.83 * GB, peak_bytes: 1.78 * GB };
  assert.equal(m.memoryRefusal(small), null);
  const medium = { ...base, n_layer: 24, n_head: 16, n_embd: 1024, n_params: 355e6, file_bytes: 1.32 * GB,
    weights_bytes: 1.32 * GB, packed_bytes: 1.32 * GB, session_bytes: 0.05 * GB, trace_bytes: 1.9 * GB, peak_bytes: 4.59 * GB };
  const message = m.memoryRefusal(medium);
  console.log(`  ${message}`);
  assert.match(message, /too big for the browser: 355M parameters \(24 layers, 16 heads, d_model 1024\) need about 4\.6 GB/);
  assert.match(message, /at most 4\.0 GB, and about 3\.0 GB in practice/);
});
