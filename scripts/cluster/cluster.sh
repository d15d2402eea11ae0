#!/usr/bin/env bash
# One emulated-cluster experiment: builds the testbed (testbed.sh), starts a
# homa-perf server in every host, then for each protocol measures the
# unloaded round trip of every message length (one RPC at a time, h1 -> h2)
# and runs open-loop Poisson clients in every host at once toward all the
# other hosts. Raw results only; `homa-perf cluster` (tools/perf_cluster.c)
# calls this and does the analysis. Everything it creates is removed on exit.
#
# Environment (all set by homa-perf cluster):
#   PERF         homa-perf binary          RUN_DIR    where raw results go
#   HOSTS        hosts (>= 2)              LINK_MBPS  switch port and NIC rate
#   PRIORITIES   priority queues per port  QUEUE_KB   bytes per queue (KiB)
#   WORKLOAD     w1..w5 or a length        GBPS       offered load per client
#   SECONDS      measured seconds per run  WARMUP     seconds not measured
#   COOLDOWN     seconds of load after the window (RPCs then counted by start)
#   SEED         base seed (host i: SEED+i, the same for every protocol)
#   PROTOCOLS    e.g. "homa,tcp"           LENGTHS    file: "length seconds"
#   PORT         server port (default 5000)
#   TCP_CONNS    TCP connections per client-server pair (default 1)
#   NICE         nice value of servers and clients (default -10)
#   PERF_ARGS    extra options for every server and loaded client, e.g.
#                --stats (counters in server_h<i>.log and <proto>/h<i>.err)
# Files: RUN_DIR/<proto>/unloaded.samples, h<i>.samples, h<i>.json, h<i>.rc,
#        RUN_DIR/<proto>/switch.txt (qdisc counters after the run).
# Exit: 0 done, 2 not root, 3 namespaces/testbed unavailable, 4 server failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ "$(id -u)" -ne 0 ]; then
	echo "cluster.sh: needs root to build network namespaces" >&2
	exit 2
fi
: "${PERF:?}" "${RUN_DIR:?}" "${WORKLOAD:?}" "${GBPS:?}" "${LENGTHS:?}"
HOSTS=${HOSTS:-4}
LINK_MBPS=${LINK_MBPS:-1000}
PRIORITIES=${PRIORITIES:-1}
QUEUE_KB=${QUEUE_KB:-256}
# The links' MTU (both protocols; Homa packets are sized to it).
MTU=${MTU:-1500}
SECONDS_RUN=${SECONDS:-10}
WARMUP=${WARMUP:-1}
COOLDOWN=${COOLDOWN:-0}
SEED=${SEED:-1}
PROTOCOLS=${PROTOCOLS:-homa,tcp}
PORT=${PORT:-5000}
TCP_CONNS=${TCP_CONNS:-1}
NICE=${NICE:--10}
read -r -a perf_args <<<"${PERF_ARGS:-}"

# Homa's timers count 1 ms ticks and are sized for 25 Gbit/s links, where a
# full queue drains in well under a millisecond. Here a full queue at the NIC
# plus one at the switch port can hold a packet for 2 x QUEUE_KB / link rate
# (42 ms at 100 Mbit/s): asking for a resend sooner retransmits data that is
# only queued, which adds load exactly when the network is congested. So the
# first RESEND waits twice that worst-case delay (never less than the default
# 5 ticks), and an RPC is declared dead after 20 resend intervals (>= 100).
max_queue_ms=$(((2 * QUEUE_KB * 1024 * 8) / (LINK_MBPS * 1000) + 1))
resend_ticks=${HOMA_RESEND_TICKS:-$((2 * max_queue_ms > 5 ? 2 * max_queue_ms : 5))}
timeout_ticks=$((20 * resend_ticks > 100 ? 20 * resend_ticks : 100))
# Likewise a server asks for the ack of a response (NEED_ACK) after 2 ticks
# by default; here a response can still sit in queues by then, and the
# client's ack rides on its next short request or response to that server
# anyway (an ack with no carrier leaves in an ACK packet after half of
# request_ack_ticks). Waiting a quarter of the resend time saved ~0.5 packets
# per RPC (NEED_ACK + ACK) at 80% load; half of it (two full queues, the
# response's and the ack's: with one queue both wait in the same FIFO)
# took W3 with 1 queue from 0.04 NEED_ACK + 0.04 ACK per RPC to 0.003 + 0.002.
request_ack_ticks=${HOMA_REQUEST_ACK_TICKS:-$((resend_ticks / 2 > 2 ? resend_ticks / 2 : 2))}

