// Embedding in real Chromium: <headlight-explorer> inside a plain host page
// (attributes applied, bad attributes named, postMessage API through
// element.send), the iframe embed mode (?embed=1: compact layout, "Open in
// Headlight", the postMessage API from the host window), and the "Copy embed
// code" dialog, whose two snippets are pasted into host pages and must work.
// Serves the built page (HEADLIGHT_DIST, default web/dist) under /headlight/
// and the host pages beside it under /lessons/; prints timings; screenshots
// go to test-artifacts/.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  DIST_DIR,
  artifactPath,
  assertCleanPage,
  canvasStats,
  launchChromium,
  mutedHeads,
  serveStatic,
  timed,
  watchPage,
} from './helpers.mjs';

const DIST = DIST_DIR;  // HEADLIGHT_DIST or web/dist (helpers.mjs)
const PREFIX = '/headlight/';
const READY_TIMEOUT_MS = 30_000;
const TEXT = 'The cat sat on the mat. The cat';

let browser;
let server;
let index;
let config;
// Host pages, by path; the server reads this object on every request.
const hostPages = {};

function hostPage(title, body) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${title}</title><link rel="icon" href="data:,">
<style>body { font: 17px/1.6 Georgia, serif; max-width: 760px; margin: 24px auto; padding: 0 16px; }</style>
</head>
<body>
<h1>${title}</h1>
<p>A paragraph of the host page's own prose, before the explorer.</p>
${body}
<p>More prose after it.</p>
</body>
</html>`;
}

before(async () => {
  for (const needed of ['index.html', 'embed/headlight-explorer.js', 'models/index.json']) {
    assert.ok(
      existsSync(join(DIST, needed)),
      `${join(DIST, needed)} is missing: run \`npm run build\` first`,
    );
  }
  index = JSON.parse(readFileSync(join(DIST, 'models', 'index.json'), 'utf8'));
  config = JSON.parse(readFileSync(join(DIST, 'models', index.default, 'config.json'), 'utf8'));
  server = await serveStatic(DIST, { prefix: PREFIX, overrides: hostPages });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function frameOf(page, hostSelector) {
  const handle = await page.waitForSelector(hostSelector);
  await page.waitForFunction((el) => el.contentFrame !== null, handle).catch(() => {});
  const frame = await handle.contentFrame();
  assert.ok(frame, `${hostSelector} has a frame`);
  return frame;
}

async function tokenText(frame) {
  return frame.$$eval('[data-role="token-list"] .token', (chips) =>
    chips.map((c) => c.dataset.text).join(''),
  );
}

async function waitReady(frame) {
  await frame.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS });
}

async function assertGridDrawn(frame) {
  const stats = await canvasStats(frame, '[data-role="head-grid"] canvas');
  assert.equal(stats.length, config.n_layer * config.n_head, 'one heatmap per head');
  assert.ok(
    stats.every((s) => s.painted > 0 && s.colours >= 2),
    'every heatmap is drawn, not blank',
  );
  return stats;
}

