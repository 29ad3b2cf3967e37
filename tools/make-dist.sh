#!/usr/bin/env bash
# make-dist.sh OUT_DIR — the release files (make dist; docs/release.md), from what `make all` and
# build/dist/sialoscan built:
#   sialoscan-web-VERSION.zip                 web/dist/ as it is (open index.html from disk)
#   sialoscan-VERSION-linux-x86_64.tar.gz     the release CLI (bin/), the shipped model and its card (models/), a README
#   sialoscan-wasm-VERSION.tgz                `npm pack` of wasm/
#   SHA256SUMS                                over the three
# Reproducible: the same inputs give the same bytes. Every file's time is SOURCE_DATE_EPOCH (default:
# the last commit's date), owners 0, modes 644/755, names in C sort order, no gzip time stamp.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: make-dist.sh OUT_DIR}
version=$(node -p 'require("./wasm/package.json").version')
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
export SOURCE_DATE_EPOCH=$epoch TZ=UTC LC_ALL=C
for f in web/dist/index.html build/dist/sialoscan models/sialoscan-busi.sialo wasm/dist/sialoscan-core.wasm; do
  [ -e "$f" ] || { echo "make-dist: $f is missing: run make all build/dist/sialoscan (or make dist)" >&2; exit 1; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# fixed times and modes on a staged copy (never on the build tree)
normalise() { find "$1" -type d -exec chmod 755 {} + && find "$1" -type f ! -perm -u+x -exec chmod 644 {} + &&
  find "$1" -type f -perm -u+x -exec chmod 755 {} + && find "$1" -exec touch -h -d "@$epoch" {} +; }
targz() { # targz DIR_NAME OUT (from $stage)
  tar -C "$stage" --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --format=gnu -cf - "$1" | gzip -9 -n >"$2"; }

# the page
web=sialoscan-web-$version
cp -r web/dist "$stage/$web"
normalise "$stage/$web"
rm -f "$out/$web.zip"
(cd "$stage" && find "$web" -type f | sort | zip -X -D -q -9 "$out/$web.zip" -@)

# the CLI
cli=sialoscan-$version-linux-x86_64
mkdir -p "$stage/$cli/bin" "$stage/$cli/models"   # bin/sialoscan finds ../models/ itself
cp build/dist/sialoscan "$stage/$cli/bin/sialoscan"
cp models/sialoscan-busi.sialo models/MODEL_CARD.md "$stage/$cli/models/"
sed "s/@VERSION@/$version/g" tools/dist-README.md >"$stage/$cli/README.md"
normalise "$stage/$cli"
targz "$cli" "$out/$cli.tar.gz"

# the wasm package (npm pack writes fixed times and order itself)
pack=$(cd wasm && npm pack --silent --pack-destination "$stage")
mv "$stage/$pack" "$out/sialoscan-wasm-$version.tgz"

(cd "$out" && sha256sum "$web.zip" "$cli.tar.gz" "sialoscan-wasm-$version.tgz" >SHA256SUMS)
echo "make-dist: $out: $web.zip $cli.tar.gz sialoscan-wasm-$version.tgz SHA256SUMS (SOURCE_DATE_EPOCH=$epoch)"
