// Embedding from another site, in real Chromium: Headlight's build is served
// on one origin (A) and a blogger's page on another (B), two servers on two
// ports, neither sending any CORS or other special header. The host page
// pastes the exact two snippets that A's "Copy embed code" dialog gives, and
// both must start, show the same state (text, muted heads, selected head and
// token, colour source), take postMessage commands and answer them. Then: the
// snippets' default height shows the mean-loss line in a 700 px column, and
// the dialog says plainly when nothing can be embedded (a model opened from
// disk, the single-file build opened from disk). Prints what it compares;
// screenshots go to test-artifacts/embed-cross-origin-*.png.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import {
  DIST_DIR,
  REPO_ROOT,
  artifactPath,
  assertCleanPage,
  launchChromium,
  mutedHeads,
  serveStatic,
  timed,
  watchPage,
} from './helpers.mjs';

const PREFIX = '/headlight/';
const READY_TIMEOUT_MS = 60_000;
const TEXT = 'The cat sat on the mat. The cat sat on the';
// A state that uses every property the snippets carry but the model and view.
const STATE_HASH =
  `text=${encodeURIComponent(TEXT)}&muted=1.0,0.3&head=1.2&pos=5&color=attention&source=mean`;
const BLOG_COLUMN_PX = 700;

let browser;
let headlight; // origin A: the build
let blog; // origin B: the host pages
const hostPages = {};

function hostPage(title, body, { column = 760 } = {}) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${title}</title><link rel="icon" href="data:,">
<meta name="color-scheme" content="light dark">
<style>
  body { font: 17px/1.6 Georgia, serif; max-width: ${column}px; margin: 24px auto; padding: 0 16px; }
  @media (prefers-color-scheme: dark) { body { background: #15171a; color: #e6e6e6; } }
</style>
</head>
<body>
<h1>${title}</h1>
<p>A paragraph of the blog's own prose, before the explorer.</p>
${body}
<p>More prose after it.</p>
</body>
</html>`;
}

// What the host page records: the element's events and the iframe's messages.
const RECORDER = `<script>
  window.received = [];
  const element = document.querySelector('headlight-explorer');
  const frame = document.querySelector('body > iframe');
  for (const type of ['headlight-ready', 'headlight-state', 'headlight-error']) {
    element.addEventListener(type, (e) => window.received.push({ from: 'element', data: e.detail }));
  }
  window.addEventListener('message', (e) => {
    if (e.source === frame.contentWindow) window.received.push({ from: 'iframe', origin: e.origin, data: e.data });
  });
  window.sendTo = (to, message) => {
    if (to === 'element') element.send(message);
    else frame.contentWindow.postMessage(message, new URL(frame.src).origin);
  };
</script>`;

before(async () => {
  for (const needed of ['index.html', 'embed/headlight-explorer.js', 'models/index.json']) {
    assert.ok(existsSync(join(DIST_DIR, needed)), `${needed} is missing: run \`npm run build\` first`);
  }
  headlight = await serveStatic(DIST_DIR, { prefix: PREFIX });
  blog = await serveStatic(join(REPO_ROOT, 'tests', 'fixtures'), { prefix: '/nothing-here/', overrides: hostPages });
  assert.notEqual(headlight.origin, blog.origin);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await headlight?.close();
  await blog?.close();
});

/** Console errors and page errors, and no request to any origin but A and B. */
function watchBoth(context, page) {
  const problems = watchPage(context, page, blog.origin);
  return {
    check(what) {
      const foreign = problems.requests.filter(
        (url) => !url.startsWith('data:') && !url.startsWith('blob:') &&
          ![headlight.origin, blog.origin].includes(new URL(url).origin),
      );
      assertCleanPage({ ...problems, foreignRequests: foreign }, what);
    },
  };
}

async function frameOf(page, selector) {
  const handle = await page.waitForSelector(selector, { state: 'attached' });
  await page.waitForFunction((el) => el.contentFrame !== null, handle).catch(() => {});
  const frame = await handle.contentFrame();
  assert.ok(frame, `${selector} has a frame`);
  return frame;
}

/** Once the page is ready: "Copy embed code", and wait for the dialog. */
async function openDialog(page) {
  await page.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS });
  await page.click('[data-role="open-embed-dialog"]');
  await page.waitForSelector('[data-role="embed-dialog"][open]');
}

