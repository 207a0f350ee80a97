// The Training view's pure parts, in Node: checkpoint names (a checkpoint is
// a model of its own to the page, "<model>.step-N"), reading the shipped
// attn-only-2l timeline.json (every checkpoint, the phases, the text ICL
// bands), a hostile timeline refused with a message, the line path that
// skips missing values, and the order Play walks in. Prints what it checks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { importTs } from './ts-import.mjs';

const names = await importTs('web/src/engine/checkpoint-names.ts');
const data = await importTs('web/src/views/timeline-data.ts');
const { linePath } = await importTs('web/src/views/timeline-charts.ts');

const ROOT = new URL('../..', import.meta.url);

test('checkpoint names: to and from the timeline folder, the base model, the folder URL', () => {
  const name = names.checkpointName('attn-only-2l', 'checkpoints/step-05634');
  console.log(`checkpoint name: ${name}`);
  assert.equal(name, 'attn-only-2l.step-05634');
  assert.equal(names.checkpointName('attn-only-2l', '.'), 'attn-only-2l');
  assert.deepEqual(names.checkpointOf(name), { model: 'attn-only-2l', folder: 'step-05634' });
  assert.equal(names.checkpointOf('gpt-4l'), null);
  assert.equal(names.checkpointOf('gpt-4l-8k'), null);
  assert.equal(names.baseModelName(name), 'attn-only-2l');
  assert.equal(names.baseModelName('gpt-4l'), 'gpt-4l');
  const base = new URL('https://example.org/app/models/');
  assert.equal(names.modelFolderUrl(name, base).href, 'https://example.org/app/models/attn-only-2l/checkpoints/step-05634/');
  assert.equal(names.modelFolderUrl('gpt-4l', base).href, 'https://example.org/app/models/gpt-4l/');
  assert.throws(() => names.checkpointName('m', '../../etc'), /not a checkpoints\/step-N folder/);
  assert.throws(() => names.checkpointName('m', 'checkpoints/step-1/../x'), /not a checkpoints/);
});

test('the shipped attn-only-2l timeline: every checkpoint, its phases and scores', () => {
  const json = JSON.parse(readFileSync(new URL('models/attn-only-2l/timeline.json', ROOT), 'utf8'));
  const t = data.parseTimeline(json, 'attn-only-2l');
  const last = t.points[t.points.length - 1];
  console.log(`timeline: ${t.points.length} points, ${t.n_layer} x ${t.n_head} heads, last step ${t.last_step}, ` +
    `${t.phases.length} phases, ${t.loss.length} loss points, final text ICL ${last.text_icl?.toFixed(3)}, probe ICL ${last.probe_icl.toFixed(3)}`);
  assert.equal(t.points.length, json.checkpoints.length);
  assert.equal([t.n_layer, t.n_head].join('x'), '2x8');
  assert.equal(last.name, 'attn-only-2l');
  assert.equal(last.step, t.last_step);
  for (let i = 1; i < t.points.length; i++) assert.ok(t.points[i].step > t.points[i - 1].step);
  for (const p of t.points.slice(0, -1)) assert.match(p.name, /^attn-only-2l\.step-\d+$/);
  assert.equal(data.pointOf(t, 'attn-only-2l'), t.points.length - 1);
  assert.equal(data.pointOf(t, t.points[3].name), 3);
  assert.equal(data.pointOf(t, 'gpt-4l'), -1);
  // The phases cover the run: warm-up first, text last.
  assert.equal(t.phases[0].from, 0);
  assert.equal(t.phases[0].data, 'warmup');
  assert.equal(t.phases[t.phases.length - 1].data, 'text');
  assert.equal(t.phases[t.phases.length - 1].to, t.last_step);
  assert.match(data.phaseLabel(t.phases[0]), /^warm-up · \d+ tokens$/);
  // The trained model copies from context: both ICL scores well below 0.
  assert.ok(last.probe_icl < -5, `probe ICL ${last.probe_icl}`);
  assert.equal(t.probe_half_len, 16);
  assert.ok(last.text_icl !== null && last.text_icl < 0, `text ICL ${last.text_icl}`);
  assert.deepEqual(t.text_icl_tokens, { early: [8, 15], late: [96, 127] });
  const best = Math.max(...last.induction);
  assert.ok(best > 0.8, `best induction ${best}`);
  // The phase change and the checkpoints that see it.
  const change = data.phaseChange(t);
  const inside = t.points.filter((p) => p.step > change.from && p.step < change.to);
  console.log(`phase change: steps ${change.from}-${change.to}, probe ICL ${change.icl_from.toFixed(2)} -> ${change.icl_to.toFixed(2)}, ` +
    `best induction ${change.induction_from.toFixed(3)} -> ${change.induction_to.toFixed(3)}; inside: ` +
    inside.map((p) => `${p.step} (ICL ${p.probe_icl.toFixed(2)}, induction ${Math.max(...p.induction).toFixed(3)})`).join(', '));
  assert.equal(inside.length, change.inside);
});

