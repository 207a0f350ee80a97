// Shared pieces of the browser tests: a static file server for web/dist/
// (node:http, 127.0.0.1, random port), Debian's Chromium through
// playwright-core, and a watcher that records every console error, page
// error and request that leaves the origin.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { mulberry32 } from '../../scripts/lib/random.mjs';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
// HEADLIGHT_DIST: test another build (engineers building at once use their own outDir).
export const DIST_DIR = process.env.HEADLIGHT_DIST
  ? resolve(process.env.HEADLIGHT_DIST)
  : join(REPO_ROOT, 'web', 'dist');
export const ARTIFACTS_DIR = join(REPO_ROOT, 'test-artifacts');

const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.safetensors': 'application/octet-stream',
};

/**
 * Serves `root` under `prefix` (e.g. '/headlight/', to prove the page works
 * under a sub-path). `overrides` maps a URL path to bytes served instead of
 * the file (to feed the page a broken model); `slow` maps a URL path to a
 * duration in ms over which that file trickles out in 20 chunks (to see the
 * download progress). Returns { origin, url, close }.
 */
export async function serveStatic(root, { prefix = '/', overrides = {}, slow = {} } = {}) {
  const rootDir = resolve(root);
  const server = createServer((request, response) => {
    const send = (status, body, type = 'text/plain; charset=utf-8') => {
      response.writeHead(status, { 'content-type': type, 'content-length': body.length });
      if (request.method === 'HEAD') return response.end();
      const duration = slow[new URL(request.url, 'http://x').pathname];
      if (!duration || status !== 200) return response.end(body);
      const chunk = Math.ceil(body.length / 20);
      let offset = 0;
      const timer = setInterval(() => {
        response.write(body.subarray(offset, offset + chunk));
        offset += chunk;
        if (offset >= body.length) {
          clearInterval(timer);
          response.end();
        }
      }, duration / 20);
      response.on('close', () => clearInterval(timer));
    };
    const path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    if (overrides[path] !== undefined) {
      const body = Buffer.from(overrides[path]);
      return send(200, body, MIME_TYPES[extname(path)] ?? 'application/octet-stream');
    }
    if (!path.startsWith(prefix)) return send(404, Buffer.from(`not under ${prefix}: ${path}`));
    let file = normalize(join(rootDir, path.slice(prefix.length)));
    if (file !== rootDir && !file.startsWith(rootDir + sep)) return send(403, Buffer.from('outside root'));
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const body = readFileSync(file);
      send(200, body, MIME_TYPES[extname(file)] ?? 'application/octet-stream');
    } catch {
      send(404, Buffer.from(`not found: ${path}`));
    }
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    url: `${origin}${prefix}`,
    close: () => new Promise((done) => server.close(done)),
  };
}

/**
 * Serves DIST_DIR under `prefix` with one more model in the picker: `files`
 * (e.g. randomGptFiles(...).files) as models/<name>/, listed in models/index.json.
 */
export async function serveWithModel(name, files, description, { prefix = '/' } = {}) {
  const index = JSON.parse(readFileSync(join(DIST_DIR, 'models/index.json'), 'utf8'));
  index.models.push({ name, description, bytes: files['model.safetensors'].length });
  const overrides = { [`${prefix}models/index.json`]: JSON.stringify(index) };
  for (const [file, bytes] of Object.entries(files)) overrides[`${prefix}models/${name}/${file}`] = bytes;
  return serveStatic(DIST_DIR, { prefix, overrides });
}


