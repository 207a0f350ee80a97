// The Training view (issue 18, "Timeline") in real Chromium on attn-only-2l:
// every checkpoint has its marks on the loss and ICL charts and a chart per
// head; moving the slider to each checkpoint loads it as the page's model
// (the URL names it), redraws the heads' attention thumbnails at that step
// and moves the step marks; the last step is the trained model itself; a
// checkpoint loaded once is not downloaded again; Play walks through every
// checkpoint; a link to a checkpoint opens it; the zoom to the phase change
// marks every checkpoint inside it, and the page scrubbed to one of them
// shows it. Screenshots at 1280 and 375 px, light and dark (the whole run,
// and zoomed inside the jump). Prints the counts it checks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { importTs } from '../web/ts-import.mjs';
import { DIST_DIR, assertCleanPage, canvasStats, pageInChromium, screenshotPanels, watchPage } from './helpers.mjs';

const data = await importTs('web/src/views/timeline-data.ts');

const MODEL = 'attn-only-2l';
const PANEL = '[data-panel="timeline"]';
const served = pageInChromium({ prefix: '/headlight/', needed: ['wasm/headlight.js', `models/${MODEL}/timeline.json`] });
const timeline = JSON.parse(readFileSync(join(DIST_DIR, `models/${MODEL}/timeline.json`), 'utf8'));
const STEPS = timeline.checkpoints.map((c) => c.step);
const N_HEADS = timeline.checkpoints[0].induction.flat().length;
// Where the induction heads form, as the view finds it; a checkpoint in its middle.
const CHANGE = data.phaseChange(data.parseTimeline(timeline, MODEL));
const INSIDE = STEPS.filter((s) => CHANGE && s > CHANGE.from && s < CHANGE.to);
const MIDDLE = STEPS.indexOf(INSIDE[Math.floor(INSIDE.length / 2)]);

async function openPage(hash, width = 1280, colorScheme = 'light') {
  const context = await served.browser.newContext({ viewport: { width, height: 900 }, colorScheme });
  const page = await context.newPage();
  const problems = watchPage(context, page, served.server.origin);
  await page.goto(`${served.server.url}#${hash}`);
  await page.waitForSelector('[data-role="timeline-body"]:not([hidden])', { timeout: 60_000 });
  return { context, page, problems };
}

/** Waits until the thumbnails show checkpoint `step` and every chart marks it; returns what is drawn. */
async function drawnAt(page, step) {
  await page.waitForFunction((want) => {
    const heads = document.querySelector('[data-role="timeline-heads"]');
    const marks = [...document.querySelectorAll('[data-panel="timeline"] [data-role="step-mark"]')];
    return heads?.dataset.drawnStep === String(want) && marks.length > 0 && marks.every((m) => m.dataset.step === String(want));
  }, step, { timeout: 60_000 });
  return page.evaluate(() => ({
    hash: window.location.hash,
    marks: document.querySelectorAll('[data-role="timeline-loss"] [data-role="checkpoint-mark"]').length,
    iclMarks: document.querySelectorAll('[data-role="timeline-icl"] [data-role="checkpoint-mark"]').length,
    stepMarks: document.querySelectorAll('[data-panel="timeline"] [data-role="step-mark"]').length,
    selected: [...document.querySelectorAll('[data-role="timeline-loss"] .tl-mark-selected')].map((m) => Number(m.dataset.point)),
    thumbsAtStep: [...document.querySelectorAll('[data-role="timeline-thumb"]')].map((c) => c.dataset.step),
    label: document.querySelector('[data-role="timeline-step"]').textContent,
  }));
}

/** A fingerprint of every thumbnail's pixels (to see the attention change between checkpoints). */
function thumbPrint(page) {
  return page.$$eval('[data-role="timeline-thumb"]', (canvases) => canvases.map((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let h = 0;
    for (let i = 0; i < d.length; i += 4) h = (h * 31 + d[i] + 7 * d[i + 1] + 13 * d[i + 2]) >>> 0;
    return h;
  }));
}

async function setSlider(page, index) {
  await page.locator('[data-role="timeline-slider"]').evaluate((slider, i) => {
    slider.value = String(i);
    slider.dispatchEvent(new Event('input', { bubbles: true }));
  }, index);
}

