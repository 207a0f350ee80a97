// The native engine (`headlight run --json`) against the independent float64
// reference (tests/reference/gpt2-reference.mjs) on both fixture models:
// attention, logits, losses, top-k, and head edits (mute, scale). Prints the
// max abs error of each comparison.
//
// Binary: $HEADLIGHT_BIN, or build/native/headlight (npm test builds it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadReferenceModel, referenceForward } from '../reference/gpt2-reference.mjs';
import { uniformInts } from '../../scripts/lib/random.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.resolve(ROOT, process.env.HEADLIGHT_BIN ?? 'build/native/headlight');
const FIXTURES = path.join(ROOT, 'tests/fixtures');
const TOLERANCE = 1e-4;

// A sentence in the fixtures' tokenizer domain, so it becomes multi-byte tokens.
const TEXT =
  'From the top of the tower she could see the whole bay, the boats coming home, ' +
  'and the lights of the town along the shore.';

function headlight(args) {
  assert.ok(existsSync(BIN), `no engine binary at ${BIN} (build it, or set HEADLIGHT_BIN)`);
  return spawnSync(BIN, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
}

// Runs the engine and parses its one JSON object; fails the test on any error.
function runJson(model, args) {
  const result = headlight(['run', '--model', path.join(FIXTURES, model), ...args, '--json']);
  assert.equal(result.status, 0, `headlight run ${args.join(' ')} failed: ${result.stderr}`);
  return { out: JSON.parse(result.stdout), stderr: result.stderr };
}

// Deterministic ids in [0, V).
const makeIds = (n, V, seed) => uniformInts(n, V, seed);

function maxAbsDiff(a, b) {
  assert.equal(a.length, b.length, 'arrays of different lengths');
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    assert.ok(Number.isFinite(d), `non-finite value at ${i}: ${a[i]} vs ${b[i]}`);
    max = Math.max(max, d);
  }
  return max;
}

// log-softmax of each row of logits (T, V), in float64.
function logSoftmax(logits, T, V) {
  const out = new Float64Array(T * V);
  for (let t = 0; t < T; t++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[t * V + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[t * V + v] - max);
    const logZ = max + Math.log(sum);
    for (let v = 0; v < V; v++) out[t * V + v] = logits[t * V + v] - logZ;
  }
  return out;
}

// Compares one engine run with the reference on the same ids and gains.
// Returns the max abs errors; asserts every one is within TOLERANCE.
function compare(label, engine, reference, ids) {
  const { n_layer: L, n_head: H, vocab_size: V } = reference.config;
  const T = ids.length;
  assert.deepEqual(engine.ids, ids);
  assert.equal(engine.tokens.length, T);

  const attn = maxAbsDiff(engine.attn.flat(3), reference.attn);
  assert.equal(engine.attn.length, L);
  assert.equal(engine.attn[0].length, H);

  const logits = maxAbsDiff(engine.logits.flat(), reference.logits);

  const logProbs = logSoftmax(reference.logits, T, V);
  let loss = 0;
  let meanLoss = 0;
  for (let t = 0; t + 1 < T; t++) {
    const expected = -logProbs[t * V + ids[t + 1]];
    loss = Math.max(loss, Math.abs(engine.loss[t] - expected));
    meanLoss += expected / (T - 1);
  }
  assert.equal(engine.loss[T - 1], null, 'loss at the last position is null');
  const meanLossError = T > 1 ? Math.abs(engine.mean_loss - meanLoss) : 0;

  // Top-k: probabilities match the reference softmax, best first.
  let topK = 0;
  for (let t = 0; t < T; t++) {
    const row = engine.top_k[t];
    for (let k = 0; k < row.length; k++) {
      topK = Math.max(topK, Math.abs(row[k].prob - Math.exp(logProbs[t * V + row[k].id])));
      if (k > 0) assert.ok(row[k].prob <= row[k - 1].prob, `top_k not sorted at ${t}`);
    }
    // Nothing left out is clearly more probable than the last one kept.
    const last = logProbs[t * V + row[row.length - 1].id];
    const kept = new Set(row.map((e) => e.id));
    for (let v = 0; v < V; v++) {
      if (!kept.has(v)) assert.ok(logProbs[t * V + v] <= last + 1e-5, `top_k misses ${v} at ${t}`);
    }
  }

  console.log(
    `${label}: T=${T} max abs error  attn ${attn.toExponential(2)}  logits ` +
      `${logits.toExponential(2)}  loss ${loss.toExponential(2)}  mean_loss ` +
      `${meanLossError.toExponential(2)}  top-k prob ${topK.toExponential(2)}`,
  );
  for (const [what, err] of Object.entries({ attn, logits, loss, meanLossError, topK })) {
    assert.ok(err <= TOLERANCE, `${label}: ${what} max abs error ${err} > ${TOLERANCE}`);
  }
  return { attn, logits };
}

