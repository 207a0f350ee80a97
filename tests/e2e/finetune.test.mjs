// The "Fine-tune heads" panel (issue 18) in Chromium: a preset chosen and a
// short fine-tune started from the keyboard lowers the loss on the examples,
// the side-effect numbers (held-out loss before and after) and the list of
// other heads that moved render, the edited heads' patterns are drawn before
// and after, the fine-tuned model becomes the page's (its predictions
// differ), and Undo reopens the served model by name: the picker shows its
// name (not "your files"), the link names it as the fresh page's did, and
// the predictions equal the fresh page's exactly. A bad head list gets a
// message. Screenshots at 1280 and 375 px, light and dark.
// Prints the figures it checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertCleanPage, canvasStats, pageInChromium, PREDICTION_LIST, predictionState, screenshotPanels, watchPage } from './helpers.mjs';

const READY_TIMEOUT_MS = 60_000;
const RUN_TIMEOUT_MS = 180_000;
const PANEL = '[data-role="finetune"]';
const state = pageInChromium();

const figures = (page) => page.$eval(PANEL, (el) => ({ ...el.dataset }));
const role = (name) => `[data-role="${name}"]`;

/** Waits until the panel's data-state is `want` (or fails with its status). */
async function waitForState(page, want) {
  await page.waitForFunction(
    ([sel, w]) => ['failed', w].includes(document.querySelector(sel).dataset.state),
    [PANEL, want],
    { timeout: RUN_TIMEOUT_MS },
  );
  const f = await figures(page);
  assert.equal(f.state, want, await page.textContent(role('finetune-status')));
}

/** The predictions of a settled page, repainted since `revision` (the bars of the latest pass drawn). */
async function settledPredictions(page, revision = null) {
  await page.waitForSelector('html[data-ready="true"]:not([data-stale="true"])', { timeout: READY_TIMEOUT_MS });
  if (revision !== null) {
    await page.waitForFunction(([sel, r]) => document.querySelector(sel)?.dataset.revision !== r, [PREDICTION_LIST, revision], {
      timeout: READY_TIMEOUT_MS,
    });
  }
  await page.waitForTimeout(500);
  return predictionState(page);
}

