#!/usr/bin/env bash
# attn-only-2l, the classic induction-head model (Olsson et al. 2022): 2
# attention-only layers, 8 heads, d 128 (d_head 16), 128 positions,
# 3584-token vocabulary (0.61M parameters, 1.2 MiB in F16, so that its 16
# log-spaced checkpoints fit the 40 MiB budget of models/).
# Induction data: for the first 400 steps every sequence holds a span of n
# uniformly random tokens followed by the same span, at a random offset in
# training text, n from 8 to 64 (only in-context copying predicts the second
# copy); after that 30% of sequences hold such a repeat, 10% a repeated
# natural-text span, and the rest is plain text. Measured here: with 25% or
# 50% repeats mixed in from step 0 nothing had formed after 3000 / 1200
# steps, while on pure repeats copying appears within about 250 steps. The
# period and offset must vary: with a fixed period of 65 the model learned to
# copy "the token 65 back" by position (second-copy loss 0.03 in training,
# 18.8 on the period-64 probe of headlight eval), which is no induction head.
# Writes models/attn-only-2l/checkpoints/step-*/ and timeline.json (loss curve
# and per-head induction / previous-token scores over training).
source "$(dirname "$0")/common.sh"
prepare
train_model attn-only-2l models/tokenizer-3584 \
  --n-layer 2 --n-head 8 --n-embd 128 --n-positions 128 --attn-only \
  --batch 16 --steps 8000 --lr 2e-3 --warmup 200 --min-lr-frac 0.1 --weight-decay 0.1 \
  --induction-frac 0.3 --repeat-text-frac 0.1 --induction-warmup-steps 400 --checkpoints 16 \
  --eval-every 250 --eval-tokens 32768 --seed 1 --time-limit-min "${TIME_LIMIT_MIN:-60}"
node models/recipes/timeline.mjs --model models/attn-only-2l
