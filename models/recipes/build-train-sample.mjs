#!/usr/bin/env node
// The page's live-training kit, web/public/train/: a small sample of the
// training corpus (build/corpus/train.txt from build-corpus.mjs) and the
// tokenizer the live models use (models/tokenizer-3584, the one attn-only-2l
// was trained with). The sample takes every k-th document, in corpus order,
// so that it mixes both sources, up to --bytes (200 KB): enough text that a
// minute of live training (about 8 x 64 tokens a step) rarely sees a window
// twice, small enough to ship with the page.
//
// usage: node models/recipes/build-train-sample.mjs [--bytes N]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const corpus = path.join(repoRoot, 'build/corpus/train.txt');
const tokenizer = path.join(repoRoot, 'models/tokenizer-3584');
const out = path.join(repoRoot, 'web/public/train');

const args = process.argv.slice(2);
const maxBytes = args[0] === '--bytes' ? Number(args[1]) : 200_000;
if (!(maxBytes > 1000)) throw new Error('build-train-sample: --bytes must be > 1000');
if (!fs.existsSync(corpus)) {
  throw new Error(`build-train-sample: ${corpus} is missing: run node models/recipes/build-corpus.mjs`);
}

// Documents are separated by one blank line (build-corpus.mjs).
const documents = fs.readFileSync(corpus, 'utf8').split('\n\n').filter((d) => d.trim().length > 0);
const totalBytes = documents.reduce((sum, d) => sum + Buffer.byteLength(d) + 2, 0);
const stride = Math.max(1, Math.floor(totalBytes / maxBytes));
const kept = [];
let bytes = 0;
for (let i = 0; i < documents.length; i += stride) {
  const size = Buffer.byteLength(documents[i]) + 2;
  if (bytes + size > maxBytes) break;
  kept.push(documents[i]);
  bytes += size;
}
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'sample.txt'), kept.join('\n\n') + '\n');
for (const file of ['vocab.json', 'merges.txt']) {
  fs.copyFileSync(path.join(tokenizer, file), path.join(out, file));
}
console.log(
  `build-train-sample: ${kept.length} of ${documents.length} documents (every ${stride}th), ` +
    `${bytes} bytes -> ${path.relative(repoRoot, out)}/sample.txt, tokenizer from models/tokenizer-3584`,
);