export async function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * The before and after hooks of a test file that opens the built page
 * (web/dist) in Chromium: `before` checks that the files `needed` (paths in
 * web/dist) and, with `bin`, the native binary exist, serves web/dist under
 * `prefix` and launches Chromium; `after` closes both. Returns the object
 * `before` fills: { server, browser, model (models/index.json's default) }.
 */
export function pageInChromium({ prefix = '/', needed = [], bin = null } = {}) {
  const held = { server: null, browser: null, model: null };
  before(async () => {
    for (const file of ['index.html', 'models/index.json', ...needed]) {
      assert.ok(existsSync(join(DIST_DIR, file)), `${join(DIST_DIR, file)} is missing: build first`);
    }
    if (bin) assert.ok(existsSync(bin), `no native binary at ${bin}: build it first`);
    held.model = JSON.parse(readFileSync(join(DIST_DIR, 'models/index.json'), 'utf8')).default;
    held.server = await serveStatic(DIST_DIR, { prefix });
    held.browser = await launchChromium();
  });
  after(async () => {
    await held.browser?.close();
    await held.server?.close();
  });
  return held;
}

/**
 * Records what must never happen: console errors, uncaught page errors,
 * dialogs (an executed alert()), and requests to any origin but `origin`
 * (workers' requests included: they go through the context). `origin`
 * 'file://' stands for files opened from disk (whose origin is opaque).
 */
export function watchPage(context, page, origin) {
  const problems = { consoleErrors: [], pageErrors: [], dialogs: [], foreignRequests: [], requests: [] };
  // data: and blob: URLs are made by the page itself (a blob: URL of a file:// page has origin "null").
  const local = (url) =>
    url.startsWith('data:') ||
    (origin === 'file://' ? url.startsWith('file:') || url.startsWith('blob:null/') : new URL(url).origin === origin);
  context.on('request', (request) => {
    const url = request.url();
    problems.requests.push(url);
    if (!local(url)) problems.foreignRequests.push(url);
  });
  const onConsole = (message) => {
    if (message.type() === 'error') problems.consoleErrors.push(message.text());
  };
  page.on('console', onConsole);
  page.on('worker', (worker) => worker.on('console', onConsole));
  page.on('pageerror', (error) => problems.pageErrors.push(String(error)));
  page.on('dialog', (dialog) => {
    problems.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  return problems;
}

/**
 * What every browser test ends with: the page (and its workers) logged no
 * console error, threw nothing, opened no dialog and asked no other origin
 * for anything. `problems` comes from watchPage; prints the request count.
 */
export function assertCleanPage(problems, what = 'page') {
  const origins = new Set(problems.requests.filter((url) => !url.startsWith('data:') && !url.startsWith('blob:')).map((url) => new URL(url).origin));
  console.log(`  ${what}: ${problems.requests.length} requests to ${[...origins].join(', ') || 'nowhere'}; ` +
    `${problems.consoleErrors.length} console errors, ${problems.pageErrors.length} page errors`);
  assert.deepEqual(problems.foreignRequests, [], 'no request left the origin');
  assert.deepEqual(problems.consoleErrors, [], 'no console error');
  assert.deepEqual(problems.pageErrors, [], 'no uncaught page error');
  assert.deepEqual(problems.dialogs, [], 'no dialog opened (no script ran)');
}

export function artifactPath(name) {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return join(ARTIFACTS_DIR, name);
}

/**
 * Screenshots of panels at 1280 and 375 px, light and dark, each after
 * checking that the page does not scroll sideways (the overflow printed at
 * 375 px): shots maps a file name stem to a selector; files are
 * test-artifacts/<stem>-<width>-<scheme>.png. Leaves the page at 1280 px, light.
 */
export async function screenshotPanels(page, shots) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const width of [1280, 375]) {
      await page.setViewportSize({ width, height: width === 375 ? 800 : 900 });
      await page.waitForTimeout(300);  // the views redraw on resize
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (width === 375 && scheme === 'light') console.log(`  ${Object.keys(shots).join(', ')} at 375 px: the page overflows by ${overflow} px`);
      assert.ok(overflow <= 0, `no horizontal overflow at ${width} px (${overflow} px)`);
      for (const [stem, selector] of Object.entries(shots))
        await page.locator(selector).screenshot({ path: artifactPath(`${stem}-${width}-${scheme}.png`) });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** Runs `fn`, prints "name: N ms", returns fn's result. */
export async function timed(name, fn) {
  const t0 = performance.now();
  const result = await fn();
  console.log(`  ${name}: ${(performance.now() - t0).toFixed(0)} ms`);
  return result;
}

/**
 * Canvas statistics read in the page: per canvas, how many pixels are
 * painted (alpha > 0) and how many distinct colours they hold.
 */
export async function canvasStats(page, selector) {
  return page.$$eval(selector, (canvases) =>
    canvases.map((canvas) => {
      const { width, height } = canvas;
      const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
      let painted = 0;
      const colours = new Set();
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] === 0) continue;
        painted++;
        colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      }
      return { width, height, painted, colours: colours.size };
    }),
  );
}

/**
 * A GPT-2-shaped model with random weights, as the files the page fetches
 * (config.json, model.safetensors; the tokenizer files of tests/fixtures/tiny-gpt):
 * for testing the page at sizes no shipped model has (e.g. 12 x 12 heads,
 * 256 positions). `attnScale` > 0.02 makes the attention patterns peaky;
 * `embedScale` near 1 makes the predictions peaky (the LM head is wte).
 */
export function randomGptFiles({ n_layer, n_head, n_embd, n_positions, attnScale = 0.35, embedScale = 0.1, seed = 1, vocabSize = 0 }) {
  const fixture = join(REPO_ROOT, 'tests', 'fixtures', 'tiny-gpt');
  const vocab = readFileSync(join(fixture, 'vocab.json'));
  const merges = readFileSync(join(fixture, 'merges.txt'));
  // vocabSize: more embedding rows than the tokenizer's tokens (as nanoGPT pads GPT-2's to 50304), for a large wte.
  const vocab_size = Math.max(vocabSize, Object.keys(JSON.parse(vocab.toString('utf8'))).length);
  const config = {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    activation_function: 'gelu_new',
    n_layer,
    n_head,
    n_embd,
    n_positions,
    n_ctx: n_positions,
    vocab_size,
    layer_norm_epsilon: 1e-5,
    tie_word_embeddings: true,
  };
  const next = mulberry32(seed);
  const uniform = () => next() - 0.5;
  const tensors = [];
  const add = (name, shape, fill) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = fill(i);
    tensors.push({ name, shape, data });
  };
  const noise = (scale) => () => uniform() * 2 * Math.sqrt(3) * scale;
  const ones = () => 1;
  const zeros = () => 0;
  add('wte.weight', [vocab_size, n_embd], noise(embedScale));
  add('wpe.weight', [n_positions, n_embd], noise(0.1));
  for (let l = 0; l < n_layer; l++) {
    add(`h.${l}.ln_1.weight`, [n_embd], ones);
    add(`h.${l}.ln_1.bias`, [n_embd], zeros);
    add(`h.${l}.attn.c_attn.weight`, [n_embd, 3 * n_embd], noise(attnScale));
    add(`h.${l}.attn.c_attn.bias`, [3 * n_embd], zeros);
    add(`h.${l}.attn.c_proj.weight`, [n_embd, n_embd], noise(0.05));
    add(`h.${l}.attn.c_proj.bias`, [n_embd], zeros);
    add(`h.${l}.ln_2.weight`, [n_embd], ones);
    add(`h.${l}.ln_2.bias`, [n_embd], zeros);
    add(`h.${l}.mlp.c_fc.weight`, [n_embd, 4 * n_embd], noise(0.05));
    add(`h.${l}.mlp.c_fc.bias`, [4 * n_embd], zeros);
    add(`h.${l}.mlp.c_proj.weight`, [4 * n_embd, n_embd], noise(0.05));
    add(`h.${l}.mlp.c_proj.bias`, [n_embd], zeros);
  }
  add('ln_f.weight', [n_embd], ones);
  add('ln_f.bias', [n_embd], zeros);
  const header = {};
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let headerJson = JSON.stringify(header);
  headerJson += ' '.repeat((8 - (headerJson.length % 8)) % 8);
  const body = Buffer.alloc(8 + headerJson.length + offset);
  body.writeBigUInt64LE(BigInt(headerJson.length), 0);
  body.write(headerJson, 8, 'utf8');
  let at = 8 + headerJson.length;
  for (const t of tensors) {
    Buffer.from(t.data.buffer).copy(body, at);
    at += t.data.byteLength;
  }
  return {
    config,
    files: {
      'config.json': Buffer.from(JSON.stringify(config)),
      'model.safetensors': body,
      'vocab.json': vocab,
      'merges.txt': merges,
    },
  };
}

