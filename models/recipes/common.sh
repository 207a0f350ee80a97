# Shared steps of the train-<name>.sh recipes (sourced, not run):
#   1. the corpus (build/corpus/, seconds) and the native binary, if missing;
#   2. `headlight train` with the recipe's flags, into models/<name>/
#      ($MODELS_OUT/<name>/ if set: experiments write to build/);
#   3. `headlight eval` + model card (models/<name>/eval.json, README.md).
# Environment: HEADLIGHT_BIN (default build/native/headlight), THREADS
# (default: all cores), TIME_LIMIT_MIN (training minutes, default per recipe),
# TRAIN_TEXT (default build/corpus/train.txt; build/corpus-plus/train.txt adds
# the text of build-extra-text.mjs, with the same val.txt).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
HEADLIGHT_BIN=${HEADLIGHT_BIN:-build/native/headlight}
THREADS=${THREADS:-$(nproc)}
TRAIN_TEXT=${TRAIN_TEXT:-build/corpus/train.txt}
export HEADLIGHT_BIN

prepare() {
  [ -f build/corpus/train.txt ] || node models/recipes/build-corpus.mjs > /dev/null
  if [[ $TRAIN_TEXT == build/corpus-plus/train.txt && ! -f $TRAIN_TEXT ]]; then
    node models/recipes/build-extra-text.mjs > /dev/null
  fi
  [ -x "$HEADLIGHT_BIN" ] || bash scripts/build-native.sh
}

# train_model NAME TOKENIZER_DIR [headlight train flags...]
train_model() {
  local name=$1 tokenizer=$2
  shift 2
  local out=${MODELS_OUT:-models}/$name
  rm -rf "$out"
  mkdir -p "$out" build
  "$HEADLIGHT_BIN" train --train "$TRAIN_TEXT" --val build/corpus/val.txt \
    --tokenizer "$tokenizer" --out "$out" --threads "$THREADS" --dtype f16 "$@" \
    2>&1 | tee "build/train-${out//\//_}.log"
  node models/recipes/model-card.mjs --model "$out" --name "$name"
}
