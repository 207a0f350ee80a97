// Which heads matter (issue 16), in real Chromium on the shipped default
// model and text: the importance overlay computed from the keyboard with a
// visible progress bar, its figures against the same wasm engine in Node
// (ablationScan, gradientImportance, pruningCurve) bit for bit; Cancel stops
// a scan between layers and leaves the page working, and the pruning
// curves between parts (their progress bar climbs to every removal); a click on a tinted
// cell mutes that head; the pruning slider removes heads (the predictions
// change, the link holds the edits); the CSV and JSON exports parse and
// their numbers equal the engine's. Screenshots at 1280 and 375 px, light
// and dark. Prints the figures it checks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createModule, expectOk, loadFolder, readModelFolder } from '../node/wasm-helpers.mjs';
import {
  DIST_DIR,
  artifactPath,
  assertCleanPage,
  mutedHeads,
  screenshotPanels,
  predictionState,
  pageInChromium,
  waitForNewPredictions,
  watchPage,
} from './helpers.mjs';

const GRID = '[data-role="head-grid"]';
const headButton = (layer, head) => `${GRID} button.head[data-layer="${layer}"][data-head="${head}"]`;

const shipped = pageInChromium({ prefix: '/headlight/', needed: ['wasm/headlight.js', 'wasm/headlight.wasm'] });
let Module;  // the same wasm module in Node
let engine;  // its engine, on the same model
let info;

before(async () => {
  Module = await createModule();
  engine = new Module.Engine();
  info = expectOk(loadFolder(engine, readModelFolder(join(DIST_DIR, 'models', shipped.model))), 'loadModel');
});

after(async () => {
  engine?.delete();
});

/** A page on the default model and text, its first analysis drawn; returns { context, page, problems, text }. */
async function openPage(colorScheme = 'light') {
  const context = await shipped.browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme, acceptDownloads: true });
  const page = await context.newPage();
  const problems = watchPage(context, page, shipped.server.origin);
  await page.goto(shipped.server.url);
  await page.waitForSelector(`${GRID} .head-cell[data-head-types]`, { timeout: 30_000 });
  await page.waitForFunction(() => !document.documentElement.dataset.stale);
  const text = await page.locator('[data-role="text-input"]').inputValue();
  return { context, page, problems, text };
}

/** The Node engine on text with every head as trained: its token ids. */
function runInNode(text) {
  const { ids } = expectOk(engine.tokenize(text), 'tokenize');
  expectOk(engine.clearHeadGains(), 'clearHeadGains');
  expectOk(engine.run(ids, 5), 'run');
  return ids;
}

/** Each head's overlay figure [L x H], as the page wrote it on the cell. */
async function overlayValues(page) {
  return page.$$eval(`${GRID} button.head`, (buttons) => buttons.map((b) => Number(b.dataset.importanceValue)));
}

