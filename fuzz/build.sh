#!/bin/sh
# Builds every fuzz/fuzz_*.c target with clang-14 and libFuzzer + ASan + UBSan.
# Kept out of the main CMake build on purpose (it needs clang).
#
#   fuzz/build.sh [OUT_DIR]     (default: build-fuzz at the repository root)
#
# Each target names the core sources it needs on a "FUZZ_SOURCES:" line in its
# header comment, so a new target needs no edit here.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/build-fuzz}
CC=${CC:-clang-14}
CFLAGS="-std=c11 -g -O1 -Wall -Wextra -Werror -fno-omit-frame-pointer \
 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
mkdir -p "$OUT"
for target in "$ROOT"/fuzz/fuzz_*.c; do
	name=$(basename "$target" .c)
	# Everything after the marker up to an optional closing "*/".
	sources=$(sed -n 's|^.*FUZZ_SOURCES:\([^*]*\).*$|\1|p' "$target")
	srcs=""
	# An entry ending in / (src/core/) names every .c file of that directory.
	for s in $sources; do
		case $s in
		*/) for f in "$ROOT/$s"*.c; do srcs="$srcs $f"; done ;;
		*) srcs="$srcs $ROOT/$s" ;;
		esac
	done
	echo "building $name"
	# shellcheck disable=SC2086
	$CC $CFLAGS -I"$ROOT/include" -I"$ROOT/src/core" -I"$ROOT/tests/common" \
		"$target" $srcs -o "$OUT/$name"
done
