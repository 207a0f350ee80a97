// The "Train a model live" panel (issue 18) in Chromium: a short run lowers
// the loss and redraws the charts; Pause stops the steps, Resume runs them
// again, Reset clears the run; the trained model opens in the explorer (the
// head grid shows its heads) and its download (a zip of the model folder)
// loads with `headlight run`. Screenshots of the panel at 1280 and 375 px,
// light and dark. Prints the losses, steps and timings it checks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { assertCleanPage, canvasStats, pageInChromium, REPO_ROOT, screenshotPanels, watchPage } from './helpers.mjs';

const READY_TIMEOUT_MS = 60_000;
const RUN_TIMEOUT_MS = 120_000;
const BIN = path.join(REPO_ROOT, 'build/native/headlight');
const PANEL = '[data-role="train"]';
const state = pageInChromium({ needed: ['wasm/headlight-train.wasm', 'wasm/headlight-train.js', 'train/sample.txt'], bin: BIN });

const figures = (page) => page.$eval(PANEL, (el) => ({ ...el.dataset }));
const click = (page, role) => page.click(`[data-role="${role}"]`);
/** A fingerprint of a canvas's pixels (changes when it is redrawn with new data). */
const pixels = (page, role) =>
  page.$eval(`[data-role="${role}"]`, (canvas) => {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let hash = 0;
    for (let i = 0; i < data.length; i += 7) hash = (hash * 31 + data[i]) >>> 0;
    return hash;
  });

/** Animation frames and changes of the status line during ms of wall time in the page. */
const paintsDuring = (page, ms) =>
  page.evaluate(
    (ms) =>
      new Promise((resolve) => {
        const status = document.querySelector('[data-role="train-status"]');
        let frames = 0, updates = 0;
        const observer = new MutationObserver(() => updates++);
        observer.observe(status, { childList: true, characterData: true, subtree: true });
        const t0 = performance.now();
        const frame = () => {
          frames++;
          if (performance.now() - t0 < ms) requestAnimationFrame(frame);
          else {
            observer.disconnect();
            resolve({ frames, updates });
          }
        };
        requestAnimationFrame(frame);
      }),
    ms,
  );

