// A model with a larger vocabulary from a trained one whose BPE tokenizer is
// a prefix of the new one (the same corpus, more merges: tokenizer-3584's
// 3,327 merges are the first 3,327 of tokenizer-8192's, and 3,583 of its
// 3,584 tokens keep their ids; <|endoftext|> moves to the new last id).
// Every weight but the token embedding is copied; an old token's embedding
// row moves to its new id; a new token made by merging A and B starts at the
// mean of A's and B's rows, rescaled to their mean length (a plain mean of
// two unrelated directions is shorter than either), in merge order so that
// both parts have a row. The embedding is tied, so the new token's logit
// starts where its parts' logits are. The text run (`headlight train
// --init-from OUT`) then teaches the new tokens (models/README.md, tenth
// round: gpt-4l-8k from gpt-4l).
//
//   node models/recipes/expand-vocab.mjs --model models/gpt-4l --tokenizer models/tokenizer-8192 --out DIR
//
// Writes DIR/{config.json, model.safetensors (F32), vocab.json, merges.txt}.
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { readSafetensors } from '../../tests/reference/gpt2-reference.mjs';
import { writeSafetensors } from './write-safetensors.mjs';
import { parseFlags } from './flags.mjs';

function parseArgs(argv) {
  return parseFlags(argv, { '--model': 'model', '--tokenizer': 'tokenizer', '--out': 'out' },
    { required: ['model', 'tokenizer', 'out'] });
}

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const mergeLines = (dir) =>
  readFileSync(path.join(dir, 'merges.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#version'));

const o = parseArgs(process.argv.slice(2));
const config = readJson(path.join(o.model, 'config.json'));
const oldVocab = readJson(path.join(o.model, 'vocab.json'));
const newVocab = readJson(path.join(o.tokenizer, 'vocab.json'));
const oldMerges = mergeLines(o.model);
const newMerges = mergeLines(o.tokenizer);
oldMerges.forEach((line, i) => {
  if (newMerges[i] !== line) throw new Error(`merge ${i + 1} differs: "${line}" vs "${newMerges[i]}": not a prefix`);
});

const tensors = readSafetensors(new Uint8Array(readFileSync(path.join(o.model, 'model.safetensors'))));
const wte = tensors.get('wte.weight');
const C = config.n_embd;
const V = Object.keys(newVocab).length;
const rows = new Float64Array(V * C);
const filled = new Uint8Array(V);
for (const [token, oldId] of Object.entries(oldVocab)) {
  const id = newVocab[token];
  if (id === undefined) throw new Error(`token ${JSON.stringify(token)} is not in the new vocabulary`);
  rows.set(wte.values.subarray(oldId * C, (oldId + 1) * C), id * C);
  filled[id] = 1;
}
const norm = (id) => Math.hypot(...rows.subarray(id * C, (id + 1) * C));
let made = 0;
for (const line of newMerges.slice(oldMerges.length)) {
  const [a, b] = line.split(' ');
  const [ia, ib, id] = [newVocab[a], newVocab[b], newVocab[a + b]];
  if (!filled[ia] || !filled[ib] || id === undefined) throw new Error(`merge "${line}": a part has no row`);
  const target = (norm(ia) + norm(ib)) / 2;
  for (let c = 0; c < C; ++c) rows[id * C + c] = (rows[ia * C + c] + rows[ib * C + c]) / 2;
  const scale = target / (norm(id) || 1);
  for (let c = 0; c < C; ++c) rows[id * C + c] *= scale;
  filled[id] = 1;
  ++made;
}
const missing = [...filled.keys()].filter((id) => !filled[id]);
if (missing.length) throw new Error(`${missing.length} tokens have no row (first id ${missing[0]})`);

mkdirSync(o.out, { recursive: true });
const out = [...tensors].map(([name, t]) =>
  name === 'wte.weight' ? [name, { shape: [V, C], values: rows }] : [name, t],
);
writeSafetensors(path.join(o.out, 'model.safetensors'), out, {
  format: 'pt',
  expanded_from: path.basename(o.model),
});
writeFileSync(path.join(o.out, 'config.json'), JSON.stringify({ ...config, vocab_size: V }, null, 2) + '\n');
copyFileSync(path.join(o.tokenizer, 'vocab.json'), path.join(o.out, 'vocab.json'));
copyFileSync(path.join(o.tokenizer, 'merges.txt'), path.join(o.out, 'merges.txt'));
console.log(
  `${o.out}: ${Object.keys(oldVocab).length} rows moved, ${made} new rows from their merges, vocab ${V}, ` +
    `${tensors.size} tensors (F32)`,
);
