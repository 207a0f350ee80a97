// The page at real widths (issue 15 item 4): at 375, 700 and 1280 px, the
// full page and the ?embed=1 iframe mode, with the default model and with a
// 12 x 12 random model, the head grid's column labels and head captions do
// not overlap (every label box measured with getBoundingClientRect) and no
// element makes the page wider than the viewport. Prints the smallest gap
// between neighbouring labels and the horizontal overflow in px; saves
// screenshots, light and dark, to test-artifacts/.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  artifactPath,
  assertCleanPage,
  launchChromium,
  randomGptFiles,
  serveWithModel,
  watchPage,
} from './helpers.mjs';

const BIG = 'rand-12x12';
const WIDTHS = [375, 700, 1280];
const READY_TIMEOUT_MS = 60_000;

let browser;
let server;

before(async () => {
  const { files } = randomGptFiles({ n_layer: 12, n_head: 12, n_embd: 96, n_positions: 128, seed: 15 });
  server = await serveWithModel(BIG, files, '12 x 12 random weights (test)');
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/**
 * The grid's labels, measured in the page: per row of labels (the column
 * labels; each layer's captions), the smallest horizontal gap between two
 * neighbouring non-empty boxes (negative = overlap), and the overflow of the
 * document and of the grid.
 */
async function measure(page) {
  return page.evaluate(() => {
    const grid = document.querySelector('[data-role="head-grid"]');
    const boxes = (elements) =>
      elements
        .filter((e) => e.getClientRects().length > 0 && e.getBoundingClientRect().width > 0)
        .map((e) => e.getBoundingClientRect())
        .sort((a, b) => a.left - b.left);
    const rows = [boxes([...grid.querySelectorAll('.grid-col-label')].filter((e) => e.textContent !== ''))];
    const n_layer = grid.querySelectorAll('.layer-mute').length;
    for (let layer = 0; layer < n_layer; layer++) {
      rows.push(boxes([...grid.querySelectorAll(`.head-select[data-layer="${layer}"]`)]));
    }
    let minGap = Infinity;
    let labels = 0;
    for (const row of rows) {
      labels += row.length;
      for (let i = 1; i < row.length; i++) minGap = Math.min(minGap, row[i].left - row[i - 1].right);
    }
    const scroller = document.scrollingElement;
    const panel = grid.closest('.panel');
    const panelBox = panel.getBoundingClientRect();
    const gridBox = grid.getBoundingClientRect();
    return {
      labels,
      shownColumnLabels: rows[0].length,
      form: grid.dataset.labels,
      minGap,
      overflow: scroller.scrollWidth - window.innerWidth,
      gridOverflow: grid.scrollWidth - grid.clientWidth,
      gridPastPanel: Math.max(0, gridBox.right - (panelBox.right - parseFloat(getComputedStyle(panel).paddingRight))),
      captions: grid.classList.contains('has-bar-captions') ? 'bars' : 'names',
    };
  });
}

for (const [model, what] of [[null, 'default model'], [BIG, '12 x 12 model']]) {
  for (const embed of [false, true]) {
    test(`grid labels at 375, 700, 1280 px: ${what}${embed ? ', ?embed=1' : ''}`, async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
      const page = await context.newPage();
      const problems = watchPage(context, page, server.origin);
      const hash = model ? `#model=${model}` : '';
      await page.goto(`${server.url}index.html${embed ? '?embed=1' : ''}${hash}`);
      await page.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS });
      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: 900 });
        // The ResizeObserver refits the labels on the next frame.
        await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
        const m = await measure(page);
        console.log(
          `  ${width} px${embed ? ' embed' : ''}, ${what}: ${m.labels} labels (column labels ${m.form}, ` +
            `${m.shownColumnLabels} shown; captions as ${m.captions}), smallest gap ${m.minGap.toFixed(1)} px, ` +
            `page overflow ${m.overflow} px, grid overflow ${m.gridOverflow} px, grid past its panel ${m.gridPastPanel.toFixed(1)} px`,
        );
        assert.ok(m.minGap >= 0, `labels overlap by ${-m.minGap} px at ${width} px`);
        assert.ok(m.overflow <= 0, `the page is ${m.overflow} px wider than the ${width} px viewport`);
        assert.ok(m.gridOverflow <= 0, `the grid scrolls sideways by ${m.gridOverflow} px at ${width} px`);
        assert.ok(m.gridPastPanel <= 0.5, `the grid runs ${m.gridPastPanel} px past its panel at ${width} px`);
        for (const scheme of ['light', 'dark']) {
          await page.emulateMedia({ colorScheme: scheme });
          const name = `layout-${width}${embed ? '-embed' : ''}-${model ?? 'default'}-${scheme}.png`;
          await page.screenshot({ path: artifactPath(name), fullPage: !embed });
        }
        await page.emulateMedia({ colorScheme: 'light' });
      }
      assertCleanPage(problems);
      await context.close();
    });
  }
}
