// The predictions panel after an edit that pushes the unedited model's
// first choice out of the top 5 (issue 15 item 5), in Chromium on the
// tiny-gpt fixture: the first choice stays as its own row (its ghost bar
// at the unedited probability, its bar at the edited one, the figure
// printed as a plain percentage), the K rows print no exponent, and the
// row goes again when the edit is undone. Prints what the row shows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { artifactPath, assertCleanPage, pageInChromium, watchPage } from './helpers.mjs';

const READY_TIMEOUT_MS = 60_000;
// Position 5 of this text loses its top-1 when every head of tiny-gpt is
// muted (tests/node/ghost-row.test.mjs prints it).
const TEXT = 'The quick brown fox jumps over the lazy dog. It was 1984, and the clocks struck 13!';
const ROW = '[data-role="prediction-list"] .prediction-dropped';

const env = pageInChromium();

/** Clicks a layer's mute button and waits until every view shows the pass (the mean loss is no longer pending). */
async function toggleLayer(page, layer) {
  const revision = await page.$eval('[data-role="head-grid"]', (g) => g.dataset.revision);
  await page.click(`[data-role="head-grid"] button.layer-mute[data-layer="${layer}"]`);
  await page.waitForFunction(
    (r) =>
      document.querySelector('[data-role="head-grid"]').dataset.revision !== r &&
      document.querySelector('[data-role="mean-loss"]').dataset.pending === undefined,
    revision,
    { timeout: READY_TIMEOUT_MS },
  );
}

async function droppedRow(page) {
  return page.$eval(ROW, (row) => {
    const track = row.querySelector('.bar-track').getBoundingClientRect().width;
    return {
      visible: getComputedStyle(row).visibility === 'visible' && row.getAttribute('aria-hidden') === 'false',
      token: row.querySelector('.token').textContent,
      value: row.querySelector('.prob').textContent,
      prob: Number(row.dataset.prob),
      baseline: Number(row.dataset.baseline),
      bar: row.querySelector('.bar').getBoundingClientRect().width / track,
      ghost: row.querySelector('.bar-ghost').getBoundingClientRect().width / track,
      title: row.title,
    };
  });
}

test('the unedited first choice stays as a row when the edits push it out of the top 5', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watchPage(context, page, env.server.origin);
  await page.goto(`${env.server.url}index.html#model=tiny-gpt&text=${encodeURIComponent(TEXT)}&pos=5`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS });
  const before = await droppedRow(page);
  assert.equal(before.visible, false, 'no edit: no extra row');
  const unedited = await page.$eval('[data-role="prediction-list"]', (l) => l.dataset.ids.split(',')[0]);

  await toggleLayer(page, 0);
  await toggleLayer(page, 1);
  const row = await droppedRow(page);
  const ids = await page.$eval('[data-role="prediction-list"]', (l) => l.dataset.ids.split(','));
  const values = await page.$$eval('[data-role="prediction-list"] .prediction .prob', (cells) => cells.map((c) => c.textContent));
  console.log(`  every head muted: top 5 ${values.join(' ')}; dropped row ${JSON.stringify(row.token)} ${row.value} ` +
    `(edited p ${row.prob.toExponential(3)}, unedited ${row.baseline.toFixed(4)}; bar ${row.bar.toFixed(4)}, ghost ${row.ghost.toFixed(4)} of the track)`);
  assert.ok(!ids.includes(unedited), 'the unedited top-1 is out of the edited top 5');
  assert.equal(row.visible, true, 'the dropped first choice has its row');
  assert.match(row.title, new RegExp(`id ${unedited} `));
  assert.ok(row.prob > 0 && row.prob < row.baseline, 'edited probability below the unedited one');
  assert.ok(Math.abs(row.ghost - row.baseline) < 0.01, 'the ghost bar shows the unedited probability');
  assert.ok(Math.abs(row.bar - row.prob) < 0.01, 'the bar shows the edited probability');
  for (const text of [...values, row.value]) assert.doesNotMatch(text, /e/i, `no exponent: ${text}`);
  assert.match(row.value, /^(< )?\d+(\.\d+)?%$/);

  await page.locator('[data-panel="predictions"]').screenshot({ path: artifactPath('predictions-dropped-1280.png') });
  await page.setViewportSize({ width: 375, height: 900 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.locator('[data-panel="predictions"]').screenshot({ path: artifactPath('predictions-dropped-375-dark.png') });
  await page.setViewportSize({ width: 1280, height: 900 });

  await toggleLayer(page, 0);
  await toggleLayer(page, 1);
  assert.equal((await droppedRow(page)).visible, false, 'edits undone: the row goes');
  assertCleanPage(problems);
  await context.close();
});
