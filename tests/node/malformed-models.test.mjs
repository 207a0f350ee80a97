// Broken model folders through the wasm engine's public API (issue 19): each
// of the cases below is a distinct way a model folder can be damaged or lie
// (a truncated file at every section boundary, lying header lengths, huge
// declared shapes, NaN and infinite weights, vocabulary and merges that do
// not match, config fields of the wrong type, 0 layers, n_embd not divisible
// by n_head, duplicate tensor names, a 100 MB header, ...). Each is built in
// memory from the good tiny-gpt fixture by changing one thing, and must give
// an { ok: false } answer whose message names the problem (a pattern per
// case); the model loaded before keeps tokenizing and running the same.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from './wasm-helpers.mjs';

const good = readModelFolder(path.join(REPO_ROOT, 'tests/fixtures/tiny-gpt'));
const goodConfig = JSON.parse(good.configJson);
const headerLength = Number(new DataView(good.safetensors.buffer).getBigUint64(0, true));
const goodHeader = JSON.parse(new TextDecoder().decode(good.safetensors.subarray(8, 8 + headerLength)));
const goodData = good.safetensors.subarray(8 + headerLength);

// A safetensors file from header text and data bytes.
function safetensors(headerText, data = goodData, declaredLength = null) {
  const text = new TextEncoder().encode(headerText);
  const file = new Uint8Array(8 + text.length + data.length);
  new DataView(file.buffer).setBigUint64(0, BigInt(declaredLength ?? text.length), true);
  file.set(text, 8);
  file.set(data, 8 + text.length);
  return file;
}

// The good header with `edit(header)` applied (a deep copy).
function withHeader(edit, data = goodData) {
  const header = structuredClone(goodHeader);
  edit(header);
  return safetensors(JSON.stringify(header), data);
}

// The good data with one float of a tensor set to `value`.
function withWeight(name, index, value) {
  const data = goodData.slice();
  const [begin] = goodHeader[name].data_offsets;
  new DataView(data.buffer).setFloat32(begin + 4 * index, value, true);
  return withHeader(() => {}, data);
}

function withConfig(edit) {
  const config = structuredClone(goodConfig);
  edit(config);
  return { ...good, configJson: JSON.stringify(config) };
}

const tensorNames = Object.keys(goodHeader).filter((name) => name !== '__metadata__');
const vocab = JSON.parse(good.vocabJson);
const vocabTokens = Object.keys(vocab);

