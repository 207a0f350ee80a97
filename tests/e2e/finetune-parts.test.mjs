// A long fine-tuning in the "Fine-tune heads" panel (issue 18) runs in parts
// (web/src/views/finetune-run.ts): the progress bar moves, a head edit made
// during the run repaints the predictions within a part or two (timed), the
// panel is drawn during the run (screenshots at 1280 and 375 px, light and
// dark: test-artifacts/finetune-running-*.png), and Cancel, reached with Tab
// and pressed with Enter, stops it: the page's model predicts bit for bit as
// before the fine-tuning. A model opened from the reader's files comes back
// with Undo from the copy of its weights the reply carried (the page cannot
// fetch them again). Prints the figures it checks.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertCleanPage, pageInChromium, PREDICTION_LIST, predictionState, REPO_ROOT, screenshotPanels, watchPage } from './helpers.mjs';

const READY_TIMEOUT_MS = 60_000;
const PANEL = '[data-role="finetune"]';
const GRID = '[data-role="head-grid"]';
// The most a run may ask: long enough to outlast the checks and screenshots on an idle machine.
const STEPS = 500;
const state = pageInChromium();

const role = (name) => `[data-role="${name}"]`;
const panelState = (page) => page.$eval(PANEL, (el) => ({
  state: el.dataset.state, stepsDone: Number(el.dataset.stepsDone ?? 0), parts: Number(el.dataset.parts ?? 0), partMs: Number(el.dataset.partMs ?? 0),
}));
const bar = (page) => page.$eval(role('finetune-progress'), (p) => ({ value: p.value, max: p.max, hidden: p.hidden, label: p.getAttribute('aria-label') }));

/** The predictions of a settled page. */
async function settledPredictions(page) {
  await page.waitForSelector('html[data-ready="true"]:not([data-stale="true"])', { timeout: READY_TIMEOUT_MS });
  await page.waitForTimeout(500);
  return predictionState(page);
}

/**
 * Clicks head l.h in the grid (mute or unmute) and times, in the page, the
 * click to the predictions' repaint; with the fine-tuning's steps done and
 * parts arrived at the click and at the repaint.
 */
function timedToggle(page, l, h) {
  return page.evaluate(async ([grid, list, panel, layer, head]) => {
    const listEl = document.querySelector(list);
    const panelEl = document.querySelector(panel);
    const previous = listEl.dataset.revision;
    const stepsAtClick = Number(panelEl.dataset.stepsDone);
    const partsAtClick = Number(panelEl.dataset.parts);
    const t = performance.now();
    document.querySelector(`${grid} button.head[data-layer="${layer}"][data-head="${head}"]`).click();
    await new Promise((done) => {
      const observer = new MutationObserver(() => {
        if (listEl.dataset.revision !== previous) { observer.disconnect(); done(); }
      });
      observer.observe(listEl, { attributes: true });
    });
    return {
      ms: performance.now() - t, stepsAtClick, stepsAtPaint: Number(panelEl.dataset.stepsDone),
      parts: Number(panelEl.dataset.parts) - partsAtClick, partMs: Number(panelEl.dataset.partMs), state: panelEl.dataset.state,
    };
  }, [GRID, PREDICTION_LIST, PANEL, l, h]);
}