for (const name of ['tiny-gpt', 'tiny-attn-only']) {
  const model = loadReferenceModel(path.join(FIXTURES, name));
  const { n_layer: L, n_head: H, n_positions: P, vocab_size: V } = model.config;

  test(`${name}: text through the engine matches the float64 reference`, () => {
    const { out } = runJson(name, ['--text', TEXT, '--top-k', '5', '--dump-logits']);
    assert.equal(out.truncated, false);
    assert.equal(out.n_input_tokens, out.ids.length);
    assert.ok(out.ids.length > 10 && out.ids.length < P, `tokenised to ${out.ids.length} ids`);
    assert.equal(out.tokens.join(''), TEXT, 'display tokens spell the text');
    compare(`${name} text`, out, referenceForward(model, out.ids), out.ids);
  });

  test(`${name}: all n_positions tokens match the float64 reference`, () => {
    const ids = makeIds(P, V, 42);
    const { out } = runJson(name, ['--ids', ids.join(','), '--top-k', '3', '--dump-logits']);
    compare(`${name} ids T=P`, out, referenceForward(model, ids), ids);
  });

  test(`${name}: head edits match the reference with the same gains`, () => {
    const ids = makeIds(40, V, 9);
    const unedited = runJson(name, ['--ids', ids.join(','), '--dump-logits']).out;
    const cases = [
      { label: 'mute 0.1', edits: [[0, 1, 0]] },
      { label: `mute ${L - 1}.${H - 1}`, edits: [[L - 1, H - 1, 0]] },
      { label: 'gain 0.5 on 1.2', edits: [[1 % L, 2 % H, 0.5]] },
      { label: 'mute 0.0 + gain 0.5 on 1.3 + gain 2 on 0.2', edits: [[0, 0, 0], [1 % L, 3 % H, 0.5], [0, 2 % H, 2]] },
    ];
    for (const { label, edits } of cases) {
      const gains = Array.from({ length: L }, () => new Array(H).fill(1));
      const args = ['--ids', ids.join(','), '--dump-logits'];
      for (const [l, h, g] of edits) {
        gains[l][h] = g;
        args.push('--edit', `${l}.${h}=${g}`);
      }
      const { out } = runJson(name, args);
      compare(`${name} ${label}`, out, referenceForward(model, ids, { headGains: gains }), ids);
      // The edit must be visible, or matching the reference proves nothing.
      const moved = maxAbsDiff(out.logits.flat(), unedited.logits.flat());
      console.log(`${name} ${label}: logits moved by ${moved.toExponential(2)} from unedited`);
      assert.ok(moved > 1e-3, `${label} did not change the logits`);
    }
  });

  test(`${name}: input longer than n_positions is truncated and says so`, () => {
    const ids = makeIds(P + 6, V, 77);
    const { out, stderr } = runJson(name, ['--ids', ids.join(','), '--dump-logits']);
    assert.equal(out.truncated, true);
    assert.equal(out.n_input_tokens, P + 6);
    assert.equal(out.ids.length, P);
    assert.match(stderr, new RegExp(`input has ${P + 6} tokens.*first ${P}`));
    assert.equal(stderr.trim().split('\n').length, 1, 'one notice line');
    compare(`${name} truncated`, out, referenceForward(model, ids.slice(0, P)), ids.slice(0, P));
  });
}

test('run: text from --text-file equals --text', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'headlight-run-'));
  const file = path.join(dir, 'text.txt');
  writeFileSync(file, TEXT);
  const fromFile = runJson('tiny-gpt', ['--text-file', file]).out;
  const fromArg = runJson('tiny-gpt', ['--text', TEXT]).out;
  assert.deepEqual(fromFile, fromArg);
});

