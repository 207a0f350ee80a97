// The circuit views (issue 17) in real Chromium on the shipped models:
// answer and foil picked from the predictions by keyboard (and typed, with a
// word of several tokens named), the logit lens (its output row is the
// predictions panel, bit for bit), the direct effects (their sum against
// the real logit difference), compare prompts with the patching maps on the
// induction-circuit preset of gpt-4l and attn-only-2l (map shapes, the
// share of recovery the model card's previous-token, induction and copying
// heads carry, a head patched live equals its map cell, the metric switched to
// the answer's log-prob by keyboard), token counts that
// differ, bad link values, the PNG/SVG/CSV exports, and screenshots at 1280
// and 375 px, light and dark. Prints the figures it checks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { importTs } from '../web/ts-import.mjs';
import { DIST_DIR, PREDICTION_LIST, artifactPath, assertCleanPage, downloadOf, pageInChromium, watchPage } from './helpers.mjs';

const { HEADS_OF } = await importTs('web/src/views/presets.ts');

// The heads whose joint patch brings the answer back, measured on the
// induction-circuit preset (seeds 1-8): on gpt-4l the model card's
// previous-token and induction heads (about 100%); on attn-only-2l its
// previous-token head 0.2, induction head 1.7 and copying heads 1.3, 1.5,
// 1.6 together recover only 18-23%, and with head 1.1 (no badge; OV copying
// -0.98, it lowers the logit of what it reads; patched alone it lowers the
// metric) 91-100%.
const namedOf = (model) => [...HEADS_OF[model].previousToken, ...HEADS_OF[model].induction, ...HEADS_OF[model].copying];
const CIRCUIT_OF = {
  'gpt-4l': namedOf('gpt-4l'),
  'attn-only-2l': [...namedOf('attn-only-2l'), '1.1'],
};

const LENS = '[data-role="lens-grid"]';
const DLA = '[data-role="dla-summary"]';
const HEADS = '[data-role="patch-heads"]';

const site = pageInChromium({ prefix: '/headlight/', needed: ['wasm/headlight.js', 'wasm/headlight.wasm'] });

function configOf(model) {
  return JSON.parse(readFileSync(join(DIST_DIR, 'models', model, 'config.json'), 'utf8'));
}

async function openPage(hash = '', viewport = { width: 1280, height: 900 }) {
  const context = await site.browser.newContext({ viewport, colorScheme: 'light', acceptDownloads: true });
  const page = await context.newPage();
  const problems = watchPage(context, page, site.server.origin);
  await page.goto(`${site.server.url}${hash}`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 60_000 });
  // Nothing is computed for the panel until it is on screen.
  assert.equal(await page.locator(`${LENS} .lens-cell`).count(), 0, 'no lens while the panel is out of view');
  await page.locator('[data-panel="circuits"]').scrollIntoViewIfNeeded();
  await page.waitForSelector(`${LENS} .lens-cell`, { timeout: 60_000 });
  return { context, page, problems };
}

/**
 * Brings the circuits panel on screen (nothing is computed for it while it
 * is not) and waits for the lens and direct effects of the chips shown.
 */
async function lensReady(page) {
  await page.locator('[data-panel="circuits"]').scrollIntoViewIfNeeded();
  await page.waitForFunction(() => {
    const grid = document.querySelector('[data-role="lens-grid"]');
    return document.querySelector('[data-role="lens-status"]')?.dataset.state === 'ready'
      && grid?.dataset.answer === document.querySelector('[data-role="answer-chip"]')?.dataset.text
      && grid?.dataset.foil === document.querySelector('[data-role="foil-chip"]')?.dataset.text
      && grid?.dataset.position === document.querySelector('[data-role="prediction-list"]')?.dataset.position;
  }, null, { timeout: 30_000 });
}

/** Brings the compare panel on screen and waits for the patched run of the patched heads shown in the link. */
async function patchReady(page) {
  await page.locator('[data-role="compare"]').scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.querySelector('[data-role="patched-summary"]')?.dataset.metric
    && document.querySelector('[data-role="patch-heads"]')?.dataset.shape, null, { timeout: 60_000 });
}

