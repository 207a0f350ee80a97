#!/usr/bin/env bash
# An experiment, not a shipped model: the two runs of gpt-4l-phases.sh with a
# choice of phase two, into build/gpt-4l-induction/. models/README.md, sixth
# round, has what each gave; the fifth round's one-run form of this recipe is
# in commit 34e71fa. VARIANT=text (the default) is train-gpt-4l.sh's text
# run; VARIANT=warmup128 first trains 1,500 more warm-up steps at 128 tokens
# with the MLPs still off, then that text.
# PHASE1=shallow2 (the seventh round) trains phase one's warm-up on the first
# two blocks only (--shallow-steps), the other two joining with the MLPs;
# PHASE1=shallow2long does so for 8,000 steps, past the break-away (5,000 at
# 32 tokens, 3,000 at 64), as attn-only-2l's warm-up does.
# Environment: THREADS, PHASE2_THREADS (default THREADS), TIME_LIMIT_MIN
# (phase two, default 45), VARIANT, PHASE1 (default or shallow2),
# SKIP_PHASE1=1 (reuse build/gpt-4l-phase1/).
# The sixth round ran phase one on both cores (35 minutes) and the two
# variants side by side on one thread each.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/gpt-4l-phases.sh"
prepare
if [ "${SKIP_PHASE1:-0}" != 1 ] || [ ! -f "$GPT4L_PHASE1/model.safetensors" ]; then
  case "${PHASE1:-default}" in
    default) train_gpt4l_phase1 ;;
    shallow2) train_gpt4l_phase1 --shallow-steps 6000 --shallow-layers 2 ;;
    shallow2long) train_gpt4l_phase1 --shallow-steps 8000 --shallow-layers 2 --steps 8000 \
      --induction-warmup-steps 8000 --induction-warmup-gap 0 --mlp-off-steps 8000 \
      --seq-schedule 32:5000,64:3000 ;;
    *) echo "PHASE1 must be default, shallow2 or shallow2long, not '$PHASE1'" >&2; exit 2 ;;
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
  train_model gpt-4l-induction models/tokenizer-3584 "${GPT4L_TEXT[@]}" "${extra[@]}"
