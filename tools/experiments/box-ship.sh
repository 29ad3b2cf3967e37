#!/usr/bin/env bash
# The shipped model for both modes: the whole-frame ensemble as shipped (its networks, calibration, threshold
# and out-of-distribution statistics unchanged) carrying the box ensemble of the box recipe CV chose
# (tools/experiments/box-busi.sh with FINAL=1: each seed's folds and its final network): the box networks
# in one ensemble, its threshold Youden's J and its Platt calibration on the ensemble's pooled out-of-fold
# predictions (tools/experiments/ensemble-busi.sh), its out-of-distribution statistics fitted on the
# frames' lesion boxes (sialoscan ood-fit --boxes-from-masks --rank 32), then `sialoscan bundle`.
#   tools/experiments/box-ship.sh [WHOLE.sialo] [OUT.sialo] [RECIPE...]
#     (defaults: models/sialoscan-busi.sialo, runs/box/ship/sialoscan-busi.sialo, box-m15-s1 box-m15-s2)
set -euo pipefail
cd "$(dirname "$0")/../.."
whole=${1:-models/sialoscan-busi.sialo}
out=${2:-runs/box/ship/sialoscan-busi.sialo}
shift $(( $# > 2 ? 2 : $# ))
recipes=("$@")
[ ${#recipes[@]} -gt 0 ] || recipes=(box-m15-s1 box-m15-s2)
data=${DATA:-../shared/data/busi}
bin=build/sialoscan
work=runs/box/ship
mkdir -p "$work"
pairs=()
for r in "${recipes[@]}"; do
  [ -s "runs/box/$r/model.sialo" ] && [ -s "runs/box/$r/oof.csv" ] || { echo "runs/box/$r: run FINAL=1 tools/experiments/box-busi.sh $r first" >&2; exit 2; }
  pairs+=("$r=runs/box/$r/model.sialo")
done
OOF_ROOT=runs/box WORK="$work" tools/experiments/ensemble-busi.sh "$work/box-ensemble.sialo" "${pairs[@]}"
"$bin" ood-fit --model "$work/box-ensemble.sialo" --data "$data" --boxes-from-masks --rank 32 --out "$work/box-ensemble-ood.sialo"
"$bin" bundle "$whole" "$work/box-ensemble-ood.sialo" --out "$out.new"
mv "$out.new" "$out"
"$bin" info "$out" | head -c 800; echo
