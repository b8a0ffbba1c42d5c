#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# guest_bench.sh: run inside the test VM (tools/vm/run, vtap.ko loaded).
# The VM's throughput and the mirrored packets per second, side by side in
# one boot, so that the ratios hold (absolute numbers under TCG mean little):
#   off       no mirroring
#   nomatch   vtap flow with a rule that matches nothing
#   inline    vtap mirroring 100%, copies sent from the VM's path (ERSPAN II)
#   vxlan     the same as VXLAN (a UDP socket's worth of headers, and the
#             inner flow's hash for the source port)
#   deferred  the same with deferred=1 (this CPU's queue + tasklet)
#   remote    the same with deferred=2 (the next CPU's queue + tasklet)
#   slice     (TCP only) inline with gso slice
#   dedup     inline with a dedup window (10 ms): each frame hashed (xxh64
#             over all its bytes) and recorded once its copy went; what
#             dedup costs a copy (an in copy's lookup costs the same hash)
#   xdp       inline with vtap's XDP program on the port (port add ... xdp
#             on): native XDP on the veth mirrors what the VM sends
#   mirred    the kernel's own: tc matchall + mirred egress mirror -> erspan
#   inline-nic, remote-nic, mirred-nic: the same with a dummy device as the
#             underlay (a NIC whose transmit costs nothing) instead of the
#             veth to col
#   off-ct, inline-ct, mirred-ct: off, inline and mirred on a hypervisor
#             with a stateful firewall (an nftables table in hv whose input,
#             forward and output chains use conntrack); their ratios are
#             to off-ct (run in the cost model: make bench-icount)
# Load: the kernel's pktgen on vm1's eth0 (a veth; its peer vnet1 in hv is
# the monitored port), 64-byte UDP frames; then TCP (iperf3, large frames,
# GSO) from vm1 to vm2 through hv.  The cases are interleaved: ROUNDS
# rounds, each running every case once (in reverse order every other round,
# so that a drift of the machine weighs on all alike), and a case's ratio to
# "off" is taken within each round; the median over the rounds is reported
# with its spread (min..max).  The same for 1500-byte frames (pps1500).
# Then a tap (part "tap"): tools/bench/tapwrite writes 64- and 1500-byte
# frames to a tap in hv (tapb, IFF_VNET_HDR, non-blocking: tun_build_skb()
# and native XDP, in the writer's context), cases off, inline (TC), xdp
# and mirred, interleaved as above.  Then the loop guard and memory per
# session, port and rule.
#
#   vm1 eth0 ==veth==> hv vnet1 (192.0.2.254)     hv ul0 ==veth==> col ul1
#   vm2 eth0 ==veth==> hv vnet2 (203.0.113.254)   hv ud0 (dummy: the "NIC")
# The collector counts what reaches ul1 (rx_packets, counted by the veth
# before anything else) and drops it at its TC ingress: a collector is a
# remote box, its receive path is not the hypervisor's cost.  COL_STACK=1
# lets the copies climb col's IP stack instead (GRE receive, ICMP errors),
# as this benchmark did at first.  The NIC model's copies are counted by
# ud0's tx_packets.
# Results also go to $VTAP_OUT/guest.json for tools/bench/table.py.
set -uo pipefail
TOP=${VTAP_TOP:?}
VTAPCTL=$TOP/build/vtapctl
COUNT=${VTAP_BENCH_COUNT:-${COUNT:-200000}}
ROUNDS=${VTAP_BENCH_ROUNDS:-${ROUNDS:-5}}
TCP_SECS=${VTAP_BENCH_TCP_SECS:-5}
MEM_SESSIONS=${VTAP_BENCH_SESSIONS:-300}
MEM_PORTS=${VTAP_BENCH_PORTS:-100}
MEM_RULES=${VTAP_BENCH_RULES:-256}
COL_STACK=${VTAP_BENCH_COL_STACK:-0}
PARTS=${VTAP_BENCH_PARTS:-"pps pps1500 tcp tap guard memory"}
part() { [[ " $PARTS " == *" $1 "* ]]; }
declare -A mem_b guard_pps
PPS_CASES=${VTAP_BENCH_PPS_CASES:-"off nomatch inline xdp vxlan dedup deferred remote mirred inline-nic remote-nic mirred-nic"}
PPS1500_CASES=${VTAP_BENCH_PPS1500_CASES:-"off inline xdp mirred"}
TCP_CASES=${VTAP_BENCH_TCP_CASES:-"off nomatch inline xdp vxlan dedup slice remote mirred inline-nic mirred-nic"}
TAP_CASES=${VTAP_BENCH_TAP_CASES:-"off inline xdp mirred"}
TAP_COUNT=${VTAP_BENCH_TAP_COUNT:-$COUNT}
pre=vb$$
NS_VM=$pre-vm NS_HV=$pre-hv NS_COL=$pre-col NS_VM2=$pre-vm2
hx() { nsenter --net=/run/netns/$NS_HV "$@"; }
cleanup() {
	ip netns del "$NS_VM" 2>/dev/null
	ip netns del "$NS_HV" 2>/dev/null
	ip netns del "$NS_COL" 2>/dev/null
	ip netns del "$NS_VM2" 2>/dev/null
	ip netns del "$NS_MEM" 2>/dev/null
}
NS_MEM=$pre-mem
trap cleanup EXIT
modprobe -a veth dummy tun pktgen sch_ingress cls_bpf act_mirred cls_matchall ip_gre 2>/dev/null

