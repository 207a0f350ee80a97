// No request leaves the page's own files during a full session (issue 19):
// one reader session that goes through every analysis view — the importance
// scan and the gradient, the pruning curve, the syntax probe, the
// composition preset, one head's arithmetic, the circuits presets (logit
// lens, direct effects, both patching maps, a live patch) and every export
// button — then the embed in a host page, run twice:
//   1. the built page (HEADLIGHT_DIST, default web/dist) served under a
//      sub-path: every request stays on the origin;
//   2. the single-file build (scripts/build-single.mjs, built here into a
//      temporary folder unless HEADLIGHT_SINGLE names the file) opened from disk:
//      no request but the file itself, blob: and data: URLs.
// Prints, per run, the requests made and the views it went through.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { DIST_DIR, REPO_ROOT, assertCleanPage, launchChromium, serveStatic, watchPage } from './helpers.mjs';

const GRID = '[data-role="head-grid"]';
const READY_MS = 60_000;
let browser;

before(async () => {
  assert.ok(existsSync(join(DIST_DIR, 'index.html')), `${DIST_DIR}/index.html is missing: build first`);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

/** Clicks every export button under `selector` and waits for each download; returns their count. */
async function downloadAll(page, selector) {
  const buttons = page.locator(`${selector} button[data-export]`);
  const n = await buttons.count();
  for (let i = 0; i < n; i++) {
    if (!(await buttons.nth(i).isVisible())) continue;
    await Promise.all([page.waitForEvent('download'), buttons.nth(i).click()]);
  }
  return n;
}

/**
 * The reader's session on a page that is open and ready: each step waits for
 * what it computes to be drawn. Returns the names of the steps done.
 */
async function fullSession(page) {
  const done = [];
  await page.waitForSelector(`${GRID} .head-cell[data-head-types]`, { timeout: READY_MS });
  done.push('head types');

  for (const kind of ['zero', 'gradient']) {
    await page.locator('[data-role="importance-kind"]').selectOption(kind);
    await page.click('[data-role="importance-run"]');
    await page.waitForFunction((k) => document.querySelector('[data-role="head-grid"]').dataset.importance === k, kind, { timeout: READY_MS });
    done.push(`importance ${kind}`);
  }

  await page.click('[data-role="pruning-run"]');
  await page.waitForSelector('[data-role="pruning-chart"] svg polyline.pruning-importance', { timeout: READY_MS });
  done.push('pruning');

  await page.click('[data-role="head-type-legend"] button[data-type="syntactic"]');
  await page.waitForFunction(() => /heads are syntactic/.test(document.querySelector('[data-role="syntax-status"]')?.textContent ?? ''),
    null, { timeout: READY_MS });
  done.push('syntax');

  await page.click('[data-preset="composition"]');
  await page.waitForSelector('[data-role="composition"] canvas', { timeout: READY_MS });
  done.push('composition');

  // One head's arithmetic, stepped with the keyboard.
  await page.locator('[data-role="arithmetic"]').scrollIntoViewIfNeeded();
  await page.locator('[data-role="arithmetic"] .arith-step').first().focus();
  for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
  await page.waitForSelector('[data-role="arithmetic"] [data-role="arith-table"][data-step]', { timeout: READY_MS });
  done.push('arithmetic');

  // The induction circuit: both prompts, the lens, the direct effects, both maps, a live patch.
  // Nothing is computed for the circuits panel until it is on screen.
  await page.click('[data-preset="circuit"]');
  await page.locator('[data-panel="circuits"]').scrollIntoViewIfNeeded();
  await page.waitForSelector('[data-role="lens-grid"] .lens-cell', { timeout: READY_MS });
  await page.locator('[data-role="compare"]').scrollIntoViewIfNeeded();
  await page.waitForSelector('[data-role="patch-heads"] button.patch-cell', { timeout: READY_MS });
  await page.locator('[data-role="patch-heads"] button.patch-cell').first().click();
  await page.waitForFunction(() => document.querySelector('[data-role="patched-summary"]')?.dataset.heads, null, { timeout: READY_MS });
  done.push('lens, direct effects, patching maps, a live patch');

  let files = 0;
  for (const selector of ['[data-role="export"]', '[data-panel="circuits"]', '[data-role="importance"]', '[data-panel="pruning"]']) {
    if (await page.locator(selector).count()) files += await downloadAll(page, selector);
  }
  done.push(`${files} exports`);
  return done;
}

test('served: a full session, the analysis views and the embed, asks nothing of another origin', async () => {
  const server = await serveStatic(DIST_DIR, { prefix: '/headlight/' });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  try {
    const page = await context.newPage();
    const problems = watchPage(context, page, server.origin);
    await page.goto(server.url);
    await page.waitForSelector('html[data-ready="true"]', { timeout: READY_MS });
    const done = await fullSession(page);

    // The embed: an iframe of the page's embed mode in a host page on the same origin.
    const host = await context.newPage();
    const hostProblems = watchPage(context, host, server.origin);
    await host.setContent(`<!doctype html><iframe style="width:800px;height:700px" src="${server.url}index.html?embed=1#muted=0.1"></iframe>`);
    const frame = host.frameLocator('iframe');
    await frame.locator('html[data-ready="true"]').waitFor({ state: 'attached', timeout: READY_MS });
    done.push('embed');

    console.log(`  served: ${problems.requests.length} requests, all on ${server.origin}; went through: ${done.join(', ')}`);
    assertCleanPage(problems, 'served page');
    assert.deepEqual(hostProblems.foreignRequests, [], 'the embed asked no other origin');
  } finally {
    await context.close();
    await server.close();
  }
});

test('single file from disk: a full session asks for nothing but the file, blob: and data: URLs', async () => {
  let file = process.env.HEADLIGHT_SINGLE;
  if (!file) {
    file = join(mkdtempSync(join(tmpdir(), 'headlight-single-')), 'headlight.html');
    execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build-single.mjs'), '--out', file], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  assert.ok(existsSync(file), `no single-file build at ${file}`);
  const url = pathToFileURL(resolve(file)).href;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  try {
    const page = await context.newPage();
    const problems = watchPage(context, page, 'file://');
    await page.goto(url);
    await page.waitForSelector('html[data-ready="true"]', { timeout: READY_MS });
    const done = await fullSession(page);
    const elsewhere = problems.requests.filter((r) => r !== url && !r.startsWith('blob:') && !r.startsWith('data:'));
    console.log(`  single file: ${problems.requests.length} requests (${problems.requests.filter((r) => r.startsWith('blob:')).length} blob:); ` +
      `went through: ${done.join(', ')}`);
    assert.deepEqual(elsewhere, [], 'no request but the file itself, blob: and data: URLs');
    assertCleanPage(problems, 'single file');
  } finally {
    await context.close();
  }
});
