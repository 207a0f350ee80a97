// Each preset's claim, checked on the shipped models its guide names heads
// of (web/src/views/presets.ts, HEADS_OF): the named heads score as the
// guide says (head-type scores from the float64 definitions in
// tests/reference/head-types-reference.mjs; the copying heads' OV copying
// score from `headlight analyze --json`), the predicted tokens are in the
// top k, and muting the named heads (the induction heads with the copying
// heads that share their job) breaks the prediction. Runs the native engine
// (`headlight run --json`); prints every figure it checks.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { allHeadTypeScores } from '../reference/head-types-reference.mjs';
import { importTs } from '../web/ts-import.mjs';
import { REPO_ROOT } from './wasm-helpers.mjs';

const BIN = path.resolve(REPO_ROOT, process.env.HEADLIGHT_BIN ?? 'build/native/headlight');
const { PRESETS, HEADS_OF } = await importTs('web/src/views/presets.ts');
const THRESHOLD = 0.4; // docs/heads.md: a head's type is the score that passes 0.4
const COPYING = 0.7; // presets.ts KnownHeads.copying: heads that copy, named with this score or more
// Models on which muting the previous-token heads alone takes "b" out of the
// name story's top 5 (the stricter check); the others add the duplicate-token heads.
const PREVIOUS_TOKEN_ALONE = new Set(['gpt-4l-8k', 'gpt-4l']);

function run(model, text, muted = [], topK = 5) {
  const args = ['run', '--model', path.join(REPO_ROOT, 'models', model), '--text', text, '--top-k', String(topK), '--json'];
  for (const head of muted) args.push('--edit', `${head}=0`);
  return JSON.parse(execFileSync(BIN, args, { maxBuffer: 1 << 28 }).toString());
}

const preset = (id) => PRESETS.find((p) => p.id === id);
const top = (r, t) => r.top_k[t].map((x) => `${JSON.stringify(x.token)} ${(100 * x.prob).toFixed(1)}%`).join(', ');
const fmt = (scores, heads, key) => heads.map((h) => `${h} ${scores[h][key].toFixed(2)}`).join(', ');

/** Each head's OV copying score (docs/heads.md "Copying"), by name "L.H". */
function copyingScores(model) {
  const r = JSON.parse(execFileSync(BIN, ['analyze', '--model', path.join(REPO_ROOT, 'models', model), '--text', 'a b', '--json'],
    { maxBuffer: 1 << 28 }).toString());
  return Object.fromEntries(r.copying.flatMap((row, l) => row.map((v, h) => [`${l}.${h}`, { copying: v }])));
}

function checkScores(scores, heads, key, min, what) {
  for (const h of heads) assert.ok(scores[h][key] >= min, `${what}: head ${h} ${key} ${scores[h][key].toFixed(3)} < ${min}`);
}

