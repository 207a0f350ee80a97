// The data recipes: the corpus split is deterministic and disjoint by
// document, the POS side file's spans point at the right words of the text,
// the BPE trainer is deterministic, and the shipped tokenizers load in the C++
// tokenizer, encode exactly as the reference JS encoder and round-trip.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { buildCorpus, isValidationDocument } from '../../models/recipes/build-corpus.mjs';
import { BpeEncoder, bytesToUnicode, END_OF_TEXT } from '../../models/recipes/bpe.mjs';
import { trainBpe } from '../../models/recipes/train-bpe.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const headlight = process.env.HEADLIGHT_BIN ?? path.join(root, 'build/native/headlight');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'headlight-data-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const sha = (file) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const readDocs = (file) => fs.readFileSync(file, 'utf8').replace(/\n$/, '').split('\n\n');

describe('corpus recipe', () => {
  const dirA = path.join(tmp, 'corpus-a');
  const dirB = path.join(tmp, 'corpus-b');
  let stats;
  before(() => {
    stats = buildCorpus({ out: dirA, valPermille: 40 });
    buildCorpus({ out: dirB, valPermille: 40 });
  });

  test('two builds give byte-identical files', () => {
    for (const f of ['train.txt', 'val.txt', 'documents.tsv', 'brown.pos.jsonl', 'stats.json']) {
      assert.equal(sha(path.join(dirA, f)), sha(path.join(dirB, f)), `${f} differs between builds`);
    }
  });

  test('the split is by document, disjoint, and follows the hash of the id', () => {
    const rows = fs.readFileSync(path.join(dirA, 'documents.tsv'), 'utf8').trim().split('\n').slice(1);
    const splitOf = new Map();
    for (const row of rows) {
      const [id, split] = row.split('\t');
      assert.ok(!splitOf.has(id), `document ${id} listed twice`);
      splitOf.set(id, split);
      assert.equal(split, isValidationDocument(id, 40) ? 'val' : 'train', id);
    }
    const nVal = [...splitOf.values()].filter((s) => s === 'val').length;
    const fraction = nVal / splitOf.size;
    console.log(`${splitOf.size} documents, ${nVal} in val (${(100 * fraction).toFixed(2)}%)`);
    assert.ok(fraction > 0.03 && fraction < 0.05, `val fraction ${fraction} is not about 4%`);

    const train = readDocs(path.join(dirA, 'train.txt'));
    const val = readDocs(path.join(dirA, 'val.txt'));
    assert.equal(train.length + val.length, splitOf.size);
    assert.equal(val.length, nVal);
    const trainText = train.join('\n\n');
    let leaked = 0;
    for (const doc of val) leaked += trainText.includes(doc) ? 1 : 0;
    console.log(`${val.length} val documents, ${leaked} of them found inside train.txt`);
    assert.equal(leaked, 0);
    // nlp-corpus is deduplicated by sentence (one a line): none of its val
    // sentences is a line of train. (Brown is deduplicated by document; short
    // lines such as "Yes." recur in different Brown documents.)
    const valIds = rows.map((r) => r.split('\t')).filter(([, s]) => s === 'val').map(([id]) => id);
    const trainLines = new Set(trainText.split('\n'));
    const shared = val
      .filter((_, i) => valIds[i].startsWith('nlp-corpus/'))
      .flatMap((d) => d.split('\n'))
      .filter((l) => trainLines.has(l));
    assert.deepEqual(shared, []);
  });

  test('stats.json counts what the files hold', () => {
    for (const split of ['train', 'val']) {
      const bytes = fs.statSync(path.join(dirA, `${split}.txt`)).size;
      assert.equal(stats.files[split].bytes, bytes);
      const docs = Object.values(stats.sources).reduce((n, s) => n + s[split].documents, 0);
      assert.equal(docs, stats.files[split].documents);
    }
    console.log(`train ${stats.files.train.bytes} bytes, val ${stats.files.val.bytes} bytes`);
    assert.ok(stats.files.train.bytes > 10e6, 'train.txt should hold the ~14 MB of both sources');
  });

  test('POS side file: spans match the text, sentences are in their split', () => {
    const lines = fs.readFileSync(path.join(dirA, 'brown.pos.jsonl'), 'utf8').trim().split('\n');
    const texts = {
      train: fs.readFileSync(path.join(dirA, 'train.txt'), 'utf8'),
      val: fs.readFileSync(path.join(dirA, 'val.txt'), 'utf8'),
    };
    let words = 0;
    for (let i = 0; i < lines.length; i++) {
      const s = JSON.parse(lines[i]);
      let prevEnd = 0;
      for (const w of s.words) {
        assert.ok(w.start >= prevEnd && w.end > w.start, `line ${i + 1}: spans overlap`);
        assert.equal(s.text.slice(w.start, w.end), w.word, `line ${i + 1}: span text`);
        assert.match(w.tag, /^[^\s]+$/, `line ${i + 1}: tag '${w.tag}'`);
        prevEnd = w.end;
        words++;
      }
      // Only whitespace between the words: nothing of the text is untagged.
      const untagged = s.words.reduce(
        (acc, w, j) => acc + s.text.slice(j ? s.words[j - 1].end : 0, w.start), '');
      assert.match(untagged + s.text.slice(prevEnd), /^ *$/, `line ${i + 1}: untagged text`);
      if (i % 97 === 0) assert.ok(texts[s.split].includes(s.text), `line ${i + 1} not in ${s.split}`);
    }
    console.log(`${lines.length} POS sentences, ${words} tagged words`);
    assert.ok(lines.length > 50000);
  });
});

