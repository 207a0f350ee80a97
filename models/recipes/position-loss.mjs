#!/usr/bin/env node
// Validation loss by position in the window: how much a model gains from
// context (models/README.md, thirteenth round). The validation text is cut
// into windows of the model's n_positions, as `headlight eval` cuts it, and
// each position's mean loss (nats/token) is printed in bands.
//
//   node models/recipes/position-loss.mjs --model models/gpt-4l-8k [--val build/corpus/val.txt]
//        [--max-tokens 50000]
//
// Runs the wasm engine of build/wasm (scripts/build-wasm.sh) in Node.
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { createModule, expectOk, loadFolder, readModelFolder } from '../../tests/node/wasm-helpers.mjs';
import { parseFlags } from './flags.mjs';

function parseArgs(argv) {
  const o = parseFlags(argv, { '--model': 'model', '--val': 'val', '--max-tokens': 'maxTokens' },
    { required: ['model'], defaults: { val: 'build/corpus/val.txt', maxTokens: '50000' } });
  o.maxTokens = Number(o.maxTokens);
  if (!Number.isInteger(o.maxTokens) || o.maxTokens < 2) throw new Error(`--max-tokens ${o.maxTokens} is not an integer >= 2`);
  return o;
}

const o = parseArgs(process.argv.slice(2));
const mod = await createModule();
const engine = new mod.Engine();
const info = expectOk(loadFolder(engine, readModelFolder(path.resolve(o.model))), 'loadModel');
const P = info.n_positions;
const ids = expectOk(engine.tokenize(readFileSync(o.val, 'utf8')), 'tokenize').ids.slice(0, o.maxTokens);
const sum = new Float64Array(P), count = new Float64Array(P);
for (let begin = 0; begin + P <= ids.length; begin += P) {
  expectOk(engine.run(ids.slice(begin, begin + P), 1), 'run');
  const loss = expectOk(engine.getTraceWithoutAttention(), 'trace').loss;  // (P), NaN at P - 1
  for (let t = 0; t + 1 < P; t++) { sum[t] += loss[t]; count[t] += 1; }
}
const band = (a, z) => {
  let s = 0, c = 0;
  for (let t = a; t < Math.min(z, P - 1); t++) { s += sum[t]; c += count[t]; }
  return c ? s / c : NaN;
};
const edges = [0, 8, 16, 32, 64, 96, 128, 192, 256, 384, 512, 768, 1024].filter((e) => e < P - 1).concat([P - 1]);
console.log(`${o.model}: n_positions ${P}, ${count[0]} windows of ${o.val} (first ${ids.length} tokens)`);
console.log('| positions | mean loss (nats/token) |\n|---|---|');
for (let i = 0; i + 1 < edges.length; i++) console.log(`| ${edges[i]}-${edges[i + 1] - 1} | ${band(edges[i], edges[i + 1]).toFixed(4)} |`);
console.log(`| all (0-${P - 2}) | ${band(0, P - 1).toFixed(4)} |`);
