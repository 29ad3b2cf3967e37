#!/usr/bin/env bash
# kernel-rename.sh ISA KERNELS_DEF IN.o OUT.o — the per-ISA copy of a kernel object (Makefile):
# its global functions get the suffix _ISA, so the three builds of one file link side by side and
# kernels/dispatch.c calls them through its tables. At the baseline ISA (sse2) only the functions
# listed in kernels.def are renamed: one not listed keeps its name (it runs at the baseline level,
# undispatched, until it is listed); at the other levels every global is renamed.
set -euo pipefail
isa=$1 def=$2 in=$3 out=$4
# SIALO_KERNEL(ret, name, ...) -> name; SIALO_KERNEL_VOID(name, ...) -> name
listed=$(sed -n -e 's/^SIALO_KERNEL_VOID( *\([A-Za-z_][A-Za-z0-9_]*\),.*/\1/p' \
                -e 's/^SIALO_KERNEL([^,]*, *\([A-Za-z_][A-Za-z0-9_]*\),.*/\1/p' "$def")
map=$(mktemp)
trap 'rm -f "$map"' EXIT
nm -g --defined-only "$in" | awk '{ print $3 }' | while read -r sym; do
  if [ "$isa" != sse2 ] || grep -qx "$sym" <<<"$listed"; then echo "$sym ${sym}_$isa"; fi
done >"$map"
objcopy --redefine-syms="$map" "$in" "$out"
rm -f "$in"
