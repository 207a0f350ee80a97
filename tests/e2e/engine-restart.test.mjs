// The engine worker dies (issue 19, worker failure), in Chromium on the
// tiny-gpt fixture: an uncaught error inside the real worker (thrown there
// through the DevTools protocol, as a wasm abort or an out-of-memory would
// end it) must not leave the page dead. The page says the engine stopped,
// starts a new worker, loads the same model and shows the same state as the
// URL holds it (text, muted head, position): the predictions are the same
// numbers as before, and the new engine answers the next edit. A crash that
// keeps coming back is not retried forever: the fourth within a minute
// leaves a message asking for a reload. Prints the figures.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mutedHeads, pageInChromium, predictionState, waitForNewPredictions, watchPage } from './helpers.mjs';

const READY_TIMEOUT_MS = 60_000;
const TEXT = 'The quick brown fox jumps over the lazy dog. It was 1984, and the clocks struck 13!';
const MESSAGE = '[data-role="message"]';

const env = pageInChromium();

/** Throws an uncaught error inside the page's current engine worker. */
async function crashWorker(page) {
  const workers = page.workers();
  assert.ok(workers.length >= 1, 'an engine worker runs');
  const worker = workers[workers.length - 1];
  await worker.evaluate(() => {
    setTimeout(() => {
      throw new Error('engine crash made by the test');
    }, 0);
  });
  return worker;
}

/**
 * Makes the engine's next rerun trap while the wasm module is on the stack:
 * the rerun's result object gets its `from_layer` field from C++ (Embind's
 * property set), and a setter on Object.prototype inside the worker throws a
 * WebAssembly.RuntimeError there, once. The module's state is then unknown,
 * as after a real trap, so the worker answers `fatal` (worker.ts `handle`)
 * and the page must start a new engine.
 */
async function trapInNextRerun(page) {
  const workers = page.workers();
  const worker = workers[workers.length - 1];
  await worker.evaluate(() => {
    Object.defineProperty(Object.prototype, 'from_layer', {
      configurable: true,
      set() {
        delete Object.prototype.from_layer;
        throw new WebAssembly.RuntimeError('trap made by the test');
      },
    });
  });
}

async function messageText(page) {
  return page.$eval(MESSAGE, (m) => (m.hidden ? '' : m.textContent));
}

test('a dead engine worker is restarted with the same model and state', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watchPage(context, page, env.server.origin);
  await page.goto(`${env.server.url}index.html#model=tiny-gpt&text=${encodeURIComponent(TEXT)}&muted=0.1&pos=5`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS });
  const before = await predictionState(page);
  const mutedBefore = await mutedHeads(page);
  const hashBefore = await page.evaluate(() => window.location.hash);

  const t0 = Date.now();
  await crashWorker(page);
  await page.waitForFunction(
    ([selector, previous]) =>
      /restarted with the same model/.test(document.querySelector('[data-role="message"]').textContent) &&
      document.querySelector(selector)?.dataset.revision !== previous,
    ['[data-role="prediction-list"]', before.revision],
    { timeout: READY_TIMEOUT_MS },
  );
  const restartMs = Date.now() - t0;
  const afterRestart = await predictionState(page);
  const message = await messageText(page);
  console.log(`  restarted in ${restartMs} ms: "${message}"`);
  console.log(`  predictions before ${before.ids} (${before.probs}); after ${afterRestart.ids} (${afterRestart.probs})`);
  assert.match(message, /engine worker failed: .*engine crash made by the test/);
  assert.equal(afterRestart.ids, before.ids, 'the same top tokens');
  assert.equal(afterRestart.probs, before.probs, 'the same probabilities');
  assert.deepEqual(await mutedHeads(page), mutedBefore, 'the same muted heads');
  assert.equal(await page.evaluate(() => window.location.hash), hashBefore, 'the same URL state');
  assert.equal(await page.$eval('textarea[data-role="text-input"]', (t) => t.value), TEXT);

  // The new engine answers an edit.
  const revision = afterRestart.revision;
  await page.click('[data-role="head-grid"] button.head[data-layer="1"][data-head="0"]');
  const edited = await waitForNewPredictions(page, revision, READY_TIMEOUT_MS);
  console.log(`  after muting 1.0 on the new engine: ${edited.ids} (${edited.probs})`);
  assert.notEqual(edited.probs, afterRestart.probs, 'the edit changed the predictions');
  assert.deepEqual(problems.pageErrors, [], 'no uncaught page error');
  assert.deepEqual(problems.foreignRequests, [], 'no request left the origin');

  // Three restarts a minute at most: crash twice more (restarted), then once
  // more (not restarted: the page asks for a reload).
  for (let round = 2; round <= 3; ++round) {
    const previous = (await predictionState(page)).revision;
    await crashWorker(page);
    await page.waitForFunction(
      ([selector, rev]) =>
        /restarted with the same model/.test(document.querySelector('[data-role="message"]').textContent) &&
        document.querySelector(selector)?.dataset.revision !== rev,
      ['[data-role="prediction-list"]', previous],
      { timeout: READY_TIMEOUT_MS },
    );
    console.log(`  restart ${round}: predictions shown again`);
  }
  await crashWorker(page);
  await page.waitForFunction(
    () => /Reload the page/.test(document.querySelector('[data-role="message"]').textContent),
    null,
    { timeout: READY_TIMEOUT_MS },
  );
  console.log(`  fourth crash within a minute: "${await messageText(page)}"`);
  await context.close();
});

