// A longer context for a trained model: the position embeddings (wpe) grow
// from n_positions rows to N, every other tensor is kept. The new rows
// repeat the last half of the trained ones (rows P/2 .. P-1, again and
// again): positions late in a window, so that no new position looks like
// the start of one (which the sink heads find by its position), and each new
// row's neighbours differ as trained rows' neighbours do, except where a
// repeat begins. A text run at the new length (`headlight train --init-from
// OUT --n-positions N`) then trains them (models/README.md, thirteenth
// round).
//
//   node models/recipes/grow-context.mjs --model models/gpt-4l-8k --n-positions 256 --out DIR
//
// Writes DIR/{config.json, model.safetensors (F32), vocab.json, merges.txt}
// and, if the model has one, its train_log.json marked as grown.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readSafetensors } from '../../tests/reference/gpt2-reference.mjs';
import { writeSafetensors } from './write-safetensors.mjs';
import { parseFlags } from './flags.mjs';

function parseArgs(argv) {
  const o = parseFlags(argv, { '--model': 'model', '--out': 'out', '--n-positions': 'nPositions' },
    { required: ['model', 'out', 'nPositions'] });
  o.nPositions = Number(o.nPositions);
  if (!Number.isInteger(o.nPositions) || o.nPositions < 2) {
    throw new Error(`--n-positions ${o.nPositions} is not an integer of at least 2`);
  }
  return o;
}

const o = parseArgs(process.argv.slice(2));
const config = JSON.parse(readFileSync(path.join(o.model, 'config.json'), 'utf8'));
const P = config.n_positions, C = config.n_embd, N = o.nPositions;
if (N <= P) throw new Error(`--n-positions ${N} is not more than the model's ${P}`);
const tensors = readSafetensors(new Uint8Array(readFileSync(path.join(o.model, 'model.safetensors'))));
const wpe = tensors.get('wpe.weight');
if (!wpe || wpe.shape[0] !== P || wpe.shape[1] !== C) throw new Error(`wpe.weight is not [${P}, ${C}]`);
const half = Math.floor(P / 2);
const values = new Float64Array(N * C);
values.set(wpe.values);
for (let p = P; p < N; ++p) {
  const from = half + ((p - P) % (P - half));
  values.set(wpe.values.subarray(from * C, (from + 1) * C), p * C);
}
const out = [...tensors].map(([name, t]) => (name === 'wpe.weight' ? [name, { shape: [N, C], values }] : [name, t]));

mkdirSync(o.out, { recursive: true });
writeSafetensors(path.join(o.out, 'model.safetensors'), out, { format: 'pt', grown_from: path.basename(o.model) });
const grown = { ...config, n_positions: N };
if ('n_ctx' in grown) grown.n_ctx = N;
writeFileSync(path.join(o.out, 'config.json'), JSON.stringify(grown, null, 2) + '\n');
for (const file of ['vocab.json', 'merges.txt']) copyFileSync(path.join(o.model, file), path.join(o.out, file));
// The source's training log goes along, marked as grown, so that the next
// run's log (and its model card) keeps the history.
const logPath = path.join(o.model, 'train_log.json');
if (existsSync(logPath)) {
  const log = JSON.parse(readFileSync(logPath, 'utf8'));
  log.grown = { n_positions_from: P, n_positions: N, by: 'models/recipes/grow-context.mjs' };
  writeFileSync(path.join(o.out, 'train_log.json'), JSON.stringify(log, null, 2) + '\n');
}
console.log(`${o.out}: positions ${P} -> ${N} (rows ${P}..${N - 1} repeat rows ${half}..${P - 1}), ${out.length} tensors (F32)`);