async function screenshots(page, name) {
  const panel = page.locator('[data-panel="circuits"]');
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const width of [1280, 375]) {
      await page.setViewportSize({ width, height: 900 });
      await page.waitForTimeout(100);
      await panel.screenshot({ path: artifactPath(`circuits-${name}-${width}-${scheme}.png`) });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 900 });
}

test('answer and foil by keyboard, the logit lens and the direct effects on the default model', async (t) => {
  const { context, page, problems } = await openPage();
  const model = site.model;
  const config = configOf(model);
  const L = config.n_layer;
  const H = config.n_head;
  await lensReady(page);

  await t.test('the lens grid is (L+1) x T and its output row is the predictions panel', async () => {
    const T = await page.locator('[data-role="token-list"] .token').count();
    const grid = await page.$eval(LENS, (g) => ({ rows: Number(g.dataset.rows), cols: Number(g.dataset.cols), position: Number(g.dataset.position) }));
    console.log(`  ${model}: lens ${grid.rows} x ${grid.cols} (L+1 = ${L + 1}, T = ${T}), position ${grid.position}`);
    assert.deepEqual(grid, { rows: L + 1, cols: T, position: T - 1 });
    const out = await page.$eval(`${LENS} .lens-cell[data-row="${L}"][data-col="${T - 1}"]`, (c) => ({ prob: Number(c.dataset.prob), id: c.dataset.id }));
    const bars = await page.$eval(PREDICTION_LIST, (l) => ({ prob: Number(l.dataset.probs.split(',')[0]), id: l.dataset.ids.split(',')[0] }));
    console.log(`  output row: id ${out.id} p ${out.prob}; predictions: id ${bars.id} p ${bars.prob}; |diff| ${Math.abs(out.prob - bars.prob)}`);
    assert.equal(out.id, bars.id);
    assert.equal(out.prob, bars.prob, 'row L of the lens is the trace\'s own top-k, the same bits');
  });

  await t.test('with nothing chosen the top two predictions stand in; the parts sum to the logit difference', async () => {
    const chips = await page.$$eval('[data-role$="-chip"]', (c) => c.map((x) => [x.dataset.role, x.dataset.text, x.dataset.auto]));
    const top = await page.$$eval(`${PREDICTION_LIST} li.prediction .token`, (c) => c.map((x) => x.dataset.text));
    console.log(`  chips ${JSON.stringify(chips)}; top ${JSON.stringify(top.slice(0, 2))}`);
    assert.deepEqual(chips, [['answer-chip', top[0], 'true'], ['foil-chip', top[1], 'true']]);
    const dla = await page.$eval(DLA, (s) => ({ sum: Number(s.dataset.sum), actual: Number(s.dataset.actual), error: Number(s.dataset.error) }));
    const bars = await page.locator('[data-role="dla-bars"] .dla-row').count();
    console.log(`  DLA: ${bars} parts, sum ${dla.sum.toFixed(6)}, actual ${dla.actual.toFixed(6)}, error ${dla.error.toExponential(2)}`);
    assert.equal(bars, L * H + (config.attn_only ? 0 : L) + 2);
    assert.ok(dla.actual > 0, 'the top prediction beats the second');
    assert.ok(dla.error < 1e-3, `sum of the parts within 1e-3 of the real logit difference (${dla.error})`);
  });

  await t.test('Enter on a prediction makes it the answer, Shift+Enter the foil; the link keeps them', async () => {
    const top = await page.$$eval(`${PREDICTION_LIST} li.prediction .token`, (c) => c.map((x) => x.dataset.text));
    await page.focus(`${PREDICTION_LIST} li.prediction:nth-child(3)`);
    await page.keyboard.press('Enter');
    await page.focus(`${PREDICTION_LIST} li.prediction:nth-child(2)`);
    await page.keyboard.press('Shift+Enter');
    await page.waitForFunction(([a, f]) => {
      const answer = document.querySelector('[data-role="answer-chip"]');
      const foil = document.querySelector('[data-role="foil-chip"]');
      return answer?.dataset.text === a && answer.dataset.auto === 'false' && foil?.dataset.text === f && foil.dataset.auto === 'false';
    }, [top[2], top[1]]);
    await lensReady(page);
    await page.waitForFunction(() => document.querySelector('[data-role="lens-ranks"]')?.dataset.ranks);
    const ranks = await page.$eval('[data-role="lens-ranks"]', (r) => r.dataset.ranks.split(',').map(Number));
    const dla = await page.$eval(DLA, (s) => ({ actual: Number(s.dataset.actual), error: Number(s.dataset.error) }));
    const hash = await page.evaluate(() => decodeURIComponent(location.hash.replace(/\+/g, ' ')));
    console.log(`  answer ${JSON.stringify(top[2])} foil ${JSON.stringify(top[1])}: ranks by layer ${ranks.join(', ')}; ` +
      `logit difference ${dla.actual.toFixed(4)} (error ${dla.error.toExponential(2)}); link ${hash}`);
    assert.equal(ranks[L], 3, 'the third prediction ranks third at the output');
    assert.ok(dla.actual < 0, 'the third prediction loses to the second');
    assert.ok(dla.error < 1e-3);
    assert.ok(hash.includes(`answer=${top[2]}`) && hash.includes(`foil=${top[1]}`), hash);
  });

  await t.test('a typed word of several tokens is named; the lens keeps working', async () => {
    await page.fill('[data-role="answer-input"]', ' Pemberthwaite');
    await page.press('[data-role="answer-input"]', 'Tab');
    await page.waitForFunction(() => document.querySelector('[data-role="answer-chip"]')?.dataset.tokens > '1');
    const note = await page.textContent('[data-role="pick-note"]');
    const tokens = await page.$eval('[data-role="answer-chip"]', (c) => Number(c.dataset.tokens));
    console.log(`  ${tokens} tokens: ${note}`);
    assert.match(note, new RegExp(`The answer " Pemberthwaite" is ${tokens} tokens`));
    await lensReady(page);
    assert.match(await page.textContent('[data-role="dla-status"]'), /Pick an answer and a foil of one token/);
    await page.click('[data-role="auto-picks"]');
    await page.waitForFunction(() => document.querySelector('[data-role="answer-chip"]')?.dataset.auto === 'true');
  });

  await t.test('a column of the lens selects its position by keyboard', async () => {
    await page.focus(`${LENS} .lens-col[data-col="3"]`);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-role="lens-grid"]')?.dataset.position === '3'
      && document.querySelector('[data-role="prediction-list"]')?.dataset.position === '3');
    await lensReady(page);
    const dla = await page.$eval(DLA, (s) => Number(s.dataset.error));
    console.log(`  position 3: lens and predictions follow; DLA error there ${dla.toExponential(2)}`);
    assert.ok(dla < 1e-3);
  });

  await t.test('a head\'s direct-effect row selects the head by keyboard', async () => {
    const row = '[data-role="dla-bars"] button.dla-row[data-part="head 1.2"]';
    const value = Number(await page.$eval(row, (r) => r.dataset.value));
    await page.focus(row);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /Head 1\.2/.test(document.querySelector('[data-role="detail-title"]')?.textContent ?? ''));
    const focused = await page.evaluate(() => document.activeElement?.dataset.part);
    console.log(`  head 1.2 (push ${value.toFixed(4)}) selected from its row; the focus stays on ${JSON.stringify(focused)}`);
    assert.equal(focused, 'head 1.2');
  });

  await t.test('the lens and direct effects export as PNG, SVG and CSV', async () => {
    const T = await page.$eval(LENS, (g) => Number(g.dataset.cols));
    for (const [box, rows] of [['lens', (L + 1) * T], ['attribution', L * H + (config.attn_only ? 0 : L) + 2]]) {
      for (const format of ['png', 'svg', 'csv']) {
        const file = await downloadOf(page, `[data-role="${box}"] .circuit-export button[data-export="${format}"]`);
        const lines = format === 'csv' ? file.bytes.toString('utf8').trim().split('\n').length - 1 : null;
        console.log(`  ${file.name}: ${file.bytes.length} bytes${lines !== null ? `, ${lines} rows` : ''}`);
        if (format === 'png') assert.equal(file.bytes.subarray(1, 4).toString('latin1'), 'PNG');
        if (format === 'svg') assert.match(file.bytes.toString('utf8'), /<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
        if (format === 'csv') assert.equal(lines, rows);
      }
    }
  });

  await screenshots(page, 'lens');
  assertCleanPage(problems, 'circuits page');
  await context.close();
});

