#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vtap's XDP program at the VM's port (`port add/set DEV xdp on`): it mirrors
# what the VM sends before the kernel builds the frame's skb, through
# bpf_vtap_mirror_xdp(); TC mirrors what XDP leaves to it.  mirror_xdp.sh runs
# mirror.sh's matrix with it; this script checks what is XDP's own:
#  - tap (native XDP in tun_build_skb()): TCP and UDP frames whose checksum
#    the VM left to the device (virtio_net_hdr NEEDS_CSUM) are mirrored with
#    the checksum the wire carries; complete and wrong checksums as written;
#    one copy each, in order, and XDP ran for each
#  - GSO frames on the same tap (tun's generic XDP): segment copies exact,
#    sliced copies one per frame, the VM gets each frame unchanged
#  - veth: a VM's UDP and TCP through its socket API (checksums left to the
#    veth), IPv4 and IPv6: one copy per datagram, every TCP and UDP copy
#    with a right checksum; SCTP (CRC32c left to the device) goes to TC
#  - native XDP on a veth takes GSO away from its peer, the VM's end, while
#    it is on (veth_fix_features()): said, and restored by `xdp off`
#  - `port set DEV xdp off` detaches it and TC mirrors everything; `on` again
#  - a device without native XDP: `port add DEV xdp on` fails, says why,
#    and changes nothing; `port del` detaches the XDP program
#  - no kernel warning
. "$(dirname "$0")/../lib.sh"
. "$VTAP_TOP/selftests/lib/topology.sh"

modprobe -a veth sch_ingress cls_bpf tun bridge dummy sctp 2>/dev/null
OUT=${VTAP_OUT:-/tmp}/xdp
mkdir -p "$OUT"
DP="/usr/bin/python3 $VTAP_TOP/selftests/lib/datapath.py"
trap 'topo_down; cleanup_netns' EXIT

hv() { "$VTAPCTL" -n "$NS_HV" "$@"; }
st() {	# SESSION COUNTER
	hv -j session show "$1" | json_get "d[0]['stats']['$2']"
}
xdp_id() {	# DEV: the id of the XDP program on DEV in hv (empty if none)
	ip -n "$NS_HV" -j link show "$1" | jq -r '.[0].xdp.prog.id // empty'
}
xdp_mode() {	# DEV: 1 native, 2 generic (XDP_ATTACHED_*), empty if none
	ip -n "$NS_HV" -j link show "$1" | jq -r '.[0].xdp.mode // empty'
}
xdp_runs() {	# DEV: how often the XDP program on DEV ran
	local id
	id=$(xdp_id "$1")
	[ -n "$id" ] || { echo 0; return; }
	bpftool -j prog show id "$id" | jq -r '.run_cnt // 0'
}
xdp_on() {	# DEV: vtap's XDP program is on DEV, native, and port show says so
	local name
	[ "$(xdp_mode "$1")" = 1 ] || { echo "$1: no native XDP program"; return 1; }
	name=$(bpftool -j prog show id "$(xdp_id "$1")" | jq -r .name)
	[ "$name" = vtap_xdp ] || { echo "$1: XDP program $name"; return 1; }
	hv port show "$1" | grep -qw xdp || { echo "port show $1 does not say xdp"; return 1; }
}
xdp_off() {	# DEV
	[ -z "$(xdp_id "$1")" ] || { echo "$1 still has XDP program $(xdp_id "$1")"; return 1; }
	! hv port show "$1" 2>/dev/null | grep -qw xdp || { echo "port show $1 says xdp"; return 1; }
}
gso_of() {	# NS DEV: the VM end's tcp-segmentation-offload
	ip netns exec "$1" ethtool -k "$2" | awk '/^tcp-segmentation-offload:/ { print $2 }'
}
dmesg_mark() { echo "vtap-xdp: $1" >/dev/kmsg; }
dmesg_clean_since() {
	local out
	out=$(dmesg | sed -n "/vtap-xdp: $1/,\$p" |
		grep -E 'WARNING|BUG|Call Trace|suspicious RCU|skb_checksum_help' | head -5)
	[ -z "$out" ] || { echo "$out"; return 1; }
}