/** The heads the grid shows muted (aria-pressed), as "layer.head", in a page or a frame. */
export async function mutedHeads(pageOrFrame) {
  return pageOrFrame.$$eval('[data-role="head-grid"] button.head[aria-pressed="true"]', (buttons) =>
    buttons.map((b) => `${b.dataset.layer}.${b.dataset.head}`),
  );
}

// ---- the predictions panel -------------------------------------------------
// The list carries data-revision (bumped on every repaint), data-probs and
// data-ids (comma-separated), so tests can wait for and compare repaints.
export const PREDICTION_LIST = '[data-role="prediction-list"]';

export async function predictionState(page) {
  return page.$eval(PREDICTION_LIST, (list) => ({
    revision: list.dataset.revision ?? '',
    probs: list.dataset.probs ?? '',
    ids: list.dataset.ids ?? '',
  }));
}

/** Waits until the predictions repaint after `revision`; returns the new state. */
export async function waitForNewPredictions(page, revision, timeout = 30_000) {
  await page.waitForFunction(
    ([selector, previous]) => document.querySelector(selector)?.dataset.revision !== previous,
    [PREDICTION_LIST, revision],
    { timeout },
  );
  return predictionState(page);
}

/**
 * Edit-to-paint measured inside the page: clicks `selector` `rounds` times,
 * each timed from the click to the frame after the predictions repaint
 * (data-revision changes). Returns the times in ms, sorted.
 */