/** What a reader sees in a frame: the state as drawn, not as reported. */
async function shownState(frame) {
  return {
    text: await frame.$$eval('[data-role="token-list"] .token', (chips) => chips.map((c) => c.dataset.text).join('')),
    muted: (await mutedHeads(frame)).join(','),
    head: await frame.$eval('[data-role="head-grid"] button.head[aria-current="true"]', (b) => `${b.dataset.layer}.${b.dataset.head}`),
    position: await frame.$$eval('[data-role="token-list"] .token', (chips) => chips.findIndex((c) => c.getAttribute('aria-current') === 'true')),
    color: await frame.$eval('[data-role="color-mode"] [aria-pressed="true"]', (b) => b.dataset.mode),
    source: await frame.$eval('[data-role="attention-source"] [aria-pressed="true"]', (b) => b.dataset.source),
  };
}

/** The choices of a state message, as the URL carries them. */
function choices(state) {
  const { model, text, edits, selectedHead, selectedPosition, view, colorMode, source, hidden } = state;
  return { model, text, edits, selectedHead, selectedPosition, view, colorMode, source, hidden };
}

async function lastMessage(page, from, predicate = 'true') {
  const handle = await page.waitForFunction(
    ([from, body]) => window.received.filter((m) => m.from === from && new Function('m', `return ${body}`)(m.data)).at(-1),
    [from, predicate],
    { timeout: READY_TIMEOUT_MS },
  );
  return (await handle.jsonValue()).data;
}