test('run: bad input exits 1 with one stderr line naming the problem', () => {
  const gpt = path.join(FIXTURES, 'tiny-gpt');
  const badUtf8 = path.join(mkdtempSync(path.join(tmpdir(), 'headlight-run-')), 'bad.txt');
  writeFileSync(badUtf8, Buffer.from([0x61, 0x20, 0xff, 0x62]));
  const cases = [
    [['--model', gpt, '--text', 'hi', '--edit', '0.1'], /bad --edit '0\.1'/],
    [['--model', gpt, '--text', 'hi', '--edit', 'a.1=0'], /bad --edit 'a\.1=0': layer/],
    [['--model', gpt, '--text', 'hi', '--edit', '0.1=x'], /bad --edit '0\.1=x': gain/],
    [['--model', gpt, '--text', 'hi', '--edit', '2.0=0'], /head 2\.0 out of range: model has 2 layers x 4 heads/],
    [['--model', gpt, '--text', 'hi', '--edit', '0.4=0.5'], /head 0\.4 out of range/],
    [['--model', gpt, '--text', ''], /empty text: nothing to run/],
    [['--model', gpt, '--ids', '1,2,443'], /token id 443 at position 2/],
    [['--model', gpt, '--ids', '1,x'], /bad --ids/],
    [['--model', gpt, '--text', 'hi', '--top-k', '0'], /bad --top-k '0'/],
    // Issue 19: signs, spaces and hex are refused, as the parser says; a
    // limit is named; an index too large says so (not "not a whole number").
    [['--model', gpt, '--text', 'hi', '--edit', ' 0.0=1'], /bad --edit ' 0\.0=1': layer ' 0' is not a whole number/],
    [['--model', gpt, '--text', 'hi', '--edit', '+0.0=1'], /layer '\+0' is not a whole number/],
    [['--model', gpt, '--text', 'hi', '--edit', '0.0=0x10'], /gain '0x10' is not a finite number/],
    [['--model', gpt, '--text', 'hi', '--edit', '0.0=+1'], /gain '\+1' is not a finite number/],
    [['--model', gpt, '--text', 'hi', '--edit', '0.0= 1'], /gain ' 1' is not a finite number/],
    [['--model', gpt, '--text', 'hi', '--edit', '0.1048577=1'], /head 1048577 is out of range \(0 to 1048576\)/],
    [['--model', gpt, '--text', 'hi', '--top-k', '1000000000'], /from 1 to 1048576/],
    [['--model', gpt, '--text', 'hi there', ...['0', '1', '2', '3'].flatMap((h) => ['--edit', `0.${h}=3e38`])],
      /the edited model overflows/],
    [['--model', path.join(FIXTURES, 'no-such-model'), '--text', 'hi'], /no-such-model\/config\.json/],
    [['--model', FIXTURES, '--text', 'hi'], /config\.json/],
    [['--model', gpt, '--text-file', path.join(FIXTURES, 'no-such-file.txt')], /no-such-file\.txt/],
    [['--model', gpt, '--text-file', badUtf8], /UTF-8/i],
  ];
  for (const [args, expected] of cases) {
    const result = headlight(['run', ...args]);
    const shown = args.join(' ');
    assert.equal(result.status, 1, `${shown}: exit ${result.status}, stderr ${result.stderr}`);
    assert.equal(result.stdout, '', `${shown}: nothing on stdout`);
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `${shown}: one stderr line, got ${result.stderr}`);
    assert.match(lines[0], expected, shown);
  }
  // tokenize with --model and no value names the missing value.
  const tokenize = headlight(['tokenize', '--model']);
  assert.equal(tokenize.status, 2);
  assert.match(tokenize.stderr, /option --model needs a value/);
  console.log(`tokenize --model: ${tokenize.stderr.trim()}`);
});

test('run --text-file of 8 MB tokenizes only what it counts: "more than" 65,536 tokens, first n_positions run', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'headlight-big-'));
  const file = path.join(dir, 'big.txt');
  writeFileSync(file, `${TEXT} `.repeat(Math.ceil(8e6 / (TEXT.length + 1))));
  const t0 = process.hrtime.bigint();
  const { out, stderr } = runJson('tiny-gpt', ['--text-file', file]);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`8 MB --text-file: ${ms.toFixed(0)} ms; n_input_tokens ${out.n_input_tokens} (exact: ${out.n_input_tokens_exact}); ${stderr.trim()}`);
  assert.equal(out.n_input_tokens, 65536);
  assert.equal(out.n_input_tokens_exact, false);
  assert.equal(out.truncated, true);
  assert.match(stderr, /input has more than 65536 tokens.*first 64 were run/);
  // The same first ids as a run of the opening of the text.
  const small = runJson('tiny-gpt', ['--text', `${TEXT} ${TEXT} ${TEXT}`]).out;
  assert.deepEqual(out.ids, small.ids.slice(0, out.ids.length));
  assert.equal(small.n_input_tokens_exact, true);
});
