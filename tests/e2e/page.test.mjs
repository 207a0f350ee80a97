// The first page in real Chromium: it loads the default model, draws every
// head, reacts to a head click, renders hostile text as text, shows errors
// without breaking, and never leaves its origin. Serves the built web/dist/
// under a sub-path (base './'), prints the time of each step, and saves
// screenshots to test-artifacts/.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  DIST_DIR,
  artifactPath,
  assertCleanPage,
  canvasStats,
  clickToPaintTimes,
  launchChromium,
  maxAbsDiff,
  predictionState,
  serveStatic,
  timed,
  waitForNewPredictions,
  watchPage,
} from './helpers.mjs';

const PREFIX = '/headlight/';
const HOSTILE = '<img src=x onerror=alert(1)>';
const READY_TIMEOUT_MS = 30_000;

function readDist(path) {
  const file = join(DIST_DIR, path);
  assert.ok(existsSync(file), `${file} is missing: run \`npm run build\` first`);
  return readFileSync(file);
}

let browser;
let server;

before(async () => {
  for (const needed of ['index.html', 'wasm/headlight.js', 'wasm/headlight.wasm', 'models/index.json']) {
    readDist(needed);
  }
  server = await serveStatic(DIST_DIR, { prefix: PREFIX });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('the first page, end to end in Chromium', async (t) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  const page = await context.newPage();
  const problems = watchPage(context, page, server.origin);
  const index = JSON.parse(readDist('models/index.json'));
  const config = JSON.parse(readDist(`models/${index.default}/config.json`));
  console.log(`  model ${index.default}: ${config.n_layer} layers x ${config.n_head} heads, served at ${server.url}`);

  await t.test('loads the default model and draws every head', async () => {
    await timed('navigation to interactive head grid', async () => {
      await page.goto(server.url);
      await page.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS });
    });
    const heads = await page.$$('[data-role="head-grid"] button.head');
    assert.equal(heads.length, config.n_layer * config.n_head, 'one button per head');

    const stats = await canvasStats(page, '[data-role="head-grid"] canvas');
    assert.equal(stats.length, config.n_layer * config.n_head);
    const T = Number(await page.$eval('[data-role="token-list"]', (el) => el.dataset.count));
    assert.ok(T >= 2, `the default text gives ${T} tokens`);
    for (const [i, s] of stats.entries()) {
      assert.equal(s.width, T, `canvas ${i} is T x T`);
      // The causal triangle (query >= key) is painted: T(T+1)/2 cells.
      assert.equal(s.painted, (T * (T + 1)) / 2, `canvas ${i} paints the causal triangle`);
      assert.ok(s.colours >= 2, `canvas ${i} is not one flat colour (${s.colours} colours)`);
    }
    const minColours = Math.min(...stats.map((s) => s.colours));
    console.log(`  ${stats.length} heatmaps of ${T}x${T}: ${stats[0].painted} painted cells each, >= ${minColours} distinct colours`);

    const state = await predictionState(page);
    const probs = state.probs.split(',').map(Number);
    assert.equal(probs.length, 5, 'top-5 predictions shown');
    assert.ok(probs.every((p, i) => p > 0 && p <= 1 && (i === 0 || p <= probs[i - 1])), `sorted probabilities: ${state.probs}`);
    const summary = await page.textContent('[data-role="model-summary"]');
    console.log(`  summary: ${summary}; top-5 ${probs.map((p) => p.toFixed(4)).join(' ')}`);
    await page.screenshot({ path: artifactPath('page-1280-light.png'), fullPage: true });
  });

  await t.test('clicking a head mutes it and changes the predictions', async () => {
    const head = `[data-role="head-grid"] button.head[data-layer="0"][data-head="0"]`;
    const baseline = await predictionState(page);
    const muted = await timed('click head 0.0 to repainted predictions', async () => {
      await page.click(head);
      return waitForNewPredictions(page, baseline.revision);
    });
    assert.equal(await page.getAttribute(head, 'aria-pressed'), 'true');
    assert.equal(await page.textContent(`${head} .head-state`), 'muted');
    const change = maxAbsDiff(baseline.probs, muted.probs);
    console.log(`  muting head 0.0: max |delta p| over the top-5 = ${change.toExponential(3)} (ids ${baseline.ids} -> ${muted.ids})`);
    assert.ok(change > 1e-6 || baseline.ids !== muted.ids, 'muting a head changes the predictions');
    await page.screenshot({ path: artifactPath('page-1280-muted.png'), fullPage: true });

    const restored = await timed('click again to unmute', async () => {
      await page.click(head);
      return waitForNewPredictions(page, muted.revision);
    });
    assert.equal(await page.getAttribute(head, 'aria-pressed'), 'false');
    assert.equal(restored.probs, baseline.probs, 'unmuting gives back the unedited predictions exactly');
    assert.equal(restored.ids, baseline.ids);
    console.log('  unmuted: predictions equal the unedited ones bit for bit');

    // Edit-to-paint, measured inside the page: click, new predictions, next frame.
    const times = await clickToPaintTimes(
      page,
      `[data-role="head-grid"] button.head[data-layer="${config.n_layer - 1}"][data-head="0"]`,
      20,
    );
    console.log(`  edit-to-paint (mute/unmute last-layer head, 20 clicks, ${await page.$eval('[data-role="token-list"]', (el) => el.dataset.count)} tokens): median ${times[10].toFixed(1)} ms, max ${times[19].toFixed(1)} ms`);
    assert.equal(await page.getAttribute(`button.head[data-layer="${config.n_layer - 1}"][data-head="0"]`, 'aria-pressed'), 'false', 'an even number of clicks leaves it unmuted');
  });

  await t.test('hostile text is rendered as text, never as HTML', async () => {
    const previous = await predictionState(page);
    await timed('type hostile text to repainted tokens', async () => {
      await page.fill('[data-role="text-input"]', HOSTILE);
      await waitForNewPredictions(page, previous.revision);
    });
    const rendered = await page.evaluate(() => ({
      images: document.querySelectorAll('img').length,
      chips: [...document.querySelectorAll('[data-role="token-list"] .token')].map((c) => c.dataset.text).join(''),
      visible: document.querySelector('[data-role="token-list"]').textContent,
    }));
    assert.equal(rendered.images, 0, 'no <img> element was created');
    assert.equal(rendered.chips, HOSTILE, 'the tokens spell the input exactly');
    assert.ok(rendered.visible.includes('<img'), `the text shows literally: ${rendered.visible}`);
    assertCleanPage(problems);
    console.log(`  hostile text shown as ${rendered.visible.length} characters of text in ${await page.$$eval('[data-role="token-list"] .token', (c) => c.length)} chips`);
    await page.screenshot({ path: artifactPath('page-1280-hostile.png'), fullPage: true });
  });

  await t.test('empty text gives a notice and the page keeps working', async () => {
    await page.fill('[data-role="text-input"]', '');
    await page.waitForSelector('[data-role="message"].is-notice', { state: 'visible' });
    const notice = await page.textContent('[data-role="message"]');
    console.log(`  empty text: "${notice}"`);
    const previous = await predictionState(page);
    await page.fill('[data-role="text-input"]', 'The cat sat on the mat. The cat');
    await waitForNewPredictions(page, previous.revision);
    await page.waitForSelector('[data-role="message"]', { state: 'hidden' });
  });

  await t.test('375 px wide, dark theme', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.emulateMedia({ colorScheme: 'dark' });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page fits 375 px (overflows by ${overflow} px)`);
    await page.screenshot({ path: artifactPath('page-375-dark.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: artifactPath('page-1280-dark.png'), fullPage: true });
  });

  await t.test('no console error, no page error, no request off the origin', () => {
    assertCleanPage(problems);
  });
  await context.close();
});

test('a broken model file gives a clear message and the page stays usable', async () => {
  const index = JSON.parse(readDist('models/index.json'));
  const broken = await serveStatic(DIST_DIR, {
    prefix: PREFIX,
    // 8-byte header length far past the end of a 16-byte file.
    overrides: { [`${PREFIX}models/${index.default}/model.safetensors`]: Buffer.from('\xff\xff\x00\x00\x00\x00\x00\x00{"x":1}', 'latin1') },
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watchPage(context, page, broken.origin);
  try {
    const message = await timed('navigation to the error message', async () => {
      await page.goto(broken.url);
      await page.waitForSelector('[data-role="message"].is-error', { state: 'visible', timeout: READY_TIMEOUT_MS });
      return page.textContent('[data-role="message"]');
    });
    console.log(`  shown: "${message}"`);
    assert.match(message, new RegExp(`Model "${index.default}" could not be loaded: .+`));
    assert.ok(await page.isEditable('[data-role="text-input"]'), 'the text box still works');
    await page.fill('[data-role="text-input"]', 'still alive');
    assertCleanPage(problems);
    await page.screenshot({ path: artifactPath('page-broken-model.png') });
  } finally {
    await context.close();
    await broken.close();
  }
});

test('the model download shows its progress', async () => {
  const index = JSON.parse(readDist('models/index.json'));
  const weights = `${PREFIX}models/${index.default}/model.safetensors`;
  const slow = await serveStatic(DIST_DIR, { prefix: PREFIX, slow: { [weights]: 3000 } });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watchPage(context, page, slow.origin);
  try {
    await page.goto(slow.url);
    // Wait for a partly filled bar: the download is under way.
    const shown = await timed('navigation to a partly filled progress bar', async () => {
      const handle = await page.waitForFunction(() => {
        const bar = document.querySelector('[data-role="progress"] progress');
        const label = document.querySelector('[data-role="progress-label"]')?.textContent ?? '';
        return bar && !bar.closest('[hidden]') && bar.value > 0 && bar.value < bar.max && label.includes('model.safetensors')
          ? { value: bar.value, max: bar.max, label }
          : null;
      }, null, { timeout: READY_TIMEOUT_MS });
      return handle.jsonValue();
    });
    console.log(`  progress: ${shown.value} of ${shown.max} bytes, label "${shown.label}"`);
    await page.screenshot({ path: artifactPath('page-progress.png'), clip: { x: 0, y: 0, width: 1280, height: 220 } });
    await timed('then to the interactive grid', () =>
      page.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS }),
    );
    assert.ok(await page.isHidden('[data-role="progress"]'), 'the bar goes away when the model is in');
    assertCleanPage(problems);
  } finally {
    await context.close();
    await slow.close();
  }
});
