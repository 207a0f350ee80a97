// "Open your own model" while it loads (issue 15 item 6), in Chromium: the
// popover closes the moment loading starts (it covered the progress bar),
// every phase shows a label that moves (bytes while reading, the seconds of
// the engine's convert-and-pack step), and a cut-short model.safetensors
// says so in a plain sentence before the engine's details, for both the
// engine's check (data past the end) and the page's own (header past the
// end). Prints the phases seen and their durations.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertCleanPage, pageInChromium, randomGptFiles, watchPage } from './helpers.mjs';

const READY_TIMEOUT_MS = 60_000;
const FILES_INPUT = '[data-role="open-local-files"]';
const MESSAGE = '[data-role="message"]';
const MODEL_FILES = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'];
const SENTENCE = 'model.safetensors is cut short or damaged';

const state = pageInChromium();

/** The four files as the file input's payloads (no folder on disk needed). */
function payloads(files) {
  return MODEL_FILES.map((name) => ({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(files[name]) }));
}

test('open your own: the popover closes, every phase moves, a cut-short file is named plainly', async (t) => {
  const context = await state.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watchPage(context, page, state.server.origin);
  await page.goto(`${state.server.url}index.html`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS });

  await t.test('a 12 x 12, d_model 240 folder (33 MB): popover closed under the progress, phases with moving labels', async () => {
    // Every progress label and whether the popover was open when it showed.
    await page.evaluate(() => {
      const label = document.querySelector('[data-role="progress-label"]');
      const details = document.querySelector('[data-role="open-local"]');
      window.__seen = [];
      new MutationObserver(() => window.__seen.push({ text: label.textContent, at: performance.now(), popoverOpen: details.open })).observe(
        label,
        { childList: true, characterData: true, subtree: true },
      );
    });
    await page.click('[data-role="open-local"] summary');
    assert.equal(await page.$eval('[data-role="open-local"]', (d) => d.open), true, 'the popover is open before');
    const { files } = randomGptFiles({ n_layer: 12, n_head: 12, n_embd: 240, n_positions: 128, seed: 6 });
        const revision = await page.$eval('[data-role="prediction-list"]', (l) => l.dataset.revision);
    await page.setInputFiles(FILES_INPUT, payloads(files));
    await page.waitForFunction((r) => document.querySelector('[data-role="prediction-list"]').dataset.revision !== r, revision, {
      timeout: READY_TIMEOUT_MS,
    });
    const seen = await page.evaluate(() => window.__seen);
    const phases = new Map();
    for (const { text, at } of seen) {
      const phase = text.split(' · ')[0];
      const entry = phases.get(phase) ?? { first: at, last: at, texts: new Set() };
      entry.last = at;
      entry.texts.add(text);
      phases.set(phase, entry);
    }
    for (const [phase, { first, last, texts }] of phases) {
      console.log(`  ${phase}: ${texts.size} distinct labels over ${(last - first).toFixed(0)} ms (last: ${[...texts].at(-1)})`);
    }
    const openWhileLoading = seen.filter((s) => s.popoverOpen).length;
    console.log(`  ${seen.length} progress updates, ${openWhileLoading} of them with the popover open; safetensors ${files['model.safetensors'].length} bytes`);
    assert.equal(openWhileLoading, 0, 'the popover is closed while the progress shows');
    const names = [...phases.keys()];
    assert.ok(names.some((p) => p.startsWith('checking the files')), names.join(' | '));
    assert.ok(names.some((p) => p.startsWith('reading model.safetensors')), names.join(' | '));
    const convert = [...phases.entries()].find(([p]) => p.startsWith('converting and packing'));
    assert.ok(convert, `a converting phase is shown: ${names.join(' | ')}`);
    assert.match([...convert[1].texts][0], /converting and packing \d+(\.\d)? MB of weights · \d+\.\d s/);
    assert.ok(!seen.some((s) => / · 0 B$/.test(s.text)), 'no phase sits at "0 B"');
  });

  await t.test('a truncated model.safetensors: the plain sentence, then the engine\'s details', async () => {
    const { files } = randomGptFiles({ n_layer: 2, n_head: 4, n_embd: 64, n_positions: 64, seed: 7 });
    const cut = files['model.safetensors'].subarray(0, Math.floor(files['model.safetensors'].length * 0.7));
    await page.setInputFiles(FILES_INPUT, payloads({ ...files, 'model.safetensors': cut }));
    await page.waitForSelector(`${MESSAGE}.is-error`, { state: 'visible', timeout: READY_TIMEOUT_MS });
    const message = await page.textContent(MESSAGE);
    console.log(`  truncated (${cut.length} of ${files['model.safetensors'].length} bytes): ${message}`);
    assert.ok(message.startsWith(SENTENCE), message);
    assert.match(message, /outside the data section/);
  });

  await t.test('a header that runs past the end of the file: the same sentence', async () => {
    await page.evaluate(() => document.querySelector('[data-role="message"]').classList.remove('is-error'));
    const { files } = randomGptFiles({ n_layer: 2, n_head: 4, n_embd: 64, n_positions: 64, seed: 7 });
    const cut = files['model.safetensors'].subarray(0, 200);
    await page.setInputFiles(FILES_INPUT, payloads({ ...files, 'model.safetensors': cut }));
    await page.waitForSelector(`${MESSAGE}.is-error`, { state: 'visible', timeout: READY_TIMEOUT_MS });
    const message = await page.textContent(MESSAGE);
    console.log(`  header past the end (${cut.length} bytes): ${message}`);
    assert.ok(message.startsWith(SENTENCE), message);
  });

  assertCleanPage(problems);
  await context.close();
});