test('a bad answer in the link is named and the page still works', async () => {
  const { context, page, problems } = await openPage(`#answer=${'x'.repeat(65)}&patch=9.x&metric=prob`);
  await lensReady(page);
  const notice = await page.textContent('[data-role="url-notice-text"]');
  console.log(`  notice: ${notice}`);
  assert.match(notice, /answer: .*65 characters/);
  assert.match(notice, /patch: .*is not a head/);
  assert.match(notice, /metric: .*logit_diff, logprob/);
  assert.equal(await page.$eval('[data-role="answer-chip"]', (c) => c.dataset.auto), 'true');
  assertCleanPage(problems, 'bad link');
  await context.close();
});

for (const model of ['gpt-4l', 'attn-only-2l']) {
  test(`compare prompts on ${model}: the induction circuit preset, the patching maps, a live patch`, async (t) => {
    const { context, page, problems } = await openPage(`#model=${model}`);
    const { n_layer: L, n_head: H } = configOf(model);
    await page.click('[data-preset="circuit"]');
    await patchReady(page);
    const named = namedOf(model);

    await t.test('map shapes, both metrics, the recovery the named heads carry', async () => {
      const T = await page.locator('[data-role="token-list"] .token').count();
      const shapes = await page.evaluate(() => [document.querySelector('[data-role="patch-heads"]').dataset.shape,
        document.querySelector('[data-role="patch-residual"]').dataset.shape]);
      const clean = Number(await page.$eval('[data-role="metric-clean"]', (d) => d.dataset.value));
      const corrupted = Number(await page.$eval('[data-role="metric-corrupted"]', (d) => d.dataset.value));
      console.log(`  ${model}: heads ${shapes[0]}, residual ${shapes[1]}; metric clean ${clean.toFixed(3)}, corrupted ${corrupted.toFixed(3)}`);
      assert.deepEqual(shapes, [`${L}x${H}`, `${L + 1}x${T}`]);
      assert.ok(clean - corrupted > 1, 'the corruption costs the answer more than one logit');
      const heads = await page.$$eval(`${HEADS} button.patch-cell`, (c) => c.map((x) => [x.dataset.head, Number(x.dataset.recovery)]));
      assert.equal(heads.length, L * H);
      const positive = (list) => list.reduce((s, [, r]) => s + Math.max(0, r), 0);
      const share = positive(heads.filter(([h]) => named.includes(h))) / positive(heads);
      const top = [...heads].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([h, r]) => `${h} ${r.toFixed(2)}`);
      console.log(`  top heads: ${top.join(', ')}; share of the positive recovery on ${named.join(', ')}: ${(share * 100).toFixed(1)}%`);
      assert.ok(share > 0.5, `the previous-token, induction and copying heads carry most of the recovery (${share})`);
      const residual = await page.$$eval('[data-role="patch-residual"] .patch-cell', (c) => c.map((x) => Number(x.dataset.recovery)));
      const last = residual[L * T + T - 1];
      console.log(`  residual: ln_f's input at the last position recovers ${last}`);
      assert.ok(Math.abs(last - 1) < 1e-5, 'patching the final residual at the last position is the clean run');
    });

    await t.test('a head patched by keyboard moves the predictions, by its map cell', async () => {
      const head = HEADS_OF[model].induction[0];
      const before = await page.$eval('[data-role="patched-predictions"]', (l) => l.dataset.ids);
      const cell = `${HEADS} button.patch-cell[data-head="${head}"]`;
      const mapValue = Number(await page.$eval(cell, (c) => c.dataset.recovery));
      await page.focus(cell);
      await page.keyboard.press('Space');
      await page.waitForFunction((h) => document.querySelector('[data-role="patched-summary"]')?.dataset.heads === h, head);
      const one = Number(await page.$eval('[data-role="patched-summary"]', (s) => s.dataset.recovery));
      console.log(`  head ${head}: live recovery ${one.toFixed(6)}, map ${mapValue.toFixed(6)}, |diff| ${Math.abs(one - mapValue).toExponential(2)}`);
      assert.ok(Math.abs(one - mapValue) < 1e-4, 'a live patch of one head is its map cell');
      assert.equal(await page.$eval(cell, (c) => c.getAttribute('aria-pressed')), 'true');
      const patchAll = async (heads) => {
        const now = await page.$eval('[data-role="patched-summary"]', (s) => s.dataset.heads.split(','));
        for (const other of heads.filter((h) => !now.includes(h))) await page.click(`${HEADS} button.patch-cell[data-head="${other}"]`);
        await page.waitForFunction((n) => document.querySelector('[data-role="patched-summary"]')?.dataset.heads.split(',').length === n, heads.length);
        return Number(await page.$eval('[data-role="patched-summary"]', (s) => s.dataset.recovery));
      };
      const cardHeads = await patchAll(named);
      const circuit = CIRCUIT_OF[model];
      const all = await patchAll([...new Set([...named, ...circuit])]);
      const after = await page.$eval('[data-role="patched-predictions"]', (l) => l.dataset.ids);
      const hash = await page.evaluate(() => location.hash);
      console.log(`  ${named.join(', ')} patched: recovery ${(cardHeads * 100).toFixed(1)}%; with ${circuit.join(', ')}: ${(all * 100).toFixed(1)}%; ` +
        `predictions ${before} -> ${after}`);
      assert.ok(all > 0.5, 'patching the circuit brings back most of the answer');
      assert.notEqual(after, before, 'the patched run\'s predictions moved');
      assert.match(hash, /corrupt=/);
      assert.match(hash, /patch=\d/);
    });

    await t.test('prompts of different token counts are named with both counts', async () => {
      const T = await page.locator('[data-role="token-list"] .token').count();
      const corrupted = await page.inputValue('[data-role="corrupted-input"]');
      await page.fill('[data-role="corrupted-input"]', `${corrupted} night horse`);
      await page.waitForFunction(() => document.querySelector('[data-role="compare-message"]')?.dataset.state === 'error');
      const message = await page.textContent('[data-role="compare-message"]');
      console.log(`  ${message}`);
      assert.match(message, new RegExp(`clean prompt has ${T} tokens and the corrupted prompt ${T + 2}`));
      assert.equal(await page.isHidden('[data-role="patching"]'), false, 'the panel stays');
      await page.fill('[data-role="corrupted-input"]', corrupted);
      await page.waitForFunction(() => document.querySelector('[data-role="compare-message"]')?.dataset.state === 'ready');
    });

    if (model === 'gpt-4l') {
      await t.test('the patching maps export as PNG, SVG and CSV', async () => {
        const T = await page.locator('[data-role="token-list"] .token').count();
        const boxes = page.locator('[data-role="patching"] .circuit-export');
        for (const [i, rows] of [[0, L * H], [1, (L + 1) * T]]) {
          for (const format of ['png', 'svg', 'csv']) {
            const [download] = await Promise.all([page.waitForEvent('download'), boxes.nth(i).locator(`button[data-export="${format}"]`).click()]);
            const bytes = readFileSync(await download.path());
            console.log(`  ${download.suggestedFilename()}: ${bytes.length} bytes`);
            if (format === 'csv') assert.equal(bytes.toString('utf8').trim().split('\n').length - 1, rows);
            if (format === 'png') assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG');
            if (format === 'svg') assert.match(bytes.toString('utf8'), /<svg/);
          }
        }
      });
      await screenshots(page, `compare-${model}`);

      await t.test('the log-prob of the answer by keyboard: the maps redraw, the metric says which', async () => {
        const headsOf = () => page.$$eval(`${HEADS} button.patch-cell`, (c) => c.map((x) => x.dataset.recovery).join(','));
        const before = await headsOf();
        assert.equal(await page.$eval('[data-role="compare-metrics"]', (d) => d.dataset.metric), 'logit_diff');
        // Tab into the radio group, an arrow key chooses the next metric.
        await page.focus('[data-role="patch-metric-logit_diff"]');
        await page.keyboard.press('ArrowRight');
        await page.waitForFunction(() => document.querySelector('[data-role="compare-metrics"]')?.dataset.metric === 'logprob'
          && document.querySelector('[data-role="patching-status"]')?.dataset.metric === 'logprob', null, { timeout: 60_000 });
        await patchReady(page);
        const caption = await page.textContent('[data-role="metric-caption"]');
        const labels = await page.$$eval('[data-role="compare-metrics"] dt', (d) => d.map((x) => x.textContent));
        const status = await page.textContent('[data-role="patching-status"]');
        const clean = Number(await page.$eval('[data-role="metric-clean"]', (d) => d.dataset.value));
        const corrupted = Number(await page.$eval('[data-role="metric-corrupted"]', (d) => d.dataset.value));
        const after = await headsOf();
        const changed = before.split(',').filter((r, i) => r !== after.split(',')[i]).length;
        const T = await page.locator('[data-role="token-list"] .token').count();
        const residual = await page.$$eval('[data-role="patch-residual"] .patch-cell', (c) => c.map((x) => Number(x.dataset.recovery)));
        console.log(`  log-prob: "${caption}"; ${labels.join(' / ')}; "${status}"; clean ${clean.toFixed(3)}, ` +
          `corrupted ${corrupted.toFixed(3)}; ${changed} of ${L * H} head cells redrawn with new values; ` +
          `ln_f's input at the last position recovers ${residual[L * T + T - 1]}`);
        assert.match(caption, /^log p\(.*\) at the last position \(the foil is unused\)$/);
        assert.ok(labels.every((label) => /log p$/.test(label)), labels.join());
        assert.match(status, /^log p\(answer\): clean/);
        assert.ok(clean <= 0 && corrupted <= 0 && clean > corrupted, 'log-probs, the clean one higher');
        assert.ok(changed > 0, 'the head map redrew with the log-prob recovery');
        assert.ok(Math.abs(residual[L * T + T - 1] - 1) < 1e-5, 'the final residual at the last position is the clean run');
        assert.match(await page.evaluate(() => location.hash), /metric=logprob/);
        assert.equal(await page.isChecked('[data-role="patch-metric-logprob"]'), true);
        await screenshots(page, `compare-${model}-logprob`);
      });
    }
    assertCleanPage(problems, `${model} compare`);
    await context.close();
  });
}