test('fine-tune panel: preset, fine-tune, side effects, moved heads, undo', async (t) => {
  const context = await state.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watchPage(context, page, state.server.origin);
  await page.goto(`${state.server.url}index.html`);
  const original = await settledPredictions(page);
  const picker = () => page.$eval('[data-role="model-picker"]', (s) => s.selectedOptions[0]?.textContent ?? '');
  const linkedModel = () => page.evaluate(() => new URLSearchParams(location.hash.slice(1)).get('model'));
  const fresh = { picked: await picker(), model: await linkedModel() };
  await page.locator(role('finetune-start')).scrollIntoViewIfNeeded();

  await t.test('no head chosen: a message, nothing runs', async () => {
    await page.fill(role('finetune-heads'), '');
    await page.fill(role('finetune-examples'), 'a, b, c, d');
    await page.focus(role('finetune-start'));
    await page.keyboard.press('Enter');
    await waitForState(page, 'failed').catch(() => undefined);
    const status = await page.textContent(role('finetune-status'));
    console.log(`  no head: "${status}"`);
    assert.match(status, /choose at least one head/);
    await page.fill(role('finetune-heads'), '9.9');
    await page.click(role('finetune-start'));
    assert.match(await page.textContent(role('finetune-status')), /head 9\.9 is outside this model/);
  });

  await t.test('a preset fine-tuned by keyboard lowers the loss on the examples', async () => {
    await page.focus(role('finetune-preset'));
    await page.selectOption(role('finetune-preset'), '0');
    const heads = await page.inputValue(role('finetune-heads'));
    const examples = (await page.inputValue(role('finetune-examples'))).split('\n').length;
    await page.fill(role('finetune-steps'), '15');
    await page.focus(role('finetune-start'));
    const t0 = Date.now();
    await page.keyboard.press('Enter');
    await waitForState(page, 'tuned');
    const f = await figures(page);
    console.log(`  heads ${heads}, ${examples} examples, 15 steps in ${((Date.now() - t0) / 1000).toFixed(1)} s: ` +
      `examples ${f.examplesBefore} -> ${f.examplesAfter}, held-out ${f.heldoutBefore} -> ${f.heldoutAfter}`);
    assert.ok(Number(f.examplesAfter) < Number(f.examplesBefore) - 0.05, 'the loss on the examples fell');
    assert.ok(Number.isFinite(Number(f.heldoutBefore)) && Number.isFinite(Number(f.heldoutAfter)));
  });

  await t.test('the side effects and the moved heads render; the patterns are drawn', async () => {
    const rows = await page.$$eval(`${role('finetune-losses')} tbody tr`, (trs) => trs.map((tr) => tr.textContent));
    const moved = await page.$$eval(`${role('finetune-moved')} li`, (lis) => lis.map((li) => [li.dataset.head, Number(li.dataset.moved)]));
    console.log(`  losses: ${rows.join(' | ')}; most moved: ${moved.map(([h, m]) => `${h} ${m.toFixed(3)}`).join(', ')}`);
    assert.equal(rows.length, 2);
    assert.match(rows[1], /Held-out text/);
    assert.equal(moved.length, 5);
    for (let i = 1; i < moved.length; i++) assert.ok(moved[i - 1][1] >= moved[i][1], 'most moved first');
    assert.ok(moved[0][1] > 0, 'some other head moved');
    const stats = await canvasStats(page, `${role('finetune-before')}, ${role('finetune-after')}`);
    assert.equal(stats.length, 2, 'one head: its pattern before and after');
    for (const s of stats) assert.ok(s.painted > 0);
    await page.selectOption(role('finetune-example'), '2');
    const after = await canvasStats(page, role('finetune-after'));
    console.log(`  patterns: ${stats.map((s) => `${s.width}x${s.height}`).join(', ')}; example 3: ${after[0].width}x${after[0].height}`);
  });

  await t.test('the fine-tuned model is the page\'s; Undo reopens the served model: its name, its predictions', async () => {
    const picked = await picker();
    const tuned = await settledPredictions(page, original.revision);
    console.log(`  picker: "${picked}"; predictions ${original.probs.slice(0, 40)} -> ${tuned.probs.slice(0, 40)}`);
    assert.match(picked, /gpt-4l-8k-tuned-2\.3/);
    assert.notEqual(tuned.probs, original.probs, 'the fine-tuned model predicts otherwise');
    await screenshotPanels(page, { finetune: '[data-panel="finetune"]' });
    const beforeUndo = await predictionState(page);
    await page.click(role('finetune-undo'));
    await waitForState(page, 'undone');
    const restored = await settledPredictions(page, beforeUndo.revision);
    const undone = { picked: await picker(), model: await linkedModel() };
    console.log(`  undone: picker "${undone.picked}" (fresh page: "${fresh.picked}"), link model=${undone.model} (fresh: ${fresh.model}); ` +
      `predictions ${restored.probs.slice(0, 40)} (ids ${restored.ids.slice(0, 30)})`);
    assert.match(fresh.picked, /^gpt-4l-8k\b/);
    assert.equal(undone.picked, fresh.picked, 'the picker shows the served model again');
    assert.doesNotMatch(undone.picked, /your files|tuned/);
    assert.equal(undone.model, fresh.model, 'the link names the model as the fresh page\'s did');
    assert.match(await page.textContent(role('finetune-status')), /Undone: the page shows gpt-4l-8k with its original weights/);
    assert.equal(restored.ids, original.ids);
    assert.equal(restored.probs, original.probs);
  });

  assertCleanPage(problems, 'finetune page');
  await context.close();
});
