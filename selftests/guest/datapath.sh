#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The data path's promise under hostile and unusual traffic: a VM's frame
# passes unchanged whatever happens to its copy, nothing a VM sends can hurt
# the host, and the copies are what the session says.  One check per defect
# that a review found (issue "Never disturb the VM"), each through the real
# kernel path:
#  - GSO frames written to a tap with a virtio_net_hdr (linear, short):
#    delivered unchanged with or without `gso slice`; copies exact
#  - frames that are not GSO on that tap (linear: copied whole), TCP and UDP
#    up to 1474 bytes with the checksum left to the device, complete or
#    wrong: each copy what the wire carries
#  - snaplen 14..80 with and without `gso slice` on TCP and UDP, IPv4 and
#    IPv6: no warning, no copy lost to the checksum
#  - SCTP copies carry the right CRC32c
#  - the rate budget is charged per copy sent (TCP with MSS 100)
#  - a VM's GRE-TEB to the collector's address is mirrored; 1000 sessions and
#    a GRE flood cost the VMs nothing; copies that come back through a veth
#    are recognised (drop_loop), never mirrored again
#  - IPv4 and IPv6 copies to a collector covered by IPsec leave as ESP
#  - an unresolved neighbour: copies counted as drop_xmit, not as sent
#  - a local IPv6 address removed: the session stops sending from it
#  - copies are no input device's: an `iifname` netfilter rule never matches
#  - copies are untracked by conntrack, but a firewall's drop applies to them
#  - frames whose shape hides what the rules need: mirrored and counted
#    (unparsed), or skipped with `unparsed skip`
#  - a flow or rule left by a deleted session feeds no later session with
#    the same id (raw netlink delete; rmmod and insmod with pinned rules)
#  - a monitored device moved to another namespace feeds none of its sessions
#  - port add/del and flow changes while a VM pings at 200/s: nothing lost
#  - AF_PACKET transmit on a monitored device (egress under
#    rcu_read_lock_bh() only), and the kfunc under BPF_PROG_TEST_RUN (BHs
#    enabled): refused there, counted as a port drop
#  - rate 1 pps with burst 281475 (a 64-bit overflow once)
#  - the owner of a user namespace: a session's whole lifecycle
. "$(dirname "$0")/../lib.sh"
. "$VTAP_TOP/selftests/lib/topology.sh"

modprobe -a veth sch_ingress cls_bpf tun bridge sctp nf_tables esp4 esp6 2>/dev/null
OUT=${VTAP_OUT:-/tmp}/datapath
mkdir -p "$OUT"
DP="/usr/bin/python3 $VTAP_TOP/selftests/lib/datapath.py"
KO=${VTAP_MODULE:-$VTAP_TOP/kmod/vtap.ko}
trap 'topo_down; cleanup_netns' EXIT
# The debug kernel (KASAN, lockdep, kmemleak) runs 5-6 times slower: the same
# paths with less traffic there.
if [[ $(uname -r) == *vtapdbg* ]]; then
	TCP_BYTES=30000 RATE_BYTES=150000 GRE_FLOOD=500 CHURN_PINGS=1000 CHURN_ROUNDS=4
else
	TCP_BYTES=200000 RATE_BYTES=600000 GRE_FLOOD=3000 CHURN_PINGS=2000 CHURN_ROUNDS=8
fi

