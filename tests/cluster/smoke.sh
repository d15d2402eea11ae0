#!/usr/bin/env bash
# CTest smoke test for `homa-perf cluster` (tests/cluster/cluster.cmake).
# Usage: smoke.sh PATH/TO/homa-perf [LOAD]. Exit 0 pass, 1 fail, 77 skipped.
# LOAD: offered load as a fraction of the links (default 0.5).
set -euo pipefail
perf=${1:?usage: smoke.sh homa-perf [load]}
load=${2:-0.5}
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: cluster smoke test needs root (network namespaces, tc)"
	exit 77
fi
probe="hsmoke$$"
if ! ip netns add "$probe" 2>/dev/null; then
	echo "SKIP: network namespaces unavailable (ip netns add failed)"
	exit 77
fi
ip netns del "$probe"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Twelve measured lengths (the rest interpolated) keep the test under a minute; the
# experiment itself removes every namespace it made, even when killed.
rc=0
timeout -s INT 55 "$perf" cluster --hosts 2 --workload w3 --load "$load" --seconds 5 \
	--warmup 0.5 --cooldown 1 --unloaded-rpcs 3 --unloaded-lengths 12 --out "$out" --json \
	>"$out/result.json" 2>"$out/stderr.log" || rc=$?
cat "$out/result.json"
if [ "$rc" -eq 2 ] || [ "$rc" -eq 3 ]; then
	echo "SKIP: testbed unavailable (homa-perf cluster exit $rc)"
	exit 77
fi
if [ ! -s "$out/result.json" ]; then
	cat "$out/stderr.log"
	echo "FAIL: homa-perf cluster printed no JSON (exit $rc; 124/130 = timed out)"
	exit 1
fi
if python3 - "$out/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = True
for p in ("homa", "tcp"):
    q = r["protocols"].get(p)
    n = q["rpcs"] if q else 0
    print(f"{p}: {n} RPCs, avg slowdown {q['avg_slowdown'] if q else 0}")
    ok &= n > 0
    # Counted by start: every RPC measured was started in the window.
    ok &= q is not None and q["started_gbps"] > 0 and q["rpcs"] <= q["sent"]
sys.exit(0 if ok else 1)
PY
then
	exit 0
fi
# Failed: keep what the hosts said (the run directory is removed on exit).
echo "--- homa-perf cluster stderr:"
tail -n 40 "$out/stderr.log"
for f in $(find "$out/tmp" \( -name '*.log' -o -name '*.err' -o -name '*.rc' \) 2>/dev/null | sort); do
	echo "--- ${f#"$out"/tmp/}:"
	tail -n 20 "$f"
done
exit 1
