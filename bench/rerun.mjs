// The head-edit rerun's first phase (Engine.updateAt) outside the page: the
// default model at 128 tokens, head 0.0 toggled (every layer reruns), in Node
// and in a Chromium dedicated worker, each timed two ways:
//   back to back   - the calls follow each other, the CPU never idles;
//   after 150 ms   - each call after 150 ms of sleep, as a reader's clicks come.
// It separates the engine's own cost from the page's: bench/web.mjs times the
// same call inside the page. Median of 25 calls per way; prints a table.
// Run after scripts/build-wasm.sh: node bench/rerun.mjs
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium, serveStatic } from '../tests/e2e/helpers.mjs';
import { REPO_ROOT, WASM_DIR, createModule, readModelFolder } from '../tests/node/wasm-helpers.mjs';

const MODEL = 'gpt-4l';  // the page's default model
const MODEL_DIR = join(REPO_ROOT, 'models', MODEL);
const TOKENS = 128;
const CALLS = 25;
const IDLE_MS = 150;

// Runs in Node and, as source text, in the worker: `mod` is the Embind module.
async function measure(mod, files, tokens, calls, idleMs) {
  const engine = new mod.Engine();
  const loaded = engine.loadModel(files.configJson, files.safetensors, files.vocabJson, files.mergesTxt);
  if (!loaded.ok) throw new Error(loaded.error);
  const prose =
    'The old lighthouse keeper climbed the stairs every evening to light the lamp, and the ships ' +
    'that passed the rocks at night never knew his name. One winter a storm broke the glass, and ' +
    'he carried the lamp up the hill to the church tower, where it burned until the morning. ';
  const ids = engine.tokenize(prose.repeat(4)).ids.slice(0, tokens);
  if (ids.length !== tokens) throw new Error(`the text gave ${ids.length} tokens, not ${tokens}`);
  const ran = engine.run(ids, 10);
  if (!ran.ok) throw new Error(ran.error);
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
  const timed = async (wait) => {
    const times = [];
    for (let i = 0; i < calls + 3; i++) {
      if (wait) await sleep(idleMs);
      engine.setHeadGain(0, 0, i % 2 ? 1 : 0);
      const t0 = performance.now();
      const at = engine.updateAt(tokens - 1);
      const ms = performance.now() - t0;
      if (!at.ok) throw new Error(at.error);
      engine.finishUpdate();
      if (i >= 3) times.push(ms);  // the first calls warm up
    }
    return median(times);
  };
  const result = { backToBack: await timed(false), afterIdle: await timed(true) };
  engine.delete();
  return result;
}

async function inNode() {
  const mod = await createModule();
  return measure(mod, readModelFolder(MODEL_DIR), TOKENS, CALLS, IDLE_MS);
}

async function inChromium() {
  const dir = mkdtempSync(join(tmpdir(), 'headlight-rerun-'));
  try {
    for (const f of ['headlight.js', 'headlight.wasm']) copyFileSync(join(WASM_DIR, f), join(dir, f));
    for (const f of ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'])
      copyFileSync(join(MODEL_DIR, f), join(dir, f));
    writeFileSync(
      join(dir, 'worker.js'),
      `importScripts('headlight.js');
${measure.toString()}
(async () => {
  const bytes = async (f) => new Uint8Array(await (await fetch(f)).arrayBuffer());
  const text = async (f) => (await fetch(f)).text();
  const mod = await createHeadlight({ wasmBinary: await bytes('headlight.wasm') });
  const files = { configJson: await text('config.json'), safetensors: await bytes('model.safetensors'),
    vocabJson: await text('vocab.json'), mergesTxt: await text('merges.txt') };
  postMessage({ ok: true, result: await measure(mod, files, ${TOKENS}, ${CALLS}, ${IDLE_MS}) });
})().catch((error) => postMessage({ ok: false, error: String(error) }));
`,
    );
    writeFileSync(
      join(dir, 'index.html'),
      `<!doctype html><title>rerun</title><script src="page.js"></script>`,
    );
    writeFileSync(
      join(dir, 'page.js'),
      `window.done = new Promise((resolve) => { new Worker('worker.js').onmessage = (e) => resolve(e.data); });`,
    );
    const server = await serveStatic(dir, { prefix: '/' });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}index.html`);
      const answer = await page.evaluate(() => window.done);
      if (!answer.ok) throw new Error(answer.error);
      return { ...answer.result, version: browser.version() };
    } finally {
      await browser.close();
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const node = await inNode();
const chromium = await inChromium();
const row = (a, b, c) => `${a.padEnd(34)} ${b.padStart(14)} ${c.padStart(14)}`;
console.log(`Engine.updateAt: ${MODEL}, ${TOKENS} tokens, head 0.0 toggled, median of ${CALLS} calls`);
console.log('');
console.log(row('', 'back to back', `after ${IDLE_MS} ms`));
console.log(row(`Node ${process.versions.node}`, `${node.backToBack.toFixed(1)} ms`, `${node.afterIdle.toFixed(1)} ms`));
console.log(row(`Chromium ${chromium.version} worker`, `${chromium.backToBack.toFixed(1)} ms`, `${chromium.afterIdle.toFixed(1)} ms`));
