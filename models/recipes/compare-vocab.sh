#!/usr/bin/env bash
# Chooses the vocabulary size by validation loss PER BYTE at equal compute:
# one proxy model (4 layers, 8 heads, d 256, 128 positions) per candidate
# tokenizer, all trained at the same time for the same wall-clock minutes on
# one thread each (so they share the machine's load equally), then evaluated
# with `headlight eval` on the WHOLE validation text (the same bytes for every
# tokenizer). Prints one line per candidate; results in build/vocab-compare/.
#
# usage: bash models/recipes/compare-vocab.sh [MINUTES] [SIZES...]
#   defaults: 10 minutes, sizes 3584 4096 8192
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=${1:-10}
shift || true
sizes=("${@:-3584 4096 8192}")
sizes=(${sizes[@]})
bin=${HEADLIGHT_BIN:-build/native/headlight}
out=build/vocab-compare
[ -f build/corpus/train.txt ] || node models/recipes/build-corpus.mjs > /dev/null
# Tokenizers that are not shipped (e.g. 3584) are trained into build/.
node models/recipes/train-bpe.mjs --vocab-sizes "$(IFS=,; echo "${sizes[*]}")" \
  --out-prefix "$out/tokenizer-" > /dev/null
pids=()
for n in "${sizes[@]}"; do
  nice -n 19 "$bin" train --train build/corpus/train.txt --val build/corpus/val.txt \
    --tokenizer "$out/tokenizer-$n" --out "$out/v$n" \
    --n-layer 4 --n-head 8 --n-embd 256 --n-positions 128 --batch 16 \
    --steps 3000 --warmup 50 --lr 2e-3 --time-limit-min "$minutes" --threads 1 \
    --eval-every 1000000 --eval-tokens 16384 --dtype f32 > "$out/v$n.train.log" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
for n in "${sizes[@]}"; do
  nice -n 19 "$bin" eval --model "$out/v$n" --val build/corpus/val.txt --probe-seqs 4 --json \
    > "$out/v$n.eval.json"
done
node -e '
const fs = require("fs");
for (const n of process.argv.slice(1)) {
  const log = JSON.parse(fs.readFileSync(`build/vocab-compare/v${n}/train_log.json`, "utf8"));
  const ev = JSON.parse(fs.readFileSync(`build/vocab-compare/v${n}.eval.json`, "utf8"));
  const v = ev.validation;
  console.log(`vocab ${n}: ${log.steps} steps, ${Math.round(log.tokens_seen)} tokens seen, ` +
    `val ${v.nats_per_token.toFixed(4)} nats/token, ${v.bits_per_byte.toFixed(4)} bits/byte ` +
    `(${(v.covered_bytes / (v.predicted_tokens + v.windows)).toFixed(3)} bytes/token), ` +
    `xz -9 ${v.xz_bits_per_byte.toFixed(4)} bits/byte`);
}' "${sizes[@]}" | tee "$out/summary.txt"
