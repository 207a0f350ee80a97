#!/usr/bin/env bash
# gpt-6l-8k, a candidate for the default model (issue 15: bits per byte at
# most 0.6 x xz): the default gpt-4l-8k (4 blocks, d 256, 8192 tokens) grown
# to 6 blocks by grow-depth.mjs (the two new blocks start as the identity, so
# the grown model starts at gpt-4l-8k's loss and keeps its heads and their
# names), then text runs with gpt-4l-8k's text flags (gpt-4l-phases.sh
# GPT4L_TEXT, GPT4L_LAYERS=6) on the added English text. 6,868,992
# parameters, 13.1 MiB in F16 (the default's budget is 16). The twelfth round
# of models/README.md measures it against gpt-4l-8k's own continuation.
#   STAGE=grow  models/gpt-4l-8k -> build/gpt-6l-8k-grown (seconds);
#   STAGE=text  one text run of TIME_LIMIT_MIN minutes (default 88) from INIT
#               (default build/gpt-6l-8k-grown) into models/gpt-6l-8k
#               (MODELS_OUT=build for an experiment); a later session
#               continues with STAGE=text INIT=<the last run's folder>;
#   STAGE=all   both (the default).
# Environment as common.sh, and TEXT_LR (default here 3e-4, as gpt-4l-8k's
# continuations), TRAIN_TEXT (default here build/corpus-plus/train.txt).
# TRAIN_TEXT is set before common.sh, whose own default (build/corpus) would
# otherwise win.
TRAIN_TEXT=${TRAIN_TEXT:-build/corpus-plus/train.txt}
source "$(dirname "$0")/common.sh"
GPT4L_LAYERS=6
TEXT_LR=${TEXT_LR:-3e-4}
TIME_LIMIT_MIN=${TIME_LIMIT_MIN:-88}
source "$(dirname "$0")/gpt-4l-phases.sh"
prepare
STAGE=${STAGE:-all}
if [[ $STAGE == all || $STAGE == grow ]]; then
  node models/recipes/grow-depth.mjs --model models/gpt-4l-8k --n-layer 6 --out build/gpt-6l-8k-grown
fi
if [[ $STAGE == all || $STAGE == text ]]; then
  INIT=${INIT:-build/gpt-6l-8k-grown}
  # train_model empties its output folder first: a run that continues the
  # output folder starts from a copy of it.
  if [[ $(realpath -m "$INIT") == $(realpath -m "${MODELS_OUT:-models}/gpt-6l-8k") ]]; then
    rm -rf build/gpt-6l-8k-init && cp -r "$INIT" build/gpt-6l-8k-init && INIT=build/gpt-6l-8k-init
  fi
  train_model gpt-6l-8k models/tokenizer-8192 --init-from "$INIT" "${GPT4L_TEXT[@]}" \
    --dtype "${DTYPE:-f16}"
fi
