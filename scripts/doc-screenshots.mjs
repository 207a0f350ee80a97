#!/usr/bin/env node
// Remakes the README's pictures from the built page (web/dist, `npm run
// build` first) in Debian's Chromium: docs/induction-heads.png is attn-only-2l
// on the "Repeated random words" preset, the head grid beside its induction
// head up close. Usage: node scripts/doc-screenshots.mjs [--head L.H]
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { DIST_DIR, launchChromium, serveStatic } from '../tests/e2e/helpers.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const headArg = argv[argv.indexOf('--head') + 1];
const head = argv.includes('--head') ? headArg : '1.7';  // attn-only-2l's induction head (its card)
if (!/^\d+\.\d+$/.test(head)) throw new Error(`--head wants L.H, got '${headArg}'`);

const server = await serveStatic(DIST_DIR);
const browser = await launchChromium();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, colorScheme: 'light' });
  const page = await context.newPage();
  await page.goto(`${server.url}#model=attn-only-2l&head=${head}`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 60_000 });
  const before = await page.getAttribute('[data-role="head-grid"]', 'data-revision');
  await page.click('[data-preset="induction"]');
  await page.waitForFunction(
    (rev) => document.querySelector('[data-role="head-grid"]')?.dataset.revision !== rev, before,
    { timeout: 60_000 });
  await page.waitForTimeout(500);
  const title = await page.textContent('[data-role="detail-title"]');
  if (!title.includes(head)) throw new Error(`the detail panel shows '${title}', not head ${head}`);
  // The heads panel at the top of the window, the detail panel beside it.
  await page.$eval('[data-panel="heads"]', (el) => window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 16));
  await page.waitForTimeout(300);
  const out = path.join(repoRoot, 'docs/induction-heads.png');
  await page.screenshot({ path: out });
  console.log(`wrote ${path.relative(repoRoot, out)}: attn-only-2l, "Repeated random words", ${title.trim()} up close`);
} finally {
  await browser.close();
  await server.close();
}