test('<headlight-explorer> in a plain host page', async (t) => {
  // type="module", as the snippets said before the element became a classic
  // script: such pages, on Headlight's own origin, keep working.
  hostPages['/lessons/element.html'] = hostPage(
    'Induction heads, a lesson',
    `<script type="module" src="${PREFIX}embed/headlight-explorer.js"></script>
<headlight-explorer id="good" text="${TEXT}" muted="0.1" head="1.0" height="620"></headlight-explorer>
<h2>With mistakes</h2>
<headlight-explorer id="bad" muted="0.1,banana" gains="1.2:7" height="tall" hide="grid"></headlight-explorer>
<h2>As tall as its content</h2>
<headlight-explorer id="auto" text="${TEXT}" height="auto" hide="text,header"></headlight-explorer>
<script>
  window.events = [];
  for (const el of document.querySelectorAll('headlight-explorer')) {
    for (const type of ['headlight-ready', 'headlight-state', 'headlight-error']) {
      el.addEventListener(type, (e) => window.events.push({ id: el.id, type, detail: e.detail }));
    }
  }
</script>`,
  );
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watchPage(context, page, server.origin);

  await t.test('the grid draws and the attributes are applied', async () => {
    await timed('host page navigation to interactive embedded grid', async () => {
      await page.goto(`${server.origin}/lessons/element.html`);
      await waitReady(await frameOf(page, '#good >> iframe'));
    });
    const frame = await frameOf(page, '#good >> iframe');
    const stats = await assertGridDrawn(frame);
    console.log(
      `  ${stats.length} heatmaps drawn in the element's frame (${frame.url().split('#')[0]})`,
    );
    assert.equal(await tokenText(frame), TEXT, 'the text attribute is what the model reads');
    assert.deepEqual(await mutedHeads(frame), ['0.1'], 'muted="0.1" shows head 0.1 muted');
    assert.equal(
      await frame.textContent('button.head[data-layer="0"][data-head="1"] .head-state'),
      'muted',
    );
    const height = await page.$eval('#good', (el) => el.getBoundingClientRect().height);
    assert.ok(Math.abs(height - 620) < 2, `height="620" gives a 620 px element (${height})`);
    await page.waitForFunction(() =>
      window.events.some((e) => e.id === 'good' && e.type === 'headlight-ready'),
    );
    assert.ok(await frame.isHidden('.model-picker'), 'the embed mode hides the model picker');
    await page.screenshot({ path: artifactPath('embed-element-1280.png'), fullPage: true });
  });

  await t.test('bad attributes are named in the element, and the rest still works', async () => {
    const message = await page.$eval(
      '#bad',
      (el) => el.shadowRoot.querySelector('.problems').textContent,
    );
    console.log(`  shown: "${message}"`);
    assert.match(message, /muted: "banana" is not "layer.head"/);
    assert.match(message, /gains: the gain in "1.2:7" must be a number from 0 to 2/);
    assert.match(message, /height="tall"/);
    assert.match(message, /hide: "grid" is not a panel/);
    const frame = await frameOf(page, '#bad >> iframe');
    await waitReady(frame);
    assert.deepEqual(await mutedHeads(frame), ['0.1'], 'the valid part of muted is applied');
  });

  await t.test('height="auto" fits the content; hide= hides panels', async () => {
    const frame = await frameOf(page, '#auto >> iframe');
    await waitReady(frame);
    assert.ok(await frame.isHidden('[data-panel="text"]'), 'hide="text" hides the text panel');
    assert.ok(await frame.isHidden('[data-panel="header"]'), 'hide="header" hides the masthead');
    assert.ok(
      await frame.isVisible('[data-role="open-in-headlight"]'),
      'the "Open in Headlight" link stays',
    );
    const sizes = await page.waitForFunction(async () => {
      const el = document.querySelector('#auto');
      const frameEl = el.shadowRoot.querySelector('iframe');
      const content = frameEl.contentDocument.documentElement.getBoundingClientRect().height;
      const outer = el.getBoundingClientRect().height;
      return Math.abs(outer - (Math.ceil(content) + 2)) <= 1 ? { outer, content } : null;
    });
    const { outer, content } = await sizes.jsonValue();
    console.log(
      `  height="auto": element ${outer.toFixed(0)} px for ${content.toFixed(0)} px of content`,
    );
    assert.ok(Math.abs(outer - 840) > 2, 'not the height it starts at (840 px)');
  });

  await t.test(
    'element.send(): set-text changes the tokens, bad payloads answer with an error',
    async () => {
      const frame = await frameOf(page, '#good >> iframe');
      const newText = 'Alice met Bob. Alice';
      await timed('set-text to new tokens', async () => {
        await page.$eval(
          '#good',
          (el, text) => el.send({ type: 'headlight:set-text', text }),
          newText,
        );
        await frame.waitForFunction(
          (text) =>
            [...document.querySelectorAll('[data-role="token-list"] .token')]
              .map((c) => c.dataset.text)
              .join('') === text,
          newText,
        );
      });
      await page.$eval('#good', (el) =>
        el.send({ type: 'headlight:set-edits', gains: { '0.0': 9 } }),
      );
      const error = await page.waitForFunction(
        () => window.events.find((e) => e.type === 'headlight-error')?.detail,
      );
      const detail = await error.jsonValue();
      console.log(`  error reply: "${detail.message}"`);
      assert.match(detail.message, /gain of head 0.0 must be a number from 0 to 2/);
      const state = await page.evaluate(
        () =>
          window.events.filter((e) => e.id === 'good' && e.type === 'headlight-state').at(-1)
            ?.detail,
      );
      assert.equal(state?.state?.text, newText, 'a state event follows the change');
    },
  );

  await t.test('changing an attribute updates the same document', async () => {
    const frame = await frameOf(page, '#good >> iframe');
    await frame.evaluate(() => (window.sameDocumentMark = 1));
    await page.$eval('#good', (el) => el.setAttribute('muted', '0.2,1.1'));
    await frame.waitForFunction(
      () => document.querySelectorAll('button.head[aria-pressed="true"]').length === 2,
    );
    assert.deepEqual(await mutedHeads(frame), ['0.2', '1.1']);
    assert.equal(await frame.evaluate(() => window.sameDocumentMark), 1, 'no reload');
  });

  await t.test('375 px wide host', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    );
    assert.ok(overflow <= 0, `the host page fits (overflow ${overflow} px)`);
    await page.screenshot({ path: artifactPath('embed-element-375.png'), fullPage: true });
  });

  await t.test('no console error, no request off the origin', () => {
    assertCleanPage(problems);
  });
  await context.close();
});

