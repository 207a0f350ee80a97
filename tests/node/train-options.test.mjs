// `headlight train`'s option table (wasm/tools/train_options.cpp): --help
// shows every flag the parser takes, with the defaults the log records, and
// an attention-only model trains (the MLP stage logic once tried to switch
// on MLPs it has not: step 0 threw).
// Binary: $HEADLIGHT_BIN, or build/native/headlight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { REPO_ROOT } from './wasm-helpers.mjs';

const BIN = path.resolve(REPO_ROOT, process.env.HEADLIGHT_BIN ?? 'build/native/headlight');
const TOKENIZER = path.join(REPO_ROOT, 'tests/fixtures/tiny-gpt');

test('headlight train --help lists the table; an attention-only run logs its defaults', () => {
  assert.ok(existsSync(BIN), `no engine binary at ${BIN} (build it, or set HEADLIGHT_BIN)`);
  const help = spawnSync(BIN, ['train', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  const flags = [...help.stdout.matchAll(/^ {4}(--[a-z-]+)/gm)].map((m) => m[1]);
  console.log(`--help: ${flags.length} flags`);
  assert.ok(flags.length >= 40);
  for (const [flag, shown] of [['--n-layer', '4'], ['--lr', '0.001'], ['--batch', '16'],
    ['--eval-tokens', '65536'], ['--dtype', 'f16'], ['--wpe-init', 'normal'], ['--train', 'FILE']]) {
    assert.match(help.stdout, new RegExp(`^ {4}${flag} ${shown} `, 'm'), flag);
  }

  const dir = mkdtempSync(path.join(os.tmpdir(), 'headlight-train-options-'));
  try {
    const text = 'Seven birds flew over twelve trees; nobody knew why the river was quiet. ';
    writeFileSync(path.join(dir, 'train.txt'), text.repeat(40));
    writeFileSync(path.join(dir, 'val.txt'), text.repeat(4));
    // Every flag the run does not give is at its --help default.
    const r = spawnSync(BIN, ['train', '--train', path.join(dir, 'train.txt'),
      '--val', path.join(dir, 'val.txt'), '--tokenizer', TOKENIZER, '--out', path.join(dir, 'model'),
      '--attn-only', '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--n-positions', '16',
      '--steps', '6', '--threads', '1', '--eval-every', '3', '--dtype', 'f32',
      '--induction-frac', '0.5'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const log = JSON.parse(readFileSync(path.join(dir, 'model/train_log.json'), 'utf8'));
    console.log(`attention-only run: ${log.steps} steps, val loss ${log.evals.at(-1).val_loss.toFixed(4)}`);
    assert.equal(log.steps, 6);
    assert.equal(log.model.attn_only, true);
    const o = log.optimizer;
    assert.deepEqual(Object.keys(o).sort(), ['batch', 'beta1', 'beta2', 'eps', 'grad_clip', 'lr',
      'min_lr_frac', 'seed', 'threads', 'warmup', 'weight_decay']);
    assert.deepEqual([o.warmup, o.grad_clip, o.batch, o.seed, o.threads], [100, 1, 16, 1, 1]);
    // Floats, logged with their float32 digits.
    for (const [key, want] of [['lr', 1e-3], ['min_lr_frac', 0.1], ['weight_decay', 0.1],
      ['beta1', 0.9], ['beta2', 0.95], ['eps', 1e-8]]) {
      assert.ok(Math.abs(o[key] - want) <= 1e-6 * want, key);
    }
    assert.equal(log.data_mix.induction_frac, 0.5);
    assert.equal(log.data_mix.random_vocab, 0);
    assert.equal(log.data_mix.wpe_init, 'normal');
    assert.deepEqual(log.data_mix.seq_schedule, []);
    assert.equal(log.evals.length, 3);  // steps 0, 3 and 6
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// --checkpoint-steps: dense checkpoints on top of the log-spaced ones (the
// phase change of attn-only-2l's recipe), checked on a 6-step run; a bad
// range is refused naming the flag.
test('headlight train --checkpoint-steps adds dense checkpoints to the log-spaced ones', () => {
  assert.ok(existsSync(BIN), `no engine binary at ${BIN} (build it, or set HEADLIGHT_BIN)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'headlight-checkpoint-steps-'));
  try {
    const text = 'Seven birds flew over twelve trees; nobody knew why the river was quiet. ';
    writeFileSync(path.join(dir, 'train.txt'), text.repeat(40));
    writeFileSync(path.join(dir, 'val.txt'), text.repeat(4));
    const args = (...more) => ['train', '--train', path.join(dir, 'train.txt'),
      '--val', path.join(dir, 'val.txt'), '--tokenizer', TOKENIZER, '--out', path.join(dir, 'model'),
      '--attn-only', '--n-layer', '1', '--n-head', '2', '--n-embd', '16', '--n-positions', '16',
      '--steps', '6', '--threads', '1', '--eval-every', '3', '--dtype', 'f32', ...more];
    const r = spawnSync(BIN, args('--checkpoints', '2', '--checkpoint-steps', '2:4:3,9'), { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const log = JSON.parse(readFileSync(path.join(dir, 'model/train_log.json'), 'utf8'));
    const steps = log.checkpoints.map((c) => c.step);
    console.log(`checkpoints of a 6-step run, --checkpoints 2 --checkpoint-steps 2:4:3,9: ${steps.join(', ')}`);
    // log-spaced: 1 and 6; dense: 2, 3, 4; 9 is past the end.
    assert.deepEqual(steps, [1, 2, 3, 4, 6]);
    for (const c of log.checkpoints) assert.ok(existsSync(path.join(dir, 'model', c.dir, 'model.safetensors')), c.dir);
    for (const [bad, message] of [['4:2:3', /--checkpoint-steps/], ['2:4', /FROM:TO:COUNT/], ['x', /--checkpoint-steps/]]) {
      const refused = spawnSync(BIN, args('--checkpoint-steps', bad), { encoding: 'utf8' });
      assert.equal(refused.status, 2, bad);
      assert.match(refused.stderr, message, bad);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
