// The circuit views' state (issue 17): answer, foil, corrupted prompt,
// patched heads and the patching metric in the URL-state table (parsed, serialised, bad values named
// without breaking the rest of the link), and which answer and foil the
// views use when the reader chose none (state/answer-foil.ts).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { importTs } from './ts-import.mjs';

const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const url = await importTs('web/src/state/url-state.ts');
const picks = await importTs('web/src/state/answer-foil.ts');
const presets = await importTs('web/src/views/presets.ts');

test('answer, foil, corrupt and patch round-trip through the hash (leading spaces kept)', () => {
  const state = url.defaultUrlState();
  state.answer = ' Mary';
  state.foil = ' John & co, 100%';
  state.corrupted = 'When John and Mary went to the store, Mary gave a drink to';
  state.patch = [{ layer: 1, head: 2 }, { layer: 0, head: 1 }];
  const hash = url.serialiseHash(state);
  console.log(`  hash: ${hash}`);
  const back = url.parseHash(hash);
  assert.deepEqual(back.problems, []);
  assert.equal(back.state.answer, ' Mary');
  assert.equal(back.state.foil, ' John & co, 100%');
  assert.equal(back.state.corrupted, state.corrupted);
  assert.deepEqual(back.state.patch, [{ layer: 0, head: 1 }, { layer: 1, head: 2 }], 'heads sorted');
  assert.ok(!url.serialiseHash(url.defaultUrlState()).includes('answer'), 'defaults stay out of the link');
});

