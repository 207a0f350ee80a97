// The page's figures of which heads matter, in Node (no DOM): the overlay's
// sign (views/importance-overlay.ts), the pruning slider's edits and their
// recognition (views/pruning.ts), the CSV and JSON exports
// (views/importance-export.ts) on hand-made results, and the chart's ticks.
// Prints the figures it checks.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { importTs } from './ts-import.mjs';

let overlay, pruning, exporter, chart, results, appState;

before(async () => {
  overlay = await importTs('web/src/views/importance-overlay.ts');
  pruning = await importTs('web/src/views/pruning.ts');
  exporter = await importTs('web/src/views/importance-export.ts');
  chart = await importTs('web/src/views/pruning-chart.ts');
  results = await importTs('web/src/views/importance-results.ts');
  appState = await importTs('web/src/state/app-state.ts');
});

const L = 2, H = 3;
const model = { name: 'toy', n_layer: L, n_head: H, n_embd: 12, n_positions: 16, vocab_size: 50, attn_only: false, n_params: 0, bytes: 0, load_ms: 0 };
const ids = Int32Array.from([5, 9, 5, 9]);

function scanResult(kind, delta) {
  return {
    kind, model: 'toy', ids, n_layer: L, n_head: H, position: 2, mean_loss: 2.5, logprob: -1.25,
    delta_mean_loss: Float32Array.from(delta), delta_logprob: Float32Array.from(delta, (d) => -2 * d),
    gradient: new Float32Array(0), cancelled: false, compute_ms: 1,
  };
}

function curvesOf(mode) {
  return {
    model: 'toy', ids, n_layer: L, n_head: H, mode, rescan_every: 4, seed: 1,
    order: Int32Array.from([4, 0, 5, 1, 3, 2]),
    mean_loss: Float32Array.from([2.5, 2.51, 2.6, 2.9, 3.3, 4, 5.5]),
    random_order: Int32Array.from([1, 2, 3, 4, 5, 0]),
    random_mean_loss: Float32Array.from([2.5, 2.8, 3.1, 3.6, 4.1, 4.9, 5.5]),
    compute_ms: 5,
  };
}

test('overlay sign: > 0 means removing the head raises the loss, for every kind', () => {
  const scan = scanResult('zero', [0.5, -0.25, 0, NaN, 1, 2]);
  const loss = overlay.helpOf(scan, 'loss');
  const logp = overlay.helpOf(scan, 'logprob');
  const grad = overlay.helpOf({ ...scan, kind: 'gradient', gradient: Float32Array.from([-0.5, 0.25, 0, 0, 0, 0]) }, 'loss');
  console.log(`  loss ${[...loss]}, -Δlogp ${[...logp]}, -grad ${[...grad].slice(0, 2)}, scale ${overlay.scaleOf(loss)}, signed ${overlay.signed(0.0123)} ${overlay.signed(-2)}`);
  assert.deepEqual([...loss.slice(0, 3)], [0.5, -0.25, 0]);
  assert.deepEqual([...logp.slice(0, 2)], [1, -0.5]);
  assert.deepEqual([...grad.slice(0, 2)], [0.5, -0.25]);
  assert.equal(overlay.scaleOf(loss), 2);
  assert.equal(overlay.signed(0.0123), '+0.012');
  assert.equal(overlay.signed(-2), '-2');
});

for (const mode of ['zero', 'mean']) {
  test(`pruning slider (${mode}): the first k removals as edits, and recognised again`, () => {
    const state = appState.createState();
    appState.setModel(state, model);
    const curves = curvesOf(mode);
    const seen = [];
    for (const k of [0, 1, 3, 6, 2]) {
      pruning.applyFirstRemovals(state, curves, k);
      const removed = mode === 'zero'
        ? [...state.gains].flatMap((g, i) => (g === 0 ? [i] : []))
        : state.meanHeads.map((h) => h.layer * H + h.head);
      seen.push(`${k}:${removed.length}`);
      assert.deepEqual(removed.sort(), [...curves.order.slice(0, k)].sort());
      assert.equal(pruning.removalsShown(state, curves), k);
    }
    // An edit of the reader's own that is not a prefix: not recognised.
    pruning.applyFirstRemovals(state, curves, 2);
    appState.setGain(state, 0, 2, 0.5);
    console.log(`  ${mode}: k:removed ${seen.join(' ')}; with a hand edit ${pruning.removalsShown(state, curves)}`);
    assert.equal(pruning.removalsShown(state, curves), -1);
  });
}