test('iframe embed mode and the postMessage API', async (t) => {
  const src = `${PREFIX}index.html?embed=1#text=${encodeURIComponent(TEXT)}&muted=0.1`;
  hostPages['/lessons/iframe.html'] = hostPage(
    'Scrollytelling with Headlight',
    `<iframe id="explorer" src="${src}" title="Headlight" width="100%" height="600" style="border:0"></iframe>
<script>
  window.received = [];
  const frame = document.getElementById('explorer');
  window.addEventListener('message', (e) => { if (e.source === frame.contentWindow) window.received.push(e.data); });
  window.sendToExplorer = (message) => frame.contentWindow.postMessage(message, '*');
</script>`,
  );
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watchPage(context, page, server.origin);
  const lastOf = (type) =>
    page
      .waitForFunction((type) => window.received.filter((m) => m.type === type).at(-1), type)
      .then((h) => h.jsonValue());

  await t.test(
    'compact layout: grid, tokens and predictions; no picker or explanations',
    async () => {
      await timed('host navigation to headlight:ready', async () => {
        await page.goto(`${server.origin}/lessons/iframe.html`);
        await lastOf('headlight:ready');
      });
      const frame = await frameOf(page, '#explorer');
      await waitReady(frame);
      await assertGridDrawn(frame);
      assert.equal(await tokenText(frame), TEXT);
      assert.deepEqual(await mutedHeads(frame), ['0.1']);
      for (const hidden of [
        '.model-picker',
        '.explain',
        '.tagline',
        '[data-role="open-embed-dialog"]',
      ]) {
        assert.ok(await frame.isHidden(hidden), `${hidden} is hidden in the embed mode`);
      }
      for (const shown of [
        '[data-role="head-grid"]',
        '[data-role="token-list"]',
        '[data-role="prediction-list"]',
      ]) {
        assert.ok(await frame.isVisible(shown), `${shown} is shown`);
      }
      const link = await frame.getAttribute('[data-role="open-in-headlight"]', 'href');
      console.log(`  "Open in Headlight" -> ${link}`);
      assert.ok(!new URL(link).searchParams.has('embed'), 'the full page is not in embed mode');
      assert.match(new URL(link).hash, /muted=0\.1/);
      assert.ok(await frame.isVisible('[data-role="open-in-headlight"]'));
      await page.screenshot({ path: artifactPath('embed-iframe-1280.png'), fullPage: true });
    },
  );

  await t.test(
    'set-edits, select-head and reset from the host; state events come back',
    async () => {
      const frame = await frameOf(page, '#explorer');
      await page.evaluate(() =>
        window.sendToExplorer({
          type: 'headlight:set-edits',
          muted: ['0.0', [1, 1]],
          gains: { 0.2: 1.5 },
        }),
      );
      await frame.waitForFunction(
        () => document.querySelectorAll('button.head[aria-pressed="true"]').length === 2,
      );
      assert.deepEqual(await mutedHeads(frame), ['0.0', '1.1']);
      const state = await page.waitForFunction(() =>
        window.received.find((m) => m.type === 'headlight:state' && m.state.edits.length === 3),
      );
      const edits = (await state.jsonValue()).state.edits;
      console.log(`  state after set-edits: ${JSON.stringify(edits)}`);
      assert.deepEqual(edits, [
        { layer: 0, head: 0, gain: 0 },
        { layer: 0, head: 2, gain: 1.5 },
        { layer: 1, head: 1, gain: 0 },
      ]);

      await page.evaluate(() =>
        window.sendToExplorer({ type: 'headlight:select-head', layer: 1, head: 0 }),
      );
      await page.waitForFunction(() =>
        window.received.some(
          (m) =>
            m.type === 'headlight:state' &&
            m.state.selectedHead.layer === 1 &&
            m.state.selectedHead.head === 0,
        ),
      );

      await page.evaluate(() => window.sendToExplorer({ type: 'headlight:reset' }));
      await frame.waitForFunction(
        () => document.querySelectorAll('button.head[aria-pressed="true"]').length === 0,
      );

      await page.evaluate(() => window.sendToExplorer({ type: 'headlight:get-state' }));
      const reply = await page.waitForFunction(() =>
        window.received.find((m) => m.type === 'headlight:state' && m.reason === 'get-state'),
      );
      const { state: current, analysis } = await reply.jsonValue();
      assert.deepEqual(current.edits, [], 'reset removed every edit');
      assert.equal(analysis.tokens.join(''), TEXT, 'the reply carries the analysis');
      console.log(`  get-state: ${analysis.T} tokens, mean loss ${analysis.mean_loss.toFixed(3)}`);
    },
  );

  await t.test('bad and unknown messages: an error reply, or nothing', async () => {
    const before = await page.evaluate(() => window.received.length);
    await page.evaluate(() => {
      window.sendToExplorer({ type: 'headlight:dance' }); // unknown: ignored
      window.sendToExplorer('not even an object'); // foreign: ignored
      window.sendToExplorer({ type: 'headlight:select-head', layer: 99, head: 0 });
    });
    const error = await lastOf('headlight:error');
    console.log(`  error reply: "${error.message}"`);
    assert.match(error.message, /head 99\.0 is outside .+ \(\d+ layers x \d+ heads\)/);
    // headlight:size is a layout event the page posts whenever its height
    // changes (the error notice can cause one), not a reply: leave it out.
    // So is a state event with reason 'analysis': the analysis of the reset
    // before this test arriving late on a loaded machine (a refused message
    // changes nothing, so it starts no analysis).
    const after = await page.evaluate(
      (n) =>
        window.received
          .slice(n)
          .filter((m) => m.type !== 'headlight:size' && !(m.type === 'headlight:state' && m.reason === 'analysis'))
          .map((m) => m.type),
      before,
    );
    assert.deepEqual(
      after,
      ['headlight:error'],
      'exactly one reply: the unknown and foreign messages are ignored',
    );
    const frame = await frameOf(page, '#explorer');
    assert.ok(await frame.isVisible('[data-role="head-grid"]'), 'the explorer still works');
  });

  await t.test('no console error, no request off the origin', () => {
    assertCleanPage(problems);
  });
  await context.close();
});

