// A deeper model from a trained one: the trained blocks keep their weights
// and their names (h.0 .. h.{L-1}, so the heads that the guides name keep
// theirs), and new blocks h.L .. h.{N-1} are appended before ln_f. A new
// block starts as the identity on the residual stream: its attention and MLP
// output projections (c_proj weight and bias) are zero, so the grown model
// computes exactly what the trained one does (checked below by its caller:
// `headlight eval` gives the same bits per byte); its c_attn and c_fc start
// as `headlight train`'s GPT-2 init (normal, std 0.02), its layer norms as
// gain 1, bias 0. The zero projections get gradient from the first step (their
// inputs are not zero), and the rest of the block once they have moved. The
// text run (`headlight train --init-from OUT --n-layer N`) then trains every
// block (models/README.md, twelfth round).
//
//   node models/recipes/grow-depth.mjs --model models/gpt-4l-8k --n-layer 6 --out DIR [--seed 1]
//
// Writes DIR/{config.json, model.safetensors (F32), vocab.json, merges.txt}.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readSafetensors } from '../../tests/reference/gpt2-reference.mjs';
import { writeSafetensors } from './write-safetensors.mjs';
import { parseFlags } from './flags.mjs';

function parseArgs(argv) {
  const o = parseFlags(argv, { '--model': 'model', '--out': 'out', '--n-layer': 'nLayer', '--seed': 'seed' },
    { required: ['model', 'out', 'nLayer'], defaults: { seed: 1 } });
  o.nLayer = Number(o.nLayer);
  o.seed = Number(o.seed);
  if (!Number.isInteger(o.nLayer) || o.nLayer < 1) throw new Error(`--n-layer ${o.nLayer} is not a positive integer`);
  return o;
}

// Normal draws from a seeded 32-bit generator (mulberry32) by Box-Muller:
// reproducible from --seed, independent of the trainer's own generator.
function normals(seed) {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

const o = parseArgs(process.argv.slice(2));
const config = JSON.parse(readFileSync(path.join(o.model, 'config.json'), 'utf8'));
const L = config.n_layer;
if (o.nLayer <= L) throw new Error(`--n-layer ${o.nLayer} is not more than the model's ${L} blocks`);
const tensors = readSafetensors(new Uint8Array(readFileSync(path.join(o.model, 'model.safetensors'))));
const normal = normals(o.seed);
const out = [];
for (const [name, t] of tensors) if (name !== 'ln_f.weight' && name !== 'ln_f.bias') out.push([name, t]);
for (let layer = L; layer < o.nLayer; ++layer) {
  for (const [name, t] of tensors) {
    const m = /^h\.0\.(.+)$/.exec(name);
    if (!m) continue;
    const part = m[1];
    const values = new Float64Array(t.values.length);
    if (part === 'attn.c_attn.weight' || part === 'mlp.c_fc.weight') {
      for (let i = 0; i < values.length; ++i) values[i] = 0.02 * normal();
    } else if (part === 'ln_1.weight' || part === 'ln_2.weight') {
      values.fill(1);
    }  // c_proj weights, every bias and the layer norms' biases: 0
    out.push([`h.${layer}.${part}`, { shape: t.shape, values }]);
  }
}
out.push(['ln_f.weight', tensors.get('ln_f.weight')], ['ln_f.bias', tensors.get('ln_f.bias')]);

mkdirSync(o.out, { recursive: true });
writeSafetensors(path.join(o.out, 'model.safetensors'), out, {
  format: 'pt',
  grown_from: path.basename(o.model),
});
writeFileSync(path.join(o.out, 'config.json'), JSON.stringify({ ...config, n_layer: o.nLayer }, null, 2) + '\n');
for (const file of ['vocab.json', 'merges.txt']) copyFileSync(path.join(o.model, file), path.join(o.out, file));
console.log(`${o.out}: ${L} trained blocks, ${o.nLayer - L} new ones (identity at the start), ${out.length} tensors (F32)`);
