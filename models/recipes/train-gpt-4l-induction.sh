#!/usr/bin/env bash
# An experiment, not a shipped model: the warm-up runs of gpt-4l-phases.sh
# in one of three forms, then a text run in one of two, into
# build/gpt-4l-induction/. models/README.md (sixth and seventh rounds) has
# what each gave; the fifth round's one-run form of this recipe is in commit
# 34e71fa.
#   PHASE1=seventh (the default): train-gpt-4l.sh's warm-ups, phase one on
#     the first two blocks for 8,000 steps, then phase 1b with near copies;
#   PHASE1=sixth: the sixth round's phase one (all four blocks, MLPs off,
#     32 tokens, ended at a 4-nat gap);
#   PHASE1=shallow2: that on the first two blocks only (--shallow-steps).
#   VARIANT=text (the default) is train-gpt-4l.sh's text run; VARIANT=warmup128
#     first trains 1,500 more warm-up steps at 128 tokens with the MLPs still
#     off, then that text.
# Environment: THREADS, PHASE2_THREADS (default THREADS), TIME_LIMIT_MIN
# (text run, default 45), PHASE1, VARIANT, SKIP_PHASE1=1 (reuse the warm-up
# folders); GPT4L_PHASE1, GPT4L_PHASE1B and EXP_NAME (default
# gpt-4l-induction) name the folders, so that two experiments can run at once.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/gpt-4l-phases.sh"
prepare
case "${PHASE1:-seventh}" in
  seventh) last=$GPT4L_PHASE1B ;;
  sixth | shallow2) last=$GPT4L_PHASE1 ;;
  *) echo "PHASE1 must be seventh, sixth or shallow2, not '$PHASE1'" >&2; exit 2 ;;
esac
if [ "${SKIP_PHASE1:-0}" != 1 ] || [ ! -f "$last/model.safetensors" ]; then
  case "${PHASE1:-seventh}" in
    seventh) train_gpt4l_phase1 && train_gpt4l_phase1b ;;
    sixth) gpt4l_warmup "$GPT4L_PHASE1" --wpe-init sinusoidal ;;
    shallow2) gpt4l_warmup "$GPT4L_PHASE1" --wpe-init sinusoidal --shallow-steps 6000 --shallow-layers 2 ;;
  esac
fi
case "${VARIANT:-text}" in
  text) extra=() ;;
  warmup128) extra=(--induction-warmup-steps 1500 --induction-warmup-gap 6 --induction-fill
                    --fill-alternations 1 --mlp-off-steps 1500) ;;
  *) echo "VARIANT must be text or warmup128, not '$VARIANT'" >&2; exit 2 ;;
esac
# Into build/gpt-4l-induction/ (outside models/, so the page does not list it).
MODELS_OUT=build THREADS=${PHASE2_THREADS:-$THREADS} \
  train_model "${EXP_NAME:-gpt-4l-induction}" models/tokenizer-3584 --init-from "$last" \
  "${GPT4L_TEXT[@]}" "${extra[@]}"
