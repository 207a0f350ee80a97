#!/usr/bin/env bash
# gpt-4l, the default model of the page: 4 layers with MLPs, 8 heads, d 256,
# 128 positions, 3584-token vocabulary (4.11M parameters, 7.84 MiB in F16: the
# page's 8 MiB download budget is why the vocabulary is 3584 and not 4096,
# which would make the weights 8.09 MiB). Trained in two runs, the second
# starting from the first's weights (--init-from) with a schedule of its own
# (models/README.md, sixth round):
#   1. the induction warm-up, into build/gpt-4l-phase1/: the model trains as
#      its attention-only twin (--mlp-off-steps) on attn-only-2l's warm-up
#      data (32-token sequences of random tokens with spans copied forward
#      and one two-back segment each), at a flat lr 2e-3 (at d 256 a higher
#      rate never leaves the plateau), until the copied spans' loss is 4 nats
#      below the first copy's (--end-with-warmup): a copying circuit, though
#      not one with a classic induction head (models/README.md);
#   2. text, into models/gpt-4l/, from phase one's weights with the MLPs on,
#      128-token sequences: 20% hold a repeated random-token span, 10% a
#      repeated text span, the rest plain text; lr 1e-3 with a 100-step
#      warm-up and cosine to 1e-4, for TIME_LIMIT_MIN minutes (the step count
#      is fitted to them).
# Phase one took 35 minutes on both cores (6,000 steps at most: 43 minutes),
# so the whole recipe stays within 90 minutes. The shipped run: both phases
# on both cores. Environment: THREADS (default all cores), TIME_LIMIT_MIN
# (phase two's minutes, default 45).
source "$(dirname "$0")/common.sh"
prepare
phase1=build/gpt-4l-phase1
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
train_model gpt-4l models/tokenizer-3584 --init-from "$phase1" \
  --n-layer 4 --n-head 8 --n-embd 256 --n-positions 128 \
  --batch 16 --steps 20000 --lr 1e-3 --warmup 100 --min-lr-frac 0.1 --weight-decay 0.1 \
  --induction-frac 0.2 --repeat-text-frac 0.1 \
  --eval-every 500 --eval-tokens 65536 --seed 1 --time-limit-min "${TIME_LIMIT_MIN:-45}"
