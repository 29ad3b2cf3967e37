#!/usr/bin/env bash
# Trains the final model of one recipe of tools/experiments/recipes-busi.sh on all the BUSI frames (no
# cross-validation, so uncalibrated, threshold 0.5): the members of a shipped ensemble, which is
# then calibrated on the ensemble's pooled out-of-fold predictions (tools/experiments/ensemble-busi.sh).
#   tools/experiments/final-busi.sh SEED [EXTRA TRAIN OPTIONS...]   -> runs/final-s<SEED>[-masks]/model.sialo (resumable)
set -euo pipefail
cd "$(dirname "$0")/../.."
seed=$1; shift
name="final-s$seed"
for a in "$@"; do [ "$a" = --masks ] && name="$name-masks"; done
out=${OUT:-runs}/$name
data=${DATA:-../shared/data/busi}
bin=runs/recipes/sialoscan   # the binary and backbone of tools/experiments/recipes-busi.sh
bb=runs/recipes/mobilenetv2-imagenet.sialo
[ -x "$bin" ] && [ -f "$bb" ] || { echo "run tools/experiments/recipes-busi.sh first (it converts the backbone)" >&2; exit 2; }
mkdir -p "$out"
[ -s "$out/model.sialo" ] && { echo "== $name: done"; exit 0; }
echo "== $name $(date -u +%H:%M:%S)"
"$bin" train --data "$data" --backbone "$bb" --method gradual --seed "$seed" --batch 16 --resume "$@" \
  --checkpoint "$out/ckpt" --out "$out/model.sialo" > "$out/train.jsonl" 2> "$out/train.log"
tail -n 2 "$out/train.log"
