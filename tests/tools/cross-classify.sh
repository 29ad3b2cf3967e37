#!/usr/bin/env bash
# cross-classify.sh CROSS_CLI REF_CLI — the CLI cross-built for another architecture (make test-cross),
# run under qemu-user ($QEMU, e.g. "qemu-aarch64 -L /usr/aarch64-linux-gnu"), against the x86-64 build:
#   1. it starts and names its one set of kernels (no ISA dispatch there);
#   2. the shipped model classifies a test frame with the x86-64 build's p (within 1e-4), on 1 and 2 threads;
#   3. every compressed DICOM file of tests/tools/make_dicom_codecs.py (JPEG 2000, HTJ2K, JPEG-LS, JPEG
#      Lossless, 12-bit; hostile ones too) decodes to the same pixels (`frame`: the same PNG bytes), or
#      is refused with the same sentence, so the cross-compiled codec libraries read as the native ones.
# Prints what it checked; exit status 1 on the first difference.
set -euo pipefail
cd "$(dirname "$0")/../.."
cross=${1:?usage: cross-classify.sh CROSS_CLI REF_CLI}
ref=${2:?usage: cross-classify.sh CROSS_CLI REF_CLI}
read -r -a qemu <<<"${QEMU:?set QEMU to the emulator command}"
model=models/sialoscan-busi.sialo frame=tests/fixtures/baseline.jpg
fail() { echo "cross-classify: $*" >&2; exit 1; }
unset SIALOSCAN_ISA SIALOSCAN_MODEL

version=$("${qemu[@]}" "$cross" --version) || fail "$cross --version failed under ${qemu[*]}"
echo "$version" | grep -q '^kernels: [a-z0-9]* (f32_gemm_' || fail "--version names no kernels: $version"
echo "cross-classify: $(echo "$version" | sed -n 2p)"

p_of() { sed -n 's/.*"p_malignant":\([-0-9.eE+]*\).*/\1/p'; }
want=$("$ref" classify --threads 1 --model "$model" "$frame" | p_of)
[ -n "$want" ] || fail "$ref gave no p for $frame"
for t in 1 2; do
  got=$("${qemu[@]}" "$cross" classify --threads $t --model "$model" "$frame" | p_of)
  [ -n "$got" ] || fail "$cross gave no p for $frame ($t threads)"
  awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-4 && b > 0.01 && b < 0.99) }' ||
    fail "$frame, $t threads: p $got, the x86-64 build's $want (want within 1e-4, not saturated)"
  echo "cross-classify: $frame, $t thread(s): p $got, x86-64 $want"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
${PYTHON:-/usr/bin/python3} tests/tools/make_dicom_codecs.py "$tmp/gen" >/dev/null ||
  fail "tests/tools/make_dicom_codecs.py failed (python3 with pydicom, numpy, PIL, dcmtk: make setup)"
n=0 refused=0
for f in "$tmp"/gen/*.dcm; do
  b=$(basename "$f" .dcm)
  rc_c=0 rc_r=0
  "${qemu[@]}" "$cross" frame "$f" "$tmp/$b.cross.png" 2>"$tmp/$b.cross.err" || rc_c=$?
  "$ref" frame "$f" "$tmp/$b.ref.png" 2>"$tmp/$b.ref.err" || rc_r=$?
  [ $rc_c = $rc_r ] || fail "$b.dcm: exit $rc_c here, $rc_r on x86-64 ($(cat "$tmp/$b.cross.err" "$tmp/$b.ref.err"))"
  if [ $rc_r = 0 ]; then
    cmp -s "$tmp/$b.cross.png" "$tmp/$b.ref.png" || fail "$b.dcm: the decoded frame differs from the x86-64 build's"
  else
    cmp -s "$tmp/$b.cross.err" "$tmp/$b.ref.err" ||
      fail "$b.dcm: refused with '$(cat "$tmp/$b.cross.err")', on x86-64 '$(cat "$tmp/$b.ref.err")'"
    refused=$((refused + 1))
  fi
  n=$((n + 1))
done
[ $n -gt 20 ] || fail "only $n DICOM files generated"
echo "cross-classify: $n compressed DICOM files: the same pixels as x86-64 ($((n - refused))), the same refusal ($refused)"
