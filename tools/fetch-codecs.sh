#!/usr/bin/env bash
# The image codecs' C / C++ sources, from Debian's archive, into third_party/ (git-ignored; a cache:
# idempotent, nothing is fetched when the stamp of each is there). The Makefile compiles the same
# sources natively and with emcc, so the CLI and the WebAssembly module run the same decoder code.
#   openjpeg2 2.5.0-2+deb12u3 (bookworm, with Debian's patches): JPEG 2000 and HTJ2K
#   dcmtk 3.6.7-9~deb12u4 (bookworm, with Debian's patches): its IJG libraries libijg8 / libijg12 /
#     libijg16 (JPEG Extended 12-bit, JPEG Lossless process 14)
#   charls 2.4.2 (the upstream tarball of Debian's package): JPEG-LS. bookworm's charls 2.4.1 source
#     is not on every mirror; 2.4.2 is the bug-fix release of the same series that trixie ships.
# Every file is pinned by its SHA-256 (the .dsc's own checksums) and fetched from Debian's pool; when
# a point release has replaced it there, from snapshot.debian.org (Debian's permanent archive, by
# the file's SHA-1), else apt-get source of the same version. Nothing else is downloaded; the same bytes on every machine.
set -euo pipefail
cd "$(dirname "$0")/.."
TP=third_party
mkdir -p "$TP/src"

# $1 pool path under debian/pool/main, $2 SHA-256, $3 SHA-1 (snapshot.debian.org's key), $4 package=version (apt-get source)
fetch() {
  local path=$1 sha256=$2 sha1=$3 f="$TP/src/$(basename "$1")"
  if [ -f "$f" ] && echo "$sha256  $f" | sha256sum -c --quiet >/dev/null 2>&1; then return 0; fi
  rm -f "$f"
  local url
  for url in "http://deb.debian.org/debian/pool/main/$path" "http://snapshot.debian.org/file/$sha1"; do
    if /usr/lib/apt/apt-helper -qq download-file "$url" "$f" "SHA256:$sha256" >/dev/null 2>&1; then break; fi
    rm -f "$f"
  done
  if [ ! -f "$f" ] && [ -n "${4:-}" ]; then # last: apt's own mirror of the same version (needs a deb-src entry)
    (cd "$TP/src" && apt-get source --download-only -qq "$4" >/dev/null 2>&1) || true
  fi
  [ -f "$f" ] || { echo "setup: could not fetch $(basename "$path") from Debian's archive" >&2; exit 1; }
  echo "$sha256  $f" | sha256sum -c --quiet
}

# $1 .dsc file, $2 directory under third_party/
unpack() {
  [ -f "$TP/$2/.sialo-done" ] && return 0
  rm -rf "$TP/$2"
  dpkg-source --no-check -x "$TP/src/$1" "$TP/$2" >/dev/null
  touch "$TP/$2/.sialo-done"
}

if [ ! -f "$TP/openjpeg2/.sialo-done" ]; then
  echo "setup: fetching the Debian source package openjpeg2 2.5.0-2+deb12u3"
  fetch o/openjpeg2/openjpeg2_2.5.0-2+deb12u3.dsc f570a7c10d36f2d5b2553941e7821ed88d1cf7a93f9c49e7f6099e53f4491f47 2d13f4d510c7cf3e827a9b706c06f11bed405cbc openjpeg2=2.5.0-2+deb12u3
  fetch o/openjpeg2/openjpeg2_2.5.0.orig.tar.xz 007e19d772c8b6b22e35379630b06ff3549e49ba719d96453607a36ad7b4de73 a991910891d3d180e6c057bbbd997a7ca2e9416d openjpeg2=2.5.0-2+deb12u3
  fetch o/openjpeg2/openjpeg2_2.5.0-2+deb12u3.debian.tar.xz 36dedb0ca4c1659c173feac97c19b31985656f4cd112b1a4d54d54bc4133ad37 dbca041fa0101aca6216a7379c9d3dd3fc6891ba openjpeg2=2.5.0-2+deb12u3
  unpack openjpeg2_2.5.0-2+deb12u3.dsc openjpeg2