hv() { "$VTAPCTL" -n "$NS_HV" "$@"; }
st() {	# SESSION COUNTER
	hv -j session show "$1" | json_get "d[0]['stats']['$2']"
}
port_stat() {	# PORT DIR COUNTER
	hv -j port show "$1" | json_get "d[0]['stats']['$2']['$3']"
}
blast() {	# NS DST COUNT [SIZE]: UDP datagrams to port 9
	in_ns "$1" /usr/bin/python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[2])):
	s.sendto(b'd' * int(sys.argv[3]), (sys.argv[1], 9))" "$2" "$3" "${4:-100}"
}
pings() {	# N: vm1 -> vm2, IPv4 and IPv6
	in_nsx "$NS_VM1" ping -q -c "$1" -i 0.05 -W 2 "$VM2_IP4" >/dev/null &&
	in_nsx "$NS_VM1" ping -q -c "$1" -i 0.05 -W 2 "$VM2_IP6" >/dev/null
}
sess() {	# NAME ENCAP-ARGS...: a session and its flow on vnet1, dir out
	local name=$1
	shift
	hv session add "$name" "$@" && hv flow add session "$name" port vnet1 dir out
}
within() {	# WHAT GOT WANT PERCENT [PERCENT-BELOW]
	python3 -c "import sys; g, w, p = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
lo = float(sys.argv[5]) if len(sys.argv) > 5 else p
ok = w * (1 - lo / 100) <= g <= w * (1 + p / 100)
print('%s: %d, expected %d -%g%% +%g%%' % (sys.argv[1], g, w, lo, p)); sys.exit(0 if ok else 1)" "$@"
}
# ESP with AES-GCM in a scratch namespace (the debug kernel has no IPsec).
have_esp() {
	local ns rc
	netns_new ns || return 1
	ip -n "$ns" xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 1 mode transport \
		aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128 2>/dev/null
	rc=$?
	ip netns del "$ns"
	return $rc
}
dmesg_mark() { echo "vtap-datapath: $1" >/dev/kmsg; }
dmesg_clean_since() {	# MARK: no kernel warning after it
	local out
	out=$(dmesg | sed -n "/vtap-datapath: $1/,\$p" |
		grep -E 'WARNING|BUG|Call Trace|suspicious RCU|skb_checksum_help' | head -5)
	[ -z "$out" ] || { echo "$out"; return 1; }
}

t "topology up" topo_up
t "ports vnet1 (vm1, veth) and tap2 (vm2, tap)" \
	sh -c "$VTAPCTL -n $NS_HV port add vnet1 id 11 &&
	       $VTAPCTL -n $NS_HV port add tap2 id 12"

# ---- GSO frames with a virtio_net_hdr ---------------------------------------
# A vhost-net vNIC: a tap with IFF_VNET_HDR and offloads, frames written with
# GSO metadata (tun builds small ones linear, in one buffer).  The copy must
# not touch the frame's skb_shared_info: with `gso slice` vtap once reset
# the frame's own GSO state, and the bridge then dropped it as oversize.
ip -n "$NS_HV" link set ul0 mtu 9000
ip -n "$NS_COL" link set ul1 mtu 9000
t "a vhost-net-like tap with a vnet header and offloads on the bridge" \
	sh -c "nsenter --net=/run/netns/$NS_HV $DP tap-create tapg &&
	       ip -n $NS_HV link set tapg master br0 up &&
	       $VTAPCTL -n $NS_HV port add tapg id 30"
t "sessions: gseg (segments), gslice (gso slice), flows on tapg" \
	sh -c "$VTAPCTL -n $NS_HV session add gseg encap gre key 301 remote $COL_UL4 &&
	       $VTAPCTL -n $NS_HV session add gslice encap gre key 302 remote $COL_UL4 gso slice &&
	       $VTAPCTL -n $NS_HV flow add session gseg port tapg dir out &&
	       $VTAPCTL -n $NS_HV flow add session gslice port tapg dir out"
cap_start col "$NS_COL" ul1 "$OUT/gso-col.pcap"
cap_start vm "$NS_VM1" eth0 "$OUT/gso-vm.pcap"
cap_wait col vm
t "8 GSO TCP frames (IPv4, IPv6; linear, one short) written to tapg" \
	in_ns "$NS_HV" $DP gso-send tapg 02:00:00:00:03:01 "$VM1_MAC" "$OUT/gso-sent.pcap"
sleep 1
t "captures complete" cap_stop col vm
t "GSO: vm1 got every frame unchanged; segment copies exact, sliced copies one per frame" \
	$DP gso-check "$OUT/gso-sent.pcap" "$OUT/gso-vm.pcap" "$OUT/gso-col.pcap" 301 302
hv session del gseg >/dev/null
hv session del gslice >/dev/null

# ---- frames that are not GSO on the same tap: the whole-frame copy --------
# tun builds each in one linear buffer: vtap copies it whole (up to a page)
# rather than cloning it and copying its head; the copy keeps the checksum
# the VM left to the device, completed as the wire would carry it.
t "session xc (GRE key 310), flow out on tapg" \
	sh -c "$VTAPCTL -n $NS_HV session add xc encap gre key 310 remote $COL_UL4 &&
	       $VTAPCTL -n $NS_HV flow add session xc port tapg dir out"
