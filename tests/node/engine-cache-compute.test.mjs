// A view's own questions through the worker's engine cache
// (web/src/engine/pass-questions.ts headArithmetic, composition, over the
// engine cache) over the real
// wasm engine: after a prepare call moved the engine to other gains, the
// answer is still of the pass the page shows (its softmax row equals that
// analyze's attention bit for bit), the next analyze of the prepared gains
// still equals a fresh run, and a text the cache has not run is refused
// with a message. Needs build/wasm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { importTs } from '../web/ts-import.mjs';
import { sameBits } from './compare.mjs';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from './wasm-helpers.mjs';

const TEXT = 'The quick brown fox jumps over the lazy dog, and the quick brown fox jumps again.';

test('headArithmetic and composition answer about the page\'s pass, whatever a prepare did', async () => {
  const Module = await createModule();
  const { EngineCache } = await importTs('web/src/engine/engine-cache.ts');
  const questions = await importTs('web/src/engine/pass-questions.ts');
  const engine = new Module.Engine();
  const info = expectOk(loadFolder(engine, readModelFolder(path.join(REPO_ROOT, 'tests/fixtures/tiny-gpt'))), 'loadModel');
  const cache = new EngineCache(engine, { name: 'tiny-gpt', bytes: 0, load_ms: 0, ...info });
  const { n_layer: L, n_head: H } = info;
  const gains = new Float32Array(L * H).fill(1);
  gains[1] = 0.5;  // head 0.1 at half: the page's pass is edited too
  const { core, attention } = cache.analyze({ text: TEXT, gains, topK: 5, position: -1, heldAttention: 0 }, () => {});
  const T = core.T;

  // The pointer rests on head 0.2: the engine computes that edit ahead.
  const aimed = gains.slice();
  aimed[2] = 0;
  assert.equal(cache.prepare({ text: TEXT, gains: aimed, topK: 5, position: -1 }).prepared, true);

  let rows = 0;
  for (let layer = 0; layer < L; layer++) {
    for (const t of [0, T - 1]) {
      const a = questions.headArithmetic(cache, { text: TEXT, gains, layer, head: 3, position: t });
      const row = attention.attn.subarray(((layer * H + 3) * T + t) * T, ((layer * H + 3) * T + t) * T + t + 1);
      assert.ok(sameBits(a.probs, row), `head ${layer}.3 at ${t}: the shown attention row, bit for bit`);
      rows++;
    }
  }
  assert.equal(questions.headArithmetic(cache, { text: TEXT, gains, layer: 0, head: 1, position: 3 }).gain, 0.5, 'the page\'s gains, not the prepared ones');
  assert.equal(questions.headArithmetic(cache, { text: TEXT, gains, layer: 0, head: 2, position: 3 }).gain, 1);
  const c = questions.composition(cache, { text: TEXT, gains, source: { layer: 0, head: 1 }, target: { layer: 1, head: 0 } });
  const drawn = attention.attn.subarray((1 * H + 0) * T * T, (1 * H + 1) * T * T);
  assert.ok(sameBits(c.before, drawn), 'the composition\'s "before" is the shown pattern');
  console.log(`  ${rows} arithmetic rows and the composition's before equal the page's pass after a prepare; ` +
    `induction of 1.0 ${c.before_scores.induction.toFixed(4)} -> ${c.after_scores.induction.toFixed(4)} with 0.1 muted`);

  // The click that follows the prepare still gets the right pass.
  const clicked = cache.analyze({ text: TEXT, gains: aimed, topK: 5, position: -1, heldAttention: attention.version }, () => {});
  const fresh = new Module.Engine();
  expectOk(loadFolder(fresh, readModelFolder(path.join(REPO_ROOT, 'tests/fixtures/tiny-gpt'))), 'loadModel');
  expectOk(fresh.setHeadGains(aimed), 'setHeadGains');
  expectOk(fresh.run(expectOk(fresh.tokenize(TEXT), 'tokenize').ids, 5), 'run');
  const expected = expectOk(fresh.getTrace(), 'getTrace');
  assert.ok(sameBits(clicked.core.loss, expected.loss), 'the next analyze equals a fresh run');
  fresh.delete();

  assert.throws(() => questions.headArithmetic(cache, { text: 'another text', gains, layer: 0, head: 0, position: 0 }), /has not been run yet/);
  assert.throws(() => questions.headArithmetic(cache, { text: TEXT, gains, layer: 0, head: 0, position: T }),
    new RegExp(`position ${T} is outside the text`));
  cache.delete();
});