test('both snippets of the dialog work from another origin and show the same state', async (t) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const pageProblems = watchPage(context, page, headlight.origin);
  let snippets;

  await t.test('origin A: the dialog gives a classic-script element and an iframe', async () => {
    await page.goto(`${headlight.url}#${STATE_HASH}`);
    await openDialog(page);
    snippets = {
      element: await page.inputValue('[data-role="embed-element"]'),
      iframe: await page.inputValue('[data-role="embed-iframe"]'),
    };
    console.log(`  element snippet:\n${snippets.element.replace(/^/gm, '    ')}\n  iframe snippet:\n${snippets.iframe.replace(/^/gm, '    ')}`);
    assert.match(snippets.element, new RegExp(`^<script src="${headlight.url}embed/headlight-explorer.js"></script>\n`));
    assert.ok(!snippets.element.includes('type="module"'), 'no module script: that would need CORS headers');
    for (const attribute of ['muted="0.3,1.0"', 'head="1.2"', 'pos="5"', 'color="attention"', 'source="mean"']) {
      assert.ok(snippets.element.includes(attribute), `the element carries ${attribute}`);
    }
    assert.ok(!/height=/.test(snippets.element), 'the element fits its content (height="auto", the default)');
    assert.match(snippets.iframe, /height="840"/);
    assert.ok(await page.isHidden('[data-role="embed-note"]'), 'no warning: both snippets work here');
    assertCleanPage(pageProblems, 'origin A page');
  });

  const host = await context.newPage();
  const hostProblems = watchBoth(context, host);

  await t.test('origin B: both become ready with the same state', async () => {
    hostPages['/blog/post.html'] = hostPage(
      'A blog post with two explorers',
      `<h2>The element</h2>\n${snippets.element}\n<h2>The iframe</h2>\n${snippets.iframe}\n${RECORDER}`,
    );
    const ready = await timed('host page on B to both explorers ready', async () => {
      await host.goto(`${blog.origin}/blog/post.html`);
      return {
        element: await lastMessage(host, 'element', "m.type === 'headlight:ready'"),
        iframe: await lastMessage(host, 'iframe', "m.type === 'headlight:ready'"),
      };
    });
    const origins = await host.evaluate(() => [...new Set(window.received.filter((m) => m.from === 'iframe').map((m) => m.origin))]);
    assert.deepEqual(origins, [headlight.origin], 'the iframe answers from origin A');
    const elementFrame = await frameOf(host, 'headlight-explorer >> iframe');
    const iframe = await frameOf(host, 'body > iframe');
    assert.equal(new URL(elementFrame.url()).origin, headlight.origin, 'the element frames origin A');
    const shown = { element: await shownState(elementFrame), iframe: await shownState(iframe) };
    console.log(`  element shows ${JSON.stringify(shown.element)}\n  iframe shows  ${JSON.stringify(shown.iframe)}`);
    assert.deepEqual(shown.element, shown.iframe, 'the same picture in both');
    assert.deepEqual(shown.element, {
      text: TEXT, muted: '0.3,1.0', head: '1.2', position: 5, color: 'attention', source: 'mean',
    });
    assert.deepEqual(choices(ready.element.state), choices(ready.iframe.state), 'the same state in both ready messages');
    assert.equal(ready.element.state.selectedPosition, 5, 'pos reaches the element');
  });

  await t.test('postMessage both ways: set-text, set-edits, get-state, error', async () => {
    const newText = 'Alice met Bob. Alice gave Bob a book. Alice';
    for (const to of ['element', 'iframe']) {
      await host.evaluate(([to, text]) => {
        window.sendTo(to, { type: 'headlight:set-text', text });
        window.sendTo(to, { type: 'headlight:set-edits', muted: ['0.1'], gains: { '1.1': 1.5 } });
        window.sendTo(to, { type: 'headlight:get-state' });
        window.sendTo(to, { type: 'headlight:select-head', layer: 99, head: 0 });
      }, [to, newText]);
    }
    const replies = {};
    for (const from of ['element', 'iframe']) {
      replies[from] = await lastMessage(host, from, "m.type === 'headlight:state' && m.reason === 'get-state'");
      const error = await lastMessage(host, from, "m.type === 'headlight:error'");
      console.log(`  ${from}: get-state -> ${replies[from].analysis.T} tokens, edits ${JSON.stringify(replies[from].state.edits)}; error "${error.message}"`);
      assert.match(error.message, /head 99\.0 is outside/);
      assert.equal(replies[from].state.text, newText);
    }
    assert.deepEqual(choices(replies.element.state), choices(replies.iframe.state));
    assert.deepEqual(replies.element.analysis.top_k, replies.iframe.analysis.top_k, 'the same predictions');
    const elementFrame = await frameOf(host, 'headlight-explorer >> iframe');
    const iframe = await frameOf(host, 'body > iframe');
    for (const frame of [elementFrame, iframe]) {
      await frame.waitForFunction(() => document.querySelectorAll('button.head[aria-pressed="true"]').length === 1);
    }
    assert.deepEqual(await shownState(elementFrame), await shownState(iframe));
  });

  await t.test('an attribute changed after send() keeps the sent text', async () => {
    const elementFrame = await frameOf(host, 'headlight-explorer >> iframe');
    await elementFrame.evaluate(() => (window.sameDocumentMark = 1));
    await host.$eval('headlight-explorer', (el) => {
      el.setAttribute('muted', '0.2');
      el.setAttribute('pos', '2');
    });
    await elementFrame.waitForFunction(() =>
      [...document.querySelectorAll('button.head[aria-pressed="true"]')].map((b) => `${b.dataset.layer}.${b.dataset.head}`).join() === '0.2');
    await host.evaluate(() => window.sendTo('element', { type: 'headlight:get-state' }));
    await host.waitForFunction(() => window.received.filter((m) => m.from === 'element' && m.data.reason === 'get-state').length === 2);
    const state = (await lastMessage(host, 'element', "m.reason === 'get-state'")).state;
    const shown = await shownState(elementFrame);
    console.log(`  after muted="0.2" pos="2": text "${state.text}", edits ${JSON.stringify(state.edits)}, pos ${state.selectedPosition}`);
    assert.equal(state.text, 'Alice met Bob. Alice gave Bob a book. Alice', 'the sent text stays');
    assert.equal(shown.text, state.text);
    assert.deepEqual(state.edits, [{ layer: 0, head: 2, gain: 0 }], 'muted="0.2" replaces the edits');
    assert.equal(shown.position, 2);
    assert.equal(await elementFrame.evaluate(() => window.sameDocumentMark), 1, 'no reload');
  });

  await t.test('screenshots: 1280 and 375 px, light and dark', async () => {
    for (const scheme of ['light', 'dark']) {
      await host.emulateMedia({ colorScheme: scheme });
      for (const width of [1280, 375]) {
        // Tall enough for both frames: a frame outside the viewport is not painted in a screenshot.
        await host.setViewportSize({ width, height: width < 700 ? 2400 : 1900 });
        await host.waitForTimeout(500);
        const overflow = await host.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `the host page fits ${width} px (overflow ${overflow} px)`);
        await host.screenshot({ path: artifactPath(`embed-cross-origin-${width}-${scheme}.png`), fullPage: true });
      }
    }
  });

  await t.test('no console error; requests only to A and B', () => {
    hostProblems.check('host page on B with both snippets');
  });
  await context.close();
});

