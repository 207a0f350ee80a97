// npm run bench:train: the live trainer's speed and how soon an induction
// head forms with the page's default settings (2 layers x 4 heads, d 64,
// repeated random tokens, lr 0.005, seed 1; core/live_training.cpp), in
// Node (the wasm module alone: build/wasm/headlight-train.{js,wasm}) and in
// Debian Chromium (the built page, web/dist or HEADLIGHT_DIST: the Train
// panel pressed, its own figures read). Issue 18's target: an induction head
// (induction score >= 0.5 on the probe) within 60 s of wall time in Chromium.
// The trainer is single-threaded wasm: one core.
//
// `--schedule long` runs the page's long choice instead (attn-only-2l's
// warm-up at 2 x 8, d 128, steps of 2,048 tokens; picked in the panel's Run
// menu, which picks that size with it): give it --limit-s 4200.
//
// usage: node bench/train.mjs [--runs N] [--limit-s S] [--only node|chromium] [--schedule short|long]
//                            [--screenshot PREFIX]   (the panel at each Chromium run's end: PREFIX-N.png)
// Prints each run and the medians; runs longer than 5 minutes print where
// they are every minute.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTrainModule } from '../tests/node/wasm-helpers.mjs';
import { DIST_DIR, REPO_ROOT, launchChromium, serveStatic } from '../tests/e2e/helpers.mjs';

const TARGET_S = 60;
const FORMED = 0.5;
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const RUNS = Number(flag('--runs', '3'));
const LIMIT_S = Number(flag('--limit-s', '150'));
const ONLY = flag('--only', '');
const SCHEDULE = flag('--schedule', 'short');
if (SCHEDULE !== 'short' && SCHEDULE !== 'long') throw new Error(`--schedule ${SCHEDULE}: short or long`);
// The page's defaults (views/train.ts): size, task, run, rate, seed; for the
// long run, the size its menu entry picks.
const CHOICES = {
  size: SCHEDULE === 'long' ? [2, 8, 128] : [2, 4, 64],
  task: 'repeat',
  schedule: SCHEDULE,
  lr: 0.005,
  seed: 1,
};
const PROGRESS_S = LIMIT_S > 300 ? 60 : Infinity;
const SCREENSHOT = flag('--screenshot', '');

