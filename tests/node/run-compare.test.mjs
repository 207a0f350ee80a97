// Compare two runs (web/src/engine/run-compare.ts over the real wasm engine:
// headAttention on passes of their own, then compareAttention): for each
// of the three pairs the difference map is B - A of two independent runs
// (fresh engines, run() and getAttention(), <= 1e-6, max printed); a model
// against itself (the same folder loaded twice) gives an all-zero map;
// prompts of different counts are aligned by position and said so; a model
// of another shape gets a message naming both shapes; the page's pass is
// not disturbed (the analysis after a comparison equals the one before).
//
// Needs build/wasm (scripts/build-wasm.sh).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { importTs } from '../web/ts-import.mjs';
import { sameBits } from './compare.mjs';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from './wasm-helpers.mjs';

const GPT4L = path.join(REPO_ROOT, 'models/gpt-4l');
const AO2L = path.join(REPO_ROOT, 'models/attn-only-2l');
const CHECKPOINT = 'step-03500';
const TEXT = 'Words: apple river stone cloud apple river stone';

let Module;
let EngineCache;
let RunCompare;

before(async () => {
  Module = await createModule();
  ({ EngineCache } = await importTs('web/src/engine/engine-cache.ts'));
  ({ RunCompare } = await importTs('web/src/engine/run-compare.ts'));
});

function open(dir, name) {
  const engine = new Module.Engine();
  const info = expectOk(loadFolder(engine, readModelFolder(dir)), 'loadModel');
  const model = { name, bytes: 0, load_ms: 0, ...info };
  return { engine, model, cache: new EngineCache(engine, model) };
}

function analyze(cache, model, text, gains) {
  const LH = model.n_layer * model.n_head;
  return cache.analyze({ text, gains, means: new Int32Array(LH), topK: 5, position: -1, heldAttention: 0 }, () => {}).core;
}

// Head (layer, head)'s [T x T] attention from a fresh engine's own run with gains.
function independent(dir, text, gains, layer, head) {
  const engine = new Module.Engine();
  expectOk(loadFolder(engine, readModelFolder(dir)), 'loadModel');
  const ids = expectOk(engine.tokenize(text), 'tokenize').ids;
  expectOk(engine.setHeadGains(gains), 'setHeadGains');
  expectOk(engine.run(ids, 5), 'run');
  const attn = expectOk(engine.getAttention(layer), 'getAttention').attn;
  const T = ids.length;
  const pattern = attn.slice(head * T * T, (head + 1) * T * T);
  engine.delete();
  return { T, pattern };
}

// max |map - (B - A)| over the aligned T x T, and max |B - A|.
function checkDiff(reply, a, b) {
  const T = Math.min(a.T, b.T);
  assert.equal(reply.comparison.T, T);
  let err = 0;
  let max = 0;
  for (let t = 0; t < T; t++) {
    for (let k = 0; k <= t; k++) {
      const expected = b.pattern[t * b.T + k] - a.pattern[t * a.T + k];
      err = Math.max(err, Math.abs(reply.comparison.diff[t * T + k] - expected));
      max = Math.max(max, Math.abs(expected));
    }
  }
  return { err, max };
}

function top(reply) {
  const c = reply.comparison;
  return c.largest_query.length ? `(${c.largest_query[0]}, ${c.largest_key[0]}) ${c.largest_value[0].toFixed(4)}` : 'none';
}

const noFiles = () => { throw new Error('no model files expected'); };