// [name, files, pattern the message must match]
const cases = [
  ['empty safetensors file', { ...good, safetensors: new Uint8Array(0) }, /file is empty/],
  ['file shorter than the length prefix', { ...good, safetensors: good.safetensors.subarray(0, 5) }, /shorter than the 8-byte header length/],
  ['file truncated right after the length prefix', { ...good, safetensors: good.safetensors.subarray(0, 8) }, /past end of file/],
  ['file truncated inside the header', { ...good, safetensors: good.safetensors.subarray(0, 8 + (headerLength >> 1)) }, /past end of file/],
  ['file truncated right after the header', { ...good, safetensors: good.safetensors.subarray(0, 8 + headerLength) }, /outside the data section of 0 bytes/],
  ['file truncated after the first tensor (wte)', { ...good, safetensors: good.safetensors.subarray(0, 8 + headerLength + 85056) }, /outside the data section of 85056 bytes/],
  ['file truncated inside a tensor (h.0.mlp.c_fc)', { ...good, safetensors: good.safetensors.subarray(0, 8 + headerLength + 150000) }, /outside the data section of 150000 bytes/],
  ['header length declared 0', { ...good, safetensors: safetensors('', goodData, 0) }, /header is empty/],
  ['header length lies: one byte short', { ...good, safetensors: safetensors(JSON.stringify(goodHeader), goodData, headerLength - 1) }, /header is not JSON/],
  ['header of 100 MB declared', { ...good, safetensors: safetensors(JSON.stringify(goodHeader), goodData, 100 * 1024 * 1024) }, /header length 104857600/],
  ['header is not JSON', { ...good, safetensors: safetensors('{"wte.weight": {dtype', goodData) }, /header is not JSON/],
  ['header is a JSON array', { ...good, safetensors: safetensors('[1, 2, 3]', goodData) }, /header is not a JSON object/],
  ['tensor entry is a string', { ...good, safetensors: withHeader((h) => { h['wpe.weight'] = 'F32'; }) }, /wpe\.weight/],
  ['unknown dtype', { ...good, safetensors: withHeader((h) => { h['wpe.weight'].dtype = 'F64X'; }) }, /F64X/],
  ['dtype says F16 for F32 data', { ...good, safetensors: withHeader((h) => { h['ln_f.bias'].dtype = 'F16'; }) }, /ln_f\.bias/],
  ['data offsets past the data', { ...good, safetensors: withHeader((h) => { h['ln_f.bias'].data_offsets = [323712, 423904]; }) }, /ln_f\.bias/],
  ['data offsets reversed', { ...good, safetensors: withHeader((h) => { h['ln_f.weight'].data_offsets = [323712, 323520]; }) }, /ln_f\.weight/],
  ['data offsets not two numbers', { ...good, safetensors: withHeader((h) => { h['ln_f.weight'].data_offsets = [323520]; }) }, /ln_f\.weight/],
  ['negative shape', { ...good, safetensors: withHeader((h) => { h['ln_f.weight'].shape = [-48]; }) }, /ln_f\.weight/],
  ['huge declared shape', { ...good, safetensors: withHeader((h) => { h['wte.weight'].shape = [2 ** 40, 2 ** 40]; }) }, /wte\.weight/],
  ['shape disagrees with the config', { ...good, safetensors: withHeader((h) => { h['wpe.weight'].shape = [48, 64]; h['wpe.weight'].data_offsets = [85056, 97344]; }) }, /wpe\.weight/],
  ['duplicate tensor name', {
    ...good,
    safetensors: safetensors(JSON.stringify(goodHeader).replace('"wpe.weight"', '"wte.weight"')),
  }, /wte\.weight/],
  ['a tensor is missing', { ...good, safetensors: withHeader((h) => { delete h['h.1.ln_2.bias']; }) }, /missing tensor 'h\.1\.ln_2\.bias'/],
  ['two tensors share bytes', { ...good, safetensors: withHeader((h) => { h['h.2.ln_1.weight'] = h['ln_f.weight']; }) }, /'h\.2\.ln_1\.weight' .* overlap/],
  ['an unexpected tensor', {
    ...good,
    safetensors: withHeader((h) => { h['h.2.ln_1.weight'] = { dtype: 'F32', shape: [48], data_offsets: [goodData.length, goodData.length + 192] }; },
      new Uint8Array([...goodData, ...new Uint8Array(192)])),
  }, /h\.2\.ln_1\.weight/],
  ['__metadata__ is a number', { ...good, safetensors: withHeader((h) => { h.__metadata__ = 7; }) }, /__metadata__/],
  ['too many header entries', {
    ...good,
    safetensors: withHeader((h) => { for (let i = 0; i < 200000; ++i) h[`x${i}`] = { dtype: 'F32', shape: [0], data_offsets: [0, 0] }; }),
  }, /entries/],
  ['NaN weight', { ...good, safetensors: withWeight('h.0.attn.c_attn.weight', 12, NaN) }, /'h\.0\.attn\.c_attn\.weight' holds NaN at element 12/],
  ['infinite weight', { ...good, safetensors: withWeight('ln_f.bias', 3, -Infinity) }, /'ln_f\.bias' holds an infinite value at element 3/],
  ['config is not JSON', { ...good, configJson: '{"n_layer": 2,' }, /config/],
  ['config is an array', { ...good, configJson: '[2, 4, 48]' }, /config/],
  ['config is empty', { ...good, configJson: '' }, /config/],
  ['n_layer 0', withConfig((c) => { c.n_layer = 0; }), /n_layer/],
  ['n_layer negative', withConfig((c) => { c.n_layer = -2; }), /n_layer/],
  ['n_layer a string', withConfig((c) => { c.n_layer = '2'; }), /n_layer/],
  ['n_layer fractional', withConfig((c) => { c.n_layer = 2.5; }), /n_layer/],
  ['n_layer more than the file holds', withConfig((c) => { c.n_layer = 3; }), /missing tensor 'h\.2\.ln_1\.weight' \(config: n_layer 3\)/],
  ['n_head missing', withConfig((c) => { delete c.n_head; }), /n_head/],
  ['n_head 0', withConfig((c) => { c.n_head = 0; }), /n_head/],
  ['n_embd not divisible by n_head', withConfig((c) => { c.n_head = 5; }), /n_head/],
  ['n_embd disagrees with the file', withConfig((c) => { c.n_embd = 64; c.n_head = 4; }), /wte\.weight/],
  ['n_positions 0', withConfig((c) => { c.n_positions = 0; c.n_ctx = 0; }), /n_positions|n_ctx/],
  ['n_positions larger than wpe', withConfig((c) => { c.n_positions = 128; c.n_ctx = 128; }), /wpe\.weight/],
  ['vocab_size disagrees with the file', withConfig((c) => { c.vocab_size = 500; }), /vocab_size|wte\.weight/],
  ['unknown activation function', withConfig((c) => { c.activation_function = 'swish9'; }), /activation_function/],
  ['layer_norm_epsilon a string', withConfig((c) => { c.layer_norm_epsilon = 'tiny'; }), /layer_norm_epsilon/],
  ['layer_norm_epsilon negative', withConfig((c) => { c.layer_norm_epsilon = -1; }), /layer_norm_epsilon/],
  ['vocab.json is not JSON', { ...good, vocabJson: '{"a": 1,' }, /vocab/],
  ['vocab.json is an array', { ...good, vocabJson: '["a", "b"]' }, /vocab/],
  ['vocab.json is empty object', { ...good, vocabJson: '{}' }, /vocab/],
  ['vocab id is a string', { ...good, vocabJson: JSON.stringify({ ...vocab, [vocabTokens[5]]: 'five' }) }, /vocab/],
  ['two tokens share an id', { ...good, vocabJson: JSON.stringify({ ...vocab, [vocabTokens[5]]: vocab[vocabTokens[6]] }) }, /used by both/],
  ['vocab id past the vocabulary', { ...good, vocabJson: JSON.stringify({ ...vocab, [vocabTokens[7]]: 100000 }) }, /vocab/],
  ['vocab.json loses tokens that merges.txt makes', {
    ...good,
    vocabJson: JSON.stringify(Object.fromEntries(Object.entries(vocab).filter(([, id]) => id < 300))),
  }, /merges\.txt line \d+: the merged token/],
  ['merge of a token not in the vocabulary', { ...good, mergesTxt: good.mergesTxt.trimEnd() + '\nzzqq xxyy\n' }, /merge/],
  ['merge line with one token', { ...good, mergesTxt: good.mergesTxt.trimEnd() + '\nlonely\n' }, /merge/],
];

