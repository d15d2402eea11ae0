#!/bin/sh
# Smoke test of the homa-perf binary on loopback: a TCP/UDP server, then
# short runs of client (open and closed loop), rtt and tput, checking their
# output, and argument errors. Usage: smoke.sh PATH/TO/homa-perf
set -u
perf="$1"
port=$((20000 + ($$ % 4000) * 2))
out=$(mktemp)
fail() {
	echo "smoke: FAIL: $*" >&2
	cat "$out" >&2
	kill "$server" 2>/dev/null
	rm -f "$out"
	exit 1
}

"$perf" server --port "$port" 2>"$out.server" &
server=$!
# Wait (at most 5 s) until the server answers.
i=0
until "$perf" rtt --server "127.0.0.1:$port" --protocol tcp --count 10 --seconds 1 \
	--quiet >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 50 ] || fail "server did not come up on port $port"
	sleep 0.1
done

"$perf" client --server "127.0.0.1:$port" --protocol tcp --workload w2 --client-max 4 \
	--seconds 0.5 --quiet --json >"$out" || fail "closed-loop client"
grep -q '"rpcs":[1-9]' "$out" || fail "closed-loop client: no RPCs in JSON"

"$perf" client --server "127.0.0.1:$port,127.0.0.1:$port" --protocol tcp --workload w3 \
	--gbps 0.05 --seconds 1 --tcp-conns 2 --quiet --samples "$out.samples" \
	>"$out" || fail "open-loop client"
grep -q 'P99.9' "$out" || fail "open-loop client: no percentile table"
[ -s "$out.samples" ] || fail "open-loop client: empty --samples file"
rm -f "$out.samples"

"$perf" rtt --server "127.0.0.1:$port" --protocol udp --count 500 --quiet >"$out" ||
	fail "udp rtt"
grep -q 'P50' "$out" || fail "udp rtt output"

"$perf" tput --server "127.0.0.1:$port" --protocol tcp --length 100000 --seconds 0.5 \
	--quiet --json >"$out" || fail "tcp tput"
grep -q '"gbps":' "$out" || fail "tcp tput output"

# Homa, when this build has the runtime (the server then serves it too).
if ! grep -q "without the Homa runtime" "$out.server"; then
	"$perf" rtt --server "127.0.0.1:$port" --protocol homa --count 200 --seconds 5 \
		--quiet --json >"$out" || fail "homa rtt"
	grep -q '"count":200' "$out" || fail "homa rtt: not all 200 round trips"
	"$perf" client --server "127.0.0.1:$port" --protocol homa --workload w3 \
		--client-max 4 --seconds 0.5 --quiet --json >"$out" || fail "homa client"
	# Failed RPCs are Homa's business (the runtime's tests); here: the tool ran.
	grep -q '"rpcs":[1-9]' "$out" || fail "homa client: no RPCs"
fi
rm -f "$out.server"

"$perf" client --protocol tcp >"$out" 2>&1 && fail "client without --server succeeded"
"$perf" rtt --bogus >"$out" 2>&1
[ $? -eq 2 ] || fail "bad option did not exit with status 2"

kill "$server"
wait "$server" 2>/dev/null
rm -f "$out"
echo "smoke: ok"