test('exports: heads CSV, pruning CSV and JSON hold the results exactly', () => {
  const store = new results.ImportanceResults();
  const delta = [0.5, -0.25, 0.125, 0.1, 1e-7, 2];
  store.setImportance(scanResult('mean', delta));
  store.setPruning(curvesOf('zero'));
  const scores = (f) => Float32Array.from({ length: L * H }, (_, i) => f(i));
  const analysis = {
    model: 'toy', ids, tokens: ['a', 'b', 'a', 'b'], n_layer: L, n_head: H,
    head_types: {
      previous_token: scores((i) => i / 10), first_token: scores(() => 0.1), duplicate_token: scores(() => 0),
      induction: scores((i) => 1 - i / 10), local: scores(() => 0.5), entropy: scores(() => 0.3),
      types: ['previous_token', 'none', 'induction', 'none', 'local', 'none'], threshold: 0.4,
    },
  };
  const csv = exporter.headsCsv(analysis, store).trim().split('\n');
  const header = csv[0].split(',');
  const rows = csv.slice(1).map((line) => Object.fromEntries(line.split(',').map((v, i) => [header[i], v])));
  const back = rows.map((r) => Number(r.delta_mean_loss));
  const f32 = Float32Array.from(delta);
  console.log(`  heads CSV: ${rows.length} rows, columns ${header.length}; delta back exactly: ${back.every((v, i) => v === f32[i])}; head 1.1 rank ${rows[4].pruning_rank}`);
  assert.equal(rows.length, L * H);
  assert.ok(back.every((v, i) => v === f32[i]));
  assert.equal(rows[4].pruning_rank, '1');
  assert.equal(rows[2].type, 'induction');
  assert.equal(rows[0].gradient, '', 'no gradient computed: an empty cell');

  const pruningRows = exporter.pruningCsv(store.pruning).trim().split('\n');
  console.log(`  pruning CSV: ${pruningRows.length} rows; row 1 ${pruningRows[1]}`);
  assert.equal(pruningRows.length, 8);
  assert.equal(pruningRows[1].split(',')[0], '0');
  assert.equal(pruningRows[2].split(',')[2], '1.1');

  const json = JSON.parse(exporter.importanceJson(analysis, 'abab', store));
  console.log(`  JSON: ${json.format}, scan ${json.scan.mode} [${json.scan.delta_mean_loss.length}][${json.scan.delta_mean_loss[0].length}], pruning order ${json.pruning.order.join(' ')}`);
  assert.equal(json.scan.delta_mean_loss[1][1], f32[4]);
  assert.equal(json.gradient, null);
  assert.deepEqual(json.pruning.order, ['1.1', '0.0', '1.2', '0.1', '1.0', '0.2']);
  assert.deepEqual(json.head_types.types[0], ['previous_token', 'none', 'induction']);

  // Other tokens: everything is forgotten.
  assert.equal(store.clearUnless('toy', Int32Array.from([1, 2])), true);
  assert.equal(store.scan, null);
  assert.equal(store.pruning, null);
});

test('chart ticks are round steps inside the range', () => {
  const t = chart.ticks(2.37, 5.61);
  const small = chart.ticks(0.012, 0.031);
  console.log(`  ticks of [2.37, 5.61]: ${t.join(' ')}; of [0.012, 0.031]: ${small.join(' ')}`);
  assert.deepEqual(t, [3, 4, 5]);
  assert.deepEqual(small, [0.015, 0.02, 0.025, 0.03]);
});