function maxDiff(a, b) {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** Starts the computation chosen in the kind menu with the keyboard and waits for the overlay. */
async function computeByKeyboard(page, kind) {
  await page.locator('[data-role="importance-kind"]').selectOption(kind);
  await page.locator('[data-role="importance-run"]').focus();
  await page.keyboard.press('Enter');
  const want = kind === 'gradient' ? 'gradient' : kind;
  await page.waitForFunction((k) => document.querySelector('[data-role="head-grid"]').dataset.importance === k, want, { timeout: 30_000 });
}

test('the overlay computes with a visible progress, equals the engine, and a click on a cell mutes the head', async () => {
  const { context, page, problems, text } = await openPage();
  // Every state the progress bar passes through, recorded in the page.
  await page.evaluate(() => {
    const bar = document.querySelector('[data-role="importance-progress-bar"]');
    const box = document.querySelector('[data-role="importance-progress"]');
    window.__progress = [];
    // The bar's value and max properties reflect to its attributes, which the observer sees.
    new MutationObserver(() => window.__progress.push({ value: bar.value, max: bar.max, shown: !box.hidden })).observe(bar, { attributes: true });
  });
  await computeByKeyboard(page, 'zero');
  const seen = await page.evaluate(() => window.__progress);
  const partial = seen.filter((s) => s.shown && s.value > 0 && s.value < s.max);
  console.log(`  progress states seen: ${seen.map((s) => `${s.value}/${s.max}`).join(' ')}; partial ${partial.length}`);
  assert.ok(partial.length > 0, 'the bar showed a partly done scan');
  assert.equal(await page.isHidden('[data-role="importance-progress"]'), true, 'the bar goes when the scan is done');

  const ids = runInNode(text);
  const scan = expectOk(engine.ablationScan('zero', -1), 'ablationScan');
  const shown = await overlayValues(page);
  const diff = maxDiff(shown, scan.delta_mean_loss);
  console.log(`  zero scan, ${ids.length} tokens, ${shown.length} heads: max |page - engine| Δ mean loss ${diff}`);
  assert.equal(diff, 0);
  const legend = await page.locator('[data-role="importance-legend"]').textContent();
  assert.match(legend, /Red: removing the head raises the loss/);
  await page.hover(headButton(1, 2));
  const card = await page.locator('.tooltip').first().textContent();
  console.log(`  hover card of 1.2: ${card}`);
  assert.match(card, /1\.2 removed \(zero\): Δ mean loss/);

  // The log p metric: -Δ log p of the next token.
  await page.locator('[data-role="importance-metric"]').selectOption('logprob');
  const logp = await overlayValues(page);
  const logpDiff = maxDiff(logp, Array.from(scan.delta_logprob, (d) => -d));
  console.log(`  -Δ log p(next) at position ${scan.position}: max |page - engine| ${logpDiff}`);
  assert.equal(logpDiff, 0);

  // The gradient.
  await computeByKeyboard(page, 'gradient');
  const gradient = expectOk(engine.gradientImportance(ids, new Float32Array(info.n_layer * info.n_head).fill(1)), 'gradientImportance');
  const gradDiff = maxDiff(await overlayValues(page), Array.from(gradient.gradient, (g) => -g));
  console.log(`  gradient: max |page - engine| ${gradDiff}`);
  assert.equal(gradDiff, 0);
  const rho = expectOk(Module.spearmanRho(gradient.gradient.map((g) => -g), scan.delta_mean_loss), 'spearmanRho').rho;
  const note = await page.locator('[data-role="importance-note"]').textContent();
  console.log(`  rank correlation: page "${note.match(/Spearman ρ\)[^:]*: (-?\d+\.\d+)/)?.[1]}", engine ${rho}`);
  assert.match(note, new RegExp(`Spearman ρ\\) of −gradient with the exact scan's Δ mean loss \\(zero\\): ${rho.toFixed(3)}`));

  // A click on a tinted cell mutes that head; the overlay stays.
  const before = await predictionState(page);
  await page.click(headButton(1, 2));
  await waitForNewPredictions(page, before.revision);
  const muted = await mutedHeads(page);
  console.log(`  after a click on the tinted cell 1.2: muted ${muted.join(', ')}; overlay ${await page.$eval(GRID, (g) => g.dataset.importance)}`);
  assert.deepEqual(muted, ['1.2']);
  assert.equal(await page.$eval(GRID, (g) => g.dataset.importance), 'gradient');

  // Screenshots of the overlay.
  await computeByKeyboard(page, 'zero');
  await page.locator('[data-role="importance-metric"]').selectOption('loss');
  await screenshotPanels(page, { 'importance': '[data-panel="heads"]' });
  // A new text clears the overlay.
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.fill('[data-role="text-input"]', `${text} And one more sentence.`);
  await page.waitForFunction(() => document.querySelector('[data-role="head-grid"]').dataset.importance === undefined, null, { timeout: 30_000 });
  const tints = await page.$$eval(`${GRID} .head-importance`, (t) => t.length);
  console.log(`  after a new text: ${tints} tinted cells`);
  assert.equal(tints, 0);
  assertCleanPage(problems);
  await context.close();
});

test('Cancel stops the scan between layers and leaves the page working', async () => {
  const { context, page, problems } = await openPage();
  // Compute then Cancel in one task: the cancel reaches the worker while the
  // first layer is being scanned, so the scan stops before the second.
  await page.evaluate(() => {
    const bar = document.querySelector('[data-role="importance-progress-bar"]');
    window.__progress = [];
    new MutationObserver(() => window.__progress.push(bar.value)).observe(bar, { attributes: true });
    document.querySelector('[data-role="importance-run"]').click();
    const cancel = document.querySelector('[data-role="importance-cancel"]');
    window.__cancelShown = !cancel.hidden;
    cancel.click();
  });
  await page.waitForFunction(() => /Cancelled/.test(document.querySelector('[data-role="importance-note"]').textContent), null, { timeout: 30_000 });
  const scanned = await page.evaluate(() => Math.max(0, ...window.__progress));
  console.log(`  Cancel: stopped after ${scanned} of ${info.n_layer * info.n_head} heads (a layer is ${info.n_head})`);
  assert.ok(scanned < info.n_layer * info.n_head, 'the scan stopped before its last layer');
  const state = await page.evaluate(() => ({
    cancelShown: window.__cancelShown,
    overlay: document.querySelector('[data-role="head-grid"]').dataset.importance ?? null,
    tints: document.querySelectorAll('.head-importance').length,
    busy: !document.querySelector('[data-role="importance-progress"]').hidden,
    runDisabled: document.querySelector('[data-role="importance-run"]').disabled,
  }));
  console.log(`  after Cancel: ${JSON.stringify(state)}`);
  assert.deepEqual(state, { cancelShown: true, overlay: null, tints: 0, busy: false, runDisabled: false });

  // The page still works: a head mutes and the predictions change, and a scan completes.
  const before = await predictionState(page);
  await page.click(headButton(0, 1));
  const after = await waitForNewPredictions(page, before.revision);
  console.log(`  a mute after Cancel: predictions ${before.probs.slice(0, 30)} -> ${after.probs.slice(0, 30)}`);
  assert.notEqual(after.probs, before.probs);
  await computeByKeyboard(page, 'mean');
  const tints = await page.$$eval(`${GRID} .head-importance`, (t) => t.length);
  console.log(`  a mean-ablation scan after Cancel: ${tints} tinted cells`);
  assert.equal(tints, info.n_layer * info.n_head);
  assertCleanPage(problems);
  await context.close();
});

test('the pruning slider removes heads from the model: the predictions change and the link holds them', async () => {
  const { context, page, problems, text } = await openPage();
  await page.locator('[data-role="pruning-run"]').focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-role="pruning-chart"] svg polyline.pruning-importance', { timeout: 60_000 });
  runInNode(text);
  const curves = expectOk(engine.pruningCurve('zero', 4, 1), 'pruningCurve');
  const n = curves.order.length;
  const half = n / 2;

  const slider = page.locator('[data-role="pruning-slider"]');
  await slider.focus();
  const initial = await predictionState(page);
  for (let k = 1; k <= half; k++) {
    await page.keyboard.press('ArrowRight');
  }
  await waitForNewPredictions(page, initial.revision);
  // The last of the reruns may follow the first repaint.
  await page.waitForFunction((h) => document.querySelectorAll('[data-role="head-grid"] button.head[aria-pressed="true"]').length === h, half);
  await page.waitForTimeout(300);
  const muted = (await mutedHeads(page)).sort();
  const expected = Array.from(curves.order.slice(0, half), (i) => `${Math.floor(i / info.n_head)}.${i % info.n_head}`).sort();
  const after = await predictionState(page);
  const value = await page.locator('[data-role="pruning-value"]').textContent();
  const hash = await page.evaluate(() => location.hash);
  console.log(`  slider at ${half} of ${n}: "${value}"; muted ${muted.length} heads (${muted.join(' ')}); engine loss ${curves.mean_loss[half].toFixed(4)}`);
  assert.deepEqual(muted, expected);
  assert.match(value, new RegExp(`^${half} of ${n} removed`));
  assert.match(value, new RegExp(`loss ${curves.mean_loss[half].toFixed(3)}`));
  const shownLoss = await page.locator('[data-role="mean-loss"]').textContent();
  console.log(`  mean-loss line after pruning: ${shownLoss}; hash has muted=: ${/muted=/.test(hash)}`);
  assert.ok(/muted=/.test(hash), 'the link holds the removed heads');
  console.log(`  predictions: ${initial.probs.slice(0, 40)} -> ${after.probs.slice(0, 40)}`);
  assert.notEqual(after.probs, initial.probs, 'the predictions degrade');

  // Screenshots with half the heads removed.
  await screenshotPanels(page, { 'pruning': '[data-panel="pruning"]' });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 900 });

  // Back to 0 with Home: every head as trained, the predictions as at first, bit for bit.
  await slider.focus();
  await page.keyboard.press('Home');
  await page.waitForFunction(() => document.querySelectorAll('[data-role="head-grid"] button.head[aria-pressed="true"]').length === 0);
  await page.waitForFunction((probs) => document.querySelector('[data-role="prediction-list"]').dataset.probs === probs, initial.probs, { timeout: 30_000 });
  console.log(`  slider at 0: ${(await mutedHeads(page)).length} muted, the first predictions again`);

  assertCleanPage(problems);
  await context.close();
});

