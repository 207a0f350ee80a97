// The page's live trainer (build/wasm/headlight-train.{js,wasm},
// wasm/core/live_training.h) and `headlight train` (build/native/headlight)
// are one trainer: with the same seed and settings (the module's own
// train_flags) their first 20 losses agree within 1e-4. The native losses are
// read from its step lines, printed with 4 decimals (rounding <= 5e-5 of the
// bound). Prints the largest difference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTrainModule, REPO_ROOT } from './wasm-helpers.mjs';

const BIN = path.resolve(REPO_ROOT, process.env.HEADLIGHT_BIN ?? 'build/native/headlight');
const KIT = path.join(REPO_ROOT, 'web/public/train');
const STEPS = 20;

/** The first `steps` losses `headlight train` prints with these flags (the run is stopped there). */
function nativeLosses(flags, dir, steps) {
  // A copy of the text: headlight train caches its token ids next to it.
  const text = path.join(dir, 'sample.txt');
  copyFileSync(path.join(KIT, 'sample.txt'), text);
  const outDir = path.join(dir, 'model');
  const args = [
    'train', '--train', text, '--val', text,
    '--tokenizer', KIT, '--out', outDir, '--threads', '1', '--log-every', '1',
    '--eval-every', '1000000', '--eval-tokens', '64', '--dtype', 'f32', ...flags,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args);
    const losses = [];
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      for (const match of stderr.matchAll(/^step +(\d+)\/\d+ \| loss ([\d.]+)/gm)) losses[Number(match[1]) - 1] = Number(match[2]);
      if (losses.filter((x) => x !== undefined).length >= steps) child.kill();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (losses.length >= steps) resolve(losses.slice(0, steps));
      else reject(new Error(`headlight train stopped (${code ?? signal}) after ${losses.length} steps:\n${stderr}`));
    });
  });
}

for (const choices of [
  { size: [2, 4, 64], task: 'repeat', schedule: 'short', lr: 0.005, seed: 1 },
  { size: [1, 2, 32], task: 'text', schedule: 'short', lr: 0.01, seed: 7 },
  // The long run: 64 x 32 tokens a step and its own learning-rate warm-up.
  { size: [2, 8, 128], task: 'repeat', schedule: 'long', lr: 0.005, seed: 1 },
]) {
  const label = `${choices.size.join('/')} ${choices.task} ${choices.schedule} lr ${choices.lr} seed ${choices.seed}`;
  test(`live trainer (wasm) = headlight train (native), first ${STEPS} losses: ${label}`, async () => {
    assert.ok(existsSync(BIN), `no engine binary at ${BIN} (build it, or set HEADLIGHT_BIN)`);
    const module = await createTrainModule();
    const training = new module.Training();
    const read = (name) => readFileSync(path.join(KIT, name), 'utf8');
    const created = training.create(...choices.size, choices.task, choices.schedule, choices.lr, choices.seed,
      read('vocab.json'), read('merges.txt'), read('sample.txt'));
    assert.ok(created.ok, created.error);
    const stepped = training.step(STEPS);
    assert.ok(stepped.ok, stepped.error);
    training.delete();
    const wasm = Array.from(stepped.losses);
    assert.equal(wasm.length, STEPS);

    const dir = mkdtempSync(path.join(os.tmpdir(), 'headlight-parity-'));
    try {
      const native = await nativeLosses(created.train_flags.split(' '), dir, STEPS);
      const diffs = wasm.map((loss, i) => Math.abs(loss - native[i]));
      const maxDiff = Math.max(...diffs);
      console.log(
        `${label}: wasm ${wasm[0].toFixed(4)} .. ${wasm[STEPS - 1].toFixed(4)}, native ${native[0]} .. ` +
          `${native[STEPS - 1]}; max |diff| over ${STEPS} steps ${maxDiff.toExponential(2)} (bound 1e-4)`,
      );
      assert.ok(maxDiff <= 1e-4, `max |wasm - native| = ${maxDiff} at step ${diffs.indexOf(maxDiff) + 1}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
