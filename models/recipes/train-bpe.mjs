#!/usr/bin/env node
// Trains a GPT-2 style byte-level BPE tokenizer on a text file and writes
// vocab.json + merges.txt (GPT-2 format) for one or more vocabulary sizes.
//
// usage: node models/recipes/train-bpe.mjs --input build/corpus/train.txt \
//          --vocab-sizes 3584,4096,8192 [--out-prefix models/tokenizer-]
//
// Vocabulary = 256 byte tokens (GPT-2's order) + one token per merge +
// <|endoftext|> last, so --vocab-sizes counts all of them. Training is greedy,
// so the merges of a smaller vocabulary are a prefix of a larger one's: one
// run trains up to the largest size and writes every size from its prefix.
//
// Algorithm: count the pre-tokenised words once, then keep pair counts for
// the whole corpus and, for each pair, the set of words it occurs in. A merge
// rewrites only the words that hold the pair and adjusts the counts of the
// pairs those words lose and gain. The most frequent pair comes from a
// max-heap with lazy deletion (an entry whose count is out of date is pushed
// back with the current count when it reaches the top). Ties go to the pair
// with the smaller (left id, right id), so the result is deterministic.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { bytesToUnicode, END_OF_TEXT, pretokenize, writeTokenizer } from './bpe.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function parseArgs(argv) {
  const args = {
    input: path.join(repoRoot, 'build/corpus/train.txt'),
    sizes: [3584, 4096, 8192],
    outPrefix: path.join(repoRoot, 'models/tokenizer-'),
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--input') args.input = path.resolve(argv[++i]);
    else if (argv[i] === '--vocab-sizes') args.sizes = argv[++i].split(',').map(Number);
    else if (argv[i] === '--out-prefix') args.outPrefix = path.resolve(argv[++i]);
    else throw new Error(`train-bpe: unknown argument '${argv[i]}'`);
  }
  for (const n of args.sizes) {
    if (!Number.isInteger(n) || n < 258 || n > 65535) {
      throw new Error(`train-bpe: vocabulary size ${n} must be an integer in [258, 65535]`);
    }
  }
  return args;
}

// Max-heap of (count, pair key); key = left * 65536 + right.
class PairHeap {
  constructor() {
    this.counts = [];
    this.keys = [];
  }
  get size() {
    return this.keys.length;
  }
  #above(i, j) {
    const ci = this.counts[i];
    const cj = this.counts[j];
    return ci > cj || (ci === cj && this.keys[i] < this.keys[j]);
  }
  #swap(i, j) {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }
  push(count, key) {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.keys.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#above(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }
  pop() {
    const top = { count: this.counts[0], key: this.keys[0] };
    const lastCount = this.counts.pop();
    const lastKey = this.keys.pop();
    if (this.keys.length > 0) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < this.keys.length && this.#above(l, best)) best = l;
        if (r < this.keys.length && this.#above(r, best)) best = r;
        if (best === i) break;
        this.#swap(i, best);
        i = best;
      }
    }
    return top;
  }
}

