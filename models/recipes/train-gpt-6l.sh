#!/usr/bin/env bash
# gpt-6l, for comparing how heads specialise with depth: 6 layers with MLPs,
# 8 heads, d 256, 128 positions, 3584-token vocabulary (5.69M parameters,
# 10.85 MiB in F16). One run of text, with the sequence mix of gpt-4l's text
# phase (20% of sequences hold a repeated random-token span, 10% a repeated
# text span, the rest plain text) from the first step, and no random-token
# warm-up: at 6 layers a step costs about 1.4x gpt-4l's, so the 31 minutes of
# gpt-4l's warm-ups would leave too few text tokens for the larger model to
# predict English better than gpt-4l (models/README.md, eighth round). Batch
# 16 x 128 tokens and lr 1e-3 as gpt-4l's text phase, sinusoidal position
# init. Trains for TIME_LIMIT_MIN minutes (default 85) on THREADS threads
# (default all cores; the step count is fitted to the time).
source "$(dirname "$0")/common.sh"
prepare
train_model gpt-6l models/tokenizer-3584 \
  --n-layer 6 --n-head 8 --n-embd 256 --n-positions 128 \
  --batch 16 --steps 40000 --lr 1e-3 --warmup 100 --min-lr-frac 0.1 --weight-decay 0.1 \
  --wpe-init sinusoidal --induction-frac 0.2 --repeat-text-frac 0.1 \
  --eval-every 500 --eval-tokens 65536 --seed 1 --time-limit-min "${TIME_LIMIT_MIN:-85}"