ip netns add "$NS_VM"; ip netns add "$NS_HV"; ip netns add "$NS_COL"; ip netns add "$NS_VM2"
ip link add eth0 netns "$NS_VM" type veth peer name vnet1 netns "$NS_HV"
ip link add eth0 netns "$NS_VM2" type veth peer name vnet2 netns "$NS_HV"
ip link add ul0 netns "$NS_HV" type veth peer name ul1 netns "$NS_COL"
ip -n "$NS_HV" link add ud0 type dummy
ip -n "$NS_VM" addr add 192.0.2.1/24 dev eth0
ip -n "$NS_VM2" addr add 203.0.113.1/24 dev eth0
ip -n "$NS_HV" addr add 192.0.2.254/24 dev vnet1
ip -n "$NS_HV" addr add 203.0.113.254/24 dev vnet2
# Two underlays: col behind ul0 (198.51.100.2), and a collector behind the
# dummy "NIC" ud0 (198.51.100.130).
ip -n "$NS_HV" addr add 198.51.100.1/25 dev ul0
ip -n "$NS_COL" addr add 198.51.100.2/25 dev ul1
ip -n "$NS_HV" addr add 198.51.100.129/25 dev ud0
for l in "$NS_VM eth0" "$NS_VM2 eth0" "$NS_HV vnet1" "$NS_HV vnet2" "$NS_HV ul0" "$NS_COL ul1" \
	 "$NS_HV ud0" "$NS_VM lo" "$NS_VM2 lo"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
ip -n "$NS_VM" route add default via 192.0.2.254
ip -n "$NS_VM2" route add default via 203.0.113.254
ip netns exec "$NS_HV" sysctl -qw net.ipv4.ip_forward=1
if [ "$COL_STACK" = 0 ]; then
	ip netns exec "$NS_COL" tc qdisc add dev ul1 clsact
	ip netns exec "$NS_COL" tc filter add dev ul1 ingress matchall action drop
fi
ip -n "$NS_HV" neigh replace 198.51.100.2 lladdr "$(ip -n "$NS_COL" -br link show ul1 | awk '{print $3}')" dev ul0 nud permanent
hvmac=$(ip -n "$NS_HV" -br link show vnet1 | awk '{print $3}')

# pktgen in vm1's namespace: /proc/net follows the reader's namespace.
pg() { nsenter --net=/run/netns/$NS_VM sh -c "echo '$1' > /proc/net/pktgen/$2"; }
pg "rem_device_all" kpktgend_0
pg "add_device eth0" kpktgend_0
for c in "count $COUNT" "pkt_size 60" "delay 0" "dst 192.0.2.254" "dst_mac $hvmac" \
	 "udp_dst_min 9" "udp_dst_max 9"; do
	pg "$c" eth0
done

