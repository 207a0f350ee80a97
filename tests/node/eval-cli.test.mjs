// `headlight eval --json` against the float64 reference (tests/reference) on
// the tiny-gpt fixture: the validation loss and bits per byte (windows of
// n_positions tokens, each predicting its tokens 1..end), and the repeated
// random-token probe (copy losses, previous-token / induction / first-token
// scores of every head), each recomputed here from the reference forward pass
// and an encoder of our own (models/recipes/bpe.mjs).
// Binary: $HEADLIGHT_BIN, or build/native/headlight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { loadReferenceModel, referenceForward } from '../reference/gpt2-reference.mjs';
import { BpeEncoder, tokenStringToBytes } from '../../models/recipes/bpe.mjs';
import { REPO_ROOT } from './wasm-helpers.mjs';

const BIN = path.resolve(REPO_ROOT, process.env.HEADLIGHT_BIN ?? 'build/native/headlight');
const MODEL_DIR = path.join(REPO_ROOT, 'tests/fixtures/tiny-gpt');
// Several windows of the fixture's 64 positions, the last one short.
const TEXT = 'A fox saw the old barn at noon; two hens ran off, and the farmer laughed. ';

// -log softmax(logits row t)[target], in float64.
function tokenLoss(logits, V, t, target) {
  let max = -Infinity;
  for (let v = 0; v < V; v++) max = Math.max(max, logits[t * V + v]);
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(logits[t * V + v] - max);
  return Math.log(sum) + max - logits[t * V + target];
}

// analysis.cpp's repeated_random_tokens: splitmix64 from `seed`, ids drawn
// from the allowed ones by the modulo of each draw, the n ids then repeated.
function repeatedRandomTokens(n, allowed, seed) {
  const mask = (1n << 64n) - 1n;
  let state = BigInt.asUintN(64, seed);
  const ids = [];
  for (let i = 0; i < n; i++) {
    state = (state + 0x9e3779b97f4a7c15n) & mask;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask;
    z ^= z >> 31n;
    ids.push(allowed[Number(z % BigInt(allowed.length))]);
  }
  return [...ids, ...ids];
}

