// `headlight train` end to end on a toy run: the induction-data options are
// parsed, recorded in train_log.json and used (random-span losses logged),
// the written folder is a model `headlight run` loads, and bad options are
// refused with a message that names them.
// Binary: $HEADLIGHT_BIN, or build/native/headlight (npm test builds it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors } from '../reference/gpt2-reference.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.resolve(ROOT, process.env.HEADLIGHT_BIN ?? 'build/native/headlight');
const TOKENIZER = path.join(ROOT, 'tests/fixtures/tiny-gpt');

const TEXT =
  'The cat sat on the mat and looked at the door. A dog ran past the house, ' +
  'and the children laughed in the garden while the rain came down. ';

function train(dir, extra) {
  const trainFile = path.join(dir, 'train.txt');
  const valFile = path.join(dir, 'val.txt');
  writeFileSync(trainFile, TEXT.repeat(40));
  writeFileSync(valFile, TEXT.repeat(4));
  const args = [
    'train', '--train', trainFile, '--val', valFile, '--tokenizer', TOKENIZER,
    '--out', path.join(dir, 'model'), '--n-layer', '1', '--n-head', '2', '--n-embd', '16',
    '--n-positions', '32', '--batch', '4', '--steps', '24', '--warmup', '2', '--lr', '1e-2',
    '--threads', '1', '--eval-every', '12', '--eval-tokens', '64', '--log-every', '4',
    '--dtype', 'f32', ...extra,
  ];
  return spawnSync(BIN, args, { encoding: 'utf8' });
}

