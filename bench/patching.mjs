// Activation patching in wasm (Node, one thread) at 64 tokens: the head-z
// map ([L x H] patched runs) and the residual map ([(L+1) x T] patched
// runs), each timed alone through patch(..., 'head_z' | 'residual') (the
// two runs of the prompts included), on models/gpt-4l (target <= 0.5 s
// each) and on the GPT-2-small shape (random weights; gpt-4l's tokenizer,
// whose ids all fit GPT-2's vocabulary; reported). Prints a table; asserts
// nothing. Run by `npm run bench`, or alone with `node bench/patching.mjs`
// after scripts/build-wasm.sh.
import os from 'node:os';
import path from 'node:path';

import { gpt2Tensors, writeSafetensors } from '../tests/node/random-gpt2.mjs';
import { REPO_ROOT, createModule, expectOk, readModelFolder } from '../tests/node/wasm-helpers.mjs';
import { medianMs } from '../scripts/lib/timing.mjs';
import { uniformInts } from '../scripts/lib/random.mjs';

const T = 64;
const TARGET_MS = 500;
const rows = [];

async function benchModel(label, files, runs, target) {
  const Module = await createModule();
  const engine = new Module.Engine();
  const info = expectOk(engine.loadModel(files.configJson, files.safetensors, files.vocabJson,
    files.mergesTxt), 'loadModel');
  // The induction prompt: random ids repeated; the corrupted one has another
  // first copy, so the second cannot be copied. The answer is what the last
  // position copies; the foil, what the corrupted first copy would give.
  const half = uniformInts(T / 2, 3000, 11);
  const other = uniformInts(T / 2, 3000, 12);
  const clean = Int32Array.from([...half, ...half]);
  const corrupted = Int32Array.from([...other, ...half]);
  const answer = half[0];
  const foil = other[0];
  const headZ = medianMs(
    () => expectOk(engine.patch(clean, corrupted, answer, foil, 'head_z'), 'patch'), runs);
  const residual = medianMs(
    () => expectOk(engine.patch(clean, corrupted, answer, foil, 'residual'), 'patch'), runs);
  const ms = (m) => `${m.cpu.toFixed(1)} ms (wall ${m.wall.toFixed(1)})`;
  const verdict = (m) => (target ? (m.cpu <= target ? 'pass' : 'MISS') : 'reported');
  console.log(`${label}: ${info.n_layer} layers x ${info.n_head} heads, d ${info.n_embd}, ` +
    `vocab ${info.vocab_size}, T=${T}`);
  console.log(`  head z map ${ms(headZ)} (${verdict(headZ)}); residual map ${ms(residual)} ` +
    `(${verdict(residual)})${target ? `; target <= ${target} ms each` : ''}`);
  rows.push([label, headZ.cpu, verdict(headZ), residual.cpu, verdict(residual)]);
  engine.delete();
}

console.log(`Activation patching, wasm (SIMD128) in Node ${process.version}, single thread; ` +
  `load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
const gpt4l = readModelFolder(path.join(REPO_ROOT, 'models/gpt-4l'));
await benchModel('gpt-4l', gpt4l, 7, TARGET_MS);
const small = { n_layer: 12, n_head: 12, n_embd: 768, n_positions: 1024, vocab_size: 50257 };
await benchModel('GPT-2-small shape', {
  ...gpt4l,
  configJson: JSON.stringify({ model_type: 'gpt2', layer_norm_epsilon: 1e-5, ...small }),
  safetensors: writeSafetensors(gpt2Tensors(small)),
}, 1, 0);
console.log('| model (cpu time, T=64) | head z map | | residual map | |');
console.log('|---|---:|---|---:|---|');
for (const [label, h, hv, r, rv] of rows) {
  console.log(`| ${label} | ${h.toFixed(0)} ms | ${hv} | ${r.toFixed(0)} ms | ${rv} |`);
}
