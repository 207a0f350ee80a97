#!/usr/bin/env bash
# attn-only-2l, the classic induction-head model (Olsson et al. 2022): 2
# attention-only layers, 8 heads, d 128 (d_head 16), 128 positions,
# 3584-token vocabulary (0.61M parameters, 1.2 MiB in F16, so that its 16
# log-spaced checkpoints fit the 40 MiB budget of models/).
# Induction data: 50% of training sequences are a span of 64 uniformly random
# tokens followed by the same span (only in-context copying predicts the
# second half), 10% are a natural-text span repeated; the rest is plain text.
# (With 25% random spans no induction head had formed after 3000 steps; with
# 100% one formed within 300 steps, so the mix leans on the repeats.)
# Writes models/attn-only-2l/checkpoints/step-*/ and timeline.json (loss curve
# and per-head induction / previous-token scores over training).
source "$(dirname "$0")/common.sh"
prepare
train_model attn-only-2l models/tokenizer-3584 \
  --n-layer 2 --n-head 8 --n-embd 128 --n-positions 128 --attn-only \
  --batch 16 --steps 8000 --lr 2e-3 --warmup 200 --min-lr-frac 0.1 --weight-decay 0.1 \
  --induction-frac 0.5 --repeat-text-frac 0.1 --checkpoints 16 \
  --eval-every 250 --eval-tokens 32768 --seed 1 --time-limit-min "${TIME_LIMIT_MIN:-60}"
node models/recipes/timeline.mjs --model models/attn-only-2l