cap_start col "$NS_COL" ul1 "$OUT/csum-col.pcap"
cap_wait col
t "48 TCP and UDP frames of 42..1474 bytes written to tapg (checksum left to the device, complete, wrong)" \
	in_ns "$NS_HV" $DP csum-send tapg 02:00:00:00:03:01 "$VM1_MAC" "$OUT/csum-sent.pcap"
sleep 0.5
t "capture complete" cap_stop col
t "one copy of each, in order, with the checksum the wire carries" \
	$DP csum-check "$OUT/csum-sent.pcap" "$OUT/csum-col.pcap" 310
t "session xc: 48 copies sent" expect_eq sent "$(st xc sent)" 48
hv session del xc >/dev/null
ip -n "$NS_HV" link set ul0 mtu 1500
ip -n "$NS_COL" link set ul1 mtu 1500

# ---- snaplen before the checksum field ------------------------------------
# A copy cut before the L4 checksum (snaplen 40 on IPv4 TCP, 64 on IPv6) once
# made skb_checksum_help() warn (and dump the VM's data), and the copies were
# lost as drop_nomem.
dmesg_mark snaplen
sink() {	# PORT: a TCP sink in vm2
	in_ns "$NS_VM2" $DP sink "$1" "$OUT/sink-$1" >/dev/null 2>&1 &
	busywait 20000 test -e "$OUT/sink-$1"
}
t "a TCP sink in vm2" sink 5001
snap_round() {	# slice|segment
	local g=$1 len rc=0 n
	for len in 14 20 34 40 54 64 74 80; do
		sess "sn-$g-$len" encap erspan2 id $((len + (${#g} == 5 ? 0 : 100))) \
			remote "$COL_UL4" snaplen $len gso "$g" >/dev/null || return 1
	done
	in_ns "$NS_VM1" $DP tcp-send "$VM2_IP4" 5001 $TCP_BYTES 1400 >/dev/null || rc=1
	in_ns "$NS_VM1" $DP tcp-send "$VM2_IP6" 5001 $TCP_BYTES 1400 >/dev/null || rc=1
	blast "$NS_VM1" "$VM2_IP4" 20 300 && blast "$NS_VM1" "$VM2_IP6" 20 300 || rc=1
	sleep 0.5
	# The eight sessions' counters from one dump (a process costs about
	# a second on the debug kernel).
	local name nomem sliced seen=0
	while read -r name nomem sliced; do
		seen=$((seen + 1))
		[ "$nomem" = 0 ] || { echo "$name: drop_nomem $nomem"; rc=1; }
		[ "$sliced" -ge 40 ] || { echo "$name: sliced $sliced"; rc=1; }
	done <<<"$(hv -j session show | jq -r --arg p "sn-$g-" \
		'.[] | select(.name | startswith($p)) | "\(.name) \(.stats.drop_nomem) \(.stats.sliced)"')"
	[ "$seen" = 8 ] || { echo "$seen sessions sn-$g-*, not 8"; rc=1; }
	for len in 14 20 34 40 54 64 74 80; do
		hv session del "sn-$g-$len" >/dev/null
	done
	return $rc
}
t "snaplen 14..80, gso slice: TCP and UDP, IPv4 and IPv6 copies, none lost" snap_round slice
t "snaplen 14..80, gso segment: likewise" snap_round segment
t "no kernel warning (skb_checksum_help)" dmesg_clean_since snaplen

# ---- SCTP: CRC32c, not an Internet checksum -------------------------------
if [ -d /proc/sys/net/sctp ]; then
	t "session sctp" sess sctp encap gre key 303 remote "$COL_UL4"
	cap_start col "$NS_COL" ul1 "$OUT/sctp-col.pcap"
	cap_start vm "$NS_VM2" eth0 "$OUT/sctp-vm.pcap"
	cap_wait col vm
	in_ns "$NS_VM1" $DP sctp-init "$VM2_IP4"
	in_ns "$NS_VM1" $DP sctp-init "$VM2_IP6"
	sleep 0.5
	t "captures complete" cap_stop col vm
	t "SCTP copies: CRC32c right, identical to what vm2 received" \
		$DP sctp-check "$OUT/sctp-col.pcap" 303 "$OUT/sctp-vm.pcap" "$VM1_MAC"
	hv session del sctp >/dev/null
else
	skip "SCTP copies" "this kernel has none"
fi

# ---- the rate budget, per copy ---------------------------------------------
# TCP with MSS 100: GSO super-packets of hundreds of segments.  The budget
# once charged one per super-packet and sent all its segments.  As in
# broker.sh, the budget is far below what vm1 offers (about 150 segments a
# second on the debug kernel under load, thousands on Debian's) and the
# burst is two seconds' worth: a token bucket forfeits credit past its
# burst, and with 100/s and a burst of 10 a busy machine's scheduling
# stalls and the sender's uneven pace once left it 13% short; at 50/s with
# a burst of 100 once 10.4% short (928 of 1036, the debug kernel on a
# machine with seven busy processes for two CPUs).  So the bound above is
# tight (the defect sends thousands over it) and the one below, which only
# load can reach, 25%: charging twice per copy would still fail it.
t "session rate: 50 pps, burst 100" sess rate encap gre key 304 remote "$COL_UL4" rate 50 burst 100
secs=$(in_ns "$NS_VM1" $DP tcp-send "$VM2_IP4" 5001 $RATE_BYTES 100)
t "vm1 sent $RATE_BYTES bytes over TCP with MSS 100 (in $secs s)" test -n "$secs"
sleep 0.3
t "rate budget held per copy: at most 10% over 50/s, at most 25% under" \
	within "copies sent" "$(st rate sent)" "$(python3 -c "print(50 * $secs + 100)")" 10 25
t "gso super-packets seen" expect_ge gso "$(st rate gso)" 1
hv session del rate >/dev/null

# ---- GRE from a VM, 1000 sessions, and vtap's own copies --------------------
ip -n "$NS_VM1" route add 198.51.100.0/24 dev eth0
ip -n "$NS_VM1" neigh replace "$COL_UL4" lladdr "$VM2_MAC" dev eth0 nud permanent
t "session grev" sess grev encap gre key 305 remote "$COL_UL4"
cap_start col "$NS_COL" ul1 "$OUT/gre-col.pcap"
cap_wait col
t "vm1 sends 20 GRE-TEB packets to the collector's address" \
	in_ns "$NS_VM1" $DP gre-send "$COL_UL4" 20
sleep 0.5
t "capture complete" cap_stop col
t "a VM's GRE-TEB to the collector is mirrored like any frame (20 copies of GRE)" \
	expect_eq "copies of GRE" "$($DP inner-gre "$OUT/gre-col.pcap" 305)" 20
t "no drop_loop for it" expect_eq drop_loop "$(st grev drop_loop)" 0
t "1000 more sessions" in_ns "$NS_HV" $DP nl-new 1000 bulk "$COL_UL4"
gre_flood() {
	local rc=0
	in_nsx "$NS_VM2" ping -q -c 50 -i 0.02 -W 2 "$VM1_IP4" >"$OUT/flood-ping.txt" 2>&1 &
	in_ns "$NS_VM1" $DP gre-send "$COL_UL4" $GRE_FLOOD || rc=1
	wait $! || { cat "$OUT/flood-ping.txt"; rc=1; }
	return $rc
}
t "a GRE flood with 1000 sessions: vm2's pings to vm1 meanwhile all answered" gre_flood
t "and every GRE packet mirrored" expect_ge sent "$(st grev sent)" $((GRE_FLOOD + 20))
t "1000 sessions deleted" in_ns "$NS_HV" $DP nl-del-many 1000 bulk
hv session del grev >/dev/null

# A collector VM on this host, reached through a veth into the bridge: the
# copies come back asynchronously (through the veth's backlog) to tap2's
# egress, which the same session monitors.
loop_setup() {
	ip -n "$NS_HV" link add lp0 type veth peer name lp1 &&
	ip -n "$NS_HV" link set lp1 master br0 up &&
	ip -n "$NS_HV" addr add 203.0.113.1/24 dev lp0 &&
	ip -n "$NS_HV" link set lp0 up &&
	ip -n "$NS_HV" neigh replace 203.0.113.2 lladdr "$VM2_MAC" dev lp0 nud permanent &&
	ip -n "$NS_VM2" addr add 203.0.113.2/24 dev eth0 &&
	hv session add loop encap gre key 306 remote 203.0.113.2 local 203.0.113.1 &&
	hv flow add session loop port tap2 dir in &&
	hv flow add session loop port vnet1 dir out
}
t "session loop to 203.0.113.2 (vm2) through a veth into the bridge; flows tap2 in, vnet1 out" loop_setup
cap_start vm "$NS_VM2" eth0 "$OUT/loop-vm.pcap"
cap_wait vm
in_nsx "$NS_VM1" ping -q -c 5 -i 0.1 -W 2 "$VM2_IP4" >/dev/null
sleep 0.5
t "capture complete" cap_stop vm
t "10 copies reached vm2 (5 pings out of vnet1, 5 into tap2), none of a copy" \
	sh -c "[ \$($DP copies $OUT/loop-vm.pcap 306) = 10 ] && [ \$($DP inner-gre $OUT/loop-vm.pcap 306) = 0 ]"
t "each copy recognised on tap2 as vtap's own (drop_loop)" expect_ge drop_loop "$(st loop drop_loop)" 10
hv session del loop >/dev/null
ip -n "$NS_HV" link del lp0

# ---- IPsec -------------------------------------------------------------------
if have_esp; then
	KEYHEX=0x0102030405060708090a0b0c0d0e0f1011121314
	xfrm_pair() {	# SRC DST SPI
		ip -n "$NS_HV" xfrm state add src "$1" dst "$2" proto esp spi "$3" mode transport \
			aead 'rfc4106(gcm(aes))' $KEYHEX 128 &&
		ip -n "$NS_HV" xfrm policy add src "$1" dst "$2" proto gre dir out \
			tmpl src "$1" dst "$2" proto esp mode transport
	}
	xfrm_both() {
		xfrm_pair "$HV_UL4" "$COL_UL4" 0x1001 && xfrm_pair "$HV_UL6" "$COL_UL6" 0x1002
	}
	t "IPsec (ESP, transport) for GRE from hv to the collector, IPv4 and IPv6" xfrm_both
	t "sessions ipsec4, ipsec6" sh -c "$VTAPCTL -n $NS_HV session add ipsec4 encap gre key 307 remote $COL_UL4 &&
		$VTAPCTL -n $NS_HV session add ipsec6 encap gre key 308 remote $COL_UL6 &&
		$VTAPCTL -n $NS_HV flow add session ipsec4 port vnet1 dir out &&
		$VTAPCTL -n $NS_HV flow add session ipsec6 port vnet1 dir out"
	cap_start col "$NS_COL" ul1 "$OUT/ipsec-col.pcap"
	cap_wait col
	pings 5
	sleep 0.3
	t "capture complete" cap_stop col
	t "the underlay carries ESP only: no GRE in clear, over IPv4 or IPv6" \
		$DP esp-check "$OUT/ipsec-col.pcap" 10
	t "and the sessions counted them sent" \
		sh -c "[ $(st ipsec4 sent) -ge 10 ] && [ $(st ipsec6 sent) -ge 10 ]"
	ip -n "$NS_HV" xfrm policy flush
	ip -n "$NS_HV" xfrm state flush
	hv session del ipsec4 >/dev/null
	hv session del ipsec6 >/dev/null
else
	skip "IPsec (ESP)" "this kernel has none"
fi

# ---- an unresolved neighbour ---------------------------------------------------
t "session noneigh to 198.51.100.99 (nobody answers ARP)" sess noneigh encap gre key 309 remote 198.51.100.99
in_nsx "$NS_VM1" ping -q -c 5 -i 0.1 -W 2 "$VM2_IP4" >/dev/null
t "copies not counted as sent while the neighbour is unresolved" expect_eq sent "$(st noneigh sent)" 0
t "but as drop_xmit" expect_ge drop_xmit "$(st noneigh drop_xmit)" 5
hv session del noneigh >/dev/null

# ---- a local IPv6 address removed ------------------------------------------------
ip -n "$NS_HV" addr add 2001:db8:100::5/64 dev ul0 nodad
t "session loc6 from 2001:db8:100::5" sess loc6 encap gre key 310 remote "$COL_UL6" local 2001:db8:100::5
pings 3
s1=$(st loc6 sent)
t "copies sent from it" expect_ge sent "$s1" 6
ip -n "$NS_HV" addr del 2001:db8:100::5/64 dev ul0
pings 3
t "address removed: no copy sent from it" expect_eq sent "$(st loc6 sent)" "$s1"
t "counted as drop_noroute" expect_ge drop_noroute "$(st loc6 drop_noroute)" 6
hv session del loc6 >/dev/null

# ---- copies have no input device --------------------------------------------------
if nft list tables >/dev/null 2>&1; then
	nft_setup() {
		in_ns "$NS_HV" nft -f - <<-'EOF'
	table inet vtt {
		chain post {
			type filter hook postrouting priority 0;
			iifname "vnet1" counter
		}
	}
	EOF
	}
	t "nft: a postrouting rule counting iifname vnet1" nft_setup
	t "session nft" sess nft encap gre key 311 remote "$COL_UL4"
	pings 3
	t "copies mirrored" expect_ge sent "$(st nft sent)" 6
	t "the iifname rule matched no copy" \
		sh -c "nsenter --net=/run/netns/$NS_HV nft list chain inet vtt post | grep -q 'counter packets 0 bytes 0'"
	in_ns "$NS_HV" nft delete table inet vtt
	hv session del nft >/dev/null
else
	skip "nftables" "this kernel has none"
fi

# ---- copies and conntrack: untracked, but still filtered ----------------------------
# A hypervisor's stateful firewall (conntrack loaded) must not track copies: they
# belong to no connection, and every copy of every session would share one GRE
# entry.  The firewall's rules still see them: a drop on OUTPUT drops copies,
# counted as drop_xmit.
if nft list tables >/dev/null 2>&1 && modprobe nf_conntrack 2>/dev/null; then
	nft_ct_setup() {
		in_ns "$NS_HV" nft -f - <<-'EOF'
	table inet vtct {
		chain out {
			type filter hook output priority 0;
			meta l4proto gre ct state untracked counter
			meta l4proto gre ct state new,established,related,invalid counter
		}
	}
	EOF
	}
	nft_ct_counter() {	# N: the packets of the chain's Nth rule's counter
		in_ns "$NS_HV" nft -j list chain inet vtct out | /usr/bin/python3 -c "
import json, sys
rules = [o['rule'] for o in json.load(sys.stdin)['nftables'] if 'rule' in o]
print([e['counter']['packets'] for e in rules[int(sys.argv[1])]['expr'] if 'counter' in e][0])" "$1"
	}
	t "nft: a stateful firewall counting GRE by conntrack state" nft_ct_setup
	t "session ct" sess ct encap gre key 312 remote "$COL_UL4"
	pings 5
	t "copies mirrored" expect_ge sent "$(st ct sent)" 10
	t "every copy untracked by conntrack" expect_ge untracked "$(nft_ct_counter 0)" 10
	t "no copy tracked" expect_eq tracked "$(nft_ct_counter 1)" 0
	t "nft: drop GRE to the collector on output" \
		in_ns "$NS_HV" nft add rule inet vtct out ip daddr "$COL_UL4" meta l4proto gre drop
	sent0=$(st ct sent)
	pings 3
	t "the firewall's drop applies to copies" expect_eq sent "$(st ct sent)" "$sent0"
	t "counted as drop_xmit" expect_ge drop_xmit "$(st ct drop_xmit)" 6
	in_ns "$NS_HV" nft delete table inet vtct
	hv session del ct >/dev/null
else
	skip "conntrack" "this kernel has no nftables or conntrack"
fi

# ---- frames whose shape hides what the rules need ---------------------------------
t "session shape, rule 10: accept proto udp dport 53" \
	sh -c "$VTAPCTL -n $NS_HV session add shape encap gre key 312 remote $COL_UL4 &&
	       $VTAPCTL -n $NS_HV flow add session shape port vnet1 dir out &&
	       $VTAPCTL -n $NS_HV rule add session shape num 10 dir out accept proto udp dport 53"
shapes_round() {	# TAG
	cap_start col "$NS_COL" ul1 "$OUT/shapes-$1.pcap" && cap_wait col &&
	in_ns "$NS_VM1" $DP shapes eth0 "$VM1_MAC" "$VM2_MAC" >/dev/null &&
	sleep 0.3 && cap_stop col
}
t "unparsed mirror (default): four VLAN tags, nine IPv6 extension headers, a later fragment" \
	shapes_round mirror
t "each mirrored, with the control (udp 53), not udp 54: 4 copies" \
	expect_eq copies "$($DP copies "$OUT/shapes-mirror.pcap" 312)" 4
t "counted as unparsed: 3" expect_eq unparsed "$(st shape unparsed)" 3
t "session set shape unparsed skip" hv session set shape unparsed skip
t "show says so" sh -c "$VTAPCTL -n $NS_HV session show shape | grep -q 'unparsed skip'"
t "unparsed skip: the same frames" shapes_round skip
t "only the control mirrored: 1 copy" expect_eq copies "$($DP copies "$OUT/shapes-skip.pcap" 312)" 1
t "still counted as unparsed: 6" expect_eq unparsed "$(st shape unparsed)" 6
hv session del shape >/dev/null

# ---- stale flows ------------------------------------------------------------------
stale_flow() {
	local d0 d1
	sess c1 encap gre key 313 id 500 remote "$COL_UL4" &&
	in_ns "$NS_HV" $DP nl-del c1 &&
	hv session add c2 encap gre key 314 id 500 remote "$COL_UL4" || return 1
	d0=$(port_stat vnet1 out dropped)
	in_nsx "$NS_VM1" ping -q -c 3 -i 0.1 -W 2 "$VM2_IP4" >/dev/null || return 1
	d1=$(port_stat vnet1 out dropped)
	expect_eq "c2 matched" "$(st c2 matched)" 0 &&
	expect_eq "vnet1 dropped (stale flow)" $((d1 - d0)) 3 &&
	hv -j port show vnet1 | grep -q '"deleted":true'
}
t "a flow left by a deleted session (raw netlink) feeds not the next session with its id" stale_flow
t "flow add replaces the stale flow; c2 mirrors" \
	sh -c "$VTAPCTL -n $NS_HV flow add session c2 port vnet1 dir out &&
	       ! $VTAPCTL -n $NS_HV -j port show vnet1 | grep -q '\"deleted\":true' &&
	       ip netns exec $NS_VM1 ping -q -c 2 -i 0.1 -W 2 $VM2_IP4 >/dev/null"
t "c2 sent its copies" expect_ge sent "$(st c2 sent)" 2
hv session del c2 >/dev/null

# ---- a monitored device moved to another namespace ---------------------------------
move_setup() {
	netns_new NS_B && netns_new NS_VM3 &&
	ip link add eth0 netns "$NS_VM3" address 02:00:00:00:04:01 type veth peer name vnet3 netns "$NS_HV" &&
	ip -n "$NS_HV" link set vnet3 up && ip -n "$NS_VM3" link set eth0 up &&
	hv port add vnet3 id 40 &&
	hv session add amove encap gre key 318 id 502 remote "$COL_UL4" &&
	hv flow add session amove port vnet3 dir out &&
	nsx "$NS_B" "$VTAPCTL" session add bsess encap gre key 317 id 502 remote 192.0.2.77
}
t "vnet3 monitored in hv (session id 502); namespace B has its own session 502" move_setup
move_check() {
	local i
	for i in 1 2 3; do
		ip -n "$NS_HV" link set vnet3 netns "$NS_B" && ip -n "$NS_B" link set vnet3 up &&
		in_ns "$NS_VM3" $DP pktout eth0 20 ff:ff:ff:ff:ff:ff >/dev/null &&
		ip -n "$NS_B" link set vnet3 netns "$NS_HV" && ip -n "$NS_HV" link set vnet3 up || return 1
	done
	expect_eq "B's session matched" \
		"$(nsx "$NS_B" "$VTAPCTL" -j session show bsess | json_get "d[0]['stats']['matched']")" 0
}
t "vnet3 moved to B (3 times) while it sends: B's session 502 never fed" move_check

# ---- port add/del and flow changes while a VM pings --------------------------------
t "session churn, flows both ways on both ports" \
	sh -c "$VTAPCTL -n $NS_HV session add churn encap gre key 321 remote $COL_UL4"
churn() {
	local i rc=0
	in_nsx "$NS_VM1" ping -q -c $CHURN_PINGS -i 0.005 -W 2 "$VM2_IP4" >"$OUT/churn-ping.txt" 2>&1 &
	for i in $(seq $CHURN_ROUNDS); do
		hv port del tap2 && hv port add tap2 id 12 &&
		hv flow add session churn port tap2 dir both &&
		hv port del vnet1 && hv port add vnet1 id 11 &&
		hv flow add session churn port vnet1 dir both &&
		hv flow del session churn port tap2 || rc=1
	done
	wait $! || rc=1
	cat "$OUT/churn-ping.txt"
	grep -q ' 0% packet loss' "$OUT/churn-ping.txt" && return $rc
	return 1
}
t "$CHURN_PINGS pings at 200/s through $CHURN_ROUNDS rounds of port del/add and flow changes: none lost" churn
hv session del churn >/dev/null

# ---- egress without rcu_read_lock(), and BPF_PROG_TEST_RUN --------------------------
t "session pk, flow vnet1 dir in" \
	sh -c "$VTAPCTL -n $NS_HV session add pk encap gre key 319 remote $COL_UL4 &&
	       $VTAPCTL -n $NS_HV flow add session pk port vnet1 dir in"
t "5 frames out of vnet1 through AF_PACKET (egress under rcu_read_lock_bh)" \
	in_ns "$NS_HV" $DP pktout vnet1 5 "$VM1_MAC"
t "mirrored" expect_ge sent "$(st pk sent)" 5
testrun() {
	local id m0 d0
	hv port add lo id 50 && hv flow add session pk port lo dir out || return 1
	id=$(in_ns "$NS_HV" bpftool -j net show dev lo |
		json_get "[p['id'] for p in d[0]['tc'] if p['kind'] == 'clsact/ingress'][0]") || return 1
	head -c 60 /dev/zero >"$OUT/frame.bin"
	m0=$(st pk matched)
	d0=$(port_stat lo out dropped)
	in_ns "$NS_HV" bpftool prog run id "$id" data_in "$OUT/frame.bin" repeat 1 || return 1
	expect_eq "pk matched (the kfunc refused to run)" "$(st pk matched)" "$m0" &&
	expect_eq "lo's dropped" "$(port_stat lo out dropped)" $((d0 + 1))
}
t "the kfunc under BPF_PROG_TEST_RUN (BHs enabled): refused, a port drop" testrun
hv port del lo >/dev/null
hv session del pk >/dev/null

# ---- rate x burst -------------------------------------------------------------------
t "session ovf: rate 1 pps, burst 281475" sess ovf encap gre key 320 remote "$COL_UL4" rate 1 burst 281475
blast "$NS_VM1" "$VM2_IP4" 100
sleep 0.3
t "the burst holds: 100 copies of 100 frames" expect_eq sent "$(st ovf sent)" 100
hv session del ovf >/dev/null

# ---- the owner of a user namespace ---------------------------------------------------
# An unprivileged user with a user and a network namespace of its own: it
# has CAP_NET_ADMIN over that namespace (sessions), not the bpffs pins or
# bpf(2) (ports, flows, rules).  A session's whole lifecycle must work.
userns() {
	local out
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups unshare -Urn sh -c "
		ip link set lo up
		$VTAPCTL session add u1 encap gre remote 192.0.2.77 >/dev/null || echo 'add failed'
		$VTAPCTL session show u1 >/dev/null || echo 'show failed'
		$VTAPCTL session set u1 ttl 9 >/dev/null || echo 'set failed'
		$VTAPCTL session del u1 || echo 'del failed'
		$VTAPCTL session show u1 >/dev/null 2>&1; echo show-after \$?
		$VTAPCTL port add lo >/dev/null 2>&1; echo port-add \$?" 2>&1)
	echo "$out"
	case $out in *failed*) return 1 ;; esac
	echo "$out" | grep -qx 'show-after 5' && echo "$out" | grep -qx 'port-add 4'
}
t "an unprivileged user's own namespaces: session add, show, set, del; port add exit 4" userns

# ---- rules left in the pinned maps across rmmod --------------------------------------
reload_rules() {
	local p
	hv session add r1 encap gre key 315 id 501 remote "$COL_UL4" &&
	hv rule add session r1 num 1 dir out accept proto tcp || return 1
	for p in vnet1 tap2 tapg vnet3; do hv port del "$p" || return 1; done
	busywait 20000 rmmod vtap || { echo "rmmod failed"; return 1; }
	insmod "$KO" || return 1
	hv session add r2 encap gre key 316 id 501 remote "$COL_UL4" &&
	hv port add vnet1 id 11 && hv flow add session r2 port vnet1 dir out || return 1
	expect_eq "rule show session r2" "$(hv rule show session r2)" "" || return 1
	in_nsx "$NS_VM1" ping -q -c 3 -i 0.1 -W 2 "$VM2_IP4" >/dev/null
	expect_ge "r2 sent (ICMP: r1's tcp rule does not apply)" "$(st r2 sent)" 3
}
t "rules pinned across rmmod/insmod feed not a new session with the same id" reload_rules
t "no kernel warning in the whole test" dmesg_clean_since snaplen
finish