# vtap's sessions, one per kind of case, and the kernel's erspan devices.
hx "$VTAPCTL" session add b encap erspan2 id 5 remote 198.51.100.2 >/dev/null
hx "$VTAPCTL" session add r encap erspan2 id 7 remote 198.51.100.2 >/dev/null
hx "$VTAPCTL" rule add session r num 1 dir out accept proto sctp >/dev/null
hx "$VTAPCTL" session add sl encap erspan2 id 8 remote 198.51.100.2 gso slice >/dev/null
hx "$VTAPCTL" session add n encap erspan2 id 6 remote 198.51.100.130 >/dev/null
hx "$VTAPCTL" session add x encap vxlan vni 9 remote 198.51.100.2 >/dev/null
hx "$VTAPCTL" session add dd encap erspan2 id 10 remote 198.51.100.2 dedup 10ms >/dev/null
for e in "es1 198.51.100.1 198.51.100.2 5" "es2 198.51.100.129 198.51.100.130 6"; do
	set -- $e
	hx ip link add "$1" type erspan local "$2" remote "$3" seq key "$4" erspan_ver 1 erspan 1
	hx ip link set "$1" addrgenmode none
	hx ip link set "$1" up
done
# vtapctl port del leaves its clsact on vnet1 (see vtapctl.8): the cases
# share it, so that no case grafts a qdisc.
hx tc qdisc replace dev vnet1 clsact
# The tap VM's vNIC: frames written to it go to hv's stack, addressed to no
# one there (dropped after TC, as a bridge would forward them elsewhere).
hx ip tuntap add mode tap vnet_hdr name tapb
hx ip link set tapb addrgenmode none
hx ip link set tapb up
hx tc qdisc replace dev tapb clsact

# A case: its setup and teardown, and where its copies are counted.
PORT=vnet1	# the monitored port: vnet1, or tapb for the tap cases
vtap_case() {	# up|down SESSION DEFERRED [xdp]
	if [ "$1" = up ]; then
		echo "$3" > /sys/module/vtap/parameters/deferred
		hx "$VTAPCTL" port add $PORT id 1 ${4:+xdp on} >/dev/null &&
		hx "$VTAPCTL" flow add session "$2" port $PORT dir out >/dev/null
	else
		hx "$VTAPCTL" port del $PORT >/dev/null
		echo 0 > /sys/module/vtap/parameters/deferred
	fi
}
mirred_case() {	# up|down DEV
	if [ "$1" = up ]; then
		hx tc filter add dev $PORT ingress pref 1 matchall action mirred egress mirror dev "$2"
	else
		hx tc filter del dev $PORT ingress pref 1
	fi
}
ct_case() {	# up|down: hv's stateful firewall
	if [ "$1" = up ]; then
		hx nft -f - <<-'EOF'
		table inet vtbfw {
			chain vin { type filter hook input priority 0; ct state established,related accept; ct state new accept; }
			chain vfwd { type filter hook forward priority 0; ct state established,related accept; ct state new accept; }
			chain vout { type filter hook output priority 0; ct state established,related accept; ct state new accept; }
		}
		EOF
	else
		hx nft delete table inet vtbfw
	fi
}
case_do() {	# up|down CASE
	case $2 in
	*-ct)
		if [ "$1" = up ]; then
			ct_case up && case_do up "${2%-ct}"
		else
			case_do down "${2%-ct}"; ct_case down
		fi ;;
	off) ;;
	nomatch) vtap_case "$1" r 0 ;;
	inline) vtap_case "$1" b 0 ;;
	xdp) vtap_case "$1" b 0 xdp ;;
	vxlan) vtap_case "$1" x 0 ;;
	deferred) vtap_case "$1" b 1 ;;
	remote) vtap_case "$1" b 2 ;;
	slice) vtap_case "$1" sl 0 ;;
	dedup) vtap_case "$1" dd 0 ;;
	mirred) mirred_case "$1" es1 ;;
	inline-nic) vtap_case "$1" n 0 ;;
	remote-nic) vtap_case "$1" n 2 ;;
	mirred-nic) mirred_case "$1" es2 ;;
	*) echo "unknown case $2"; return 1 ;;
	esac
}
col_rx() {	# CASE: copies counted so far where its underlay ends
	case ${1%-ct} in
	*-nic) ip netns exec "$NS_HV" cat /sys/class/net/ud0/statistics/tx_packets ;;
	*) ip netns exec "$NS_COL" cat /sys/class/net/ul1/statistics/rx_packets ;;
	esac
}

