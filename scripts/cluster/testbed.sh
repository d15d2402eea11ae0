#!/usr/bin/env bash
# Emulated cluster: N hosts (network namespaces) around one switch (a Linux
# bridge in its own namespace). Every switch port toward a host is a shaped,
# finite queue, optionally split into strict-priority queues chosen by the top
# three DSCP bits, which is where Homa puts its priority level (reference 2.1).
#
#   testbed.sh up   --name P [--hosts N] [--link-mbps M] [--priorities K]
#                   [--queue-kb Q] [--uplink-shaping 0|1]
#   testbed.sh down --name P
#   testbed.sh show --name P
#
# Namespaces: P-sw (switch) and P-h1..P-hN; host i owns 10.146.0.i/24 on eth0.
# The kernel here has htb, tbf, u32 and bpf but no prio qdisc, so priority
# queues are htb classes: each gets a negligible guaranteed rate and borrows
# the whole link by its htb prio, which makes the scheduler strict-priority
# while the parent class keeps the port at line rate.
set -euo pipefail

cmd=${1:-}
shift || true
name=""
hosts=4
mbps=1000
prios=1
queue_kb=256
uplink=1
mtu=1500
while [ $# -gt 0 ]; do
	case "$1" in
	--name) name=$2; shift 2 ;;
	--hosts) hosts=$2; shift 2 ;;
	--link-mbps) mbps=$2; shift 2 ;;
	--priorities) prios=$2; shift 2 ;;
	--queue-kb) queue_kb=$2; shift 2 ;;
	--uplink-shaping) uplink=$2; shift 2 ;;
	--mtu) mtu=$2; shift 2 ;;
	*) echo "testbed.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ -n "$name" ] || { echo "testbed.sh: --name is required" >&2; exit 2; }
if [ "$(id -u)" -ne 0 ]; then
	echo "testbed.sh: needs root (network namespaces, veth, tc)" >&2
	exit 2
fi

sw="$name-sw"

host_addr() { echo "10.146.0.$1"; }

# Bytes that one burst may carry: enough for a 64 KB GSO/TSO super-packet so
# that shaping does not have to split them, small enough to keep the port's
# instantaneous rate close to the line rate.
burst_bytes=65536

# shape_port NS DEV PRIOS: htb root with one class at line rate and PRIOS leaf
# classes under it, each a byte-limited FIFO of queue_kb; u32 filters on the
# TOS byte send Homa level p (TOS = p << 5) to queue floor(p * PRIOS / 8),
# where the highest level gets the highest htb priority.
shape_port() {
	local ns=$1 dev=$2 k=$3
	local q
	tc -n "$ns" qdisc add dev "$dev" root handle 1: htb default $((10 + 0)) r2q 100
	tc -n "$ns" class add dev "$dev" parent 1: classid 1:1 htb rate "${mbps}mbit" quantum 60000 \
		ceil "${mbps}mbit" burst "$burst_bytes" cburst "$burst_bytes"
	for ((q = 0; q < k; q++)); do
		# Queue q carries levels with floor(p*k/8) == q; htb prio 0 is
		# served first, so the most urgent queue (q = k-1) gets prio 0.
		# With one queue it owns the link; with several each is
		# guaranteed only a token 8 kbit/s and borrows the rest in
		# htb prio order.
		local rate=8
		[ "$k" -eq 1 ] && rate=$((mbps * 1000))
		tc -n "$ns" class add dev "$dev" parent 1:1 classid "1:$((10 + q))" htb \
			rate "${rate}kbit" ceil "${mbps}mbit" burst "$burst_bytes" \
			cburst "$burst_bytes" prio $((k - 1 - q)) quantum 60000
		tc -n "$ns" qdisc add dev "$dev" parent "1:$((10 + q))" handle "$((20 + q)):" \
			bfifo limit $((queue_kb * 1024))
	done
	if [ "$k" -gt 1 ]; then
		local p
		for ((p = 0; p < 8; p++)); do
			q=$((p * k / 8))
			tc -n "$ns" filter add dev "$dev" parent 1: protocol ip prio 1 u32 \
				match ip tos $((p << 5)) 0xe0 flowid "1:$((10 + q))"
		done
	fi
}

