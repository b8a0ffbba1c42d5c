#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build/tapvm and the mirror tests' topology (selftests/lib/topology.sh) on
# the host, without vtap.ko: tapvm relays frames byte for byte both ways,
# gives the VM's NIC its MAC, exits cleanly on SIGTERM taking both taps with
# it, refuses bad arguments; the topology is quiet (an idle capture has at
# most MLD reports) and its VMs reach each other over IPv4 and IPv6.
. "$(dirname "$0")/../lib.sh"
. "$VTAP_TOP/selftests/lib/topology.sh"
VTAPCAP=$VTAP_TOP/selftests/lib/vtapcap.py
W=$(mktemp -d)
trap 'topo_down; rm -rf "$W"' EXIT

if [ ! -x "$TAPVM" ]; then
	skip "tapvm" "$TAPVM not built (make)"
	finish
fi
if [ ! -c /dev/net/tun ] || ! command -v tcpdump >/dev/null; then
	skip "tapvm" "no /dev/net/tun or tcpdump"
	finish
fi

t "tapvm --help: usage, exit 0" sh -c "'$TAPVM' --help | grep -q 'Usage: tapvm'"
t "tapvm without --vm-dev: exit 2" expect_eq "exit" "$(status_of "$TAPVM" --host-tap x)" 2
t "tapvm --mac of a multicast address: exit 2" \
	expect_eq "exit" "$(status_of "$TAPVM" --host-tap x --vm-dev y --mac 01:00:5e:00:00:01)" 2
t "tapvm with a namespace that does not exist: exit 1, says which" sh -c \
	"out=\$('$TAPVM' --host-ns /nonexistent --host-tap x --vm-dev y 2>&1); [ \$? = 1 ] && echo \"\$out\" | grep -q /nonexistent"

t "topology: vm1 (veth) and vm2 (tap) on a bridge, reachable both ways" topo_up
t "tapvm wrote its pid file" test -s "$TOPO_RUN/tapvm.pid"
t "vm2's NIC has the MAC given" \
	expect_eq "vm2 eth0 MAC" "$(ip -n "$NS_VM2" -br link show eth0 | awk '{print $3}')" "$VM2_MAC"
t "both taps: IFF_TAP, no packet info, no vnet header" sh -c \
	"ip -n '$NS_HV' -d link show tap2 | grep -q 'tun type tap pi off vnet_hdr off persist off' &&
	 ip -n '$NS_VM2' -d link show eth0 | grep -q 'tun type tap pi off vnet_hdr off persist off'"
t "a second tapvm for the same tap fails, saying why" sh -c \
	"out=\$('$TAPVM' --host-ns /run/netns/$NS_HV --host-tap tap2 --vm-ns /run/netns/$NS_VM2 --vm-dev x2 2>&1); [ \$? = 1 ] && echo \"\$out\" | grep -q 'tap2'"

quiet() {
	cap_start idle1 "$NS_VM1" eth0 "$W/idle1.pcap" && cap_start idle2 "$NS_VM2" eth0 "$W/idle2.pcap" &&
	cap_wait idle1 idle2 || return 1
	sleep 1
	cap_stop idle1 idle2 || return 1
	python3 "$VTAPCAP" decode "$W/idle1.pcap" >"$W/idle.txt"
	python3 "$VTAPCAP" decode "$W/idle2.pcap" >>"$W/idle.txt"
	cat "$W/idle.txt"
	# MLD reports may come (they cannot be turned off); nothing else.
	! grep -v 'MLDv2 report' "$W/idle.txt"
}
t "the topology is quiet: no ARP, ND, RS... on either VM's NIC for 1 s" quiet

relay() {
	cap_start vm "$NS_VM2" eth0 "$W/vm2.pcap" && cap_start tap "$NS_HV" tap2 "$W/tap2.pcap" &&
	cap_wait vm tap || return 1
	in_nsx "$NS_VM1" ping -q -c 5 -i 0.02 -s 1400 "$VM2_IP4" &&
	in_nsx "$NS_VM2" ping -q -c 5 -i 0.02 "$VM1_IP6" || return 1
	cap_stop vm tap || return 1
	python3 - "$W/vm2.pcap" "$W/tap2.pcap" "$VTAP_TOP/selftests/lib" <<-'EOF'
	import sys
	sys.path.insert(0, sys.argv[3])
	import vtapcap
	mac = bytes.fromhex("020000000201")
	ok = True
	for d in ("out", "in"):	# each direction in order (they may interleave)
	    a = [p.data for p in vtapcap.read_pcap(sys.argv[1]) if vtapcap.direction_of(p.data, mac) == d]
	    b = [p.data for p in vtapcap.read_pcap(sys.argv[2]) if vtapcap.direction_of(p.data, mac) == d]
	    print("dir %s: %d frames on vm2's NIC, %d on tap2, %s" % (d, len(a), len(b),
	          "identical" if a == b else "DIFFERENT"))
	    ok = ok and a == b and len(a) >= 10
	sys.exit(0 if ok else 1)
	EOF
}
t "frames pass byte for byte both ways (vm2's NIC vs tap2, 1400-byte pings too)" relay

stop() {
	local pid
	pid=$(cat "$TOPO_RUN/tapvm.pid")
	tapvm_stop || return 1
	cat "$TOPO_RUN/tapvm.log"
	grep -q '^tapvm: stopped: vm->host [1-9][0-9]* frames' "$TOPO_RUN/tapvm.log" &&
	! kill -0 "$pid" 2>/dev/null &&
	! ip -n "$NS_HV" link show tap2 2>/dev/null &&
	! ip -n "$NS_VM2" link show eth0 2>/dev/null &&
	[ ! -e "$TOPO_RUN/tapvm.pid" ]
}
t "SIGTERM: tapvm reports what it relayed, exits, both taps and the pid file are gone" stop
back() {
	topo_vm2_restart && in_nsx "$NS_VM1" ping -q -c 2 -i 0.05 -W 2 "$VM2_IP4"
}
t "restarted: vm2 is back on the bridge" back
finish