test('the pruning panel shows its progress, Cancel stops it between parts, and a full run reaches every head', async () => {
  const { context, page, problems, text } = await openPage();
  const total = 2 * info.n_layer * info.n_head;
  // Compute then Cancel in one task: the cancel reaches the worker during the first part.
  await page.evaluate(() => {
    const bar = document.querySelector('[data-role="pruning-progress-bar"]');
    window.__pruning = [];
    new MutationObserver(() => window.__pruning.push(bar.value)).observe(bar, { attributes: true });
    document.querySelector('[data-role="pruning-run"]').click();
    const cancel = document.querySelector('[data-role="pruning-cancel"]');
    window.__pruningCancel = { shown: !cancel.hidden, progress: !document.querySelector('[data-role="pruning-progress"]').hidden };
    cancel.click();
  });
  await page.waitForFunction(() => /Cancelled/.test(document.querySelector('[data-role="pruning-note"]').textContent), null, { timeout: 60_000 });
  const removed = await page.evaluate(() => Math.max(0, ...window.__pruning));
  const state = await page.evaluate(() => ({
    ...window.__pruningCancel,
    chart: document.querySelector('[data-role="pruning-chart"]').hidden,
    busy: !document.querySelector('[data-role="pruning-progress"]').hidden,
    cancelHidden: document.querySelector('[data-role="pruning-cancel"]').hidden,
    runDisabled: document.querySelector('[data-role="pruning-run"]').disabled,
  }));
  console.log(`  pruning Cancel: stopped after ${removed} of ${total} removals; ${JSON.stringify(state)}`);
  assert.ok(removed < total, 'the curves stopped before the end');
  assert.deepEqual(state, { shown: true, progress: true, chart: true, busy: false, cancelHidden: true, runDisabled: false });

  // A full run: the bar climbs part by part to every removal of both orders, the curves are the engine's.
  await page.evaluate(() => { window.__pruning = []; });
  await page.locator('[data-role="pruning-run"]').focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('[data-role="pruning-progress-bar"]').value >= 8, null, { timeout: 60_000 });
  await page.locator('[data-panel="pruning"]').screenshot({ path: artifactPath('pruning-progress-1280-light.png') });
  await page.waitForSelector('[data-role="pruning-chart"] svg polyline.pruning-importance', { timeout: 60_000 });
  const steps = await page.evaluate(() => window.__pruning.filter((v) => v > 0));
  runInNode(text);
  const curves = expectOk(engine.pruningCurve('zero', 4, 1), 'pruningCurve');
  const k = Number(await page.$eval('[data-role="pruning-chart"]', (c) => c.dataset.k));
  console.log(`  full run: progress ${steps.join(' ')} of ${total}; slider at ${k}`);
  assert.equal(steps.at(-1), total);
  assert.ok(steps.length >= total / 4 - 1, 'one step a part (4 heads)');
  assert.ok(steps.every((v, i) => i === 0 || v > steps[i - 1]), 'the bar only climbs');
  const note = await page.locator('[data-role="pruning-note"]').textContent();
  assert.match(note, new RegExp(`Mean loss ${curves.mean_loss[0].toFixed(3)} nats`));
  assert.equal(await page.locator('[data-role="pruning-progress"]').isHidden(), true);

  // The progress line on a phone, dark: another run, pictured part-way.
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.setViewportSize({ width: 375, height: 800 });
  await page.locator('[data-role="pruning-run"]').click();
  await page.waitForFunction(() => document.querySelector('[data-role="pruning-progress-bar"]').value >= 8, null, { timeout: 60_000 });
  await page.locator('[data-panel="pruning"]').screenshot({ path: artifactPath('pruning-progress-375-dark.png') });
  await page.waitForFunction(() => document.querySelector('[data-role="pruning-progress"]').hidden, null, { timeout: 60_000 });
  assertCleanPage(problems);
  await context.close();
});

