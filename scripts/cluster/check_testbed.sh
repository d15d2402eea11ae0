#!/usr/bin/env bash
# Verifies the emulated cluster before anything is measured on it:
#  1. TCP through one shaped port reaches the configured link rate, no more;
#  2. with --priorities K > 1, DSCP-marked high-priority UDP overtakes a
#     low-priority queue kept full by two flooders aimed at the same host,
#     while low-priority probes wait behind it.
# Usage: check_testbed.sh [--link-mbps M] [--priorities K] [--queue-kb Q]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mbps=1000
prios=4
queue_kb=256
while [ $# -gt 0 ]; do
	case "$1" in
	--link-mbps) mbps=$2; shift 2 ;;
	--priorities) prios=$2; shift 2 ;;
	--queue-kb) queue_kb=$2; shift 2 ;;
	*) echo "check_testbed.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
if [ "$(id -u)" -ne 0 ]; then
	echo "check_testbed.sh: needs root" >&2
	exit 2
fi
name="hk$$"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	"$here/testbed.sh" down --name "$name"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$here/testbed.sh" up --name "$name" --hosts 4 --link-mbps "$mbps" \
	--priorities "$prios" --queue-kb "$queue_kb"
nc="$here/netcheck.py"
in_ns() { local h=$1; shift; ip netns exec "$name-h$h" "$@"; }
h1=10.146.0.1

echo "== TCP h2 -> h1 for 3 s through a ${mbps} Mbit/s port"
in_ns 1 python3 "$nc" tcp-sink 5001 10 &
pids+=($!)
sleep 0.3
in_ns 2 python3 "$nc" tcp-send "$h1" 5001 3
wait "${pids[@]}" 2>/dev/null || true
pids=()

echo "== unloaded UDP probes h4 -> h1"
in_ns 1 python3 "$nc" udp-echo 6000 60 &
pids+=($!)
in_ns 1 python3 "$nc" udp-sink 6001 60 >/dev/null &
pids+=($!)
sleep 0.3
in_ns 4 python3 "$nc" udp-probe "$h1" 6000 0x00 200 200

echo "== h2 and h3 flood h1 at TOS 0 (2x the port's rate); probes from h4"
in_ns 2 python3 "$nc" udp-flood "$h1" 6001 0x00 30 16000 &
pids+=($!)
in_ns 3 python3 "$nc" udp-flood "$h1" 6001 0x00 30 16000 &
pids+=($!)
sleep 1
backlog() { tc -n "$name-sw" -s qdisc show dev p1 | awk '/bfifo 20:/{f=1} f&&/backlog/{print "   low-priority queue toward h1:", $2, $3; exit}'; }
backlog
in_ns 4 python3 "$nc" udp-probe "$h1" 6000 0x00 100 2000
backlog
in_ns 4 python3 "$nc" udp-probe "$h1" 6000 0xe0 100 2000
backlog
tc -n "$name-sw" -s qdisc show dev p1 | sed -n '/bfifo/,+2p'
