// The syntax probe as the page's worker computes it (web/src/engine/
// syntax-parts.ts through EngineCache.syntaxPart, over the real wasm
// engine's syntaxStart / syntaxStep): run to the end a request at a time, it
// equals the one-call syntaxProbe bit for bit (every field), on gpt-4l with
// the page's budget and with one engine part a request, and on attn-only-2l;
// the page's SyntaxRuns (web/src/app/syntax-runs.ts) over the worker's side
// in this process reports progress, ends with the one call's bits, and stops
// when another model is probed. Prints the max differences, each request's
// compute time (the longest is what an edit can wait) and the one call's.
//
// Needs build/wasm (scripts/build-wasm.sh).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { importTs } from '../web/ts-import.mjs';
import { maxAbsDiff, sameBits } from './compare.mjs';
import { requestsSummary, requestsToEnd } from './parts-requests.mjs';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from './wasm-helpers.mjs';

const PROBE_JSON = readFileSync(path.join(REPO_ROOT, 'web/public/probes/brown-pos.json'), 'utf8');
const PROBE_URL = 'http://test/probes/brown-pos.json';
// The probe's arrays (SyntaxProbeResult): compared bit for bit.
const ARRAYS = ['queries', 'share', 'chance_share', 'syntactic', 'top_query', 'top_key', 'top_share', 'top_chance_share', 'top_ratio'];
const SCALARS = ['n_layer', 'n_head', 'n_sentences', 'n_tokens', 'n_untagged', 'top_pairs', 'ratio_threshold', 'min_share', 'min_queries'];

let Module;
let EngineCache;
let parts;

before(async () => {
  Module = await createModule();
  ({ EngineCache } = await importTs('web/src/engine/engine-cache.ts'));
  parts = await importTs('web/src/engine/syntax-parts.ts');
});

function loadCache(name) {
  const engine = new Module.Engine();
  const info = expectOk(loadFolder(engine, readModelFolder(path.join(REPO_ROOT, 'models', name))), 'loadModel');
  return { engine, cache: new EngineCache(engine, { name, bytes: 0, load_ms: 0, ...info, copying: undefined }) };
}

/** Largest |difference| over the probe's arrays (NaN = NaN), after asserting every field is the same bits. */
function assertSameProbe(got, whole) {
  let worst = 0;
  for (const key of ARRAYS) {
    const a = Array.from(got[key], (x) => (Number.isNaN(x) ? 0 : x)), b = Array.from(whole[key], (x) => (Number.isNaN(x) ? 0 : x));
    worst = Math.max(worst, maxAbsDiff(a, b));
    assert.ok(sameBits(got[key], whole[key]), `${key}: parts equal the one call bit for bit`);
  }
  for (const key of SCALARS) assert.equal(got[key], whole[key], key);
  assert.deepEqual(got.tags, whole.tags);
  return worst;
}

test('gpt-4l: the parts at the page\'s budget, and one engine part a request, equal syntaxProbe bit for bit', () => {
  const { engine, cache } = loadCache('gpt-4l');
  const t0 = performance.now();
  const whole = expectOk(engine.syntaxProbe(PROBE_JSON), 'syntaxProbe');
  const wholeMs = performance.now() - t0;

  const paged = requestsToEnd(() => cache.syntaxPart(PROBE_JSON), 1);
  const diff = assertSameProbe(paged.reply.probe, whole);
  console.log(`gpt-4l in parts of ~${parts.SYNTAX_PART_MS} ms: ${requestsSummary(paged.times)} (${paged.reply.parts_total} engine parts); ` +
    `one call ${wholeMs.toFixed(0)} ms; max |parts - one call| ${diff}; the probe's compute_ms ${paged.reply.probe.compute_ms.toFixed(0)} ms`);
  assert.equal(paged.reply.probe.model, 'gpt-4l');
  // Asked again once done: the probe again, without work.
  const again = cache.syntaxPart(PROBE_JSON);
  assert.equal(again.done, true);
  assert.equal(assertSameProbe(again.probe, whole), 0);

  // A new run (another probe file text begins one), one engine part a request:
  // the first request only tokenizes and plans.
  const fewer = JSON.stringify({ ...JSON.parse(PROBE_JSON), sentences: JSON.parse(PROBE_JSON).sentences.slice(0, 60) });
  const wholeFewer = expectOk(engine.syntaxProbe(fewer), 'syntaxProbe');
  const single = requestsToEnd(() => cache.syntaxPart(fewer, 0), 1);
  assert.equal(single.times.length, single.reply.parts_total + 1, 'the start, then one engine part a request');
  const diffSingle = assertSameProbe(single.reply.probe, wholeFewer);
  console.log(`gpt-4l, 60 sentences, one engine part a request: ${requestsSummary(single.times)}; max |parts - one call| ${diffSingle}`);
  cache.delete();
});

