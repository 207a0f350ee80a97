// Syntax probing (docs/heads.md, "Syntactic heads") on the shipped attn-only-2l:
// the Embind syntaxProbe and `headlight syntax --json` against the float64
// reference (tests/reference/syntax-reference.mjs, over the reference
// forward pass), on the first SUBSET sentences of the Brown probe; the
// committed probe file against a rebuild from the npm package; and the
// command line's bad inputs. Prints the largest differences.
//
// Needs build/wasm (scripts/build-wasm.sh) and build/native/headlight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { loadReferenceModel, referenceForward } from '../reference/gpt2-reference.mjs';
import { referenceSyntax, referenceTokenTags, tokenByteLengths } from '../reference/syntax-reference.mjs';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from './wasm-helpers.mjs';

const BIN = path.resolve(REPO_ROOT, process.env.HEADLIGHT_BIN ?? 'build/native/headlight');
const PROBE = path.join(REPO_ROOT, 'web/public/probes/brown-pos.json');
const MODEL = path.join(REPO_ROOT, 'models/attn-only-2l');  // the float64 forward of gpt-4l takes minutes
const SUBSET = 40;
// float32 attention against float64: the shares are sums of ~100 weights over ~20 queries.
const TOLERANCE = 1e-4;

function subsetProbe() {
  const probe = JSON.parse(readFileSync(PROBE, 'utf8'));
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'headlight-syntax-')), 'probe.json');
  writeFileSync(file, JSON.stringify({ ...probe, sentences: probe.sentences.slice(0, SUBSET) }));
  return { probe: { ...probe, sentences: probe.sentences.slice(0, SUBSET) }, file };
}

function maxAbsDiff(a, b) {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

test('syntaxProbe and headlight syntax on attn-only-2l equal the float64 reference', async () => {
  const { probe, file } = subsetProbe();
  const Module = await createModule();
  const engine = new Module.Engine();
  const folder = readModelFolder(MODEL);
  const info = expectOk(loadFolder(engine, folder), 'loadModel');
  const got = expectOk(engine.syntaxProbe(readFileSync(file, 'utf8')), 'syntaxProbe');
  const { n_layer: L, n_head: H } = info;
  const G = probe.tags.length;
  assert.deepEqual(got.tags, probe.tags);
  assert.equal(got.n_sentences, SUBSET);

  const model = loadReferenceModel(MODEL);
  const lengths = tokenByteLengths(folder.vocabJson);
  const t0 = performance.now();
  const sentences = probe.sentences.map((s) => {
    const ids = Array.from(expectOk(engine.tokenize(s.text), 'tokenize').ids).slice(0, info.n_positions);
    return { attn: referenceForward(model, ids).attn, tags: referenceTokenTags(lengths, ids, s) };
  });
  const ref = referenceSyntax(sentences, L, H, G);
  const refMs = performance.now() - t0;
  assert.deepEqual(Array.from(got.queries), ref.queries);
  const shareDiff = maxAbsDiff(got.share, ref.share);
  const chanceDiff = maxAbsDiff(got.chance_share, ref.chanceShare);

  const cli = spawnSync(BIN, ['syntax', '--model', MODEL, '--probe', file, '--json'], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  const out = JSON.parse(cli.stdout);
  const cliShare = out.share.flat(3), cliChance = out.chance_share.flat(3);
  const cliDiff = Math.max(maxAbsDiff(cliShare, ref.share), maxAbsDiff(cliChance, ref.chanceShare));
  const wasmCli = maxAbsDiff(cliShare, got.share);
  // The same heads are called syntactic through both doors.
  const wasmSyntactic = [];
  for (let i = 0; i < L * H; i++) if (got.syntactic[i]) wasmSyntactic.push(`${Math.floor(i / H)}.${i % H}`);
  console.log(`[syntax] attn-only-2l, ${SUBSET} sentences (${got.n_tokens} tokens, reference ${(refMs / 1000).toFixed(1)} s): ` +
    `max |wasm - float64| share ${shareDiff.toExponential(2)}, chance share ${chanceDiff.toExponential(2)}; ` +
    `max |CLI - float64| ${cliDiff.toExponential(2)}; max |CLI - wasm| ${wasmCli.toExponential(2)}; ` +
    `syntactic ${wasmSyntactic.join(' ') || 'none'} (CLI ${out.syntactic.join(' ') || 'none'})`);
  assert.ok(shareDiff < TOLERANCE && chanceDiff < TOLERANCE && cliDiff < TOLERANCE);
  assert.deepEqual(out.syntactic, wasmSyntactic);

  // Each head's listed pairs are its counted pairs, highest ratio first.
  const N = got.top_pairs;
  for (let i = 0; i < L * H; i++) {
    let last = Infinity;
    for (let p = 0; p < N && got.top_query[i * N + p] >= 0; p++) {
      const a = got.top_query[i * N + p], b = got.top_key[i * N + p];
      const at = i * G * G + a * G + b;
      assert.ok(got.top_ratio[i * N + p] <= last);
      last = got.top_ratio[i * N + p];
      assert.ok(Math.abs(got.top_share[i * N + p] - got.share[at]) < 1e-6);
      assert.ok(got.share[at] >= got.min_share && got.queries[a] >= got.min_queries);
      assert.ok(Math.abs(last - got.share[at] / got.chance_share[at]) < 1e-3 * last);
    }
  }
  engine.delete();
});

test('the committed probe file is what build-syntax-probe.mjs makes from the npm package', () => {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'models/recipes/build-syntax-probe.mjs'), '--check'],
    { encoding: 'utf8' });
  console.log(`[syntax] ${r.stdout.trim().split('\n').join(' | ')}`);
  assert.equal(r.status, 0, r.stderr);
});

test('headlight syntax: bad arguments exit non-zero with one line naming the problem', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'headlight-syntax-bad-'));
  const bad = path.join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ format: 'headlight-pos-probe-1', tags: ['N'],
    sentences: [{ text: 'ab', words: [[0, 5, 0]] }] }));
  const cases = [
    [[], 2, '--model DIR is required'],
    [['--model', MODEL, '--top', '0'], 1, "bad --top '0'"],
    [['--model', MODEL, '--probe', path.join(dir, 'missing.json')], 1, 'missing.json'],
    [['--model', MODEL, '--probe', bad], 1, 'sentence 0 word 0 spans bytes 0..5'],
    [['--model', MODEL, '--wat'], 2, "unknown option '--wat'"],
  ];
  for (const [args, status, message] of cases) {
    const r = spawnSync(BIN, ['syntax', ...args], { encoding: 'utf8' });
    const lines = r.stderr.trim().split('\n');
    console.log(`[syntax] ${args.join(' ') || '(no arguments)'} -> exit ${r.status}: ${lines[0]}`);
    assert.equal(r.status, status);
    assert.equal(lines.length, 1);
    assert.ok(lines[0].includes(message), lines[0]);
  }
});
