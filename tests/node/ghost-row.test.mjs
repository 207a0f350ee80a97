// The ghost row (issue 15 item 5): when the edits push the unedited model's
// top-1 token out of the edited top-k, the worker's engine cache
// (web/src/engine/engine-cache.ts) still sends that token's edited
// probability: AnalysisCore.baseline.edited_probs_of_top_1 [T], read from
// the edited logits. Checked against a float64 softmax of a fresh engine's
// logits with the same gains at every position, and against the edited
// top-k where the token is still in it; the first message (PredictionsPart)
// names the same token and agrees where it knows the value. Prints how many
// positions lost their top-1 and the largest difference.
//
// Needs build/wasm (scripts/build-wasm.sh).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { importTs } from '../web/ts-import.mjs';
import { softmaxAt } from './compare.mjs';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from './wasm-helpers.mjs';

const TEXT = 'The quick brown fox jumps over the lazy dog. It was 1984, and the clocks struck 13!';

let Module;
let EngineCache;

before(async () => {
  Module = await createModule();
  ({ EngineCache } = await importTs('web/src/engine/engine-cache.ts'));
});

function freshLogits(files, gains) {
  const engine = new Module.Engine();
  expectOk(loadFolder(engine, files), 'loadModel');
  const { ids } = expectOk(engine.tokenize(TEXT), 'tokenize');
  expectOk(engine.setHeadGains(gains), 'setHeadGains');
  expectOk(engine.run(ids, 5), 'run');
  const { logits, vocab_size } = expectOk(engine.getLogits(), 'getLogits');
  engine.delete();
  return { logits, vocab_size };
}

test('tiny-gpt: the edited probability of the unedited top-1, at every position', () => {
  const files = readModelFolder(path.join(REPO_ROOT, 'tests/fixtures/tiny-gpt'));
  const engine = new Module.Engine();
  const info = expectOk(loadFolder(engine, files), 'loadModel');
  const cache = new EngineCache(engine, { name: 'tiny-gpt', bytes: 0, load_ms: 0, ...info });
  const { n_layer: L, n_head: H } = info;
  const K = 5;

  // No edits: it is the unedited top-1 probability itself.
  const ones = new Float32Array(L * H).fill(1);
  const first = cache.analyze({ text: TEXT, gains: ones, topK: K, position: -1, heldAttention: 0 }, () => {});
  const T = first.core.T;
  for (let t = 0; t < T; t++) {
    assert.equal(first.core.baseline.edited_probs_of_top_1[t], first.core.baseline.top_k_probs[t * K]);
  }

  // Every head muted: most positions lose their top-1.
  const muted = new Float32Array(L * H).fill(0);
  const partials = [];
  const position = 5;
  const { core } = cache.analyze({ text: TEXT, gains: muted, topK: K, position, heldAttention: 0 }, (p) => partials.push(p));
  const top1 = Array.from({ length: T }, (_, t) => core.baseline.top_k_ids[t * K]);
  const fresh = freshLogits(files, muted);
  const reference = softmaxAt(fresh.logits, fresh.vocab_size, top1, T, 1);
  let dropped = 0;
  let maxDiff = 0;
  for (let t = 0; t < T; t++) {
    const value = core.baseline.edited_probs_of_top_1[t];
    assert.ok(!Number.isNaN(value), `position ${t} is known`);
    maxDiff = Math.max(maxDiff, Math.abs(value - reference[t]));
    const rank = Array.from(core.top_k_ids.subarray(t * K, (t + 1) * K)).indexOf(top1[t]);
    if (rank >= 0) assert.equal(value, core.top_k_probs[t * K + rank], `position ${t}: the edited top-k's own figure`);
    else {
      dropped++;
      assert.ok(value <= core.top_k_probs[t * K + K - 1], `position ${t}: below the K-th edited probability`);
    }
  }
  console.log(`  ${dropped} of ${T} positions lost their unedited top-1; max |edited p - float64 softmax| = ${maxDiff.toExponential(2)}`);
  assert.ok(dropped > 0, 'muting every head pushes some top-1 out (else this test checks nothing)');
  assert.ok(maxDiff < 1e-6);

  // The first message: the same token at its position, its edited probability where the top-k has it.
  assert.equal(partials.length, 1);
  const part = partials[0].baseline.top_1;
  assert.equal(part.id, top1[position]);
  assert.equal(part.prob, core.baseline.top_k_probs[position * K]);
  assert.equal(part.token, core.baseline.top_k_tokens[position * K]);
  const inTop = Array.from(partials[0].top_k_ids).includes(part.id);
  if (inTop) assert.equal(part.edited_prob, core.baseline.edited_probs_of_top_1[position]);
  else assert.ok(Number.isNaN(part.edited_prob));
  console.log(`  position ${position}: top-1 ${JSON.stringify(part.token)} ${part.prob.toFixed(4)} unedited, ` +
    `${inTop ? part.edited_prob.toFixed(6) : 'not in the edited top-5 (NaN in the first message)'}; ` +
    `full pass: ${core.baseline.edited_probs_of_top_1[position].toExponential(3)}`);
  cache.delete();
});
