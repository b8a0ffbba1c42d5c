#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# collect_bench.sh: vtapctl collect ... to DEV, raw sockets against XDP, in
# one boot (run it in the test VM: tools/vm/run -n; it needs no module, the
# host's kernel runs it too).  The kernel's pktgen on two erspan devices
# (ERSPAN III, session 7, 64-byte frames; one pktgen thread per CPU) in a
# sender namespace sends COUNT copies each as fast as it can over a veth to
# the collector's c0; the collector
# sends the inner frames to xo0, a veth whose peer xo1 counts them
# (rx_packets).  Cases, interleaved over ROUNDS rounds:
#   raw       collect session 7 to xo0 (raw socket, packet socket)
#   xdp       ... dev c0 xdp (native on veth: the driver's NAPI)
#   generic   ... dev c0 xdp mode generic (not by default: see CASES)
# For each: the rate pktgen offered, the rate delivered to xo1, the loss
# (delivered / offered) and where frames were dropped (c0's receive: s0's
# tx_dropped; on the way to DEV: xo0's), median over the rounds.  Then a rate sweep per
# case: the highest total rate (pktgen's ratep, per sender, times the
# senders) at which every frame arrived.
# Results: a table on stdout and $VTAP_OUT/collect_bench.json.
set -uo pipefail
TOP=${VTAP_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
VTAPCTL=${VTAPCTL:-$TOP/build/vtapctl}
COUNT=${VTAP_BENCH_COUNT:-100000}
ROUNDS=${VTAP_BENCH_ROUNDS:-3}
# Not "generic" by default: pktgen holds a reference to each skb it sends
# (skb->users 2), the erspan device and the veth pass that shared skb on,
# and 6.1's generic XDP expands a skb without enough headroom with
# pskb_expand_head(), which BUG()s on a shared one (kernel BUG at
# net/core/skbuff.c:1845, seen in the test VM).  Native XDP on veth copies
# such a skb; a NIC never delivers one.
CASES=${VTAP_BENCH_COLLECT_CASES:-"raw xdp"}
RATES=${VTAP_BENCH_COLLECT_RATES:-"10000 20000 50000 100000 200000 400000 800000"}
OUT=${VTAP_OUT:-/tmp}
pre=cb$$
SND=$pre-snd COL=$pre-col
cleanup() {
	[ -n "${colpid:-}" ] && kill -INT "$colpid" 2>/dev/null && wait "$colpid" 2>/dev/null
	ip netns del "$SND" 2>/dev/null
	ip netns del "$COL" 2>/dev/null
}
trap cleanup EXIT
modprobe -a veth pktgen ip_gre 2>/dev/null
sx() { nsenter --net="/run/netns/$SND" "$@"; }
cx() { nsenter --net="/run/netns/$COL" "$@"; }

ip netns add "$SND" && ip netns add "$COL" || exit 1
ip link add s0 netns "$SND" type veth peer name c0 netns "$COL"
ip link add xo0 netns "$COL" type veth peer name xo1 netns "$COL"
ip -n "$SND" addr add 198.51.100.1/24 dev s0
ip -n "$SND" addr add 198.51.100.3/24 dev s0
ip -n "$COL" addr add 198.51.100.2/24 dev c0
for d in xo0 xo1; do cx sysctl -qw "net.ipv6.conf.$d.disable_ipv6=1"; done
cx ethtool -K xo1 gro on >/dev/null
for l in "$SND s0" "$SND lo" "$COL c0" "$COL lo" "$COL xo0" "$COL xo1"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
ip -n "$SND" neigh replace 198.51.100.2 dev s0 nud permanent \
	lladdr "$(ip -n "$COL" -br link show c0 | awk '{print $3}')"
# The senders: two ERSPAN III devices (the kernel's own encapsulation), two
# "hypervisors" of session 7, one pktgen thread on each CPU: enough to load
# the collector beyond what it takes.
NDEV=$(( $(nproc) > 1 ? 2 : 1 ))
pg() { sx sh -c "echo '$1' > /proc/net/pktgen/$2"; }
for i in $(seq 0 $((NDEV - 1))); do
	sx ip link add ers$i type erspan local 198.51.100.$((1 + 2 * i)) remote 198.51.100.2 \
		seq key 7 erspan_ver 2 erspan_dir ingress erspan_hwid 1 || exit 1
	sx ip link set ers$i addrgenmode none
	sx ip link set ers$i up
	pg "rem_device_all" kpktgend_$i || exit 1
	pg "add_device ers$i" kpktgend_$i || exit 1
	# clone_skb 0: a tunnel device may not share the skb (no IFF_TX_SKB_SHARING).
	for c in "count $COUNT" "pkt_size 60" "clone_skb 0" "delay 0" "dst 192.0.2.2" \
		 "dst_mac 02:00:00:00:00:02" "udp_dst_min 9" "udp_dst_max 9"; do
		pg "$c" ers$i
	done
done

# ip netns exec: its own /sys, where xo1 is.
xo1_rx() { ip netns exec "$COL" cat /sys/class/net/xo1/statistics/rx_packets; }
# Where frames are lost: at c0's receive (s0's drops: the veth ring or the
# backlog is full) or on the way to DEV (xo0's drops).
drops() {
	echo "$(ip netns exec "$SND" cat /sys/class/net/s0/statistics/tx_dropped) $(
		ip netns exec "$COL" cat /sys/class/net/xo0/statistics/tx_dropped)"
}

