// The full page's views in real Chromium: grid, mute, URL state and reload,
// solo, per-layer mute, keyboard-only use, head detail (hover values, line
// view, gain slider), exports, hostile text, malformed links, and
// screenshots of each view at 1280 and 375 px. Serves HEADLIGHT_DIST
// (default web/dist/) under a sub-path; prints the figures it checks.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  DIST_DIR,
  PREDICTION_LIST,
  artifactPath,
  assertCleanPage,
  canvasStats,
  clickAndFollowPhases,
  clickToPaintTimes,
  exportTrace,
  launchChromium,
  maxAbsDiff,
  mutedHeads,
  openReadyPage,
  predictionState,
  randomGptFiles,
  serveStatic,
  serveWithModel,
  shownAnalysis,
  timed,
  waitForNewPredictions,
  watchPage,
} from './helpers.mjs';

const DIST = DIST_DIR;  // HEADLIGHT_DIST or web/dist (helpers.mjs)
const PREFIX = '/headlight/';
const HOSTILE = '<img src=x onerror=alert(1)>';
const READY_TIMEOUT_MS = 30_000;
const LIST = PREDICTION_LIST;
const head = (layer, h) => `[data-role="head-grid"] button.head[data-layer="${layer}"][data-head="${h}"]`;

let browser;
let server;
let config;

