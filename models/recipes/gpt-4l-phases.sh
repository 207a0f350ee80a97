# The two runs that train the gpt-4l shape (models/README.md, sixth round),
# for train-gpt-4l.sh and train-gpt-4l-induction.sh (sourced after common.sh,
# not run):
#   1. train_gpt4l_phase1: the induction warm-up, into build/gpt-4l-phase1/.
#      The model trains as its attention-only twin (--mlp-off-steps) on
#      attn-only-2l's warm-up data (32-token sequences of random tokens with
#      spans copied forward and one two-back segment each), at a flat lr 2e-3
#      (at d 256 a higher rate never leaves the plateau), until the copied
#      spans' loss is 4 nats below the first copy's (--end-with-warmup): a
#      copying circuit, though not one with a classic induction head. 6,000
#      steps at most (about 43 minutes on both cores; the shipped run: 4,910
#      steps, 35 minutes).
#   2. GPT4L_TEXT, the flags of the text run for train_model: from phase one's
#      weights with the MLPs on, 128-token sequences, 20% holding a repeated
#      random-token span, 10% a repeated text span, the rest plain text; lr
#      1e-3 with a 100-step warm-up and cosine to 1e-4, for TIME_LIMIT_MIN
#      minutes (default 45; the trainer fits the step count to them).
GPT4L_PHASE1=build/gpt-4l-phase1

# train_gpt4l_phase1 [headlight train flags...]: extra flags come last (they
# override the ones here).
train_gpt4l_phase1() {
  rm -rf "$GPT4L_PHASE1"
  mkdir -p "$GPT4L_PHASE1"
  "$HEADLIGHT_BIN" train --train build/corpus/train.txt --val build/corpus/val.txt \
    --tokenizer models/tokenizer-3584 --out "$GPT4L_PHASE1" --threads "$THREADS" --dtype f32 \
    --n-layer 4 --n-head 8 --n-embd 256 --n-positions 128 \
    --batch 16 --steps 6000 --lr 2e-3 --warmup 200 --min-lr-frac 1 --weight-decay 0.1 \
    --wpe-init sinusoidal --induction-warmup-steps 6000 --induction-warmup-gap 4 \
    --induction-fill --fill-alternations 1 --seq-schedule 32:6000 --mlp-off-steps 6000 \
    --end-with-warmup --eval-every 500 --eval-tokens 65536 --seed 1 "$@" \
    2>&1 | tee build/train-gpt-4l-phase1.log
}

GPT4L_TEXT=(--init-from "$GPT4L_PHASE1"
  --n-layer 4 --n-head 8 --n-embd 256 --n-positions 128
  --batch 16 --steps 20000 --lr 1e-3 --warmup 100 --min-lr-frac 0.1 --weight-decay 0.1
  --induction-frac 0.2 --repeat-text-frac 0.1
  --eval-every 500 --eval-tokens 65536 --seed 1 --time-limit-min "${TIME_LIMIT_MIN:-45}")
