// The mean of two or more trained models' weights, tensor by tensor (the
// same shapes: points of one training run, or runs from one start), written
// as F16 like the shipped models: checkpoint averaging, which often lands
// lower on held-out text than either point (Izmailov et al. 2018, stochastic
// weight averaging). The first folder's config, tokenizer files and training
// log go along, the log marked with what was averaged (models/README.md,
// thirteenth round). With one folder it writes that model in F16 (a run
// written in F32 so that another could continue it, made ready to ship).
//
//   node models/recipes/average-weights.mjs --out DIR DIR_A [DIR_B ...]
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readSafetensors } from '../../tests/reference/gpt2-reference.mjs';
import { writeSafetensors } from './write-safetensors.mjs';

const argv = process.argv.slice(2);
const outAt = argv.indexOf('--out');
if (outAt < 0 || !argv[outAt + 1]) throw new Error('usage: average-weights.mjs --out DIR DIR_A [DIR_B ...]');
const out = argv[outAt + 1];
const dirs = argv.filter((_, i) => i !== outAt && i !== outAt + 1);
if (dirs.length < 1) throw new Error('average-weights: give at least one model folder');
const averaged = dirs.length > 1;
const models = dirs.map((d) => readSafetensors(new Uint8Array(readFileSync(path.join(d, 'model.safetensors')))));
const tensors = [];
for (const [name, t] of models[0]) {
  const values = new Float64Array(t.values.length);
  for (const [k, m] of models.entries()) {
    const u = m.get(name);
    if (!u || u.shape.join() !== t.shape.join()) throw new Error(`${dirs[k]}: tensor '${name}' is missing or not [${t.shape}]`);
    for (let i = 0; i < values.length; ++i) values[i] += u.values[i];
  }
  for (let i = 0; i < values.length; ++i) values[i] /= models.length;
  tensors.push([name, { shape: t.shape, values }]);
}
for (const [k, m] of models.entries()) {
  if (m.size !== models[0].size) throw new Error(`${dirs[k]} has ${m.size} tensors, ${dirs[0]} ${models[0].size}`);
}
mkdirSync(out, { recursive: true });
const metadata = averaged ? { format: 'pt', averaged: dirs.map((d) => path.basename(d)).join(',') } : { format: 'pt' };
writeSafetensors(path.join(out, 'model.safetensors'), tensors, metadata, { dtype: 'F16' });
for (const file of ['config.json', 'vocab.json', 'merges.txt']) copyFileSync(path.join(dirs[0], file), path.join(out, file));
const logPath = path.join(dirs[0], 'train_log.json');
if (existsSync(logPath)) {
  const log = JSON.parse(readFileSync(logPath, 'utf8'));
  if (averaged) log.averaged = { folders: dirs, by: 'models/recipes/average-weights.mjs' };
  writeFileSync(path.join(out, 'train_log.json'), JSON.stringify(log, null, 2) + '\n');
}
console.log(averaged ? `${out}: the mean of ${dirs.length} models' weights (${tensors.length} tensors, F16)`
  : `${out}: ${dirs[0]}'s weights in F16 (${tensors.length} tensors)`);
