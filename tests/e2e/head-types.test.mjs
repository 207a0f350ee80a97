// Head-type badges, the legend filter and the definitions (issue 16) in real
// Chromium on the shipped default model (gpt-4l-8k) and the default text: every
// badge against the float64 reference scores (tests/reference/
// head-types-reference.mjs) of `headlight run --json`'s attention, the
// model card's heads (0.1 previous-token; 1.5, 1.6 induction), the
// filter by keyboard, the definitions; screenshots at 1280 and 375 px, light
// and dark. Mean ablation from the edits panel: the page's predictions
// against `headlight run --edit L.H=mean --json`, and again after a reload
// from the URL. The copying scores: the copy mark on the induction heads
// whose score is positive and the hover card's score against `headlight
// analyze --json`. Prints the figures it checks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { allHeadTypeScores } from '../reference/head-types-reference.mjs';
import {
  DIST_DIR,
  REPO_ROOT,
  artifactPath,
  assertCleanPage,
  maxAbsDiff,
  pageInChromium,
  predictionState,
  screenshotPanels,
  waitForNewPredictions,
  watchPage,
} from './helpers.mjs';

const PREFIX = '/headlight/';
const HEADLIGHT = resolve(REPO_ROOT, process.env.HEADLIGHT_BIN ?? 'build/native/headlight');
const GRID = '[data-role="head-grid"]';
const THRESHOLD = 0.4;

const served = pageInChromium({ prefix: PREFIX, needed: ['wasm/headlight.js', 'wasm/headlight.wasm'], bin: HEADLIGHT });

/**
 * docs/heads.md's rule, every type a head passes: the specific scores that
 * reach 0.4, highest first (the first is the head's type), else local when
 * it does, else none.
 */
function typesOf(s) {
  const specific = ['previous_token', 'induction', 'duplicate_token', 'first_token']
    .filter((name) => s[name] >= THRESHOLD)
    .sort((a, b) => s[b] - s[a]);
  if (specific.length > 0) return specific.join(' ');
  return s.local >= THRESHOLD ? 'local' : 'none';
}

/** The page's text (its default), as the text box holds it once the first analysis is drawn. */
async function openPage(page) {
  await page.goto(served.server.url);
  await page.waitForSelector(`${GRID} .head-cell[data-head-types]`, { timeout: 30_000 });
  return page.locator('[data-role="text-input"], textarea').first().inputValue();
}

test('badges match the float64 reference on the default model and text; the filter and definitions work by keyboard', async () => {
  const context = await served.browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  const page = await context.newPage();
  const problems = watchPage(context, page, served.server.origin);
  const text = await openPage(page);
  assert.ok(text.length > 0, 'the page shows its text');

  // The reference: headlight run --json's attention, scored in float64.
  const run = spawnSync(HEADLIGHT, ['run', '--model', join(DIST_DIR, 'models', served.model), '--text', text, '--json'], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  assert.equal(run.status, 0, run.stderr);
  const trace = JSON.parse(run.stdout);
  const reference = allHeadTypeScores(trace.attn, trace.ids);

  const shown = await page.$$eval(`${GRID} .head-cell`, (cells) =>
    cells.map((cell) => {
      const button = cell.querySelector('button.head');
      return {
        name: `${button.dataset.layer}.${button.dataset.head}`,
        type: cell.dataset.headTypes,
        badge: cell.querySelector('.head-badge').textContent,
      };
    }),
  );
  assert.equal(shown.length, trace.n_layer * trace.n_head);
  let mismatches = 0;
  for (const { name, type } of shown) {
    const want = typesOf(reference[name]);
    if (want !== type) mismatches++;
    assert.equal(type, want, `head ${name}: page ${type}, reference ${want} (${JSON.stringify(reference[name])})`);
  }
  const named = (type) => shown.filter((s) => s.type.split(' ').includes(type)).map((s) => s.name);
  console.log(`  ${served.model}, ${trace.ids.length} tokens: ${shown.length} badges, ${mismatches} differ from the reference; ` +
    `prev ${named('previous_token')}, induction ${named('induction')}, dup ${named('duplicate_token')}, ` +
    `sink ${named('first_token')}, local ${named('local')}`);
  for (const name of ['0.1', '1.2', '1.5', '1.6']) {
    const s = reference[name];
    console.log(`  ${name}: previous_token ${s.previous_token.toFixed(4)}, induction ${s.induction.toFixed(4)}`);
  }
  if (served.model === 'gpt-4l') {
    assert.ok(named('previous_token').includes('0.1'), 'head 0.1 is a previous-token head');
    for (const name of ['1.2', '1.5', '1.6']) assert.ok(named('induction').includes(name), `head ${name} is an induction head`);
  }
  assert.equal(shown.find((s) => s.name === '0.1').badge, 'prev');
  assert.equal(shown.find((s) => s.name === '1.5').badge, 'sink ind', 'a head with two types shows both, its type first');

  // The hover card names the type and the scores.
  // (Head 1.6: an induction head on the default text in every gpt-4l-8k so
  // far; 1.2 scored 0.46 in the tenth round's weights, 0.37 in the eleventh's.)
  await page.hover(`${GRID} button.head[data-layer="1"][data-head="6"]`);
  const card = await page.locator('.tooltip').first().textContent();
  console.log(`  hover card of 1.6: ${card}`);
  assert.match(card, /type [a-z, ]*ind/);
  assert.match(card, new RegExp(`ind ${reference['1.6'].induction.toFixed(2)}`));

  // The legend's induction filter, by keyboard: the other heads dim.
  const filter = page.locator('[data-role="head-type-legend"] button[data-type="induction"]');
  assert.equal(await filter.textContent(), `ind ${named('induction').length}`);
  await filter.focus();
  await page.keyboard.press('Enter');
  assert.equal(await filter.getAttribute('aria-pressed'), 'true');
  const opacities = await page.$$eval(`${GRID} .head-cell`, (cells) =>
    cells.map((cell) => ({ type: cell.dataset.headTypes, opacity: Number(getComputedStyle(cell).opacity) })),
  );
  const lit = opacities.filter((c) => c.opacity === 1);
  const dimmed = opacities.filter((c) => c.opacity < 0.5);
  console.log(`  induction filter: ${lit.length} heads shown, ${dimmed.length} dimmed`);
  assert.ok(lit.length > 0 && lit.every((c) => c.type.split(' ').includes('induction')), 'only induction heads stay lit');
  assert.equal(lit.length, named('induction').length, 'every induction head stays lit');
  assert.equal(dimmed.length, opacities.length - lit.length, 'every other head is dimmed');
  await page.screenshot({ path: artifactPath('head-types-filter-1280-light.png'), fullPage: true });
  await page.keyboard.press('Space');
  assert.equal(await filter.getAttribute('aria-pressed'), 'false');
  assert.equal(await page.$eval(GRID, (grid) => grid.dataset.filter ?? null), null, 'the second press shows every head again');

  // The definitions, one keypress away.
  const summary = page.locator('.type-definitions summary');
  await summary.focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.$eval('.type-definitions', (d) => d.open), true);
  const definitions = await page.locator('[data-role="head-type-definitions"]').textContent();
  assert.match(definitions, /mean over queries q ≥ 1 of A\[q\]\[q-1\]/);
  assert.match(definitions, /induction/);

  await screenshotPanels(page, { 'head-types': '[data-panel="heads"]' });
  assertCleanPage(problems);
  await context.close();
});

