#!/usr/bin/env bash
# An experiment, not a shipped model: the gpt-4l shape (4 layers with MLPs,
# 8 heads, d 256, 3584-token vocabulary) trained in two runs to grow an
# induction circuit before text. models/README.md, sixth round, has what it
# gave; the fifth round's one-run form of this recipe is in commit 34e71fa.
#   1. the warm-up, into build/gpt-4l-phase1/: the model trains as its
#      attention-only twin (--mlp-off-steps) on attn-only-2l's warm-up data
#      (32-token sequences of random tokens with spans copied forward and
#      one two-back segment each) at a flat lr 2e-3, and the run ends when
#      the copied spans' loss is 4 nats below the first copy's
#      (--end-with-warmup; 6,000 steps at most);
#   2. from its weights (--init-from), a schedule of its own (lr 1e-3, 100-step
#      warm-up, cosine to 1e-4) for TIME_LIMIT_MIN minutes, into
#      build/gpt-4l-induction/. VARIANT=text (the default): text at once,
#      MLPs on, 128 tokens, 20% of sequences with a repeated random-token
#      span and 10% with a repeated text span. VARIANT=warmup128: first
#      1,500 more warm-up steps at 128 tokens with the MLPs still off, then
#      that text.
# Environment: THREADS, PHASE2_THREADS (default THREADS), TIME_LIMIT_MIN
# (phase two, default 45), VARIANT, SKIP_PHASE1=1 (reuse build/gpt-4l-phase1/).
# The sixth round ran phase one on both cores (35 minutes) and the two
# variants side by side on one thread each.
source "$(dirname "$0")/common.sh"
prepare
phase1=build/gpt-4l-phase1
out=build/gpt-4l-induction
if [ "${SKIP_PHASE1:-0}" != 1 ] || [ ! -f "$phase1/model.safetensors" ]; then
  rm -rf "$phase1"
  mkdir -p "$phase1"
  "$HEADLIGHT_BIN" train --train build/corpus/train.txt --val build/corpus/val.txt \
    --tokenizer models/tokenizer-3584 --out "$phase1" --threads "$THREADS" --dtype f32 \
    --n-layer 4 --n-head 8 --n-embd 256 --n-positions 128 \
    --batch 16 --steps 6000 --lr 2e-3 --warmup 200 --min-lr-frac 1 --weight-decay 0.1 \
    --wpe-init sinusoidal --induction-warmup-steps 6000 --induction-warmup-gap 4 \
    --induction-fill --fill-alternations 1 --seq-schedule 32:6000 --mlp-off-steps 6000 \
    --end-with-warmup --eval-every 500 --eval-tokens 65536 --seed 1 \
    2>&1 | tee build/train-gpt-4l-phase1.log
fi
case "${VARIANT:-text}" in
  text) extra=() ;;
  warmup128) extra=(--induction-warmup-steps 1500 --induction-warmup-gap 6 --induction-fill
                    --fill-alternations 1 --mlp-off-steps 1500) ;;
  *) echo "VARIANT must be text or warmup128, not '$VARIANT'" >&2; exit 2 ;;
esac
rm -rf "$out"
mkdir -p "$out"
"$HEADLIGHT_BIN" train --train build/corpus/train.txt --val build/corpus/val.txt \
  --tokenizer models/tokenizer-3584 --out "$out" --threads "${PHASE2_THREADS:-$THREADS}" \
  --dtype f16 --init-from "$phase1" --n-layer 4 --n-head 8 --n-embd 256 --n-positions 128 \
  --batch 16 --steps 20000 --lr 1e-3 --warmup 100 --min-lr-frac 0.1 --weight-decay 0.1 \
  --induction-frac 0.2 --repeat-text-frac 0.1 "${extra[@]}" \
  --eval-every 500 --eval-tokens 65536 --seed 1 --time-limit-min "${TIME_LIMIT_MIN:-45}" \
  2>&1 | tee build/train-gpt-4l-induction.log
node models/recipes/model-card.mjs --model "$out" --name gpt-4l-induction