test('headlight eval: validation loss, bits per byte and probe scores equal the float64 reference', () => {
  assert.ok(existsSync(BIN), `no engine binary at ${BIN} (build it, or set HEADLIGHT_BIN)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'headlight-eval-'));
  try {
    const valFile = path.join(dir, 'val.txt');
    const text = TEXT.repeat(9);
    writeFileSync(valFile, text);
    const halfLen = 8;
    const probeSeqs = 3;
    const seed = 5;
    const r = spawnSync(BIN, ['eval', '--model', MODEL_DIR, '--val', valFile, '--no-xz', '--json',
      '--half-len', String(halfLen), '--probe-seqs', String(probeSeqs), '--seed', String(seed),
      '--threads', '2'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);

    const model = loadReferenceModel(MODEL_DIR);
    const { n_layer: L, n_head: H, n_positions: P, vocab_size: V } = model.config;
    const encoder = new BpeEncoder(MODEL_DIR);
    const tokenBytes = (id) => tokenStringToBytes(encoder.idToToken[id]).length;

    // ---- validation: windows [w P, min(w P + P, N)), tokens 1.. of each predicted
    const ids = encoder.encode(text);
    let nats = 0;
    let predictedTokens = 0;
    let predictedBytes = 0;
    let windows = 0;
    for (let begin = 0; begin + 1 < ids.length; begin += P, windows++) {
      const win = ids.slice(begin, begin + P);
      const { logits } = referenceForward(model, win);
      for (let t = 0; t + 1 < win.length; t++) {
        nats += tokenLoss(logits, V, t, win[t + 1]);
        predictedBytes += tokenBytes(win[t + 1]);
        predictedTokens++;
      }
    }
    const v = out.validation;
    const natsPerToken = nats / predictedTokens;
    const bitsPerByte = nats / Math.LN2 / predictedBytes;
    console.log(`eval validation: ${v.windows} windows, ${v.predicted_tokens} tokens, ` +
      `${v.predicted_bytes} bytes; nats/token ${v.nats_per_token.toFixed(6)} vs reference ` +
      `${natsPerToken.toFixed(6)} (|diff| ${Math.abs(v.nats_per_token - natsPerToken).toExponential(2)}), ` +
      `bits/byte ${v.bits_per_byte.toFixed(6)} vs ${bitsPerByte.toFixed(6)} ` +
      `(|diff| ${Math.abs(v.bits_per_byte - bitsPerByte).toExponential(2)})`);
    assert.ok(windows >= 2, 'the text spans several windows');
    assert.equal(v.windows, windows);
    assert.equal(v.predicted_tokens, predictedTokens);
    assert.equal(v.predicted_bytes, predictedBytes);
    assert.equal(v.covered_bytes, Buffer.byteLength(text));
    assert.ok(Math.abs(v.nats_per_token - natsPerToken) < 1e-4);
    assert.ok(Math.abs(v.bits_per_byte - bitsPerByte) < 1e-4);

    // ---- probe: sequence s from seed * 1000003 + s, special tokens excluded
    const allowed = [];
    for (let id = 0; id < V; id++) {
      const special = id >= V - 9 && encoder.idToToken[id] === '<|endoftext|>';
      if (!special) allowed.push(id);
    }
    assert.equal(allowed.length, V - 1, 'the fixture has one <|endoftext|> to leave out');
    const n = halfLen;
    const T = 2 * n;
    const prev = new Float64Array(L * H);
    const induction = new Float64Array(L * H);
    const first = new Float64Array(L * H);
    let lossFirst = 0;
    let lossSecond = 0;
    for (let s = 0; s < probeSeqs; s++) {
      const seq = repeatedRandomTokens(n, allowed, BigInt(seed) * 1000003n + BigInt(s));
      const { attn, logits } = referenceForward(model, seq);
      for (let lh = 0; lh < L * H; lh++) {
        const at = (q, k) => attn[(lh * T + q) * T + k];
        let p = 0;
        let f = 0;
        let ind = 0;
        for (let q = 1; q < T; q++) {
          p += at(q, q - 1);
          f += at(q, 0);
        }
        // Query n + j attends to j + 1: the token after the earlier copy of its own.
        for (let q = n; q < T; q++) ind += at(q, q - n + 1);
        prev[lh] += p / (T - 1) / probeSeqs;
        first[lh] += f / (T - 1) / probeSeqs;
        induction[lh] += ind / n / probeSeqs;
      }
      let a = 0;
      let b = 0;
      for (let t = 0; t < n - 1; t++) a += tokenLoss(logits, V, t, seq[t + 1]);
      for (let t = n; t < T - 1; t++) b += tokenLoss(logits, V, t, seq[t + 1]);
      lossFirst += a / (n - 1) / probeSeqs;
      lossSecond += b / (n - 1) / probeSeqs;
    }
    let worstScore = 0;
    for (const [name, want] of [['prev_token', prev], ['induction', induction], ['first_token', first]]) {
      const got = out.heads[name].flat();
      assert.equal(got.length, L * H);
      for (let lh = 0; lh < L * H; lh++) worstScore = Math.max(worstScore, Math.abs(got[lh] - want[lh]));
    }
    const pr = out.probe;
    const lossDiff = Math.max(Math.abs(pr.loss_first_half - lossFirst), Math.abs(pr.loss_second_half - lossSecond));
    console.log(`eval probe: loss first ${pr.loss_first_half.toFixed(6)} vs ${lossFirst.toFixed(6)}, ` +
      `second ${pr.loss_second_half.toFixed(6)} vs ${lossSecond.toFixed(6)} (max |diff| ${lossDiff.toExponential(2)}); ` +
      `head scores max |diff| ${worstScore.toExponential(2)} over ${3 * L * H}`);
    assert.ok(worstScore < 1e-5);
    assert.ok(lossDiff < 1e-4);
    assert.ok(Math.abs(pr.icl_score - (lossSecond - lossFirst)) < 2e-4);
    // Scores that differ from head to head, so a swapped head would show.
    assert.ok(Math.max(...prev) - Math.min(...prev) > 0.01);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