start_case() {	# CASE
	local args=(session 7 to xo0)
	case $1 in
	xdp) args+=(dev c0 xdp mode native) ;;
	generic) args+=(dev c0 xdp mode generic) ;;
	esac
	# nsenter itself in the background (execs vtapctl): $! is what SIGINT stops
	nsenter --net="/run/netns/$COL" "$VTAPCTL" collect "${args[@]}" \
		>"$OUT/collect-$1.out" 2>"$OUT/collect-$1.err" &
	colpid=$!
	for _ in $(seq 100); do
		grep -q "^collect: listening" "$OUT/collect-$1.err" && break
		sleep 0.1
	done
	if [ "$1" != raw ] && ! grep -q "^collect: XDP" "$OUT/collect-$1.err"; then
		cat "$OUT/collect-$1.err" >&2
		return 1
	fi
}

stop_case() {
	kill -INT "$colpid"
	wait "$colpid"
	colpid=
}

one() {	# RATE per sender (0: as fast as it can): "OFFERED_PPS DELIVERED_PPS DELIVERED SENT"
	local rx0 rx1 res usec=0 u pps=0 p sent=0 n i d0 d1 x0 x1
	for i in $(seq 0 $((NDEV - 1))); do
		# ratep 0 is refused: delay 0 is as fast as it can
		if [ "$1" = 0 ]; then pg "delay 0" ers$i; else pg "ratep $1" ers$i; fi
	done
	rx0=$(xo1_rx)
	read -r d0 x0 <<<"$(drops)"
	pg start pgctrl
	sleep 0.5	# what is still in flight: the collector's queue
	rx1=$(xo1_rx)
	read -r d1 x1 <<<"$(drops)"
	for i in $(seq 0 $((NDEV - 1))); do
		res=$(sx cat /proc/net/pktgen/ers$i)
		u=$(echo "$res" | sed -n 's/^Result: OK: \([0-9]*\)(.*/\1/p')
		p=$(echo "$res" | grep -A1 '^Result: OK' | sed -n 's/^ *\([0-9]*\)pps.*/\1/p')
		n=$(echo "$res" | sed -n 's/.*pkts-sofar: \([0-9]*\).*/\1/p')
		[ "${u:-0}" -gt "$usec" ] && usec=$u
		pps=$((pps + ${p:-0})) sent=$((sent + ${n:-0}))
	done
	echo "$pps $(( (rx1 - rx0) * 1000000 / (usec > 0 ? usec : 1) )) $((rx1 - rx0)) $sent $((d1 - d0)) $((x1 - x0))"
}

declare -A res
echo "collect to DEV: $NDEV x $COUNT ERSPAN III copies (64-byte frames) per run, $ROUNDS rounds"
for r in $(seq "$ROUNDS"); do
	for c in $CASES; do
		start_case "$c" || exit 1
		res[$c]+="$(one 0);"
		stop_case
	done
done

# The highest rate without loss, from the sweep.
declare -A lossless
for c in $CASES; do
	start_case "$c" || exit 1
	lossless[$c]=0
	for rate in $RATES; do
		read -r _ _ got sent _ <<<"$(one "$rate")"
		[ "$got" -ge "$sent" ] && [ "$sent" -gt 0 ] || break
		lossless[$c]=$((rate * NDEV))
	done
	stop_case
done

python3 - "$OUT/collect_bench.json" "$COUNT" "$CASES" <<EOF
import json, statistics, sys
path, count, cases = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
raw = {$(for c in $CASES; do printf '"%s": "%s", ' "$c" "${res[$c]}"; done)}
lossless = {$(for c in $CASES; do printf '"%s": %s, ' "$c" "${lossless[$c]}"; done)}
out = {"count": count, "cases": {}}
print("%-8s %12s %12s %7s %10s %10s %15s" % ("case", "offered pps", "deliv. pps", "loss",
                                             "c0 drops", "xo0 drops", "lossless up to"))
for c in cases:
    runs = [list(map(int, x.split())) for x in raw[c].split(";") if x.strip()]
    off = statistics.median(r[0] for r in runs)
    dev = statistics.median(r[1] for r in runs)
    loss = statistics.median(1 - r[2] / r[3] if r[3] else 1 for r in runs)
    rxd = statistics.median(r[4] for r in runs)
    txd = statistics.median(r[5] for r in runs)
    out["cases"][c] = {"offered_pps": off, "delivered_pps": dev, "loss": loss,
                       "c0_drops": rxd, "xo0_drops": txd,
                       "lossless_pps": lossless[c], "runs": runs}
    print("%-8s %12.0f %12.0f %6.1f%% %10.0f %10.0f %15d" % (c, off, dev, 100 * loss, rxd, txd,
                                                          lossless[c]))
json.dump(out, open(path, "w"), indent=1)
EOF
