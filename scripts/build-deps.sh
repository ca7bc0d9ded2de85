#!/usr/bin/env bash
# What the native unpacker (hatch_build.py) needs to compile: a C compiler, and the zlib,
# OpenSSL and libdeflate headers. Installed with apt where it is missing and apt is there;
# without them the build falls back to pure Python (slower unpacking, same results).
set -euo pipefail
missing=()
command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
[ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
[ -f /usr/include/openssl/evp.h ] || missing+=(libssl-dev)
[ -f /usr/include/libdeflate.h ] || missing+=(libdeflate-dev)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "native unpacker: install ${missing[*]} (or their equivalents) to build it" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
