#!/bin/bash
# The out-of-distribution check of a model measured (docs/model.md#out-of-distribution-warning):
# its statistics fitted on BUSI for several ranks (sialoscan ood-fit: cross-fitted over the
# group-aware folds, threshold at <= 3% of the out-of-fold frames), then every foreign image of
# tools/experiments/ood-foreign.py and pydicom's CT / MR test files classified, and the flag rates
# and AUROC (BUSI out-of-fold frames against the foreign images) computed by ood-score.mjs; the
# network's confidence (max(p, 1-p), what max-logit / energy amount to for one sigmoid output)
# is scored the same way for comparison.
#   bash tools/experiments/ood-busi.sh [MODEL] [RANKS]      (default: the shipped model, "16 32 64 128")
set -euo pipefail
cd "$(dirname "$0")/../.."
M=${1:-models/sialoscan-busi.sialo}
RANKS=${2:-16 32 64 128}
OUT=${OUT:-/tmp/ood-busi}
DATA=${DATA:-../shared/data/busi}
mkdir -p "$OUT"
date -u; uptime
/usr/bin/python3 tools/experiments/ood-foreign.py "$OUT/foreign" ../shared
mkdir -p "$OUT/foreign/ctmr"
T=/usr/lib/python3/dist-packages/pydicom/data/test_files
for f in CT_small MR_small MR_small_RLE MR_small_implicit MR_small_padded; do ln -sf "$T/$f.dcm" "$OUT/foreign/ctmr/$f.dcm"; done
for r in $RANKS; do
  build/sialoscan ood-fit --model "$M" --data "$DATA" --out "$OUT/r$r.sialo" --rank "$r" --oof-out "$OUT/oof-r$r.tsv" > "$OUT/fit-r$r.json"
  cat "$OUT/fit-r$r.json"
  build/sialoscan classify --model "$OUT/r$r.sialo" "$OUT"/foreign/*/* > "$OUT/foreign-r$r.jsonl"
done
node tools/experiments/ood-score.mjs "$OUT" $RANKS
