// The worker's engine cache (web/src/engine/engine-cache.ts) over the real
// wasm engine: every analyze it answers (a full pass, a two-phase rerun, a
// prepared edit, a mis-aimed one, a new top-k) equals what a fresh engine
// running those gains from scratch gives, bit for bit; its attention deltas
// rebuild the fresh attention exactly; the ghost-bar probabilities match a
// float64 softmax of the unedited logits.
//
// Needs build/wasm (scripts/build-wasm.sh).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { importTs } from '../web/ts-import.mjs';
import { maxAbsDiff, sameBits, softmaxAt } from './compare.mjs';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from './wasm-helpers.mjs';

const FIXTURES = ['tiny-gpt', 'tiny-attn-only'];
// Longer than the fixtures' 64 positions: the engine runs the first 64.
const TEXT = 'The quick brown fox jumps over the lazy dog. It was 1984, and the clocks struck 13! '.repeat(3);

let Module;
let EngineCache;

before(async () => {
  Module = await createModule();
  ({ EngineCache } = await importTs('web/src/engine/engine-cache.ts'));
});

function newEngine(files) {
  const engine = new Module.Engine();
  return { engine, info: expectOk(loadFolder(engine, files), 'loadModel') };
}

// The independent answer: a fresh engine, these gains, one full run.
function freshRun(files, gains, topK) {
  const { engine } = newEngine(files);
  const { ids } = expectOk(engine.tokenize(TEXT), 'tokenize');
  expectOk(engine.setHeadGains(gains), 'setHeadGains');
  expectOk(engine.run(ids, topK), 'run');
  const trace = expectOk(engine.getTrace(), 'getTrace');
  const { logits, vocab_size } = expectOk(engine.getLogits(), 'getLogits');
  engine.delete();
  return { trace, logits, vocab_size };
}

