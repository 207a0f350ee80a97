// Gradient head importance (Engine.gradientImportance: one forward and one
// backward of activations, docs/heads.md) against the full forward pass
// (Engine.run with its Trace) measured in the same run, wasm in Node, one
// thread, 64 tokens:
//   gpt-4l            the shipped model (models/gpt-4l);
//   GPT-2-small shape random weights (tests/node/random-gpt2.mjs), gpt-4l's
//                     tokenizer (the cost does not depend on which ids run).
// Target (issue 16): importance <= 3 forward passes. Also the attention
// similarity of all heads (Engine.attentionSimilarity) on the same trace, and
// the copying scores (Engine.copyingScores, once per model load in the page).
// Prints a table; asserts nothing. Run by `npm run bench`, or alone with
// `node bench/importance.mjs [gpt-4l|gpt2]` after scripts/build-wasm.sh.
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import { gpt2Tensors, writeSafetensors } from '../tests/node/random-gpt2.mjs';
import { medianMs } from '../scripts/lib/timing.mjs';
import { REPO_ROOT, createModule, expectOk, readModelFolder } from '../tests/node/wasm-helpers.mjs';

const T = 64;
const TARGET_RATIO = 3;
const MB = 1024 * 1024;
const GPT4L_DIR = path.join(REPO_ROOT, 'models/gpt-4l');


const rows = [];

async function benchModel(label, files, runs) {
  const Module = await createModule();
  const engine = new Module.Engine();
  const info = expectOk(
    engine.loadModel(files.configJson, files.safetensors, files.vocabJson, files.mergesTxt),
    'loadModel');
  const prose = 'The old lighthouse keeper climbed the stairs every evening to light the lamp, ' +
    'and the ships that passed the rocks at night never knew his name. ';
  const ids = expectOk(engine.tokenize(prose.repeat(8)), 'tokenize').ids.slice(0, T);
  if (ids.length !== T) throw new Error(`the text gave ${ids.length} tokens, not ${T}`);
  const gains = new Float32Array(info.n_layer * info.n_head).fill(1);
  const loadedBytes = Module.memoryBytes();

  const forward = medianMs(() => expectOk(engine.run(ids, 5), 'run'), runs);
  const importance = medianMs(
    () => expectOk(engine.gradientImportance(ids, gains), 'gradientImportance'), runs);
  expectOk(engine.run(ids, 5), 'run');
  const similarity = medianMs(() => expectOk(engine.attentionSimilarity(), 'attentionSimilarity'), runs);
  const ratio = importance.wall / forward.wall;
  const cpuRatio = importance.cpu / forward.cpu;
  const pass = ratio <= TARGET_RATIO ? 'pass' : 'MISS';
  console.log(`${label}: ${info.n_layer} layers x ${info.n_head} heads, d ${info.n_embd}, ` +
    `vocab ${info.vocab_size}, T=${T}, median of ${runs}`);
  console.log(`  forward + Trace: ${forward.wall.toFixed(1)} ms (cpu ${forward.cpu.toFixed(1)} ms)`);
  console.log(`  gradient importance: ${importance.wall.toFixed(1)} ms (cpu ` +
    `${importance.cpu.toFixed(1)} ms) = ${ratio.toFixed(2)} forward passes ` +
    `(cpu ${cpuRatio.toFixed(2)}), target <= ${TARGET_RATIO}: ${pass}`);
  console.log(`  attention similarity of ${info.n_layer * info.n_head} heads: ` +
    `${similarity.wall.toFixed(1)} ms (cpu ${similarity.cpu.toFixed(1)} ms)`);
  // The copying scores (weights only): what loading the model adds in the page's worker. One call.
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  expectOk(engine.copyingScores(), 'copyingScores');
  const copying = { wall: performance.now() - t0, cpu: ((c) => (c.user + c.system) / 1e3)(process.cpuUsage(c0)) };
  console.log(`  copying scores of ${info.n_layer * info.n_head} heads (once per load): ` +
    `${copying.wall.toFixed(0)} ms (cpu ${copying.cpu.toFixed(0)} ms)`);
  rows.push({ figure: `${label} copying scores (once per load)`, time: copying,
    ratio: (copying.wall / forward.wall).toFixed(2), target: '', pass: '' });
  // Memory only grows, so this is the peak: the model's trainer reads the
  // weights in place; it adds activations and one packed W^T (wte's the largest).
  console.log(`  wasm memory: ${(loadedBytes / MB).toFixed(0)} MB after loadModel, ` +
    `${(Module.memoryBytes() / MB).toFixed(0)} MB after all of the above`);
  rows.push({ figure: `${label} forward + Trace, T=${T}`, time: forward, ratio: '1', target: '', pass: '' });
  rows.push({ figure: `${label} gradient importance, T=${T}`, time: importance,
    ratio: ratio.toFixed(2), target: `<= ${TARGET_RATIO} forwards`, pass });
  rows.push({ figure: `${label} attention similarity, T=${T}`, time: similarity,
    ratio: (similarity.wall / forward.wall).toFixed(2), target: '', pass: '' });
  engine.delete();
}

const only = process.argv[2];
console.log(`Gradient importance, wasm (SIMD128) in Node ${process.version}, single thread; ` +
  `load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
const gpt4l = readModelFolder(GPT4L_DIR);
if (!only || only === 'gpt-4l') await benchModel('gpt-4l', gpt4l, 9);
if (!only || only === 'gpt2') {
  const config = { n_layer: 12, n_head: 12, n_embd: 768, n_positions: 1024, vocab_size: 50257 };
  const files = {
    ...gpt4l,
    configJson: JSON.stringify({ model_type: 'gpt2', layer_norm_epsilon: 1e-5, ...config }),
    safetensors: writeSafetensors(gpt2Tensors(config)),
  };
  await benchModel('GPT-2-small shape', files, 5);
}
console.log(`\nload average at the end: ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
console.log('| figure | wall | cpu | forward passes | target | |');
console.log('|---|---:|---:|---:|---:|---|');
for (const r of rows) {
  console.log(`| ${r.figure} | ${r.time.wall.toFixed(1)} ms | ${r.time.cpu.toFixed(1)} ms | ` +
    `${r.ratio} | ${r.target} | ${r.pass} |`);
}
