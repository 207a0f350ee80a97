// What the page DRAWS, read back from the screen, against the float64
// reference (tests/reference/gpt2-reference.mjs) run on the same weights and
// token ids: every (query, key) cell of every head's canvas in the grid, the
// cell centres of the head detail heatmap, and the widths of the prediction
// bars and their ghosts. The oracle is never the page's own numbers (no
// data-probs, no trace export): a transposed heatmap, a head drawn at another
// head's offset, a layer/head swap in a mute, or a bar of the wrong token
// fails here (each was tried on a page built with the fault). Only stable
// roles and selectors and canvas pixels are read.
//
// Model: random weights (helpers.mjs randomGptFiles), 3 layers x 3 heads, so
// that head 2.1 and head 1.2 both exist and muting one is not muting the other;
// wte at scale 1 makes the predictions peaky, so the bars are long.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { loadReferenceModel, referenceForward } from '../reference/gpt2-reference.mjs';
import { importTs } from '../web/ts-import.mjs';
import {
  DIST_DIR,
  PREDICTION_LIST,
  REPO_ROOT,
  assertCleanPage,
  launchChromium,
  mutedHeads,
  randomGptFiles,
  serveWithModel,
  watchPage,
} from './helpers.mjs';

const { viridis, lutIndex } = await importTs('web/src/views/colormap.ts');

const PREFIX = '/headlight/';
const MODEL = 'random-3x3';
const SHAPE = { n_layer: 3, n_head: 3, n_embd: 48, n_positions: 64 };
const TEXT = 'From the top of the tower she could see the whole bay and the boats.';
const HEADLIGHT = resolve(REPO_ROOT, process.env.HEADLIGHT_BIN ?? 'build/native/headlight');
const GRID = '[data-role="head-grid"]';
const headButton = (layer, head) => `${GRID} button.head[data-layer="${layer}"][data-head="${head}"]`;

let browser;
let server;
let modelDir;
let reference;  // the float64 model
let ids;        // the text's token ids, from the native tokenizer (not the page)

before(async () => {
  for (const needed of ['index.html', 'wasm/headlight.js', 'wasm/headlight.wasm', 'models/index.json']) {
    assert.ok(existsSync(join(DIST_DIR, needed)), `${join(DIST_DIR, needed)} is missing: build first`);
  }
  assert.ok(existsSync(HEADLIGHT), `no native binary at ${HEADLIGHT}: build it first (npm run build:native)`);
  const { files } = randomGptFiles({ ...SHAPE, embedScale: 1, seed: 3 });
  modelDir = mkdtempSync(join(tmpdir(), 'headlight-drawn-'));
  for (const [file, bytes] of Object.entries(files)) writeFileSync(join(modelDir, file), bytes);
  reference = loadReferenceModel(modelDir);
  const tokenized = spawnSync(HEADLIGHT, ['tokenize', '--model', modelDir], { input: TEXT, encoding: 'utf8' });
  assert.equal(tokenized.status, 0, tokenized.stderr);
  ids = tokenized.stdout.trim().split(' ').map(Number);
  server = await serveWithModel(MODEL, files, 'random weights for the drawing tests', { prefix: PREFIX });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (modelDir) rmSync(modelDir, { recursive: true, force: true });
});

// ------------------------------------------------------------ reference --

/** The reference pass with `muted` heads ("layer.head" strings) at gain 0. */
function referenceRun(muted = []) {
  const { n_layer: L, n_head: H } = reference.config;
  const headGains = new Float64Array(L * H).fill(1);
  for (const name of muted) {
    const [layer, head] = name.split('.').map(Number);
    headGains[layer * H + head] = 0;
  }
  return referenceForward(reference, ids, { headGains });
}

/** softmax of the logits at position t: Float64Array (V). */
function probsAt(run, t) {
  const V = reference.config.vocab_size;
  const row = run.logits.subarray(t * V, (t + 1) * V);
  let max = -Infinity;
  for (const x of row) max = Math.max(max, x);
  let sum = 0;
  for (const x of row) sum += Math.exp(x - max);
  return Float64Array.from(row, (x) => Math.exp(x - max) / sum);
}

/** The k most probable ids, most probable first. */
function topIds(probs, k) {
  return [...probs.keys()].sort((a, b) => probs[b] - probs[a]).slice(0, k);
}

