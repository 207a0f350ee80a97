// Fine-tune heads through the wasm engine, as the page's worker runs it
// (web/src/engine/finetune-job.ts, in parts): on the shipped gpt-4l-8k, only
// the chosen heads' slices of c_attn and c_proj change (every other number of
// the returned safetensors keeps its bits), the loaded model is untouched (its
// logits bit for bit, after a run and after a cancel), the original's file,
// sent only when asked (the reader's own files: Undo), equals the shipped
// weights, the loss on the examples falls, a long run comes in several parts
// of about the part budget, the fine-tuned folder loads and gives the loss
// the job reported, and the page's presets do what they say on the heads they
// target. Bad input gets a message. Prints the figures it checks.
//
// Needs build/wasm (scripts/build-wasm.sh).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { importTs } from '../web/ts-import.mjs';
import { REPO_ROOT, createModule, expectOk, loadFolder, readModelFolder } from './wasm-helpers.mjs';

const MODEL = 'gpt-4l-8k';
let Module;
let FineTuneJob;
let FINETUNE_PART_MS;
let presets;
let files;

before(async () => {
  Module = await createModule();
  ({ FineTuneJob, FINETUNE_PART_MS } = await importTs('web/src/engine/finetune-job.ts'));
  presets = await importTs('web/src/views/finetune-presets.ts');
  files = readModelFolder(path.join(REPO_ROOT, 'models', MODEL));
});

function loadedEngine(folder = files) {
  const engine = new Module.Engine();
  const info = expectOk(loadFolder(engine, folder), 'loadModel');
  return { engine, info };
}

/** name -> { dtype, shape, bytes } of a safetensors file. */
function tensors(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  const out = new Map();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [a, b] = t.data_offsets;
    out.set(name.replace(/^transformer\./, ''), { dtype: t.dtype, shape: t.shape, bytes: bytes.subarray(8 + n + a, 8 + n + b) });
  }
  return out;
}

function f32(t) {
  assert.equal(t.dtype, 'F32');
  return new Uint32Array(t.bytes.slice().buffer);  // bits, for a bit-for-bit comparison
}

/** F16 bits -> F32 bits (exact: every f16 is an f32). */
function f16ToF32Bits(t) {
  const h = new Uint16Array(t.bytes.slice().buffer);
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const s = h[i] >> 15, e = (h[i] >> 10) & 31, m = h[i] & 1023;
    const v = e === 0 ? m * 2 ** -24 : e === 31 ? (m ? NaN : Infinity) : (1 + m / 1024) * 2 ** (e - 15);
    out[i] = s ? -v : v;
  }
  return new Uint32Array(out.buffer);
}

/** Is entry i of tensor `name` one the heads own (wasm/core/head_finetune.h)? */
function ownedBy(heads, name, C, D) {
  const m = /^h\.(\d+)\.attn\.(c_attn|c_proj)\.(weight|bias)$/.exec(name);
  if (!m || (m[2] === 'c_proj' && m[3] === 'bias')) return () => false;
  const layer = Number(m[1]);
  const mine = heads.filter((h) => h.layer === layer).map((h) => h.head);
  if (m[2] === 'c_proj') return (i) => mine.includes(Math.floor(Math.floor(i / C) / D));
  const width = 3 * C;
  return (i) => mine.includes(Math.floor(((m[3] === 'bias' ? i : i % width) % C) / D));
}

/** Mean attention of each query on the latest earlier comma (queries that have one). */
function previousCommaMass(attn, offset, tokens) {
  const T = tokens.length;
  let sum = 0, n = 0, last = -1;
  for (let t = 0; t < T; t++) {
    if (last >= 0) {
      sum += attn[offset + t * T + last];
      n++;
    }
    if (tokens[t].includes(',')) last = t;
  }
  return n ? sum / n : 0;
}

