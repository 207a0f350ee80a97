#!/usr/bin/env node
// The "watch induction heads form" timeline: one JSON file with the loss
// curve of a training run and, for every checkpoint the trainer wrote, the
// per-head previous-token / induction / first-token scores and two in-context
// learning scores, measured by `headlight eval --json` on that checkpoint:
// on text (Olsson et al.'s, loss late in a window minus loss early; the
// tokens are in core/validation.h in_context_score and docs/heads.md) and on
// the repeated random-token probe (second copy minus first). It also names
// the training phases (what the batches held, and the sequence length), read
// from train_log.json, so the page's Training view can label its charts.
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

// The probe's half length: 64 random tokens, or half the shortest sequence
// the run trained on if that is shorter (attn-only-2l's warm-up trains on 32
// tokens for 8000 steps: its induction heads form there, which a probe whose
// second copy sits at positions the model has not trained on yet cannot see).
export function probeHalfLen(log) {
  const lengths = [log.model?.n_positions ?? 128, ...(log.data_mix?.seq_schedule ?? []).map((s) => s.seq_len)];
  return Math.min(64, Math.floor(Math.min(...lengths) / 2));
}

function evalJson(bin, dir, maxTokens, halfLen) {
  const args = ['eval', '--model', dir, '--val', path.join(root, 'build/corpus/val.txt'),
    '--max-tokens', String(maxTokens), '--probe-seqs', '8', '--half-len', String(halfLen),
    '--no-xz', '--json'];
  return JSON.parse(execFileSync(bin, args, { maxBuffer: 1 << 28, cwd: root }).toString());
}

// The training phases as segments of steps [from, to): what the batches held
// ('warmup': the induction warm-up's random tokens; 'text': the data mix)
// and their sequence length, cut wherever either changes.
export function phasesOf(log) {
  const steps = log.steps;
  const mix = log.data_mix ?? {};
  const warmupEnd = Math.min(steps, log.induction_warmup_ended_at ?? mix.induction_warmup_steps ?? 0);
  const stages = mix.seq_schedule_run ?? mix.seq_schedule ?? [];
  const T = log.model?.n_positions;
  const cuts = new Set([0, steps, warmupEnd]);
  let end = 0;
  for (const s of stages) cuts.add(Math.min(steps, (end += s.steps)));
  const bounds = [...cuts].filter((c) => c >= 0 && c <= steps).sort((x, y) => x - y);
  const seqLenAt = (step) => {
    let e = 0;
    for (const s of stages) if (step < (e += s.steps)) return s.seq_len;
    return T;
  };
  const warmupFeeds = mix.induction_fill
    ? 'random tokens with spans copied forward at random distances' +
      (mix.fill_alternations ? `, ${mix.fill_alternations} two-back segment${mix.fill_alternations > 1 ? 's' : ''} per sequence` : '')
    : 'repeated random-token spans';
  const pct = (f) => `${Math.round(100 * f)}%`;
  const plain = 1 - (mix.induction_frac ?? 0) - (mix.repeat_text_frac ?? 0);
  const textFeeds = [
    mix.induction_frac ? `${pct(mix.induction_frac)} repeated random-token spans` : null,
    mix.repeat_text_frac ? `${pct(mix.repeat_text_frac)} repeated text spans` : null,
    `${pct(plain)} plain text`,
  ].filter(Boolean).join(', ');
  const phases = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const from = bounds[i], to = bounds[i + 1];
    if (to <= from) continue;
    const warmup = from < warmupEnd;
    phases.push({ from, to, data: warmup ? 'warmup' : 'text', seq_len: seqLenAt(from),
      feeds: warmup ? warmupFeeds : textFeeds });
  }
  return phases;
}

function main() {
  const a = parseArgs(process.argv.slice(2));
  const log = JSON.parse(fs.readFileSync(path.join(a.model, 'train_log.json'), 'utf8'));
  if (!log.checkpoints?.length) throw new Error(`timeline: ${a.model}/train_log.json lists no checkpoints`);
  const halfLen = probeHalfLen(log);
  const checkpoints = [];
  let textIclTokens = null;  // the bands of the text ICL score, from eval
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
    const ev = evalJson(a.bin, dir, a.maxTokens, halfLen);
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
      text_loss_early: ev.validation?.in_context?.loss_early ?? null,
      text_loss_late: ev.validation?.in_context?.loss_late ?? null,
      text_icl_score: ev.validation?.in_context?.icl_score ?? null,
      prev_token: ev.heads.prev_token,     // (L, H)
      induction: ev.heads.induction,       // (L, H)
      first_token: ev.heads.first_token,   // (L, H)
    });
    if (ev.validation?.in_context) textIclTokens = ev.validation.in_context;
    console.log(`timeline: step ${c.step}: induction ${ev.best.induction.score.toFixed(3)} ` +
      `(${ev.best.induction.layer}.${ev.best.induction.head}), prev-token ` +
      `${ev.best.prev_token.score.toFixed(3)}, icl ${ev.probe.icl_score.toFixed(3)} (probe), ` +
      `${ev.validation?.in_context?.icl_score?.toFixed(3)} (text)`);
    if (isFinal && c.dir && fs.existsSync(path.join(a.model, c.dir))) {
      fs.rmSync(path.join(a.model, c.dir), { recursive: true });
    }
  }
  const timeline = {
    model: path.basename(a.model),
    note: 'Scores from headlight eval on each checkpoint: repeated random-token probe ' +
      `(8 sequences of 2 x ${halfLen} tokens), validation over the first ${a.maxTokens} tokens of build/corpus/val.txt. ` +
      'Score arrays are (L, H). icl_score: probe loss on the second copy minus the first; ' +
      'text_icl_score: mean validation loss of the late tokens of a window minus the early ones ' +
      '(text_icl_tokens).',
    ...(textIclTokens ? { text_icl_tokens: { early: textIclTokens.early_tokens, late: textIclTokens.late_tokens } } : {}),
    probe_half_len: halfLen,
    phases: phasesOf(log),
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

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