# Homa's unscheduled bytes and its cap on granted-but-unreceived bytes are
# sized for 25 Gbit/s (40 KB, 400 KB): at 100 Mbit/s 400 KB in flight toward
# one receiver is 33 ms of link and overflows a 256 KB switch queue. Scale
# them with the link like rtt_bytes/max_incoming on a real cluster: 100
# bytes per Mbit/s of unscheduled data (0.8 ms of link; 40 KB from 400 Mbit/s
# up) and twenty times that in flight (below). The caller's environment wins.
unsched_bytes=${HOMA_UNSCHED_BYTES:-$((LINK_MBPS * 100 < 40000 ? (LINK_MBPS * 100 > 3000 ? LINK_MBPS * 100 : 3000) : 40000))}
# The grant window must cover the link rate times the real round trip of a
# grant, and on this testbed that includes the hosts: 8 processes on 2
# cores delay a busy host's packets by milliseconds (short-message RTT P50
# ~4 ms at 80% load). With 10x (100 KB, 8 ms of link) Homa's receivers
# granted too little to keep their links busy (W3 at 80%: 77-81% of the
# offered load carried); 20x carried 93%.
max_incoming=${HOMA_MAX_INCOMING:-$((unsched_bytes * 20))}

# Homa's pacer keeps at most max_nic_backlog_ns of packets queued at the NIC
# (5 us by default: less than one 1500-byte packet at 100 Mbit/s, 120 us, so
# every paced packet cost the sender a timer wake-up of its background
# thread). The NIC here is a FIFO anyway: allow ~16 packets (2 ms at
# 100 Mbit/s); the runtime then wakes the pacer once half has drained and
# sends the rest as one GSO batch (W3 at 80%: 0.41 bg wake-ups per RPC at
# the client instead of 0.56 with 1 ms, and one per paced packet before).
nic_backlog_ns=${HOMA_NIC_BACKLOG_NS:-$((200000000 / LINK_MBPS))}
# Each host runs two Homa engines (the server's and the client's processes),
# and each pacer believes it owns the whole link; kernel Homa has one pacer
# per host. The server's share is small (100-byte responses, GRANTs,
# NEED_ACKs: ~8% of the link at 80% load), but while the client's pacer runs
# at line rate (SRPT working through a backlog of long messages) the server's
# packets build up the NIC queue until it overflows (local drops, counted in
# rt.tx_errors, then RESENDs). HOMA_CLIENT_LINK_MBPS gives the client's pacer
# a share of the link instead: at 90% the drops and most RESENDs go away and
# short messages wait 10-20x less, but Homa then carries 92-98% of the
# offered load instead of 95-101% (docs/results.md, "One Homa engine per host"); COMBINED=1 (below) needs no share.
client_link_mbps=${HOMA_CLIENT_LINK_MBPS:-$LINK_MBPS}
# COMBINED=1: each host's loaded run is ONE process that both loads the others
# and serves them (homa-perf client --serve-port), so each host has one Homa
# engine and one pacer, as with kernel Homa, and half the processes share
# the two cores (Homa's load socket answers the requests itself: one thread).
# The separate servers then only answer the unloaded probes.
COMBINED=${COMBINED:-1}
if [ "$COMBINED" = 1 ]; then
	load_port=$((PORT + 2))
	combined_args=(--serve-port "$load_port" --start-delay 1)
else
	load_port=$PORT
	combined_args=()