for (const name of FIXTURES) {
  test(`${name}: every analyze of the cache equals a fresh full run`, () => {
    const files = readModelFolder(path.join(REPO_ROOT, 'tests/fixtures', name));
    const { engine, info } = newEngine(files);
    const model = { name, bytes: 0, load_ms: 0, ...info };
    const cache = new EngineCache(engine, model);
    const { n_layer: L, n_head: H } = info;
    const ones = () => new Float32Array(L * H).fill(1);
    const unedited = freshRun(files, ones(), 5);
    let held = 0;
    // The page's copy of the attention [L x H x T x T], updated as the page does.
    let pageAttn = null;

    const analyze = (gains, topK, position, label) => {
      const partials = [];
      const { core, attention } = cache.analyze(
        { text: TEXT, gains, topK, position, heldAttention: held }, (p) => partials.push(p));
      const fresh = freshRun(files, gains, topK);
      const expect = fresh.trace;
      for (const key of ['ids', 'loss', 'top_k_ids', 'top_k_probs', 'gains']) {
        assert.ok(sameBits(core[key], expect[key]), `${label}: ${key} equals the fresh run's`);
      }
      assert.deepEqual(core.top_k_tokens, expect.top_k_tokens);
      assert.ok(Object.is(core.mean_loss, expect.mean_loss), `${label}: mean loss`);
      assert.equal(core.T, 64);
      assert.ok(core.n_input_tokens > 64 && core.truncated);
      // The page rebuilds its attention from the delta: layers below from_layer are its own.
      const perLayer = H * core.T * core.T;
      if (attention.from_layer === 0) {
        pageAttn = attention.attn.slice();
      } else {
        assert.equal(attention.base_version, held);
        pageAttn.set(attention.attn, attention.from_layer * perLayer);
      }
      assert.ok(sameBits(pageAttn, expect.attn), `${label}: the page's attention equals the fresh run's`);
      held = attention.version;
      // Ghost bars: the unedited model's own figures, and its probability of each edited top-k token.
      assert.ok(sameBits(core.baseline.loss, unedited.trace.loss), `${label}: baseline loss`);
      if (topK === 5) {
        assert.ok(sameBits(core.baseline.top_k_ids, unedited.trace.top_k_ids), `${label}: baseline top-k ids`);
        assert.ok(sameBits(core.baseline.top_k_probs, unedited.trace.top_k_probs), `${label}: baseline top-k probs`);
      }
      const ref = softmaxAt(unedited.logits, unedited.vocab_size, core.top_k_ids, core.T, core.top_k);
      const diff = maxAbsDiff(core.baseline.probs_of_top_k, ref);
      assert.ok(diff < 1e-6, `${label}: baseline probabilities off by ${diff}`);
      for (const p of partials) {
        const t = p.position;
        const K = core.top_k;
        assert.ok(sameBits(p.top_k_ids, core.top_k_ids.subarray(t * K, (t + 1) * K)), `${label}: partial top-k ids`);
        assert.ok(sameBits(p.top_k_probs, core.top_k_probs.subarray(t * K, (t + 1) * K)), `${label}: partial top-k probs`);
        assert.ok(Object.is(p.loss, core.loss[t]) || p.loss === core.loss[t]);
        assert.ok(sameBits(p.baseline.probs_of_top_k, core.baseline.probs_of_top_k.subarray(t * K, (t + 1) * K)));
        assert.ok(Object.is(p.baseline.loss, core.baseline.loss[t]) || p.baseline.loss === core.baseline.loss[t]);
        assert.ok(sameBits(p.ids, core.ids));
        assert.equal(p.rerun_from_layer, core.rerun_from_layer);
      }
      console.log(`${name} ${label}: rerun from ${core.rerun_from_layer}, attention sent from layer ` +
        `${attention.from_layer}, ${partials.length} partial, prepared_ms ${core.timing.prepared_ms === null ? 'null' : 'set'}, ` +
        `baseline probs max abs diff ${diff.toExponential(2)}`);
      return { core, attention, partials };
    };

    // A full pass: no partial, all attention.
    let r = analyze(ones(), 5, -1, 'full pass');
    assert.equal(r.partials.length, 0);
    assert.equal(r.core.rerun_from_layer, 0);
    assert.equal(r.attention.from_layer, 0);

    // Head 0.2 muted: a rerun from layer 0, attention changed from layer 1.
    const g1 = ones();
    g1[0 * H + 2] = 0;
    r = analyze(g1, 5, 3, 'mute 0.2');
    assert.equal(r.partials.length, 1);
    assert.equal(r.partials[0].position, 3);
    assert.equal(r.core.rerun_from_layer, 0);
    assert.equal(r.core.attention_from_layer, 1);
    assert.equal(r.attention.from_layer, 1);

    // Prepared: the pointer rests on head 1.1, then the click.
    const g2 = g1.slice();
    g2[1 * H + 1] = 0;
    const prep = cache.prepare({ text: TEXT, gains: g2, topK: 5, position: 7 });
    assert.equal(prep.prepared, true);
    cache.finishPrepared();
    r = analyze(g2, 5, 7, 'prepared mute 1.1');
    assert.notEqual(r.core.timing.prepared_ms, null);
    assert.equal(r.core.rerun_from_layer, 1);
    assert.equal(r.attention.from_layer, L, 'a gain at the last layer changes no attention');

    // Mis-aimed: prepared head 0.1, clicked head 1.3; attention compared with g2's pass.
    const g3 = g2.slice();
    g3[0 * H + 1] = 0;
    assert.equal(cache.prepare({ text: TEXT, gains: g3, topK: 5, position: -1 }).prepared, true);
    const g4 = g2.slice();
    g4[1 * H + 3] = 0.5;
    r = analyze(g4, 5, -1, 'mis-aimed');
    assert.equal(r.core.timing.prepared_ms, null);
    assert.equal(r.core.attention_from_layer, 2);

    // The engine's own gains: nothing to prepare.
    assert.deepEqual(cache.prepare({ text: TEXT, gains: g4, topK: 5, position: 0 }), { prepared: false, compute_ms: 0 });
    assert.equal(cache.prepare({ text: 'other text', gains: g1, topK: 5, position: 0 }).prepared, false);

    // A new top-k is a full pass again, with the edits.
    r = analyze(g4, 7, 2, 'top-k 7');
    assert.equal(r.partials.length, 0);
    assert.equal(r.core.top_k, 7);
    assert.equal(r.attention.from_layer, 0);

    assert.throws(() => cache.analyze({ text: TEXT, gains: new Float32Array(3), topK: 5, position: 0, heldAttention: 0 }, () => {}),
      new RegExp(`expected ${L * H} head gains`));
    assert.throws(() => cache.analyze({ text: '', gains: ones(), topK: 5, position: 0, heldAttention: 0 }, () => {}), /empty/);
    cache.delete();
  });
}

test('attention versions stay unique across models: a held version of the last model is never a base', () => {
  const versions = { next: 1 };
  const caches = FIXTURES.map((name) => {
    const { engine, info } = newEngine(readModelFolder(path.join(REPO_ROOT, 'tests/fixtures', name)));
    return new EngineCache(engine, { name, bytes: 0, load_ms: 0, ...info }, versions);
  });
  const gains = (cache) => new Float32Array(cache.model.n_layer * cache.model.n_head).fill(1);
  const first = caches[0].analyze({ text: TEXT, gains: gains(caches[0]), topK: 5, position: -1, heldAttention: 0 }, () => {});
  const edited = gains(caches[1]);
  caches[1].analyze({ text: TEXT, gains: gains(caches[1]), topK: 5, position: -1, heldAttention: 0 }, () => {});
  edited[3] = 0;
  // The page still names the first model's attention: the whole attention comes.
  const second = caches[1].analyze({ text: TEXT, gains: edited, topK: 5, position: -1, heldAttention: first.attention.version }, () => {});
  console.log(`versions: ${first.attention.version} (first model), ${second.attention.version} (second); ` +
    `sent from layer ${second.attention.from_layer}`);
  assert.notEqual(second.attention.version, first.attention.version);
  assert.equal(second.attention.from_layer, 0);
  for (const cache of caches) cache.delete();
});
