// Mean ablation and `headlight analyze` on the command line:
// - `headlight run --json --edit L.H=mean [--mean-text TEXT]` against the
//   independent float64 reference (tests/reference/gpt2-reference.mjs) with
//   the head's z replaced by its mean over the reference text's positions,
//   computed by the unedited reference model (max error printed, <= 1e-4);
// - `headlight analyze --json` on the shipped models: the shape of its one
//   JSON object, the heads the model cards name (attn-only-2l: 0.2
//   previous-token, 1.1 1.2 1.3 1.5 induction; gpt-4l: 0.1 previous-token,
//   1.2 1.5 1.6 induction, each score >= 0.4 as head_types.h's rule), and
//   bad arguments, each refused with one line naming the problem.
//
// Binary: $HEADLIGHT_BIN, or build/native/headlight (npm test builds it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { loadReferenceModel, referenceForward } from '../reference/gpt2-reference.mjs';
import { uniformInts } from '../../scripts/lib/random.mjs';
import { maxAbsDiff } from './compare.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.resolve(ROOT, process.env.HEADLIGHT_BIN ?? 'build/native/headlight');
const FIXTURES = path.join(ROOT, 'tests/fixtures');
const TOLERANCE = 1e-4;
const MEAN_TEXT = 'the boats coming home along the shore';

function headlight(args, input) {
  assert.ok(existsSync(BIN), `no engine binary at ${BIN} (build it, or set HEADLIGHT_BIN)`);
  return spawnSync(BIN, args, { encoding: 'utf8', maxBuffer: 1 << 28, input });
}

