// GPT-2 byte-level BPE pieces shared by the trainer (train-bpe.mjs) and the
// tests: the byte <-> printable code point table, the pre-tokeniser, the
// vocab.json / merges.txt format, and a reference encoder.
import fs from 'node:fs';
import path from 'node:path';

// GPT-2's pre-tokenisation pattern (encoder.py), with Unicode letter/number
// classes: contractions, optional-space + letters / numbers / other symbols,
// and runs of whitespace (a run before a non-space leaves its last space to
// the next word).
export const PRETOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export const END_OF_TEXT = '<|endoftext|>';

// GPT-2's bytes_to_unicode: printable bytes map to themselves, the others to
// code points from 256 up, so every token is a printable string without
// spaces. Returned in GPT-2's order (the order of the 256 byte tokens).
export function bytesToUnicode() {
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  return bs.map((b, i) => [b, String.fromCodePoint(cs[i])]);
}

const BYTE_TO_CHAR = new Map(bytesToUnicode());
const CHAR_TO_BYTE = new Map(bytesToUnicode().map(([b, c]) => [c, b]));

export function bytesToTokenString(bytes) {
  let s = '';
  for (const b of bytes) s += BYTE_TO_CHAR.get(b);
  return s;
}

export function tokenStringToBytes(s) {
  const out = [];
  for (const ch of s) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b === undefined) throw new Error(`bpe: '${ch}' is not a byte-level character`);
    out.push(b);
  }
  return Buffer.from(out);
}

export function pretokenize(text) {
  return text.match(PRETOKENIZE) ?? [];
}

export function writeTokenizer(dir, vocabTokens, merges) {
  // vocabTokens: token strings in id order; merges: [left, right] strings in rank order.
  fs.mkdirSync(dir, { recursive: true });
  const vocab = {};
  vocabTokens.forEach((t, id) => {
    if (Object.prototype.hasOwnProperty.call(vocab, t)) throw new Error(`bpe: duplicate token '${t}'`);
    vocab[t] = id;
  });
  fs.writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify(vocab));
  const lines = ['#version: 0.2', ...merges.map(([a, b]) => `${a} ${b}`)];
  fs.writeFileSync(path.join(dir, 'merges.txt'), lines.join('\n') + '\n');
}

// A plain GPT-2 encoder (lowest-ranked pair first), used as the reference the
// C++ tokenizer must agree with.
export class BpeEncoder {
  constructor(dir) {
    this.vocab = JSON.parse(fs.readFileSync(path.join(dir, 'vocab.json'), 'utf8'));
    const lines = fs.readFileSync(path.join(dir, 'merges.txt'), 'utf8').split('\n');
    this.ranks = new Map();
    let rank = 0;
    for (const line of lines) {
      if (line === '' || line.startsWith('#version')) continue;
      this.ranks.set(line, rank++);
    }
    this.idToToken = [];
    for (const [t, id] of Object.entries(this.vocab)) this.idToToken[id] = t;
    this.cache = new Map();
  }

  bpe(word) {
    const cached = this.cache.get(word);
    if (cached) return cached;
    let parts = Array.from(word);
    while (parts.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = this.ranks.get(parts[i] + ' ' + parts[i + 1]);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const a = parts[best];
      const b = parts[best + 1];
      // Merge every occurrence of the best pair, left to right, as GPT-2 does.
      const merged = [];
      for (let i = 0; i < parts.length; i++) {
        if (i + 1 < parts.length && parts[i] === a && parts[i + 1] === b) {
          merged.push(a + b);
          i++;
        } else {
          merged.push(parts[i]);
        }
      }
      parts = merged;
    }
    const ids = parts.map((p) => {
      const id = this.vocab[p];
      if (id === undefined) throw new Error(`bpe: token '${p}' is not in vocab.json`);
      return id;
    });
    this.cache.set(word, ids);
    return ids;
  }

  encode(text) {
    const ids = [];
    for (const piece of pretokenize(text)) {
      for (const id of this.bpe(bytesToTokenString(Buffer.from(piece, 'utf8')))) ids.push(id);
    }
    return ids;
  }

  decode(ids) {
    return Buffer.concat(ids.map((id) => tokenStringToBytes(this.idToToken[id]))).toString('utf8');
  }
}
