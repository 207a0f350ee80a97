// The Syntax view (issue 16, item 7) in real Chromium on the shipped default
// model: the syntactic heads, the legend's "syn" count and each listed
// head's top pair against `headlight syntax --json` on the same probe file
// (web/public/probes/brown-pos.json as served); a head's pairs after
// selecting it by keyboard; the "syn" filter (only the syntactic heads stay
// lit); the definition beside the head types'. Screenshots at 1280 and
// 375 px, light and dark. Prints the figures it checks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import {
  DIST_DIR,
  REPO_ROOT,
  artifactPath,
  assertCleanPage,
  launchChromium,
  serveStatic,
  watchPage,
} from './helpers.mjs';

const PREFIX = '/headlight/';
const HEADLIGHT = resolve(REPO_ROOT, process.env.HEADLIGHT_BIN ?? 'build/native/headlight');
const GRID = '[data-role="head-grid"]';
const PANEL = '[data-panel="syntax"]';

let browser;
let server;
let model;

before(async () => {
  for (const needed of ['index.html', 'wasm/headlight.js', 'probes/brown-pos.json', 'models/index.json']) {
    assert.ok(existsSync(join(DIST_DIR, needed)), `${join(DIST_DIR, needed)} is missing: build first`);
  }
  assert.ok(existsSync(HEADLIGHT), `no native binary at ${HEADLIGHT}: build it first`);
  model = JSON.parse(readFileSync(join(DIST_DIR, 'models/index.json'), 'utf8')).default;
  server = await serveStatic(DIST_DIR, { prefix: PREFIX });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** "NOUN → DET 3.1× chance", as the page writes a pair. */
const label = (pair) => `${pair.query} → ${pair.key} ${pair.ratio.toFixed(1)}× chance`;

test('the Syntax view lists the syntactic heads and pairs of headlight syntax, and its filter filters', async () => {
  const cli = spawnSync(HEADLIGHT, ['syntax', '--model', join(DIST_DIR, 'models', model),
    '--probe', join(DIST_DIR, 'probes/brown-pos.json'), '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(cli.status, 0, cli.stderr);
  const want = JSON.parse(cli.stdout);
  const H = want.heads[0].length;

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  const page = await context.newPage();
  const problems = watchPage(context, page, server.origin);
  await page.goto(server.url);
  await page.waitForSelector(`${GRID} .head-cell[data-head-types]`, { timeout: 30_000 });
  // Nothing is probed until the reader looks: the panel comes into view.
  const toggle = page.locator('[data-role="head-type-legend"] button[data-type="syntactic"]');
  assert.equal(await toggle.textContent(), 'syn …');
  const t0 = Date.now();
  await page.locator(PANEL).scrollIntoViewIfNeeded();
  await page.waitForFunction(() => /heads are syntactic/.test(document.querySelector('[data-role="syntax-status"]')?.textContent ?? ''),
    null, { timeout: 60_000 });
  const status = await page.locator('[data-role="syntax-status"]').textContent();
  console.log(`  ${model}: "${status}" (${Date.now() - t0} ms after it came into view)`);

  // The list: one button per syntactic head, its top pair as the CLI's.
  const listed = await page.$$eval('[data-role="syntax-heads"] button', (buttons) =>
    buttons.map((b) => ({ name: `${b.dataset.layer}.${b.dataset.head}`, text: b.textContent })));
  console.log(`  listed: ${listed.map((l) => l.text).join(' | ') || 'none'}; CLI: ${want.syntactic.join(' ') || 'none'}`);
  assert.deepEqual(listed.map((l) => l.name).sort(), [...want.syntactic].sort());
  for (const { name, text } of listed) {
    const [l, h] = name.split('.').map(Number);
    assert.equal(text, `${name} ${label(want.heads[l][h].pairs[0])}`);
  }
  assert.equal(await toggle.textContent(), `syn ${want.syntactic.length}`);

  // A head's pairs: the strongest syntactic head (else 0.0), chosen from the grid by keyboard.
  const chosen = listed[0]?.name ?? '0.0';
  const [cl, ch] = chosen.split('.').map(Number);
  const head = page.locator(`${GRID} button.head-select[data-layer="${cl}"][data-head="${ch}"]`);
  await head.focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction((name) => document.querySelector('[data-role="syntax-head"] h3')?.textContent.includes(`Head ${name}`),
    chosen, { timeout: 10_000 });
  const pairs = await page.$$eval('[data-role="syntax-head"] li strong', (items) => items.map((i) => i.textContent));
  const wantPairs = want.heads[cl][ch].pairs.map(label);
  console.log(`  head ${chosen}: ${pairs.join('; ')}`);
  assert.deepEqual(pairs, wantPairs);
  if (want.syntactic.length > 0) assert.ok(pairs.length > 0, 'a syntactic head shows pairs');

  // The filter: only the syntactic heads stay lit.
  await toggle.focus();
  await page.keyboard.press('Enter');
  assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
  const cells = await page.$$eval(`${GRID} .head-cell`, (all) => all.map((cell) => {
    const button = cell.querySelector('button.head');
    return { name: `${button.dataset.layer}.${button.dataset.head}`, opacity: Number(getComputedStyle(cell).opacity) };
  }));
  const lit = cells.filter((c) => c.opacity === 1).map((c) => c.name);
  console.log(`  syn filter: ${lit.length} heads lit (${lit.join(' ') || 'none'}), ${cells.length - lit.length} dimmed of ${cells.length}`);
  assert.equal(cells.length, want.heads.length * H);
  assert.deepEqual(lit.sort(), [...want.syntactic].sort());
  assert.ok(cells.filter((c) => c.opacity < 0.5).length === cells.length - lit.length);
  // Another type's toggle takes over: at most one filter is on.
  const induction = page.locator('[data-role="head-type-legend"] button[data-type="induction"]');
  await induction.click();
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  assert.equal(await page.$eval(GRID, (grid) => grid.dataset.filter), 'induction');
  await toggle.click();
  assert.equal(await induction.getAttribute('aria-pressed'), 'false');

  // The definition, with the other head types'.
  await page.locator('.type-definitions summary').click();
  const definitions = await page.locator('[data-role="head-type-definitions"]').textContent();
  assert.match(definitions, /syntactic/);
  assert.match(definitions, /2× chance/);

  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const width of [1280, 375]) {
      await page.setViewportSize({ width, height: 900 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no horizontal overflow at ${width} px (${overflow} px)`);
      await page.locator(PANEL).screenshot({ path: artifactPath(`syntax-${width}-${scheme}.png`) });
      await page.locator('[data-panel="heads"]').screenshot({ path: artifactPath(`syntax-filter-${width}-${scheme}.png`) });
    }
  }
  assertCleanPage(problems);
  await context.close();
});

test('"syn" pressed before any probe starts the probe, and the grid filters when it arrives', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 800 }, colorScheme: 'dark' });
  const page = await context.newPage();
  const problems = watchPage(context, page, server.origin);
  await page.goto(server.url);
  await page.waitForSelector(`${GRID} .head-cell[data-head-types]`, { timeout: 30_000 });
  const toggle = page.locator('[data-role="head-type-legend"] button[data-type="syntactic"]');
  await toggle.focus();
  await page.keyboard.press('Enter');
  assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
  await page.waitForFunction(() => /^syn \d+$/.test(document.querySelector('[data-type="syntactic"]')?.textContent ?? ''),
    null, { timeout: 60_000 });
  const count = Number((await toggle.textContent()).split(' ')[1]);
  const lit = await page.$$eval(`${GRID} .head-cell`, (all) => all.filter((c) => getComputedStyle(c).opacity === '1').length);
  console.log(`  375 px: "${await toggle.textContent()}", ${lit} heads lit`);
  assert.equal(lit, count);
  assertCleanPage(problems);
  await context.close();
});
