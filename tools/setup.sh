#!/usr/bin/env bash
# Install what sialoscan needs on Debian 12: the toolchains and libraries from Debian's archive,
# the JavaScript dev dependencies from the npm registry. Idempotent; quiet when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(build-essential pkg-config emscripten libstb-dev libxnnpack-dev libpthreadpool-dev libhdf5-dev
      python3-h5py python3-numpy chromium firefox-esr
      dcmtk python3-pydicom python3-pil clang libclang-rt-14-dev  # DICOM tests (independent encoders), libFuzzer
      qemu-user valgrind zip  # the CLI on an emulated baseline x86-64 CPU and under valgrind; make dist
      dpkg-dev libopenjp2-tools openjph-tools)  # the codec sources (Debian source packages: dpkg-source), J2K / HTJ2K test encoders
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js 20 and npm may come from elsewhere than Debian's archive: only install what is absent
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# optional: the aarch64 cross compiler (make test-cross builds the engine for 64-bit Arm and runs it
# under qemu-user); when apt cannot install it, setup goes on and make test-cross says it skipped
optional=(gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross)
missing=()
for p in "${optional[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]} (optional)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null; } ||
    echo "setup: could not install ${missing[*]}: make test-cross will skip the aarch64 build" >&2
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
# the image codecs' sources (OpenJPEG, CharLS, dcmtk's IJG libraries) into third_party/
bash tools/fetch-codecs.sh