test(`${cases.length} broken model folders: each an { ok: false } naming its problem; the loaded model keeps running`, async () => {
  assert.ok(cases.length >= 40, `${cases.length} cases`);
  const Module = await createModule();
  const engine = new Module.Engine();
  expectOk(loadFolder(engine, good), 'loadModel tiny-gpt');
  const { ids } = expectOk(engine.tokenize('Hello there, general Kenobi'), 'tokenize');
  expectOk(engine.run(ids, 5), 'run before');
  const before = Array.from(expectOk(engine.getLogits(), 'logits before').logits);
  const messages = new Map();
  for (const [name, files, pattern] of cases) {
    const answer = loadFolder(engine, files);
    assert.equal(answer.ok, false, `${name}: loaded`);
    assert.equal(typeof answer.error, 'string', `${name}: no message`);
    assert.match(answer.error, pattern, `${name}: "${answer.error}"`);
    assert.ok(answer.error.length < 400, `${name}: a ${answer.error.length}-character message`);
    messages.set(answer.error, [...(messages.get(answer.error) ?? []), name]);
  }
  for (const [message, names] of messages) console.log(`  ${names.join(' / ')}: ${message}`);
  console.log(`${cases.length} broken folders, ${cases.length} refused, ${messages.size} distinct messages`);
  // Cases that share a message are the same check seen from two sides (a
  // truncation and a lying length both end the header past the file).
  assert.ok(messages.size >= 40, `${messages.size} distinct messages`);

  const again = expectOk(engine.tokenize('Hello there, general Kenobi'), 'tokenize after');
  assert.deepEqual(Array.from(again.ids), Array.from(ids));
  expectOk(engine.run(again.ids, 5), 'run after');
  const after = Array.from(expectOk(engine.getLogits(), 'logits after').logits);
  assert.equal(after.length, before.length);
  assert.ok(after.every((x, i) => x === before[i]), 'the same logits, bit for bit, as before the broken folders');
  console.log(`the model loaded first: ${after.length} logits, the same bit for bit after the ${cases.length} refusals`);
});