sysctl -qw kernel.bpf_stats_enabled=1
dmesg_mark start
t "topology up" topo_up
t "vtapctl info lists the xdp feature" sh -c "'$VTAPCTL' -n $NS_HV info | grep -qw xdp"

# ---- tap: native XDP, checksums left to the device ----------------------------
t "a vhost-net-like tap (vnet header, offloads) on the bridge: port add tapg xdp on" \
	sh -c "nsenter --net=/run/netns/$NS_HV $DP tap-create tapg &&
	       ip -n $NS_HV link set tapg master br0 up &&
	       $VTAPCTL -n $NS_HV port add tapg id 30 xdp on"
t "tapg: vtap_xdp attached, native; port show says xdp" xdp_on tapg
t "session xc (GRE key 310), flow out on tapg" \
	sh -c "$VTAPCTL -n $NS_HV session add xc encap gre key 310 remote $COL_UL4 &&
	       $VTAPCTL -n $NS_HV flow add session xc port tapg dir out"
# Room for the largest frame's copy, uncut.
ip -n "$NS_HV" link set ul0 mtu 9000
ip -n "$NS_COL" link set ul1 mtu 9000
runs0=$(xdp_runs tapg)
cap_start col "$NS_COL" ul1 "$OUT/csum-col.pcap"
cap_wait col
t "48 TCP and UDP frames written to tapg (checksum left to the device, complete, wrong)" \
	in_ns "$NS_HV" $DP csum-send tapg 02:00:00:00:03:01 "$VM1_MAC" "$OUT/csum-sent.pcap"
sleep 0.5
t "capture complete" cap_stop col
t "one copy of each, in order, with the checksum the wire carries" \
	$DP csum-check "$OUT/csum-sent.pcap" "$OUT/csum-col.pcap" 310
t "vtap_xdp ran for each frame" expect_ge "XDP runs on tapg" $(($(xdp_runs tapg) - runs0)) 48
t "session xc: 48 copies sent" expect_eq sent "$(st xc sent)" 48
hv session del xc >/dev/null

# ---- tap: GSO frames (tun's generic XDP), as datapath.sh on TC --------------
t "sessions gseg (segments), gslice (gso slice), flows on tapg" \
	sh -c "$VTAPCTL -n $NS_HV session add gseg encap gre key 301 remote $COL_UL4 &&
	       $VTAPCTL -n $NS_HV session add gslice encap gre key 302 remote $COL_UL4 gso slice &&
	       $VTAPCTL -n $NS_HV flow add session gseg port tapg dir out &&
	       $VTAPCTL -n $NS_HV flow add session gslice port tapg dir out"
cap_start col "$NS_COL" ul1 "$OUT/gso-col.pcap"
cap_start vm "$NS_VM1" eth0 "$OUT/gso-vm.pcap"
cap_wait col vm
t "8 GSO TCP frames written to tapg" \
	in_ns "$NS_HV" $DP gso-send tapg 02:00:00:00:03:01 "$VM1_MAC" "$OUT/gso-sent.pcap"
sleep 1
t "captures complete" cap_stop col vm
t "GSO with XDP on: vm1 got every frame unchanged; segment copies exact, one sliced copy per frame" \
	$DP gso-check "$OUT/gso-sent.pcap" "$OUT/gso-vm.pcap" "$OUT/gso-col.pcap" 301 302
hv session del gseg >/dev/null
hv session del gslice >/dev/null
ip -n "$NS_HV" link set ul0 mtu 1500
ip -n "$NS_COL" link set ul1 mtu 1500
t "port del tapg: the XDP program goes with it" sh -c "$VTAPCTL -n $NS_HV port del tapg"
t "tapg: no XDP program left" xdp_off tapg

