#!/usr/bin/env node
// A K-token kit for quick induction-head experiments (models/README.md, "Live
// training in the page", seventh round): the first K byte tokens of the live
// models' tokenizer (web/public/train/vocab.json, ids 0..K-1, no merges) and a
// text of random characters from those tokens, which `headlight train` needs
// for its --train/--val files (a run whose every step is warm-up never reads
// it, but it must encode). A 3,000-step run at vocabulary 32 or 256 takes
// seconds where the live recipe takes a minute.
//
// usage: node models/recipes/small-vocab.mjs --k 32 --out DIR [--chars 200000]
//   then: headlight train --tokenizer DIR --train DIR/text.txt --val DIR/text.txt ...
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseFlags } from './flags.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const source = path.join(repoRoot, 'web/public/train/vocab.json');

// Numbers checked here; flags, values and --out by parseFlags (flags.mjs).
function parseArgs(argv) {
  const flags = parseFlags(
    argv,
    { '--k': 'k', '--out': 'out', '--chars': 'chars' },
    { required: ['out'], defaults: { k: '0', chars: '200000' } },
  );
  const o = { k: Number(flags.k), out: flags.out, chars: Number(flags.chars) };
  if (!(Number.isInteger(o.k) && o.k >= 2 && o.k <= 256)) {
    throw new Error('small-vocab: --k must be an integer in 2..256 (the byte tokens)');
  }
  if (!(Number.isInteger(o.chars) && o.chars >= 1000)) throw new Error('small-vocab: --chars must be >= 1000');
  return o;
}

const o = parseArgs(process.argv.slice(2));
const vocab = JSON.parse(fs.readFileSync(source, 'utf8'));
const byId = new Map(Object.entries(vocab).map(([token, id]) => [id, token]));
const small = {};
for (let id = 0; id < o.k; ++id) {
  const token = byId.get(id);
  if (token === undefined) throw new Error(`small-vocab: ${source} has no token with id ${id}`);
  small[token] = id;
}
// The text: characters whose byte is one of the K tokens. GPT-2's byte
// encoding writes printable ASCII bytes as themselves, so a one-character
// token that is printable ASCII is that byte; the others (space, newline and
// bytes >= 127 show as other characters) are left out of the text.
const printable = Object.keys(small).filter((t) => t.length === 1 && t >= '!' && t <= '~');
if (printable.length < 2) throw new Error('small-vocab: fewer than 2 printable tokens');
let seed = 1;
const next = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
let text = '';
for (let i = 0; i < o.chars; ++i) text += printable[Math.floor(next() * printable.length)];

fs.mkdirSync(o.out, { recursive: true });
fs.writeFileSync(path.join(o.out, 'vocab.json'), JSON.stringify(small));
fs.writeFileSync(path.join(o.out, 'merges.txt'), '#version: 0.2\n');
fs.writeFileSync(path.join(o.out, 'text.txt'), text);
console.log(`small-vocab: ${o.k} tokens, ${printable.length} of them in a ${o.chars}-character text -> ${o.out}`);