run() {	# CASE: prints "VM_PPS MIRRORED_PPS"
	local rx0 rx1 res pps usec
	rx0=$(col_rx "$1")
	pg start pgctrl
	sleep 0.3
	rx1=$(col_rx "$1")
	res=$(nsenter --net=/run/netns/$NS_VM cat /proc/net/pktgen/eth0 | grep -A1 '^Result: OK')
	usec=$(echo "$res" | sed -n 's/^Result: OK: \([0-9]*\)(.*/\1/p')
	pps=$(echo "$res" | sed -n 's/^ *\([0-9]*\)pps.*/\1/p')
	echo "$pps $(( (rx1 - rx0) * 1000000 / (usec > 0 ? usec : 1) ))"
}

# TCP: iperf3 from vm1 to vm2 (through hv: vnet1's ingress is the monitored
# direction), large frames with GSO.  Prints "MBIT_S COPIES_PER_S".
tcp_run() {	# CASE
	local rx0 rx1 out
	ip netns exec "$NS_VM2" iperf3 -s -D -1 -B 203.0.113.1 >/dev/null 2>&1
	sleep 0.3
	rx0=$(col_rx "$1")
	out=$(ip netns exec "$NS_VM" iperf3 -c 203.0.113.1 -t "$TCP_SECS" -J 2>/dev/null)
	rx1=$(col_rx "$1")
	echo "$out" | python3 -c "import json, sys
j = json.load(sys.stdin)['end']['sum_received']
print('%.0f %.0f' % (j['bits_per_second'] / 1e6, ($rx1 - $rx0) / j['seconds']))" \
		2>/dev/null || echo "0 0"
}

# The tap: "VM_PPS MIRRORED_PPS" for SIZE-byte frames written to tapb.
tap_run() {	# CASE SIZE
	local rx0 rx1 pps
	rx0=$(col_rx "$1")
	pps=$(hx "$TOP/build/tapwrite" tapb "$TAP_COUNT" "$2")
	rx1=$(col_rx "$1")
	echo "${pps:-0} $(( (rx1 - rx0) * ${pps:-0} / TAP_COUNT ))"
}

# Every round runs every case once; results as lines "KIND CASE ROUND A B".
RAW=/tmp/vb-raw.txt
: > "$RAW"
rounds() {	# KIND(pps|tcp) CASES...
	local kind=$1 r c out order
	shift
	for r in $(seq "$ROUNDS"); do
		order="$*"
		[ $((r % 2)) = 0 ] && order=$(echo "$order" | tr ' ' '\n' | tac | tr '\n' ' ')
		for c in $order; do
			case_do up "$c" || continue
			case $kind in
			pps*) out=$(run "$c") ;;
			tap*) out=$(tap_run "$c" "${kind#tap}") ;;
			*) out=$(tcp_run "$c") ;;
			esac
			case_do down "$c"
			echo "$kind $c $r $out" >> "$RAW"
			printf '%s round %d %-10s %s\n' "$kind" "$r" "$c" "$out"
		done
	done
}
echo "pktgen: $COUNT x 64-byte frames from vm1; TCP ${TCP_SECS}s; $ROUNDS interleaved rounds"
part pps && rounds pps $PPS_CASES
if part pps1500; then
	pg "pkt_size 1500" eth0
	rounds pps1500 $PPS1500_CASES
	pg "pkt_size 60" eth0
fi
part tcp && rounds tcp $TCP_CASES
if part tap; then
	PORT=tapb
	rounds tap64 $TAP_CASES
	rounds tap1500 $TAP_CASES
	PORT=vnet1
fi
hx "$VTAPCTL" -j session show b | python3 -c "import json,sys; s=json.load(sys.stdin)[0]['stats']; print('vtap counters (b):', {k: v for k, v in s.items() if v})"
for s in b r sl n x; do hx "$VTAPCTL" session del $s >/dev/null; done
hx ip link del es1
hx ip link del es2