fi
if [ ! -f "$TP/dcmtk/.sialo-done" ]; then
  echo "setup: fetching the Debian source package dcmtk 3.6.7-9~deb12u4"
  fetch d/dcmtk/dcmtk_3.6.7-9~deb12u4.dsc 67ebf387308cf7039ed49b78ab8ff395e375b970899778d19531512eec6831ed 5fd1c338f4b714440fdd8a9607397762b25db3a3 dcmtk=3.6.7-9~deb12u4
  fetch d/dcmtk/dcmtk_3.6.7.orig.tar.gz 17705dcdb2047d1266bb4e92dbf4aa6d4967819e8e3e94f39b7df697661b4860 d6304e564458d97074c48bd8054c30d9a8bf1062 dcmtk=3.6.7-9~deb12u4
  fetch d/dcmtk/dcmtk_3.6.7-9~deb12u4.debian.tar.xz 45a0d81621531bd54f2b492bafaccf49d5143f1bbb401121af5a5332fba09c82 85e0f685bd6e5f0a4ce7cb592b0354adbea7703b dcmtk=3.6.7-9~deb12u4
  unpack dcmtk_3.6.7-9~deb12u4.dsc dcmtk
fi
if [ ! -f "$TP/charls/.sialo-done" ]; then
  echo "setup: fetching the CharLS 2.4.2 source"
  fetch c/charls/charls_2.4.2.orig.tar.gz d1c2c35664976f1e43fec7764d72755e6a50a80f38eca70fcc7553cad4fe19d9 6e4865751b91669c09dc28ea0606a1e1bdb50bae
  rm -rf "$TP/charls" && mkdir -p "$TP/charls"
  tar xzf "$TP/src/charls_2.4.2.orig.tar.gz" -C "$TP/charls" --strip-components=1
  touch "$TP/charls/.sialo-done"
fi
# our patches to the libraries' sources (tools/codecs/patches/, each stamped once applied):
#   charls-read-high-bits.patch: CharLS 2.4.2 reads zero bits forever past the end of a damaged
#   scan (read_high_bits); a code longer than any JPEG-LS code is refused (found by fuzz/jls_fuzz.c)
#   openjpeg-ht-mel-init.patch: OpenJPEG 2.5.0 asserts (ht_dec.c, mel_init) on an HT code-block whose MEL
#   segment has a byte above 0x8F after an 0xFF; refused instead with "Malformed HT codeblock. Incorrect
#   MEL segment sequence.", as later OpenJPEG releases do (found by fuzz/j2k_fuzz.c, kept in fuzz/regress/j2k/)
#   dcmtk-lossless-huff-category.patch: dcmtk 3.6.7's lossless JPEG decoders (libijg8/12/16 jdlhuff.c) index a
#   16-entry table with a Huffman value above 16 from a damaged stream; refused as a bogus table instead
#   (found by fuzz/ljpeg_fuzz.c)
#   dcmtk-dc-huff-category.patch: the same for a DC difference category above 15 in their sequential and
#   progressive Huffman decoders (jdshuff.c, jdphuff.c; found by fuzz/ljpeg_fuzz.c, kept in fuzz/regress/ljpeg/)
for lp in charls:charls-read-high-bits openjpeg2:openjpeg-ht-mel-init dcmtk:dcmtk-lossless-huff-category dcmtk:dcmtk-dc-huff-category; do
  lib=${lp%%:*} p=${lp#*:}
  [ -f "$TP/$lib/.sialo-$p" ] && continue
  patch -s -d "$TP/$lib" -p1 < "tools/codecs/patches/$p.patch"
  touch "$TP/$lib/.sialo-$p"
done
