// Compare two runs' state and choices (issue 17 item 6): runs=, runtext=,
// runwith= round-trip through the hash, bad values are named and skipped;
// the models a pair of models offers (views/run-compare-figures.ts): the
// loaded model's checkpoints and same-shape models first, the others with
// a reason naming both shapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importTs } from './ts-import.mjs';

const url = await importTs('web/src/state/url-state.ts');
const figures = await importTs('web/src/views/run-compare-figures.ts');

test('runs, runtext and runwith round-trip; bad values are named', () => {
  const state = url.defaultUrlState();
  assert.equal(state.runs, 'edits');
  state.runs = 'models';
  state.runtext = 'A second prompt, with & and 100%';
  state.runwith = 'attn-only-2l/step-00411';
  const hash = url.serialiseHash(state);
  console.log(`  hash: ${hash}`);
  const back = url.parseHash(hash);
  assert.deepEqual(back.problems, []);
  assert.equal(back.state.runs, 'models');
  assert.equal(back.state.runtext, state.runtext);
  assert.equal(back.state.runwith, 'attn-only-2l/step-00411');
  const bad = url.parseHash('#runs=three&runwith=../secret&head=1.2');
  console.log(`  problems: ${bad.problems.join(' | ')}`);
  assert.equal(bad.problems.length, 2);
  assert.match(bad.problems[0], /^runs: .*is not one of edits, prompts, models/);
  assert.match(bad.problems[1], /^runwith: .*is not a model name/);
  assert.deepEqual(bad.state.head, { layer: 1, head: 2 }, 'the rest of the link applies');
  for (const name of ['a/b/c', 'a/..', '/a', 'a/']) assert.equal(url.isRunModelName(name), false, name);
});

test('the models a pair offers: the same shape first, checkpoints by path, others with both shapes', () => {
  const shape = (n_layer, n_embd) => ({ n_layer, n_head: 8, n_embd, vocab_size: 3584 });
  const models = [
    { name: 'attn-only-2l', description: '', bytes: 1, ...shape(2, 128), checkpoints: ['step-00001', 'step-00411'] },
    { name: 'gpt-4l', description: '', bytes: 1, ...shape(4, 256), checkpoints: [] },
    { name: 'twin', description: '', bytes: 1, ...shape(2, 128) },
  ];
  const loaded = { name: 'attn-only-2l', bytes: 1, load_ms: 0, ...shape(2, 128), n_positions: 128, attn_only: true, n_params: 1 };
  const choices = figures.runModelChoices(models, loaded);
  console.log(`  ${choices.map((c) => `${c.value}${c.mismatch ? ' (other shape)' : ''}`).join(', ')}`);
  assert.deepEqual(choices.map((c) => c.value), ['attn-only-2l/step-00001', 'attn-only-2l/step-00411', 'twin', 'gpt-4l']);
  assert.equal(choices[1].path, 'attn-only-2l/checkpoints/step-00411/');
  assert.equal(choices[3].mismatch,
    'gpt-4l has 4 layers × 8 heads, width 256, vocabulary 3584; attn-only-2l has 2 layers × 8 heads, width 128, vocabulary 3584: two models are compared head by head, so they need the same shape');
});
