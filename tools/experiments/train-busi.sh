#!/usr/bin/env bash
# Reproduces the cross-validation figures of the README's method table (the paper's method and the
# comparisons) and the single-network model shipped until 2026-12-02. The shipped ensemble (guided
# attention, two seeds) is built by tools/experiments/recipes-busi.sh, final-busi.sh and ensemble-busi.sh: see
# models/MODEL_CARD.md, "Reproduce".
#   tools/experiments/train-busi.sh [OUTDIR]     (default runs/; resumable: run it again after an interruption)
# 1. converts the ImageNet MobileNetV2 (TensorFlow Lite, int8 per-channel PTQ) to a float backbone;
# 2. 5-fold stratified, group-aware cross-validation of each method on ../shared/data/busi
#    (label-conflict frames excluded): gradual unfreezing, full fine-tuning, frozen backbone,
#    small CNN from scratch; out-of-fold predictions in OUTDIR/<method>.csv;
# 3. the final model: trained on all the data with the gradual-unfreezing schedule, decision
#    threshold = Youden's J on its pooled out-of-fold predictions.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs}
data=${DATA:-../shared/data/busi}
mkdir -p "$out"
bin="$out/sialoscan"
[ -x "$bin" ] && cmp -s build/sialoscan "$bin" || cp build/sialoscan "$bin"   # a copy: rebuilding does not disturb a run
[ -f "$out/mobilenetv2-imagenet.sialo" ] ||
  "$bin" convert --from tflite ../shared/pretrained/tf2_mobilenet_v2_1.0_224_ptq.tflite "$out/mobilenetv2-imagenet.sialo"
common=(--data "$data" --cv 5 --seed 1 --batch 16 --resume)
run() { # method, extra args...
  local m=$1; shift
  echo "== $m $(date -u +%H:%M:%S)"
  "$bin" train "${common[@]}" --method "$m" --checkpoint "$out/ckpt-$m" --predictions "$out/$m.csv" "$@" \
    > "$out/$m.jsonl" 2> "$out/$m.log"
  tail -n 1 "$out/$m.jsonl"
}
run gradual --backbone "$out/mobilenetv2-imagenet.sialo" --out "$out/sialoscan-busi.sialo"
run frozen --backbone "$out/mobilenetv2-imagenet.sialo"
run full --backbone "$out/mobilenetv2-imagenet.sialo"
run scratch --arch smallcnn --input 128