describe('BPE trainer', () => {
  test('is deterministic and writes 256 bytes, merges, then <|endoftext|>', () => {
    const text = 'the cat sat on the mat. the cat ate the rat! ' .repeat(50) + 'ünïcödé ✓ 42 4242';
    const a = trainBpe(text, 300);
    const b = trainBpe(text, 300);
    assert.deepEqual(a.merges, b.merges);
    assert.deepEqual(a.tokens.slice(0, 256), bytesToUnicode().map(([, c]) => c));
    assert.equal(a.tokens.length, 256 + a.merges.length);
    // Every merge is of two tokens that exist before it.
    const known = new Set(a.tokens.slice(0, 256));
    for (const [l, r] of a.merges) {
      assert.ok(known.has(l) && known.has(r), `merge ${l} ${r} uses an unknown token`);
      known.add(l + r);
    }
    assert.ok(a.merges.some(([l, r]) => l + r === 'Ġcat'), 'the frequent word " cat" became one token');
  });
});

describe('shipped tokenizers', () => {
  const valText = () => {
    const built = path.join(tmp, 'corpus-a/val.txt');
    return fs.readFileSync(fs.existsSync(built) ? built : path.join(root, 'build/corpus/val.txt'), 'utf8');
  };
  for (const n of [3584, 4096, 8192]) {
    const dir = path.join(root, `models/tokenizer-${n}`);
    test(`tokenizer-${n}: GPT-2 format, C++ encoding == JS encoding on val, round-trip`, () => {
      const merges = fs.readFileSync(path.join(dir, 'merges.txt'), 'utf8').split('\n');
      assert.equal(merges[0], '#version: 0.2');
      const vocab = JSON.parse(fs.readFileSync(path.join(dir, 'vocab.json'), 'utf8'));
      assert.equal(Object.keys(vocab).length, n);
      assert.equal(vocab[END_OF_TEXT], n - 1);
      assert.ok(fs.existsSync(headlight), `${headlight} is missing: build it (npm run build:native)`);

      const text = valText();
      const js = new BpeEncoder(dir).encode(text);
      const out = execFileSync(headlight, ['tokenize', '--model', dir], {
        input: text, maxBuffer: 1 << 28,
      }).toString();
      const cpp = out.trim().split(' ').map(Number);
      let first = -1;
      for (let i = 0; i < Math.max(js.length, cpp.length) && first < 0; i++) {
        if (js[i] !== cpp[i]) first = i;
      }
      const bytes = Buffer.byteLength(text, 'utf8');
      console.log(`tokenizer-${n}: ${js.length} tokens (${(bytes / js.length).toFixed(3)} bytes/token), ` +
        `C++ ${cpp.length}, first difference at ${first}`);
      assert.equal(first, -1);
      const decoded = execFileSync(headlight, ['tokenize', '--model', dir, '--decode'], {
        input: out, maxBuffer: 1 << 28,
      });
      assert.ok(decoded.equals(Buffer.from(text, 'utf8')), 'decode(encode(val)) != val');
    });
  }
});