test('bad values are named and skipped; the rest of the link still applies', () => {
  const long = 'x'.repeat(url.MAX_TOKEN_TEXT + 1);
  const parsed = url.parseHash(`#text=hello&answer=${long}&foil=%F0%9F%98%80&patch=1.x&corrupt=bye`);
  console.log(`  problems: ${parsed.problems.join(' | ')}`);
  assert.equal(parsed.problems.length, 2);
  assert.match(parsed.problems[0], /^answer: .*\(65 characters\) is longer than a token's text \(at most 64 characters\)/);
  assert.match(parsed.problems[1], /^patch: .*is not a head/);
  assert.equal(parsed.state.answer, '', 'the bad answer falls back to the default');
  assert.equal(parsed.state.foil, '😀');
  assert.equal(parsed.state.text, 'hello');
  assert.equal(parsed.state.corrupted, 'bye');
  const lone = url.parseHash('#answer=%ED%A0%80');
  assert.equal(lone.problems.length, 1, 'a lone surrogate cannot even be decoded');
});

test('the patching metric: logit_diff by default (old links unchanged), logprob round-trips, a bad value is named', () => {
  assert.equal(url.defaultUrlState().metric, 'logit_diff');
  const old = url.parseHash('#answer=+Mary&foil=+John&corrupt=bye');
  assert.deepEqual(old.problems, []);
  assert.equal(old.state.metric, 'logit_diff', 'a link without metric= keeps the logit difference');
  assert.ok(!url.serialiseHash(old.state).includes('metric'), 'the default stays out of the link');
  const state = url.defaultUrlState();
  state.metric = 'logprob';
  const hash = url.serialiseHash(state);
  console.log(`  hash: ${hash}`);
  assert.equal(url.parseHash(hash).state.metric, 'logprob');
  const bad = url.parseHash('#metric=prob&corrupt=bye');
  console.log(`  problems: ${bad.problems.join(' | ')}`);
  assert.equal(bad.problems.length, 1);
  assert.match(bad.problems[0], /^metric: "prob" is not one of logit_diff, logprob/);
  assert.equal(bad.state.metric, 'logit_diff');
  assert.equal(bad.state.corrupted, 'bye');
});

test('with nothing chosen, the top predictions stand in for the answer and the foil', () => {
  const top = [' w', ' the', ' and', ' of', ' a'];
  const none = picks.answerFoilOf({ answer: '', foil: '' }, top);
  assert.deepEqual(none, { answer: { text: ' w', auto: true }, foil: { text: ' the', auto: true } });
  const chosenAnswer = picks.answerFoilOf({ answer: ' w', foil: '' }, top);
  assert.deepEqual(chosenAnswer.foil, { text: ' the', auto: true });
  const chosenFoil = picks.answerFoilOf({ answer: '', foil: ' w' }, top);
  assert.deepEqual(chosenFoil.answer, { text: ' the', auto: true }, 'the stand-in answer is not the foil');
  const both = picks.answerFoilOf({ answer: ' x', foil: ' y' }, top);
  assert.deepEqual(both, { answer: { text: ' x', auto: false }, foil: { text: ' y', auto: false } });
  assert.deepEqual(picks.answerFoilOf({ answer: '', foil: '' }, []).answer, { text: '', auto: true });
  assert.deepEqual(picks.topTokensAt(['a', 'b', 'c', 'd'], 2, 1), ['c', 'd']);
});

test('the induction-circuit preset: the corrupted prompt changes only the first copy', () => {
  const { text, corrupted, answer, foil } = presets.inductionCircuit(3);
  const clean = text.split(' ');
  const bad = corrupted.split(' ');
  assert.equal(clean.length, bad.length);
  const changed = clean.map((w, i) => (w !== bad[i] ? i : -1)).filter((i) => i >= 0);
  console.log(`  ${text}\n  ${corrupted}\n  answer ${JSON.stringify(answer)} foil ${JSON.stringify(foil)}; changed words ${changed.join(',')}`);
  assert.deepEqual(changed, Array.from({ length: 10 }, (_, i) => i + 1), 'exactly the 10 words of the first copy');
  assert.equal(answer, ` ${clean[10]}`, 'the answer is the word after the last repeated one');
  assert.equal(foil, ` ${bad[10]}`);
  assert.ok(!text.endsWith(answer), 'the prompt stops before the answer');
  // Each word is one token after a space in every shipped model's vocabulary: the counts match.
  // Every served model (a folder of models/ with a config.json), the default gpt-4l-8k included.
  const served = readdirSync(join(REPO_ROOT, 'models')).filter((name) => existsSync(join(REPO_ROOT, 'models', name, 'config.json')));
  assert.ok(served.includes('gpt-4l-8k') && served.length >= 4, `served models: ${served.join(', ')}`);
  for (const model of served) {
    const vocab = JSON.parse(readFileSync(join(REPO_ROOT, 'models', model, 'vocab.json'), 'utf8'));
    const missing = presets.ONE_TOKEN_WORDS.filter((word) => vocab[`\u0120${word}`] === undefined);
    console.log(`  ${model}: ${presets.ONE_TOKEN_WORDS.length - missing.length}/${presets.ONE_TOKEN_WORDS.length} words are one token`);
    assert.deepEqual(missing, []);
  }
  const preset = presets.PRESETS.find((p) => p.id === 'circuit');
  assert.deepEqual(preset.circuit(3), { corrupted, answer, foil });
});

test('the name preset: its corrupted prompt swaps only the first mention of the name', () => {
  const preset = presets.PRESETS.find((p) => p.id === 'name');
  const text = preset.text(1);
  const { corrupted, answer, foil } = preset.circuit(1);
  const at = [...text].findIndex((c, i) => c !== corrupted[i]);
  console.log(`  clean:     ${text}\n  corrupted: ${corrupted}\n  answer ${JSON.stringify(answer)}, foil ${JSON.stringify(foil)} (the top prediction that is not the answer)`);
  assert.equal(text.replace('Brackenbury', 'Huntingdon'), corrupted);
  assert.ok(text.slice(at).startsWith('Brackenbury,'), 'the first difference is the first mention');
  assert.ok(text.endsWith('Mr. Bracken') && corrupted.endsWith('Mr. Bracken'), 'both end at the second mention');
  assert.equal(answer, 'b');
});
