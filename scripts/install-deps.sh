#!/usr/bin/env bash
# Installs the Debian packages that building, testing and the demo need, once.
# Safe to run repeatedly: it does nothing when everything is present.
set -euo pipefail
pkgs=(build-essential cmake libcmocka-dev clang-14 libclang-rt-14-dev clang-format
      valgrind gnuplot-nox iproute2 python3)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "install-deps: need root or sudo for apt-get" >&2; exit 1; }
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