up() {
	local i
	ip netns add "$sw"
	ip -n "$sw" link set lo up
	ip -n "$sw" link add br0 type bridge
	# No STP and no forwarding delay: ports forward as soon as they are up.
	ip -n "$sw" link set br0 type bridge stp_state 0 forward_delay 0
	# A switch forwards in hardware: no netfilter on bridged packets (br_netfilter
	# would run every frame through iptables in this namespace, at the hosts' CPU cost).
	local t
	for t in iptables ip6tables arptables; do
		ip netns exec "$sw" sh -c "echo 0 >/proc/sys/net/bridge/bridge-nf-call-$t" 2>/dev/null || true
	done
	ip -n "$sw" link set br0 up
	for ((i = 1; i <= hosts; i++)); do
		local h="$name-h$i"
		ip netns add "$h"
		ip -n "$h" link set lo up
		ip -n "$sw" link add "p$i" mtu "$mtu" type veth peer name eth0 mtu "$mtu" netns "$h"
		ip -n "$sw" link set "p$i" master br0
		ip -n "$sw" link set "p$i" up
		ip -n "$h" addr add "$(host_addr "$i")/24" dev eth0
		ip -n "$h" link set eth0 up
		shape_port "$sw" "p$i" "$prios"
		if [ "$uplink" = 1 ]; then
			# The host's NIC: a FIFO at line rate, as deep as a
			# switch queue; without it a host could push into the
			# switch faster than its link allows.
			tc -n "$h" qdisc add dev eth0 root tbf rate "${mbps}mbit" \
				burst "$burst_bytes" limit $((queue_kb * 1024))
		fi
	done
	# Static neighbour entries: no ARP delay in the first measured RPCs.
	local j
	for ((i = 1; i <= hosts; i++)); do
		local mac
		mac=$(ip -n "$name-h$i" -o link show eth0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
		for ((j = 1; j <= hosts; j++)); do
			[ "$i" = "$j" ] && continue
			ip -n "$name-h$j" neigh replace "$(host_addr "$i")" lladdr "$mac" \
				dev eth0 nud permanent
		done
	done
}

# Our namespaces, by name.
our_namespaces() {
	local ns
	for ns in $(ip netns list | awk '{print $1}'); do
		case "$ns" in
		"$name"-sw | "$name"-h[0-9]*) echo "$ns" ;;
		esac
	done
}

down() {
	local ns pids i
	# Processes still running in our namespaces (servers started through
	# `ip netns exec` from a subshell are not children a caller can wait
	# for) are ended first: deleting a namespace does not end them.
	for ns in $(our_namespaces); do
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		[ -n "$pids" ] && kill $pids 2>/dev/null || true
	done
	for ((i = 0; i < 20; i++)); do
		pids=""
		for ns in $(our_namespaces); do
			pids="$pids $(ip netns pids "$ns" 2>/dev/null || true)"
		done
		[ -z "${pids// /}" ] && break
		[ "$i" = 19 ] && kill -9 $pids 2>/dev/null || true
		sleep 0.1
	done
	# Deleting a namespace deletes its veth ends, and with them their peers.
	for ns in $(our_namespaces); do
		ip netns del "$ns" 2>/dev/null || true
	done
}

show() {
	local ns
	for ns in $(ip netns list | awk '{print $1}'); do
		case "$ns" in
		"$name"-sw | "$name"-h[0-9]*)
			echo "== $ns"
			tc -n "$ns" -s qdisc show
			;;
		esac
	done
}

case "$cmd" in
up)
	# A half-built testbed is useless: remove it if any step fails.
	trap 'rc=$?; [ $rc -ne 0 ] && down; exit $rc' EXIT
	up
	;;
down) down ;;
show) show ;;
*)
	echo "usage: testbed.sh up|down|show --name P [options]" >&2
	exit 2
	;;
esac