test('the Training view draws every checkpoint of attn-only-2l and loads each one', async () => {
  const { context, page, problems } = await openPage(`model=${MODEL}`);
  await page.locator(PANEL).scrollIntoViewIfNeeded();
  const last = STEPS.length - 1;
  const first = await drawnAt(page, STEPS[last]);
  const cells = await page.locator('[data-role="timeline-head"]').count();
  const headCharts = await page.locator('[data-role="timeline-head"] svg.tl-head').count();
  const phases = await page.locator('[data-role="timeline-loss"] [data-role="phase"]').count();
  const phaseItems = await page.locator('[data-role="timeline-phases"] li').allTextContents();
  console.log(`  ${STEPS.length} checkpoints: ${first.marks} loss marks, ${first.iclMarks} ICL marks, ` +
    `${cells} head cells with ${headCharts} charts, ${phases} phase bands; "${first.label}"`);
  console.log(`  phases: ${phaseItems.join(' | ')}`);
  assert.equal(first.marks, STEPS.length);
  assert.equal(first.iclMarks, STEPS.length);
  assert.equal(cells, N_HEADS);
  assert.equal(headCharts, N_HEADS);
  assert.equal(phases, timeline.phases.length);
  assert.ok(phaseItems.some((t) => /warm-up · 32 tokens: random tokens with spans copied/.test(t)), 'the warm-up is named');
  assert.ok(phaseItems.some((t) => /text · 128 tokens/.test(t)), 'the text phase is named');
  assert.deepEqual(first.selected, [last]);
  assert.match(await page.locator('[data-role="timeline-icl-note"]').textContent(), /tokens 96–127 of a window minus tokens 8–15/);

  // Every checkpoint, in order: the page's model, the thumbnails, the marks.
  const prints = [];
  const loadMs = [];
  for (let i = 0; i < STEPS.length; i++) {
    const t0 = Date.now();
    await setSlider(page, i);
    const drawn = await drawnAt(page, STEPS[i]);
    loadMs.push(Date.now() - t0);
    const dir = timeline.checkpoints[i].dir;
    const name = dir === '.' ? MODEL : `${MODEL}.${dir.split('/')[1]}`;
    assert.match(drawn.hash, new RegExp(`model=${name.replace(/\./g, '\\.')}(&|$)`), `step ${STEPS[i]}: the URL names ${name}`);
    assert.deepEqual(drawn.selected, [i]);
    assert.equal(drawn.stepMarks, 2 + N_HEADS);  // loss, ICL and every head's chart
    assert.ok(drawn.thumbsAtStep.every((s) => s === String(STEPS[i])), `step ${STEPS[i]}: every thumbnail redrawn`);
    const stats = await canvasStats(page, '[data-role="timeline-thumb"]');
    assert.ok(stats.every((s) => s.painted > 0), `step ${STEPS[i]}: every thumbnail painted`);
    prints.push(await thumbPrint(page));
  }
  const changed = prints.slice(1).map((p, i) => p.filter((h, head) => h !== prints[i][head]).length);
  console.log(`  loaded ${STEPS.length} checkpoints: ${loadMs.join(', ')} ms; thumbnails changed from one to the next: ${changed.join(', ')} of ${N_HEADS}`);
  const firstVsLast = prints[last].filter((h, head) => h !== prints[0][head]).length;
  assert.equal(firstVsLast, N_HEADS, 'every head attends differently at the end than at step 1');
  assert.match(await page.locator('[data-role="timeline-step"]').textContent(), /the trained model/);

  // Back to a checkpoint seen before: no second download.
  const fetchedBefore = problems.requests.filter((u) => /checkpoints\/step-\d+\/model\.safetensors$/.test(u)).length;
  await setSlider(page, 3);
  await drawnAt(page, STEPS[3]);
  const fetchedAfter = problems.requests.filter((u) => /checkpoints\/step-\d+\/model\.safetensors$/.test(u)).length;
  console.log(`  checkpoint weights downloaded: ${fetchedBefore} for ${STEPS.length - 1} checkpoints; after going back to step ${STEPS[3]}: ${fetchedAfter}`);
  assert.equal(fetchedBefore, STEPS.length - 1);
  assert.equal(fetchedAfter, fetchedBefore);

  // A click on a checkpoint's mark loads it.
  await page.locator(`[data-role="timeline-icl"] [data-role="checkpoint-mark"][data-point="${last - 1}"]`).click();
  await drawnAt(page, STEPS[last - 1]);

  // Play from the last but one: the last, then every checkpoint from the first.
  await setSlider(page, last);
  await drawnAt(page, STEPS[last]);
  await page.evaluate(() => {
    const heads = document.querySelector('[data-role="timeline-heads"]');
    window.playedSteps = [];
    new MutationObserver(() => window.playedSteps.push(Number(heads.dataset.drawnStep))).observe(heads, { attributes: true, attributeFilter: ['data-drawn-step'] });
  });
  const t0 = Date.now();
  await page.locator('[data-role="timeline-play"]').click();
  assert.equal(await page.locator('[data-role="timeline-play"]').textContent(), 'Pause');
  await page.waitForFunction(() => document.querySelector('[data-role="timeline-play"]').textContent === 'Play', null, { timeout: 240_000 });
  const played = await page.evaluate(() => window.playedSteps);
  console.log(`  Play: ${played.length} checkpoints drawn in ${Date.now() - t0} ms: ${played.join(', ')}`);
  assert.deepEqual(played, STEPS);

  await screenshotPanels(page, { timeline: PANEL });
  assertCleanPage(problems);
  await context.close();
});

