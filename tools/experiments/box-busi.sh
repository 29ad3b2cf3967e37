#!/usr/bin/env bash
# Box mode (the lesion box from the radiologists' masks, with box jitter) cross-validated with the
# shipped model's recipe (gradual unfreezing + guided attention, the same stratified, group-aware
# folds: --fold-seed 1), one folder per recipe: runs/box/<name>/{cv.jsonl,oof.csv,train.log,ckpt/}.
# Resumable: run it again after an interruption. Scored by tools/experiments/recipes-score.mjs
# (OUT=runs/box) and tools/experiments/ensemble-oof.mjs. FINAL=1 also trains the recipe's final
# network on all the frames after the folds (runs/box/<name>/model.sialo, calibrated on its folds).
#   [THREADS=2] [FINAL=1] tools/experiments/box-busi.sh [NAME...]   (default: box-m15-s1 box-m15-s2 box-m30-s1 box-m30-s2)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-runs/box}
data=${DATA:-../shared/data/busi}
threads=${THREADS:-2}
final=${FINAL:-0}
mkdir -p "$out"
bin="$out/sialoscan"
[ -x "$bin" ] && cmp -s build/sialoscan "$bin" || { cp build/sialoscan "$bin.new" && mv "$bin.new" "$bin"; }   # a copy: rebuilding does not disturb a run
bb="$out/mobilenetv2-imagenet.sialo"
[ -f "$bb" ] || "$bin" convert --from tflite ../shared/pretrained/tf2_mobilenet_v2_1.0_224_ptq.tflite "$bb"
declare -A R=(
  [box-m15-s1]="--method gradual --seed 1 --masks --boxes-from-masks --margin 0.15"
  [box-m15-s2]="--method gradual --seed 2 --masks --boxes-from-masks --margin 0.15"
  [box-m30-s1]="--method gradual --seed 1 --masks --boxes-from-masks --margin 0.30"
  [box-m30-s2]="--method gradual --seed 2 --masks --boxes-from-masks --margin 0.30"
)
order=(box-m15-s1 box-m15-s2 box-m30-s1 box-m30-s2)
[ $# -gt 0 ] && order=("$@")
for name in "${order[@]}"; do
  [ -n "${R[$name]:-}" ] || { echo "unknown recipe '$name' (known: ${!R[*]})" >&2; exit 2; }
  d="$out/$name"; mkdir -p "$d"
  outopt=(); [ "$final" = 1 ] && outopt=(--out "$d/model.sialo")
  [ -s "$d/oof.csv" ] && { [ "$final" != 1 ] || [ -s "$d/model.sialo" ]; } && { echo "== $name: done"; tail -n 1 "$d/cv.jsonl"; continue; }
  echo "== $name $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  # shellcheck disable=SC2086
  nice -n 19 "$bin" train --data "$data" --backbone "$bb" --cv 5 --fold-seed 1 --batch 16 --threads "$threads" --resume ${R[$name]} \
    --checkpoint "$d/ckpt" --predictions "$d/oof.csv" "${outopt[@]}" > "$d/cv.jsonl" 2> "$d/train.log"
  echo "== $name done $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
  tail -n 1 "$d/cv.jsonl"
done
