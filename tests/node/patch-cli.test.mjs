// `headlight patch --json` against the float64 reference (tests/reference/
// gpt2-reference.mjs: zReplace for a head's z, residualReplace for a row of
// the residual stream) on the tiny-gpt and tiny-attn-only fixtures: the two
// metrics and every patched metric of both maps (<= 1e-4, max errors
// printed); with --metric logprob the answer's log-prob, of the two runs
// and of a few head and residual patches; with --per-position every head's z at each position, and with
// --path-sender a path patch (qkvInput: the receivers' chosen inputs from
// the corrupted stream plus the sender's difference), against the same
// reference; and the bad inputs that must exit non-zero with one line
// naming the problem. Binary: $HEADLIGHT_BIN, or build/native/headlight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import {
  loadReferenceModel, pathPatchInputs, referenceForward, referenceLogProb,
} from '../reference/gpt2-reference.mjs';
import { REPO_ROOT } from './wasm-helpers.mjs';

const BIN = path.resolve(REPO_ROOT, process.env.HEADLIGHT_BIN ?? 'build/native/headlight');
const CLEAN = 'The farmer saw the hens in the barn, and the farmer fed the';
const CORRUPTED = 'The farmer saw the cows in the barn, and the farmer fed the';
const TOLERANCE = 1e-4;

function patch(args) {
  return spawnSync(BIN, ['patch', ...args], { encoding: 'utf8' });
}

// logit(answer) - logit(foil) at the last position of a reference forward.
function metricOf(forward, answer, foil) {
  const V = forward.config.vocab_size;
  const row = (forward.T - 1) * V;
  return forward.logits[row + answer] - forward.logits[row + foil];
}

