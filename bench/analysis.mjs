// Which-heads-matter benchmark of the wasm engine in Node (one thread), on the
// page's default model (models/gpt-4l), against the targets:
//   exact ablation scan (every head alone, zero)   64 tokens <= 300 ms; also 128
//   pruning curves (exact, re-scan every 4; and the random order beside it)
//                                                  64 tokens <= 3 s
//   syntax probe (every sentence of web/public/probes/brown-pos.json run
//   alone, pairs and chance)                       no target: the page's wait
//   copying scores (OV eigenvalues of every head)   no target: part of loading
// next to one rerun from layer 0 (the naive scan is L x H of those). Median of
// a few calls (the first warms up); wall and this process's CPU time (on a
// shared machine the CPU time shows the cost without the other load).
// Prints a table; asserts nothing. Run by `npm run bench`, or alone with
// `node bench/analysis.mjs` after scripts/build-wasm.sh. With
// HEADLIGHT_BASELINE_WASM=DIR (another build's headlight.{js,wasm}) the scan
// at 64 tokens is also timed on that build, calls interleaved, and the
// after/before ratio printed, with how far the two scans' Δ mean loss differ
// (equal bit for bit unless a kernel's arithmetic changed).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import { medianMs, medianMsInterleaved } from '../scripts/lib/timing.mjs';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from '../tests/node/wasm-helpers.mjs';

const MODEL = 'gpt-4l';
const CALLS = 5;


const mod = await createModule();
const engine = new mod.Engine();
const info = expectOk(loadFolder(engine, readModelFolder(path.join(REPO_ROOT, 'models', MODEL))), 'loadModel');
const heads = info.n_layer * info.n_head;
const prose =
  'The old lighthouse keeper climbed the stairs every evening to light the lamp, and the ships ' +
  'that passed the rocks at night never knew his name. One winter a storm broke the glass, and ' +
  'he carried the lamp up the hill to the church tower, where it burned until the morning. ';
const allIds = expectOk(engine.tokenize(prose.repeat(4)), 'tokenize').ids;

const rows = [];
for (const T of [64, 128]) {
  const ids = allIds.slice(0, T);
  expectOk(engine.run(ids, 5), 'run');
  const rerun = medianMs(() => {
    engine.setHeadGain(0, 0, 0);
    expectOk(engine.update(), 'update');
    engine.setHeadGain(0, 0, 1);
    expectOk(engine.update(), 'update');
  }, CALLS);
  const one = { wall: rerun.wall / 2, cpu: rerun.cpu / 2 };
  rows.push({ what: `one rerun from layer 0, ${T} tokens`, ...one, target: '' });
  rows.push({ what: `  naive scan (${heads} reruns), ${T} tokens`, wall: one.wall * heads, cpu: one.cpu * heads, target: '' });
  for (const mode of ['zero', 'mean']) {
    const scan = medianMs(() => expectOk(engine.ablationScan(mode, -1), 'ablationScan'), CALLS);
    rows.push({ what: `exact scan (${mode}), ${T} tokens`, ...scan, target: T === 64 ? 300 : null });
    // In reruns: the figure a loaded machine changes least.
    rows.push({ what: `  = ${(scan.cpu / one.cpu).toFixed(1)} reruns (naive: ${heads})`, wall: NaN, cpu: NaN, target: null });
  }
  if (T === 64) {
    const pruning = medianMs(() => expectOk(engine.pruningCurve('zero', 4, 1), 'pruningCurve'), 3);
    rows.push({ what: `pruning curves (zero, re-scan every 4), ${T} tokens`, ...pruning, target: 3000 });
    // The page's way: a part (one scan and its 4 removals) a call.
    const parts = medianMs(() => {
      let state = expectOk(engine.pruningStart('zero', 4, 1), 'pruningStart');
      while (!state.done) state = expectOk(engine.pruningStep(1), 'pruningStep');
    }, 3);
    rows.push({ what: `  the same in parts (pruningStep), ${T} tokens`, ...parts, target: 3000 });
  }
}

const copying = medianMs(() => expectOk(engine.copyingScores(), 'copyingScores'), 3);
rows.push({ what: `copying scores of ${heads} heads (weights only, once per load)`, ...copying, target: null });

const probe = readFileSync(path.join(REPO_ROOT, 'web/public/probes/brown-pos.json'), 'utf8');
const syntax = expectOk(engine.syntaxProbe(probe), 'syntaxProbe');
const probing = medianMs(() => expectOk(engine.syntaxProbe(probe), 'syntaxProbe'), 3);
rows.push({ what: `syntax probe, ${syntax.n_sentences} sentences (${syntax.n_tokens} tokens)`, ...probing, target: null });

console.log(`${MODEL} (${info.n_layer} layers x ${info.n_head} heads), wasm in Node, one thread`);
console.log('what'.padEnd(52) + 'wall ms'.padStart(10) + 'cpu ms'.padStart(10) + '  target');
for (const { what, wall, cpu, target } of rows) {
  const verdict = target ? `  <= ${target} ms: ${cpu <= target ? 'met' : 'MISSED'} (cpu)` : '';
  const ms = (x) => (Number.isNaN(x) ? '' : x.toFixed(1)).padStart(10);
  console.log(what.padEnd(52) + ms(wall) + ms(cpu) + verdict);
}

// The scan before and after a change, in the same run.
const BASELINE_DIR = process.env.HEADLIGHT_BASELINE_WASM;
if (BASELINE_DIR) {
  const baseModule = await createModule(path.resolve(BASELINE_DIR));
  const base = new baseModule.Engine();
  expectOk(loadFolder(base, readModelFolder(path.join(REPO_ROOT, 'models', MODEL))), 'loadModel');
  const ids = allIds.slice(0, 64);
  expectOk(engine.run(ids, 5), 'run');
  expectOk(base.run(ids, 5), 'run');
  for (const mode of ['zero', 'mean']) {
    const a = expectOk(base.ablationScan(mode, -1), 'ablationScan').delta_mean_loss;
    const b = expectOk(engine.ablationScan(mode, -1), 'ablationScan').delta_mean_loss;
    const same = a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
    const maxDiff = Math.max(...a.map((x, i) => Math.abs(x - b[i])));
    const m = medianMsInterleaved({
      before: () => expectOk(base.ablationScan(mode, -1), 'ablationScan'),
      after: () => expectOk(engine.ablationScan(mode, -1), 'ablationScan'),
    }, 2 * CALLS + 1);
    console.log(`exact scan (${mode}), 64 tokens, against ${BASELINE_DIR}: before ` +
      `${m.before.cpu.toFixed(1)} ms cpu (wall ${m.before.wall.toFixed(1)}), after ` +
      `${m.after.cpu.toFixed(1)} ms cpu (wall ${m.after.wall.toFixed(1)}): after/before ` +
      `${(m.after.cpu / m.before.cpu).toFixed(2)}; Δ mean loss ` +
      (same ? 'equal bit for bit' : `differs by at most ${maxDiff.toExponential(2)} nats (kernels changed)`));
  }
  base.delete();
}
engine.delete();
