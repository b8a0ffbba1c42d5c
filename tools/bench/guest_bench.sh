#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# guest_bench.sh: run inside the test VM (tools/vm/run, vtap.ko loaded).
# The VM's throughput and the mirrored packets per second, side by side in
# one boot, so that the ratios hold (absolute numbers under TCG mean little):
#   off       no mirroring
#   nomatch   vtap flow with a rule that matches nothing
#   inline    vtap mirroring 100%, copies sent from the VM's path
#   deferred  the same with deferred=1 (per-CPU queue + tasklet)
#   mirred    the kernel's own: tc matchall + mirred egress mirror -> erspan
# Load: the kernel's pktgen on vm1's eth0 (a veth; its peer vnet1 in hv is
# the monitored port), 64-byte UDP frames.  ROUNDS runs per case.
#
#   vm1 eth0 ==veth==> hv vnet1 (192.0.2.254)     hv ul0 ==veth==> col ul1
set -uo pipefail
TOP=${VTAP_TOP:?}
VTAPCTL=$TOP/build/vtapctl
COUNT=${COUNT:-200000}
ROUNDS=${ROUNDS:-3}
pre=vb$$
NS_VM=$pre-vm NS_HV=$pre-hv NS_COL=$pre-col
hx() { nsenter --net=/run/netns/$NS_HV "$@"; }
cleanup() {
	ip netns del "$NS_VM" 2>/dev/null
	ip netns del "$NS_HV" 2>/dev/null
	ip netns del "$NS_COL" 2>/dev/null
}
trap cleanup EXIT
modprobe -a veth pktgen sch_ingress cls_bpf act_mirred cls_matchall ip_gre 2>/dev/null

ip netns add "$NS_VM"; ip netns add "$NS_HV"; ip netns add "$NS_COL"
ip link add eth0 netns "$NS_VM" type veth peer name vnet1 netns "$NS_HV"
ip link add ul0 netns "$NS_HV" type veth peer name ul1 netns "$NS_COL"
ip -n "$NS_VM" addr add 192.0.2.1/24 dev eth0
ip -n "$NS_HV" addr add 192.0.2.254/24 dev vnet1
ip -n "$NS_HV" addr add 198.51.100.1/24 dev ul0
ip -n "$NS_COL" addr add 198.51.100.2/24 dev ul1
for l in "$NS_VM eth0" "$NS_HV vnet1" "$NS_HV ul0" "$NS_COL ul1"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
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

col_rx() { ip netns exec "$NS_COL" cat /sys/class/net/ul1/statistics/rx_packets; }
run() {	# prints "VM_PPS MIRRORED_PPS"
	local rx0 rx1 res pps usec
	rx0=$(col_rx)
	pg start pgctrl
	sleep 0.3
	rx1=$(col_rx)
	res=$(nsenter --net=/run/netns/$NS_VM cat /proc/net/pktgen/eth0 | grep -A1 '^Result: OK')
	usec=$(echo "$res" | sed -n 's/^Result: OK: \([0-9]*\)(.*/\1/p')
	pps=$(echo "$res" | sed -n 's/^ *\([0-9]*\)pps.*/\1/p')
	echo "$pps $(( (rx1 - rx0) * 1000000 / (usec > 0 ? usec : 1) ))"
}

declare -A vm_pps mir_pps
measure() {	# CASE
	local i out all_vm="" all_mir=""
	for i in $(seq "$ROUNDS"); do
		out=$(run)
		all_vm+="${out% *} "
		all_mir+="${out#* } "
	done
	vm_pps[$1]=$(echo $all_vm | tr ' ' '\n' | sort -n | sed -n "$(( (ROUNDS + 1) / 2 ))p")
	mir_pps[$1]=$(echo $all_mir | tr ' ' '\n' | sort -n | sed -n "$(( (ROUNDS + 1) / 2 ))p")
	printf '%-10s VM %8s pps   mirrored %8s pps   (runs: %s)\n' "$1" "${vm_pps[$1]}" "${mir_pps[$1]}" "$all_vm"
}

echo "pktgen: $COUNT x 64-byte frames from vm1, $ROUNDS runs per case (median)"
measure off

hx "$VTAPCTL" session add b encap erspan2 id 5 remote 198.51.100.2 >/dev/null
hx "$VTAPCTL" port add vnet1 id 1 >/dev/null
hx "$VTAPCTL" flow add session b port vnet1 dir out >/dev/null
hx "$VTAPCTL" rule add session b num 1 dir out accept proto tcp >/dev/null
measure nomatch
hx "$VTAPCTL" rule del session b num 1 dir out >/dev/null
echo 0 > /sys/module/vtap/parameters/deferred
measure inline
echo 1 > /sys/module/vtap/parameters/deferred
measure deferred
echo 0 > /sys/module/vtap/parameters/deferred
hx "$VTAPCTL" -j session show b | python3 -c "import json,sys; s=json.load(sys.stdin)[0]['stats']; print('vtap counters:', {k: v for k, v in s.items() if v})"
hx "$VTAPCTL" port del vnet1 >/dev/null
hx "$VTAPCTL" session del b >/dev/null

hx ip link add es1 type erspan local 198.51.100.1 remote 198.51.100.2 seq key 5 erspan_ver 1 erspan 1
hx ip link set es1 addrgenmode none
hx ip link set es1 up
hx tc qdisc add dev vnet1 clsact
hx tc filter add dev vnet1 ingress matchall action mirred egress mirror dev es1
measure mirred
hx tc qdisc del dev vnet1 clsact

echo
echo "ratios (same boot):"
python3 - "${vm_pps[off]}" "${vm_pps[nomatch]}" "${vm_pps[inline]}" "${vm_pps[deferred]}" \
	"${vm_pps[mirred]}" "${mir_pps[inline]}" "${mir_pps[deferred]}" "${mir_pps[mirred]}" <<'EOF'
import sys
off, nomatch, inline, deferred, mirred, m_in, m_def, m_mir = (float(x or 0) for x in sys.argv[1:])
r = lambda a, b: f"{a / b:.2f}" if b else "n/a"
print(f"  VM throughput, rule matching nothing / off:   {r(nomatch, off)}  (target >= 0.98)")
print(f"  VM throughput, vtap inline 100% / off:        {r(inline, off)}  (target >= 0.85)")
print(f"  VM throughput, vtap deferred 100% / off:      {r(deferred, off)}")
print(f"  VM throughput, kernel mirred 100% / off:      {r(mirred, off)}")
print(f"  mirrored pps, vtap inline / kernel mirred:    {r(m_in, m_mir)}  (target >= 1.5)")
print(f"  mirrored pps, vtap deferred / kernel mirred:  {r(m_def, m_mir)}")
EOF