for (const fixture of ['tiny-gpt', 'tiny-attn-only']) {
  test(`headlight patch on ${fixture} matches the float64 reference`, () => {
    const dir = path.join(REPO_ROOT, 'tests/fixtures', fixture);
    const r = patch(['--model', dir, '--clean', CLEAN, '--corrupted', CORRUPTED,
      '--answer', ' the', '--foil', ' a', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.metric_kind, 'logit_diff'); // without --metric: the logit difference
    const model = loadReferenceModel(dir);
    const { n_layer: L, n_head: H, n_embd: C } = model.config;
    const D = C / H;
    const T = out.clean_ids.length;
    assert.equal(out.corrupted_ids.length, T);
    assert.equal(out.head_z.length, L);
    assert.equal(out.residual.length, L + 1);

    // The CLI's answer and foil ids: the tokenizer's, read back from a lens run.
    const lens = spawnSync(BIN, ['lens', '--model', dir, '--text', CLEAN, '--answer', ' the',
      '--foil', ' a', '--json'], { encoding: 'utf8' });
    assert.equal(lens.status, 0, lens.stderr);
    const { answer: { id: answer }, foil: { id: foil } } = JSON.parse(lens.stdout);

    const clean = referenceForward(model, out.clean_ids);
    const corrupted = referenceForward(model, out.corrupted_ids);
    const refClean = metricOf(clean, answer, foil);
    const refCorrupted = metricOf(corrupted, answer, foil);
    const metricErr = Math.max(Math.abs(out.metric.clean - refClean),
      Math.abs(out.metric.corrupted - refCorrupted));
    const span = out.metric.clean - out.metric.corrupted;
    // The CLI prints recovery; its patched metric is corrupted + recovery * span.
    const patched = (recovery) => out.metric.corrupted + recovery * span;

    let headErr = 0;
    for (let l = 0; l < L; l++) {
      assert.equal(out.head_z[l].length, H);
      for (let h = 0; h < H; h++) {
        const z = new Float64Array(T * D); // (T, D) head (l, h) of the clean run
        for (let t = 0; t < T; t++) {
          for (let d = 0; d < D; d++) z[t * D + d] = clean.z[l][(t * H + h) * D + d];
        }
        const ref = metricOf(referenceForward(model, out.corrupted_ids,
          { zReplace: [{ layer: l, head: h, z }] }), answer, foil);
        headErr = Math.max(headErr, Math.abs(patched(out.head_z[l][h]) - ref));
      }
    }
    let residualErr = 0;
    for (let l = 0; l <= L; l++) {
      assert.equal(out.residual[l].length, T);
      for (let t = 0; t < T; t++) {
        const x = clean.residual[l].subarray(t * C, (t + 1) * C);
        const ref = metricOf(referenceForward(model, out.corrupted_ids,
          { residualReplace: [{ layer: l, position: t, x }] }), answer, foil);
        residualErr = Math.max(residualErr, Math.abs(patched(out.residual[l][t]) - ref));
      }
    }
    console.log(`${fixture}: T ${T}, metric clean ${out.metric.clean.toFixed(5)} corrupted ` +
      `${out.metric.corrupted.toFixed(5)}; max |error| metrics ${metricErr.toExponential(2)}, ` +
      `head z ${headErr.toExponential(2)} (${L * H} patches), residual ` +
      `${residualErr.toExponential(2)} (${(L + 1) * T} patches)`);
    assert.ok(metricErr <= TOLERANCE, `metric error ${metricErr}`);
    assert.ok(headErr <= TOLERANCE, `head z patch error ${headErr}`);
    assert.ok(residualErr <= TOLERANCE, `residual patch error ${residualErr}`);
    // The exact ends: every row of the stream entering ln_f before the last
    // leaves the metric alone; the last row is the clean run.
    for (let t = 0; t < T - 1; t++) assert.ok(out.residual[L][t] === 0, `residual[L][${t}]`);
    assert.equal(out.residual[L][T - 1], 1);
  });
}

// The CLI's answer and foil ids: the tokenizer's, read back from a lens run.
function answerAndFoil(dir) {
  const lens = spawnSync(BIN, ['lens', '--model', dir, '--text', CLEAN, '--answer', ' the',
    '--foil', ' a', '--json'], { encoding: 'utf8' });
  assert.equal(lens.status, 0, lens.stderr);
  const { answer: { id: answer }, foil: { id: foil } } = JSON.parse(lens.stdout);
  return { answer, foil };
}

for (const fixture of ['tiny-gpt', 'tiny-attn-only']) {
  test(`headlight patch --metric logprob on ${fixture} matches the float64 reference`, () => {
    const dir = path.join(REPO_ROOT, 'tests/fixtures', fixture);
    const base = ['--model', dir, '--clean', CLEAN, '--corrupted', CORRUPTED, '--answer', ' the',
      '--metric', 'logprob', '--json'];
    // The log-prob reads no foil: without --foil, and with one (unused), the same output.
    const r = patch(base);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.metric_kind, 'logprob');
    const withFoil = patch([...base, '--foil', ' a']);
    assert.equal(withFoil.status, 0, withFoil.stderr);
    assert.deepEqual(JSON.parse(withFoil.stdout), out);
    const model = loadReferenceModel(dir);
    const { n_layer: L, n_head: H, n_embd: C } = model.config;
    const D = C / H;
    const T = out.clean_ids.length;
    const { answer } = answerAndFoil(dir);
    const logProb = (forward) => referenceLogProb(forward, T - 1, answer);

    const clean = referenceForward(model, out.clean_ids);
    const corrupted = referenceForward(model, out.corrupted_ids);
    const metricErr = Math.max(Math.abs(out.metric.clean - logProb(clean)),
      Math.abs(out.metric.corrupted - logProb(corrupted)));
    const span = out.metric.clean - out.metric.corrupted;
    const patched = (recovery) => out.metric.corrupted + recovery * span;
    let firstDiff = 0;
    while (out.clean_ids[firstDiff] === out.corrupted_ids[firstDiff]) firstDiff++;

    // A few heads (first and last of the first and last layer) and rows.
    let headErr = 0;
    const heads = [[0, 0], [0, H - 1], [L - 1, 1], [L - 1, H - 1]];
    for (const [l, h] of heads) {
      const z = new Float64Array(T * D); // (T, D) head (l, h) of the clean run
      for (let t = 0; t < T; t++) {
        for (let d = 0; d < D; d++) z[t * D + d] = clean.z[l][(t * H + h) * D + d];
      }
      const ref = logProb(referenceForward(model, out.corrupted_ids,
        { zReplace: [{ layer: l, head: h, z }] }));
      headErr = Math.max(headErr, Math.abs(patched(out.head_z[l][h]) - ref));
    }
    let residualErr = 0;
    const rows = [[0, firstDiff], [1, firstDiff], [L - 1, T - 2], [L, T - 1], [1, T - 1]];
    for (const [l, t] of rows) {
      const x = clean.residual[l].subarray(t * C, (t + 1) * C);
      const ref = logProb(referenceForward(model, out.corrupted_ids,
        { residualReplace: [{ layer: l, position: t, x }] }));
      residualErr = Math.max(residualErr, Math.abs(patched(out.residual[l][t]) - ref));
    }
    console.log(`${fixture}: log p(answer) clean ${out.metric.clean.toFixed(5)} corrupted ` +
      `${out.metric.corrupted.toFixed(5)}; max |error| metrics ${metricErr.toExponential(2)}, ` +
      `head z ${headErr.toExponential(2)} (${heads.length} patches), residual ` +
      `${residualErr.toExponential(2)} (${rows.length} patches)`);
    assert.ok(metricErr <= TOLERANCE, `metric error ${metricErr}`);
    assert.ok(headErr <= TOLERANCE, `head z patch error ${headErr}`);
    assert.ok(residualErr <= TOLERANCE, `residual patch error ${residualErr}`);
    assert.equal(out.residual[L][T - 1], 1);
  });
}

