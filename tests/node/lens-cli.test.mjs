// `headlight lens --json` against the float64 reference (tests/reference/
// lens-reference.mjs) on the tiny-gpt and tiny-attn-only fixtures: the
// logit lens's top-5 probabilities at every layer and position, the
// answer's rank and probability, and every part of the direct logit
// attribution, with and without a head edit; and the bad inputs that must
// exit non-zero with one line naming the problem.
// Binary: $HEADLIGHT_BIN, or build/native/headlight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

import { loadReferenceModel, referenceForward } from '../reference/gpt2-reference.mjs';
import { referenceAttribution, referenceLens } from '../reference/lens-reference.mjs';
import { REPO_ROOT } from './wasm-helpers.mjs';

const BIN = path.resolve(REPO_ROOT, process.env.HEADLIGHT_BIN ?? 'build/native/headlight');
const TEXT = 'The farmer saw the hens in the barn, and the farmer fed the';
const TOLERANCE = 1e-4;

function lens(args) {
  return spawnSync(BIN, ['lens', ...args], { encoding: 'utf8' });
}

function checkAgainstReference(fixture, edit) {
  const dir = path.join(REPO_ROOT, 'tests/fixtures', fixture);
  const position = 9;
  const args = ['--model', dir, '--text', TEXT, '--answer', ' the', '--foil', ' a',
    '--position', String(position), '--json'];
  if (edit) args.push('--edit', `${edit.layer}.${edit.head}=${edit.gain}`);
  const r = lens(args);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);

  const model = loadReferenceModel(dir);
  const { n_layer: L, n_head: H } = model.config;
  const gains = Array.from({ length: L }, () => new Array(H).fill(1));
  if (edit) gains[edit.layer][edit.head] = edit.gain;
  const forward = referenceForward(model, out.ids, { headGains: gains });
  const ref = referenceLens(model, forward, out.answer.id);
  const T = out.ids.length;
  assert.equal(out.layers.length, L + 1);
  let lensErr = 0;
  let answerErr = 0;
  let rankMismatches = 0;
  for (let l = 0; l <= L; l++) {
    assert.equal(out.layers[l].length, T);
    for (let t = 0; t < T; t++) {
      const top = out.layers[l][t];
      assert.equal(top.length, 5);
      const { probs, rank } = ref[l][t];
      // The five best of the reference, in order (ties aside).
      const best = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]).slice(0, 5);
      for (let k = 0; k < 5; k++) {
        lensErr = Math.max(lensErr, Math.abs(top[k].prob - probs[top[k].id]),
          Math.abs(top[k].prob - probs[best[k]]));
      }
      answerErr = Math.max(answerErr, Math.abs(out.answer.prob[l][t] - probs[out.answer.id]));
      if (out.answer.rank[l][t] !== rank) rankMismatches++;
    }
  }

  const dla = out.dla;
  const refDla = referenceAttribution(model, forward, out.ids, position, out.answer.id, out.foil.id,
    gains);
  let dlaErr = 0;
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < H; h++) dlaErr = Math.max(dlaErr, Math.abs(dla.heads[l][h] - refDla.heads[l][h]));
    dlaErr = Math.max(dlaErr, Math.abs(dla.mlps[l] - refDla.mlps[l]));
  }
  for (const key of ['embed', 'bias', 'total', 'actual']) {
    dlaErr = Math.max(dlaErr, Math.abs(dla[key] - refDla[key]));
  }
  const sumErr = Math.abs(dla.total - dla.actual);
  const refSumErr = Math.abs(refDla.total - refDla.actual);
  console.log(`${fixture}${edit ? ` edit ${edit.layer}.${edit.head}=${edit.gain}` : ''}: ` +
    `lens top-5 prob max err ${lensErr.toExponential(2)}, answer prob ${answerErr.toExponential(2)}, ` +
    `rank mismatches ${rankMismatches} of ${(L + 1) * T}; DLA parts max err ${dlaErr.toExponential(2)}; ` +
    `|total - actual| engine ${sumErr.toExponential(2)}, reference ${refSumErr.toExponential(2)} ` +
    `(actual ${dla.actual.toFixed(4)})`);
  assert.ok(lensErr <= TOLERANCE, `lens probabilities differ by ${lensErr}`);
  assert.ok(answerErr <= TOLERANCE, `answer probabilities differ by ${answerErr}`);
  assert.equal(rankMismatches, 0);
  assert.ok(dlaErr <= TOLERANCE, `attribution parts differ by ${dlaErr}`);
  assert.ok(sumErr <= 1e-4 * Math.max(1, Math.abs(dla.actual)), `parts sum off by ${sumErr}`);
  assert.ok(refSumErr <= 1e-9, `reference parts sum off by ${refSumErr}`);
  // The last lens row is the model's own prediction.
  return out;
}