// ---------------------------------------------------------------- colour --

// The page computes attention in float32: a weight within ~1e-6 of a LUT
// rounding boundary may land in either neighbouring entry. Both are right.
const EPS = 1e-5;

/** Largest RGB channel distance from `rgb` to the colour(s) viridis gives `value`. */
function colourError(rgb, value) {
  let best = Infinity;
  for (const v of [value - EPS, value, value + EPS]) {
    const i = lutIndex(v) * 3;
    const d = Math.max(...[0, 1, 2].map((c) => Math.abs(rgb[c] - viridis[i + c])));
    best = Math.min(best, d);
  }
  return best;
}

// ---------------------------------------------------------- the screen --

/** Every grid canvas as RGBA bytes, keyed "layer.head" from its button. */
async function gridPixels(page) {
  const heads = await page.$$eval(`${GRID} button.head`, (buttons) =>
    buttons.map((button) => {
      const canvas = button.querySelector('canvas');
      const { width, height } = canvas;
      const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
      return { name: `${button.dataset.layer}.${button.dataset.head}`, width, height, data: Array.from(data) };
    }),
  );
  return new Map(heads.map((h) => [h.name, h]));
}

/**
 * Compares each grid canvas (one pixel per cell) with viridis of the
 * reference attention: drawn cells (key <= query) opaque in the right colour,
 * future cells transparent. Returns the worst colour error and counts.
 */
function compareGrid(pixels, run) {
  const { n_layer: L, n_head: H } = reference.config;
  const T = ids.length;
  let maxError = 0;
  let cells = 0;
  let futureOpaque = 0;
  for (let layer = 0; layer < L; layer++) {
    for (let head = 0; head < H; head++) {
      const canvas = pixels.get(`${layer}.${head}`);
      assert.ok(canvas, `the grid has head ${layer}.${head}`);
      assert.equal(canvas.width, T, `head ${layer}.${head}: one pixel per key`);
      assert.equal(canvas.height, T, `head ${layer}.${head}: one pixel per query`);
      for (let query = 0; query < T; query++) {
        for (let key = 0; key < T; key++) {
          const p = (query * T + key) * 4;
          const rgba = canvas.data.slice(p, p + 4);
          if (key > query) {
            if (rgba[3] !== 0) futureOpaque++;
            continue;
          }
          const value = run.attn[((layer * H + head) * T + query) * T + key];
          maxError = Math.max(maxError, rgba[3] === 255 ? colourError(rgba, value) : 255);
          cells++;
        }
      }
    }
  }
  return { maxError, cells, futureOpaque };
}

/**
 * The head detail heatmap, sampled at the centre of every cell (the canvas
 * is scaled by devicePixelRatio; the cell grid comes from the geometry the
 * view publishes for hit tests). Returns the title and the sampled RGBA, [T][T].
 */
async function detailCells(page) {
  return page.evaluate(() => {
    const canvas = document.querySelector('[data-role="detail-canvas"]');
    const g = JSON.parse(canvas.dataset.geometry);
    const scale = canvas.width / canvas.getBoundingClientRect().width;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const cells = [];
    for (let query = 0; query < g.T; query++) {
      const row = [];
      for (let key = 0; key < g.T; key++) {
        const x = Math.floor((g.x0 + (key + 0.5) * g.cell) * scale);
        const y = Math.floor((g.y0 + (query + 0.5) * g.cell) * scale);
        const p = (y * canvas.width + x) * 4;
        row.push([data[p], data[p + 1], data[p + 2], data[p + 3]]);
      }
      cells.push(row);
    }
    return {
      title: document.querySelector('[data-role="detail-title"]').textContent,
      kind: g.kind,
      T: g.T,
      cellPx: g.cell * scale,
      cells,
    };
  });
}