test('train panel: train, pause, resume, reset, open in the explorer, download', async (t) => {
  const context = await state.browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const problems = watchPage(context, page, state.server.origin);
  await page.goto(`${state.server.url}index.html`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS });
  await page.locator('[data-role="train-start"]').scrollIntoViewIfNeeded();

  await t.test('a short run lowers the loss and redraws the charts', async () => {
    const t0 = Date.now();
    await click(page, 'train-start');
    await page.waitForFunction((sel) => Number(document.querySelector(sel).dataset.steps) >= 20, PANEL, { timeout: RUN_TIMEOUT_MS });
    // While it trains, the page keeps painting: animation frames and status
    // updates in one second of wall time.
    const paints = await paintsDuring(page, 1000);
    console.log(`  while training: ${paints.frames} animation frames and ${paints.updates} panel updates in 1 s`);
    assert.ok(paints.updates >= 10, `the panel repaints at least 10 times a second (${paints.updates})`);
    assert.ok(paints.frames >= 10, `the page keeps drawing frames (${paints.frames})`);
    const lossBefore = await pixels(page, 'train-loss');
    const attnBefore = await page.$eval('.train-head-attn', (c) => c.toDataURL());
    await page.waitForFunction((sel) => Number(document.querySelector(sel).dataset.steps) >= 150, PANEL, { timeout: RUN_TIMEOUT_MS });
    const f = await figures(page);
    const lossAfter = await pixels(page, 'train-loss');
    const attnAfter = await page.$eval('.train-head-attn', (c) => c.toDataURL());
    const stats = await canvasStats(page, '[data-role="train-loss"], [data-role="train-icl"], .train-head-chart, .train-head-attn');
    console.log(
      `  ${f.steps} steps in ${((Date.now() - t0) / 1000).toFixed(1)} s; mean loss of the first 10 steps ${f.lossFirst}, ` +
        `of the latest 10 ${f.lossRecent}; ${stats.length} canvases, the least painted ${Math.min(...stats.map((s) => s.painted))} px`,
    );
    assert.ok(Number(f.lossRecent) < Number(f.lossFirst) - 0.2, `the loss came down: ${f.lossFirst} -> ${f.lossRecent}`);
    assert.notEqual(lossAfter, lossBefore, 'the loss curve was redrawn');
    assert.notEqual(attnAfter, attnBefore, 'the attention on the probe was redrawn');
    assert.equal(stats.length, 2 + 2 * 8, 'two charts and, for each of the 8 heads, its scores and its attention');
    for (const s of stats) assert.ok(s.painted > 0, 'every canvas is painted');
    const status = await page.textContent('[data-role="train-status"]');
    assert.match(status, /steps\/s/);
    assert.match(status, /ICL score -?[\d.]+ nats/);
  });

  await t.test('pause stops the steps; resume runs them again', async () => {
    await click(page, 'train-pause');
    await page.waitForFunction((sel) => document.querySelector(sel).dataset.playing === 'false', PANEL);
    const paused = Number((await figures(page)).steps);
    await page.waitForTimeout(1000);
    const stillPaused = Number((await figures(page)).steps);
    assert.equal(stillPaused, paused, 'no step while paused');
    assert.equal(await page.isEnabled('[data-role="train-resume"]'), true);
    await click(page, 'train-resume');
    await page.waitForFunction(([sel, n]) => Number(document.querySelector(sel).dataset.steps) > n + 10, [PANEL, paused], { timeout: RUN_TIMEOUT_MS });
    const resumed = Number((await figures(page)).steps);
    // A new learning rate reaches the running run (the worker reads it between chunks).
    await page.selectOption('[data-role="train-lr"]', '0.002');
    const note = await page.textContent('[data-role="train-status"]');
    await page.waitForFunction(([sel, n]) => Number(document.querySelector(sel).dataset.steps) > n + 10, [PANEL, resumed], { timeout: RUN_TIMEOUT_MS });
    assert.equal((await figures(page)).playing, 'true', 'still training after the new rate');
    assert.match(note, /Learning rate 0\.002 from step \d+ on/);
    await page.selectOption('[data-role="train-lr"]', '0.005');
    console.log(`  paused at step ${paused} (still ${stillPaused} a second later), resumed to ${resumed}; new rate: "${note.split('. ').pop()}"`);
  });

  await t.test('reset clears the run', async () => {
    await click(page, 'train-reset');
    const f = await figures(page);
    assert.equal(f.steps, '0');
    assert.equal(await page.isHidden('[data-role="train-figures"]'), true, 'the figures are gone');
    await page.waitForTimeout(500);
    assert.equal((await figures(page)).steps, '0', 'no step of the dropped run arrives');
    assert.match(await page.textContent('[data-role="train-status"]'), /Press Train/);
  });

  await t.test('the long run: its menu entry picks 2 x 8, d 128 and steps of 64 x 32 tokens; the page keeps painting', async () => {
    await page.selectOption('[data-role="train-schedule"]', 'long');
    const size = await page.$eval('[data-role="train-size"]', (select) => select.selectedOptions[0]?.textContent ?? '');
    assert.match(size, /^2 layers × 8 heads, d 128/);
    const t0 = Date.now();
    await click(page, 'train-start');
    await page.waitForFunction((sel) => Number(document.querySelector(sel).dataset.steps) >= 3, PANEL, { timeout: RUN_TIMEOUT_MS });
    const command = await page.textContent('[data-role="train-command"]');
    const status = await page.textContent('[data-role="train-status"]');
    // Steps of about a third of a second (a chunk is one step at least): the
    // page keeps drawing frames, and the panel is updated with each step.
    const paints = await paintsDuring(page, 2000);
    const frames = paints.frames / 2;
    console.log(
      `  long run: ${size}; "${status.split(' · ').slice(0, 2).join(' · ')}" after ${((Date.now() - t0) / 1000).toFixed(1)} s; ` +
        `in 2 s ${paints.frames} frames and ${paints.updates} panel updates`,
    );
    assert.ok(paints.updates >= 2, `the panel shows the steps as they come (${paints.updates} updates in 2 s)`);
    assert.match(status, /^Step \d+ of 8000/);
    assert.match(command, / --n-layer 2 --n-head 8 --n-embd 128 --n-positions 64 --attn-only --batch 32 --steps 8000 /);
    assert.match(command, /--seq-schedule 32:7000/);
    assert.ok(frames >= 10, `the page keeps drawing frames (${frames} a second)`);
    await click(page, 'train-reset');
    await page.selectOption('[data-role="train-schedule"]', 'short');
    await page.selectOption('[data-role="train-size"]', '0');
  });

  await t.test('screenshots at 1280 and 375 px, light and dark', async () => {
    await click(page, 'train-start');
    await page.waitForFunction((sel) => Number(document.querySelector(sel).dataset.steps) >= 80, PANEL, { timeout: RUN_TIMEOUT_MS });
    await click(page, 'train-pause');
    await page.waitForFunction((sel) => document.querySelector(sel).dataset.playing === 'false', PANEL);
    await screenshotPanels(page, { train: '[data-panel="train"]' });
  });

  await t.test('the trained model opens in the explorer: the head grid shows its 2 x 4 heads', async () => {
    const steps = (await figures(page)).steps;
    await click(page, 'train-open');
    await page.waitForFunction(() => document.querySelectorAll('[data-role="head-grid"] button.head').length === 8, null, {
      timeout: READY_TIMEOUT_MS,
    });
    const picked = await page.$eval('[data-role="model-picker"]', (select) => select.selectedOptions[0]?.textContent ?? '');
    console.log(`  opened after step ${steps}: the picker shows "${picked}", the head grid 8 heads`);
    assert.match(picked, /live-2l4h-d64-step\d+/);
    assert.match(await page.textContent('[data-role="train-status"]'), /Opened live-2l4h-d64-step\d+/);
  });

  await t.test('the download is a model folder that headlight run loads', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), click(page, 'train-download')]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'headlight-live-'));
    try {
      const zip = path.join(dir, download.suggestedFilename());
      await download.saveAs(zip);
      const unzip = spawnSync('python3', ['-m', 'zipfile', '-e', zip, dir], { encoding: 'utf8' });
      assert.equal(unzip.status, 0, unzip.stderr);
      const folder = path.join(dir, download.suggestedFilename().replace(/\.zip$/, ''));
      assert.deepEqual(readdirSync(folder).sort(), ['config.json', 'merges.txt', 'model.safetensors', 'vocab.json']);
      const run = spawnSync(BIN, ['run', '--model', folder, '--text', 'one two three one two three', '--json'], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const out = JSON.parse(run.stdout);
      const shape = JSON.stringify(out).match(/"n_layer":(\d+).*?"n_head":(\d+)/);
      console.log(`  ${download.suggestedFilename()}: headlight run read it (${run.stdout.length} bytes of JSON${shape ? `, ${shape[1]} layers, ${shape[2]} heads` : ''})`);
      assert.ok(shape && shape[1] === '2' && shape[2] === '4', 'headlight run reports the 2 x 4 model');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  assertCleanPage(problems, 'train page');
  await context.close();
});