test('a trap inside a wasm call gets a fatal answer and a new engine with the same state', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watchPage(context, page, env.server.origin);
  await page.goto(`${env.server.url}index.html#model=tiny-gpt&text=${encodeURIComponent(TEXT)}&pos=5`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS });
  const before = await predictionState(page);
  const workersBefore = page.workers().length;

  await trapInNextRerun(page);
  const t0 = Date.now();
  await page.click('[data-role="head-grid"] button.head[data-layer="0"][data-head="1"]');
  await page.waitForFunction(
    () => /restarted with the same model/.test(document.querySelector('[data-role="message"]').textContent),
    null,
    { timeout: READY_TIMEOUT_MS },
  );
  const restartMs = Date.now() - t0;
  const message = await messageText(page);
  console.log(`  trap -> new engine in ${restartMs} ms: "${message}"`);
  assert.match(message, /^The engine stopped \(trap made by the test\) and was restarted/);
  // The muted head went into the URL with the click: the new engine shows it.
  const shown = await waitForNewPredictions(page, before.revision, READY_TIMEOUT_MS);
  const hash = await page.evaluate(() => window.location.hash);
  console.log(`  state after the restart: ${hash.slice(0, 80)}; muted ${await mutedHeads(page)}`);
  assert.match(hash, /muted=0\.1/);
  assert.deepEqual(await mutedHeads(page), ['0.1']);
  assert.notEqual(shown.probs, before.probs, 'the predictions with 0.1 muted');
  console.log(`  workers before ${workersBefore}, after ${page.workers().length}`);

  // The new engine gives the same numbers as a page opened on that URL.
  const fresh = await context.newPage();
  await fresh.goto(`${env.server.url}index.html${hash}`);
  await fresh.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS });
  const reference = await predictionState(fresh);
  console.log(`  restarted engine ${shown.ids} (${shown.probs}); fresh page ${reference.ids} (${reference.probs})`);
  assert.equal(shown.ids, reference.ids);
  assert.equal(shown.probs, reference.probs);

  // And it answers the next edit.
  await page.click('[data-role="head-grid"] button.head[data-layer="1"][data-head="0"]');
  const edited = await waitForNewPredictions(page, shown.revision, READY_TIMEOUT_MS);
  assert.notEqual(edited.probs, shown.probs, 'the next edit changed the predictions');
  assert.deepEqual(problems.pageErrors, [], 'no uncaught page error');
  assert.deepEqual(problems.foreignRequests, [], 'no request left the origin');
  await context.close();
});
