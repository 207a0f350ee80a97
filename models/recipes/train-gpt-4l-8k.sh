#!/usr/bin/env bash
# gpt-4l-8k, the candidate for the page's next default model (issue 15): the
# gpt-4l shape (4 layers with MLPs, 8 heads, d 256, 128 positions) with the
# 8192-token vocabulary, which the vocabulary comparison measured best per
# byte (models/README.md): 5.32M parameters, about 10.2 MiB in F16, inside
# the default model's 16 MiB budget. Trained as gpt-4l (gpt-4l-phases.sh):
# the induction warm-up on the first two blocks into build/gpt-4l-8k-phase1/,
# 2,000 near-copy steps into build/gpt-4l-8k-phase1b/, then text. The text
# run is longer than one session, so the recipe runs in stages:
#   STAGE=phase1   the first warm-up (8,000 steps; about 30 minutes on both
#                  idle cores);
#   STAGE=phase1b  the near-copy warm-up from GPT4L_PHASE1 (a committed copy:
#                  GPT4L_PHASE1=models/training/gpt-4l-8k-phase1);
#   STAGE=phase1c  short copies from GPT4L_PHASE1B (2,500 steps): copied
#                  spans of 4-6 tokens (--fill-span-max 6), so that no key
#                  further back than the span is long finds the copy, only
#                  the previous token's (the tenth round, models/README.md);
#   STAGE=expand   instead of the warm-ups: the shipped gpt-4l with its
#                  vocabulary grown to 8192 (expand-vocab.mjs; its merges are
#                  a prefix of tokenizer-8192's) into build/gpt-4l-8k-expanded,
#                  induction and previous-token heads included (the tenth
#                  round, models/README.md); then STAGE=text INIT=that;
#   STAGE=warmup   both; STAGE=text one text run of TIME_LIMIT_MIN minutes
#                  from INIT (default the last warm-up) into models/gpt-4l-8k;
#   STAGE=context  a longer context (issue 15, the thirteenth round of
#                  models/README.md): INIT (default models/gpt-4l-8k) grown
#                  to CONTEXT positions (default 256) by grow-context.mjs
#                  into build/gpt-4l-8k-<CONTEXT>-grown, then one text run at
#                  that length (batch 8 x 256: the same tokens a step) into
#                  MODELS_OUT/gpt-4l-8k, TEXT_LR (default here 2e-4), the
#                  added text unless TRAIN_TEXT says otherwise;
#                  A later run continues it with STAGE=text CONTEXT=256
#                  INIT=<that folder> (and TRAIN_TEXT, TEXT_LR);
#   STAGE=all      everything but context (the default).
# INDUCTION_FRAC (default 0.2): the share of text-run sequences that hold a
# repeated random-token span (the fourteenth round ran its context stage at
# 0.1: more plain text a step).
# A later session continues with STAGE=text INIT=<the last run's folder>
# (DTYPE=f32 for a run that another continues), and the card lists every run.
# Runs that a session could not finish are committed under models/training/
# (not served: the page lists only models/<name>/ folders).
if [[ ${STAGE:-} == context ]]; then
  TRAIN_TEXT=${TRAIN_TEXT:-build/corpus-plus/train.txt}  # before common.sh's default
  TEXT_LR=${TEXT_LR:-2e-4}
fi
source "$(dirname "$0")/common.sh"
GPT4L_TOKENIZER=models/tokenizer-8192
GPT4L_PHASE1=${GPT4L_PHASE1:-build/gpt-4l-8k-phase1}
GPT4L_PHASE1B=${GPT4L_PHASE1B:-build/gpt-4l-8k-phase1b}
GPT4L_PHASE1C=${GPT4L_PHASE1C:-build/gpt-4l-8k-phase1c}
source "$(dirname "$0")/gpt-4l-phases.sh"
prepare
STAGE=${STAGE:-all}
if [[ $STAGE == all || $STAGE == warmup || $STAGE == phase1 ]]; then
  train_gpt4l_phase1
fi
if [[ $STAGE == all || $STAGE == warmup || $STAGE == phase1b ]]; then
  train_gpt4l_phase1b
fi
if [[ $STAGE == expand ]]; then
  node models/recipes/expand-vocab.mjs --model models/gpt-4l --tokenizer "$GPT4L_TOKENIZER" \
    --out build/gpt-4l-8k-expanded
fi
if [[ $STAGE == phase1c ]]; then
  gpt4l_warmup "$GPT4L_PHASE1C" --init-from "$GPT4L_PHASE1B" --steps 2500 \
    --induction-warmup-steps 2500 --induction-warmup-gap 0 --mlp-off-steps 2500 \
    --shallow-steps 2500 --shallow-layers 2 --seq-schedule 64:2500 --fill-near-frac 0.5 \
    --fill-span-max 6
fi
if [[ $STAGE == all || $STAGE == text ]]; then
  INIT=${INIT:-$GPT4L_PHASE1B}
  # train_model empties its output folder first: a run that continues the
  # shipped folder starts from a copy of it.
  if [[ $(realpath -m "$INIT") == $(realpath -m "${MODELS_OUT:-models}/gpt-4l-8k") ]]; then
    rm -rf build/gpt-4l-8k-init && cp -r "$INIT" build/gpt-4l-8k-init && INIT=build/gpt-4l-8k-init
  fi
  # DTYPE=f32 for a run that a later one continues (F16 rounds the weights).
  # CONTEXT=256 continues a model whose context grew (STAGE=context).
  train_model gpt-4l-8k "$GPT4L_TOKENIZER" --init-from "$INIT" "${GPT4L_TEXT[@]}" \
    ${CONTEXT:+--n-positions "$CONTEXT" --batch $((16 * 128 / CONTEXT))} --dtype "${DTYPE:-f16}"
fi
if [[ $STAGE == context ]]; then
  CONTEXT=${CONTEXT:-256}
  INIT=${INIT:-models/gpt-4l-8k}
  grown=build/gpt-4l-8k-$CONTEXT-grown
  node models/recipes/grow-context.mjs --model "$INIT" --n-positions "$CONTEXT" --out "$grown"
  train_model gpt-4l-8k "$GPT4L_TOKENIZER" --init-from "$grown" "${GPT4L_TEXT[@]}" \
    --n-positions "$CONTEXT" --batch $((16 * 128 / CONTEXT)) --dtype "${DTYPE:-f16}"
fi
