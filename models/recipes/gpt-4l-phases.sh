# The three runs that train the gpt-4l shape (models/README.md, seventh
# round), for train-gpt-4l.sh and train-gpt-4l-induction.sh (sourced after
# common.sh, not run). Each run starts from the last one's weights
# (--init-from) with a fresh optimiser and a schedule of its own:
#   1. train_gpt4l_phase1, into build/gpt-4l-phase1/: the induction warm-up
#      on attn-only-2l's warm-up data (random tokens with spans copied forward
#      and one two-back segment per sequence) at a flat lr 2e-3, with the
#      MLPs off and only the first two blocks running (--shallow-steps): the
#      model trains as a two-layer attention-only model, as attn-only-2l,
#      for 8,000 steps, 5,000 at 32 tokens and 3,000 at 64. It breaks away at
#      about step 3,300 with a copying circuit keyed on the token 7 back;
#      a previous-token head and the first classic induction head grow in the
#      steps after (about 25 minutes on both cores).
#   2. train_gpt4l_phase1b, into build/gpt-4l-phase1b/: 2,000 more steps of
#      the same at 64 tokens, half of the fill's copies 2-8 positions after
#      their source (--fill-near-frac 0.5), on which only a key close behind
#      the copied token finds it: the classic induction heads take over
#      (about 9 minutes).
#   3. GPT4L_TEXT, the flags of the text run for train_model (with
#      --init-from the last warm-up's folder): all four
#      blocks and the MLPs on, 128-token sequences, 20% holding a repeated
#      random-token span, 10% a repeated text span, the rest plain text; lr
#      1e-3 (TEXT_LR: a run that continues a trained model starts lower,
#      so that its warm-up does not undo the last run's end) with a 100-step
#      warm-up and cosine to 0.1 x lr, for TIME_LIMIT_MIN minutes (default
#      45; the trainer fits the step count to them).
GPT4L_PHASE1=${GPT4L_PHASE1:-build/gpt-4l-phase1}
GPT4L_PHASE1B=${GPT4L_PHASE1B:-build/gpt-4l-phase1b}
# The tokenizer of all three runs (train-gpt-4l-8k.sh sets the 8192 one).
GPT4L_TOKENIZER=${GPT4L_TOKENIZER:-models/tokenizer-3584}
# Blocks of the model (train-gpt-6l.sh sets 6: the same recipe at another
# depth, so that the shipped sizes differ in size only). The warm-ups run
# only the first two blocks whatever the depth.
GPT4L_LAYERS=${GPT4L_LAYERS:-4}

# gpt4l_warmup OUT [headlight train flags...]: a warm-up run into OUT (the
# sixth round's phase one as it stands: 32 tokens, MLPs off, ended at a
# 4-nat gap, 6,000 steps at most); extra flags come last and override these.
gpt4l_warmup() {
  local out=$1
  shift
  rm -rf "$out"
  mkdir -p "$out"
  "$HEADLIGHT_BIN" train --train build/corpus/train.txt --val build/corpus/val.txt \
    --tokenizer "$GPT4L_TOKENIZER" --out "$out" --threads "$THREADS" --dtype f32 \
    --n-layer "$GPT4L_LAYERS" --n-head 8 --n-embd 256 --n-positions 128 \
    --batch 16 --steps 6000 --lr 2e-3 --warmup 200 --min-lr-frac 1 --weight-decay 0.1 \
    --induction-warmup-steps 6000 --induction-warmup-gap 4 \
    --induction-fill --fill-alternations 1 --seq-schedule 32:6000 --mlp-off-steps 6000 \
    --end-with-warmup --eval-every 500 --eval-tokens 65536 --seed 1 "$@" \
    2>&1 | tee "build/train-$(basename "$out").log"
}

train_gpt4l_phase1() {
  gpt4l_warmup "$GPT4L_PHASE1" --wpe-init sinusoidal --steps 8000 --induction-warmup-steps 8000 \
    --induction-warmup-gap 0 --mlp-off-steps 8000 --shallow-steps 8000 --shallow-layers 2 \
    --seq-schedule 32:5000,64:3000
}

train_gpt4l_phase1b() {
  gpt4l_warmup "$GPT4L_PHASE1B" --init-from "$GPT4L_PHASE1" --steps 2000 \
    --induction-warmup-steps 2000 --induction-warmup-gap 0 --mlp-off-steps 2000 \
    --shallow-steps 2000 --shallow-layers 2 --seq-schedule 64:2000 --fill-near-frac 0.5
}

GPT4L_TEXT=(--n-layer "$GPT4L_LAYERS" --n-head 8 --n-embd 256 --n-positions 128
  --batch 16 --steps 20000 --lr "${TEXT_LR:-1e-3}" --warmup 100 --min-lr-frac 0.1 --weight-decay 0.1
  --induction-frac "${INDUCTION_FRAC:-0.2}" --repeat-text-frac 0.1
  --eval-every 500 --eval-tokens 65536 --seed 1 --time-limit-min "${TIME_LIMIT_MIN:-45}")