test('headlight train: induction warm-up with filled sequences, then the mix', () => {
  assert.ok(existsSync(BIN), `no engine binary at ${BIN} (build it, or set HEADLIGHT_BIN)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'headlight-train-'));
  try {
    const r = train(dir, [
      '--induction-warmup-steps', '12', '--induction-fill', '--fill-span-max', '8', '--fill-near-frac', '0.25',
      '--induction-frac', '0.5', '--repeat-text-frac', '0.25', '--random-vocab', '50',
      '--wpe-init', 'sinusoidal',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const log = JSON.parse(readFileSync(path.join(dir, 'model/train_log.json'), 'utf8'));
    assert.equal(log.steps, 24);
    assert.deepEqual(
      [log.data_mix.induction_fill, log.data_mix.fill_span_max, log.data_mix.fill_near_frac, log.data_mix.random_vocab,
        log.data_mix.wpe_init],
      [true, 8, 0.25, 50, 'sinusoidal'],
    );
    const withSpans = log.evals.filter((e) => e.induction_loss_first_half !== undefined);
    console.log(
      `evals ${log.evals.length}; random-span losses: ` +
        withSpans.map((e) => `${e.induction_loss_first_half.toFixed(2)} -> ${e.induction_loss_repeated_half.toFixed(2)}`).join(', '),
    );
    assert.ok(withSpans.length >= 2, 'random-span losses logged at the evals after training steps');
    // The step-0 eval has no training loss, and the console says so with '-'.
    assert.match(r.stderr, /eval step +0 \| train loss - \|/);
    const run = spawnSync(BIN, ['run', '--model', path.join(dir, 'model'), '--text', 'The cat sat'], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('headlight train: a context-length curriculum and two-back segments', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'headlight-train-'));
  try {
    const r = train(dir, [
      '--seq-schedule', '8:6,16:6', '--induction-warmup-steps', '18', '--induction-fill',
      '--fill-alternations', '2', '--fill-alternations-steps', '9',
    ]);
    assert.equal(r.status, 0, r.stderr);
    // Batch 4 x 32 tokens: 16 sequences of 8, then 8 of 16, then 4 of 32.
    const stages = [...r.stderr.matchAll(/^step (\d+): sequences of (\d+) tokens, batch (\d+)$/gm)]
      .map((m) => m.slice(1).map(Number));
    console.log(`stages (step, length, batch): ${JSON.stringify(stages)}`);
    assert.deepEqual(stages, [[0, 8, 16], [6, 16, 8], [12, 32, 4]]);
    const log = JSON.parse(readFileSync(path.join(dir, 'model/train_log.json'), 'utf8'));
    assert.equal(log.steps, 24);
    assert.deepEqual(log.data_mix.seq_schedule, [{ seq_len: 8, steps: 6 }, { seq_len: 16, steps: 6 }]);
    assert.deepEqual([log.data_mix.fill_alternations, log.data_mix.fill_alternations_steps], [2, 9]);
    // Validation runs at the full length whatever the stage: every eval reads
    // the same windows, so the step-0 eval and the later ones count the same tokens.
    assert.ok(log.evals.every((e) => e.val_eval_tokens === log.evals[0].val_eval_tokens));
    assert.ok(log.evals.every((e) => Number.isFinite(e.val_loss)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('headlight train: an attention-only warm-up of a model with MLPs (--mlp-off-steps)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'headlight-train-'));
  try {
    const r = train(dir, ['--mlp-off-steps', '10', '--induction-warmup-steps', '10', '--induction-fill']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => /MLPs (off|on)/.test(l));
    console.log(lines.join(' / '));
    assert.deepEqual(lines, ['MLPs off (attention only) for the first 10 steps', 'step 10: MLPs on']);
    const log = JSON.parse(readFileSync(path.join(dir, 'model/train_log.json'), 'utf8'));
    assert.equal(log.data_mix.mlp_off_steps, 10);
    assert.equal(log.mlp_on_at, 10);
    assert.equal(log.steps, 24);
    // The written folder is a model with MLPs that `headlight run` loads.
    const config = JSON.parse(readFileSync(path.join(dir, 'model/config.json'), 'utf8'));
    assert.ok(!config.attn_only);
    const run = spawnSync(BIN, ['run', '--model', path.join(dir, 'model'), '--text', 'The cat sat'], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('headlight train: two phases (--end-with-warmup, then --init-from its folder)', () => {
  const one = mkdtempSync(path.join(os.tmpdir(), 'headlight-train-'));
  const two = mkdtempSync(path.join(os.tmpdir(), 'headlight-train-'));
  try {
    // Phase one stops when its warm-up does (here: its last step, 12).
    let r = train(one, ['--induction-warmup-steps', '12', '--induction-fill', '--mlp-off-steps', '12',
      '--end-with-warmup']);
    assert.equal(r.status, 0, r.stderr);
    const log1 = JSON.parse(readFileSync(path.join(one, 'model/train_log.json'), 'utf8'));
    assert.equal(log1.steps, 12);
    assert.equal(log1.end_with_warmup, true);
    // Phase two starts from its weights: its step-0 validation loss is phase
    // one's last (same weights, written in f32, same validation tokens).
    r = train(two, ['--init-from', path.join(one, 'model'), '--induction-frac', '0.5']);
    assert.equal(r.status, 0, r.stderr);
    const log2 = JSON.parse(readFileSync(path.join(two, 'model/train_log.json'), 'utf8'));
    const before = log1.evals[log1.evals.length - 1].val_loss;
    const after = log2.evals[0].val_loss;
    console.log(`phase one ends at val loss ${before.toFixed(6)}, phase two starts at ${after.toFixed(6)} ` +
      `(|diff| ${Math.abs(before - after).toExponential(2)})`);
    assert.ok(Math.abs(before - after) < 1e-4, 'phase two starts from phase one\'s weights');
    assert.equal(log2.steps, 24);
    assert.equal(log2.init_from.dir, path.join(one, 'model'));
    assert.equal(log2.init_from.steps, 12);
    assert.match(log2.init_from.command, /--end-with-warmup/);
    assert.equal(log2.init_from.last_eval.val_loss, before);
    assert.equal(log2.init_from.evals, undefined);

    // Refused: another shape, a missing folder, a position init that would be
    // overwritten, and a phase one without a warm-up.
    const three = mkdtempSync(path.join(os.tmpdir(), 'headlight-train-'));
    try {
      for (const [flags, pattern] of [
        [['--init-from', path.join(one, 'model'), '--n-embd', '32'],
          /--init-from .*: the model there has 1 layers, 2 heads, d 16, .* this run trains 1 layers, 2 heads, d 32/],
        [['--init-from', path.join(one, 'nothing')], /cannot open .*nothing\/config\.json/],
        [['--init-from', path.join(one, 'model'), '--wpe-init', 'sinusoidal'], /--wpe-init has no effect with --init-from/],
        [['--end-with-warmup'], /--end-with-warmup needs --induction-warmup-steps/],
      ]) {
        r = train(three, flags);
        console.log(`${flags.map((f) => f.replace(one, 'DIR')).join(' ')} -> ${r.stderr.trim().split('\n').pop()}`);
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, pattern);
      }
    } finally {
      rmSync(three, { recursive: true, force: true });
    }
  } finally {
    rmSync(one, { recursive: true, force: true });
    rmSync(two, { recursive: true, force: true });
  }
});

// A depth curriculum: the first block alone for 12 steps, then both. The
// second block's tensors must leave their initialisation only after the
// switch: a run stopped at the switch (12 steps) writes them as a 1-step run
// of the same seed does (had they trained, 1 and 12 steps of AdamW and weight
// decay would differ), and 12 steps more with both blocks move them.
test('headlight train: --shallow-steps trains the first blocks first', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'headlight-train-'));
  try {
    // Block 1's tensors by name, each as its values joined (F32: exact).
    const block1 = (folder) => {
      const tensors = readSafetensors(readFileSync(path.join(folder, 'model.safetensors')));
      return Object.fromEntries([...tensors].filter(([name]) => name.startsWith('h.1.'))
        .map(([name, t]) => [name, t.values.join(',')]));
    };
    const deep = ['--n-layer', '2', '--seed', '3'];
    const fresh = train(dir, [...deep, '--steps', '1', '--shallow-steps', '1', '--shallow-layers', '1']);
    assert.equal(fresh.status, 0, fresh.stderr);
    const initial = block1(path.join(dir, 'model'));
    const shallow = train(dir, [...deep, '--steps', '12', '--shallow-steps', '12', '--shallow-layers', '1']);
    assert.equal(shallow.status, 0, shallow.stderr);
    assert.match(shallow.stderr, /only the first 1 blocks for the first 12 steps/);
    const kept = block1(path.join(dir, 'model'));
    const full = train(dir, [...deep, '--steps', '24', '--shallow-steps', '12', '--shallow-layers', '1']);
    assert.equal(full.status, 0, full.stderr);
    assert.match(full.stderr, /step 12: all 2 blocks on/);
    const log = JSON.parse(readFileSync(path.join(dir, 'model/train_log.json'), 'utf8'));
    const moved = block1(path.join(dir, 'model'));
    const names = Object.keys(initial);
    const same = names.filter((k) => kept[k] === initial[k]).length;
    const changed = names.filter((k) => moved[k] !== initial[k]).length;
    console.log(`block 1: ${names.length} tensors; ${same} the same after 12 shallow steps as after 1, ` +
      `${changed} changed after 12 more with both blocks (all_layers_at ${log.all_layers_at})`);
    assert.ok(names.length > 0);
    assert.equal(same, names.length);
    assert.equal(changed, names.length);
    assert.equal(log.all_layers_at, 12);
    assert.deepEqual([log.data_mix.shallow_steps, log.data_mix.shallow_layers], [12, 1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('headlight train: bad induction options are named in the error', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'headlight-train-'));
  try {
    for (const [flags, pattern] of [
      [['--wpe-init', 'rotary'], /--wpe-init/],
      [['--induction-warmup-gap', '-1'], /--induction-warmup-gap/],
      [['--fill-span-max', 'x'], /--fill-span-max/],
      [['--fill-near-frac', '2'], /--fill-near-frac/],
      [['--induction-frac', '0.8', '--repeat-text-frac', '0.4'], /must be <= 1/],
      [['--seq-schedule', '16'], /bad stage '16' in --seq-schedule/],
      [['--seq-schedule', '64:10'], /--seq-schedule length 64 must be <= n_positions/],
      [['--seq-schedule', '7:10'], /--seq-schedule length 7 .*divide batch \* n_positions \(128\)/],
      [['--fill-alternations', '-2'], /--fill-alternations/],
      [['--mlp-off-steps', '5', '--attn-only'], /--mlp-off-steps needs a model with MLPs/],
      [['--shallow-steps', '5'], /--shallow-steps needs --shallow-layers K with 1 <= K < --n-layer \(1\)/],
      [['--shallow-layers', '1'], /--shallow-layers needs --shallow-steps N/],
    ]) {
      const r = train(dir, flags);
      console.log(`${flags.join(' ')} -> ${r.stderr.trim().split('\n').pop()}`);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, pattern);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