fi
# The receive region holds every incoming message whole from its first
# packet on; long messages waiting for grants at 80% load filled the default
# 64 MiB (drop_no_buffers, RESEND/BUSY). It is virtual and mapped lazily.
rcvbuf_mb=${HOMA_RCVBUF_MB:-512}
# FIFO shares (permil of the link) for the oldest message: granted by the
# receiver, sent by the sender's pacer. At 80% load in message bytes W3 keeps
# the links ~94% busy with Homa's headers, and the default 5% let the
# largest messages wait behind a steady stream of shorter ones for over 5 s
# (W3, 8 queues: 62 of the window's RPCs unfinished after a 5 s cool-down,
# 96.2% of the load delivered; all delivered after 15 s). 15% delivered
# 99.7% within 5 s.
grant_fifo=${HOMA_GRANT_FIFO_FRACTION:-150}
pacer_fifo=${HOMA_PACER_FIFO_FRACTION:-150}

name="hc$$"
server_pids=()
client_pids=()
cleanup() {
	local p
	# A second Ctrl-C must not cut the teardown short.
	trap '' INT TERM
	for p in "${client_pids[@]}" "${server_pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${client_pids[@]}" "${server_pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	"$here/testbed.sh" down --name "$name" || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { echo "cluster: $*" >&2; }
addr() { echo "10.146.0.$1"; }
in_host() {
	local h=$1
	shift
	# HOMA_POLL_USECS=0: N processes share two cores, so they must block
	# rather than spin. HOMA_LINK_MBPS: Homa's pacer must know the NIC's
	# rate, as it would on a real host. HOMA_MTU: the runtime otherwise
	# takes loopback's MTU (65536) and sends ~64 KB datagrams that IP
	# fragments on the 1500-byte veths, where losing one fragment loses all.
	# NICE: the testbed shares two cores with whatever else runs on the
	# machine; a woken server or client that waits behind unrelated work
	# measures the machine, not the protocol.
	ip netns exec "$name-h$h" nice -n "$NICE" env HOMA_POLL_USECS=0 HOMA_LINK_MBPS="$LINK_MBPS" \
		HOMA_RESEND_TICKS="$resend_ticks" HOMA_TIMEOUT_TICKS="$timeout_ticks" \
		HOMA_REQUEST_ACK_TICKS="$request_ack_ticks" \
		HOMA_UNSCHED_BYTES="$unsched_bytes" HOMA_MAX_INCOMING="$max_incoming" \
		HOMA_NIC_BACKLOG_NS="$nic_backlog_ns" HOMA_RCVBUF_MB="$rcvbuf_mb" \
		HOMA_GRANT_FIFO_FRACTION="$grant_fifo" HOMA_PACER_FIFO_FRACTION="$pacer_fifo" \
		HOMA_MTU="$MTU" "$@"
}

mkdir -p "$RUN_DIR"
if ! "$here/testbed.sh" up --name "$name" --hosts "$HOSTS" --link-mbps "$LINK_MBPS" \
	--priorities "$PRIORITIES" --queue-kb "$QUEUE_KB" --mtu "$MTU" >"$RUN_DIR/testbed.log" 2>&1; then
	cat "$RUN_DIR/testbed.log" >&2
	log "cannot build the testbed (network namespaces unavailable?)"
	exit 3
fi
log "testbed $name: $HOSTS hosts, $LINK_MBPS Mbit/s ports, $PRIORITIES priority queue(s), ${QUEUE_KB} KiB per queue; Homa resend/timeout/need-ack ticks $resend_ticks/$timeout_ticks/$request_ack_ticks, unsched $unsched_bytes B, max incoming $max_incoming B, NIC backlog $nic_backlog_ns ns, receive region $rcvbuf_mb MiB, FIFO grant/pacer $grant_fifo/$pacer_fifo permil"

for ((i = 1; i <= HOSTS; i++)); do
	in_host "$i" "$PERF" server --port "$PORT" --protocols "$PROTOCOLS" --no-poll \
		--quiet "${perf_args[@]}" >"$RUN_DIR/server_h$i.log" 2>&1 &
	server_pids+=($!)
done
sleep 0.5
for ((i = 1; i <= HOSTS; i++)); do
	if ! kill -0 "${server_pids[$((i - 1))]}" 2>/dev/null; then
		cat "$RUN_DIR/server_h$i.log" >&2
		log "server in host $i failed"
		exit 4
	fi
done

# Sum of the leaf queues' drop counters over every switch port.
switch_drops() {
	tc -n "$name-sw" -s qdisc show 2>/dev/null |
		awk '/^qdisc bfifo/{leaf=1; next} /^qdisc/{leaf=0} leaf && /dropped/{
			for (k = 1; k <= NF; k++) if ($k == "(dropped") { gsub(",", "", $(k+1)); n += $(k+1) } }
			END {print n + 0}'
}
drops_before=0