function compareDetail(detail, run, layer, head) {
  const { n_head: H } = reference.config;
  const T = ids.length;
  assert.equal(detail.title, `Head ${layer}.${head}`);
  assert.equal(detail.kind, 'heatmap');
  assert.equal(detail.T, T);
  assert.ok(detail.cellPx >= 4, `cells are big enough to sample their centres (${detail.cellPx.toFixed(1)} px)`);
  let maxError = 0;
  const future = new Set();
  for (let query = 0; query < T; query++) {
    for (let key = 0; key < T; key++) {
      const rgba = detail.cells[query][key];
      if (key > query) {
        future.add(rgba.join(','));
        continue;
      }
      const value = run.attn[((layer * H + head) * T + query) * T + key];
      maxError = Math.max(maxError, colourError(rgba, value));
    }
  }
  return { maxError, futureColours: future.size };
}

/**
 * The prediction bars as drawn: each row's bar and ghost width as a fraction
 * of its track (getBoundingClientRect sees the scaleX transform), and the
 * token id its tooltip names.
 */
async function drawnBars(page) {
  return page.$$eval(`${PREDICTION_LIST} .prediction:not(.is-empty)`, (rows) =>
    rows.map((row) => {
      const track = row.querySelector('.bar-track').getBoundingClientRect().width;
      const ghost = row.querySelector('.bar-ghost');
      return {
        id: Number(/\bid (\d+)\b/.exec(row.title)?.[1] ?? NaN),
        width: row.querySelector('.bar').getBoundingClientRect().width / track,
        ghost: ghost.hidden ? null : ghost.getBoundingClientRect().width / track,
        trackPx: track,
      };
    }),
  );
}

/**
 * Bars against the reference at the last position: the ids in order of the
 * reference's top-k, widths = probabilities; ghosts (when shown) = the
 * unedited reference's probability of the same token.
 */
function compareBars(bars, run, baseline) {
  const t = ids.length - 1;
  const probs = probsAt(run, t);
  const baseProbs = probsAt(baseline, t);
  const expected = topIds(probs, bars.length);
  assert.equal(bars.length, 5, 'five bars');
  assert.deepEqual(bars.map((b) => b.id), expected, 'the bars name the reference top-5, most probable first');
  let maxWidthError = 0;
  let maxGhostError = 0;
  for (const bar of bars) {
    maxWidthError = Math.max(maxWidthError, Math.abs(bar.width - probs[bar.id]));
    if (bar.ghost !== null) maxGhostError = Math.max(maxGhostError, Math.abs(bar.ghost - baseProbs[bar.id]));
  }
  return { maxWidthError, maxGhostError, trackPx: bars[0].trackPx, top: probs[expected[0]] };
}

// Width of a bar in track fractions: half a CSS pixel of a >= 100 px track
// (layout rounds to 1/64 px; the probabilities differ from float32 by ~1e-7).
const WIDTH_TOLERANCE = 0.005;

async function openPage(context, hash) {
  const page = await context.newPage();
  const problems = watchPage(context, page, server.origin);
  await page.goto(`${server.url}#model=${MODEL}&text=${encodeURIComponent(TEXT)}${hash}`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 30_000 });
  const T = Number(await page.$eval('[data-role="token-list"]', (el) => el.dataset.count));
  assert.equal(T, ids.length, 'the page ran the ids the native tokenizer gives');
  return { page, problems };
}

/** Waits until the detail canvas shows `name` ("layer.head") drawn over T tokens. */
async function waitForDetail(page, name) {
  await page.waitForFunction(
    ([title]) => {
      const canvas = document.querySelector('[data-role="detail-canvas"]');
      return document.querySelector('[data-role="detail-title"]')?.textContent === title && canvas?.dataset.geometry;
    },
    [`Head ${name}`],
  );
  // A resize of the frame redraws on the next animation frame: let it land.
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
}

/**
 * Makes a head edit with `act` and waits until it is drawn everywhere: the
 * bars show their ghosts, the mean loss is no longer pending and the grid
 * has redrawn.
 */
async function editAndSettle(page, act) {
  const revision = await page.$eval(GRID, (grid) => grid.dataset.revision);
  await act();
  await page.waitForFunction(
    ([list, before]) =>
      document.querySelectorAll(`${list} .bar-ghost:not([hidden])`).length === 5 &&
      document.querySelector('[data-role="mean-loss"]').dataset.pending === undefined &&
      document.querySelector('[data-role="head-grid"]').dataset.revision !== before,
    [PREDICTION_LIST, revision],
  );
}