export async function clickToPaintTimes(page, selector, rounds) {
  const times = await page.evaluate(
    async ([buttonSelector, listSelector, n]) => {
      const list = document.querySelector(listSelector);
      const button = document.querySelector(buttonSelector);
      const out = [];
      for (let i = 0; i < n; i++) {
        const previous = list.dataset.revision;
        const t0 = performance.now();
        button.click();
        await new Promise((done) => {
          const observer = new MutationObserver(() => {
            if (list.dataset.revision !== previous) {
              observer.disconnect();
              done();
            }
          });
          observer.observe(list, { attributes: true });
        });
        await new Promise((done) => requestAnimationFrame(() => done()));
        out.push(performance.now() - t0);
      }
      return out;
    },
    [selector, PREDICTION_LIST, rounds],
  );
  return times.sort((a, b) => a - b);
}

/**
 * Head edits while the worker computes something in parts (the copying
 * scores, the syntax probe): clicks head 0.3 `rounds` times (mute, unmute,
 * ...), each timed in the page from the click to the predictions' repaint.
 * Each entry: ms, the computation's state at the repaint (the `stateKey`
 * data attribute of `stateSelector`) and how many parts arrived meanwhile
 * (changes of the `partAttribute` attribute of `partSelector`).
 */
export function editTimesWhileComputing(page, { rounds, stateSelector, stateKey, partSelector, partAttribute }) {
  return page.evaluate(async ([list, stateSel, key, partSel, partAttr, n]) => {
    const listEl = document.querySelector(list);
    const partEl = document.querySelector(partSel);
    const out = [];
    for (let i = 0; i < n; i++) {
      const previous = listEl.dataset.revision;
      let parts = 0;
      const watch = new MutationObserver(() => parts++);
      watch.observe(partEl, { attributes: true, attributeFilter: [partAttr] });
      const t = performance.now();
      document.querySelector('[data-role="head-grid"] button.head[data-layer="0"][data-head="3"]').click();
      await new Promise((done) => {
        const observer = new MutationObserver(() => {
          if (listEl.dataset.revision !== previous) { observer.disconnect(); done(); }
        });
        observer.observe(listEl, { attributes: true });
      });
      out.push({ ms: performance.now() - t, atPaint: document.querySelector(stateSel).dataset[key], parts });
      watch.disconnect();
      // The rest of the pass (the attention) before the next click.
      await new Promise((done) => setTimeout(done, 100));
    }
    return out;
  }, [PREDICTION_LIST, stateSelector, stateKey, partSelector, partAttribute, rounds]);
}

