// The wasm engine in Node: same numbers as the native build, errors as
// messages, incremental reruns equal to full runs bit for bit.
//
// Needs build/wasm (scripts/build-wasm.sh) and build/native/headlight
// (scripts/build-native.sh); HEADLIGHT_BIN overrides the native binary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

import { gpt2Tensors, tensorView, writeSafetensors } from './random-gpt2.mjs';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from './wasm-helpers.mjs';

const NATIVE_BIN = process.env.HEADLIGHT_BIN ?? path.join(REPO_ROOT, 'build/native/headlight');
const FIXTURES = ['tiny-gpt', 'tiny-attn-only'].map((name) => ({
  name,
  dir: path.join(REPO_ROOT, 'tests/fixtures', name),
}));
const TEXT = 'The quick brown fox jumps over the lazy dog. It was 1984, and the clocks struck 13!';
const TOLERANCE = 1e-5;
const TOP_K = 5;

let Module;
let engine;

before(async () => {
  Module = await createModule();
  engine = new Module.Engine();
});

after(() => {
  engine?.delete();
});

function maxAbsDiff(a, b) {
  assert.equal(a.length, b.length, 'lengths differ');
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
  }
  return max;
}

// Byte-for-byte equality of two typed arrays (NaN patterns and -0 included).
function sameBits(a, b) {
  if (a.length !== b.length || a.constructor !== b.constructor) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return Buffer.compare(x, y) === 0;
}

