// One head's arithmetic and the composition view (issue 16) in real
// Chromium on the shipped models. The arithmetic panel is driven with the
// keyboard only (Tab to its step toolbar, arrow keys, Home, End): its
// softmax row equals the attention the page shows (its own Trace export) and
// the independent float64 reference (tests/reference/gpt2-reference.mjs), on
// the default model and on another shipped model at the first and the last
// token. The composition preset selects induction head 1.5 on gpt-4l and the
// composition view mutes previous-token head 0.1: the induction score before
// and after, against the float64 reference's, and the stripe fading.
// Screenshots of both panels at 1280 and 375 px, light and dark. Prints the
// figures it checks.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { headTypeScores } from '../reference/head-types-reference.mjs';
import { loadReferenceModel, referenceForward } from '../reference/gpt2-reference.mjs';
import {
  DIST_DIR,
  assertCleanPage,
  exportTrace,
  launchChromium,
  openReadyPage,
  screenshotPanels,
  serveStatic,
} from './helpers.mjs';

const PREFIX = '/headlight/';
const READY_TIMEOUT_MS = 60_000;
const PANEL = '[data-panel="arithmetic"]';
const COMPOSITION = '[data-panel="composition"]';

let browser;
let server;
let index;  // models/index.json

before(async () => {
  for (const needed of ['index.html', 'wasm/headlight.js', 'wasm/headlight.wasm', 'models/index.json']) {
    assert.ok(existsSync(join(DIST_DIR, needed)), `${join(DIST_DIR, needed)} is missing: build first`);
  }
  index = JSON.parse(readFileSync(join(DIST_DIR, 'models/index.json'), 'utf8'));
  server = await serveStatic(DIST_DIR, { prefix: PREFIX });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const modelNames = () => (index.models ?? []).map((m) => (typeof m === 'string' ? m : m.name));

/** [T x T] rows of head l.h of a flat (L, H, T, T) array. */
function rows(attn, H, T, l, h) {
  return Array.from({ length: T }, (_, q) => Array.from(attn.slice(((l * H + h) * T + q) * T, ((l * H + h) * T + q + 1) * T)));
}

/** Presses Tab until the focus is on one of the panel's step buttons (keyboard only); returns how many presses. */
async function tabToSteps(page) {
  for (let presses = 1; presses <= 300; presses++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.classList.contains('arith-step'))) return presses;
  }
  throw new Error('Tab never reached the arithmetic steps');
}

const stepShown = (page) => page.getAttribute(`${PANEL} [data-role="arith-table"]`, 'data-step');
const said = (page) => page.textContent(`${PANEL} [data-role="arith-say"]`);

/**
 * The panel's softmax row for head l.h at position t against the page's
 * Trace export and the float64 reference; returns the two max abs diffs.
 */
async function checkRow(page, model, l, h, t) {
  await page.locator(PANEL).scrollIntoViewIfNeeded();
  await page.waitForSelector(`${PANEL}[data-head="${l}.${h}"][data-position="${t}"] [data-role="arith-table"][data-probs]`, { timeout: 30_000 });
  const probs = (await page.getAttribute(`${PANEL} [data-role="arith-table"]`, 'data-probs')).split(',').map(Number);
  const trace = await exportTrace(page);
  const [L, H, T] = trace.attn.shape;
  assert.equal(probs.length, t + 1, 'one weight per key up to the query');
  const shown = trace.attn.data.slice(((l * H + h) * T + t) * T, ((l * H + h) * T + t) * T + t + 1);
  const reference = loadReferenceModel(join(DIST_DIR, 'models', model));
  const forward = referenceForward(reference, trace.ids);
  let page_ = 0, ref = 0;
  for (let s = 0; s <= t; s++) {
    page_ = Math.max(page_, Math.abs(probs[s] - shown[s]));
    ref = Math.max(ref, Math.abs(probs[s] - forward.attn[((l * H + h) * T + t) * T + s]));
  }
  console.log(`  ${model} (${L}x${H}), head ${l}.${h}, position ${t} of ${T}: softmax row vs the page's attention max abs diff ${page_.toExponential(2)} ` +
    `(its export rounds to 1e-6), vs float64 ${ref.toExponential(2)}`);
  assert.ok(page_ <= 1e-6, 'the softmax row is the attention the page shows');
  assert.ok(ref < 1e-4, 'and the float64 reference\'s');
  return { T, L, H };
}

