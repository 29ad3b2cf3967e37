#!/usr/bin/env bash
# The image codecs' C / C++ sources, from Debian's archive, into third_party/ (git-ignored; a cache:
# idempotent, nothing is fetched when the stamp of each is there). The Makefile compiles the same
# sources natively and with emcc, so the CLI and the WebAssembly module run the same decoder code.
#   openjpeg2 2.5.0 (bookworm, with Debian's patches): JPEG 2000 and HTJ2K
#   dcmtk 3.6.7 (bookworm, with Debian's patches): its IJG libraries libijg8 / libijg12 / libijg16
#     (JPEG Extended 12-bit, JPEG Lossless process 14)
#   charls 2.4.2 (the upstream tarball of Debian's package, pinned by its SHA-256): JPEG-LS.
#     bookworm's charls 2.4.1 source is not on every mirror (404 on the one CI reaches); 2.4.2
#     is the bug-fix release of the same series that Debian ships in trixie.
set -euo pipefail
cd "$(dirname "$0")/.."
TP=third_party
mkdir -p "$TP/src"

# a deb-src entry for bookworm's main (apt-get source needs one)
if ! grep -rqs "deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null; then
  echo "setup: adding a deb-src entry for Debian bookworm"
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    > /etc/apt/sources.list.d/sialoscan-debsrc.sources
  apt-get update -qq
fi

# $1 source package, $2 directory under third_party/
debian_source() {
  local pkg=$1 dir=$2
  [ -f "$TP/$dir/.sialo-done" ] && return 0
  echo "setup: fetching the Debian source package $pkg"
  if ! ls "$TP"/src/${pkg}_*.dsc >/dev/null 2>&1; then
    (cd "$TP/src" && apt-get source --download-only -qq "$pkg" >/dev/null 2>&1) || {
      apt-get update -qq; (cd "$TP/src" && apt-get source --download-only -qq "$pkg" >/dev/null); }
  fi
  rm -rf "$TP/$dir"
  dpkg-source --no-check -x "$(ls "$TP"/src/${pkg}_*.dsc | tail -1)" "$TP/$dir" >/dev/null 2>&1
  touch "$TP/$dir/.sialo-done"
}
debian_source openjpeg2 openjpeg2
debian_source dcmtk dcmtk

if [ ! -f "$TP/charls/.sialo-done" ]; then
  echo "setup: fetching the CharLS 2.4.2 source"
  f="$TP/src/charls_2.4.2.orig.tar.gz"
  [ -f "$f" ] || /usr/lib/apt/apt-helper -qq download-file \
    http://deb.debian.org/debian/pool/main/c/charls/charls_2.4.2.orig.tar.gz "$f" \
    SHA256:d1c2c35664976f1e43fec7764d72755e6a50a80f38eca70fcc7553cad4fe19d9 >/dev/null 2>&1
  echo "d1c2c35664976f1e43fec7764d72755e6a50a80f38eca70fcc7553cad4fe19d9  $f" | sha256sum -c --quiet
  rm -rf "$TP/charls" && mkdir -p "$TP/charls"
  tar xzf "$f" -C "$TP/charls" --strip-components=1
  touch "$TP/charls/.sialo-done"
fi
