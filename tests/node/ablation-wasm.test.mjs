// The scan and the pruning curves through Embind (ablationScan,
// pruningCurve): each scan figure equals the wasm engine's own
// mute-and-rerun (setHeadGain 0, update) bit for bit, each pruning point a
// run with those heads muted; bad arguments come back as messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { uniformInts } from '../../scripts/lib/random.mjs';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from './wasm-helpers.mjs';

const same = (a, b) => Object.is(Math.fround(a), Math.fround(b));

for (const name of ['tiny-gpt', 'tiny-attn-only']) {
  test(`${name}: ablationScan and pruningCurve equal mute-and-rerun in wasm`, async () => {
    const mod = await createModule();
    const engine = new mod.Engine();
    const info = expectOk(loadFolder(engine, readModelFolder(path.join(REPO_ROOT, 'tests/fixtures', name))), 'loadModel');
    const { n_layer: L, n_head: H } = info;
    const ids = Int32Array.from(uniformInts(30, info.vocab_size, 17));
    expectOk(engine.run(ids, 3), 'run');
    const base = expectOk(engine.getTraceWithoutAttention(), 'trace');
    const scan = expectOk(engine.ablationScan('zero', 10), 'ablationScan');
    assert.equal(scan.position, 10);
    assert.ok(same(scan.mean_loss, base.mean_loss));
    let equal = 0;
    for (let i = 0; i < L * H; i++) {
      expectOk(engine.setHeadGain(Math.floor(i / H), i % H, 0), 'setHeadGain');
      expectOk(engine.update(), 'update');
      const edited = expectOk(engine.getTraceWithoutAttention(), 'trace');
      const dLoss = Math.fround(edited.mean_loss - base.mean_loss);
      const dLogprob = Math.fround(base.loss[10] - edited.loss[10]);
      equal += same(dLoss, scan.delta_mean_loss[i]) && same(dLogprob, scan.delta_logprob[i]);
      expectOk(engine.setHeadGain(Math.floor(i / H), i % H, 1), 'setHeadGain');
    }
    expectOk(engine.update(), 'update');

    const curve = expectOk(engine.pruningCurve('zero', 4, 7), 'pruningCurve');
    let points = 0;
    for (let k = 0; k <= L * H; k += 3) {
      const gains = new Float32Array(L * H).fill(1);
      for (let i = 0; i < k; i++) gains[curve.order[i]] = 0;
      expectOk(engine.setHeadGains(gains), 'setHeadGains');
      expectOk(engine.run(ids, 3), 'run');
      points += same(expectOk(engine.getTraceWithoutAttention(), 'trace').mean_loss, curve.mean_loss[k]);
    }
    const checked = Math.floor((L * H) / 3) + 1;
    console.log(`${name} wasm: ${equal} of ${L * H} scan figures and ${points} of ${checked} pruning points equal mute-and-rerun bit for bit`);
    assert.equal(equal, L * H);
    assert.equal(points, checked);
    assert.equal(curve.mean_loss.length, L * H + 1);
    assert.equal(curve.random_order.length, L * H);

    const bad = engine.ablationScan('half', -1);
    const far = engine.ablationScan('zero', 29);
    const rescan = engine.pruningCurve('mean', 0, 1);
    console.log(`errors: ${bad.error} | ${far.error} | ${rescan.error}`);
    assert.match(bad.error, /^ablationScan: unknown ablation mode 'half'/);
    assert.match(far.error, /^ablationScan: .*position 29 is outside 0\.\.28/);
    assert.match(rescan.error, /^pruningCurve: pruning: rescan every 0 heads/);
    engine.delete();
  });
}
