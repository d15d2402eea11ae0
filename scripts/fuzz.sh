#!/bin/sh
# Builds (fuzz/build.sh) and runs every fuzz/fuzz_*.c libFuzzer target for
# SECONDS each, one after the other, printing executions per target. Exits
# non-zero if any target crashes or fails to build.
#
#   scripts/fuzz.sh SECONDS [OUT_DIR]
#
# Seeds come from fuzz/corpus/<name without fuzz_>/ and are only read; new
# inputs go to OUT_DIR/corpus/<name>/, crash inputs to fuzz/artifacts/.
set -eu
if [ $# -lt 1 ]; then
	echo "usage: $0 SECONDS [OUT_DIR]" >&2
	exit 2
fi
SECS=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${2:-$ROOT/build-fuzz}
"$ROOT/fuzz/build.sh" "$OUT"
mkdir -p "$ROOT/fuzz/artifacts"
status=0
printf '%-20s %8s %14s %10s %8s %s\n' target seconds executions exec/s cov result
for target in "$ROOT"/fuzz/fuzz_*.c; do
	name=$(basename "$target" .c)
	short=${name#fuzz_}
	seeds="$ROOT/fuzz/corpus/$short"
	work="$OUT/corpus/$short"
	log="$OUT/$name.log"
	mkdir -p "$work" "$seeds"
	result=ok
	"$OUT/$name" -max_total_time="$SECS" -print_final_stats=1 -max_len=2048 \
		-timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$ROOT/fuzz/artifacts/$name-" "$work" "$seeds" \
		>"$log" 2>&1 || result=CRASH
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(sed -n 's/^#[0-9]*[[:space:]]*DONE[[:space:]]*cov: \([0-9]*\).*/\1/p' "$log" | tail -1)
	printf '%-20s %8s %14s %10s %8s %s\n' "$name" "$SECS" "${execs:-?}" "${rate:-?}" \
		"${cov:-?}" "$result"
	if [ "$result" != ok ]; then
		status=1
		echo "---- $name log (tail) ----" >&2
		tail -40 "$log" >&2
	fi
done
exit $status
