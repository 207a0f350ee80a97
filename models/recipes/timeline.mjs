#!/usr/bin/env node
// The "watch induction heads form" timeline: one JSON file with the loss
// curve of a training run and, for every checkpoint the trainer wrote, the
// per-head previous-token / induction / first-token scores and the in-context
// learning score, measured by `headlight eval --json` on that checkpoint.
//
// usage: node models/recipes/timeline.mjs --model DIR [--bin build/native/headlight]
//          [--max-tokens 16384] [--keep-final-checkpoint]
// Reads DIR/train_log.json and DIR/checkpoints/step-*/, writes DIR/timeline.json.
// The checkpoint of the last step is the model in DIR itself: its folder is
// removed (to save repository space) and the timeline points at "." unless
// --keep-final-checkpoint is given.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function parseArgs(argv) {
  const a = {
    bin: process.env.HEADLIGHT_BIN ?? path.join(root, 'build/native/headlight'),
    maxTokens: 16384,
    keepFinal: false,
  };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--model') a.model = path.resolve(argv[++i]);
    else if (argv[i] === '--bin') a.bin = path.resolve(argv[++i]);
    else if (argv[i] === '--max-tokens') a.maxTokens = Number(argv[++i]);
    else if (argv[i] === '--keep-final-checkpoint') a.keepFinal = true;
    else throw new Error(`timeline: unknown argument '${argv[i]}'`);
  }
  if (!a.model) throw new Error('timeline: --model DIR is required');
  return a;
}

function evalJson(bin, dir, maxTokens) {
  const args = ['eval', '--model', dir, '--val', path.join(root, 'build/corpus/val.txt'),
    '--max-tokens', String(maxTokens), '--probe-seqs', '8', '--no-xz', '--json'];
  return JSON.parse(execFileSync(bin, args, { maxBuffer: 1 << 28, cwd: root }).toString());
}

function main() {
  const a = parseArgs(process.argv.slice(2));
  const log = JSON.parse(fs.readFileSync(path.join(a.model, 'train_log.json'), 'utf8'));
  if (!log.checkpoints?.length) throw new Error(`timeline: ${a.model}/train_log.json lists no checkpoints`);
  const checkpoints = [];
  const omitted = [];  // checkpoint steps of train_log.json whose folder is gone
  // A run stopped by its time limit ends between two checkpoints: the model
  // itself is then the last point of the timeline.
  const points = [...log.checkpoints];
  if (points[points.length - 1].step !== log.steps) {
    points.push({ step: log.steps, dir: null, tokens_seen: log.tokens_seen,
      train_loss: log.evals?.[log.evals.length - 1]?.train_loss ?? null });
  }
  for (const c of points) {
    const isFinal = c.step === log.steps && !a.keepFinal;
    const inModel = isFinal || c.dir === null;  // the model folder itself is this point
    const dir = inModel ? a.model : path.join(a.model, c.dir);
    if (!fs.existsSync(path.join(dir, 'model.safetensors'))) {
      // A checkpoint removed to stay in the size budget (e.g. one of two a
      // schedule refit put next to each other).
      console.log(`timeline: step ${c.step}: no ${c.dir}, left out`);
      omitted.push(c.step);
      continue;
    }
    const ev = evalJson(a.bin, dir, a.maxTokens);
    checkpoints.push({
      step: c.step,
      tokens_seen: c.tokens_seen,
      dir: inModel ? '.' : c.dir,
      train_loss: c.train_loss,
      val_loss: ev.validation?.nats_per_token ?? null,
      val_bits_per_byte: ev.validation?.bits_per_byte ?? null,
      loss_first_half: ev.probe.loss_first_half,
      loss_second_half: ev.probe.loss_second_half,
      icl_score: ev.probe.icl_score,
      prev_token: ev.heads.prev_token,     // (L, H)
      induction: ev.heads.induction,       // (L, H)
      first_token: ev.heads.first_token,   // (L, H)
    });
    console.log(`timeline: step ${c.step}: induction ${ev.best.induction.score.toFixed(3)} ` +
      `(${ev.best.induction.layer}.${ev.best.induction.head}), prev-token ` +
      `${ev.best.prev_token.score.toFixed(3)}, icl ${ev.probe.icl_score.toFixed(3)}`);
    if (isFinal && c.dir && fs.existsSync(path.join(a.model, c.dir))) {
      fs.rmSync(path.join(a.model, c.dir), { recursive: true });
    }
  }
  const timeline = {
    model: path.basename(a.model),
    note: 'Scores from headlight eval on each checkpoint: repeated random-token probe ' +
      '(8 sequences), validation over the first ' + a.maxTokens + ' tokens of build/corpus/val.txt. ' +
      'Score arrays are (L, H).',
    loss_curve: (log.evals ?? []).map((e) => ({
      step: e.step, tokens_seen: e.tokens_seen, train_loss: e.train_loss,
      val_loss: e.val_loss, val_bits_per_byte: e.val_bits_per_byte,
    })),
    checkpoints,
    ...(omitted.length ? { omitted_checkpoints: omitted } : {}),
  };
  fs.writeFileSync(path.join(a.model, 'timeline.json'), JSON.stringify(timeline, null, 1) + '\n');
  console.log(`timeline: wrote ${path.join(a.model, 'timeline.json')}`);
}

main();
