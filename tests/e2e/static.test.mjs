// Offline and static hosting in real Chromium:
// 1. the built page (HEADLIGHT_DIST, default web/dist) served by a plain
//    node:http file server under a sub-path, /some/dir/, with no special
//    headers: it loads, draws, reacts to a head click, and every request stays
//    inside /some/dir/ on the origin;
// 2. the single-file build (scripts/build-single.mjs, built here into a
//    temporary folder unless HEADLIGHT_SINGLE names one) opened from disk
//    (file://): it runs the model with no request but its own file and blob:
//    URLs, under a CSP without 'unsafe-inline' or 'unsafe-eval'.
// Neither may log a console error. Prints the figures it checks.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import {
  DIST_DIR,
  PREDICTION_LIST,
  REPO_ROOT,
  artifactPath,
  assertCleanPage,
  canvasStats,
  launchChromium,
  serveStatic,
  timed,
  watchPage,
} from './helpers.mjs';

const DIST = DIST_DIR;  // HEADLIGHT_DIST or web/dist (helpers.mjs)
const PREFIX = '/some/dir/';
const READY_TIMEOUT_MS = 30_000;
const LIST = PREDICTION_LIST;

let browser;

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

function filesUnder(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

async function checkGridAndMute(page, expectedHeads) {
  const stats = await canvasStats(page, '[data-role="head-grid"] canvas');
  assert.equal(stats.length, expectedHeads, 'one heatmap per head');
  assert.ok(
    stats.every((s) => s.painted > 0 && s.colours >= 2),
    'every heatmap is drawn, not blank',
  );
  const before = await page.$eval(LIST, (list) => ({
    revision: list.dataset.revision,
    probs: list.dataset.probs,
  }));
  await page.click('[data-role="head-grid"] button.head[data-layer="0"][data-head="0"]');
  await page.waitForFunction(
    ([selector, revision]) => document.querySelector(selector).dataset.revision !== revision,
    [LIST, before.revision],
  );
  const afterMute = await page.$eval(LIST, (list) => list.dataset.probs);
  assert.notEqual(afterMute, before.probs, 'muting head 0.0 changes the predictions');
  console.log(
    `  ${stats.length} heatmaps drawn; muting 0.0 moved the top-5 from ${before.probs.split(',')[0].slice(0, 8)}... to ${afterMute.split(',')[0].slice(0, 8)}...`,
  );
}

test('web/dist from a plain static server under a sub-path', async () => {
  assert.ok(
    existsSync(join(DIST, 'index.html')),
    `${DIST}/index.html is missing: run \`npm run build\` first`,
  );
  // Nothing in the built page points at the server's root or at another origin.
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const absolute = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)]
    .map((m) => m[1])
    .filter((url) => !url.startsWith('./') && !url.startsWith('data:'));
  assert.deepEqual(absolute, [], 'index.html references only relative URLs');
  const css = filesUnder(DIST)
    .filter((f) => f.endsWith('.css'))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  assert.ok(
    !/@import|url\(\s*["']?(?:https?:)?\/\//.test(css),
    'the stylesheet loads nothing from another origin',
  );

  const index = JSON.parse(readFileSync(join(DIST, 'models', 'index.json'), 'utf8'));
  const config = JSON.parse(
    readFileSync(join(DIST, 'models', index.default, 'config.json'), 'utf8'),
  );
  const server = await serveStatic(DIST, { prefix: PREFIX });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = watchPage(context, page, server.origin);
  try {
    await timed(`navigation to interactive grid under ${PREFIX}`, async () => {
      await page.goto(server.url);
      await page.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS });
    });
    await checkGridAndMute(page, config.n_layer * config.n_head);
    const outside = problems.requests.filter(
      (url) =>
        !url.startsWith(`${server.origin}${PREFIX}`) &&
        !url.startsWith('blob:') &&
        !url.startsWith('data:'),
    );
    console.log(`  ${problems.requests.length} requests, all under ${server.origin}${PREFIX}`);
    assert.deepEqual(outside, [], 'every request stays under the sub-path');
    assertCleanPage(problems);
  } finally {
    await context.close();
    await server.close();
  }
});