/** The mean of a measure over the examples for edited head k, before and after. */
function measured(reply, k, measure) {
  const K = reply.heads.length / 2;
  let offset = 0, before = 0, after = 0;
  for (const tokens of reply.example_tokens) {
    const at = offset + k * tokens.length ** 2;
    before += measure(reply.edited_before, at, tokens);
    after += measure(reply.edited_after, at, tokens);
    offset += K * tokens.length ** 2;
  }
  const E = reply.example_tokens.length;
  return { before: before / E, after: after / E };
}

/** The job as the worker and the page run it: start, parts until done, finish. */
async function finetuneHeads(engine, model, request, onPart = () => {}) {
  const job = FineTuneJob.start(engine, model, request);
  for (;;) {
    const part = job.part();
    onPart(part);
    if (part.done) return job.finish();
  }
}

async function run(engine, info, heads, examples, { steps = 20, lr = 0.003, keep_original = false } = {}) {
  const parts = [];
  const reply = await finetuneHeads(
    engine,
    { name: MODEL, n_positions: info.n_positions, vocabJson: files.vocabJson, mergesTxt: files.mergesTxt },
    { heads: Int32Array.from(heads.flatMap((h) => [h.layer, h.head])), examples, heldout: presets.DEFAULT_HELDOUT, steps, lr, keep_original },
    (p) => parts.push(p),
  );
  return { reply, parts };
}

/** The loaded model's logits on a text, [T x V] (the page's predictions come from them). */
function logitsOf(engine, text) {
  const ids = expectOk(engine.tokenize(text), 'tokenize').ids;
  expectOk(engine.run(ids, 5), 'run');
  return expectOk(engine.getLogits(), 'getLogits').logits;
}

/** Entries of two float arrays whose bits differ. */
function bitsDiffer(a, b) {
  assert.equal(a.length, b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let n = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) n++;
  return n;
}

test(`${MODEL}: only the chosen heads' slices change, the loss falls, the folder loads`, async () => {
  const { engine, info } = loadedEngine();
  const heads = [{ layer: 2, head: 5 }, { layer: 0, head: 3 }];
  const preset = presets.FINETUNE_PRESETS[0];
  const before = logitsOf(engine, presets.DEFAULT_HELDOUT);
  // The reader's-files path: the reply carries the original weights for Undo.
  const { reply, parts } = await run(engine, info, heads, preset.examples, { keep_original: true });
  assert.equal(parts.reduce((n, p) => n + p.losses.length, 0), 20);
  assert.equal(parts.at(-1).steps_done, 20);
  assert.ok(parts.every((p, i) => p.steps_done > (i ? parts[i - 1].steps_done : 0)), 'each part runs at least one step');
  assert.deepEqual(Array.from(parts.flatMap((p) => Array.from(p.losses))), Array.from(reply.losses));
  const untouched = bitsDiffer(before, logitsOf(engine, presets.DEFAULT_HELDOUT));

  const C = info.n_embd, D = C / info.n_head;
  const tuned = tensors(reply.safetensors), original = tensors(reply.original_safetensors), shipped = tensors(files.safetensors);
  let frozenChanged = 0, ownedChanged = 0, owned = 0, frozen = 0, undoDiffers = 0;
  for (const [name, t] of tuned) {
    const a = f32(original.get(name)), b = f32(t);
    const s = f16ToF32Bits(shipped.get(name));
    const isOwned = ownedBy(heads, name, C, D);
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== s[i]) undoDiffers++;
      if (isOwned(i)) {
        owned++;
        if (a[i] !== b[i]) ownedChanged++;
      } else {
        frozen++;
        if (a[i] !== b[i]) frozenChanged++;
      }
    }
  }
  console.log(`fine-tune ${MODEL} heads 2.5, 0.3, 20 steps at lr 0.003 on the comma preset: examples ${reply.examples_loss_before.toFixed(4)} -> ${reply.examples_loss_after.toFixed(4)}, ` +
    `held-out ${reply.heldout_loss_before.toFixed(4)} -> ${reply.heldout_loss_after.toFixed(4)}; ` +
    `${ownedChanged} of ${owned} owned entries changed, ${frozenChanged} of ${frozen} frozen entries changed; ` +
    `original file vs shipped weights: ${undoDiffers} entries differ; the loaded model's logits after: ${untouched} of ${before.length} differ; ` +
    `${parts.length} parts; ${(reply.compute_ms / 1000).toFixed(1)} s`);
  assert.equal(owned, 2 * (3 * C * D + 3 * D + D * C));
  assert.equal(frozenChanged, 0);
  assert.ok(ownedChanged > owned / 2);
  assert.equal(undoDiffers, 0);
  assert.equal(untouched, 0, 'the loaded model is not written to');
  assert.ok(reply.examples_loss_after < reply.examples_loss_before - 0.05);
  assert.ok(reply.losses[0] > reply.losses.at(-1));

  // Layers below the lowest edited one never see the edit: their heads do not move.
  const H = info.n_head;
  const below = Array.from(reply.moved.subarray(0, H)).filter((m, h) => h !== 3);
  console.log(`  moved on the held-out text (L x H): ${Array.from(reply.moved, (m) => m.toFixed(3)).join(' ')}`);
  assert.ok(below.every((m) => m === 0));
  assert.ok(reply.moved[2 * H + 5] > 0);

  // The fine-tuned folder loads, and gives the loss the job measured.
  const { engine: reloaded } = loadedEngine({ ...files, configJson: reply.config_json, safetensors: reply.safetensors });
  let sum = 0, count = 0;
  for (const text of preset.examples) {
    const ids = expectOk(reloaded.tokenize(text), 'tokenize').ids;
    expectOk(reloaded.run(ids, 1), 'run');
    const trace = expectOk(reloaded.getTrace(), 'getTrace');
    for (let t = 0; t + 1 < ids.length; t++) sum += trace.loss[t];
    count += ids.length - 1;
  }
  console.log(`  the folder reloaded: examples' loss ${(sum / count).toFixed(5)} (job: ${reply.examples_loss_after.toFixed(5)})`);
  assert.ok(Math.abs(sum / count - reply.examples_loss_after) < 1e-4);
  reloaded.delete();
  engine.delete();
});

