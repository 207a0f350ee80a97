// The size budget (raised by issue 15 for a larger vocabulary): all of
// models/ <= 64 MiB, checkpoints of runs in training (models/training/)
// included, and the page's default model (PREFERRED_DEFAULT of
// web/config/models-plugin.ts) downloads in <= 16 MiB (its four model
// files). Prints both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
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
  const plugin = readFileSync(path.join(ROOT, 'web/config/models-plugin.ts'), 'utf8');
  const name = /const PREFERRED_DEFAULT = '([\w.-]+)'/.exec(plugin)?.[1];
  assert.ok(name, 'models-plugin.ts names the default model');
  const download = files.reduce((s, f) => s + statSync(path.join(ROOT, 'models', name, f)).size, 0);
  console.log(`models/: ${(models / MIB).toFixed(2)} MiB of 64; the default ${name} downloads ${(download / MIB).toFixed(2)} MiB of 16`);
  assert.ok(models <= 64 * MIB, `models/ is ${models} bytes, over 64 MiB`);
  assert.ok(download <= 16 * MIB, `${name}'s files are ${download} bytes, over 16 MiB`);
});