function median(values) {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One run in Node: steps in chunks of 10, the probe after each (as the worker probes every 250 ms). */
async function nodeRun() {
  const module = await createTrainModule();
  const kit = (name) => readFileSync(join(REPO_ROOT, 'web/public/train', name), 'utf8');
  const training = new module.Training();
  const t0 = performance.now();
  const created = training.create(...CHOICES.size, CHOICES.task, CHOICES.schedule, CHOICES.lr, CHOICES.seed,
    kit('vocab.json'), kit('merges.txt'), kit('sample.txt'));
  if (!created.ok) throw new Error(created.error);
  let stepMs = 0, steps = 0, formed = null, best = 0, shown = 0;
  while ((performance.now() - t0) / 1000 < LIMIT_S) {
    const s0 = performance.now();
    const stepped = training.step(10);
    if (!stepped.ok) throw new Error(stepped.error);
    stepMs += performance.now() - s0;
    steps = stepped.steps_done;
    const probe = training.probe();
    best = Math.max(...probe.induction);
    const seconds = (performance.now() - t0) / 1000;
    if (seconds - shown >= PROGRESS_S) {
      shown = seconds;
      console.log(`  node ${seconds.toFixed(0)} s: step ${steps}, best induction ${best.toFixed(3)}, ICL ${probe.icl_score.toFixed(2)}`);
    }
    if (best >= FORMED) {
      formed = { step: steps, seconds };
      break;
    }
    if (steps >= stepped.total_steps) break;
  }
  training.delete();
  return { stepsPerS: (1000 * steps) / stepMs, formed, steps, best };
}

/** One run in Chromium: a new page, Train pressed, the panel's figures read until the head forms. */
async function chromiumRun(browser, url, index) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(url);
  const panel = page.locator('[data-role="train"]');
  await page.locator('[data-role="train-schedule"]').selectOption(CHOICES.schedule);
  const size = await page.locator('[data-role="train-size"] option:checked').textContent();
  if (!size?.startsWith(`${CHOICES.size[0]} layers × ${CHOICES.size[1]} heads, d ${CHOICES.size[2]}`))
    throw new Error(`the panel's size is ${size}, not ${CHOICES.size.join(' / ')}`);
  await page.locator('[data-role="train-start"]').scrollIntoViewIfNeeded();
  await page.locator('[data-role="train-start"]').click();
  const t0 = Date.now();
  let figures = null, shown = 0;
  while ((Date.now() - t0) / 1000 < LIMIT_S) {
    await page.waitForTimeout(500);
    figures = await panel.evaluate((el) => ({ ...el.dataset }));
    const seconds = (Date.now() - t0) / 1000;
    if (seconds - shown >= PROGRESS_S) {
      shown = seconds;
      console.log(`  chromium ${seconds.toFixed(0)} s: step ${figures.steps}, best induction ${figures.bestInduction}`);
    }
    if (figures.inductionAtS !== undefined || figures.finished === 'true') break;
  }
  const status = await page.locator('[data-role="train-status"]').textContent();
  if (SCREENSHOT) {
    const file = `${SCREENSHOT}-${index + 1}.png`;
    await page.locator('[data-panel="train"]').screenshot({ path: file });
    console.log(`  chromium run ${index + 1}: the panel at its end in ${file}`);
  }
  const speed = /([\d.]+) steps\/s/.exec(status ?? '');
  await context.close();
  const formed = figures?.inductionAtS !== undefined
    ? { step: Number(figures.inductionAtStep), seconds: Number(figures.inductionAtS) }
    : null;
  return { stepsPerS: speed ? Number(speed[1]) : NaN, formed, steps: Number(figures?.steps ?? 0), best: Number(figures?.bestInduction ?? 0) };
}

function printRun(where, i, r) {
  console.log(
    `${where} run ${i + 1}: ${r.stepsPerS.toFixed(1)} steps/s; ` +
      (r.formed
        ? `induction >= ${FORMED} at step ${r.formed.step}, ${r.formed.seconds.toFixed(1)} s`
        : `no induction >= ${FORMED} within ${LIMIT_S} s (${r.steps} steps, best ${r.best.toFixed(2)})`),
  );
}

function report(where, runs) {
  const seconds = median(runs.map((r) => (r.formed ? r.formed.seconds : Infinity)));
  const steps = median(runs.map((r) => (r.formed ? r.formed.step : Infinity)));
  const reached = Number.isFinite(seconds)
    ? `induction >= ${FORMED} at step ${steps} after ${seconds.toFixed(1)} s`
    : `induction >= ${FORMED} not reached within ${LIMIT_S} s (best ${median(runs.map((r) => r.best)).toFixed(2)} ` +
      `after ${median(runs.map((r) => r.steps))} steps)`;
  console.log(
    `${where} median: ${median(runs.map((r) => r.stepsPerS)).toFixed(1)} steps/s, ${reached} ` +
      (SCHEDULE === 'short' ? `(target ${TARGET_S} s in Chromium)` : '(the long run)'),
  );
  return seconds;
}

if (ONLY !== 'chromium') {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    runs.push(await nodeRun());
    printRun('node', i, runs[i]);
  }
  report('node', runs);
}
if (ONLY !== 'node') {
  for (const file of ['index.html', 'wasm/headlight-train.wasm', 'train/sample.txt']) {
    if (!existsSync(join(DIST_DIR, file))) throw new Error(`${join(DIST_DIR, file)} is missing: build the page first (npm run build)`);
  }
  const server = await serveStatic(DIST_DIR);
  const browser = await launchChromium();
  try {
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      runs.push(await chromiumRun(browser, server.url, i));
      printRun('chromium', i, runs[i]);
    }
    report('chromium', runs);
  } finally {
    await browser.close();
    await server.close();
  }
}
