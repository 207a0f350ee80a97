// A 1 MB paste (issue 19, limits), in Chromium on gpt-4l: the page does not
// freeze. The text is tokenized in the worker and only as far as it is
// counted (65,536 tokens), the link carries its first 4,000 characters, and
// the token note says how much of it the model reads. Prints the longest
// main-thread task (PerformanceObserver 'longtask') and the time to the new
// predictions; a freeze would be a task of seconds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pageInChromium, predictionState, waitForNewPredictions, watchPage } from './helpers.mjs';

const READY_TIMEOUT_MS = 60_000;
const FREEZE_MS = 2000;

const env = pageInChromium();

test('a 1 MB paste: no long freeze, the first tokens run, the note says "more than"', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watchPage(context, page, env.server.origin);
  await page.goto(`${env.server.url}index.html#model=gpt-4l`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS });
  await page.evaluate(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.longTasks.push(entry.duration);
    }).observe({ type: 'longtask' });
  });
  const { revision } = await predictionState(page);
  const sentence = 'The old mill stood by the river, and every summer the children came to see the bees. ';
  const text = sentence.repeat(Math.ceil((1 << 20) / sentence.length)).slice(0, 1 << 20);
  const t0 = Date.now();
  await page.evaluate((t) => {
    const input = document.querySelector('textarea[data-role="text-input"]');
    input.value = t;
    input.dispatchEvent(new Event('input'));
  }, text);
  await waitForNewPredictions(page, revision, READY_TIMEOUT_MS);
  const ms = Date.now() - t0;
  await page.waitForTimeout(500);
  const tasks = await page.evaluate(() => window.longTasks);
  const longest = Math.max(0, ...tasks);
  const note = await page.$eval('[data-role="token-note"]', (n) => n.textContent);
  const notice = await page.$eval('[data-role="url-notice"]', (n) => (n.hidden ? '' : n.textContent.trim()));
  const hash = await page.evaluate(() => window.location.hash.length);
  console.log(`  1 MB paste: predictions after ${ms} ms; ${tasks.length} long tasks, longest ${longest.toFixed(0)} ms (freeze bound ${FREEZE_MS})`);
  console.log(`  token note: "${note}"; link notice: "${notice.replace(/\s+/g, ' ')}"; hash ${hash} characters`);
  assert.ok(longest < FREEZE_MS, `a ${longest} ms task`);
  assert.match(note, /only the first 128 of more than 65,536 are used/);
  assert.match(notice, /first 4000 characters/);
  assert.ok(hash < 5000, `a ${hash}-character hash`);
  assert.deepEqual(problems.pageErrors, [], 'no uncaught page error');
  await context.close();
});