/** The CLI's top-k at the last position with `edits` (--edit values): "id,id,..." and "p,p,...". */
function cliPredictions(text, edits) {
  const args = ['run', '--model', join(DIST_DIR, 'models', served.model), '--text', text, '--json'];
  for (const edit of edits) args.push('--edit', edit);
  const run = spawnSync(HEADLIGHT, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(run.status, 0, run.stderr);
  const { top_k } = JSON.parse(run.stdout);
  const last = top_k[top_k.length - 1];
  return { ids: last.map((p) => p.id).join(','), probs: last.map((p) => p.prob).join(',') };
}

test('mean ablation from the edits panel equals headlight run --edit L.H=mean, and survives a reload', async () => {
  const context = await served.browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  const page = await context.newPage();
  const problems = watchPage(context, page, served.server.origin);
  const text = await openPage(page);
  const HEAD = '1.6';

  // Mute the head from the grid (keyboard), then choose mean in its edits row.
  const before = await predictionState(page);
  const cell = page.locator(`${GRID} button.head[data-layer="1"][data-head="6"]`);
  await cell.focus();
  await page.keyboard.press('Space');
  const muted = await waitForNewPredictions(page, before.revision);
  const zero = cliPredictions(text, [`${HEAD}=0`]);
  console.log(`  ${HEAD} muted: page ${muted.probs} vs CLI ${zero.probs}, max diff ${maxAbsDiff(muted.probs, zero.probs).toExponential(2)}`);
  assert.equal(muted.ids, zero.ids);
  assert.ok(maxAbsDiff(muted.probs, zero.probs) <= 1e-5);

  const radio = page.locator('[data-role="edit-list"] input[name="ablation-1-6"][value="mean"]');
  await radio.focus();
  await page.keyboard.press('Space');
  const meaned = await waitForNewPredictions(page, muted.revision);
  await page.waitForFunction(() => /(^|&)mean=1\.6(&|$)/.test(decodeURIComponent(window.location.hash.slice(1))));
  const hash = await page.evaluate(() => decodeURIComponent(window.location.hash));
  assert.doesNotMatch(hash, /muted=/, 'a mean-ablated head is not also muted');
  const mean = cliPredictions(text, [`${HEAD}=mean`]);
  const diff = maxAbsDiff(meaned.probs, mean.probs);
  console.log(`  ${HEAD} mean-ablated: page ${meaned.probs} vs CLI ${mean.probs}, max diff ${diff.toExponential(2)}; URL ${hash.slice(0, 40)}...`);
  assert.equal(meaned.ids, mean.ids, 'the same top-k tokens as the CLI');
  assert.ok(diff <= 1e-5, `max abs diff ${diff} within 1e-5`);
  assert.notEqual(meaned.probs, muted.probs, 'mean ablation differs from zero ablation');
  assert.equal(await page.locator(`${GRID} button.head[data-layer="1"][data-head="6"] .head-state`).textContent(), 'mean');
  await page.locator('[data-panel="edits"]').screenshot({ path: artifactPath('edits-mean-1280-light.png') });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.setViewportSize({ width: 375, height: 900 });
  await page.locator('[data-panel="edits"]').screenshot({ path: artifactPath('edits-mean-375-dark.png') });

  // A reload from the URL gives the same predictions and the same choice.
  await page.reload();
  await page.waitForSelector(`${GRID} .head-cell[data-head-types]`, { timeout: 30_000 });
  await page.waitForFunction(
    (head) => document.querySelector(`[data-role="edit-list"] input[name="ablation-${head}"][value="mean"]`)?.checked === true,
    '1-6',
    { timeout: 30_000 },
  );
  await page.waitForFunction((probs) => document.querySelector('[data-role="prediction-list"]')?.dataset.probs === probs, meaned.probs, {
    timeout: 30_000,
  });
  const reloaded = await predictionState(page);
  console.log(`  after reload: ${reloaded.probs}, max diff to the CLI ${maxAbsDiff(reloaded.probs, mean.probs).toExponential(2)}`);
  assert.ok(maxAbsDiff(reloaded.probs, mean.probs) <= 1e-5);

  // Zero again from the same row, then reset: as trained.
  await page.locator('[data-role="edit-list"] input[name="ablation-1-6"][value="zero"]').check();
  await page.waitForFunction(() => /muted=1\.6/.test(decodeURIComponent(window.location.hash)));
  assert.doesNotMatch(await page.evaluate(() => decodeURIComponent(window.location.hash)), /mean=/);
  assertCleanPage(problems);
  await context.close();
});

test('copying scores: the hover card and the copy mark on induction heads equal headlight analyze --json', async () => {
  const context = await served.browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  const page = await context.newPage();
  const problems = watchPage(context, page, served.server.origin);
  const text = await openPage(page);
  const run = spawnSync(HEADLIGHT, ['analyze', '--model', join(DIST_DIR, 'models', served.model), '--text', text, '--json'], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  assert.equal(run.status, 0, run.stderr);
  const { copying, head_scores } = JSON.parse(run.stdout);
  const marked = await page.$$eval(`${GRID} .head-cell`, (cells) =>
    cells.filter((cell) => cell.dataset.copying === 'true').map((cell) => {
      const button = cell.querySelector('button.head');
      return `${button.dataset.layer}.${button.dataset.head}`;
    }),
  );
  // docs/heads.md: an induction candidate (induction >= 0.4 on the text) with a positive copying score.
  const expected = [];
  copying.forEach((row, l) => row.forEach((score, h) => {
    if (head_scores.induction[l][h] >= THRESHOLD && score > 0) expected.push(`${l}.${h}`);
  }));
  const scores = copying.map((row, l) => row.map((c, h) => `${l}.${h} ${c.toFixed(2)}`).join(' ')).join(' | ');
  console.log(`  copying (CLI): ${scores}`);
  console.log(`  copy marks: page ${marked.join(' ') || 'none'}, expected ${expected.join(' ') || 'none'}`);
  assert.deepEqual(marked, expected);
  if (served.model === 'gpt-4l') assert.ok(marked.length > 0, 'the default model has an induction head that copies');

  // The hover card of every marked head (and of 0.1) gives its score as the CLI does.
  for (const name of [...marked, '0.1']) {
    const [l, h] = name.split('.').map(Number);
    await page.hover(`${GRID} button.head[data-layer="${l}"][data-head="${h}"]`);
    const line = await page.locator('.tooltip [data-role="tooltip-copying"]').textContent();
    const want = `copying ${copying[l][h] >= 0 ? '+' : '−'}${Math.abs(copying[l][h]).toFixed(2)}`;
    console.log(`  hover card of ${name}: ${line}`);
    assert.ok(line.startsWith(want), `${name}: ${line} starts with ${want}`);
    assert.equal(/an induction head that copies/.test(line), marked.includes(name));
    if (name === marked[0]) await page.locator('.tooltip').first().screenshot({ path: artifactPath('head-tooltip-copying-1280-light.png') });
  }
  // The mark is drawn in the square's corner (the badges keep their text); no other head has it.
  const marks = await page.$$eval(`${GRID} button.head`, (buttons) =>
    buttons.filter((b) => getComputedStyle(b, '::before').content === '"copy"').map((b) => `${b.dataset.layer}.${b.dataset.head}`),
  );
  assert.deepEqual(marks, marked);
  // The definition, one keypress away.
  await page.locator('.type-definitions summary').focus();
  await page.keyboard.press('Enter');
  const definition = await page.locator('[data-role="copying-definition"]').textContent();
  assert.match(definition, /Σ Re λ \/ Σ \|λ\|/);
  await page.mouse.move(0, 0);
  await screenshotPanels(page, { 'head-types-copying': '[data-panel="heads"]' });
  assertCleanPage(problems);
  await context.close();
});