test('the drawn grid, detail heatmap and bars match the float64 reference', async (t) => {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 2,
    reducedMotion: 'reduce',  // bars jump to their width: no transition to wait out
  });
  try {
    const { page, problems } = await openPage(context, '&head=2.1');
    const plain = referenceRun();
    const { n_layer: L, n_head: H } = reference.config;
    const T = ids.length;

    await t.test('every grid cell of every head is viridis of the reference attention', async () => {
      const result = compareGrid(await gridPixels(page), plain);
      // How different the heads are: a picture drawn at another head's offset would differ this much.
      let minHeadDistance = Infinity;
      for (let a = 0; a < L * H; a++) {
        for (let b = a + 1; b < L * H; b++) {
          let d = 0;
          for (let i = 0; i < T * T; i++) d = Math.max(d, Math.abs(plain.attn[a * T * T + i] - plain.attn[b * T * T + i]));
          minHeadDistance = Math.min(minHeadDistance, d);
        }
      }
      console.log(
        `  grid: ${result.cells} cells of ${L * H} heads x ${T} tokens, max colour error ${result.maxError} ` +
          `(of 255), ${result.futureOpaque} future cells painted; closest two heads differ by ${minHeadDistance.toFixed(3)} in weight`,
      );
      assert.equal(result.maxError, 0, 'each cell holds exactly its LUT colour');
      assert.equal(result.futureOpaque, 0, 'future cells stay transparent');
      assert.ok(minHeadDistance > 0.05, 'the heads are told apart by their pictures');
    });

    await t.test('the detail heatmap of head 2.1, then 1.2, at the reference colours', async () => {
      // 2.1 and its transpose-in-name 1.2: a layer/head swap draws the other one.
      let asymmetry = 0;
      for (let i = 0; i < T * T; i++) {
        asymmetry = Math.max(asymmetry, Math.abs(plain.attn[(2 * H + 1) * T * T + i] - plain.attn[(1 * H + 2) * T * T + i]));
      }
      await waitForDetail(page, '2.1');
      const first = compareDetail(await detailCells(page), plain, 2, 1);
      await page.click(`${GRID} button.head-select[data-layer="1"][data-head="2"]`);
      await waitForDetail(page, '1.2');
      const second = compareDetail(await detailCells(page), plain, 1, 2);
      console.log(
        `  detail: head 2.1 max colour error ${first.maxError}, head 1.2 max colour error ${second.maxError} ` +
          `(of 255, ${T}x${T} cell centres); future cells in ${first.futureColours}/${second.futureColours} colour; ` +
          `heads 2.1 and 1.2 differ by ${asymmetry.toFixed(3)} in weight`,
      );
      assert.ok(asymmetry > 0.05, 'heads 2.1 and 1.2 draw different pictures');
      assert.ok(first.maxError <= 1 && second.maxError <= 1, 'each cell centre holds its LUT colour');
      assert.equal(first.futureColours, 1, 'the future is one flat colour');
      assert.equal(second.futureColours, 1, 'the future is one flat colour');
    });

    await t.test('the bars are as wide as the reference probabilities', async () => {
      const result = compareBars(await drawnBars(page), plain, plain);
      console.log(
        `  bars: max width error ${result.maxWidthError.toExponential(2)} of a ${result.trackPx.toFixed(0)} px track ` +
          `(top probability ${result.top.toFixed(4)})`,
      );
      assert.ok(result.maxWidthError < WIDTH_TOLERANCE);
    });

    await t.test('muting head 2.1 draws the reference with 2.1 muted (not 1.2)', async () => {
      const muted = referenceRun(['2.1']);
      const swapped = referenceRun(['1.2']);
      const last = ids.length - 1;
      const p21 = probsAt(muted, last);
      const p12 = probsAt(swapped, last);
      const p = probsAt(plain, last);
      let swapGap = 0;
      let muteEffect = 0;
      for (let v = 0; v < p.length; v++) {
        swapGap = Math.max(swapGap, Math.abs(p21[v] - p12[v]));
        muteEffect = Math.max(muteEffect, Math.abs(p21[v] - p[v]));
      }
      await editAndSettle(page, () => page.click(headButton(2, 1)));
      assert.deepEqual(await mutedHeads(page), ['2.1'], 'head 2.1, and only it, shows muted');
      const bars = compareBars(await drawnBars(page), muted, plain);
      const grid = compareGrid(await gridPixels(page), muted);
      console.log(
        `  mute 2.1: bars max width error ${bars.maxWidthError.toExponential(2)}, ghosts ${bars.maxGhostError.toExponential(2)}; ` +
          `grid max colour error ${grid.maxError}; reference p moves by up to ${muteEffect.toFixed(4)} and ` +
          `muting 1.2 instead would differ by ${swapGap.toFixed(4)}`,
      );
      assert.ok(swapGap > 4 * WIDTH_TOLERANCE, 'muting 1.2 would draw visibly different bars');
      assert.ok(muteEffect > 4 * WIDTH_TOLERANCE, 'a page that ignored the mute would draw visibly different bars');
      assert.ok(bars.maxWidthError < WIDTH_TOLERANCE);
      assert.ok(bars.maxGhostError < WIDTH_TOLERANCE, 'the ghosts show the unedited reference');
      assert.equal(grid.maxError, 0);
    });

    await t.test('a fresh page opened on muted=2.1 draws the same reference', async () => {
      const { page: fresh, problems: freshProblems } = await openPage(context, '&muted=2.1&head=1.2');
      const muted = referenceRun(['2.1']);
      await waitForDetail(fresh, '1.2');
      const bars = compareBars(await drawnBars(fresh), muted, plain);
      const grid = compareGrid(await gridPixels(fresh), muted);
      const detail = compareDetail(await detailCells(fresh), muted, 1, 2);
      console.log(
        `  fresh page, muted=2.1: bars max width error ${bars.maxWidthError.toExponential(2)}, ghosts ${bars.maxGhostError.toExponential(2)}; ` +
          `grid max colour error ${grid.maxError}; detail 1.2 max colour error ${detail.maxError}`,
      );
      assert.ok(bars.maxWidthError < WIDTH_TOLERANCE);
      assert.ok(bars.maxGhostError < WIDTH_TOLERANCE);
      assert.equal(grid.maxError, 0);
      assert.ok(detail.maxError <= 1);
      assertCleanPage(freshProblems, 'fresh page');
    });

    await t.test('keyboard: arrows to 2.1, Space mutes it, Enter shows it; drawn as the reference', async () => {
      const { page: keys, problems: keyProblems } = await openPage(context, '');
      await keys.click('[data-role="text-input"]');
      let reached = false;
      for (let i = 0; i < 80 && !reached; i++) {
        await keys.keyboard.press('Tab');
        reached = await keys.evaluate((grid) => document.querySelector(grid).contains(document.activeElement), GRID);
      }
      assert.ok(reached, 'Tab reaches the head grid');
      // From wherever the grid's focus is: top row, first head, then 2 down and 1 right.
      for (let i = 0; i < SHAPE.n_layer; i++) await keys.keyboard.press('ArrowUp');
      for (const key of ['Home', 'ArrowDown', 'ArrowDown', 'ArrowRight']) await keys.keyboard.press(key);
      const focused = await keys.evaluate(() => `${document.activeElement.dataset.layer}.${document.activeElement.dataset.head}`);
      assert.equal(focused, '2.1', 'two rows down is layer 2, one column right is head 1');
      await editAndSettle(keys, () => keys.keyboard.press('Space'));
      assert.deepEqual(await mutedHeads(keys), ['2.1'], 'Space muted head 2.1');
      await keys.keyboard.press('Enter');
      await waitForDetail(keys, '2.1');
      const muted = referenceRun(['2.1']);
      const bars = compareBars(await drawnBars(keys), muted, plain);
      const detail = compareDetail(await detailCells(keys), muted, 2, 1);
      console.log(
        `  keyboard mute 2.1: bars max width error ${bars.maxWidthError.toExponential(2)}, ` +
          `ghosts ${bars.maxGhostError.toExponential(2)}; detail 2.1 max colour error ${detail.maxError}`,
      );
      assert.ok(bars.maxWidthError < WIDTH_TOLERANCE);
      assert.ok(bars.maxGhostError < WIDTH_TOLERANCE);
      assert.ok(detail.maxError <= 1);
      assertCleanPage(keyProblems, 'keyboard page');
    });

    assertCleanPage(problems);
  } finally {
    await context.close();
  }
});
