// The size budget (raised by issue 15 for a larger vocabulary): all of
// models/ <= 64 MiB, checkpoints of runs in training (models/training/)
// included, and the page's default model (gpt-4l) downloads in <= 16 MiB
// (its four model files). Prints both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MIB = 1024 * 1024;

function bytesUnder(dir) {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = statSync(p);
    total += st.isDirectory() ? bytesUnder(p) : st.size;
  }
  return total;
}

test('models/ stays within 64 MiB and the default model downloads in 16 MiB', () => {
  const models = bytesUnder(path.join(ROOT, 'models'));
  const files = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'];
  const download = files.reduce((s, f) => s + statSync(path.join(ROOT, 'models/gpt-4l', f)).size, 0);
  console.log(`models/: ${(models / MIB).toFixed(2)} MiB of 64; gpt-4l download: ${(download / MIB).toFixed(2)} MiB of 16`);
  assert.ok(models <= 64 * MIB, `models/ is ${models} bytes, over 64 MiB`);
  assert.ok(download <= 16 * MIB, `gpt-4l's files are ${download} bytes, over 16 MiB`);
});