function runNative(dir, text, extraArgs = []) {
  const stdout = execFileSync(
    NATIVE_BIN,
    ['run', '--model', dir, '--text', text, '--top-k', String(TOP_K), '--json', ...extraArgs],
    { encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  return JSON.parse(stdout);
}

for (const fixture of FIXTURES) {
  test(`${fixture.name}: wasm matches the native build`, () => {
    assert.ok(existsSync(NATIVE_BIN), `${NATIVE_BIN} is missing: run scripts/build-native.sh`);
    const info = expectOk(loadFolder(engine, readModelFolder(fixture.dir)), 'loadModel');
    const { ids } = expectOk(engine.tokenize(TEXT), 'tokenize');
    expectOk(engine.run(ids, TOP_K), 'run');
    const trace = expectOk(engine.getTrace(), 'getTrace');
    const { logits } = expectOk(engine.getLogits(), 'getLogits');
    const native = runNative(fixture.dir, TEXT, ['--dump-logits']);  // + logits (T, V)

    const L = info.n_layer;
    const H = info.n_head;
    const T = trace.T;
    assert.deepEqual(Array.from(trace.ids), native.ids, 'token ids differ from native');
    assert.deepEqual(trace.tokens, native.tokens, 'token strings differ from native');
    assert.equal(trace.attn.length, L * H * T * T);

    const attnErr = maxAbsDiff(trace.attn, native.attn.flat(3));
    const nativeTopProbs = native.top_k.flat().map((e) => e.prob);
    const nativeTopIds = native.top_k.flat().map((e) => e.id);
    const topErr = maxAbsDiff(trace.top_k_probs, nativeTopProbs);
    // The CLI prints losses with 6 significant digits (1e-4 steps above 10),
    // so they are compared relative to their size.
    let lossErr = 0;
    for (let t = 0; t < T - 1; t++) {
      const rel = Math.abs(trace.loss[t] - native.loss[t]) / Math.max(1, Math.abs(native.loss[t]));
      lossErr = Math.max(lossErr, Number.isNaN(rel) ? Infinity : rel);
    }
    assert.equal(native.loss[T - 1], null);
    const logitsErr = maxAbsDiff(logits, native.logits.flat());
    console.log(
      `${fixture.name}: T=${T} L=${L} H=${H} wasm vs native max abs error: ` +
        `logits ${logitsErr.toExponential(2)}, ` +
        `attn ${attnErr.toExponential(2)}, top-k probs ${topErr.toExponential(2)}, ` +
        `loss (relative) ${lossErr.toExponential(2)}`,
    );
    assert.ok(attnErr <= TOLERANCE, `attention differs by ${attnErr}`);
    assert.ok(topErr <= TOLERANCE, `top-k probabilities differ by ${topErr}`);
    assert.ok(lossErr <= TOLERANCE, `losses differ by ${lossErr}`);
    assert.ok(logitsErr <= TOLERANCE, `logits differ by ${logitsErr}`);
    // Near-ties may swap places between builds; only compare ids that clearly differ.
    let idMismatches = 0;
    for (let i = 0; i < nativeTopIds.length; i++) {
      if (trace.top_k_ids[i] !== nativeTopIds[i]) idMismatches++;
    }
    assert.ok(idMismatches <= 2, `${idMismatches} top-k ids differ from native`);
  });
}

test('shapes and invariants of the trace', () => {
  const files = readModelFolder(FIXTURES[0].dir);
  // An ArrayBuffer is taken as well as a Uint8Array.
  const info = expectOk(engine.loadModel(files.configJson, files.safetensors.slice().buffer,
    files.vocabJson, files.mergesTxt), 'loadModel');
  const { ids } = expectOk(engine.tokenize(TEXT), 'tokenize');
  expectOk(engine.run(ids, 3), 'run');
  const trace = expectOk(engine.getTrace(), 'getTrace');
  const { n_layer: L, n_head: H } = info;
  const T = ids.length;
  assert.equal(trace.T, T);
  assert.equal(trace.truncated, false);
  assert.equal(trace.top_k, 3);
  assert.ok(trace.attn instanceof Float32Array && trace.ids instanceof Int32Array);
  assert.equal(trace.top_k_ids.length, T * 3);
  assert.equal(trace.top_k_tokens.length, T * 3);
  assert.equal(trace.gains.length, L * H);
  assert.ok(trace.gains.every((g) => g === 1));
  // Every query row is a causal distribution: sums to 1, zero past the diagonal.
  let worstRowSum = 0;
  let maxFuture = 0;
  for (let lh = 0; lh < L * H; lh++) {
    for (let t = 0; t < T; t++) {
      const row = trace.attn.subarray((lh * T + t) * T, (lh * T + t + 1) * T);
      let sum = 0;
      for (let s = 0; s < T; s++) {
        sum += row[s];
        if (s > t) maxFuture = Math.max(maxFuture, Math.abs(row[s]));
      }
      worstRowSum = Math.max(worstRowSum, Math.abs(sum - 1));
    }
  }
  console.log(`attention rows: max |sum - 1| ${worstRowSum.toExponential(2)}, max future ${maxFuture}`);
  assert.ok(worstRowSum < 1e-5);
  assert.equal(maxFuture, 0);
  assert.ok(Number.isNaN(trace.loss[T - 1]));
  assert.ok(Number.isFinite(trace.mean_loss));
  const decoded = expectOk(engine.decode(ids), 'decode');
  assert.equal(decoded.text, TEXT);
});

test('text crosses the JS/C++ boundary as UTF-8 both ways', () => {
  const dir = FIXTURES[0].dir;
  expectOk(loadFolder(engine, readModelFolder(dir)), 'loadModel');
  const text = 'naïve café — 東京タワー 🚀 👩‍👩‍👧 e\u0301 \t tabs\n\n  spaces 12345 it\'s';
  const { ids } = expectOk(engine.tokenize(text), 'tokenize');
  const nativeIds = execFileSync(NATIVE_BIN, ['tokenize', '--model', dir], { input: text,
    encoding: 'utf8' }).trim().split(/\s+/).map(Number);
  console.log(`${Buffer.byteLength(text)} bytes of mixed-script text -> ${ids.length} ids ` +
    `(native ${nativeIds.length})`);
  assert.deepEqual(Array.from(ids), nativeIds, 'wasm and native tokenizers disagree');
  assert.equal(expectOk(engine.decode(ids), 'decode').text, text);
  // One token of a 4-byte character is not valid UTF-8 alone: shown as U+FFFD.
  const rocket = expectOk(engine.tokenize('🚀'), 'tokenize').ids;
  if (rocket.length > 1) {
    assert.match(expectOk(engine.decode(rocket.subarray(0, 1)), 'decode').text, /\uFFFD/);
  }
  assert.deepEqual(Array.from(expectOk(engine.tokenize(''), 'tokenize').ids), []);
});

test('a truncated model.safetensors is refused and the previous model keeps working', () => {
  const good = readModelFolder(FIXTURES[0].dir);
  expectOk(loadFolder(engine, good), 'loadModel');
  const { ids } = expectOk(engine.tokenize(TEXT), 'tokenize');
  expectOk(engine.run(ids, TOP_K), 'run');
  const before = expectOk(engine.getTrace(), 'getTrace');

  const other = readModelFolder(FIXTURES[1].dir);
  const truncated = other.safetensors.subarray(0, Math.floor(other.safetensors.length / 2));
  const result = loadFolder(engine, { ...other, safetensors: truncated });
  console.log(`truncated safetensors (${truncated.length} bytes): ${result.error}`);
  assert.equal(result.ok, false);
  assert.match(result.error, /safetensors/);

  const empty = engine.loadModel(other.configJson, new Uint8Array(0), other.vocabJson, other.mergesTxt);
  console.log(`empty safetensors: ${empty.error}`);
  assert.equal(empty.ok, false);
  const badConfig = engine.loadModel('{"n_layer": 0}', other.safetensors, other.vocabJson, other.mergesTxt);
  console.log(`bad config: ${badConfig.error}`);
  assert.equal(badConfig.ok, false);
  assert.match(badConfig.error, /config/);

  // The old trace is still readable and a new run of the old model gives it again.
  expectOk(engine.getTrace(), 'getTrace after failed load');
  expectOk(engine.run(ids, TOP_K), 'run after failed load');
  const after = expectOk(engine.getTrace(), 'getTrace after failed load');
  assert.ok(sameBits(after.attn, before.attn), 'attention changed after a failed load');
  assert.ok(sameBits(after.top_k_probs, before.top_k_probs));
});

test('errors name the problem', () => {
  const fresh = new Module.Engine();
  const noModel = fresh.run(new Int32Array([1, 2]), TOP_K);
  console.log(`run before loadModel: ${noModel.error}`);
  assert.equal(noModel.ok, false);
  assert.match(noModel.error, /no model/);
  fresh.delete();

  const info = expectOk(loadFolder(engine, readModelFolder(FIXTURES[0].dir)), 'loadModel');
  const { ids } = expectOk(engine.tokenize(TEXT), 'tokenize');
  expectOk(engine.run(ids, TOP_K), 'run');
  for (const [layer, head] of [
    [info.n_layer, 0],
    [0, info.n_head],
    [-1, 1],
  ]) {
    const r = engine.setHeadGain(layer, head, 0);
    console.log(`setHeadGain(${layer}, ${head}): ${r.error}`);
    assert.equal(r.ok, false);
    assert.ok(r.error.includes(`${layer}.${head}`), `error does not name layer ${layer} head ${head}`);
  }
  const nan = engine.setHeadGain(0, 0, NaN);
  console.log(`setHeadGain(0, 0, NaN): ${nan.error}`);
  assert.equal(nan.ok, false);

  const empty = engine.run(new Int32Array(0), TOP_K);
  console.log(`run([]): ${empty.error}`);
  assert.equal(empty.ok, false);
  assert.match(empty.error, /empty/);
  const outside = engine.run(new Int32Array([0, info.vocab_size]), TOP_K);
  console.log(`run([0, V]): ${outside.error}`);
  assert.equal(outside.ok, false);
  assert.ok(outside.error.includes(String(info.vocab_size)));
  const badK = engine.run(ids, 0);
  console.log(`run(ids, 0): ${badK.error}`);
  assert.equal(badK.ok, false);
  const notArray = engine.run(42, TOP_K);
  console.log(`run(42): ${notArray.error}`);
  assert.equal(notArray.ok, false);
  const badDecode = engine.decode(new Int32Array([-1]));
  assert.equal(badDecode.ok, false);
  const noTrace = new Module.Engine();
  expectOk(loadFolder(noTrace, readModelFolder(FIXTURES[1].dir)), 'loadModel');
  assert.equal(noTrace.getTrace().ok, false);
  assert.equal(noTrace.update().ok, false);
  noTrace.delete();
});

test('text longer than n_positions is truncated and the trace says so', () => {
  const info = expectOk(loadFolder(engine, readModelFolder(FIXTURES[0].dir)), 'loadModel');
  let text = TEXT;
  let ids = expectOk(engine.tokenize(text), 'tokenize').ids;
  while (ids.length <= info.n_positions) {
    text += ` ${TEXT}`;
    ids = expectOk(engine.tokenize(text), 'tokenize').ids;
  }
  expectOk(engine.run(ids, TOP_K), 'run');
  const trace = expectOk(engine.getTrace(), 'getTrace');
  console.log(`${ids.length} tokens into n_positions ${info.n_positions}: T=${trace.T}, ` +
    `truncated=${trace.truncated}`);
  assert.equal(trace.truncated, true);
  assert.equal(trace.T, info.n_positions);
  assert.equal(trace.n_input_tokens, ids.length);
  assert.deepEqual(Array.from(trace.ids), Array.from(ids.subarray(0, info.n_positions)));
});

for (const fixture of FIXTURES) {
  test(`${fixture.name}: update() after setHeadGain equals a fresh full run bit for bit`, () => {
    const files = readModelFolder(fixture.dir);
    const info = expectOk(loadFolder(engine, files), 'loadModel');
    const { ids } = expectOk(engine.tokenize(TEXT), 'tokenize');
    expectOk(engine.run(ids, TOP_K), 'run');
    const base = expectOk(engine.getTrace(), 'getTrace');
    const baseLogits = expectOk(engine.getLogits(), 'getLogits').logits;

    const layer = Math.floor(info.n_layer / 2);
    const head = info.n_head - 1;
    expectOk(engine.setHeadGain(layer, head, 0), 'setHeadGain');
    const upd = expectOk(engine.update(), 'update');
    assert.equal(upd.from_layer, layer);
    const edited = expectOk(engine.getTrace(), 'getTrace');
    const editedLogits = expectOk(engine.getLogits(), 'getLogits').logits;
    assert.equal(edited.gains[layer * info.n_head + head], 0);
    // Nothing changed since: update is a no-op that says so.
    assert.equal(expectOk(engine.update(), 'update').from_layer, info.n_layer);

    // A second engine with the same gain, full run from scratch.
    const fresh = new Module.Engine();
    expectOk(loadFolder(fresh, files), 'loadModel');
    expectOk(fresh.setHeadGain(layer, head, 0), 'setHeadGain');
    expectOk(fresh.run(ids, TOP_K), 'run');
    const full = expectOk(fresh.getTrace(), 'getTrace');
    const fullLogits = expectOk(fresh.getLogits(), 'getLogits').logits;
    fresh.delete();

    const logitsChange = maxAbsDiff(editedLogits, baseLogits);
    console.log(`${fixture.name}: mute ${layer}.${head} changes logits by up to ` +
      `${logitsChange.toExponential(2)}; update() vs full run: logits ` +
      `${sameBits(editedLogits, fullLogits) ? 'identical bits' : 'DIFFER'}, attn ` +
      `${sameBits(edited.attn, full.attn) ? 'identical bits' : 'DIFFER'}`);
    assert.ok(logitsChange > 0, 'muting a head changed nothing');
    assert.ok(sameBits(editedLogits, fullLogits), 'logits of update() differ from a full run');
    assert.ok(sameBits(edited.attn, full.attn), 'attention of update() differs from a full run');
    assert.ok(sameBits(edited.loss, full.loss));
    assert.ok(sameBits(edited.top_k_probs, full.top_k_probs));
    assert.ok(sameBits(edited.top_k_ids, full.top_k_ids));
    // Layers below the edit keep their attention exactly.
    const below = layer * info.n_head * base.T * base.T;
    assert.ok(sameBits(edited.attn.subarray(0, below), base.attn.subarray(0, below)));

    // Gain 1 again restores the original pass exactly.
    expectOk(engine.clearHeadGains(), 'clearHeadGains');
    assert.equal(expectOk(engine.update(), 'update').from_layer, layer);
    const restored = expectOk(engine.getLogits(), 'getLogits').logits;
    assert.ok(sameBits(restored, baseLogits), 'clearing the gains did not restore the logits');
  });
}

for (const fixture of FIXTURES) {
  test(`${fixture.name}: updateAt(t) then finishUpdate() equals a fresh full run bit for bit`, () => {
    const files = readModelFolder(fixture.dir);
    const info = expectOk(loadFolder(engine, files), 'loadModel');
    const { ids } = expectOk(engine.tokenize(TEXT), 'tokenize');
    const fresh = new Module.Engine();
    expectOk(loadFolder(fresh, files), 'loadModel');
    let checked = 0;
    // Every layer (the first rerun layer reuses its cached attention; the
    // last runs one row first), at the last, the first and a middle position.
    for (let layer = 0; layer < info.n_layer; layer++) {
      for (const position of [-1, 0, Math.floor(ids.length / 2)]) {
        const head = (layer + 1) % info.n_head;
        expectOk(engine.clearHeadGains(), 'clearHeadGains');
        expectOk(engine.run(ids, TOP_K), 'run');
        expectOk(engine.setHeadGain(layer, head, 0), 'setHeadGain');
        const at = expectOk(engine.updateAt(position), 'updateAt');
        const t = position === -1 ? ids.length - 1 : position;
        assert.equal(at.from_layer, layer);
        assert.equal(at.position, t);
        expectOk(engine.finishUpdate(), 'finishUpdate');
        const split = expectOk(engine.getTrace(), 'getTrace');
        const splitLogits = expectOk(engine.getLogits(), 'getLogits').logits;

        expectOk(fresh.clearHeadGains(), 'clearHeadGains');
        expectOk(fresh.setHeadGain(layer, head, 0), 'setHeadGain');
        expectOk(fresh.run(ids, TOP_K), 'run');
        const full = expectOk(fresh.getTrace(), 'getTrace');
        const fullLogits = expectOk(fresh.getLogits(), 'getLogits').logits;
        const K = full.top_k;
        // The first phase's figures are the full run's at t.
        assert.ok(sameBits(at.top_k_ids, full.top_k_ids.subarray(t * K, (t + 1) * K)), 'top-k ids at t');
        assert.ok(sameBits(at.top_k_probs, full.top_k_probs.subarray(t * K, (t + 1) * K)), 'top-k probs at t');
        assert.deepEqual(at.top_k_tokens, full.top_k_tokens.slice(t * K, (t + 1) * K));
        assert.ok(Object.is(at.loss, full.loss[t]) || at.loss === full.loss[t], 'loss at t');
        // And after the second, everything is.
        assert.ok(sameBits(splitLogits, fullLogits), 'logits');
        assert.ok(sameBits(split.attn, full.attn), 'attention');
        assert.ok(sameBits(split.loss, full.loss), 'loss');
        assert.ok(sameBits(split.top_k_ids, full.top_k_ids), 'top-k ids');
        assert.ok(sameBits(split.top_k_probs, full.top_k_probs), 'top-k probs');
        assert.ok(Object.is(split.mean_loss, full.mean_loss), 'mean loss');
        checked++;
      }
    }
    // A trace read without finishUpdate() finishes it: still the full run.
    expectOk(engine.setHeadGain(0, 0, 0.25), 'setHeadGain');
    expectOk(engine.updateAt(-1), 'updateAt');
    const implicit = expectOk(engine.getLogits(), 'getLogits').logits;
    expectOk(fresh.setHeadGain(0, 0, 0.25), 'setHeadGain');
    expectOk(fresh.update(), 'update');
    assert.ok(sameBits(implicit, expectOk(fresh.getLogits(), 'getLogits').logits));
    // Nothing edited since: from_layer says so.
    assert.equal(expectOk(engine.updateAt(-1), 'updateAt').from_layer, info.n_layer);
    const outside = engine.updateAt(ids.length);
    console.log(`${fixture.name}: updateAt + finishUpdate == full run at ${checked} (layer, position) pairs; ` +
      `updateAt(${ids.length}): ${outside.error}`);
    assert.equal(outside.ok, false);
    assert.match(outside.error, /position/);
    fresh.delete();
  });
}

test('changing topK keeps the head gains', () => {
  const info = expectOk(loadFolder(engine, readModelFolder(FIXTURES[1].dir)), 'loadModel');
  const { ids } = expectOk(engine.tokenize(TEXT), 'tokenize');
  expectOk(engine.setHeadGain(0, 0, 0.5), 'setHeadGain');
  expectOk(engine.run(ids, 2), 'run');
  const k2 = expectOk(engine.getTrace(), 'getTrace');
  expectOk(engine.run(ids, 7), 'run');
  const k7 = expectOk(engine.getTrace(), 'getTrace');
  assert.equal(k2.top_k, 2);
  assert.equal(k7.top_k, 7);
  assert.equal(k7.gains[0], 0.5);
  assert.equal(k7.gains.length, info.n_layer * info.n_head);
  assert.ok(sameBits(k2.attn, k7.attn));
  for (let t = 0; t < k2.T; t++) {
    assert.deepEqual(Array.from(k7.top_k_ids.subarray(t * 7, t * 7 + 2)),
      Array.from(k2.top_k_ids.subarray(t * 2, t * 2 + 2)));
  }
});

test('ids past the tokenizer in a padded vocabulary show as unused, not as an error', () => {
  const tokenizerFiles = readModelFolder(FIXTURES[0].dir);
  const n_tokens = Object.keys(JSON.parse(tokenizerFiles.vocabJson)).length;
  const config = { n_layer: 1, n_head: 2, n_embd: 16, n_positions: 64, vocab_size: n_tokens + 5 };
  const safetensors = writeSafetensors(gpt2Tensors(config));
  // The padding rows are scaled copies of real ones, so their logits are
  // large and win the top-k at many positions.
  const wte = tensorView(safetensors, 'wte.weight');  // (V, C)
  const C = config.n_embd;
  for (let j = 0; j < 5; j++) {
    for (let c = 0; c < C; c++) wte[(n_tokens + j) * C + c] = 50 * wte[j * C + c];
  }
  const padded = new Module.Engine();
  expectOk(padded.loadModel(JSON.stringify(config), safetensors, tokenizerFiles.vocabJson,
    tokenizerFiles.mergesTxt), 'loadModel');
  const { ids } = expectOk(padded.tokenize(TEXT), 'tokenize');
  expectOk(padded.run(ids, TOP_K), 'run');
  const trace = expectOk(padded.getTrace(), 'getTrace');
  padded.delete();
  const unused = trace.top_k_tokens.filter((s) => s.startsWith('<unused id '));
  console.log(`vocab ${n_tokens} tokens + 5 padding ids: ${unused.length} of ` +
    `${trace.top_k_tokens.length} top-k entries are padding ids, e.g. ${unused[0]}`);
  assert.ok(unused.length > 0);
  for (let i = 0; i < trace.top_k_ids.length; i++) {
    if (trace.top_k_ids[i] >= n_tokens) {
      assert.equal(trace.top_k_tokens[i], `<unused id ${trace.top_k_ids[i]}>`);
    }
  }
});
