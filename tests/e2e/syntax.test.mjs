// The Syntax view (issue 16, item 7) in real Chromium on the shipped default
// model: the syntactic heads, the legend's "syn" count and each listed
// head's top pair against `headlight syntax --json` on the same probe file
// (web/public/probes/brown-pos.json as served); a head's pairs after
// selecting it by keyboard; the "syn" filter (only the syntactic heads stay
// lit); the definition beside the head types'. Screenshots at 1280 and
// 375 px, light and dark. Prints the figures it checks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { DIST_DIR, REPO_ROOT, assertCleanPage, pageInChromium, screenshotPanels, watchPage } from './helpers.mjs';

const HEADLIGHT = resolve(REPO_ROOT, process.env.HEADLIGHT_BIN ?? 'build/native/headlight');
const GRID = '[data-role="head-grid"]';
const PANEL = '[data-panel="syntax"]';
const served = pageInChromium({ prefix: '/headlight/', needed: ['wasm/headlight.js', 'probes/brown-pos.json'], bin: HEADLIGHT });

/** The page at a width and colour scheme, its first analysis drawn; toggle: the legend's "syn". */
async function openPage(width, colorScheme) {
  const context = await served.browser.newContext({ viewport: { width, height: 900 }, colorScheme });
  const page = await context.newPage();
  const problems = watchPage(context, page, served.server.origin);
  await page.goto(served.server.url);
  await page.waitForSelector(`${GRID} .head-cell[data-head-types]`, { timeout: 30_000 });
  const toggle = page.locator('[data-role="head-type-legend"] button[data-type="syntactic"]');
  return { context, page, problems, toggle };
}

/** "NOUN → DET 3.1× chance", as the page writes a pair. */
const label = (pair) => `${pair.query} → ${pair.key} ${pair.ratio.toFixed(1)}× chance`;

test('the Syntax view lists the syntactic heads and pairs of headlight syntax, and its filter filters', async () => {
  const cli = spawnSync(HEADLIGHT, ['syntax', '--model', join(DIST_DIR, 'models', served.model),
    '--probe', join(DIST_DIR, 'probes/brown-pos.json'), '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(cli.status, 0, cli.stderr);
  const want = JSON.parse(cli.stdout);
  const H = want.heads[0].length;

  const { context, page, problems, toggle } = await openPage(1280, 'light');
  // Nothing is probed until the reader looks: the panel comes into view.
  assert.equal(await toggle.textContent(), 'syn …');
  const t0 = Date.now();
  await page.locator(PANEL).scrollIntoViewIfNeeded();
  await page.waitForFunction(() => /heads are syntactic/.test(document.querySelector('[data-role="syntax-status"]')?.textContent ?? ''),
    null, { timeout: 60_000 });
  const status = await page.locator('[data-role="syntax-status"]').textContent();
  console.log(`  ${served.model}: "${status}" (${Date.now() - t0} ms after it came into view)`);

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

  await screenshotPanels(page, { syntax: PANEL, 'syntax-filter': '[data-panel="heads"]' });
  assertCleanPage(problems);
  await context.close();
});

test('"syn" pressed before any probe starts the probe, and the grid filters when it arrives', async () => {
  const { context, page, problems, toggle } = await openPage(375, 'dark');
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