IFS=, read -r -a protos <<<"$PROTOCOLS"
for p in "${protos[@]}"; do
	dir="$RUN_DIR/$p"
	rm -rf "$dir"
	mkdir -p "$dir"

	# Unloaded: one RPC at a time from h1 to h2, each length for a short
	# time (the caller sizes it so that even 1 MB gets a few samples).
	log "$p: unloaded round trips for $(wc -l <"$LENGTHS") lengths"
	: >"$dir/unloaded.samples"
	while read -r len secs; do
		in_host 1 timeout 30 "$PERF" client --server "$(addr 2):$PORT" --protocol "$p" \
			--workload "$len" --client-max 1 --one-way --seconds "$secs" \
			--warmup 0 --seed "$SEED" --samples "$dir/unl.tmp" --quiet --json \
			--no-poll >/dev/null 2>>"$dir/unloaded.err" </dev/null || true
		[ -f "$dir/unl.tmp" ] && cat "$dir/unl.tmp" >>"$dir/unloaded.samples"
		rm -f "$dir/unl.tmp"
	done <"$LENGTHS"

	log "$p: loaded run, $HOSTS clients at $GBPS Gbit/s each, ${SECONDS_RUN}s + ${WARMUP}s warm-up + ${COOLDOWN}s cool-down"
	client_pids=()
	for ((i = 1; i <= HOSTS; i++)); do
		servers=""
		for ((j = 1; j <= HOSTS; j++)); do
			[ "$i" = "$j" ] && continue
			servers="${servers:+$servers,}$(addr "$j"):$load_port"
		done
		(
			rc=0
			in_host "$i" timeout $((${SECONDS_RUN%.*} + ${WARMUP%.*} + ${COOLDOWN%.*} + 30)) \
				env HOMA_LINK_MBPS="$client_link_mbps" \
				"$PERF" client --server "$servers" --protocol "$p" \
				--workload "$WORKLOAD" --gbps "$GBPS" --one-way \
				--seconds "$SECONDS_RUN" --warmup "$WARMUP" --cooldown "$COOLDOWN" \
				--seed $((SEED + i)) --samples "$dir/h$i.samples" --json \
				--tcp-conns "$TCP_CONNS" \
				--quiet --no-poll "${combined_args[@]}" "${perf_args[@]}" \
				>"$dir/h$i.json" 2>"$dir/h$i.err" \
				</dev/null || rc=$?
			echo "$rc" >"$dir/h$i.rc"
		) &
		client_pids+=($!)
	done
	for pid in "${client_pids[@]}"; do
		wait "$pid" || true
	done
	client_pids=()
	tc -n "$name-sw" -s qdisc show >"$dir/switch.txt" 2>&1 || true
	# Packets the switch ports dropped during this protocol's run (the
	# counters are cumulative, so subtract what the previous runs left).
	drops=$(switch_drops)
	echo $((drops - drops_before)) >"$dir/switch_drops"
	drops_before=$drops
	log "$p: done ($(cat "$dir"/h*.rc | tr '\n' ' ')exit codes)"
done
