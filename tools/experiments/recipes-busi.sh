#!/usr/bin/env bash
# Cross-validates the recipes compared for the shipped model (issue 10) on the same stratified,
# group-aware folds (--fold-seed 1), one folder per recipe: runs/recipes/<name>/{cv.jsonl,oof.csv,
# train.log,ckpt/}. Resumable: run it again after an interruption.
#   tools/experiments/recipes-busi.sh [NAME...]        (default: every recipe below, in order)
# Ensembles and test-time flips are scored from these runs by tools/experiments/recipes-score.mjs.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-runs/recipes}
data=${DATA:-../shared/data/busi}
mkdir -p "$out"
bin="$out/sialoscan"
[ -x "$bin" ] && cmp -s build/sialoscan "$bin" || { cp build/sialoscan "$bin.new" && mv "$bin.new" "$bin"; }   # a copy: rebuilding does not disturb a run
bb="$out/mobilenetv2-imagenet.sialo"
[ -f "$bb" ] || "$bin" convert --from tflite ../shared/pretrained/tf2_mobilenet_v2_1.0_224_ptq.tflite "$bb"
declare -A R=(
  [gradual-224-s1]="--method gradual --seed 1"
  [gradual-224-s2]="--method gradual --seed 2"
  [gradual-288-s1]="--method gradual --seed 1 --input 288"
  [gradual-224-s3]="--method gradual --seed 3"
  [gradual-224-s1-masks]="--method gradual --seed 1 --masks"
  [gradual-224-s2-masks]="--method gradual --seed 2 --masks"
)
order=(gradual-224-s1 gradual-224-s2 gradual-288-s1 gradual-224-s3 gradual-224-s1-masks gradual-224-s2-masks)
[ $# -gt 0 ] && order=("$@")
for name in "${order[@]}"; do
  [ -n "${R[$name]:-}" ] || { echo "unknown recipe '$name' (known: ${!R[*]})" >&2; exit 2; }
  d="$out/$name"; mkdir -p "$d"
  [ -s "$d/oof.csv" ] && { echo "== $name: done"; tail -n 1 "$d/cv.jsonl"; continue; }
  echo "== $name $(date -u +%H:%M:%S)"
  # shellcheck disable=SC2086
  "$bin" train --data "$data" --backbone "$bb" --cv 5 --fold-seed 1 --batch 16 --resume ${R[$name]} \
    --checkpoint "$d/ckpt" --predictions "$d/oof.csv" > "$d/cv.jsonl" 2> "$d/train.log"
  tail -n 1 "$d/cv.jsonl"
done