// Issue 19 (injection): the served page's CSP allows no eval and no inline
// script, and its markup gives such a policy nothing to refuse (no inline
// script, no on* handler attribute, no style attribute: style-src 'self').
test('web/dist/index.html: a CSP without unsafe-eval or unsafe-inline, nothing inline', () => {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const csp = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
  assert.ok(csp, 'the page has a CSP');
  const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
  console.log(`  CSP: ${csp}`);
  assert.ok(!/'unsafe-eval'|'unsafe-inline'|'unsafe-hashes'/.test(csp), 'no unsafe-eval, unsafe-inline or unsafe-hashes');
  assert.deepEqual(directives.get('script-src'), ["'self'", "'wasm-unsafe-eval'"]);
  for (const name of ['default-src', 'connect-src', 'worker-src', 'style-src']) {
    assert.deepEqual(directives.get(name), ["'self'"], `${name} is 'self' only`);
  }
  assert.deepEqual(directives.get('object-src'), ["'none'"]);
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
  const inline = scripts.filter(([, attributes, body]) => !/\bsrc="/.test(attributes) || body.trim() !== '');
  const handlers = [...html.matchAll(/<[a-z][^>]*\s(on[a-z]+)=/gi)].map((m) => m[1]);
  const styles = [...html.matchAll(/<[a-z][^>]*\sstyle=/gi)].length;
  console.log(`  ${scripts.length} script elements, ${inline.length} inline; ${handlers.length} on* attributes; ${styles} style attributes`);
  assert.equal(inline.length, 0, 'every script is a file');
  assert.deepEqual(handlers, [], 'no inline event handler');
  assert.equal(styles, 0, 'no style attribute');
});

function singleFile() {
  if (process.env.HEADLIGHT_SINGLE) return resolve(process.env.HEADLIGHT_SINGLE);
  const out = join(mkdtempSync(join(tmpdir(), 'headlight-single-test-')), 'headlight.html');
  const log = execFileSync(
    process.execPath,
    [join(REPO_ROOT, 'scripts', 'build-single.mjs'), '--out', out],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    },
  );
  console.log(`  ${log.trim()}`);
  return out;
}

test('the single-file build works from file://', async (t) => {
  const file = await timed('build the single file', async () => singleFile());
  const html = readFileSync(file, 'utf8');
  const url = pathToFileURL(file).href;

  await t.test('one file: no reference to any other file, a strict CSP', () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    assert.ok(csp, 'the page has a CSP');
    console.log(
      `  ${(statSync(file).size / 1024 / 1024).toFixed(2)} MB; CSP: ${csp.replace(/'sha256-[^']+'/g, "'sha256-…'")}`,
    );
    assert.ok(
      !csp.includes('unsafe-inline') && !/'unsafe-eval'/.test(csp),
      'no unsafe-inline, no unsafe-eval',
    );
    assert.match(csp, /script-src 'sha256-[^']+' 'sha256-[^']+' blob: 'wasm-unsafe-eval'/);
    assert.match(csp, /worker-src blob:/);
    // The markup only: inline code may hold such text in its strings.
    const markup = html.replace(/(<(script|style)\b[^>]*>)[\s\S]*?(<\/\2>)/g, '$1$3');
    const references = [...markup.matchAll(/\b(?:src|href)="([^"]+)"/g)]
      .map((m) => m[1])
      .filter((u) => !u.startsWith('data:'));
    assert.deepEqual(references, [], 'no src or href to another file');
  });

  await t.test('opened from disk, it loads the model and reacts to edits', async () => {
    const model = JSON.parse(
      Buffer.from(/data-path="models\/index.json"[^>]*>([^<]+)</.exec(html)[1], 'base64').toString(
        'utf8',
      ),
    );
    const configBase64 = new RegExp(
      `data-path="models/${model.default}/config.json"[^>]*>([^<]+)<`,
    ).exec(html)[1];
    const config = JSON.parse(Buffer.from(configBase64, 'base64').toString('utf8'));
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchPage(context, page, 'file://');
    try {
      await timed(`file:// navigation to interactive grid (model ${model.default})`, async () => {
        await page.goto(`${url}#muted=1.1`);
        await page.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS });
      });
      assert.equal(
        await page.getAttribute(
          '[data-role="head-grid"] button.head[data-layer="1"][data-head="1"]',
          'aria-pressed',
        ),
        'true',
        'the URL hash applies: head 1.1 is muted',
      );
      await checkGridAndMute(page, config.n_layer * config.n_head);
      const elsewhere = problems.requests.filter(
        (r) =>
          r !== url && r !== `${url}#muted=1.1` && !r.startsWith('blob:') && !r.startsWith('data:'),
      );
      console.log(
        `  ${problems.requests.length} requests: the file itself and ${problems.requests.filter((r) => r.startsWith('blob:')).length} blob: URLs`,
      );
      assert.deepEqual(elsewhere, [], 'no request but the file itself, blob: and data: URLs');
      // A CSP violation would be a console error.
      assertCleanPage(problems, 'single file');
      await page.screenshot({ path: artifactPath('single-file-1280.png') });
    } finally {
      await context.close();
    }
  });
});