test('a link to a checkpoint opens it, and the picker shows its model', async () => {
  const i = MIDDLE >= 0 ? MIDDLE : 1;
  const dir = timeline.checkpoints[i].dir.split('/')[1];
  const { context, page, problems } = await openPage(`model=${MODEL}.${dir}`, 375, 'dark');
  const drawn = await drawnAt(page, STEPS[i]);
  const picked = await page.locator('[data-role="model-picker"], #model-picker').first().inputValue().catch(() => '');
  const summary = await page.evaluate(() => document.body.textContent.includes(`training checkpoint`));
  console.log(`  #model=${MODEL}.${dir}: step ${STEPS[i]} selected (${drawn.selected}), picker "${picked}", summary names the checkpoint: ${summary}`);
  assert.deepEqual(drawn.selected, [i]);
  assert.equal(picked, MODEL);
  assert.ok(summary);
  assertCleanPage(problems);
  await context.close();
});

test('zoomed to the phase change: every checkpoint inside it marked, scrubbed to one in the middle', async () => {
  console.log(`  phase change: ${JSON.stringify(CHANGE)}; checkpoints inside: ${INSIDE.join(', ')}`);
  assert.ok(CHANGE, 'the ICL score falls: a phase change');
  const dir = timeline.checkpoints[MIDDLE].dir.split('/')[1];
  const { context, page, problems } = await openPage(`model=${MODEL}.${dir}`);
  await page.locator(PANEL).scrollIntoViewIfNeeded();
  await drawnAt(page, STEPS[MIDDLE]);
  const band = await page.locator('[data-role="timeline-icl"] [data-role="phase-change"]').count();
  const zoom = page.locator('[data-role="timeline-zoom"]');
  await zoom.click();
  assert.equal(await zoom.getAttribute('aria-pressed'), 'true');
  const [lo, hi] = data.zoomDomain(CHANGE, STEPS[STEPS.length - 1]);
  const marked = await page.$$eval('[data-role="timeline-loss"] [data-role="checkpoint-mark"]', (m) => m.map((x) => Number(x.dataset.point)));
  const expected = STEPS.map((s, i) => [s, i]).filter(([s]) => s >= lo && s <= hi).map(([, i]) => i);
  const stepMarks = await page.$$eval('[data-panel="timeline"] [data-role="step-mark"]', (m) => m.map((x) => Number(x.dataset.step)));
  console.log(`  zoomed to steps ${lo}-${hi}: ${marked.length} checkpoint marks (${expected.length} expected), ` +
    `${stepMarks.length} step marks at ${stepMarks[0]}, ${band} phase-change band; zoom button "${await zoom.textContent()}"`);
  assert.equal(band, 1);
  assert.deepEqual(marked, expected);
  assert.ok(marked.length >= CHANGE.inside + 2, 'the phase change and its two ends are marked');
  assert.equal(stepMarks.length, 2 + N_HEADS);
  assert.ok(stepMarks.every((s) => s === STEPS[MIDDLE]));
  await screenshotPanels(page, { 'timeline-phase-change': PANEL });
  await zoom.click();
  assert.equal(await page.locator('[data-role="timeline-loss"] [data-role="checkpoint-mark"]').count(), STEPS.length, 'the whole run again');
  assertCleanPage(problems);
  await context.close();
});
