// Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/):
// small valid inputs the fuzzer mutates from. Run once; the output is in git.
//   node tests/fuzz/make-seeds.mjs
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gpt2Tensors, writeSafetensors } from '../node/random-gpt2.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const CORPUS = path.join(HERE, 'corpus');

function put(target, name, bytes) {
  mkdirSync(path.join(CORPUS, target), { recursive: true });
  writeFileSync(path.join(CORPUS, target, name), bytes);
}

// fuzz_safetensors loads weights for this config: small, so that mutations
// of a whole valid file stay a few kilobytes.
mkdirSync(CORPUS, { recursive: true });
const tiny = { model_type: 'gpt2', n_layer: 1, n_head: 2, n_embd: 4, n_positions: 4, vocab_size: 8 };
writeFileSync(path.join(CORPUS, 'fuzz_safetensors.config.json'), JSON.stringify(tiny, null, 2) + '\n');
const tensors = gpt2Tensors(tiny);
put('fuzz_safetensors', 'valid.safetensors', writeSafetensors(tensors));
put('fuzz_safetensors', 'prefixed.safetensors',
  writeSafetensors(tensors.map(([name, ...rest]) => [`transformer.${name}`, ...rest])));
put('fuzz_safetensors', 'one-tensor.safetensors', writeSafetensors([['wte.weight', [8, 4], 'noise']]));

put('fuzz_config', 'tiny.json', JSON.stringify(tiny));
put('fuzz_config', 'gpt2-small.json', JSON.stringify({
  activation_function: 'gelu_new', architectures: ['GPT2LMHeadModel'], model_type: 'gpt2',
  n_ctx: 1024, n_embd: 768, n_head: 12, n_layer: 12, vocab_size: 50257, layer_norm_epsilon: 1e-5,
  task_specific_params: { 'text-generation': { do_sample: true, max_length: 50 } },
}));
put('fuzz_config', 'attn-only.json', readFileSync(path.join(ROOT, 'tests/fixtures/tiny-attn-only/config.json')));

const vocab = readFileSync(path.join(ROOT, 'tests/fixtures/tiny-gpt/vocab.json'));
const merges = readFileSync(path.join(ROOT, 'tests/fixtures/tiny-gpt/merges.txt'));
put('fuzz_tokenizer_files', 'tiny-gpt', Buffer.concat([vocab, Buffer.from([0]), merges]));
put('fuzz_tokenizer_files', 'bytes-only', Buffer.concat([
  Buffer.from(JSON.stringify({ a: 0, b: 1, 'Ġ': 2 })), Buffer.from([0]), Buffer.from('#version: 0.2\n')]));

const texts = {
  'plain.txt': 'The cat sat on the mat. When Mary and John went to the store,',
  'unicode.txt': 'naïve café — 東京 🙂 \u00e9\u0301 tab\there\nnew line  two spaces',
  'numbers.txt': "It's 3.14159, isn't it? I'll've 1,000,000 'quotes' \"double\"",
  'invalid-utf8.txt': Buffer.from([0x61, 0xff, 0x62, 0xc3]),
};
for (const [name, text] of Object.entries(texts)) put('fuzz_encode', name, text);

const ids = (list) => Buffer.from(new Int32Array(list).buffer);
put('fuzz_decode', 'small-ids', ids([0, 1, 2, 255, 256, 300, 1000, 3583]));
put('fuzz_decode', 'split-utf8', ids([0xe2 - 0x21, 5, 6]));
put('fuzz_decode', 'out-of-range', ids([3584, -1, 0x7fffffff]));
for (const [name, text] of Object.entries({
  'mute.txt': '1.3=0', 'mean.txt': '0.0=mean', 'gain.txt': '2.5=1.5e0', 'ids.txt': '1,2,3,400',
  'negative.txt': '-1', 'hex.txt': '0.0=0x10', 'space.txt': ' 0.0=1',
})) put('fuzz_cli_parse', name, text);

// fuzz_engine: programs of calls (see the target): run 5 ids, mute 0.1,
// rerun at position 2, ablation scan, patching of two 4-id texts.
put('fuzz_engine', 'run-mute-rerun', Buffer.from([
  0, 5, 10, 0, 20, 0, 30, 0, 40, 0, 50, 0, 5, 0,
  2, 0, 1, 0, 0, 0, 0,
  10, 2,
  7, 0, 255, 0,
  9, 4, 1, 0, 2, 0, 3, 0, 4, 0, 4, 1, 0, 2, 0, 9, 0, 4, 0, 5, 0, 6, 0, 3,
]));
put('fuzz_engine', 'mean-resample-prune', Buffer.from([
  1, 8, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8, 0, 5, 0,
  3, 1, 2, 3, 7, 0, 8, 0, 9, 0,
  4, 0, 3, 2, 1, 0, 2, 0,
  11,
  8, 1, 2, 0,
]));
console.log(`seeds written to ${path.relative(ROOT, CORPUS)}/`);
