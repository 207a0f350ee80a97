// Logit lens + direct logit attribution in wasm (Node, one thread), next to
// a full forward pass measured in the same run, at 64 tokens, on
// models/gpt-4l and on the GPT-2-small shape (random weights; gpt-4l's
// tokenizer, whose ids all fit GPT-2's vocabulary).
//
// The default the page asks for, logitLens(position, 5, answer, foil,
// allPositions = false): every layer at the selected position plus the
// attribution there; target <= 1.5 forward passes. The whole (L+1) x T grid
// (allPositions = true) is L times the forward pass's LM head, reported.
// Prints a table; asserts nothing. Run by `npm run bench`, or alone with
// `node bench/lens.mjs` after scripts/build-wasm.sh.
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import { gpt2Tensors, writeSafetensors } from '../tests/node/random-gpt2.mjs';
import { REPO_ROOT, createModule, expectOk, readModelFolder } from '../tests/node/wasm-helpers.mjs';
import { medianMs } from '../scripts/lib/timing.mjs';
import { uniformInts } from '../scripts/lib/random.mjs';

const T = 64;
const TARGET_RATIO = 1.5;
const rows = [];


async function benchModel(label, files, runs) {
  const Module = await createModule();
  const engine = new Module.Engine();
  const info = expectOk(engine.loadModel(files.configJson, files.safetensors, files.vocabJson,
    files.mergesTxt), 'loadModel');
  // Half random ids, repeated: the lens and DLA cost does not depend on them.
  const half = uniformInts(T / 2, 3000, 11);
  const ids = Int32Array.from([...half, ...half]);
  const answer = ids[T / 2 + 1];  // what the last position would copy next
  const foil = ids[T / 2 + 2];
  const forward = medianMs(() => expectOk(engine.run(ids, 5), 'run'), runs);
  const lensDefault = medianMs(
    () => expectOk(engine.logitLens(-1, 5, answer, foil, false), 'logitLens'), runs);
  const grid = medianMs(() => expectOk(engine.logitLens(-1, 5, answer, -1, true), 'logitLens'),
    Math.max(3, runs >> 1));
  const dla = expectOk(engine.logitLens(-1, 5, answer, foil, false), 'logitLens').dla;
  const ratio = lensDefault.cpu / forward.cpu;
  const ms = (m) => `${m.cpu.toFixed(1)} ms (wall ${m.wall.toFixed(1)})`;
  console.log(`${label}: ${info.n_layer} layers, d ${info.n_embd}, vocab ${info.vocab_size}, T=${T}`);
  console.log(`  forward ${ms(forward)}; lens at one position + DLA ${ms(lensDefault)} ` +
    `= ${ratio.toFixed(2)} forward passes (target <= ${TARGET_RATIO}: ${ratio <= TARGET_RATIO ? 'pass' : 'MISS'}); ` +
    `lens at every position ${ms(grid)} = ${(grid.cpu / forward.cpu).toFixed(2)} forward passes; ` +
    `DLA |total - actual| ${Math.abs(dla.total - dla.actual).toExponential(1)}`);
  rows.push([label, forward.cpu, lensDefault.cpu, ratio, grid.cpu, grid.cpu / forward.cpu]);
  engine.delete();
}

console.log(`Logit lens + attribution, wasm (SIMD128) in Node ${process.version}, single thread; ` +
  `load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
const gpt4l = readModelFolder(path.join(REPO_ROOT, 'models/gpt-4l'));
await benchModel('gpt-4l', gpt4l, 9);
const small = { n_layer: 12, n_head: 12, n_embd: 768, n_positions: 1024, vocab_size: 50257 };
await benchModel('GPT-2-small shape', {
  ...gpt4l,
  configJson: JSON.stringify({ model_type: 'gpt2', layer_norm_epsilon: 1e-5, ...small }),
  safetensors: writeSafetensors(gpt2Tensors(small)),
}, 5);
console.log('| model (cpu time) | forward | lens@t + DLA | ratio (<= 1.5) | lens, all T | ratio |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const [label, f, d, r, g, gr] of rows) {
  console.log(`| ${label} | ${f.toFixed(1)} ms | ${d.toFixed(1)} ms | ${r.toFixed(2)} | ${g.toFixed(1)} ms | ${gr.toFixed(2)} |`);
}
