// Compare two runs (issue 17 item 6) in real Chromium: the selected head's
// attention in two runs and the difference map, for the three pairs:
// edited vs unedited (gpt-4l with the previous-token head 0.1 muted, head
// 1.5), two prompts (the corrupted prompt of Compare prompts, then a
// second text of another count, aligned and said), and two models
// (attn-only-2l against a checkpoint of its training; gpt-4l is refused
// with both shapes named). Reached by keyboard (the pair's radio buttons,
// the model select); the state in the URL; the CSV export of the
// difference map; screenshots at 1280 and 375 px, light and dark. Prints
// the largest |difference| and the top cell of each pair.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertCleanPage, downloadOf, pageInChromium, screenshotPanels, watchPage } from './helpers.mjs';

const PANEL = '[data-panel="runs"]';
const site = pageInChromium({ prefix: '/headlight/', needed: ['wasm/headlight.js', 'wasm/headlight.wasm'] });

async function openPage(hash) {
  const context = await site.browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light', acceptDownloads: true });
  const page = await context.newPage();
  const problems = watchPage(context, page, site.server.origin);
  await page.goto(`${site.server.url}${hash}`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 60_000 });
  await page.locator(PANEL).scrollIntoViewIfNeeded();
  return { context, page, problems };
}

/** Waits for a drawn comparison of `pair` that differs from `before` (its note); returns its figures. */
async function drawn(page, pair, before = null) {
  await page.waitForFunction(([p, b]) => {
    const panel = document.querySelector('[data-panel="runs"]');
    return panel?.dataset.pair === p && panel.dataset.maxAbs !== undefined && !panel.hasAttribute('aria-busy')
      && document.querySelector('[data-role="runs-note"]')?.textContent !== b;
  }, [pair, before], { timeout: 60_000 });
  return page.evaluate(() => {
    const panel = document.querySelector('[data-panel="runs"]');
    const first = document.querySelector('[data-role="runs-largest"] li');
    return {
      maxAbs: Number(panel.dataset.maxAbs),
      top: first?.dataset.value === undefined ? null : { query: Number(first.dataset.query), key: Number(first.dataset.key), value: Number(first.dataset.value), text: first.textContent },
      note: document.querySelector('[data-role="runs-note"]').textContent,
      subject: document.querySelector('[data-role="runs-subject"]').textContent,
      scores: [...document.querySelectorAll('[data-role="runs-scores"] tr')].map((tr) => tr.textContent),
    };
  });
}

async function hashOf(page) {
  return new URLSearchParams((await page.evaluate(() => location.hash)).slice(1));
}