test('a hostile timeline.json is refused with a message', () => {
  const ok = JSON.parse(readFileSync(new URL('models/attn-only-2l/timeline.json', ROOT), 'utf8'));
  const cases = [
    [null, /no checkpoints/],
    [{ checkpoints: [] }, /no checkpoints/],
    [{ checkpoints: [{ step: 1, dir: 'checkpoints/step-1', induction: [[0]], prev_token: [[0]] }, { step: 1, dir: '.', induction: [[0]], prev_token: [[0]] }] }, /not after step 1/],
    [{ checkpoints: [{ ...ok.checkpoints[0], prev_token: [[1, 2]] }] }, /prev_token is not 2 x 8/],
    [{ checkpoints: [{ ...ok.checkpoints[0], dir: '../x' }] }, /not a checkpoints\/step-N folder/],
  ];
  for (const [json, message] of cases) assert.throws(() => data.parseTimeline(json, 'attn-only-2l'), message);
  console.log(`hostile timelines refused: ${cases.length}`);
});

test('linePath breaks at a missing value; Play walks forward, then from the start', () => {
  const s = { x: (step) => step, y: (v) => 10 * v };
  assert.equal(linePath([[0, 1], [1, 2], [2, null], [3, NaN], [4, 0.5]], s), 'M0.0 10.0 L1.0 20.0 M4.0 5.0');
  assert.equal(linePath([], s), '');
  assert.deepEqual(data.playOrder(5, 1), [2, 3, 4]);
  assert.deepEqual(data.playOrder(5, 4), [0, 1, 2, 3, 4]);
  assert.deepEqual(data.playOrder(5, -1), [0, 1, 2, 3, 4]);
  assert.equal(data.formatStep(19981), '19,981');
  console.log('linePath and playOrder: as expected');
});

test('phaseChange: the last checkpoint before the probe ICL score has fallen 10% of the way to the first at 90%', () => {
  // A synthetic 1 x 2 timeline: the ICL score falls between steps 300 and 600, head 0.1 forms.
  const icl = [0.01, 0, -0.2, -0.5, -2, -5, -7.5, -8, -7.9];
  const best = [0.05, 0.05, 0.06, 0.1, 0.3, 0.6, 0.85, 0.9, 0.88];
  const steps = [1, 100, 200, 300, 400, 500, 600, 1000, 2000];
  const json = {
    checkpoints: steps.map((step, i) => ({
      step,
      dir: i === steps.length - 1 ? '.' : `checkpoints/step-${String(step).padStart(5, '0')}`,
      icl_score: icl[i],
      induction: [[0.02, best[i]]],
      prev_token: [[0.5, 0.1]],
    })),
  };
  const t = data.parseTimeline(json, 'm');
  const change = data.phaseChange(t);
  // Fall 8.01 from 0.01: 10% is -0.791, last above it at step 300 (-0.5); 90% is -7.199, first reached at step 600.
  console.log(`phase change: ${JSON.stringify(change)}; zoom ${data.zoomDomain(change, t.last_step)}`);
  assert.deepEqual(change, { from: 300, to: 600, inside: 2, icl_from: -0.5, icl_to: -7.5, induction_from: 0.1, induction_to: 0.85 });
  assert.deepEqual(data.zoomDomain(change, t.last_step), [270, 630]);
  // Nothing copies from context: no phase change (the zoom button stays hidden).
  const flat = { checkpoints: json.checkpoints.map((c) => ({ ...c, icl_score: -0.5 * c.icl_score / 8 })) };
  assert.equal(data.phaseChange(data.parseTimeline(flat, 'm')), null);
});
