// The committed test models are exactly what tests/fixtures/make-test-models.mjs
// writes: regenerate into a temporary folder and compare byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { writeTestModels } from '../fixtures/make-test-models.mjs';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

function filesUnder(dir, prefix = '') {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? filesUnder(path.join(dir, entry.name), path.join(prefix, entry.name))
      : [path.join(prefix, entry.name)],
  );
}

test('regenerated fixtures equal the committed files byte for byte', () => {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'headlight-fixtures-'));
  try {
    const written = writeTestModels(outDir);
    assert.deepEqual(filesUnder(outDir).sort(), [...written].sort());
    let total = 0;
    for (const file of written) {
      const fresh = readFileSync(path.join(outDir, file));
      const committed = readFileSync(path.join(FIXTURES, file));
      total += committed.length;
      assert.ok(fresh.equals(committed), `${file} differs from what the generator writes`);
    }
    console.log(`${written.length} fixture files identical, ${(total / 1024).toFixed(1)} KiB in all`);
    assert.ok(total < 1024 * 1024, `fixtures should stay under 1 MiB, are ${total} bytes`);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});

test('a second run writes the same bytes (no hidden state, no Math.random)', () => {
  const a = mkdtempSync(path.join(os.tmpdir(), 'headlight-fixtures-a-'));
  const b = mkdtempSync(path.join(os.tmpdir(), 'headlight-fixtures-b-'));
  try {
    const files = writeTestModels(a);
    writeTestModels(b);
    for (const file of files) {
      assert.ok(readFileSync(path.join(a, file)).equals(readFileSync(path.join(b, file))), file);
    }
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

test('the tokenizer files are GPT-2 format and consistent with config.json', () => {
  for (const name of ['tiny-gpt', 'tiny-attn-only']) {
    const dir = path.join(FIXTURES, name);
    const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
    const vocab = JSON.parse(readFileSync(path.join(dir, 'vocab.json'), 'utf8'));
    const lines = readFileSync(path.join(dir, 'merges.txt'), 'utf8').split('\n');
    assert.equal(lines[0], '#version: 0.2');
    const merges = lines.slice(1).filter((line) => line.length > 0);
    const ids = Object.values(vocab).sort((x, y) => x - y);
    assert.equal(ids.length, config.vocab_size, `${name}: vocab.json size = vocab_size`);
    assert.deepEqual(ids, [...ids.keys()], `${name}: ids are 0..V-1`);
    assert.equal(vocab['<|endoftext|>'], config.vocab_size - 1);
    assert.equal(vocab['!'], 0); // GPT-2's byte order starts at '!'
    assert.equal(vocab['Ġ'], 220); // the space byte, as in GPT-2's own vocab.json
    assert.ok(merges.length >= 150, `${name}: ${merges.length} merges`);
    for (const merge of merges) {
      const parts = merge.split(' ');
      assert.equal(parts.length, 2, merge);
      assert.ok(parts[0] in vocab && parts[1] in vocab && parts.join('') in vocab, merge);
    }
    assert.ok('Ġthe' in vocab && 'Ġlight' in vocab, `${name}: common words are single tokens`);
    assert.ok(statSync(path.join(dir, 'README.md')).size > 0);
  }
});