for (const fixture of ['tiny-gpt', 'tiny-attn-only']) {
  test(`headlight patch --per-position and --path-sender on ${fixture} match the float64 reference`, () => {
    const dir = path.join(REPO_ROOT, 'tests/fixtures', fixture);
    const base = ['--model', dir, '--clean', CLEAN, '--corrupted', CORRUPTED, '--answer', ' the',
      '--foil', ' a', '--json'];
    const plain = patch(base);
    assert.equal(plain.status, 0, plain.stderr);
    const model = loadReferenceModel(dir);
    const { n_layer: L, n_head: H, n_embd: C } = model.config;
    const D = C / H;
    const { answer, foil } = answerAndFoil(dir);

    // Every head at every position alone: zReplace with the corrupted z and
    // the clean row at t.
    const r = patch([...base, '--per-position']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    // The opt-in key only: the maps of the plain call are unchanged.
    assert.deepEqual({ ...out, head_z_pos: undefined }, { ...JSON.parse(plain.stdout), head_z_pos: undefined });
    const T = out.clean_ids.length;
    const clean = referenceForward(model, out.clean_ids);
    const corrupted = referenceForward(model, out.corrupted_ids);
    const span = out.metric.clean - out.metric.corrupted;
    const patched = (recovery) => out.metric.corrupted + recovery * span;
    let posErr = 0;
    assert.equal(out.head_z_pos.length, L);
    for (let l = 0; l < L; l++) {
      assert.equal(out.head_z_pos[l].length, H);
      for (let h = 0; h < H; h++) {
        assert.equal(out.head_z_pos[l][h].length, T);
        for (let t = 0; t < T; t++) {
          const z = new Float64Array(T * D); // (T, D) head (l, h): corrupted, clean at t
          for (let i = 0; i < T; i++) {
            const from = i === t ? clean : corrupted;
            for (let d = 0; d < D; d++) z[i * D + d] = from.z[l][(i * H + h) * D + d];
          }
          const ref = metricOf(referenceForward(model, out.corrupted_ids,
            { zReplace: [{ layer: l, head: h, z }] }), answer, foil);
          posErr = Math.max(posErr, Math.abs(patched(out.head_z_pos[l][h][t]) - ref));
        }
      }
    }

    // Path patches: the receivers' chosen inputs from the corrupted stream
    // plus the sender's difference (pathPatchInputs).
    const paths = [
      { sender: [0, 1], receivers: [[1, 0], [1, 2]], into: ['q', 'k', 'v'] },
      { sender: [0, 0], receivers: [[1, 3]], into: ['k'] },
      { sender: [0, 2], receivers: [[1, 1], [1, 3]], into: ['q', 'v'] },
    ];
    let pathErr = 0;
    for (const p of paths) {
      const [ls, hs] = p.sender;
      const args = [...base, '--path-sender', `${ls}.${hs}`, '--path-receivers',
        p.receivers.map(([l, h]) => `${l}.${h}`).join(','), '--path-into', p.into.join(',')];
      const rp = patch(args);
      assert.equal(rp.status, 0, rp.stderr);
      const got = JSON.parse(rp.stdout).path;
      assert.equal(got.sender, `${ls}.${hs}`);
      assert.deepEqual(got.into, p.into);
      const qkvInput = pathPatchInputs(model, clean, corrupted, p.sender, p.receivers, p.into);
      const ref = metricOf(referenceForward(model, out.corrupted_ids, { qkvInput }), answer, foil);
      pathErr = Math.max(pathErr, Math.abs(got.metric - ref));
      assert.ok(Math.abs(got.recovery - (got.metric - out.metric.corrupted) / span) <= 1e-5);
      console.log(`${fixture}: path ${got.sender} -> ${got.receivers.join(',')} (${got.into.join('')}): ` +
        `metric ${got.metric.toFixed(5)} (reference ${ref.toFixed(5)}), recovery ${got.recovery.toFixed(4)}`);
    }
    console.log(`${fixture}: max |error| per-position head z ${posErr.toExponential(2)} ` +
      `(${L * H * T} patches), path ${pathErr.toExponential(2)} (${paths.length} paths)`);
    assert.ok(posErr <= TOLERANCE, `per-position error ${posErr}`);
    assert.ok(pathErr <= TOLERANCE, `path error ${pathErr}`);
  });
}

test('headlight patch refuses bad input with one line naming the problem', () => {
  const dir = path.join(REPO_ROOT, 'tests/fixtures/tiny-gpt');
  const base = ['--model', dir, '--clean', CLEAN, '--corrupted', CORRUPTED];
  const cases = [
    [[...base.slice(0, 4), '--corrupted', 'The farmer saw the hens in the field, and the farmer fed the',
      '--answer', ' the', '--foil', ' a'], /clean text is 26 tokens and the corrupted text 27/],
    [[...base, '--answer', ' hens', '--foil', ' a'], /--answer ' hens' is \d+ tokens \(.*\); give a single token/],
    [[...base, '--answer', ' the', '--foil', ' cows'], /--foil ' cows' is \d+ tokens/],
    [[...base, '--answer', ' the', '--foil', ' a', '--position', '3'], /unknown option '--position'/],
    [[...base, '--answer', ' the'], /--foil is required/],
    [[...base, '--answer', ' the', '--foil', ' the'], /--answer and --foil are the same token/],
    [[...base, '--answer', ' the', '--foil', ' a', '--metric', 'prob'],
      /unknown metric 'prob' \(expected logit_diff or logprob\)/],
    [[...base, '--answer', ' the', '--metric', 'prob'], /unknown metric 'prob'/],
    [[...base, '--metric', 'logprob', '--answer', ' hens'], /--answer ' hens' is \d+ tokens/],
    [[...base.slice(0, 2), '--clean', '', '--corrupted', '', '--answer', ' the', '--foil', ' a'], /empty text: nothing to patch/],
    [[...base.slice(0, 2), '--clean', 'the hen '.repeat(40), '--corrupted', 'the hen '.repeat(39) + 'the cow ',
      '--answer', ' the', '--foil', ' a'], /the texts are \d+ tokens; the model reads at most 64 \(n_positions\)/],
    [[...base, '--answer', ' the', '--foil'], /option --foil needs a value/],
    [[...base, '--answer', ' the', '--foil', ' a', '--path-sender', '0.1'],
      /--path-sender and --path-receivers go together/],
    [[...base, '--answer', ' the', '--foil', ' a', '--path-sender', '1.1', '--path-receivers', '1.2'],
      /receiver 1\.2 is not in a layer above the sender 1\.1/],
    [[...base, '--answer', ' the', '--foil', ' a', '--path-sender', '0.9', '--path-receivers', '1.2'],
      /--path-sender '0\.9': expected L\.H/],
    [[...base, '--answer', ' the', '--foil', ' a', '--path-sender', '0.1', '--path-receivers', '1.2',
      '--path-into', 'q,x'], /--path-into 'q,x': expected q, k and\/or v/],
  ];
  for (const [args, message] of cases) {
    const r = patch(args);
    assert.notEqual(r.status, 0, `accepted: ${args.join(' ')}`);
    const lines = r.stderr.trim().split('\n');
    console.log(`exit ${r.status}: ${lines[0]}`);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], message);
  }
});
