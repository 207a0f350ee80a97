// The syntax probe of a large model in parts (issue 16 item 7,
// docs/heads.md "Syntactic heads"), in real Chromium: on a random model with
// GPT-2 small's embedding and width (V 50257, C 768, 2 layers) the probe is
// seconds of the worker, so the worker runs it a part at a time between the
// page's requests. While it does, the Syntax view says "computing… N%" with
// a progress bar that moves, and a head edit repaints the predictions at
// once (it waits at most for the part the worker is in); then the view shows
// the syntactic heads of `headlight syntax --json` on the same model. A model
// switch mid-way drops the run: the view shows the new model's probe.
// Screenshots of the view computing and done, at 1280 and 375 px, light and
// dark. Prints the edit times and the probe's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import {
  REPO_ROOT,
  assertCleanPage,
  editTimesWhileComputing,
  launchChromium,
  randomGptFiles,
  screenshotPanels,
  serveWithModel,
  watchPage,
} from './helpers.mjs';

const MODEL = 'random-gpt2-width';
const GRID = '[data-role="head-grid"]';
const STATUS = '[data-role="syntax-status"]';
const PROGRESS = '[data-role="syntax-progress"]';
const PANEL = '[data-panel="syntax"]';
const HEADLIGHT = resolve(REPO_ROOT, process.env.HEADLIGHT_BIN ?? 'build/native/headlight');
const TEXT = 'The cat sat on the mat. The cat sat on the mat. The cat';
const SHAPE = { n_layer: 2, n_head: 12, n_embd: 768, n_positions: 64, vocabSize: 50257, seed: 7 };

const held = { server: null, browser: null, files: null, dir: null };

before(async () => {
  held.files = randomGptFiles(SHAPE).files;
  held.server = await serveWithModel(MODEL, held.files, 'random weights, GPT-2 small width and vocabulary', {});
  held.browser = await launchChromium();
});

after(async () => {
  await held.browser?.close();
  await held.server?.close();
  if (held.dir) rmSync(held.dir, { recursive: true, force: true });
});

/** The view's state (data-state of the status line) and progress (0..1, NaN when none shown). */
function syntaxState(page) {
  return page.evaluate(([status, progress]) => {
    const bar = document.querySelector(progress);
    return {
      state: document.querySelector(status).dataset.state,
      progress: bar.hidden ? NaN : Number(bar.dataset.progress),
      label: bar.hidden ? '' : bar.textContent.trim(),
    };
  }, [STATUS, PROGRESS]);
}

/** Opens the page on MODEL and brings the Syntax panel into view, which starts the probe. */
async function openProbing(width, scheme) {
  const context = await held.browser.newContext({ viewport: { width, height: width === 375 ? 800 : 900 }, colorScheme: scheme });
  const page = await context.newPage();
  const problems = watchPage(context, page, held.server.origin);
  await page.goto(`${held.server.url}#model=${MODEL}&text=${encodeURIComponent(TEXT)}`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 120_000 });
  await page.waitForSelector(`${GRID} .head-cell[data-head-types]`, { timeout: 60_000 });
  await page.locator(STATUS).scrollIntoViewIfNeeded();
  await page.waitForFunction((status) => document.querySelector(status).dataset.state === 'computing', STATUS, { timeout: 30_000 });
  return { context, page, problems };
}

/** Head edits while the probe is computed (helpers.mjs editTimesWhileComputing): the view's state at each repaint. */
function toggleTimes(page, rounds) {
  return editTimesWhileComputing(page, { rounds, stateSelector: STATUS, stateKey: 'state', partSelector: PROGRESS, partAttribute: 'data-progress' });
}

test('a large model: the probe in parts, "computing… N%", edits repaint meanwhile, then the CLI\'s syntactic heads', async () => {
  const t0 = performance.now();
  const { context, page, problems } = await openProbing(1280, 'light');
  const first = await syntaxState(page);
  console.log(`  ${MODEL} (V 50257, C 768, 2 layers): probing ${((performance.now() - t0) / 1000).toFixed(1)} s after the navigation: ${JSON.stringify(first)}`);

  // Edits while the probe is computed repaint without waiting for it.
  const during = await toggleTimes(page, 4);
  console.log(`  mute / unmute 0.3 while probing: repainted in ${during.map((e) => `${e.ms.toFixed(0)} ms (${e.atPaint}, ${e.parts} parts meanwhile)`).join(', ')}`);
  for (const e of during) {
    assert.equal(e.atPaint, 'computing', 'the edit repainted before the probe was done');
    assert.ok(e.parts <= 2, `${e.parts} syntax parts arrived before the edit's repaint`);
  }
  const moved = await syntaxState(page);
  console.log(`  progress then: ${moved.label} (${moved.progress.toFixed(3)})`);
  assert.ok(moved.progress > 0 && moved.progress < 1, 'the progress moves');
  assert.match(moved.label, /^computing… \d+%$/);
  await screenshotPanels(page, { 'syntax-computing': PANEL });

  const tWait = performance.now();
  await page.waitForFunction((status) => document.querySelector(status).dataset.state === 'ready', STATUS, { timeout: 600_000 });
  const status = await page.locator(STATUS).textContent();
  console.log(`  probe shown ${((performance.now() - t0) / 1000).toFixed(1)} s after the navigation (${((performance.now() - tWait) / 1000).toFixed(1)} s after the edits): ${status}`);
  assert.equal((await syntaxState(page)).progress, NaN, 'the progress bar goes');

  // The same heads as the command line's one call on the same files.
  held.dir = mkdtempSync(join(tmpdir(), 'headlight-syntax-parts-'));
  for (const [name, bytes] of Object.entries(held.files)) writeFileSync(join(held.dir, name), bytes);
  const cli = spawnSync(HEADLIGHT, ['syntax', '--model', held.dir, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(cli.status, 0, cli.stderr);
  const want = JSON.parse(cli.stdout);
  const listed = await page.$$eval('[data-role="syntax-heads"] button', (buttons) =>
    buttons.map((b) => `${b.dataset.layer}.${b.dataset.head}`));
  console.log(`  syntactic heads: page ${listed.join(' ') || 'none'}; CLI ${want.syntactic.join(' ') || 'none'}`);
  assert.deepEqual([...listed].sort(), [...want.syntactic].sort());
  assert.match(status, new RegExp(`^${want.syntactic.length} of 24 heads are syntactic`));
  await screenshotPanels(page, { 'syntax-done': PANEL });
  assertCleanPage(problems);
  await context.close();
});

test('switching models while the probe is computed drops the run: the view shows the new model\'s probe', async () => {
  const { context, page, problems } = await openProbing(375, 'dark');
  const revision = await page.$eval(GRID, (grid) => grid.dataset.revision);
  await page.selectOption('[data-role="model-picker"]', 'gpt-4l');
  await page.waitForFunction(([grid, r]) => document.querySelector(grid).dataset.revision !== r
    && document.querySelectorAll(`${grid} button.head`).length === 32, [GRID, revision], { timeout: 60_000 });
  await page.waitForFunction((status) => document.querySelector(status).dataset.state === 'ready', STATUS, { timeout: 300_000 });
  const status = await page.locator(STATUS).textContent();
  console.log(`  after switching to gpt-4l mid-probe: ${status}`);
  assert.match(status, / of 32 heads are syntactic/);
  assertCleanPage(problems);
  await context.close();
});
