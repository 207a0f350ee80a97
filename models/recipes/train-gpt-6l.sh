#!/usr/bin/env bash
# gpt-6l, for comparing how heads specialise with depth (issue 18): 6 layers
# with MLPs, 8 heads, d 256, 128 positions, the 3584-token vocabulary of
# gpt-4l (5.69M parameters, 10.85 MiB in F16), trained with gpt-4l's recipe
# (gpt-4l-phases.sh, GPT4L_LAYERS=6) so that the shipped 4- and 6-layer
# models differ in depth only: the induction warm-up on the first two blocks
# into build/gpt-6l-phase1/ (8,000 steps), 2,000 near-copy steps into
# build/gpt-6l-phase1b/, then text with all six blocks. The shipped gpt-6l of
# the eighth round (models/README.md) was trained on text only and grew no
# induction head, so it compared recipes, not sizes.
#
# The runs take longer than one session, so the recipe runs in stages:
#   STAGE=phase1   the first warm-up (about 30 minutes on both idle cores);
#   STAGE=phase1b  the near-copy warm-up from GPT6L_PHASE1 (a committed copy:
#                  GPT6L_PHASE1=models/training/gpt-6l-phase1);
#   STAGE=warmup   both;
#   STAGE=text     one text run of TIME_LIMIT_MIN minutes (default 85) from
#                  INIT (default the last warm-up) into models/gpt-6l
#                  (MODELS_OUT=build for an experiment); a later session
#                  continues with STAGE=text INIT=<the last run's folder>
#                  (DTYPE=f32 for a run that another continues);
#   STAGE=all      everything (the default).
# Runs that a session could not finish are committed under models/training/.
source "$(dirname "$0")/common.sh"
GPT4L_LAYERS=6
GPT4L_PHASE1=${GPT6L_PHASE1:-build/gpt-6l-phase1}
GPT4L_PHASE1B=${GPT6L_PHASE1B:-build/gpt-6l-phase1b}
TIME_LIMIT_MIN=${TIME_LIMIT_MIN:-85}
source "$(dirname "$0")/gpt-4l-phases.sh"
prepare
STAGE=${STAGE:-all}
if [[ $STAGE == all || $STAGE == warmup || $STAGE == phase1 ]]; then
  train_gpt4l_phase1
fi
if [[ $STAGE == all || $STAGE == warmup || $STAGE == phase1b ]]; then
  train_gpt4l_phase1b
fi
if [[ $STAGE == all || $STAGE == text ]]; then
  INIT=${INIT:-$GPT4L_PHASE1B}
  # train_model empties its output folder first: a run that continues the
  # shipped folder starts from a copy of it.
  if [[ $(realpath -m "$INIT") == $(realpath -m "${MODELS_OUT:-models}/gpt-6l") ]]; then
    rm -rf build/gpt-6l-init && cp -r "$INIT" build/gpt-6l-init && INIT=build/gpt-6l-init
  fi
  train_model gpt-6l "$GPT4L_TOKENIZER" --init-from "$INIT" "${GPT4L_TEXT[@]}" \
    --dtype "${DTYPE:-f16}"
fi