# ---- the loop guard under a GRE flood ----------------------------------------
# 1023 sessions, 8 of them on vnet1, and a VM sending GRE-TEB to the
# collector's address as fast as it can, against the same frames as UDP:
# what the loop guard costs a GRE frame (once a walk over every session of
# the namespace per session of the flow).  Copies go to col as usual.
if part guard; then
GUARD_N=${VTAP_BENCH_GUARD_FRAMES:-20000}
DPY="/usr/bin/python3 $TOP/selftests/lib/datapath.py"
hx $DPY nl-new 1015 g 198.51.100.2 >/dev/null
hx "$VTAPCTL" port add vnet1 id 1 >/dev/null
for i in 0 1 2 3 4 5 6 7; do hx "$VTAPCTL" flow add session g$i port vnet1 dir out >/dev/null; done
declare -A guard_pps
for kind in udp gre; do
	all=""
	for i in $(seq "$ROUNDS"); do
		all+="$(nsenter --net=/run/netns/$NS_VM $DPY flood eth0 "$GUARD_N" "$hvmac" $kind 198.51.100.2) "
	done
	guard_pps[$kind]=$(echo $all | tr ' ' '\n' | sort -n | sed -n "$(( (ROUNDS + 1) / 2 ))p")
	printf 'guard %-4s VM %8s pps, 1023 sessions, 8 on the port  (runs: %s)\n' \
		"$kind" "${guard_pps[$kind]}" "$all"
done
hx "$VTAPCTL" port del vnet1 >/dev/null
hx $DPY nl-del-many 1015 g >/dev/null
fi

# ---- memory --------------------------------------------------------------
# What each object costs the kernel, read from a memory cgroup.  Every
# vtapctl below runs in cgroup "vtapbench" and in a namespace of its own
# (NS_MEM) whose maps and programs it creates, so what vtap.ko allocates for
# a session (GFP_KERNEL_ACCOUNT) and what the BPF maps allocate are charged
# there.  Per object, over N: memory.stat's "kernel" (all kernel memory
# charged), of which slab, percpu and vmalloc; and "kmalloc", the growth of
# every kmalloc-* slab cache of the whole machine (/proc/slabinfo), which
# also sees what 6.1 does not charge to a cgroup (tc's clsact qdisc and
# cls_bpf filters: most of a port) and the noise of everything else.
if part memory; then
CG=/sys/fs/cgroup/vtapbench
echo +memory >/sys/fs/cgroup/cgroup.subtree_control
mkdir -p "$CG"
ip netns add "$NS_MEM"
mx() {	# CMD...: in NS_MEM and in the cgroup
	(echo "$BASHPID" >"$CG/cgroup.procs" && exec nsenter --net="/run/netns/$NS_MEM" "$@")
}
mem() {	# prints "KERNEL SLAB PERCPU VMALLOC KMALLOC", bytes
	sleep 3		# freed after a grace period; memory.stat flushed every 2 s
	awk '$1 == "kernel" {k = $2} $1 == "slab" {s = $2} $1 == "percpu" {p = $2}
	     $1 == "vmalloc" {v = $2} END {printf "%d %d %d %d ", k, s, p, v}' "$CG/memory.stat"
	awk '/^kmalloc-/ {k += $2 * $4} END {printf "%d\n", k}' /proc/slabinfo
}
per() {	# BEFORE AFTER N -> the same five, per object
	python3 -c "import sys
b=list(map(int,'$1'.split())); a=list(map(int,'$2'.split())); n=$3
print(' '.join(str(round((y - x) / n)) for x, y in zip(b, a)))"
}
declare -A mem_b
mx "$VTAPCTL" info >/dev/null		# vtapctl's pages: charged before m0
# Sessions (sampled, so that no copy leaves): session, parameters, per-CPU
# counters and route cache, the session table.
m0=$(mem)
for i in $(seq 1 "$MEM_SESSIONS"); do
	mx "$VTAPCTL" session add m$i encap erspan2 id $((i % 1024)) remote 198.51.100.2 >/dev/null ||
		echo "session add m$i failed"