// The name story's preset fills Compare prompts too (issue 17: "for a
// repeated-name story the corrupted prompt swaps the repeated name"): on the
// default model the answer is "b", the swap costs it, and the heads its
// guide names carry most of the head-z recovery.
test('compare prompts on the name preset: the first mention swapped, the answer "b"', async () => {
  const { context, page, problems } = await openPage();
  const model = site.model;
  const { n_layer: L, n_head: H } = configOf(model);
  await page.click('[data-preset="name"]');
  await patchReady(page);
  const corrupted = await page.inputValue('[data-role="corrupted-input"]');
  const clean = Number(await page.$eval('[data-role="metric-clean"]', (d) => d.dataset.value));
  const bad = Number(await page.$eval('[data-role="metric-corrupted"]', (d) => d.dataset.value));
  const answer = await page.$eval('[data-role="answer-chip"]', (c) => c.dataset.text);
  const heads = await page.$$eval(`${HEADS} button.patch-cell`, (c) => c.map((x) => [x.dataset.head, Number(x.dataset.recovery)]));
  const known = HEADS_OF[model];
  const named = [...known.previousToken, ...known.induction, ...known.duplicateToken, ...known.copying];
  const positive = (list) => list.reduce((s, [, r]) => s + Math.max(0, r), 0);
  const share = positive(heads.filter(([h]) => named.includes(h))) / positive(heads);
  console.log(`  ${model}: corrupted "${corrupted.slice(0, 40)}…"; answer chip "${answer}"; metric clean ${clean.toFixed(3)}, corrupted ${bad.toFixed(3)}; ` +
    `${heads.length} head cells, ${named.join(', ')} carry ${(share * 100).toFixed(1)}% of the positive recovery`);
  assert.match(corrupted, /^Our neighbour, Mr\. Huntingdon,/);
  assert.equal(answer, 'b');
  assert.equal(heads.length, L * H);
  assert.ok(clean - bad > 3, 'the swapped name costs the answer more than 3 logits');
  assert.ok(share > 0.5, `the named heads carry most of the recovery (${share})`);
  await screenshots(page, `name-${model}`);
  assertCleanPage(problems, 'name preset');
  await context.close();
});