for (const [model, heads] of Object.entries(HEADS_OF)) {
  test(`presets on ${model}: the named heads do what the guides say`, async (t) => {
    assert.ok(existsSync(BIN), `no engine binary at ${BIN}`);
    // The heads muted to break a copy: the induction heads and the copying heads that share their job.
    const copiers = [...heads.induction, ...heads.copying];
    const copying = copyingScores(model);
    console.log(`${model} copying heads: ${heads.copying.length ? fmt(copying, heads.copying, 'copying') : 'none named'}`);
    checkScores(copying, heads.copying, 'copying', COPYING, 'copying');

    await t.test('a name that comes back', () => {
      const text = preset('name').text(1);
      const r = run(model, text);
      const last = r.tokens.length - 1;
      const scores = allHeadTypeScores(r.attn, r.ids);
      console.log(`${model} name: top 5 ${top(r, last)}; induction ${fmt(scores, heads.induction, 'induction')}; ` +
        `previous-token ${fmt(scores, heads.previousToken, 'previous_token')}`);
      assert.equal(r.top_k[last][0].token, 'b', 'the model completes Bracken-b-ury');
      checkScores(scores, heads.induction, 'induction', THRESHOLD, 'name');
      checkScores(scores, heads.previousToken, 'previous_token', 0.9, 'name');
      // The layer-0 heads whose muting breaks the copy: on the gpt-4l models the
      // previous-token heads alone (the keys); on attn-only-2l the previous-token
      // head 0.2 muted alone leaves "b" second (13.5%), and with the
      // duplicate-token head 0.5 (the queries) it is gone.
      const layer0 = PREVIOUS_TOKEN_ALONE.has(model)
        ? [...heads.previousToken]
        : [...heads.previousToken, ...heads.duplicateToken];
      const layer0What = PREVIOUS_TOKEN_ALONE.has(model) ? 'previous-token' : 'previous-token and duplicate-token';
      for (const [what, muted] of [['induction and copying', copiers], [layer0What, layer0]]) {
        const m = run(model, text, muted);
        const w = m.top_k[last].find((x) => x.token === 'b');
        console.log(`  ${what} heads ${muted.join(',')} muted: top 5 ${top(m, last)}`);
        assert.ok(!w, `muting the ${what} heads leaves "b" in the top 5`);
      }
      // Its corrupted prompt (Compare prompts, issue 17): the first mention's
      // name swapped, as many tokens; the answer "b" falls, and patching the
      // heads the guide names brings most of it back.
      const { corrupted, answer } = preset('name').circuit(1);
      const foil = r.top_k[last].find((x) => x.token !== answer).token;
      const patched = JSON.parse(execFileSync(BIN, ['patch', '--model', path.join(REPO_ROOT, 'models', model),
        '--clean', text, '--corrupted', corrupted, '--answer', answer, '--foil', foil, '--json']).toString());
      const named = [...heads.previousToken, ...heads.induction, ...heads.duplicateToken, ...heads.copying];
      const recovery = patched.head_z.flatMap((row, l) => row.map((v, h) => [`${l}.${h}`, Math.max(0, v)]));
      const share = recovery.filter(([n]) => named.includes(n)).reduce((a, [, v]) => a + v, 0) /
        recovery.reduce((a, [, v]) => a + v, 0);
      console.log(`  corrupted prompt: ${patched.clean_ids.length} tokens each; logit(b) - logit(${JSON.stringify(foil)}) ` +
        `clean ${patched.metric.clean.toFixed(2)}, corrupted ${patched.metric.corrupted.toFixed(2)}; ` +
        `heads ${named.join(',')} carry ${(100 * share).toFixed(0)}% of the positive head-z recovery`);
      assert.equal(patched.corrupted_ids.length, patched.clean_ids.length);
      assert.ok(patched.metric.clean - patched.metric.corrupted > 3, 'swapping the first mention costs "b" more than 3 logits');
      assert.ok(share > 0.5, 'the named heads carry most of the recovery');
    });

    await t.test('repeated random words', () => {
      const text = preset('induction').text(1);
      const r = run(model, text);
      const T = r.tokens.length;
      // The first copy's tokens: its first word has no space before it, so
      // the copies can differ in their first token; compare from the second.
      const copy = text.slice(0, (text.length - 1) / 2);
      const n1 = execFileSync(BIN, ['tokenize', '--model', path.join(REPO_ROOT, 'models', model)], { input: copy })
        .toString().trim().split(/\s+/).length;
      // loss[t] predicts token t + 1: the first copy's tokens 1..n1-1, the second's after its first.
      const mean = (a, b, loss) => loss.slice(a, b).reduce((s, x) => s + x, 0) / (b - a);
      const first = mean(0, n1 - 1, r.loss), second = mean(n1, T - 1, r.loss);
      let hits = 0;
      for (let t = n1; t < T - 1; t++) hits += r.top_k[t][0].id === r.ids[t + 1] ? 1 : 0;
      const half = n1;
      const scores = allHeadTypeScores(r.attn, r.ids);
      const m = run(model, text, copiers);
      const mutedSecond = mean(half, T - 1, m.loss);
      console.log(`${model} induction: loss first copy ${first.toFixed(2)}, second ${second.toFixed(2)} ` +
        `(heads ${copiers.join(',')} muted: ${mutedSecond.toFixed(2)}); second copy top-1 right ${hits} of ${T - 1 - half}; ` +
        `induction ${fmt(scores, heads.induction, 'induction')}`);
      assert.ok(second < first - 3, 'the second copy is predicted from the first');
      assert.ok(hits >= 0.7 * (T - 1 - half), 'the next token is the top prediction in most of the second copy');
      checkScores(scores, heads.induction, 'induction', THRESHOLD, 'induction');
      assert.ok(mutedSecond > second + 3, 'muting the induction (and copying) heads breaks the copy');
    });

    await t.test('plain prose', () => {
      const r = run(model, preset('prose').text(1));
      const scores = allHeadTypeScores(r.attn, r.ids);
      console.log(`${model} prose: previous-token ${fmt(scores, heads.previousToken, 'previous_token')}; ` +
        `duplicate-token ${fmt(scores, heads.duplicateToken, 'duplicate_token')}`);
      checkScores(scores, heads.previousToken, 'previous_token', 0.9, 'prose');
      checkScores(scores, heads.duplicateToken, 'duplicate_token', 0.5, 'prose');
    });

    // The guide names exactly these heads.
    const guide = preset('name').guide(model);
    for (const h of [...heads.induction, ...heads.previousToken, ...heads.duplicateToken, ...heads.copying]) {
      assert.ok(guide.includes(h), `guide names ${h}`);
    }
    console.log(`${model} guide: ${guide}`);
  });
}