done
m1=$(mem)
mem_b[session]=$(per "$m0" "$m1" "$MEM_SESSIONS")
for i in $(seq 1 "$MEM_SESSIONS"); do mx "$VTAPCTL" session del m$i >/dev/null; done

# The namespace's maps and programs (created by its first port add), then
# ports: veth pairs made first, the delta is vtapctl port add (clsact
# qdisc, two filters, map entries: those are preallocated, see the maps).
for i in $(seq 0 "$MEM_PORTS"); do ip -n "$NS_MEM" link add p$i type veth peer name q$i; done
mx "$VTAPCTL" session add b encap erspan2 id 5 remote 198.51.100.2 >/dev/null
m0=$(mem)
mx "$VTAPCTL" port add p0 id 1 >/dev/null
m1=$(mem)
mem_b[netns]=$(per "$m0" "$m1" 1)
for i in $(seq 1 "$MEM_PORTS"); do mx "$VTAPCTL" port add p$i id $((i + 1)) >/dev/null; done
m2=$(mem)
mem_b[port]=$(per "$m1" "$m2" "$MEM_PORTS")
mx bpftool -j map show > /tmp/vb-maps.json 2>/dev/null

# Rules: MEM_RULES on one session-direction, each on a source /32 and a
# destination port (two generations stay compiled: live and spare).
mx "$VTAPCTL" flow add session b port p0 dir out >/dev/null
m0=$(mem)
for i in $(seq 1 "$MEM_RULES"); do
	mx "$VTAPCTL" rule add session b num $i dir out accept proto udp \
		src 203.0.113.$((i % 256))/32 dport $((1000 + i)) >/dev/null
done
m1=$(mem)
mem_b[rule]=$(per "$m0" "$m1" "$MEM_RULES")
echo "memory, bytes per object (kernel slab percpu vmalloc kmalloc): session ${mem_b[session]}," \
	"namespace ${mem_b[netns]}, port ${mem_b[port]}, rule ${mem_b[rule]}"
ip netns del "$NS_MEM"
fi

# ---- results -------------------------------------------------------------
{
	echo "count $COUNT"; echo "rounds $ROUNDS"; echo "tcp_secs $TCP_SECS"
	echo "col_stack $COL_STACK"
	cat "$RAW"
	part memory && for o in session netns port rule; do echo "mem $o ${mem_b[$o]}"; done
	echo "guard ${guard_pps[udp]:-0} ${guard_pps[gre]:-0}"
	echo "mem_n $MEM_SESSIONS 1 $MEM_PORTS $MEM_RULES"
} | python3 -c '
import json, sys
r = {"pps": {}, "tcp": {}, "mem": {}}
for l in sys.stdin:
    f = l.split()
    if f[0] in ("pps", "tcp", "pps1500", "tap64", "tap1500"):
        # per round, in round order: "KIND CASE ROUND A B"
        keys = ("mbit_s", "copies_s") if f[0] == "tcp" else ("vm_pps", "mirrored_pps")
        r.setdefault(f[0], {})
        c = r[f[0]].setdefault(f[1], {keys[0]: [], keys[1]: []})
        c[keys[0]].append(float(f[3]))
        c[keys[1]].append(float(f[4]) if len(f) > 4 else 0.0)
    elif f[0] == "mem":
        r["mem"][f[1]] = dict(zip(("kernel", "slab", "percpu", "vmalloc", "kmalloc"),
                                  map(int, f[2:])))
    elif f[0] == "guard":
        r["guard"] = {"udp_pps": float(f[1]), "gre_pps": float(f[2])}
    elif f[0] == "mem_n":
        r["mem_n"] = dict(zip(("session", "netns", "port", "rule"), map(int, f[1:])))
    else:
        r[f[0]] = int(f[1])
try:
    maps = json.load(open("/tmp/vb-maps.json"))
except (OSError, ValueError):
    maps = []
r["maps"] = {m["name"]: {k: m.get(k) for k in
                         ("type", "bytes_key", "bytes_value", "max_entries", "bytes_memlock")}
             for m in maps if "name" in m}
print(json.dumps(r, indent=1))' > "${VTAP_OUT:-/tmp}/guest.json"
echo "results: ${VTAP_OUT:-/tmp}/guest.json"