test('the arithmetic panel, by keyboard only: its softmax row is the attention the page shows', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light', acceptDownloads: true });
  const { page, problems } = await openReadyPage(context, `${server.url}#head=1.5`, server.origin, READY_TIMEOUT_MS);
  try {
    const model = index.default;
    // The panel asks the engine once it comes near the viewport: here when
    // the focus brings it there.
    assert.equal(await page.getAttribute(`${PANEL} [data-role="arith-table"]`, 'data-probs'), null, 'nothing asked while far below');
    const presses = await tabToSteps(page);
    console.log(`  Tab x${presses} reaches the steps`);
    await page.waitForSelector(`${PANEL}[data-head="1.5"] [data-role="arith-table"][data-probs]`, { timeout: 30_000 });
    const position = Number(await page.getAttribute(PANEL, 'data-position'));
    assert.ok(position > 0, 'the panel follows the selected (last) token');
    await page.keyboard.press('End');
    assert.equal(await stepShown(page), 'output');
    assert.match(await said(page), /^Step 6 of 6, output: /);
    await page.keyboard.press('Home');
    assert.equal(await stepShown(page), 'scores');
    assert.match(await said(page), /^Step 1 of 6, scores: head 1\.5's query/);
    assert.ok(!(await page.isVisible(`${PANEL} td.c-softmax >> nth=0`)), 'the softmax column waits for its step');
    const steps = [];
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('ArrowRight');
      steps.push(await stepShown(page));
    }
    assert.deepEqual(steps, ['scaled', 'masked', 'softmax']);
    const line = await said(page);
    console.log(`  ${line}`);
    assert.match(line, /^Step 4 of 6, softmax: .*% goes to /);
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.step), 'softmax', 'the focus follows the step');
    assert.equal(await page.getAttribute(`${PANEL} [data-step="softmax"]`, 'aria-pressed'), 'true');
    assert.ok(await page.isVisible(`${PANEL} td.c-softmax >> nth=0`), 'the softmax column shows at its step');
    assert.ok(!(await page.isVisible(`${PANEL} [data-vector="z"] canvas`)), 'z waits for its step');
    await page.keyboard.press('ArrowRight');
    assert.equal(await stepShown(page), 'weighted');
    assert.ok(await page.isVisible(`${PANEL} [data-vector="z"] canvas`), 'z shows at its step');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await stepShown(page), 'softmax');

    // The scatter: one point per key, the query marked.
    const geometry = JSON.parse(await page.getAttribute(`${PANEL} [data-role="arith-scatter"]`, 'data-geometry'));
    console.log(`  scatter: ${geometry.keys.length} keys, ${geometry.labelled.length} labelled, query at ${geometry.query.map(Math.round)}`);
    assert.equal(geometry.keys.length, position + 1);
    // The page's attention, read last: its export button takes the focus.
    const { T } = await checkRow(page, model, 1, 5, position);
    assert.equal(position, T - 1);
    await screenshotPanels(page, { 'arithmetic': PANEL });
    assertCleanPage(problems);
  } finally {
    await context.close();
  }
});

test('the arithmetic panel on another shipped model, at the first and the last token', async () => {
  const other = modelNames().find((name) => name !== index.default && name === 'attn-only-2l') ?? modelNames().find((name) => name !== index.default);
  if (!other) return;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  for (const pos of [0, null]) {
    const hash = `#model=${other}&head=1.1${pos === null ? '' : `&pos=${pos}`}`;
    const { page, problems } = await openReadyPage(context, `${server.url}${hash}`, server.origin, READY_TIMEOUT_MS);
    await page.locator(PANEL).scrollIntoViewIfNeeded();
    await page.waitForSelector(`${PANEL}[data-head="1.1"] [data-role="arith-table"][data-probs]`, { timeout: 30_000 });
    const position = Number(await page.getAttribute(PANEL, 'data-position'));
    await checkRow(page, other, 1, 1, position);
    if (pos === 0) assert.match(await said(page), /Step 1 of 6/);
    assertCleanPage(problems, `${other} ${hash}`);
    await page.close();
  }
  await context.close();
});

test('composition: muting previous-token head 0.1 fades induction head 1.5 on the default model', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light', acceptDownloads: true });
  const { page, problems } = await openReadyPage(context, server.url, server.origin, READY_TIMEOUT_MS);
  try {
    const model = index.default;
    const preset = page.locator('[data-preset="composition"]');
    await preset.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => !document.documentElement.dataset.stale);
    const guide = await page.textContent('[data-role="preset-guide"]');
    console.log(`  guide: ${guide}`);
    if (model !== 'gpt-4l') return;
    await page.locator(COMPOSITION).scrollIntoViewIfNeeded();
    await page.waitForSelector(`${COMPOSITION}[data-pair="0.1>1.5"]`, { timeout: 30_000 });
    const before = Number(await page.getAttribute(COMPOSITION, 'data-before'));
    const afterMute = Number(await page.getAttribute(COMPOSITION, 'data-after'));
    const trace = await exportTrace(page);
    const [L, H, T] = trace.attn.shape;
    const reference = loadReferenceModel(join(DIST_DIR, 'models', model));
    const gains = new Float64Array(L * H).fill(1);
    const refBefore = headTypeScores(rows(referenceForward(reference, trace.ids).attn, H, T, 1, 5), trace.ids);
    gains[0 * H + 1] = 0;
    const refAfter = headTypeScores(rows(referenceForward(reference, trace.ids, { headGains: gains }).attn, H, T, 1, 5), trace.ids);
    console.log(`  ${model}, ${T} tokens: head 1.5's induction score ${before.toFixed(4)} -> ${afterMute.toFixed(4)} with 0.1 muted ` +
      `(float64 reference ${refBefore.induction.toFixed(4)} -> ${refAfter.induction.toFixed(4)})`);
    console.log(`  ${await page.textContent(`${COMPOSITION} [data-role="comp-scores"]`)}`);
    assert.ok(Math.abs(before - refBefore.induction) < 1e-4 && Math.abs(afterMute - refAfter.induction) < 1e-4, 'the scores are the reference\'s');
    assert.ok(before >= 0.4, 'head 1.5 is an induction head on this text');
    assert.ok(afterMute < before - 0.3, 'muting 0.1 takes most of its induction away');
    for (const name of ['1.5', '0.1']) assert.ok(guide.includes(name), `the guide names ${name}`);
    assert.equal(await page.inputValue(`${COMPOSITION} [data-role="comp-source"]`), '0.1');

    await screenshotPanels(page, { 'composition': COMPOSITION });
    assertCleanPage(problems);
  } finally {
    await context.close();
  }
});
