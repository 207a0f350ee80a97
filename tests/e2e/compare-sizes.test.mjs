// The Compare sizes view (issue 18) in real Chromium: every shipped model of
// the index (not the test model) runs on the page's text in a second engine;
// each gets a grid of L x H painted attention thumbnails, its head-type
// counts and its loss, whose nats/token match `headlight run --json` on the
// same model and text; the page's own model is untouched. Screenshots at
// 1280 and 375 px, light and dark. Prints the figures it checks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { DIST_DIR, REPO_ROOT, assertCleanPage, canvasStats, pageInChromium, screenshotPanels, watchPage } from './helpers.mjs';

const HEADLIGHT = resolve(REPO_ROOT, process.env.HEADLIGHT_BIN ?? 'build/native/headlight');
const PANEL = '[data-panel="sizes"]';
const served = pageInChromium({ prefix: '/headlight/', needed: ['wasm/headlight.js'], bin: HEADLIGHT });

test('Compare sizes runs every shipped model on the text and draws them all', async () => {
  const index = JSON.parse(readFileSync(join(DIST_DIR, 'models/index.json'), 'utf8'));
  const shipped = index.models.filter((m) => m.name !== 'tiny-gpt');
  const context = await served.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watchPage(context, page, served.server.origin);
  await page.goto(served.server.url);
  await page.waitForSelector('[data-role="head-grid"] .head-cell[data-head-types]', { timeout: 60_000 });
  const hashBefore = await page.evaluate(() => window.location.hash);
  const text = await page.locator('#text-input, [data-role="text-input"]').first().inputValue();

  await page.locator(PANEL).scrollIntoViewIfNeeded();
  const t0 = Date.now();
  await page.locator('[data-role="sizes-run"]').click();
  await page.waitForFunction((n) => document.querySelector('[data-role="sizes-models"]')?.dataset.count === String(n) &&
    !document.querySelector('[data-role="sizes-run"]').disabled, shipped.length, { timeout: 180_000 });
  const status = await page.locator('[data-role="sizes-status"]').textContent();
  console.log(`  ${shipped.length} models compared in ${Date.now() - t0} ms: "${status}"`);
  assert.match(status, new RegExp(`^${shipped.length} models on the same`));

  for (const m of shipped) {
    const figure = page.locator(`[data-role="sizes-model"][data-model="${m.name}"]`);
    const thumbs = await canvasStats(page, `[data-role="sizes-model"][data-model="${m.name}"] [data-role="sizes-thumb"]`);
    const counts = await figure.locator('[data-role="sizes-counts"] li').allTextContents();
    const loss = await figure.locator('[data-role="sizes-loss"]').textContent();
    const cli = spawnSync(HEADLIGHT, ['run', '--model', join(DIST_DIR, 'models', m.name), '--text', text, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(cli.status, 0, cli.stderr);
    const want = JSON.parse(cli.stdout).mean_loss;
    const shown = Number(/([\d.]+) nats\/token/.exec(loss)[1]);
    const badged = counts.reduce((sum, c) => sum + Number(c.split(' ').pop()), 0);
    console.log(`  ${m.name}: ${thumbs.length} thumbnails (${thumbs.filter((s) => s.painted > 0).length} painted); ${counts.join(', ')}; ${loss} (headlight run ${want.toFixed(4)})`);
    assert.equal(thumbs.length, m.n_layer * m.n_head);
    assert.ok(thumbs.every((s) => s.painted > 0));
    assert.ok(badged >= m.n_layer * m.n_head, 'every head is counted (under its badges or none)');
    assert.ok(Math.abs(shown - want) <= 0.0006, `${m.name}: ${shown} vs ${want}`);
  }
  const note = await page.locator('[data-role="sizes-note"]').textContent();
  console.log(`  note: ${note}`);
  assert.match(note, /^Induction heads on this text: /);
  assert.equal(await page.evaluate(() => window.location.hash), hashBefore, 'the page\'s model and choices are untouched');

  await screenshotPanels(page, { sizes: PANEL });
  assertCleanPage(problems);
  await context.close();
});
