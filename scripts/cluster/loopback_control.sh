#!/usr/bin/env bash
# Control experiment for the cluster results: the same N servers and N
# open-loop clients as `homa-perf cluster`, with the same options, but all in
# ONE namespace talking over its loopback, so there is no shaped link, no
# switch and no queue. What latency remains is the hosts' (CPU, wake-ups,
# the transport's own processing), not the emulated network's.
#
#   loopback_control.sh [--perf PATH] [--hosts N] [--workload W] [--gbps G]
#                       [--seconds S] [--protocols homa,tcp]
# Prints one line per protocol: RPCs, achieved Gbit/s, P50/P99 RTT of all.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
perf="$here/../../build/tools/homa-perf"
hosts=4
workload=w3
gbps=0.08
seconds=10
protocols=homa,tcp
while [ $# -gt 0 ]; do
	case "$1" in
	--perf) perf=$2; shift 2 ;;
	--hosts) hosts=$2; shift 2 ;;
	--workload) workload=$2; shift 2 ;;
	--gbps) gbps=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--protocols) protocols=$2; shift 2 ;;
	*) echo "loopback_control.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "loopback_control.sh: needs root" >&2; exit 2; }
ns="hl$$"
tmp=$(mktemp -d)
cleanup() {
	trap '' INT TERM
	local pids
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	[ -n "$pids" ] && kill $pids 2>/dev/null || true
	sleep 0.3
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	[ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ip netns add "$ns"
ip -n "$ns" link set lo up
run() { ip netns exec "$ns" nice -n -10 env HOMA_POLL_USECS=0 "$@"; }
for ((i = 1; i <= hosts; i++)); do
	run "$perf" server --port $((5000 + 10 * i)) --protocols "$protocols" --no-poll \
		--quiet >/dev/null 2>&1 &
done
sleep 0.5
IFS=, read -r -a protos <<<"$protocols"
for p in "${protos[@]}"; do
	pids=()
	for ((i = 1; i <= hosts; i++)); do
		servers=""
		for ((j = 1; j <= hosts; j++)); do
			[ "$i" = "$j" ] && continue
			servers="${servers:+$servers,}127.0.0.1:$((5000 + 10 * j))"
		done
		run "$perf" client --server "$servers" --protocol "$p" --workload "$workload" \
			--gbps "$gbps" --one-way --seconds "$seconds" --warmup 1 --seed $((1 + i)) \
			--samples "$tmp/$p.$i" --json --quiet --no-poll >"$tmp/$p.$i.json" \
			2>/dev/null </dev/null &
		pids+=($!)
	done
	wait "${pids[@]}" || true
	cat "$tmp/$p".[0-9]* | sort -k2,2n | awk -v p="$p" -v s="$seconds" '
		{ v[NR] = $2; b += $1 }
		END { if (!NR) { print p ": no RPCs"; exit }
		      printf "%s: %d RPCs, %.3f Gbit/s of messages, RTT P50 %.0f us, P99 %.0f us\n",
		      p, NR, b * 8 / s / 1e9, v[int(NR * 0.5) + 1] / 1000, v[int(NR * 0.99) + 1] / 1000 }'
done