test('the snippets\' default height shows the mean-loss line in a 700 px column', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  // The snippets for the page's default state, as the dialog gives them.
  await page.goto(headlight.url);
  await openDialog(page);
  const element = await page.inputValue('[data-role="embed-element"]');
  const iframe = await page.inputValue('[data-role="embed-iframe"]');
  await page.close();

  hostPages['/blog/column.html'] = hostPage(
    'A 700 px blog column',
    `${element}\n<p>Between the two.</p>\n${iframe}\n${RECORDER}`,
    { column: BLOG_COLUMN_PX },
  );
  const host = await context.newPage();
  const problems = watchBoth(context, host);
  await host.goto(`${blog.origin}/blog/column.html`);
  await lastMessage(host, 'element', "m.type === 'headlight:ready'");
  await lastMessage(host, 'iframe', "m.type === 'headlight:ready'");
  for (const [name, selector] of [['element', 'headlight-explorer >> iframe'], ['iframe', 'body > iframe']]) {
    const frame = await frameOf(host, selector);
    // height="auto" follows the content: wait until the frame has grown to it.
    await frame.waitForFunction(() => document.documentElement.scrollHeight <= window.innerHeight + 1);
    const figures = await frame.evaluate(() => ({
      width: window.innerWidth,
      frameHeight: window.innerHeight,
      contentHeight: document.documentElement.scrollHeight,
      meanLossBottom: document.querySelector('[data-role="mean-loss"]').getBoundingClientRect().bottom,
    }));
    console.log(`  ${name}: ${figures.width} px wide, frame ${figures.frameHeight} px, content ${figures.contentHeight} px, mean-loss line ends at ${figures.meanLossBottom.toFixed(0)} px`);
    assert.ok(figures.width >= BLOG_COLUMN_PX - 4 && figures.width <= BLOG_COLUMN_PX, `the ${name} is the column's width`);
    assert.ok(figures.meanLossBottom <= figures.frameHeight, `the ${name} shows the mean-loss line`);
    assert.ok(figures.contentHeight <= figures.frameHeight + 1, `the ${name} has nothing below the fold`);
  }
  await host.screenshot({ path: artifactPath('embed-cross-origin-700-column.png'), fullPage: true });
  problems.check('700 px column');
  await context.close();
});

test('the dialog says plainly what cannot be embedded', async (t) => {
  await t.test('a model opened from disk: no snippet, hosting it is explained', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchPage(context, page, headlight.origin);
    await page.goto(headlight.url);
    await page.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS });
    const dir = join(mkdtempSync(join(tmpdir(), 'headlight-local-')), 'my-model');
    execFileSync('mkdir', ['-p', dir]);
    const files = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'];
    for (const file of files) copyFileSync(join(REPO_ROOT, 'tests', 'fixtures', 'tiny-gpt', file), join(dir, file));
    await page.setInputFiles('[data-role="open-local-files"]', files.map((f) => join(dir, f)));
    const picked = await page.waitForFunction(() => {
      const option = document.querySelector('[data-role="model-picker"]').selectedOptions[0];
      return option?.textContent.includes('your files') && document.documentElement.dataset.ready === 'true' ? option.textContent : null;
    });
    console.log(`  opened: ${await picked.jsonValue()}`);
    await openDialog(page);
    const note = await page.textContent('[data-role="embed-note"]');
    console.log(`  note: "${note}"`);
    assert.ok(await page.isVisible('[data-role="embed-note"]'));
    assert.match(note, /opened from your own files/);
    assert.match(note, /base=/);
    assert.ok(await page.isHidden('[data-role="embed-element"]'), 'no element snippet');
    assert.ok(await page.isHidden('[data-role="embed-iframe"]'), 'no iframe snippet');
    assert.equal(await page.inputValue('[data-role="embed-element"]'), '', 'no snippet text to copy');
    await page.screenshot({ path: artifactPath('embed-dialog-local-model-1280.png') });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.setViewportSize({ width: 375, height: 800 });
    await page.screenshot({ path: artifactPath('embed-dialog-local-model-375-dark.png') });
    assertCleanPage(problems, 'page with a local model');
    await context.close();
  });

  await t.test('the single-file build opened from disk: nothing to embed, said so', async () => {
    const file = process.env.HEADLIGHT_SINGLE
      ? resolve(process.env.HEADLIGHT_SINGLE)
      : await timed('build the single file', async () => {
        const out = join(mkdtempSync(join(tmpdir(), 'headlight-single-embed-')), 'headlight.html');
        execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build-single.mjs'), '--out', out], { cwd: REPO_ROOT });
        return out;
      });
    assert.ok(readFileSync(file, 'utf8').length > 0);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchPage(context, page, 'file://');
    await page.goto(pathToFileURL(file).href);
    await openDialog(page);
    const note = await page.textContent('[data-role="embed-note"]');
    console.log(`  note: "${note}"`);
    assert.match(note, /single-file Headlight was opened from a file on your computer/);
    assert.match(note, /nothing here can be embedded/);
    assert.ok(await page.isHidden('[data-role="embed-element"]') && await page.isHidden('[data-role="embed-iframe"]'), 'no snippet');
    await page.screenshot({ path: artifactPath('embed-dialog-single-file-1280.png') });
    assertCleanPage(problems, 'single file');
    await context.close();
  });
});