before(async () => {
  for (const needed of ['index.html', 'wasm/headlight.js', 'wasm/headlight.wasm', 'models/index.json']) {
    assert.ok(existsSync(join(DIST, needed)), `${join(DIST, needed)} is missing: build first`);
  }
  const index = JSON.parse(readFileSync(join(DIST, 'models/index.json'), 'utf8'));
  config = JSON.parse(readFileSync(join(DIST, `models/${index.default}/config.json`), 'utf8'));
  server = await serveStatic(DIST, { prefix: PREFIX });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const hashOf = (page) => page.evaluate(() => decodeURIComponent(window.location.hash));
// An edit's URL is written once its predictions are drawn, a frame after the
// bars may show: wait for it.
async function hashWhen(page, regex, { absent = false } = {}) {
  await page.waitForFunction(
    ([source, flags, negate]) => new RegExp(source, flags).test(decodeURIComponent(window.location.hash)) !== negate,
    [regex.source, regex.flags, absent],
  );
  return hashOf(page);
}
const pressed = (page, selector) => page.getAttribute(selector, 'aria-pressed');

const openPage = (context, url) => openReadyPage(context, url, server.origin, READY_TIMEOUT_MS);

test('the views, end to end in Chromium', async (t) => {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    colorScheme: 'light',
    acceptDownloads: true,
  });
  const { page, problems } = await timed('navigation to the interactive page', () => openPage(context, server.url));
  const { n_layer: L, n_head: H } = config;
  console.log(`  model: ${L} layers x ${H} heads`);

  await t.test('the grid draws every head and the detail view draws the selected one', async () => {
    const stats = await canvasStats(page, '[data-role="head-grid"] canvas');
    assert.equal(stats.length, L * H);
    const T = Number(await page.$eval('[data-role="token-list"]', (el) => el.dataset.count));
    for (const [i, s] of stats.entries()) {
      assert.equal(s.painted, (T * (T + 1)) / 2, `head canvas ${i} paints the causal triangle of ${T} tokens`);
      assert.ok(s.colours >= 2, `head canvas ${i} is not flat (${s.colours} colours)`);
    }
    const [detailStats] = await canvasStats(page, '[data-role="detail-canvas"]');
    assert.ok(detailStats.colours > 20, `the detail canvas holds a picture (${detailStats.colours} colours)`);
    console.log(`  ${stats.length} head canvases of ${T}x${T}, detail canvas ${detailStats.width}x${detailStats.height} with ${detailStats.colours} colours`);
    const hash = await hashOf(page);
    assert.equal(hash, `#model=${await page.$eval('[data-role="model-picker"]', (s) => s.value)}`, 'a fresh page stores only the model');
  });

  let mutedProbs;
  await t.test('muting a head changes the predictions and the URL; reloading restores both', async () => {
    const before = await predictionState(page);
    // Both messages of the edit: the bars first (the mean loss still
    // pending), then the mean loss and the attention views.
    const phases = await clickAndFollowPhases(page, head(0, 0));
    console.log(`  mute 0.0, as shown: ${phases.steps.map((s) => `bars r${s.revision}${s.pending ? ' (mean loss pending)' : ` mean loss ${Number(s.meanLoss).toFixed(3)}`} grid r${s.grid}`).join(' -> ')}`);
    assert.ok(phases.barsWhilePending, 'the bars were drawn before the mean loss (two phases)');
    const after = await predictionState(page);
    const change = maxAbsDiff(before.probs, after.probs);
    console.log(`  mute 0.0: max |delta p| top-5 = ${change.toExponential(3)}`);
    assert.ok(change > 1e-6 || before.ids !== after.ids, 'predictions change');
    const hash = await hashOf(page);
    console.log(`  URL hash: ${hash}`);
    assert.match(hash, /(^#|&)muted=0\.0(&|$)/);
    // Ghost bars and the before/after loss appear with an edit.
    const meanLoss = await page.$eval('[data-role="mean-loss"]', (el) => ({ ...el.dataset, text: el.textContent }));
    assert.notEqual(meanLoss.before, meanLoss.after, `mean loss differs with an edit: ${meanLoss.text}`);
    const ghosts = await page.$$eval('.bar-ghost', (g) => g.filter((x) => !x.hidden).length);
    assert.equal(ghosts, 5, 'five ghost bars show the unedited model');
    console.log(`  ${meanLoss.text}`);
    mutedProbs = after.probs;
    const shown = await shownAnalysis(page);
    assert.equal(shown.pending, null);

    // A fresh load of the same URL runs the edit as one full pass: the page
    // after both phases of the rerun shows the same figures, bit for bit.
    const url = page.url();
    await page.reload();
    await page.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS });
    assert.equal(page.url(), url, 'the URL survives the reload');
    assert.deepEqual(await mutedHeads(page), ['0.0'], 'the same head is muted after the reload');
    const reloaded = await predictionState(page);
    assert.equal(reloaded.probs, mutedProbs, 'the same predictions after the reload, bit for bit');
    assert.deepEqual(await shownAnalysis(page), shown, 'the same bars, ghost bars, losses and token colours as a fresh load');
    assert.ok(await page.isVisible('[data-role="edit-list"] .edit'), 'the edits panel lists the edit');
  });

  await t.test('shift-click solos a head; shift-click again gives the edits back', async () => {
    const target = head(L - 1, H - 1);
    let before = await predictionState(page);
    await page.click(target, { modifiers: ['Shift'] });
    let after = await waitForNewPredictions(page, before.revision);
    const muted = await mutedHeads(page);
    assert.equal(muted.length, L * H - 1, 'every other head is muted');
    assert.equal(await pressed(page, target), 'false', 'the solo head plays');
    console.log(`  solo ${L - 1}.${H - 1}: ${muted.length} heads muted, top-5 ${after.probs.split(',').map((p) => Number(p).toFixed(3)).join(' ')}`);
    before = after;
    await page.click(target, { modifiers: ['Shift'] });
    after = await waitForNewPredictions(page, before.revision);
    assert.deepEqual(await mutedHeads(page), ['0.0'], 'un-solo restores the edits from before');
    assert.equal(after.probs, mutedProbs);
  });

  await t.test('the per-layer button mutes and unmutes a whole layer', async () => {
    const layerButton = '[data-role="head-grid"] button.layer-mute[data-layer="0"]';
    let before = await predictionState(page);
    await page.click(layerButton);
    await waitForNewPredictions(page, before.revision);
    const muted = await mutedHeads(page);
    assert.deepEqual(muted, Array.from({ length: H }, (_, h) => `0.${h}`), 'all of layer 0 is muted');
    assert.equal(await pressed(page, layerButton), 'true');
    assert.match(await hashWhen(page, new RegExp(`muted=${Array.from({ length: H }, (_, h) => `0\\.${h}`).join(',')}`)), /muted=/);
    before = await predictionState(page);
    await page.click(layerButton);
    await waitForNewPredictions(page, before.revision);
    assert.deepEqual(await mutedHeads(page), [], 'layer 0 unmuted');
    assert.doesNotMatch(await hashWhen(page, /(^#|&)muted=/, { absent: true }), /muted=/, 'no muted head in the URL');
  });

  await t.test('keyboard only: Tab into the grid, arrows, Space mutes, Enter selects', async () => {
    await page.click('[data-role="text-input"]');
    let reached = false;
    for (let i = 0; i < 80 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.querySelector('[data-role="head-grid"]').contains(document.activeElement));
    }
    assert.ok(reached, 'Tab reaches the head grid');
    // The grid remembers its last focus (a head or a layer button): go to head 0.0.
    const start = await page.evaluate(() => `${document.activeElement.className} ${document.activeElement.dataset.layer}.${document.activeElement.dataset.head ?? '-'}`);
    for (let i = 0; i < L; i++) await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Home');
    assert.equal(await page.evaluate(() => `${document.activeElement.dataset.layer}.${document.activeElement.dataset.head}`), '0.0');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    const focused = await page.evaluate(() => `${document.activeElement.dataset.layer}.${document.activeElement.dataset.head}`);
    const expected = `${Math.min(1, L - 1)}.${Math.min(1, H - 1)}`;
    assert.equal(focused, expected, `arrows move the focus from ${start} to ${expected}`);
    const ring = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.equal(ring, 'solid', 'the focused head shows a focus ring');
    const before = await predictionState(page);
    await page.keyboard.press('Space');
    const after = await waitForNewPredictions(page, before.revision);
    assert.deepEqual(await mutedHeads(page), [expected], 'Space muted the focused head');
    assert.ok(maxAbsDiff(before.probs, after.probs) > 1e-6 || before.ids !== after.ids, 'predictions change');
    await page.keyboard.press('Enter');
    await page.waitForFunction((name) => document.querySelector('[data-role="detail-title"]').textContent === `Head ${name}`, expected);
    assert.deepEqual(await mutedHeads(page), [expected], 'Enter selects without muting');
    assert.match(await hashOf(page), new RegExp(`head=${expected.replace('.', '\\.')}`));
    await page.screenshot({ path: artifactPath('views-1280-keyboard.png') });
    await page.keyboard.press('Space');
    await waitForNewPredictions(page, after.revision);
    assert.deepEqual(await mutedHeads(page), []);
    console.log(`  keyboard: Tab to ${start}, arrows to ${expected}, Space muted it, Enter selected it`);
  });

  await t.test('head detail: hover shows exact weights (a row sums to 1), future cells say so', async () => {
    await page.locator('[data-role="detail-canvas"]').scrollIntoViewIfNeeded();
    const geometry = JSON.parse(await page.getAttribute('[data-role="detail-canvas"]', 'data-geometry'));
    assert.equal(geometry.kind, 'heatmap');
    const box = await page.$eval('[data-role="detail-canvas"]', (c) => {
      const r = c.getBoundingClientRect();
      return { x: r.x, y: r.y };
    });
    const q = geometry.T - 1;
    let sum = 0;
    for (let k = 0; k <= q; k++) {
      await page.mouse.move(box.x + geometry.x0 + (k + 0.5) * geometry.cell, box.y + geometry.y0 + (q + 0.5) * geometry.cell);
      const weight = await page.$eval('.tooltip .tooltip-value', (el) => Number(el.dataset.weight));
      assert.ok(weight >= 0 && weight <= 1, `weight ${weight}`);
      sum += weight;
    }
    console.log(`  hovered ${q + 1} cells of query row ${q}: weights sum to ${sum.toFixed(6)}`);
    assert.ok(Math.abs(sum - 1) < 1e-4, `an attention row sums to 1 (got ${sum})`);
    if (geometry.T > 1) {
      await page.mouse.move(box.x + geometry.x0 + (geometry.T - 0.5) * geometry.cell, box.y + geometry.y0 + 0.5 * geometry.cell);
      assert.match(await page.textContent('.tooltip .tooltip-value'), /future/);
    }
    await page.screenshot({ path: artifactPath('views-1280-detail-hover.png') });
    await page.mouse.move(1, 1);
  });

  await t.test('the line view toggles, and hovering a token highlights its lines', async () => {
    const before = await canvasStats(page, '[data-role="detail-canvas"]');
    await page.click('[data-role="view-toggle"] button[data-view="lines"]');
    await page.waitForSelector('[data-role="detail-canvas"][data-view="lines"]');
    await page.waitForFunction(() => JSON.parse(document.querySelector('[data-role="detail-canvas"]').dataset.geometry).kind === 'lines');
    assert.match(await hashOf(page), /view=lines/);
    const geometry = JSON.parse(await page.getAttribute('[data-role="detail-canvas"]', 'data-geometry'));
    const lines = await canvasStats(page, '[data-role="detail-canvas"]');
    assert.notDeepEqual(lines, before, 'the canvas shows a different picture');
    await page.locator('[data-role="detail-canvas"]').scrollIntoViewIfNeeded();
    const box = await page.$eval('[data-role="detail-canvas"]', (c) => c.getBoundingClientRect().toJSON());
    const last = Math.min(geometry.T - 1, Math.floor((900 - box.y - geometry.y0) / geometry.row) - 1);
    await page.mouse.move(box.x + geometry.leftX - 8, box.y + geometry.y0 + (last + 0.5) * geometry.row);
    await page.waitForSelector(`[data-role="detail-canvas"][data-focus="query:${last}"]`);
    await page.screenshot({ path: artifactPath('views-1280-lines.png'), fullPage: true });
    await page.locator('[data-panel="detail"]').screenshot({ path: artifactPath('views-1280-panel-lines.png') });
    await page.mouse.move(1, 1);
    await page.click('[data-role="view-toggle"] button[data-view="heatmap"]');
    await page.waitForSelector('[data-role="detail-canvas"][data-view="heatmap"]');
    console.log(`  line view: ${geometry.T} query and key tokens, ${lines[0].colours} colours; hover highlighted query ${last}`);
  });

  await t.test('the gain slider changes the predictions and the URL', async () => {
    const before = await predictionState(page);
    const selected = (await page.textContent('[data-role="detail-title"]')).replace('Head ', '');
    await page.$eval('[data-role="gain-slider"]', (slider) => {
      slider.value = '2';
      slider.dispatchEvent(new Event('input', { bubbles: true }));
    });
    const after = await waitForNewPredictions(page, before.revision);
    const change = maxAbsDiff(before.probs, after.probs);
    console.log(`  gain of head ${selected} to 2: max |delta p| = ${change.toExponential(3)}, output "${await page.textContent('[data-role="gain-value"]')}"`);
    assert.ok(change > 1e-6 || before.ids !== after.ids);
    assert.match(await hashWhen(page, new RegExp(`gain=${selected.replace('.', '\\.')}:2`)), /gain=/);
    assert.equal(await page.textContent(`${head(...selected.split('.'))} .head-state`), '×2');
  });

  await t.test('tokens: colour by attention, click a token to select the query', async () => {
    await page.click('[data-role="color-mode"] button[data-mode="attention"]');
    const chips = await page.$$('[data-role="token-list"] .token');
    await chips[1].click();
    await page.waitForFunction(() => document.querySelector('[data-role="prediction-list"]').dataset.position === '1');
    const colours = await page.$$eval('[data-role="token-list"] .token', (c) => c.map((x) => x.style.background));
    assert.ok(colours[0] && colours[1], 'tokens up to the query are coloured');
    assert.ok(colours.slice(2).every((c) => c === ''), 'tokens after the query are not');
    const hash = await hashOf(page);
    assert.match(hash, /pos=1/);
    assert.match(hash, /color=attention/);
    await page.locator('[data-panel="tokens"]').screenshot({ path: artifactPath('views-1280-panel-tokens-attention.png') });
    await page.click('[data-role="color-mode"] button[data-mode="loss"]');
    console.log(`  query position 1 selected; hash ${hash}`);
  });

  await t.test('export buttons download PNG, SVG and JSON files', async () => {
    const files = {};
    for (const kind of ['head-png', 'head-svg', 'grid-png', 'trace-json']) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click(`button[data-export="${kind}"]`)]);
      const path = await download.path();
      const bytes = readFileSync(path);
      files[kind] = { name: download.suggestedFilename(), bytes };
      console.log(`  ${kind}: ${download.suggestedFilename()} (${bytes.length} bytes)`);
    }
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.ok(files['head-png'].bytes.subarray(0, 8).equals(png) && files['head-png'].name.endsWith('.png'));
    assert.ok(files['grid-png'].bytes.subarray(0, 8).equals(png) && files['grid-png'].name.endsWith('.png'));
    const svg = files['head-svg'].bytes.toString('utf8');
    assert.match(svg, /^<\?xml[^>]*>\s*<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const T = Number(await page.$eval('[data-role="token-list"]', (el) => el.dataset.count));
    assert.equal((svg.match(/<rect [^>]*data-weight/g) ?? []).length, (T * (T + 1)) / 2, 'one rect per visible cell');
    const trace = JSON.parse(files['trace-json'].bytes.toString('utf8'));
    assert.deepEqual(trace.attn.shape, [L, H, T, T]);
    assert.equal(trace.attn.data.length, L * H * T * T);
    assert.equal(trace.tokens.length, T);
  });

  await t.test('hostile text renders as text everywhere', async () => {
    const before = await predictionState(page);
    await page.fill('[data-role="text-input"]', HOSTILE);
    await waitForNewPredictions(page, before.revision);
    const rendered = await page.evaluate(() => ({
      images: document.querySelectorAll('img').length,
      chips: [...document.querySelectorAll('[data-role="token-list"] .token')].map((c) => c.dataset.text).join(''),
    }));
    assert.equal(rendered.images, 0);
    assert.equal(rendered.chips, HOSTILE);
    assertCleanPage(problems);
    assert.ok((await hashOf(page)).includes("text=<img+src=x+onerror=alert(1)>"), "the text is in the URL");
  });

  await t.test('screenshots of each view at 1280 and 375 px, light and dark', async () => {
    await page.click('[data-preset="name"]');
    await page.waitForFunction(() => !document.documentElement.dataset.stale);
    await page.click(head(0, Math.min(1, H - 1)));
    await page.waitForTimeout(300);
    await page.screenshot({ path: artifactPath('views-1280-light.png'), fullPage: true });
    for (const panel of ['text', 'tokens', 'predictions', 'heads', 'detail', 'edits', 'export']) {
      await page.locator(`[data-panel="${panel}"]`).screenshot({ path: artifactPath(`views-1280-panel-${panel}.png`) });
    }
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForTimeout(200);
    await page.screenshot({ path: artifactPath('views-1280-dark.png'), fullPage: true });
    await page.setViewportSize({ width: 375, height: 800 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page fits 375 px (overflows by ${overflow} px)`);
    await page.screenshot({ path: artifactPath('views-375-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
    await page.waitForTimeout(200);
    await page.screenshot({ path: artifactPath('views-375-light.png'), fullPage: true });
    for (const panel of ['heads', 'detail', 'predictions']) {
      await page.locator(`[data-panel="${panel}"]`).screenshot({ path: artifactPath(`views-375-panel-${panel}.png`) });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  await t.test('no layout shift when the predictions update', async () => {
    const boxes = () =>
      page.$$eval('[data-panel]', (panels) => panels.filter((p) => !p.hidden).map((p) => {
        const r = p.getBoundingClientRect();
        return `${p.dataset.panel}:${Math.round(r.x)},${Math.round(r.y)},${Math.round(r.width)},${Math.round(r.height)}`;
      }));
    await page.waitForTimeout(300);  // the viewport just changed back to 1280 px
    // An edit that changes predictions, losses and token colours but not the
    // length of the edits list: scale the head muted above.
    await page.click(`[data-role="head-grid"] .head-select[data-layer="0"][data-head="${Math.min(1, H - 1)}"]`);
    await page.waitForTimeout(100);
    const first = await boxes();
    const before = await predictionState(page);
    await page.$eval('[data-role="gain-slider"]', (slider) => {
      slider.value = '1.5';
      slider.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await waitForNewPredictions(page, before.revision);
    await page.waitForTimeout(200);
    assert.deepEqual(await boxes(), first, 'no panel moved or resized');
  });

  await t.test('no console error, no page error, no request off the origin', () => {
    assertCleanPage(problems);
  });
  await context.close();
});

test('a malformed link is ignored part by part, with a notice naming each part', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const hash = '#muted=0.1,x.y&bogus=1&view=sideways&gain=0.0:7&pos=-3&hide=edits,nothing&text=still%20works&color=attention&head=99.0';
  const { page, problems } = await openPage(context, `${server.url}${hash}`);
  try {
    await page.waitForSelector('[data-role="url-notice"]', { state: 'visible' });
    const notice = await page.textContent('[data-role="url-notice"]');
    console.log(`  notice: ${notice}`);
    await page.waitForFunction(() => document.querySelector('[data-role="url-notice"]').textContent.includes('99.0'));
    const notice2 = await page.textContent('[data-role="url-notice"]');
    for (const part of ['bogus', 'view', 'muted', 'gain', 'pos', 'hide', 'head 99.0']) {
      assert.ok(notice2.includes(part), `the notice names "${part}"`);
    }
    // The good parts still apply.
    const chips = await page.$$eval('[data-role="token-list"] .token', (c) => c.map((x) => x.dataset.text).join(''));
    assert.equal(chips, 'still works');
    assert.equal(await page.getAttribute('[data-role="color-mode"] button[data-mode="attention"]', 'aria-pressed'), 'true');
    await page.screenshot({ path: artifactPath('views-1280-bad-link.png') });
    // A link pasted over the hash applies at once, and clears the old notice.
    const before = await predictionState(page);
    await page.evaluate(() => {
      window.location.hash = '#text=hello+again&muted=0.1&view=lines';
    });
    await waitForNewPredictions(page, before.revision);
    assert.deepEqual(await mutedHeads(page), ['0.1']);
    assert.equal(await page.getAttribute('[data-role="view-toggle"] button[data-view="lines"]', 'aria-pressed'), 'true');
    assert.ok(await page.isHidden('[data-role="url-notice"]'), 'a good link clears the notice');
    assertCleanPage(problems);
  } finally {
    await context.close();
  }
});

test('edits above layer 0 keep the lower layers\' attention: the page ends where a fresh one starts', async () => {
  // After a head edit the worker sends only the attention of the layers
  // above the edited one (its own attention is unchanged: the gain acts
  // after it); the page keeps its own copy of the layers below. A few edits in
  // different layers, then the same link in a fresh page: the attention (the
  // trace export) must be the same, number for number.
  const { n_layer: L, n_head: H } = config;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  try {
    const { page, problems } = await openPage(context, server.url);
    const gridRevision = () => page.$eval('[data-role="head-grid"]', (g) => g.dataset.revision ?? '');
    const edit = async (selector) => {
      const before = await predictionState(page);
      const drawn = await gridRevision();
      await page.click(selector);
      await waitForNewPredictions(page, before.revision);
      // The grid and the other attention views follow the predictions.
      await page.waitForFunction(
        (previous) => document.querySelector('[data-role="head-grid"]').dataset.revision !== previous,
        drawn,
      );
      return page.$eval('[data-role="head-grid"]', (g) => Number(g.dataset.repainted));
    };
    const upper = Math.min(1, L - 1);
    const repainted = [
      await edit(head(L - 1, 0)),
      await edit(head(upper, Math.min(1, H - 1))),
      await edit(head(L - 1, 0)),
    ];
    console.log(`  edits in layers ${L - 1}, ${upper}, ${L - 1}: ${repainted.join(', ')} heads repainted`);
    // A gain acts after its layer's attention: the layers above the edited one change.
    assert.deepEqual(repainted, [0, (L - upper - 1) * H, 0], 'each edit redraws the layers above the edited one');
    const edited = await exportTrace(page);
    const fresh = await openPage(context, page.url());
    const reference = await exportTrace(fresh.page);
    assert.deepEqual(edited.attn.shape, reference.attn.shape);
    const diff = edited.attn.data.reduce((m, v, i) => Math.max(m, Math.abs(v - reference.attn.data[i])), 0);
    console.log(`  attention [${edited.attn.shape.join(' x ')}] after the edits vs a fresh page: max |diff| ${diff}`);
    assert.equal(diff, 0, 'the same attention as a fresh page at the same link');
    assertCleanPage(problems);
  } finally {
    await context.close();
  }
});

test('aiming at a head prepares its edit: the click shows it at once, with the numbers of a fresh page', async () => {
  // While the pointer rests on a head or the focus is on it, the worker
  // computes the edit a click would make (the 'prepare' method); the click
  // then posts those predictions without a rerun of its own. Pointing at one
  // head and clicking another must still end where a fresh page at that link
  // starts, bars, losses and attention alike.
  const { n_layer: L, n_head: H } = config;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  try {
    const { page, problems } = await openPage(context, server.url);
    const timingLine = () => page.textContent('[data-role="timing"]');
    // Runs act, then waits for the new bars and for the timing line that
    // follows the whole drawing; returns that line.
    const settle = async (act) => {
      const before = await predictionState(page);
      const line = await timingLine();
      await act();
      await waitForNewPredictions(page, before.revision);
      await page.waitForFunction((previous) => document.querySelector('[data-role="timing"]').textContent !== previous, line);
      return timingLine();
    };
    const drawnAt = (line) => Number(/predictions drawn at ([0-9.]+) ms/.exec(line)?.[1] ?? NaN);
    const steps = [];
    const record = async (name, line) => {
      steps.push({ name, line, url: page.url(), shown: await shownAnalysis(page), trace: await exportTrace(page) });
    };

    const a = [L - 1, 1];
    await page.hover(head(...a));
    await page.waitForTimeout(300);
    const aimed = await settle(() => page.click(head(...a)));
    console.log(`  pointer on ${a.join('.')} for 300 ms, then its click: predictions drawn at ${drawnAt(aimed)} ms ("${aimed}")`);
    assert.match(aimed, /prepared before the click/, 'the aimed click used the prepared edit');
    await record(`aimed click on ${a.join('.')}`, aimed);

    // The pointer on 0.2, the click (not a pointer's) on 1.3: the worker holds
    // the pass of 0.2's edit and reruns from it.
    const b = [0, Math.min(2, H - 1)];
    const c = [Math.min(1, L - 1), Math.min(3, H - 1)];
    await page.hover(head(...b));
    await page.waitForTimeout(300);
    const other = await settle(() => page.$eval(head(...c), (button) => button.click()));
    console.log(`  pointer on ${b.join('.')}, click on ${c.join('.')}: predictions drawn at ${drawnAt(other)} ms ("${other}")`);
    assert.doesNotMatch(other, /prepared before the click/, 'another head than the aimed one reruns');
    await record(`pointer on ${b.join('.')}, click on ${c.join('.')}`, other);

    // Keyboard: the focus moves to the next head (which prepares it), Space mutes it.
    await page.mouse.move(1, 1);
    await page.focus(head(...c));
    await page.keyboard.press(c[1] + 1 < H ? 'ArrowRight' : 'ArrowLeft');
    await page.waitForTimeout(300);
    const key = await settle(() => page.keyboard.press('Space'));
    console.log(`  focus moved by an arrow key, then Space: predictions drawn at ${drawnAt(key)} ms ("${key}")`);
    assert.match(key, /prepared before the click/, 'the focused head was prepared');
    await record('arrow key, then Space', key);

    for (const step of steps) {
      const fresh = await openPage(context, step.url);
      const shown = await shownAnalysis(fresh.page);
      const reference = await exportTrace(fresh.page);
      const diff = step.trace.attn.data.reduce((m, v, i) => Math.max(m, Math.abs(v - reference.attn.data[i])), 0);
      console.log(`  ${step.name}: the page shows what a fresh page shows; attention max |diff| ${diff}`);
      assert.deepEqual(step.shown, shown, `${step.name}: bars, losses and token colours as a fresh page`);
      assert.deepEqual(step.trace.attn.shape, reference.attn.shape);
      assert.equal(diff, 0, `${step.name}: the attention of a fresh page`);
      await fresh.page.close();
    }
    assertCleanPage(problems);
  } finally {
    await context.close();
  }
});

test('hide= flags hide panels for a lesson', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const { page, problems } = await openPage(context, `${server.url}#hide=edits,picker,export`);
  try {
    for (const panel of ['edits', 'picker', 'export']) {
      assert.ok(await page.isHidden(`[data-panel="${panel}"]`), `${panel} is hidden`);
    }
    for (const panel of ['heads', 'detail', 'predictions', 'tokens']) {
      assert.ok(await page.isVisible(`[data-panel="${panel}"]`), `${panel} is shown`);
    }
    await page.screenshot({ path: artifactPath('views-1280-hidden-panels.png'), fullPage: true });
    assertCleanPage(problems);
  } finally {
    await context.close();
  }
});

test('12 x 12 heads at 256 tokens: the grid draws and edits repaint quickly', async () => {
  const name = 'random-12x12';
  const { config: big, files } = randomGptFiles({ n_layer: 12, n_head: 12, n_embd: 192, n_positions: 256 });
  const perf = await serveWithModel(name, files, 'random weights for a size test', { prefix: PREFIX });
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const text = 'The quick brown fox jumps over the lazy dog, and then it runs back again. '.repeat(6);
  const page = await context.newPage();
  const problems = watchPage(context, page, perf.origin);
  try {
    await timed('navigation to a drawn 12 x 12 grid at 256 tokens', async () => {
      await page.goto(`${perf.url}#model=${name}&text=${encodeURIComponent(text)}`);
      await page.waitForSelector('html[data-ready="true"]', { timeout: 60_000 });
    });
    const T = Number(await page.$eval('[data-role="token-list"]', (el) => el.dataset.count));
    assert.equal(T, 256, 'the text fills the 256 positions');
    const stats = await canvasStats(page, '[data-role="head-grid"] canvas');
    assert.equal(stats.length, 144);
    assert.ok(stats.every((s) => s.painted === (T * (T + 1)) / 2 && s.colours >= 2), 'every head painted');
    // Edit-to-paint in the page: click, new predictions, next frame. Last
    // layer: no head repaints (a gain acts after its layer's attention);
    // first layer: the 132 above it.
    const measure = async (layer) => {
      const times = await clickToPaintTimes(page, head(layer, 0), 10);
      const repainted = await page.$eval('[data-role="head-grid"]', (grid) => grid.dataset.repainted);
      return { median: times[5], max: times[9], repainted };
    };
    const last = await measure(11);
    const first = await measure(0);
    console.log(`  edit-to-paint at 12x12 heads, ${T} tokens: last-layer head median ${last.median.toFixed(1)} ms (max ${last.max.toFixed(1)}, ${last.repainted} heads repainted); first-layer head median ${first.median.toFixed(1)} ms (max ${first.max.toFixed(1)}, ${first.repainted} repainted)`);
    console.log(`  ${await page.textContent('[data-role="timing"]')}`);
    assert.equal(last.repainted, '0', 'a last-layer edit repaints no attention');
    assert.equal(first.repainted, '132', 'a first-layer edit repaints the layers above it');
    assert.ok(first.median < 1000, 'an edit repaints within a second even at this size');
    await page.screenshot({ path: artifactPath('views-1920-12x12.png'), fullPage: true });
    assertCleanPage(problems);
  } finally {
    await context.close();
    await perf.close();
  }
});