test('"Copy embed code" gives both snippets, and both work when pasted', async (t) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.origin });
  const page = await context.newPage();
  const problems = watchPage(context, page, server.origin);
  const text = 'Snippets carry "quotes" & <tags>';
  let snippets;

  await t.test('the dialog shows both snippets for the current state and copies them', async () => {
    await page.goto(`${server.origin}${PREFIX}#text=${encodeURIComponent(text)}&muted=1.0`);
    await page.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS });
    await page.click('[data-role="open-embed-dialog"]');
    await page.waitForSelector('[data-role="embed-dialog"][open]');
    snippets = {
      element: await page.inputValue('[data-role="embed-element"]'),
      iframe: await page.inputValue('[data-role="embed-iframe"]'),
    };
    console.log(
      `  element snippet:\n${snippets.element.replace(/^/gm, '    ')}\n  iframe snippet:\n${snippets.iframe.replace(/^/gm, '    ')}`,
    );
    assert.match(snippets.element, /<headlight-explorer\n/);
    assert.match(snippets.element, /muted="1\.0"/);
    assert.ok(
      snippets.element.includes('text="Snippets carry &quot;quotes&quot; &amp; &lt;tags&gt;"'),
    );
    assert.match(snippets.iframe, /^<iframe src="[^"]*\?embed=1#[^"]*muted=1\.0/);
    await page.screenshot({ path: artifactPath('embed-dialog-1280.png') });

    for (const kind of ['element', 'iframe']) {
      await page.click(`[data-role="copy-embed-${kind}"]`);
      await page.waitForFunction(
        (kind) =>
          document
            .querySelector(`[data-role="copy-embed-${kind}"] + .embed-copy-status`)
            ?.textContent.includes('Copied'),
        kind,
      );
      assert.equal(
        await page.evaluate(() => navigator.clipboard.readText()),
        snippets[kind],
        `the ${kind} snippet is on the clipboard`,
      );
    }
    await page.setViewportSize({ width: 375, height: 800 });
    await page.screenshot({ path: artifactPath('embed-dialog-375.png') });
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-role="embed-dialog"]:not([open])', { state: 'attached' });
  });

  for (const kind of ['element', 'iframe']) {
    await t.test(`the ${kind} snippet, pasted into a host page, shows the same state`, async () => {
      hostPages[`/lessons/pasted-${kind}.html`] = hostPage(
        `Pasted ${kind} snippet`,
        snippets[kind],
      );
      const host = await context.newPage();
      const hostProblems = watchPage(context, host, server.origin);
      await host.goto(`${server.origin}/lessons/pasted-${kind}.html`);
      const frame = await frameOf(
        host,
        kind === 'element' ? 'headlight-explorer >> iframe' : 'iframe',
      );
      await waitReady(frame);
      assert.equal(await tokenText(frame), text);
      assert.deepEqual(await mutedHeads(frame), ['1.0']);
      assertCleanPage(hostProblems, `host page with the ${kind} snippet`);
      await host.close();
    });
  }

  await t.test('no console error, no request off the origin', () => {
    assertCleanPage(problems);
  });
  await context.close();
});
