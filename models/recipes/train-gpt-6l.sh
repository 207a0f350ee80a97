#!/usr/bin/env bash
# gpt-6l, for comparing how heads specialise with depth: 6 layers with MLPs,
# 8 heads, d 256, 128 positions, 3584-token vocabulary (5.69M parameters,
# 10.85 MiB in F16). The same sequence mix as gpt-4l's text phase (20% of
# sequences hold a repeated random-token span, 10% a repeated text span, the
# rest plain text) from the first step, with no random-token warm-up: the
# whole budget goes to text, so that the larger model also predicts English
# better. Batch 8 x 128 tokens, lr 2e-3, sinusoidal position init. Trains for
# TIME_LIMIT_MIN minutes on THREADS threads (the step count is fitted to it).
source "$(dirname "$0")/common.sh"
prepare
train_model gpt-6l models/tokenizer-3584 \
  --n-layer 6 --n-head 8 --n-embd 256 --n-positions 128 \
  --batch 8 --steps 40000 --lr 2e-3 --warmup 200 --min-lr-frac 0.1 --weight-decay 0.1 \
  --wpe-init sinusoidal --induction-frac 0.2 --repeat-text-frac 0.1 \
  --eval-every 500 --eval-tokens 65536 --seed 1 --time-limit-min "${TIME_LIMIT_MIN:-85}"