test('edited vs unedited and two prompts: B - A of independent runs; the page pass stays', async () => {
  const { model, cache } = open(GPT4L, 'gpt-4l');
  const { n_layer: L, n_head: H } = model;
  const ones = new Float32Array(L * H).fill(1);
  const gains = ones.slice();
  gains[0 * H + 1] = 0; // the previous-token head 0.1 muted
  const runs = new RunCompare(Module);
  const first = analyze(cache, model, TEXT, gains);
  const layer = 1, head = 5; // an induction head reading 0.1's output

  const edits = await runs.compare(cache, { text: TEXT, gains, layer, head, pair: { kind: 'edits' } }, noFiles);
  const e = checkDiff(edits, independent(GPT4L, TEXT, ones, layer, head), independent(GPT4L, TEXT, gains, layer, head));
  console.log(`  edited vs unedited (0.1 muted), head 1.5: max |B - A| ${e.max.toFixed(4)}, max |map - (B - A)| ${e.err.toExponential(2)}, top cell ${top(edits)}; induction A ${edits.comparison.scores_a.induction.toFixed(3)} B ${edits.comparison.scores_b.induction.toFixed(3)}`);
  assert.ok(e.err <= 1e-6);
  assert.ok(e.max > 0.01, 'muting 0.1 changes 1.5: the test can fail');
  assert.equal(edits.comparison.max_abs, Math.abs(edits.comparison.largest_value[0]));
  assert.equal(edits.alignment, '');

  const textB = 'Words: apple river stone cloud apple river stone cloud apple';
  const prompts = await runs.compare(cache, { text: TEXT, gains, layer, head, pair: { kind: 'prompts', textB } }, noFiles);
  const p = checkDiff(prompts, independent(GPT4L, TEXT, gains, layer, head), independent(GPT4L, textB, gains, layer, head));
  console.log(`  two prompts (${prompts.a.tokens.length} and ${prompts.b.tokens.length} tokens): max |B - A| ${p.max.toExponential(2)}, max |map - (B - A)| ${p.err.toExponential(2)}; "${prompts.alignment}"`);
  assert.ok(p.err <= 1e-6);
  // A prefix of B: causal attention gives the aligned rows the same values.
  assert.ok(p.max <= 1e-6);
  assert.match(prompts.alignment, /aligned by position/);

  const again = analyze(cache, model, TEXT, gains);
  assert.ok(sameBits(again.top_k_probs, first.top_k_probs), 'the page pass is not disturbed');
});

test('two models: a checkpoint against the model is B - A; a model against itself is all zero; another shape is named', async () => {
  const { model, cache } = open(AO2L, 'attn-only-2l');
  const { n_layer: L, n_head: H } = model;
  const ones = new Float32Array(L * H).fill(1);
  analyze(cache, model, TEXT, ones);
  const runs = new RunCompare(Module);
  const read = (dir) => async (name) => ({ name, ...readModelFolder(dir) });
  const layer = 1, head = 2;
  const ckDir = path.join(AO2L, 'checkpoints', CHECKPOINT);
  const pair = { kind: 'models', model: `attn-only-2l/${CHECKPOINT}`, baseUrl: 'unused' };
  const models = await runs.compare(cache, { text: TEXT, gains: ones, layer, head, pair }, read(ckDir));
  const m = checkDiff(models, independent(AO2L, TEXT, ones, layer, head), independent(ckDir, TEXT, ones, layer, head));
  console.log(`  attn-only-2l against ${CHECKPOINT}, head 1.2: max |B - A| ${m.max.toFixed(4)}, max |map - (B - A)| ${m.err.toExponential(2)}, top cell ${top(models)}`);
  assert.ok(m.err <= 1e-6);
  assert.ok(m.max > 0.01);

  const self = await runs.compare(cache, { text: TEXT, gains: ones, layer, head, pair: { kind: 'models', model: 'attn-only-2l-again', baseUrl: 'unused' } }, read(AO2L));
  const nonzero = self.comparison.diff.filter((v) => v !== 0).length;
  console.log(`  attn-only-2l against itself: ${nonzero} nonzero cells, max |B - A| ${self.comparison.max_abs}, ${self.comparison.largest_query.length} named`);
  assert.equal(nonzero, 0);
  assert.equal(self.comparison.max_abs, 0);
  assert.equal(self.comparison.largest_query.length, 0);

  await assert.rejects(
    runs.compare(cache, { text: TEXT, gains: ones, layer, head, pair: { kind: 'models', model: 'gpt-4l', baseUrl: 'unused' } }, read(GPT4L)),
    (error) => {
      console.log(`  another shape: ${error.message}`);
      return /gpt-4l has 4 layers × 8 heads.*attn-only-2l has 2 layers × 8 heads.*same shape/.test(error.message);
    },
  );
  assert.equal(runs.release(), false, 'a refused model is not kept');
});
