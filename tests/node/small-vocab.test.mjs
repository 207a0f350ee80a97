// models/recipes/small-vocab.mjs: the K-token kit for quick induction-head
// experiments. The vocabulary is the live tokenizer's first K byte tokens
// with their own ids, every character of the text is one of them and
// `headlight train` reads the kit (vocab_size 32), and bad options are
// refused by name.
// Binary: $HEADLIGHT_BIN, or build/native/headlight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { REPO_ROOT } from './wasm-helpers.mjs';

const BIN = path.resolve(REPO_ROOT, process.env.HEADLIGHT_BIN ?? 'build/native/headlight');
const RECIPE = path.join(REPO_ROOT, 'models/recipes/small-vocab.mjs');

function recipe(args) {
  return spawnSync(process.execPath, [RECIPE, ...args], { encoding: 'utf8' });
}

test('small-vocab: K byte tokens with their live ids, and a text that encodes below K', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'small-vocab-'));
  try {
    const run = recipe(['--k', '32', '--out', dir, '--chars', '5000']);
    assert.equal(run.status, 0, run.stderr);
    const small = JSON.parse(readFileSync(path.join(dir, 'vocab.json'), 'utf8'));
    const live = JSON.parse(readFileSync(path.join(REPO_ROOT, 'web/public/train/vocab.json'), 'utf8'));
    const ids = Object.values(small).sort((a, b) => a - b);
    assert.deepEqual(ids, Array.from({ length: 32 }, (_, i) => i));
    for (const [token, id] of Object.entries(small)) assert.equal(live[token], id, `token ${token}`);
    assert.equal(readFileSync(path.join(dir, 'merges.txt'), 'utf8').trim(), '#version: 0.2');

    // No merges: each character of the text is one token of the vocabulary,
    // and `headlight train` encodes the text with it (vocab=32 in its log).
    const text = readFileSync(path.join(dir, 'text.txt'), 'utf8');
    assert.equal(text.length, 5000);
    const chars = new Set(text);
    for (const c of chars) assert.ok(c in small, `character ${JSON.stringify(c)} is a token`);
    console.log(`small-vocab: 32 tokens, text of ${text.length} characters over ${chars.size} of them`);

    const train = spawnSync(
      BIN,
      ['train', '--train', path.join(dir, 'text.txt'), '--val', path.join(dir, 'text.txt'), '--tokenizer', dir,
        '--out', path.join(dir, 'model'), '--n-layer', '1', '--n-head', '1', '--n-embd', '8', '--n-positions', '8',
        '--attn-only', '--batch', '2', '--steps', '2', '--threads', '1', '--eval-tokens', '16', '--dtype', 'f32'],
      { encoding: 'utf8' },
    );
    assert.equal(train.status, 0, train.stderr);
    assert.match(train.stdout + train.stderr, /vocab=32/);
    const config = JSON.parse(readFileSync(path.join(dir, 'model/config.json'), 'utf8'));
    assert.equal(config.vocab_size, 32);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('small-vocab: bad options are refused by name', () => {
  for (const [args, pattern] of [
    [['--k', '300', '--out', '/tmp/unused'], /--k must be an integer in 2\.\.256/],
    [['--k', '32'], /missing --out/],
    [['--k', '32', '--out', '/tmp/unused', '--chars', '10'], /--chars must be >= 1000/],
    [['--size', '32', '--out', '/tmp/unused'], /unknown option --size/],
  ]) {
    const run = recipe(args);
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, pattern);
  }
});