test('attn-only-2l (no MLP): the parts equal syntaxProbe bit for bit', () => {
  const { engine, cache } = loadCache('attn-only-2l');
  const whole = expectOk(engine.syntaxProbe(PROBE_JSON), 'syntaxProbe');
  const { reply, times } = requestsToEnd(() => cache.syntaxPart(PROBE_JSON, 5), 1);
  const diff = assertSameProbe(reply.probe, whole);
  console.log(`attn-only-2l in parts of ~5 ms: ${requestsSummary(times)} (${reply.parts_total} engine parts); max |parts - one call| ${diff}`);
  cache.delete();
});

test('SyntaxRuns: progress, then the one call\'s bits; probing another model mid-way stops the first run', async () => {
  const { SyntaxRuns } = await importTs('web/src/app/syntax-runs.ts');
  // The worker's side in this process: 'syntaxPart' as worker.ts answers it.
  const worker = { cache: null, calls: [] };
  const client = {
    async call(method, { model, probeUrl }) {
      assert.equal(method, 'syntaxPart');
      assert.equal(probeUrl, PROBE_URL);
      worker.calls.push(model);
      await new Promise((resolve) => setTimeout(resolve, 0));  // an answer arrives as a message
      const cache = worker.cache;
      return cache && cache.model.name === model ? cache.syntaxPart(PROBE_JSON, 20) : parts.cancelledSyntaxPart(model);
    },
  };
  const load = (name) => {
    worker.cache?.delete();
    const { engine, cache } = loadCache(name);
    worker.cache = cache;
    return expectOk(engine.syntaxProbe(PROBE_JSON), 'syntaxProbe');
  };
  const runs = new SyntaxRuns(client);

  const whole = load('gpt-4l');
  const fractions = [];
  const probe = await runs.probe('gpt-4l', PROBE_URL, (f) => fractions.push(f));
  assert.ok(probe, 'the probe arrives');
  assertSameProbe(probe, whole);
  console.log(`gpt-4l through SyntaxRuns: ${worker.calls.length} parts asked; progress ${fractions.map((f) => (100 * f).toFixed(0)).join(' ')} %`);
  assert.equal(fractions.length, worker.calls.length - 1, 'a progress report after every part but the last');
  for (let i = 1; i < fractions.length; i++) assert.ok(fractions[i] > fractions[i - 1]);

  // Another model while the first is probed: the first run resolves null
  // and asks nothing more; the second ends with its own one call's bits.
  worker.calls.length = 0;
  load('gpt-4l');
  const first = runs.probe('gpt-4l', PROBE_URL, () => {});
  await new Promise((resolve) => setTimeout(resolve, 0));
  await new Promise((resolve) => setTimeout(resolve, 0));
  const wholeSecond = load('attn-only-2l');
  const second = runs.probe('attn-only-2l', PROBE_URL, () => {});
  assert.equal(await first, null, 'the first run stops');
  const done = await second;
  await new Promise((resolve) => setTimeout(resolve, 50));
  const oldAsked = worker.calls.filter((name) => name === 'gpt-4l').length;
  console.log(`switch mid-way: ${oldAsked} part(s) of gpt-4l asked, ${worker.calls.length - oldAsked} of attn-only-2l`);
  assert.ok(oldAsked <= 1, 'the old run stops');
  assertSameProbe(done, wholeSecond);
  worker.cache.delete();
});
