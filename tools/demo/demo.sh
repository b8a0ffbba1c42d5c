#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: runs inside the test VM (tools/vm/run loaded vtap.ko).
#
# Two VMs on one hypervisor, vm1 on a veth and vm2 on a tap (tapvm), talk
# across the hypervisor's bridge (ping both ways, a UDP datagram, a TCP
# exchange).  vtap mirrors their traffic to a collector namespace reached
# over a separate underlay, in each of its encapsulations:
#   session "ids": ERSPAN III, both VMs' ports, both directions, over IPv4, id 7
#   session "dlp": VXLAN, what vm2 sends, over IPv6, VNI 8 (what a cloud's
#                  traffic-mirroring target expects)
#   session "nta": GRE-TEB with key 9, what vm1 receives, over IPv4
# Then it shows what arrived, per session, port and direction, with the
# first frames decoded (selftests/lib/vtapcap.py), vtap's own counters, and
# leaves the collector's capture for Wireshark in $VTAP_OUT/collector.pcap
# (build/demo/collector.pcap on the host with `make demo`).
set -uo pipefail
TOP=${VTAP_TOP:?}
VTAPCTL=$TOP/build/vtapctl
. "$TOP/selftests/lib/topology.sh"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }
hv() { in_ns "$NS_HV" "$VTAPCTL" "$@"; }
trap topo_down EXIT
modprobe -a veth bridge tun sch_ingress cls_bpf 2>/dev/null

say "vtapctl info (kernel $(uname -r))"
"$VTAPCTL" info || die "vtap.ko is not loaded"

say "the hypervisor: two VMs, a bridge, an underlay to the collector"
topo_up || die "cannot build the topology"
sed -n '/^#  ns vm1/,/^#  *2001:db8:100::1/p' "$TOP/selftests/lib/topology.sh" | sed 's/^#//'

say "sessions in the hypervisor's namespace: ERSPAN III, VXLAN and GRE to the collector"
hv session add ids encap erspan3 remote "$COL_UL4" local "$HV_UL4" id 7 hwid 5 gra 100ns &&
hv session add dlp encap vxlan remote "$COL_UL6" local "$HV_UL6" vni 8 &&
hv session add nta encap gre remote "$COL_UL4" local "$HV_UL4" key 9 ||
	die "session add failed"
hv session show

say "ports (the VMs' vNICs) and flows"
hv port add vnet1 vm 6f1c2a3e-0000-4000-8000-000000000001 id 11 &&
hv port add tap2 vm 6f1c2a3e-0000-4000-8000-000000000002 id 12 &&
hv flow add session ids port vnet1 dir both &&
hv flow add session ids port tap2 dir both &&
hv flow add session dlp port tap2 dir out &&
hv flow add session nta port vnet1 dir in || die "port/flow add failed"
hv port show

say "the collector listens on its uplink; the VMs talk"
out=${VTAP_OUT:-$TOPO_RUN}
pcap=$TOPO_RUN/collector.pcap
cap_start col "$NS_COL" ul1 "$pcap" && cap_wait col || die "no capture"
# vtap's own collector terminates the three streams into pcapng (one
# interface per VM port or session, ERSPAN III timestamps) and counts
# losses where a sequence number allows; it stops on SIGINT (or after
# 120 s), printing its summary.
nsenter --net="/run/netns/$NS_COL" "$VTAPCTL" collect write "$TOPO_RUN/collector.pcapng" \
	duration 120 </dev/null >"$TOPO_RUN/collect.out" 2>&1 &
collector=$!
sleep 1
in_nsx "$NS_VM1" ping -c 3 -i 0.2 "$VM2_IP4"
in_nsx "$NS_VM2" ping -c 3 -i 0.2 "$VM1_IP6"
if command -v ncat >/dev/null; then
	echo "UDP: vm1 -> vm2:9000, TCP: vm1 -> vm2:8080"
	ip netns exec "$NS_VM2" timeout 10 ncat -u -l -p 9000 --recv-only >/dev/null &
	udp=$!
	ip netns exec "$NS_VM2" timeout 10 ncat -l -p 8080 -c 'echo "hello from vm2"' &
	tcp=$!
	sleep 1
	echo "a datagram for vm2" | in_nsx "$NS_VM1" ncat -u -w 1 --send-only "$VM2_IP4" 9000
	echo "hello from vm1" | in_nsx "$NS_VM1" ncat -w 2 "$VM2_IP4" 8080
	wait $tcp
	kill $udp 2>/dev/null
	wait $udp 2>/dev/null
else
	echo "(ncat not installed: pings only)"
fi
sleep 0.5
cap_stop col
kill -INT $collector 2>/dev/null
wait $collector 2>/dev/null

say "what arrived at the collector"
python3 "$TOP/selftests/lib/vtapcap.py" summary "$pcap" --frames 4 \
	--vm "vnet1 (vm1)=$VM1_MAC" --vm "tap2 (vm2)=$VM2_MAC" \
	--port "11=vnet1 (vm1)" --port "12=tap2 (vm2)"

say "vtapctl collect: the same stream, terminated into pcapng"
cat "$TOPO_RUN/collect.out"

say "vtap's counters"
hv stats

if [ -n "${VTAP_OUT:-}" ]; then
	cp "$pcap" "$out/collector.pcap"
	cp "$TOPO_RUN/collector.pcapng" "$out/collector.pcapng" 2>/dev/null
	say "captures: $out/collector.pcap (the mirror streams), $out/collector.pcapng (terminated by vtapctl collect); open them in Wireshark"
fi
