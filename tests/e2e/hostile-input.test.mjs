// Hostile input in real Chromium (issue 19, defects 4-7 and the embed's
// message rules): a lone UTF-16 surrogate in the text, a text too long for a
// link, megabyte values in the hash, circular and malformed postMessage
// payloads, model names that climb out of models/, a model that fails to
// load, and commands from a window other than the parent. Then 200 seeded
// random hashes and 200 seeded malformed payloads: after each the page still
// works, and each gets a notice or a headlight:error (or is ignored, when it
// is not a headlight message at all). Prints the counts.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { mulberry32 } from '../../scripts/lib/random.mjs';
import { importTs } from '../web/ts-import.mjs';
import {
  DIST_DIR,
  assertCleanPage,
  launchChromium,
  PREDICTION_LIST,
  predictionState,
  serveStatic,
  waitForNewPredictions,
  watchPage,
} from './helpers.mjs';

const PREFIX = '/headlight/';
const READY_TIMEOUT_MS = 30_000;
const REPLY_TIMEOUT_MS = 5_000;
const VALID_TEXT = 'The cat sat on the mat. The cat';
const CHECK_EVERY = 25;

const url = await importTs('web/src/state/url-state.ts');
let browser;
let server;
let index;
const served = {};

before(async () => {
  for (const needed of ['index.html', 'wasm/headlight.wasm', 'models/index.json']) {
    assert.ok(existsSync(join(DIST_DIR, needed)), `${join(DIST_DIR, needed)} is missing: run \`npm run build\` first`);
  }
  index = JSON.parse(readFileSync(join(DIST_DIR, 'models', 'index.json'), 'utf8'));
  // A model "broken": the default model's files with a config.json that is not JSON,
  // so that a set-model of a well-formed name fails without a 404 in the console.
  const folder = join(DIST_DIR, 'models', index.default);
  for (const file of readdirSync(folder)) {
    served[`${PREFIX}models/broken/${file}`] = readFileSync(join(folder, file));
  }
  served[`${PREFIX}models/broken/config.json`] = '{"n_layer": ';
  server = await serveStatic(DIST_DIR, { prefix: PREFIX, overrides: served });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const NOTICE = '[data-role="url-notice"]';
const NOTICE_TEXT = '[data-role="url-notice-text"]';

/** Sets the text box's value in the page (so lone surrogates survive) and fires input. */
async function typeText(page, codeUnits) {
  await page.evaluate((units) => {
    const box = document.querySelector('[data-role="text-input"]');
    box.value = String.fromCharCode(...units);
    box.dispatchEvent(new Event('input', { bubbles: true }));
  }, codeUnits);
}
const unitsOf = (text) => [...Array(text.length).keys()].map((i) => text.charCodeAt(i));

/**
 * The predictions repaint after a valid text: the page still works. `host`:
 * the explorer is in a frame of `host`, and the text comes as a set-text message.
 */
async function stillWorks(target, text, host = null) {
  const before = await predictionState(target);
  const fresh = `${text} ${before.revision}`;
  if (host) await host.evaluate((t) => window.sendToExplorer({ type: 'headlight:set-text', text: t }), fresh);
  else await typeText(target, unitsOf(fresh));
  await waitForNewPredictions(target, before.revision);
}

test('the full page: lone surrogates, long text and huge values in the link', async (t) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watchPage(context, page, server.origin);
  await page.goto(`${server.url}index.html`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS });

  await t.test('defect 4: a lone surrogate runs, links as U+FFFD and says so', async () => {
    const before = await predictionState(page);
    await typeText(page, [...unitsOf('a '), 0xd800, ...unitsOf(' b')]);
    await waitForNewPredictions(page, before.revision); // stayed stale before the fix
    const hash = await page.evaluate(() => window.location.hash);
    assert.match(hash, /text=a\+%EF%BF%BD\+b/, hash);
    await page.waitForSelector(NOTICE, { state: 'visible' });
    const notice = await page.textContent(NOTICE_TEXT);
    console.log(`  lone surrogate: hash ${hash}; notice "${notice}"`);
    assert.match(notice, /^A lone UTF-16 surrogate in the text became \uFFFD in the link\.$/);
    await stillWorks(page, VALID_TEXT);
    await page.waitForSelector(NOTICE, { state: 'hidden' }); // the note goes with the surrogate
  });

  await t.test('defect 7: a long text is cut in the link, and the notice says so', async () => {
    const long = 'The cat sat on the mat. '.repeat(500); // 12000 characters
    const before = await predictionState(page);
    await typeText(page, unitsOf(long));
    await waitForNewPredictions(page, before.revision);
    const carried = await page.evaluate(() => window.location.hash.length);
    const notice = await page.textContent(NOTICE_TEXT);
    console.log(`  ${long.length} characters of text: a hash of ${carried} characters; notice "${notice}"`);
    assert.ok(carried < url.MAX_LINK_TEXT * 2, `hash of ${carried} characters`);
    assert.match(notice, new RegExp(`^The link carries the first ${url.MAX_LINK_TEXT} characters of the text \\(of ${long.length}\\)\\.$`));
    await stillWorks(page, VALID_TEXT);
  });

  await t.test('defect 7: a 1 MB value in pos= gives a one-line notice', async () => {
    const huge = 'x'.repeat(1 << 20);
    await page.evaluate((value) => { window.location.hash = `text=hello&pos=${value}`; }, huge);
    await page.waitForFunction((selector) => document.querySelector(selector).textContent.includes('pos:'), NOTICE_TEXT);
    const notice = await page.textContent(NOTICE_TEXT);
    console.log(`  1 MB pos=: notice of ${notice.length} characters: "${notice}"`);
    assert.ok(notice.length < 300, `notice of ${notice.length} characters`);
    assert.match(notice, /\(1048576 characters\)/);
    await stillWorks(page, VALID_TEXT);
  });

  await t.test('200 seeded random hashes: each gives a notice; the page keeps working', async () => {
    const random = mulberry32(19);
    const pick = (list) => list[Math.floor(random() * list.length)];
    const names = [...url.PROPERTY_NAMES, 'nope', '', '%zz', '%ED%A0%80', 'x'.repeat(500)];
    const values = [
      () => '', () => '1', () => '0.1', () => '1.3,0.5', () => '2.1:0.5', () => 'heatmap', () => 'mean',
      () => 'edits,picker', () => '..', () => '../x', () => 'a%2Fb', () => index.default, () => '-1',
      () => '%', () => '%zz', () => '%ED%A0%80', () => '%F0%9F', () => 'x'.repeat(10_000),
      () => '9'.repeat(30), () => '1.3:9e99', () => 'NaN', () => '<img src=x onerror=alert(1)>',
      () => encodeURIComponent('漢字'.repeat(50)), () => '&&&', () => '=',
      () => String.fromCharCode(...Array.from({ length: 20 }, () => 32 + Math.floor(random() * 95))),
    ];
    const counts = { hashes: 0, withProblems: 0, noticed: 0, beyondMarker: 0 };
    for (let i = 0; i < 200; i += 1) {
      const parts = Array.from({ length: 1 + Math.floor(random() * 4) }, () => `${pick(names)}=${pick(values)()}`);
      const hash = `${parts.join('&')}&r=${i}`; // r: an unknown setting, so each hash is new and has a problem
      const expected = url.parseHash(hash).problems;
      await page.evaluate((value) => { window.location.hash = value; }, hash);
      counts.hashes += 1;
      if (expected.length > 1) counts.beyondMarker += 1;
      if (expected.length > 0) {
        counts.withProblems += 1;
        await page.waitForFunction(
          ([selector, mark]) => document.querySelector(selector).textContent.includes(mark),
          [NOTICE_TEXT, `"r"`],
        );
        const notice = await page.textContent(NOTICE_TEXT);
        assert.ok(notice.length < 2000, `hash ${i}: notice of ${notice.length} characters`);
        assert.equal(await page.$eval(NOTICE, (box) => box.hidden), false, `hash ${i}: the notice is shown`);
        counts.noticed += 1;
        await page.evaluate(() => document.querySelector('[data-role="url-notice-close"]').click());
      }
      if ((i + 1) % CHECK_EVERY === 0) await stillWorks(page, VALID_TEXT);
    }
    await stillWorks(page, VALID_TEXT);
    console.log(`  random hashes: ${counts.hashes} applied, ${counts.withProblems} with problems (${counts.beyondMarker} beyond the unknown marker r=), ${counts.noticed} noticed; predictions updated after every ${CHECK_EVERY}`);
    assert.equal(counts.noticed, counts.hashes);
  });

  await t.test('no console error, no request off the origin', () => {
    assertCleanPage(problems);
  });
  await context.close();
});