# ---- veth: a VM's sockets --------------------------------------------------
gso_before=$(gso_of "$NS_VM1" eth0)
t "port add vnet1 xdp on" hv port add vnet1 id 11 xdp on
t "vnet1: vtap_xdp attached, native" xdp_on vnet1
t "the VM's end of the veth has no GSO while XDP is on (veth_fix_features)" \
	expect_eq "vm1 eth0 tcp-segmentation-offload" "$(gso_of "$NS_VM1" eth0)" off
t "session xv (GRE key 320), flow out on vnet1" \
	sh -c "$VTAPCTL -n $NS_HV session add xv encap gre key 320 remote $COL_UL4 &&
	       $VTAPCTL -n $NS_HV flow add session xv port vnet1 dir out"
blast() {	# DST COUNT SIZE: UDP datagrams to port 9
	in_ns "$NS_VM1" /usr/bin/python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[2])):
	s.sendto(b'x' * int(sys.argv[3]), (sys.argv[1], 9))" "$@"
}
blast_all() {
	local d n
	for d in "$VM2_IP4" "$VM2_IP6"; do
		for n in 1 200 1400; do
			blast "$d" 10 "$n" || return 1
		done
	done
}
sink() {	# PORT: a TCP sink in vm2
	in_ns "$NS_VM2" $DP sink "$1" "$OUT/sink-$1" >/dev/null 2>&1 &
	busywait 20000 test -e "$OUT/sink-$1"
}
t "a TCP sink in vm2" sink 5001
runs0=$(xdp_runs vnet1)
cap_start col "$NS_COL" ul1 "$OUT/veth-col.pcap"
cap_start vm "$NS_VM2" eth0 "$OUT/veth-vm.pcap"
cap_wait col vm
t "vm1: 10 UDP datagrams each of 1, 200 and 1400 bytes, IPv4 and IPv6" blast_all
secs=$(in_ns "$NS_VM1" $DP tcp-send "$VM2_IP4" 5001 100000 1000)
t "vm1: 100 kB over TCP with MSS 1000 (in $secs s)" test -n "$secs"
if [ -d /proc/sys/net/sctp ]; then
	in_ns "$NS_VM1" $DP sctp-init "$VM2_IP4"
fi
sleep 0.5
t "captures complete" cap_stop col vm
csum_valid() {
	local out
	out=$($DP csum-valid "$OUT/veth-col.pcap" 320) || return 1
	read -r udp tcp <<<"$out"
	echo "$udp copies of UDP, $tcp of TCP"
}
udp='' tcp=''
t "every TCP and UDP copy has a right checksum" csum_valid
t "one copy per UDP datagram" expect_eq "UDP copies" "$udp" 60
t "TCP copies" expect_ge "TCP copies" "${tcp:-0}" 100
t "vtap_xdp ran for vm1's frames" expect_ge "XDP runs on vnet1" $(($(xdp_runs vnet1) - runs0)) 60
if [ -d /proc/sys/net/sctp ]; then
	t "SCTP copies (left to TC): CRC32c right" \
		$DP sctp-check "$OUT/veth-col.pcap" 320 "$OUT/veth-vm.pcap" "$VM1_MAC"
fi

# ---- xdp off and on, live ----------------------------------------------------
t "port set vnet1 xdp off" hv port set vnet1 xdp off
t "vnet1: no XDP program, port show says no xdp" xdp_off vnet1
t "the VM's end of the veth has its GSO back" \
	expect_eq "vm1 eth0 tcp-segmentation-offload" "$(gso_of "$NS_VM1" eth0)" "$gso_before"