test(`${MODEL}: the presets do what they say on the heads they target, at the panel's defaults`, async () => {
  const [comma, fact] = presets.FINETUNE_PRESETS;
  {
    const { engine, info } = loadedEngine();
    const heads = comma.heads[MODEL];
    const { reply } = await run(engine, info, heads, comma.examples);
    assert.equal(reply.original_safetensors, null, 'a served model\'s weights are not sent back (Undo reopens it by name)');
    const m = measured(reply, 0, previousCommaMass);
    console.log(`preset "${comma.label}" on ${heads.map((h) => `${h.layer}.${h.head}`).join(', ')}: ` +
      `attention on the previous comma ${m.before.toFixed(3)} -> ${m.after.toFixed(3)}; examples' loss ` +
      `${reply.examples_loss_before.toFixed(3)} -> ${reply.examples_loss_after.toFixed(3)}, held-out ` +
      `${reply.heldout_loss_before.toFixed(3)} -> ${reply.heldout_loss_after.toFixed(3)}`);
    assert.ok(m.after > 1.5 * m.before, `the comma attention rose: ${m.before} -> ${m.after}`);
    assert.ok(reply.examples_loss_after < reply.examples_loss_before - 0.5);
    engine.delete();
  }
  {
    const { engine, info } = loadedEngine();
    const heads = fact.heads[MODEL];
    const { reply } = await run(engine, info, heads, fact.examples);
    console.log(`preset "${fact.label}" on ${heads.map((h) => `${h.layer}.${h.head}`).join(', ')}: examples' loss ` +
      `${reply.examples_loss_before.toFixed(3)} -> ${reply.examples_loss_after.toFixed(3)}, held-out ` +
      `${reply.heldout_loss_before.toFixed(3)} -> ${reply.heldout_loss_after.toFixed(3)}`);
    assert.ok(reply.examples_loss_after < reply.examples_loss_before - 1, 'the fact is learnt');
    assert.ok(reply.heldout_loss_after > reply.heldout_loss_before, 'and it costs the held-out text');
    engine.delete();
  }
});