/** Clicks an export button and returns the downloaded file's text. */
async function download(page, name) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(`button[data-importance-export="${name}"]`)]);
  return readFileSync(await file.path(), 'utf8');
}

function parseCsv(text) {
  const [header, ...rows] = text.trim().split('\n').map((line) => line.split(','));
  return rows.map((row) => Object.fromEntries(header.map((name, i) => [name, row[i]])));
}

test('the exports are well-formed CSV and JSON whose numbers equal the engine\'s', async () => {
  const { context, page, problems, text } = await openPage();
  await computeByKeyboard(page, 'gradient');
  await computeByKeyboard(page, 'zero');
  await page.click('[data-role="pruning-run"]');
  await page.waitForSelector('[data-role="pruning-chart"] svg', { timeout: 60_000 });

  const ids = runInNode(text);
  const L = info.n_layer, H = info.n_head;
  const scan = expectOk(engine.ablationScan('zero', -1), 'ablationScan');
  const types = expectOk(engine.headTypeScores(), 'headTypeScores');
  const gradient = expectOk(engine.gradientImportance(ids, new Float32Array(L * H).fill(1)), 'gradientImportance').gradient;
  const curves = expectOk(engine.pruningCurve('zero', 4, 1), 'pruningCurve');

  const heads = parseCsv(await download(page, 'heads-csv'));
  assert.equal(heads.length, L * H);
  const col = (name) => heads.map((row) => Number(row[name]));
  const csvDiffs = {
    delta_mean_loss: maxDiff(col('delta_mean_loss'), scan.delta_mean_loss),
    delta_logprob: maxDiff(col('delta_logprob'), scan.delta_logprob),
    gradient: maxDiff(col('gradient'), gradient),
    induction: maxDiff(col('induction'), types.induction),
    previous_token: maxDiff(col('previous_token'), types.previous_token),
  };
  console.log(`  heads CSV: ${heads.length} rows, max |csv - engine| ${JSON.stringify(csvDiffs)}`);
  for (const diff of Object.values(csvDiffs)) assert.equal(diff, 0);
  assert.deepEqual(heads.map((row) => row.type), types.types);

  const pruning = parseCsv(await download(page, 'pruning-csv'));
  assert.equal(pruning.length, curves.order.length + 1);
  const pruningDiff = maxDiff(pruning.map((r) => Number(r.importance_mean_loss)), curves.mean_loss);
  const randomDiff = maxDiff(pruning.map((r) => Number(r.random_mean_loss)), curves.random_mean_loss);
  const orderSame = pruning.slice(1).every((r, k) => r.importance_head === `${Math.floor(curves.order[k] / H)}.${curves.order[k] % H}`);
  console.log(`  pruning CSV: ${pruning.length} rows, max |csv - engine| importance ${pruningDiff}, random ${randomDiff}; order equal ${orderSame}`);
  assert.equal(pruningDiff, 0);
  assert.equal(randomDiff, 0);
  assert.ok(orderSame);

  const json = JSON.parse(await download(page, 'importance-json'));
  const flat = (nested) => nested.flat();
  const jsonDiffs = {
    delta_mean_loss: maxDiff(flat(json.scan.delta_mean_loss), scan.delta_mean_loss),
    gradient: maxDiff(flat(json.gradient), gradient),
    entropy: maxDiff(flat(json.head_types.entropy), types.entropy),
    pruning: maxDiff(json.pruning.mean_loss, curves.mean_loss),
  };
  console.log(`  JSON ${json.format}: ${json.ids.length} tokens, max |json - engine| ${JSON.stringify(jsonDiffs)}`);
  assert.equal(json.format, 'headlight-importance/1');
  assert.deepEqual(json.ids, Array.from(ids));
  for (const diff of Object.values(jsonDiffs)) assert.equal(diff, 0);
  assertCleanPage(problems);
  await context.close();
});
