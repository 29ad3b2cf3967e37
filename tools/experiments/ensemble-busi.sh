#!/usr/bin/env bash
# The shipped ensemble from cross-validated recipes (tools/experiments/recipes-busi.sh) and their final models
# (tools/experiments/final-busi.sh): the networks in one file; its threshold = Youden's J on the ensemble's pooled
# out-of-fold predictions (mean logit of the recipes' own, on the same folds); Platt calibration
# fitted on those predictions, the threshold carried into the calibrated scale.
#   [OOF_ROOT=runs/recipes] [WORK=runs/ensemble] tools/experiments/ensemble-busi.sh OUT.sialo RECIPE=MODEL [RECIPE=MODEL ...]
#   (each recipe's out-of-fold predictions: OOF_ROOT/RECIPE/oof.csv)
#   e.g. tools/experiments/ensemble-busi.sh models/sialoscan-busi.sialo \
#          gradual-224-s1-masks=runs/final-s1-masks/model.sialo gradual-224-s2-masks=runs/final-s2-masks/model.sialo
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 3 ] || { sed -n '2,9p' "$0" >&2; exit 2; }
out=$1; shift
bin=${SIALOSCAN_CLI:-build/sialoscan}
work=${WORK:-runs/ensemble}
oof_root=${OOF_ROOT:-runs/recipes}
mkdir -p "$work"
oofs=(); models=()
for pair in "$@"; do
  recipe=${pair%%=*}; final=${pair#*=}
  cp "$final" "$work/$recipe.sialo"   # the ensemble's provenance names each network by its file name
  oofs+=("$oof_root/$recipe/oof.csv"); models+=("$work/$recipe.sialo")
done
node tools/experiments/ensemble-oof.mjs "${oofs[@]}" > "$work/oof.csv"
t=$(node tools/operating-points.mjs "$work/oof.csv" | tail -n 1 | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);const y=(j.points||j).find(p=>/youden/i.test(p.name||p.label||""));console.log((y||{}).threshold)})')
echo "Youden threshold on the raw ensemble p: $t"
"$bin" ensemble "${models[@]}" --threshold "$t" --out "$work/uncalibrated.sialo"
"$bin" calibrate --model "$work/uncalibrated.sialo" --predictions "$work/oof.csv" --out "$out"
"$bin" info "$out" | head -c 600; echo