test(`fine-tune in parts: ${STEPS} steps, the bar moves, an edit is answered meanwhile, Cancel by keyboard leaves the model as it was`, async () => {
  const context = await state.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watchPage(context, page, state.server.origin);
  await page.goto(`${state.server.url}index.html`);
  const original = await settledPredictions(page);
  // The same edit with no fine-tuning beside it, for comparison.
  const idle = [await timedToggle(page, 0, 3), await timedToggle(page, 0, 3)];
  await page.locator(role('finetune-start')).scrollIntoViewIfNeeded();
  await page.selectOption(role('finetune-preset'), '0');
  await page.fill(role('finetune-steps'), String(STEPS));
  await page.focus(role('finetune-start'));
  const t0 = Date.now();
  await page.keyboard.press('Enter');

  // The bar moves, part by part.
  await page.waitForFunction((sel) => Number(document.querySelector(sel).dataset.stepsDone) > 0, PANEL, { timeout: READY_TIMEOUT_MS });
  const first = { ...(await bar(page)), at: Date.now() - t0 };
  await page.waitForFunction(([sel, n]) => document.querySelector(sel).value > n, [role('finetune-progress'), first.value], { timeout: READY_TIMEOUT_MS });
  const second = { ...(await bar(page)), at: Date.now() - t0 };
  console.log(`  progress: ${first.value} of ${first.max} steps at ${first.at} ms, ${second.value} at ${second.at} ms ("${first.label}")`);
  assert.equal(first.max, STEPS);
  assert.ok(!first.hidden && second.value > first.value, 'the bar moved');
  assert.ok(second.value < STEPS, 'the run is still going');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.role), 'finetune-cancel', 'Enter on Fine-tune moved the focus to Cancel');

  // A head edit during the run, and its undo: both repaint while it goes on.
  const mute = await timedToggle(page, 0, 3);
  const unmute = await timedToggle(page, 0, 3);
  console.log(`  mute / unmute 0.3 with no fine-tuning: repainted in ${idle.map((e) => e.ms.toFixed(0)).join(', ')} ms`);
  for (const [what, e] of [['mute 0.3', mute], ['unmute 0.3', unmute]])
    console.log(`  ${what} during the fine-tuning: predictions repainted in ${e.ms.toFixed(0)} ms ` +
      `(steps ${e.stepsAtClick} -> ${e.stepsAtPaint}, ${e.parts} part(s) of ~${e.partMs} ms arrived meanwhile, ${e.state})`);
  for (const e of [mute, unmute]) {
    assert.equal(e.state, 'running', 'answered before the run ended');
    // The edit's pass goes to the worker before the next part is asked: it waits for the part under way.
    assert.ok(e.parts <= 2, `an edit waits a part or two, not the run (${e.parts} parts arrived first)`);
  }

  // The panel during the run.
  await screenshotPanels(page, { 'finetune-running': '[data-panel="finetune"]' });
  const during = await panelState(page);
  console.log(`  after the screenshots: ${during.stepsDone} of ${STEPS} steps, ${during.state}`);
  assert.equal(during.state, 'running', `still running after the screenshots (${await page.textContent(role('finetune-status'))})`);

  // Cancel from the keyboard: Tab from the learning rate skips the disabled Fine-tune button.
  await page.focus(role('finetune-lr'));
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.role), 'finetune-cancel');
  const tCancel = Date.now();
  await page.keyboard.press('Enter');
  await page.waitForFunction((sel) => document.querySelector(sel).dataset.state !== 'running', PANEL, { timeout: READY_TIMEOUT_MS });
  const ended = await panelState(page);
  const status = await page.textContent(role('finetune-status'));
  console.log(`  cancelled in ${Date.now() - tCancel} ms after ${ended.stepsDone} of ${STEPS} steps: "${status}"`);
  assert.equal(ended.state, 'cancelled', status);
  assert.match(status, new RegExp(`Cancelled after \\d+ of ${STEPS} steps`));
  assert.ok((await bar(page)).hidden);
  assert.equal(await page.$eval('[data-role="model-picker"]', (s) => s.value), 'gpt-4l-8k', 'the model was not replaced');

  // A new pass of the page's model (mute and unmute): as before, bit for bit.
  await timedToggle(page, 0, 3);
  await timedToggle(page, 0, 3);
  const after = await settledPredictions(page);
  console.log(`  predictions before ${original.probs.slice(0, 60)}; after the cancel ${after.probs.slice(0, 60)}`);
  assert.notEqual(after.revision, original.revision, 'the page ran the model again');
  assert.equal(after.ids, original.ids);
  assert.equal(after.probs, original.probs);

  assertCleanPage(problems, 'finetune parts page');
  await context.close();
});

test('the reader\'s own files: Undo opens the original weights from the copy the fine-tuning sent back', async () => {
  const context = await state.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watchPage(context, page, state.server.origin);
  await page.goto(`${state.server.url}index.html`);
  const served = await settledPredictions(page);
  const picker = () => page.$eval('[data-role="model-picker"]', (s) => s.selectedOptions[0]?.textContent ?? '');
  // The shipped gpt-4l-8k's files, opened as the reader's own.
  const dir = join(REPO_ROOT, 'models', 'gpt-4l-8k');
  await page.setInputFiles('[data-role="open-local-files"]', ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'].map((f) => join(dir, f)));
  await page.waitForFunction(([list, r]) => document.querySelector(list)?.dataset.revision !== r, [PREDICTION_LIST, served.revision], { timeout: READY_TIMEOUT_MS });
  const opened = { picked: await picker(), ...(await settledPredictions(page)) };
  assert.match(opened.picked, /your files/);

  await page.locator(role('finetune-start')).scrollIntoViewIfNeeded();
  await page.selectOption(role('finetune-preset'), '0');
  await page.fill(role('finetune-steps'), '3');
  await page.click(role('finetune-start'));
  await page.waitForFunction((sel) => ['tuned', 'failed'].includes(document.querySelector(sel).dataset.state), PANEL, { timeout: 180_000 });
  assert.equal((await panelState(page)).state, 'tuned', await page.textContent(role('finetune-status')));
  const tuned = { picked: await picker(), ...(await settledPredictions(page)) };
  assert.match(tuned.picked, /-tuned-/);
  assert.notEqual(tuned.probs, opened.probs);

  await page.click(role('finetune-undo'));
  await page.waitForFunction((sel) => ['undone', 'failed'].includes(document.querySelector(sel).dataset.state), PANEL, { timeout: READY_TIMEOUT_MS });
  const status = await page.textContent(role('finetune-status'));
  assert.equal((await panelState(page)).state, 'undone', status);
  await page.waitForFunction(([list, r]) => document.querySelector(list)?.dataset.revision !== r, [PREDICTION_LIST, tuned.revision], { timeout: READY_TIMEOUT_MS });
  const undone = { picked: await picker(), ...(await settledPredictions(page)) };
  console.log(`  your files: picker "${opened.picked}" -> "${tuned.picked}" -> "${undone.picked}"; "${status}"; ` +
    `predictions ${opened.probs.slice(0, 40)} -> ${tuned.probs.slice(0, 40)} -> ${undone.probs.slice(0, 40)} (served: ${served.probs.slice(0, 40)})`);
  assert.doesNotMatch(undone.picked, /tuned/);
  assert.match(undone.picked, /your files/);
  assert.equal(undone.ids, opened.ids);
  assert.equal(undone.probs, opened.probs, 'the original weights, bit for bit (F32 of the F16 file: the same numbers)');
  assert.equal(opened.probs, served.probs);

  assertCleanPage(problems, 'finetune your-files page');
  await context.close();
});