test('headlight lens: lens and attribution equal the float64 reference (tiny-gpt)', () => {
  assert.ok(existsSync(BIN), `no engine binary at ${BIN} (build it, or set HEADLIGHT_BIN)`);
  checkAgainstReference('tiny-gpt');
  checkAgainstReference('tiny-gpt', { layer: 1, head: 2, gain: 0.25 });
});

test('headlight lens: lens and attribution equal the float64 reference (tiny-attn-only)', () => {
  const out = checkAgainstReference('tiny-attn-only');
  assert.deepEqual(out.dla.mlps, new Array(out.dla.mlps.length).fill(0));
  checkAgainstReference('tiny-attn-only', { layer: 0, head: 1, gain: 0 });
});

test('headlight lens: the last lens row is headlight run\'s top-5 (run prints 6 digits)', () => {
  const dir = path.join(REPO_ROOT, 'tests/fixtures/tiny-gpt');
  const out = JSON.parse(lens(['--model', dir, '--text', TEXT, '--json']).stdout);
  const run = spawnSync(BIN, ['run', '--model', dir, '--text', TEXT, '--json'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const { top_k: topK } = JSON.parse(run.stdout);
  const last = out.layers[out.layers.length - 1];
  let maxDiff = 0;
  for (let t = 0; t < topK.length; t++) {
    for (let k = 0; k < 5; k++) {
      assert.equal(last[t][k].id, topK[t][k].id);
      maxDiff = Math.max(maxDiff, Math.abs(last[t][k].prob - topK[t][k].prob));
    }
  }
  console.log(`last lens row vs run's top-5: max prob diff ${maxDiff} over ${topK.length} positions`);
  assert.ok(maxDiff <= 1e-6);
  assert.equal(out.dla, undefined);
});

test('headlight lens: bad input exits non-zero with one line naming the problem', () => {
  const dir = path.join(REPO_ROOT, 'tests/fixtures/tiny-gpt');
  const cases = [
    [['--text', 'the hen', '--answer', ' Mary', '--foil', ' a'], /--answer ' Mary' is \d+ tokens \(.*\); give a single token/],
    [['--text', 'the hen', '--answer', ' the', '--foil', ''], /--foil '' is 0 tokens; give a single token/],
    [['--text', 'the hen', '--position', '40'], /--position 40 is out of range: the text is \d+ tokens/],
    [['--text', 'the hen', '--position', '-1'], /bad --position '-1'/],
    [['--text', 'the hen', '--frobnicate'], /unknown option '--frobnicate'/],
    [['--text', 'the hen', '--edit', '1.9=0'], /head 1\.9 out of range/],
    [['--text', 'the hen', '--answer', ' the', '--foil', ' the'], /answer and foil are the same token/],
    [['--text', 'the hen '.repeat(40)], /the text is \d+ tokens; the model reads at most 64 \(n_positions\)/],
    [['--text', 'the hen', '--foil', ' a'], /--foil needs --answer/],
    [['--answer', ' the'], /--model DIR and --text TEXT are required/],
    [['--text', ''], /empty text: nothing to run/],
  ];
  for (const [args, pattern] of cases) {
    const r = lens(['--model', dir, ...args, '--json']);
    const lines = r.stderr.trim().split('\n');
    console.log(`  ${args.slice(2).join(' ')} -> exit ${r.status}: ${lines[0]}`);
    assert.notEqual(r.status, 0);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], pattern);
    assert.equal(r.stdout, '');
  }
});
