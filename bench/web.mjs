// npm run bench:web: the page's three measures in Debian Chromium
// (playwright-core, headless), against the targets:
//   1. navigation -> interactive head grid with the default model (cold: a new
//      browser context, so nothing is cached), median of 5 loads;
//   2. mute click -> repainted predictions, median of 20, at 32, 128 and 256
//      tokens (256: the default model's whole context since it grew)
//      (heads 0.0 and 0.1: the worst case, every layer reruns), cold (the
//      rerun starts at the click) and aimed (the pointer rests on the head
//      first and the page prepares the edit; see measureEditToPaint);
//   3. JS the page loads, gzip, without wasm and model.
// The page is built into a temporary folder first (or HEADLIGHT_DIST names a
// built one) and served by a plain node:http server on 127.0.0.1.
// Prints a table; asserts only that each measured repaint showed the new
// values (see measureEditToPaint).
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';
import { REPO_ROOT, launchChromium, serveStatic } from '../tests/e2e/helpers.mjs';

const TARGET_INTERACTIVE_MS = 2000;
const TARGET_EDIT_MS = 50;
const TARGET_JS_KB = 150;
const LOADS = 5;
const CLICKS = 20;
const READY_TIMEOUT_MS = 60_000;
const TOKEN_COUNTS = [32, 128, 256];
// Plain prose, repeated: the bench cuts it to an exact token count.
const PROSE =
  'The old lighthouse keeper climbed the stairs every evening to light the lamp, and the ships ' +
  'that passed the rocks at night never knew his name. One winter a storm broke the glass, and ' +
  'he carried the lamp up the hill to the church tower, where it burned until the morning. ';

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function filesUnder(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

async function buildPage() {
  if (process.env.HEADLIGHT_DIST)
    return { dir: resolve(process.env.HEADLIGHT_DIST), temporary: false };
  const dir = mkdtempSync(join(tmpdir(), 'headlight-bench-'));
  await build({
    configFile: join(REPO_ROOT, 'web', 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: dir, emptyOutDir: true },
  });
  return { dir, temporary: true };
}

// The time since navigation start at which <html data-ready="true"> appears.
const READY_MARK = () => {
  new MutationObserver((_, observer) => {
    if (document.documentElement?.dataset.ready === 'true') {
      window.__headlightReadyMs = performance.now();
      observer.disconnect();
    }
    // The init script runs before <html> exists: watch the whole document.
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-ready'] });
};

async function measureInteractive(browser, url) {
  const times = [];
  for (let i = 0; i < LOADS; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript(READY_MARK);
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction(() => window.__headlightReadyMs !== undefined, null, {
      timeout: READY_TIMEOUT_MS,
    });
    times.push(await page.evaluate(() => window.__headlightReadyMs));
    await context.close();
  }
  return times;
}

async function setText(page, text) {
  const revision = await page.$eval('[data-role="prediction-list"]', (l) => l.dataset.revision);
  await page.fill('[data-role="text-input"]', text);
  await page.waitForFunction(
    (previous) =>
      document.querySelector('[data-role="prediction-list"]').dataset.revision !== previous,
    revision,
    { timeout: READY_TIMEOUT_MS },
  );
  return Number(await page.$eval('[data-role="token-list"]', (l) => l.dataset.count));
}

// The shortest prefix of PROSE (repeated) in words that gives `target` tokens;
// the model cuts longer texts to its context, so n_positions is the ceiling.
async function textWithTokens(page, target) {
  const words = PROSE.repeat(Math.ceil((target * 2) / 40) + 2)
    .trim()
    .split(' ');
  let lo = 1;
  let hi = words.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((await setText(page, words.slice(0, mid).join(' '))) >= target) hi = mid;
    else lo = mid + 1;
  }
  const T = await setText(page, words.slice(0, lo).join(' '));
  return T;
}

// The clicks go round two heads of layer 0 (every layer reruns): mute A,
// mute B, unmute A, unmute B, so the predictions cycle through four sets of
// values. A round ends when the list shows values other than those before
// the click (data-revision alone could count a repaint of the old values),
// and after the rounds every one of them must have shown the values of its
// own state: those of four rounds before.
//   cold:  the pointer is away from the grid and the click is the DOM's
//          (it moves no focus), so nothing is prepared and each click's
//          rerun starts at the click;
//   aimed: the pointer rests on the head (a real mouse move) for AIM_MS
//          before the click, as a reader's does, and the page prepares the
//          edit meanwhile (the 'prepare' method of protocol.ts).
const AIM_MS = 150;
async function measureEditToPaint(page, heads, aimed) {
  const selector = (layer, head) =>
    `[data-role="head-grid"] button.head[data-layer="${layer}"][data-head="${head}"]`;
  const times = [];
  const forwardMs = [];
  const positionMs = [];
  let preparedRounds = 0;
  const preparedMs = [];
  const shown = [await page.evaluate(() => {
    const list = document.querySelector('[data-role="prediction-list"]');
    return `${list.dataset.ids}|${list.dataset.probs}`;
  })];
  for (let i = 0; i < CLICKS + 4; i++) {
    const [layer, head] = heads[i % heads.length];
    if (aimed) {
      // hover() scrolls the head into view and moves the mouse onto it.
      await page.locator(selector(layer, head)).hover();
      await page.waitForTimeout(AIM_MS);
    } else {
      await page.mouse.move(1, 1);
    }
    const round = await page.evaluate(async (buttonSelector) => {
      const list = document.querySelector('[data-role="prediction-list"]');
      const button = document.querySelector(buttonSelector);
      const values = () => `${list.dataset.ids}|${list.dataset.probs}`;
      // After the frame that shows the new bars is painted: rAF runs before
      // paint, a message posted from it is handled after.
      const afterPaint = () =>
        new Promise((done) =>
          requestAnimationFrame(() => {
            const channel = new MessageChannel();
            channel.port1.onmessage = () => done();
            channel.port2.postMessage(0);
          }),
        );
      const timing = document.querySelector('[data-role="timing"]');
      const previous = list.dataset.revision;
      const before = values();
      const changed = new Promise((done) => {
        const observer = new MutationObserver(() => {
          if (list.dataset.revision !== previous && values() !== before) {
            observer.disconnect();
            done();
          }
        });
        observer.observe(list, { attributes: true, attributeFilter: ['data-revision'] });
      });
      // The whole render (grid, detail, tokens) ends by rewriting the
      // timing line: the next click starts from a settled page, as a
      // reader's would, not while the last one's grid is still drawing.
      const settled = new Promise((done) => {
        const observer = new MutationObserver(() => {
          observer.disconnect();
          done(timing.textContent);
        });
        observer.observe(timing, { childList: true, characterData: true, subtree: true });
        setTimeout(() => {
          observer.disconnect();
          done(null);
        }, 2000);
      });
      const t0 = performance.now();
      button.click();
      await changed;
      const shownValues = values();
      await afterPaint();
      const ms = performance.now() - t0;
      return { ms, shown: shownValues, line: await settled };
    }, selector(layer, head));
    shown.push(round.shown);
    if (i < 4) continue;  // the first round of each head warms up
    times.push(round.ms);
    const line = round.line;
    const forward = line && /: ([0-9.]+) ms/.exec(line);
    if (forward) forwardMs.push(Number(forward[1]));
    const position = line && /position \d+ after ([0-9.]+) ms/.exec(line);
    if (position) positionMs.push(Number(position[1]));
    const ahead = line && /prepared before the click \(([0-9.]+) ms\)/.exec(line);
    if (ahead) {
      preparedRounds++;
      preparedMs.push(Number(ahead[1]));
    }
  }
  const cycle = 2 * heads.length;
  for (let i = cycle; i < shown.length; i++) {
    if (shown[i] !== shown[i - cycle]) {
      throw new Error(`round ${i}: the predictions shown are not those of its head state (${shown[i]} vs ${shown[i - cycle]})`);
    }
  }
  return { times, forwardMs, positionMs, preparedRounds, preparedMs };
}

function jsSizes(dir) {
  const gz = (files) =>
    files.reduce((n, f) => n + gzipSync(readFileSync(f), { level: 9 }).length, 0);
  const page = filesUnder(join(dir, 'assets')).filter((f) => f.endsWith('.js'));
  const glue = [join(dir, 'wasm', 'headlight.js')];
  const element = [join(dir, 'embed', 'headlight-explorer.js')].filter((f) => {
    try {
      return statSync(f).isFile();
    } catch {
      return false;
    }
  });
  return {
    pageKb: gz(page) / 1024,
    glueKb: gz(glue) / 1024,
    elementKb: gz(element) / 1024,
    files: page.map((f) => relative(dir, f)),
  };
}

function row(measure, value, target, ok) {
  return `${measure.padEnd(62)} ${value.padStart(12)}   ${target.padEnd(10)} ${ok === null ? '' : ok ? 'ok' : 'MISSED'}`;
}

async function main() {
  const { dir, temporary } = await buildPage();
  const index = JSON.parse(readFileSync(join(dir, 'models', 'index.json'), 'utf8'));
  const config = JSON.parse(
    readFileSync(join(dir, 'models', index.default, 'config.json'), 'utf8'),
  );
  const server = await serveStatic(dir, { prefix: '/headlight/' });
  const browser = await launchChromium();
  const lines = [];
  try {
    const interactive = await measureInteractive(browser, server.url);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS });
    const edits = [];
    for (const target of TOKEN_COUNTS) {
      // A model whose context is one of the counts runs no longer text again.
      if (target > config.n_positions && TOKEN_COUNTS.includes(config.n_positions)) continue;
      const T = await textWithTokens(page, Math.min(target, config.n_positions));
      for (const aimed of [false, true]) {
        const run = await measureEditToPaint(page, [[0, 0], [0, 1]], aimed);
        edits.push({ target, T, aimed, ...run });
      }
    }
    await context.close();
    const js = jsSizes(dir);

    const chromium = browser.version();
    lines.push(
      `Headlight page bench: model ${index.default} (${config.n_layer} layers x ${config.n_head} heads, ` +
        `d_model ${config.n_embd}, ${config.n_positions} positions), Chromium ${chromium} headless, ${server.url}`,
    );
    lines.push('');
    lines.push(row('measure', 'value', 'target', null));
    lines.push(row('-'.repeat(62), '-'.repeat(12), '-'.repeat(10), null));
    const ready = median(interactive);
    lines.push(
      row(
        `navigation -> interactive head grid (cold, median of ${LOADS})`,
        `${ready.toFixed(0)} ms`,
        `<= ${TARGET_INTERACTIVE_MS} ms`,
        ready <= TARGET_INTERACTIVE_MS,
      ),
    );
    for (const { target, T, aimed, times, forwardMs, positionMs, preparedRounds, preparedMs } of edits) {
      const m = median(times);
      const label =
        `mute click -> repainted predictions, ${T} tokens, ${aimed ? 'aimed' : 'cold'} (median of ${CLICKS})`;
      // The target is stated at 128 tokens; 32 and 256 are shown for scale.
      lines.push(
        row(
          label,
          `${m.toFixed(1)} ms`,
          `<= ${TARGET_EDIT_MS} ms`,
          target === 128 ? m <= TARGET_EDIT_MS : null,
        ),
      );
      if (T !== target) {
        const why = T < target && T === config.n_positions ? "the model's context holds" : 'the nearest cut of the text gives';
        lines.push(`  (${target} tokens asked: ${why} ${T})`);
      }
      lines.push(row(`  clicks whose edit was prepared before the click`, `${preparedRounds} of ${times.length}`, '', null));
      lines.push(
        row(
          `  (min / max of the ${CLICKS})`,
          `${Math.min(...times).toFixed(1)} / ${Math.max(...times).toFixed(1)}`,
          '',
          null,
        ),
      );
      if (forwardMs.length > 0) {
        lines.push(row(`  of which the engine's rerun in the worker (median)`, `${median(forwardMs).toFixed(1)} ms`, '', null));
      }
      // The rerun's first phase: the edited layers and the shown position's
      // predictions, posted before the head runs at the other positions.
      if (preparedMs.length > 0) {
        lines.push(row(`  the first phase, computed while the pointer rested (median)`, `${median(preparedMs).toFixed(1)} ms`, '', null));
      }
      if (positionMs.length > 0) {
        lines.push(row(`  the rerun's first phase, to the shown predictions (median)`, `${median(positionMs).toFixed(1)} ms`, '', null));
      }
    }
    const total = js.pageKb + js.glueKb;
    lines.push(
      row(
        'JS the page loads, gzip (page + worker + wasm glue)',
        `${total.toFixed(1)} KB`,
        `<= ${TARGET_JS_KB} KB`,
        total <= TARGET_JS_KB,
      ),
    );
    lines.push(row('  of which page and worker chunks', `${js.pageKb.toFixed(1)} KB`, '', null));
    lines.push(
      row('  of which wasm glue (wasm/headlight.js)', `${js.glueKb.toFixed(1)} KB`, '', null),
    );
    if (js.elementKb > 0)
      lines.push(
        row('<headlight-explorer> element script, gzip', `${js.elementKb.toFixed(1)} KB`, '', null),
      );
    lines.push('');
    lines.push(`loads (ms): ${interactive.map((t) => t.toFixed(0)).join(' ')}`);
    console.log(lines.join('\n'));
  } finally {
    await browser.close();
    await server.close();
    if (temporary) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
