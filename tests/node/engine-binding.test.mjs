// The parts of the Embind surface that hold a run's state in the engine
// (wasm/core/engine.h): runWithBaseline equals run + update bit for bit and
// keeps the unedited pass as the baseline; setHeadGains sets all gains at
// once; attentionChangedFrom says which layers changed since the held pass.
//
// Needs build/wasm (scripts/build-wasm.sh).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { maxAbsDiff, sameBits, softmaxAt } from './compare.mjs';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from './wasm-helpers.mjs';

const FILES = () => readModelFolder(path.join(REPO_ROOT, 'tests/fixtures/tiny-gpt'));
const TEXT = 'The quick brown fox jumps over the lazy dog. It was 1984, and the clocks struck 13!';
const TOP_K = 5;

let Module;
let engine;
let info;
let ids;

before(async () => {
  Module = await createModule();
  engine = new Module.Engine();
  info = expectOk(loadFolder(engine, FILES()), 'loadModel');
  ids = expectOk(engine.tokenize(TEXT), 'tokenize').ids;
});

after(() => engine?.delete());

function gainsWith(edits) {
  const gains = new Float32Array(info.n_layer * info.n_head).fill(1);
  for (const [layer, head, gain] of edits) gains[layer * info.n_head + head] = gain;
  return gains;
}

test('runWithBaseline: the edited trace of run + update, and the unedited pass as baseline', () => {
  const gains = gainsWith([[1, 2, 0], [1, 0, 0.5]]);
  // The reference: an unedited run, then the same gains set one by one and update().
  const other = new Module.Engine();
  expectOk(loadFolder(other, FILES()), 'loadModel');
  expectOk(other.run(ids, TOP_K), 'run');
  const unedited = expectOk(other.getTrace(), 'getTrace');
  const uneditedLogits = expectOk(other.getLogits(), 'getLogits').logits;
  expectOk(other.setHeadGain(1, 2, 0), 'setHeadGain');
  expectOk(other.setHeadGain(1, 0, 0.5), 'setHeadGain');
  assert.equal(expectOk(other.update(), 'update').from_layer, 1);
  const edited = expectOk(other.getTrace(), 'getTrace');
  const editedLogits = expectOk(other.getLogits(), 'getLogits').logits;
  other.delete();

  expectOk(engine.setHeadGains(gains), 'setHeadGains');
  assert.equal(expectOk(engine.runWithBaseline(ids, TOP_K), 'runWithBaseline').from_layer, 1);
  const trace = expectOk(engine.getTrace(), 'getTrace');
  for (const key of ['attn', 'loss', 'top_k_ids', 'top_k_probs', 'gains']) {
    assert.ok(sameBits(trace[key], edited[key]), `${key} equals run + update`);
  }
  assert.ok(sameBits(expectOk(engine.getLogits(), 'getLogits').logits, editedLogits), 'logits');

  const baseline = expectOk(engine.getBaseline(), 'getBaseline');
  assert.equal(baseline.T, unedited.T);
  for (const key of ['loss', 'top_k_ids', 'top_k_probs']) {
    assert.ok(sameBits(baseline[key], unedited[key]), `baseline ${key} equals the unedited run`);
  }
  assert.deepEqual(baseline.top_k_tokens, unedited.top_k_tokens);
  assert.ok(Object.is(baseline.mean_loss, unedited.mean_loss));

  // Ghost bars: float64 softmax of the unedited logits at each edited top-k token.
  const { T, top_k: K } = trace;
  const reference = softmaxAt(uneditedLogits, info.vocab_size, trace.top_k_ids, T, K);
  const maxDiff = maxAbsDiff(trace.baseline_probs_of_top_k, reference);
  console.log(`baseline_probs_of_top_k vs float64 softmax of the unedited logits: max abs diff ${maxDiff.toExponential(2)} over ${T * K}`);
  assert.ok(maxDiff < 1e-6);

  // updateAt carries the same baseline figures for its position.
  expectOk(engine.setHeadGain(0, 3, 0), 'setHeadGain');
  const at = expectOk(engine.updateAt(4), 'updateAt');
  const after = expectOk(engine.getTrace(), 'getTrace');
  assert.equal(at.from_layer, 0);
  assert.ok(sameBits(at.baseline_probs, after.baseline_probs_of_top_k.subarray(4 * K, 5 * K)));
  assert.ok(Object.is(at.baseline_loss, unedited.loss[4]));

  // A plain run drops the baseline: it may be of other ids.
  expectOk(engine.run(ids.subarray(0, 5), TOP_K), 'run');
  assert.equal(expectOk(engine.getTrace(), 'getTrace').baseline_probs_of_top_k, undefined);
  assert.equal(expectOk(engine.updateAt(-1), 'updateAt').baseline_probs, undefined);
  const none = engine.getBaseline();
  assert.equal(none.ok, false);
  assert.match(none.error, /^getBaseline: no baseline/);
});