test('edited vs unedited, then two prompts, on gpt-4l by keyboard', async () => {
  const corrupted = 'Words: table green storm night table green storm';
  const { context, page, problems } = await openPage(
    `#model=gpt-4l&text=Words:+apple+river+stone+cloud+apple+river+stone&muted=0.1&head=1.5&corrupt=${encodeURIComponent(corrupted).replace(/%20/g, '+')}`);
  const edits = await drawn(page, 'edits');
  console.log(`  edited vs unedited, head 1.5: max |B - A| ${edits.maxAbs.toFixed(4)}, top cell ${edits.top?.text}`);
  assert.match(edits.subject, /Head 1\.5/);
  assert.ok(edits.maxAbs > 0.01, 'muting 0.1 changes 1.5');
  assert.equal(Math.abs(edits.top.value), edits.maxAbs);
  assert.equal(edits.scores.length, 3, 'a header and the two runs\' scores');

  // Keyboard: focus the checked radio, the arrow key moves to the next pair.
  await page.focus('[data-role="runs-pair-edits"]');
  await page.keyboard.press('ArrowRight');
  const prompts = await drawn(page, 'prompts', edits.note);
  console.log(`  two prompts (the corrupted prompt): max |B - A| ${prompts.maxAbs.toFixed(4)}, top cell ${prompts.top?.text}; ${prompts.note}`);
  assert.equal((await hashOf(page)).get('runs'), 'prompts');
  assert.ok(prompts.maxAbs > 0.01);
  assert.match(prompts.note, /tokens differ/);

  // A second text of another count: aligned by position, and said.
  await page.focus('[data-role="runs-text"]');
  await page.keyboard.type('Words: apple river stone cloud apple');
  const shorter = await drawn(page, 'prompts', prompts.note);
  console.log(`  a shorter second prompt: max |B - A| ${shorter.maxAbs.toExponential(2)}; ${shorter.note}`);
  assert.match(shorter.note, /aligned by position, the first \d+ compared/);
  // Its tokens are a prefix of the text: causal attention gives the same rows.
  assert.ok(shorter.maxAbs <= 1e-6);
  assert.equal((await hashOf(page)).get('runtext'), 'Words: apple river stone cloud apple');

  const csv = await downloadOf(page, `${PANEL} .runs-figure:nth-child(3) [data-export="csv"]`);
  const lines = csv.bytes.toString('utf8').trim().split('\n');
  console.log(`  difference CSV ${csv.name}: ${lines.length - 1} cells`);
  assert.match(csv.name, /runs-prompts-1\.5-diff\.csv$/);
  assert.equal(lines[0], 'row,col,row_label,col_label,b_minus_a');

  await page.focus('[data-role="runs-pair-prompts"]');
  await page.keyboard.press('ArrowLeft');
  await drawn(page, 'edits', shorter.note);
  await screenshotPanels(page, { 'runs-gpt-4l-edits': PANEL });
  assertCleanPage(problems, 'compare runs on gpt-4l');
  await context.close();
});

test('two models: attn-only-2l against a checkpoint; a model of another shape is named', async () => {
  const { context, page, problems } = await openPage('#model=attn-only-2l&text=Words:+apple+river+stone+cloud+apple+river+stone&head=1.2&runs=models&runwith=attn-only-2l/step-03500');
  const models = await drawn(page, 'models');
  console.log(`  attn-only-2l vs step-03500, head 1.2: max |B - A| ${models.maxAbs.toFixed(4)}, top cell ${models.top?.text}; ${models.subject}`);
  assert.match(models.subject, /B: attn-only-2l\/step-03500, unedited/);
  assert.ok(models.maxAbs > 0.01);

  // Another checkpoint by keyboard: the select moves with the arrow keys.
  await page.focus('[data-role="runs-model"]');
  const options = await page.$$eval('[data-role="runs-model"] option', (o) => o.map((x) => [x.value, x.textContent]));
  console.log(`  ${options.length} models offered, ${options.filter(([, t]) => t.includes('another shape')).length} of another shape`);
  await page.selectOption('[data-role="runs-model"]', 'attn-only-2l/step-00001');
  const early = await drawn(page, 'models', models.note);
  console.log(`  against step-00001: max |B - A| ${early.maxAbs.toFixed(4)}, top cell ${early.top?.text}`);
  assert.equal((await hashOf(page)).get('runwith'), 'attn-only-2l/step-00001');

  const other = options.find(([, t]) => t.includes('another shape'));
  assert.ok(other, 'a model of another shape is listed');
  await page.selectOption('[data-role="runs-model"]', other[0]);
  await page.waitForFunction(() => document.querySelector('[data-panel="runs"]')?.dataset.mismatch === 'true');
  const message = await page.textContent('[data-role="runs-note"]');
  console.log(`  ${other[0]}: ${message}`);
  assert.match(message, /need the same shape/);

  await page.selectOption('[data-role="runs-model"]', 'attn-only-2l/step-03500');
  await drawn(page, 'models', message);
  await screenshotPanels(page, { 'runs-attn-only-2l-models': PANEL });
  assertCleanPage(problems, 'compare runs on attn-only-2l');
  await context.close();
});
