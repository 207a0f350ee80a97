#!/usr/bin/env bash
# An experiment, not a shipped model: the gpt-4l shape (4 layers with MLPs,
# 8 heads, d 256, 3584-token vocabulary) trained to grow an induction circuit
# before text. Writes build/gpt-4l-induction/ (outside models/, so the page
# does not list it). models/README.md, fifth round, has what its first run
# gave: the circuit formed (the warm-up ended at step 4270), but the text
# phase left was too short and at too low a rate for gpt-4l's bars.
#
# How its induction heads are grown (models/README.md, fifth round):
#   - warm-up, with the MLPs switched off (--mlp-off-steps: the model trains
#     as its attention-only twin): attn-only-2l's data, 32-token sequences of
#     random tokens with spans copied forward and one two-back segment each;
#     it ends once the copied spans' loss is 4 nats below the first copy's
#     (the circuit has formed), at step 6000 at the latest;
#   - lr 2e-3, not attn-only-2l's 5e-3: at d 256 the same warm-up at 4e-3 or
#     5e-3 crept for thousands of steps without breaking away, at 2e-3 it
#     broke away after about 3600 steps;
#   - then MLPs on, 128-token sequences of training text: 10% holding a
#     repeated random-token span, 10% a repeated text span, the rest plain.
# Sinusoidal position init. Trains for TIME_LIMIT_MIN minutes (the step count
# is fitted to it) on THREADS threads; the first run: 55 minutes, one thread.
source "$(dirname "$0")/common.sh"
prepare
out=build/gpt-4l-induction
rm -rf "$out"
mkdir -p "$out"
"$HEADLIGHT_BIN" train --train build/corpus/train.txt --val build/corpus/val.txt \
  --tokenizer models/tokenizer-3584 --out "$out" --threads "$THREADS" --dtype f16 \
  --n-layer 4 --n-head 8 --n-embd 256 --n-positions 128 \
  --batch 16 --steps 20000 --lr 2e-3 --warmup 200 --min-lr-frac 0.1 --weight-decay 0.1 \
  --wpe-init sinusoidal --induction-warmup-steps 6000 --induction-warmup-gap 4 \
  --induction-fill --fill-alternations 1 --seq-schedule 32:6000 --mlp-off-steps 6000 \
  --induction-frac 0.1 --repeat-text-frac 0.1 \
  --eval-every 500 --eval-tokens 65536 --seed 1 --time-limit-min "${TIME_LIMIT_MIN:-55}" \
  2>&1 | tee "build/train-gpt-4l-induction.log"
node models/recipes/model-card.mjs --model "$out" --name gpt-4l-induction