test('setHeadGains: all gains at once, checked like setHeadGain', () => {
  expectOk(engine.clearHeadGains(), 'clearHeadGains');
  expectOk(engine.run(ids, TOP_K), 'run');
  expectOk(engine.setHeadGains(gainsWith([[1, 3, 0.25]])), 'setHeadGains');
  assert.equal(expectOk(engine.update(), 'update').from_layer, 1);
  // The same gains again: nothing to rerun.
  expectOk(engine.setHeadGains(gainsWith([[1, 3, 0.25]])), 'setHeadGains');
  assert.equal(expectOk(engine.update(), 'update').from_layer, info.n_layer);
  const short = engine.setHeadGains(new Float32Array(3));
  assert.equal(short.ok, false);
  assert.match(short.error, new RegExp(`expected ${info.n_layer * info.n_head} head gains`));
  const nan = engine.setHeadGains(gainsWith([[0, 1, NaN]]));
  console.log(`setHeadGains errors: "${short.error}"; "${nan.error}"`);
  assert.equal(nan.ok, false);
  assert.match(nan.error, /head 0\.1/);
  expectOk(engine.clearHeadGains(), 'clearHeadGains');
  expectOk(engine.update(), 'update');
});

test('attentionChangedFrom: 0 after a run, else the layer after the lowest changed gain', () => {
  expectOk(engine.clearHeadGains(), 'clearHeadGains');
  expectOk(engine.run(ids, TOP_K), 'run');
  assert.equal(expectOk(engine.attentionChangedFrom(), 'attentionChangedFrom').from_layer, 0, 'nothing held');
  expectOk(engine.holdAttention(), 'holdAttention');
  const held = expectOk(engine.getTrace(), 'getTrace').attn;
  assert.equal(expectOk(engine.attentionChangedFrom(), 'attentionChangedFrom').from_layer, info.n_layer);
  const perLayer = info.n_head * ids.length * ids.length;
  for (const [layer, head] of [[1, 1], [0, 2]]) {
    expectOk(engine.setHeadGain(layer, head, 0), 'setHeadGain');
    expectOk(engine.update(), 'update');
    const from = expectOk(engine.attentionChangedFrom(), 'attentionChangedFrom').from_layer;
    assert.equal(from, Math.min(info.n_layer, layer + 1));
    // The layers below `from` are the held pass's, bit for bit.
    const attn = expectOk(engine.getTrace(), 'getTrace').attn;
    assert.ok(sameBits(attn.subarray(0, from * perLayer), held.subarray(0, from * perLayer)));
  }
  // Back to the held gains: nothing differs.
  expectOk(engine.clearHeadGains(), 'clearHeadGains');
  assert.equal(expectOk(engine.attentionChangedFrom(), 'attentionChangedFrom').from_layer, info.n_layer);
  expectOk(engine.run(ids, TOP_K), 'run');
  assert.equal(expectOk(engine.attentionChangedFrom(), 'attentionChangedFrom').from_layer, 0, 'a run since');
});
