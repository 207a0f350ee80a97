#!/usr/bin/env bash
# gpt-6l, for comparing how heads specialise with depth: 6 layers with MLPs,
# 8 heads, d 256, 128 positions, 3584-token vocabulary (5.69M parameters,
# 10.85 MiB in F16). Same data mix as gpt-4l. <= 90 min on 2 cores: the
# trainer fits the step count to TIME_LIMIT_MIN.
source "$(dirname "$0")/common.sh"
prepare
train_model gpt-6l models/tokenizer-3584 \
  --n-layer 6 --n-head 8 --n-embd 256 --n-positions 128 \
  --batch 16 --steps 6000 --lr 1e-3 --warmup 200 --min-lr-frac 0.1 --weight-decay 0.1 \
  --induction-frac 0.05 --repeat-text-frac 0.05 \
  --eval-every 500 --eval-tokens 65536 --seed 1 --time-limit-min "${TIME_LIMIT_MIN:-82}"