sent0=$(st xv sent)
t "vm1: 20 UDP datagrams with XDP off" blast "$VM2_IP4" 20 100
sleep 0.3
t "TC alone mirrors them" expect_eq "copies" $(($(st xv sent) - sent0)) 20
t "port set vnet1 xdp on" hv port set vnet1 xdp on
t "vnet1: vtap_xdp attached again" xdp_on vnet1
sent0=$(st xv sent)
runs0=$(xdp_runs vnet1)
t "vm1: 20 UDP datagrams with XDP on again" blast "$VM2_IP4" 20 100
sleep 0.3
t "XDP mirrors them, once each" expect_eq "copies" $(($(st xv sent) - sent0)) 20
t "vtap_xdp ran for them" expect_ge "XDP runs on vnet1" $(($(xdp_runs vnet1) - runs0)) 20
stale_xdp() {	# detached behind vtapctl's back: port show says stale
	ip -n "$NS_HV" link set dev vnet1 xdpdrv off || return 1
	hv port show vnet1 | grep -qw stale || { hv port show vnet1; return 1; }
	[ "$(hv -j port show vnet1 | json_get "d[0]['stale']")" = True ] ||
		[ "$(hv -j port show vnet1 | jq -r '.[0].stale')" = true ]
}
t "XDP detached behind vtapctl's back: port show says stale" stale_xdp
t "port set vnet1 xdp on repairs it" hv port set vnet1 xdp on
not_stale() {
	xdp_on vnet1 && ! hv port show vnet1 | grep -qw stale
}
t "vnet1: vtap_xdp attached, not stale" not_stale
bad_value() {
	local out
	out=$(hv port set vnet1 xdp maybe 2>&1) && return 1
	echo "$out"
	grep -q "xdp: 'maybe' is not on or off" <<<"$out" && xdp_on vnet1
}
t "port set vnet1 xdp maybe: refused, XDP stays on" bad_value

# ---- no native XDP --------------------------------------------------------------
ip -n "$NS_HV" link add dm0 type dummy
ip -n "$NS_HV" link set dm0 up
out=$(hv port add dm0 xdp on 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
t "port add dm0 xdp on (a dummy: no native XDP) fails" test "$rc" -ne 0
t "... and says why" sh -c "echo '$out' | grep -q 'no native XDP'"
t "... and changes nothing: not a port, no filter, no XDP program" \
	sh -c "! $VTAPCTL -n $NS_HV port show dm0 >/dev/null 2>&1 &&
	       [ -z \"\$(tc -n $NS_HV filter show dev dm0 ingress 2>/dev/null)\" ] &&
	       [ -z \"\$(ip -n $NS_HV -j link show dm0 | jq -r '.[0].xdp.prog.id // empty')\" ]"
t "port del vnet1: the XDP program goes with it" hv port del vnet1
t "vnet1: no XDP program left" xdp_off vnet1

# ---- vtap.conf: vm ... xdp on|off ----------------------------------------------
hv session del xv >/dev/null
conf() {	# XDP: vnet1's VM with xdp XDP
	printf '%s\n' "session ca encap gre key 330 remote $COL_UL4" \
		"vm v1 dev vnet1 id 11 xdp $1" "    flow session ca dir out" >"$OUT/xdp.conf"
}
conf on
t "apply: vm v1 with xdp on adds vnet1 with vtap's XDP program" \
	sh -c "$VTAPCTL -n $NS_HV apply $OUT/xdp.conf | grep -q 'port vnet1 (vm v1, id 11): added'"
t "vnet1: vtap_xdp attached, native" xdp_on vnet1
conf off
t "apply: xdp off updates the port" \
	sh -c "$VTAPCTL -n $NS_HV apply $OUT/xdp.conf | grep -q 'port vnet1 (vm v1, id 11): updated'"
port_stays() {
	hv port show vnet1 >/dev/null && xdp_off vnet1
}
t "vnet1: XDP detached, the port stays" port_stays
conf on
t "apply: xdp on again" \
	sh -c "$VTAPCTL -n $NS_HV apply $OUT/xdp.conf | grep -q 'port vnet1 (vm v1, id 11): updated'"
t "vnet1: vtap_xdp attached again" xdp_on vnet1
t "apply once more: no change" \
	sh -c "$VTAPCTL -n $NS_HV apply $OUT/xdp.conf | grep -q '^no change'"
t "port del vnet1" hv port del vnet1
t "no kernel warning" dmesg_clean_since start
finish