test('bad input: no heads, no examples, a long example cut with a notice', async () => {
  const { engine, info } = loadedEngine();
  const model = { name: MODEL, n_positions: info.n_positions, vocabJson: '', mergesTxt: '' };
  const ask = async (heads, examples, steps = 1) =>
    finetuneHeads(engine, model, { heads: Int32Array.from(heads), examples, heldout: 'Some text here.', steps, lr: 0.01, keep_original: false });
  await assert.rejects(ask([], ['a, b, c']), /choose at least one head/);
  await assert.rejects(ask([0, 0], ['', '  ']), /type at least one example/);
  await assert.rejects(ask([9, 0], ['a, b, c']), /head 9\.0 is outside/);
  await assert.rejects(ask([0, 0], ['a'], 1), /example 1 has 1 token/);
  await assert.rejects(ask([0, 0], ['a, b, c'], 0), /steps must be/);
  const long = 'one, two, three, four, five, six, seven, eight, nine, ten, '.repeat(20);
  const reply = await ask([0, 0], [long, 'a, b, c']);
  console.log(`a long example: ${reply.notices.join(' ')} (tokens run: ${reply.example_tokens.map((t) => t.length).join(', ')})`);
  assert.match(reply.notices[0], new RegExp(`Example 1 is longer than ${info.n_positions + 1} tokens`));
  assert.equal(reply.example_tokens[0].length, info.n_positions);
  engine.delete();
});

test(`${MODEL}: a long run comes in parts, the engine answers between them, and a cancel leaves the model as it was`, async () => {
  const { engine, info } = loadedEngine();
  const text = presets.DEFAULT_HELDOUT;
  const before = logitsOf(engine, text);
  const model = { name: MODEL, n_positions: info.n_positions, vocabJson: '', mergesTxt: '' };
  const comma = presets.FINETUNE_PRESETS[0];
  const job = FineTuneJob.start(engine, model, {
    heads: Int32Array.from(comma.heads[MODEL].flatMap((h) => [h.layer, h.head])),
    examples: comma.examples, heldout: text, steps: 300, lr: 0.003, keep_original: false,
  });
  const parts = [];
  let between = 0;
  for (let i = 0; i < 4; i++) {
    parts.push(job.part());
    // A head edit's pass between two parts: the loaded model, as it was.
    between += bitsDiffer(before, logitsOf(engine, text));
  }
  job.cancel();
  const after = logitsOf(engine, text);
  const differ = bitsDiffer(before, after);
  const steps = parts.map((p) => p.losses.length);
  const ms = parts.map((p) => p.compute_ms);
  console.log(`300 steps asked, 4 parts of ${steps.join(', ')} steps in ${ms.map((m) => m.toFixed(0)).join(', ')} ms ` +
    `(budget ${FINETUNE_PART_MS} ms); logits between parts: ${between} entries differ; after the cancel: ${differ} of ${after.length} differ`);
  assert.ok(parts.every((p) => !p.done && p.steps_total === 300), 'no part runs the whole run');
  assert.equal(parts.at(-1).steps_done, steps.reduce((a, b) => a + b, 0));
  // A part stops once the next step would pass the budget: at most the budget plus one step's time over it.
  const perStep = ms.reduce((a, b) => a + b, 0) / parts.at(-1).steps_done;
  assert.ok(ms.every((m) => m < FINETUNE_PART_MS + 3 * perStep + 20), `parts of ${ms.join(', ')} ms`);
  assert.equal(between, 0);
  assert.equal(differ, 0, 'after a cancel the model predicts bit for bit as before');
  // The engine's run is gone: a step now fails, naming why.
  assert.match(engine.finetuneStep(1).error, /no fine-tuning run/);
  engine.delete();
});
