#!/bin/sh
# homa-sim prints the same bytes for the same options and seed, other bytes
# for another seed, and its JSON carries the documented keys.
# Usage: cli_same_seed.sh <path to homa-sim>
set -eu
sim="$1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
args="--hosts 6 --workload w4 --load 0.6 --rpcs 400 --loss 0.02 --dup 0.02 --reorder 0.02 --json"
"$sim" $args --seed 3 > "$dir/a" 2>/dev/null
"$sim" $args --seed 3 > "$dir/b" 2>/dev/null
"$sim" $args --seed 4 > "$dir/c" 2>/dev/null
cmp "$dir/a" "$dir/b"
if cmp -s "$dir/a" "$dir/c"; then
	echo "seed 3 and seed 4 printed the same output" >&2
	exit 1
fi
test "$(wc -l < "$dir/a")" -eq 1
for key in rpcs_requested rpcs_completed rpcs_failed duplicate_executions bytes_leaked \
	switch_peak_queue_bytes slowdown buckets max_length p50 p99; do
	grep -q "\"$key\":" "$dir/a" || { echo "missing key $key" >&2; exit 1; }
done
grep -q '"rpcs_completed":400,' "$dir/a"
grep -q '"bytes_leaked":0,' "$dir/a"
echo "ok"