function json(args) {
  const result = headlight(args);
  assert.equal(result.status, 0, `headlight ${args.join(' ')} failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

// (T, V) float64 log-softmax losses -log p(ids[t+1]) for t < T-1.
function losses(logits, ids, V) {
  const out = [];
  for (let t = 0; t + 1 < ids.length; t++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[t * V + v]);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[t * V + v] - max);
    out.push(Math.log(sum) - (logits[t * V + ids[t + 1]] - max));
  }
  return out;
}

// Head (l, h)'s mean z (D) over every position of the unedited reference on ids.
function referenceMean(model, ids, l, h) {
  const { n_head: H, n_embd: C } = model.config;
  const D = C / H;
  const z = referenceForward(model, ids).z[l]; // (T, H, D)
  const mean = new Float64Array(D);
  for (let t = 0; t < ids.length; t++) {
    for (let d = 0; d < D; d++) mean[d] += z[(t * H + h) * D + d] / ids.length;
  }
  return mean;
}

for (const name of ['tiny-gpt', 'tiny-attn-only']) {
  test(`${name}: --edit L.H=mean matches the reference with z replaced by its mean`, () => {
    const dir = path.join(FIXTURES, name);
    const model = loadReferenceModel(dir);
    const { n_layer: L, n_head: H, vocab_size: V } = model.config;
    const ids = uniformInts(20, V, 31);
    const meanIds = headlight(['tokenize', '--model', dir], MEAN_TEXT).stdout.trim().split(/\s+/).map(Number);
    assert.ok(meanIds.length > 3, `tokenized the mean text into ${meanIds.length} ids`);
    const cases = [
      { label: `mean 0.1 (own text)`, heads: [[0, 1]], reference: ids, args: [] },
      { label: `mean ${L - 1}.${H - 1} + 0.2 (--mean-text)`, heads: [[L - 1, H - 1], [0, 2]], reference: meanIds, args: ['--mean-text', MEAN_TEXT] },
    ];
    const unedited = json(['run', '--model', dir, '--ids', ids.join(','), '--dump-logits', '--json']);
    for (const { label, heads, reference, args } of cases) {
      const runArgs = ['run', '--model', dir, '--ids', ids.join(','), '--dump-logits', '--json', ...args];
      for (const [l, h] of heads) runArgs.push('--edit', `${l}.${h}=mean`);
      const out = json(runArgs);
      const zReplace = heads.map(([l, h]) => ({ layer: l, head: h, z: referenceMean(model, reference, l, h) }));
      const ref = referenceForward(model, ids, { zReplace });
      const logitsError = maxAbsDiff(out.logits.flat(), ref.logits);
      const refLoss = losses(ref.logits, ids, V);
      const lossError = maxAbsDiff(out.loss.slice(0, -1), refLoss);
      const moved = maxAbsDiff(out.logits.flat(), unedited.logits.flat());
      console.log(`${name} ${label}: logits max error ${logitsError.toExponential(2)}, ` +
        `loss max error ${lossError.toExponential(2)} (logits moved ${moved.toExponential(2)} from unedited)`);
      assert.ok(moved > 1e-3, 'the mean ablation must move the logits');
      assert.ok(logitsError <= TOLERANCE, `logits error ${logitsError}`);
      assert.ok(lossError <= TOLERANCE, `loss error ${lossError}`);
    }
  });
}

test('run: a bad mean edit names the problem', () => {
  const dir = path.join(FIXTURES, 'tiny-gpt');
  for (const [args, pattern] of [
    [['--edit', '0.1=means'], /bad --edit '0\.1=means': gain/],
    [['--edit', '2.1=mean'], /head 2\.1 out of range/],
    [['--mean-text', 'x'], /--mean-text needs an --edit L\.H=mean/],
  ]) {
    const result = headlight(['run', '--model', dir, '--text', 'hello there', ...args]);
    console.log(`run ${args.join(' ')}: exit ${result.status}: ${result.stderr.trim()}`);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, pattern);
    assert.equal(result.stderr.trim().split('\n').length, 1);
  }
});

// A repeated random-token text (the probe's kind), as ids: 2 x 32 tokens.
function repeatedIds(V, seed) {
  const half = uniformInts(32, V - 1, seed);
  return [...half, ...half];
}

const SHIPPED = [
  { model: 'attn-only-2l', previous: ['0.2'], induction: ['1.7'] },
  { model: 'gpt-4l', previous: ['0.1'], induction: ['1.2', '1.5', '1.6'] },
];

for (const { model, previous, induction } of SHIPPED) {
  test(`analyze ${model}: finds the heads its model card names; every part has its shape`, () => {
    const dir = path.join(ROOT, 'models', model);
    const config = loadReferenceModel(dir).config;
    const { n_layer: L, n_head: H } = config;
    const ids = repeatedIds(config.vocab_size, 3);
    const out = json(['analyze', '--model', dir, '--ids', ids.join(','), '--json']);
    const at = (scores, name) => {
      const [l, h] = name.split('.').map(Number);
      return scores[l][h];
    };
    for (const [label, scores] of [['text', out.head_scores], ['probe', out.probe_scores]]) {
      const line = (kind, heads) => heads.map((n) => `${n} ${at(scores[kind], n).toFixed(3)}`).join(', ');
      console.log(`${model} ${label}: previous_token ${line('previous_token', previous)}; induction ${line('induction', induction)}`);
      for (const n of previous) assert.ok(at(scores.previous_token, n) >= 0.4, `${label} ${n} previous_token`);
      for (const n of induction) assert.ok(at(scores.induction, n) >= 0.4, `${label} ${n} induction`);
    }
    assert.deepEqual(out.ids, ids);
    assert.equal(out.tokens.length, ids.length);
    for (const key of ['previous_token', 'first_token', 'duplicate_token', 'induction', 'local', 'entropy']) {
      for (const scores of [out.head_scores, out.probe_scores]) {
        assert.equal(scores[key].length, L);
        assert.ok(scores[key].every((row) => row.length === H && row.every((v) => v >= 0 && v <= 1 + 1e-6)));
      }
    }
    const { ablation, pruning } = out;
    assert.equal(ablation.mode, 'zero');
    assert.equal(ablation.position, ids.length - 2);
    assert.equal(ablation.delta_mean_loss.length, L);
    assert.ok(ablation.delta_logprob.every((row) => row.length === H && row.every(Number.isFinite)));
    assert.equal(pruning.order.length, L * H);
    assert.equal(new Set(pruning.order).size, L * H);
    assert.equal(pruning.random_order.length, L * H);
    assert.equal(pruning.mean_loss.length, L * H + 1);
    assert.equal(pruning.random_mean_loss.length, L * H + 1);
    // The curves start at the unedited loss, the scan's base.
    assert.equal(pruning.mean_loss[0], ablation.mean_loss);
    assert.equal(pruning.random_mean_loss[0], ablation.mean_loss);
    // The first head removed is one the scan found least important.
    const least = Math.min(...ablation.delta_mean_loss.flat());
    assert.equal(at(ablation.delta_mean_loss, pruning.order[0]), least);
    // The copying score of each head's OV circuit, in [-1, 1]; which induction heads copy.
    assert.equal(out.copying.length, L);
    assert.ok(out.copying.every((row) => row.length === H && row.every((v) => v >= -1 && v <= 1)));
    console.log(`${model} copying of the induction heads: ${induction.map((n) => `${n} ${at(out.copying, n).toFixed(2)}`).join(', ')}`);
    const half = (L * H) / 2;
    const deltas = ablation.delta_mean_loss.flat();
    const top = deltas.indexOf(Math.max(...deltas));
    console.log(`${model} scan: most important head ${Math.floor(top / H)}.${top % H} ` +
      `(delta mean loss ${deltas[top].toFixed(3)}); pruning loss ${pruning.mean_loss[0].toFixed(3)} -> ` +
      `half ${pruning.mean_loss[half].toFixed(3)} (random ${pruning.random_mean_loss[half].toFixed(3)}) -> all ${pruning.mean_loss[L * H].toFixed(3)}`);
  });
}

test('analyze: mean mode and a chosen position', () => {
  const dir = path.join(FIXTURES, 'tiny-gpt');
  const out = json(['analyze', '--model', dir, '--ids', uniformInts(16, 400, 5).join(','), '--mode', 'mean', '--position', '3', '--json']);
  assert.equal(out.ablation.mode, 'mean');
  assert.equal(out.pruning.mode, 'mean');
  assert.equal(out.ablation.position, 3);
  console.log(`tiny-gpt mean scan at 3: delta logprob of 0.0 ${out.ablation.delta_logprob[0][0]}`);
});

// The analyze object's gradient and similarity parts (issue 16's JSON shape):
// against headlight run on the same ids, the scan's base loss and each
// head's delta equal a run with the head muted; the gradient equals a
// central difference of run's mean loss in the head's gain; the similarity
// is [L*H][L*H], symmetric, 1 on its diagonal, in [0, 1].
test('analyze: gradient and similarity against headlight run (tiny-gpt)', () => {
  const dir = path.join(FIXTURES, 'tiny-gpt');
  const ids = uniformInts(24, 400, 9);
  const out = json(['analyze', '--model', dir, '--ids', ids.join(','), '--json']);
  const { n_layer: L, n_head: H } = out;
  const meanLoss = (edit) => json(['run', '--model', dir, '--ids', ids.join(','), '--json',
    ...(edit ? ['--edit', edit] : [])]).mean_loss;
  assert.equal(out.gradient.length, L);
  assert.ok(out.gradient.every((row) => row.length === H && row.every(Number.isFinite)));
  assert.ok(Math.abs(out.gradient_rank_correlation) <= 1);
  const base = meanLoss(null);
  let deltaErr = 0;
  let gradErr = 0;
  const EPS = 1e-2;
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < H; h++) {
      deltaErr = Math.max(deltaErr, Math.abs(meanLoss(`${l}.${h}=0`) - base - out.ablation.delta_mean_loss[l][h]));
      const fd = (meanLoss(`${l}.${h}=${1 + EPS}`) - meanLoss(`${l}.${h}=${1 - EPS}`)) / (2 * EPS);
      gradErr = Math.max(gradErr, Math.abs(out.gradient[l][h] - fd) / Math.max(Math.abs(fd), 1e-2));
    }
  }
  const n = L * H;
  assert.equal(out.similarity.length, n);
  let asymmetry = 0;
  let diagonal = 0;
  let outside = 0;
  for (let a = 0; a < n; a++) {
    assert.equal(out.similarity[a].length, n);
    diagonal = Math.max(diagonal, Math.abs(out.similarity[a][a] - 1));
    for (let b = 0; b < n; b++) {
      asymmetry = Math.max(asymmetry, Math.abs(out.similarity[a][b] - out.similarity[b][a]));
      const v = out.similarity[a][b];
      if (!(v >= -1e-6 && v <= 1 + 1e-6)) outside += 1;
    }
  }
  console.log(`tiny-gpt analyze vs run: base loss ${out.ablation.mean_loss} vs ${base}; delta mean loss max |diff| ${deltaErr.toExponential(2)}; ` +
    `gradient vs central difference (eps ${EPS}) max rel error ${gradErr.toExponential(2)}; rank correlation ${out.gradient_rank_correlation.toFixed(3)}; ` +
    `similarity ${n}x${n}: max asymmetry ${asymmetry.toExponential(2)}, diagonal off 1 by ${diagonal.toExponential(2)}, ${outside} outside [0, 1]`);
  assert.ok(Math.abs(out.ablation.mean_loss - base) <= 1e-6, 'the scan starts from the unedited run');
  assert.ok(deltaErr <= 1e-6, `delta mean loss off by ${deltaErr}`);
  assert.ok(gradErr <= 1e-2, `gradient relative error ${gradErr}`);
  assert.ok(asymmetry <= 1e-6 && diagonal <= 1e-5 && outside === 0);
});

test('analyze: a text longer than n_positions is cut to its start, and stderr says so', () => {
  const dir = path.join(FIXTURES, 'tiny-gpt');
  const result = headlight(['analyze', '--model', dir, '--text', 'the hen '.repeat(40), '--json']);
  assert.equal(result.status, 0, result.stderr);
  const out = JSON.parse(result.stdout);
  const note = result.stderr.trim();
  console.log(`analyze of 80 words: ${out.ids.length} ids, truncated ${out.truncated}; "${note}"`);
  assert.equal(note.split('\n').length, 1);
  assert.match(note, /input has \d+ tokens; the model reads at most 64 \(n_positions\), so only the first 64 were analyzed/);
  assert.equal(out.ids.length, 64);
  assert.equal(out.truncated, true);
  const short = json(['analyze', '--model', dir, '--text', 'the hen '.repeat(4), '--json']);
  assert.equal(short.truncated, false);
});

test('analyze: bad arguments exit non-zero with one line naming the problem', () => {
  const dir = path.join(FIXTURES, 'tiny-gpt');
  for (const [args, pattern] of [
    [['--text', 'hello there', '--mode', 'half'], /unknown ablation mode 'half'/],
    [['--ids', '1,2,3', '--position', '2'], /position 2 is outside 0\.\.1/],
    [['--ids', '1,2,3', '--position', '-1'], /bad --position '-1'/],
    [[], /no text/],
    [['--text', 'hello', '--frobnicate'], /unknown option '--frobnicate'/],
    [['--ids', '1'], /needs at least 2 tokens/],
    [['--text', 'hello', '--ids', '1,2'], /more than one text: give one --text or one --ids/],
    [['--ids', '1,2,443'], /token id 443 at position 2/],
    [['--ids', '1,x'], /bad --ids/],
    [['--text', 'hello', '--rescan-every', '0'], /bad --rescan-every '0': expected a whole number >= 1/],
    [['--text', 'hello', '--seed', '-3'], /bad --seed '-3': expected a whole number >= 0/],
  ]) {
    const result = headlight(['analyze', '--model', dir, ...args, '--json']);
    console.log(`analyze ${args.join(' ')}: exit ${result.status}: ${result.stderr.trim()}`);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, pattern);
    assert.equal(result.stderr.trim().split('\n').length, 1);
    assert.equal(result.stdout, '');
  }
});