/**
 * Clicks `selector` and follows both messages of a head edit: resolves once
 * every view shows the new pass (the mean-loss line has lost data-pending
 * and the head grid has redrawn). Returns what was seen on the way: whether
 * the bars changed while the mean loss was still pending (the first
 * message), and the bars and mean loss at each step.
 */
export async function clickAndFollowPhases(page, selector, timeout = 30_000) {
  return page.evaluate(
    ([buttonSelector, listSelector, limit]) =>
      new Promise((done, fail) => {
        const list = document.querySelector(listSelector);
        const meanLoss = document.querySelector('[data-role="mean-loss"]');
        const grid = document.querySelector('[data-role="head-grid"]');
        const start = { revision: list.dataset.revision, grid: grid.dataset.revision };
        const seen = { barsWhilePending: false, steps: [] };
        const record = () => {
          const step = {
            revision: list.dataset.revision,
            probs: list.dataset.probs,
            pending: meanLoss.dataset.pending === 'true',
            meanLoss: meanLoss.dataset.after,
            grid: grid.dataset.revision,
          };
          const last = seen.steps.at(-1);
          if (last && JSON.stringify(last) === JSON.stringify(step)) return;
          seen.steps.push(step);
          if (step.revision !== start.revision && step.pending) seen.barsWhilePending = true;
          if (step.revision !== start.revision && !step.pending && step.grid !== start.grid) {
            observer.disconnect();
            clearTimeout(timer);
            done(seen);
          }
        };
        const observer = new MutationObserver(record);
        for (const node of [list, meanLoss, grid]) observer.observe(node, { attributes: true });
        const timer = setTimeout(() => {
          observer.disconnect();
          fail(new Error(`the edit did not settle: ${JSON.stringify(seen)}`));
        }, limit);
        document.querySelector(buttonSelector).click();
      }),
    [selector, PREDICTION_LIST, timeout],
  );
}

/**
 * Everything the page shows of its analysis, as plain data: the bars, the
 * actual-next and mean-loss lines, and each token's loss colour.
 */
export async function shownAnalysis(page) {
  return page.evaluate((listSelector) => {
    const list = document.querySelector(listSelector);
    const actual = document.querySelector('[data-role="actual-next"]');
    const meanLoss = document.querySelector('[data-role="mean-loss"]');
    return {
      probs: list.dataset.probs,
      ids: list.dataset.ids,
      position: list.dataset.position,
      baselines: [...list.querySelectorAll('.prediction')].map((row) => row.dataset.baseline ?? ''),
      actual: `${actual.textContent} ${actual.dataset.delta ?? ''}`,
      meanLoss: `${meanLoss.textContent} ${meanLoss.dataset.before} ${meanLoss.dataset.after}`,
      pending: meanLoss.dataset.pending ?? null,
      tokenColours: [...document.querySelectorAll('[data-role="token-list"] .token')].map((chip) => chip.style.background),
    };
  }, PREDICTION_LIST);
}

/** Largest |a_i - b_i| of two comma-separated number lists. */
export function maxAbsDiff(a, b) {
  const x = a.split(',').map(Number);
  const y = b.split(',').map(Number);
  return Math.max(...x.map((v, i) => Math.abs(v - (y[i] ?? 0))));
}

/**
 * A new page of `context` at `url`, watched for problems (watchPage with
 * `origin`), once its first analysis is drawn (html[data-ready]).
 */
export async function openReadyPage(context, url, origin, timeout = 30_000) {
  const page = await context.newPage();
  const problems = watchPage(context, page, origin);
  await page.goto(url);
  await page.waitForSelector('html[data-ready="true"]', { timeout });
  return { page, problems };
}

/** The page's whole Trace, through its own "Trace as JSON" button (a context with acceptDownloads). */
export async function exportTrace(page) {
  return JSON.parse((await downloadOf(page, 'button[data-export="trace-json"]')).bytes.toString('utf8'));
}

/** A file the page saves when `selector` is clicked: { name, bytes }. */
export async function downloadOf(page, selector) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  return { name: download.suggestedFilename(), bytes: readFileSync(await download.path()) };
}