function hostPage() {
  const src = `${PREFIX}index.html?embed=1#text=${encodeURIComponent(VALID_TEXT)}`;
  // The sibling is another frame of the host page: the explorer must not take its commands.
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Host</title><link rel="icon" href="data:,"></head>
<body>
<iframe id="explorer" src="${src}" title="Headlight" width="100%" height="600" style="border:0"></iframe>
<iframe id="sibling" srcdoc="<p>another frame</p>" title="sibling"></iframe>
<script>
  window.received = [];
  const frame = document.getElementById('explorer');
  window.addEventListener('message', (e) => { if (e.source === frame.contentWindow) window.received.push(e.data); });
  window.sendToExplorer = (message) => frame.contentWindow.postMessage(message, '*');
  // Posted by the sibling's own script, so the message's source is the sibling.
  window.sendFromSibling = (message) =>
    document.getElementById('sibling').contentWindow.eval(
      \`parent.frames[0].postMessage(\${JSON.stringify(message)}, '*')\`);
  // Builds a malformed payload from a recipe (values Node cannot pass: cycles, deep nesting).
  window.hostile = ({ type, field, shape, size }) => {
    const circular = { layer: 1 };
    circular.self = circular;
    const deep = [];
    let cursor = deep;
    for (let i = 0; i < size; i += 1) cursor = cursor[0] = [];
    const value = {
      circular, deep, huge: 'x'.repeat(size), lone: 'a \\ud800 b', number: 12345, negative: -3,
      fraction: 1.5, array: [circular], object: { '1.2': circular }, hugeKey: { ['9.'.repeat(size)]: 1 },
      nan: NaN, nullish: null, string: 'not a thing', dots: '..', slash: 'a/b', emptyString: '',
    }[shape];
    const message = { type };
    if (field) message[field] = value;
    return message;
  };
  window.sendHostile = (recipe) => {
    const before = window.received.filter((m) => m.type === 'headlight:error').length;
    if (recipe.raw === 'string') frame.contentWindow.postMessage('headlight:set-text', '*');
    else if (recipe.raw === 'null') frame.contentWindow.postMessage(null, '*');
    else if (recipe.raw === 'circular-type') { const c = {}; c.type = c; frame.contentWindow.postMessage(c, '*'); }
    else frame.contentWindow.postMessage(window.hostile(recipe), '*');
    return before;
  };
</script>
</body></html>`;
}

test('the embed: malformed messages, bad models and other windows', async (t) => {
  served['/lessons/host.html'] = hostPage();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watchPage(context, page, server.origin);
  const errors = () => page.evaluate(() => window.received.filter((m) => m.type === 'headlight:error'));
  const nextError = async (count) => {
    const handle = await page.waitForFunction(
      (n) => window.received.filter((m) => m.type === 'headlight:error')[n],
      count,
      { timeout: REPLY_TIMEOUT_MS },
    );
    return handle.jsonValue();
  };
  await page.goto(`${server.origin}/lessons/host.html`);
  await page.waitForFunction(() => window.received.some((m) => m.type === 'headlight:ready'), null, { timeout: READY_TIMEOUT_MS });
  const frame = page.frame({ url: /index\.html\?embed=1/ });
  assert.ok(frame, 'the explorer frame');

  await t.test('defects 4 and 5: a lone surrogate and a circular set-edits get a headlight:error', async () => {
    const cases = [
      [{ type: 'headlight:set-text', field: 'text', shape: 'lone' }, /^headlight:set-text: text has 1 lone UTF-16 surrogate/],
      [{ type: 'headlight:set-edits', field: 'muted', shape: 'array' }, /^headlight:set-edits: muted: an object with keys "layer", "self" is not a head/],
      [{ type: 'headlight:set-edits', field: 'gains', shape: 'object' }, /^headlight:set-edits: gains: the gain of head 1\.2 must be .*, got an object/],
    ];
    for (const [recipe, expected] of cases) {
      const count = await page.evaluate((r) => window.sendHostile(r), recipe);
      const error = await nextError(count);
      console.log(`  ${recipe.type} ${recipe.shape}: "${error.message}"`);
      assert.match(error.message, expected);
      assert.equal(error.request, recipe.type);
    }
    await stillWorks(frame, VALID_TEXT, page);
  });

  await t.test("defect 6: '..' is refused, a model that fails answers with its name and reason", async () => {
    const count = (await errors()).length;
    await page.evaluate(() => window.sendToExplorer({ type: 'headlight:set-model', model: '..' }));
    const refused = await nextError(count);
    console.log(`  set-model "..": "${refused.message}"`);
    assert.match(refused.message, /^headlight:set-model: model must be a model name .* not "\.\."$/);
    await page.evaluate(() => window.sendToExplorer({ type: 'headlight:set-model', model: 'broken' }));
    const failed = await nextError(count + 1);
    console.log(`  set-model "broken": "${failed.message}"`);
    assert.match(failed.message, /^headlight:set-model: (model|Model) "broken" could not be loaded: ./);
    assert.equal(failed.request, 'headlight:set-model');
    const rootConfig = problems.requests.filter((r) => new URL(r).pathname.endsWith('/config.json') && !new URL(r).pathname.includes('/models/'));
    assert.deepEqual(rootConfig, [], 'no config.json fetched outside models/');
    const state = await page.evaluate(() => window.received.filter((m) => m.type === 'headlight:state').at(-1)?.state ?? null);
    assert.notEqual(state?.model, 'broken');
    await stillWorks(frame, VALID_TEXT, page);
  });

  await t.test('a message from a window other than the parent is ignored', async () => {
    const before = await page.evaluate(() => window.received.length);
    const revision = (await predictionState(frame)).revision;
    await page.evaluate(() => {
      window.sendFromSibling({ type: 'headlight:set-edits', muted: ['0.0'] });
      window.sendFromSibling({ type: 'headlight:select-head', layer: 99, head: 0 });
      window.sendFromSibling({ type: 'headlight:set-text', text: 'from the sibling' });
      window.sendToExplorer({ type: 'headlight:get-state' });
    });
    const reply = await (await page.waitForFunction(
      () => window.received.find((m) => m.type === 'headlight:state' && m.reason === 'get-state'),
    )).jsonValue();
    const since = await page.evaluate((n) => window.received.slice(n).map((m) => m.type).filter((type) => type !== 'headlight:size'), before);
    console.log(`  3 commands from the sibling frame, then get-state from the parent: replies ${JSON.stringify(since)}`);
    assert.deepEqual(since, ['headlight:state'], 'only the parent\'s get-state was answered');
    assert.deepEqual(reply.state.edits, [], 'the sibling muted nothing');
    assert.ok(!reply.state.text.includes('sibling'), 'the sibling set no text');
    assert.equal((await predictionState(frame)).revision, revision, 'nothing was rerun');
    assert.equal(await frame.$eval(PREDICTION_LIST, (l) => l.isConnected), true);
  });

  await t.test('200 seeded malformed payloads: each answered or ignored, the explorer keeps working', async () => {
    const random = mulberry32(1919);
    const pick = (list) => list[Math.floor(random() * list.length)];
    const answered = [
      ['headlight:set-text', 'text', ['circular', 'deep', 'lone', 'number', 'array', 'emptyString', 'nullish', 'huge']],
      ['headlight:set-edits', 'muted', ['circular', 'deep', 'huge', 'number', 'array', 'string', 'dots']],
      ['headlight:set-edits', 'gains', ['circular', 'deep', 'object', 'hugeKey', 'number', 'string']],
      ['headlight:select-head', 'layer', ['circular', 'deep', 'huge', 'negative', 'fraction', 'nan', 'nullish']],
      ['headlight:select-position', 'position', ['circular', 'huge', 'fraction', 'nan', 'string', 'lone']],
      ['headlight:set-display', 'view', ['circular', 'deep', 'huge', 'lone', 'number', 'string']],
      ['headlight:set-display', 'hide', ['circular', 'array', 'huge', 'string']],
      ['headlight:set-model', 'model', ['circular', 'deep', 'huge', 'dots', 'slash', 'lone', 'number', 'emptyString']],
    ];
    const ignored = [{ raw: 'string' }, { raw: 'null' }, { raw: 'circular-type' }, { type: 'headlight:dance', field: 'x', shape: 'circular' }, { type: 'other:thing', field: 'x', shape: 'huge', size: 1000 }];
    const counts = { sent: 0, answered: 0, ignored: 0, longest: 0 };
    for (let i = 0; i < 200; i += 1) {
      const wantsAnswer = random() < 0.85;
      let recipe;
      if (wantsAnswer) {
        const [type, field, shapes] = pick(answered);
        // select-head needs both numbers; 'huge' is 1 MB of text or 2000 levels of nesting.
        recipe = { type, field, shape: pick(shapes), size: random() < 0.5 ? 2000 : 1 << 20 };
        if (recipe.shape === 'deep') recipe.size = 2000;
        if (recipe.type === 'headlight:set-text' && recipe.shape === 'huge') recipe.size = 5000;
      } else {
        recipe = pick(ignored);
      }
      const count = await page.evaluate((r) => window.sendHostile(r), recipe);
      counts.sent += 1;
      if (wantsAnswer) {
        const error = await nextError(count);
        assert.ok(error.message.startsWith(`${recipe.type}: `), error.message);
        assert.ok(error.message.length < 500, `${recipe.type} ${recipe.shape}: error of ${error.message.length} characters`);
        counts.longest = Math.max(counts.longest, error.message.length);
        counts.answered += 1;
      } else {
        counts.ignored += 1;
      }
      if ((i + 1) % CHECK_EVERY === 0) await stillWorks(frame, VALID_TEXT, page);
    }
    // No reply came for an ignored message: the error count is the answered count (+ the 5 above).
    await stillWorks(frame, VALID_TEXT, page);
    const total = (await errors()).length;
    console.log(`  malformed payloads: ${counts.sent} sent, ${counts.answered} answered with headlight:error (longest ${counts.longest} characters), ${counts.ignored} not headlight messages, ignored; ${total} errors in all; predictions updated after every ${CHECK_EVERY}`);
    assert.equal(total, counts.answered + 5);
  });

  await t.test('no console error, no request off the origin', () => {
    assertCleanPage(problems);
  });
  await context.close();
});