// Returns {tokens: token strings by id, merges: [[left, right]] by rank,
// vocabAfter: vocabulary size after each merge}.
export function trainBpe(text, maxVocab, log = () => {}) {
  // Distinct pre-tokenised words and their counts.
  const wordCounts = new Map();
  for (const piece of pretokenize(text)) wordCounts.set(piece, (wordCounts.get(piece) ?? 0) + 1);

  const byteTable = bytesToUnicode();  // [byte, char] in GPT-2 token order
  const tokens = byteTable.map(([, c]) => c);
  const byteToId = new Array(256);
  byteTable.forEach(([b], id) => (byteToId[b] = id));
  const tokenToId = new Map(tokens.map((t, id) => [t, id]));

  const words = [];  // symbol ids of each distinct word
  const counts = [];
  for (const [piece, c] of wordCounts) {
    words.push(Array.from(Buffer.from(piece, 'utf8'), (b) => byteToId[b]));
    counts.push(c);
  }
  log(`${wordCounts.size} distinct words`);

  const pairCount = new Map();  // key -> occurrences in the corpus
  const pairWords = new Map();  // key -> Set of word indices (may hold stale ones)
  const addPair = (key, c, w) => {
    pairCount.set(key, (pairCount.get(key) ?? 0) + c);
    let set = pairWords.get(key);
    if (!set) pairWords.set(key, (set = new Set()));
    set.add(w);
  };
  words.forEach((syms, w) => {
    for (let i = 0; i + 1 < syms.length; i++) addPair(syms[i] * 65536 + syms[i + 1], counts[w], w);
  });
  const heap = new PairHeap();
  for (const [key, c] of pairCount) heap.push(c, key);

  const merges = [];
  const vocabAfter = [];
  const specialSlots = 1;  // <|endoftext|>
  while (tokens.length + specialSlots < maxVocab && heap.size > 0) {
    const { count, key } = heap.pop();
    const current = pairCount.get(key) ?? 0;
    if (current !== count) {
      if (current > 0) heap.push(current, key);
      continue;
    }
    if (count < 2) break;  // nothing left worth a token
    const left = Math.floor(key / 65536);
    const right = key % 65536;
    const mergedString = tokens[left] + tokens[right];
    let merged = tokenToId.get(mergedString);
    if (merged === undefined) {
      merged = tokens.length;
      tokens.push(mergedString);
      tokenToId.set(mergedString, merged);
    }
    merges.push([tokens[left], tokens[right]]);
    vocabAfter.push(tokens.length + specialSlots);

    const touched = new Set();
    for (const w of pairWords.get(key)) {
      const syms = words[w];
      let found = false;
      for (let i = 0; i + 1 < syms.length; i++) {
        if (syms[i] === left && syms[i + 1] === right) {
          found = true;
          break;
        }
      }
      if (!found) continue;  // stale entry: an earlier merge consumed the pair
      const c = counts[w];
      for (let i = 0; i + 1 < syms.length; i++) {
        const k = syms[i] * 65536 + syms[i + 1];
        pairCount.set(k, pairCount.get(k) - c);
        touched.add(k);
      }
      const next = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === left && syms[i + 1] === right) {
          next.push(merged);
          i++;
        } else {
          next.push(syms[i]);
        }
      }
      for (let i = 0; i + 1 < next.length; i++) {
        const k = next[i] * 65536 + next[i + 1];
        addPair(k, c, w);
        touched.add(k);
      }
      words[w] = next;
    }
    pairCount.delete(key);
    pairWords.delete(key);
    for (const k of touched) {
      const c = pairCount.get(k);
      if (c > 0) heap.push(c, k);
      else if (c === 0) {
        pairCount.delete(k);
        pairWords.delete(k);
      }
    }
    if (merges.length % 1000 === 0) log(`${merges.length} merges, last count ${count}`);
  }
  return { tokens, merges, vocabAfter };
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const text = fs.readFileSync(args.input, 'utf8');
  const maxVocab = Math.max(...args.sizes);
  const log = (m) => console.log(`train-bpe: ${m} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const { tokens, merges, vocabAfter } = trainBpe(text, maxVocab, log);
  for (const n of args.sizes) {
    const nMerges = vocabAfter.findIndex((v) => v >= n) + 1;
    if (nMerges === 0) throw new Error(`train-bpe: the corpus ran out of pairs before vocabulary ${n}`);
    const nTokens = n - 1;
    const vocabTokens = [...tokens.slice(0, nTokens), END_OF_TEXT];
    const dir = `${args.outPrefix}${n}`;
    writeTokenizer(dir, vocabTokens, merges.slice(0, nMerges));
    log(`wrote ${dir}: ${vocabTokens.length} tokens, ${nMerges} merges`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
