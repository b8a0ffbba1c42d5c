#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vtap's deferred transmit (module parameters deferred and queue_len): the
# finished copy is queued to this CPU's inbox (deferred=1) or the next
# online CPU's (deferred=2, an IPI kicks that CPU's tasklet) and sent from
# the tasklet, instead of inline in the VM's TC path.
# - each mode: every frame of both VMs once, byte-identical, in order, with
#   GRE over one underlay family and ERSPAN II/III over the other, both
#   directions (vtapcap.py, the same checks as mirror.sh); counters: sent =
#   arrived, no drops
# - a full queue (queue_len 0) costs every copy, each counted in drop_queue
#   and in the port's dropped counter, and never a VM frame
# - CPU 1 offline and online under traffic (deferred=2): copies resume
# - the VM's device deleted while its copies are queued (KASAN in the debug
#   tier; an iifname netfilter rule never matches a copy)
# - rmmod right after a ping flood with deferred=2: no leak (kmemleak in the
#   debug tier), no warning, and the parameters take back their defaults
#
#   vm1 eth0 <-veth-> vnet1 (port id 11) --+
#   vm2 eth0 <-tapvm-> tap2 (port id 12) --+-- br0     hv: ul0 <-veth-> col: ul1
. "$(dirname "$0")/../lib.sh"
. "$VTAP_TOP/selftests/lib/mirror.sh"
trap 'mirror_save deferred; mirror_cleanup' EXIT
modprobe -a veth bridge tun sch_ingress cls_bpf
PARAM=/sys/module/vtap/parameters

setp() {	# NAME VALUE: set a module parameter, read it back
	echo "$2" >"$PARAM/$1" && expect_eq "$1" "$(cat "$PARAM/$1")" "$2"
}

t "defaults: deferred 0 (inline), queue_len 1024" \
	expect_eq "deferred queue_len" "$(cat $PARAM/deferred) $(cat $PARAM/queue_len)" "0 1024"
t "topology: two VMs (veth, tap), a bridge, an underlay to the collector" topo_up
t "ports: vnet1 (veth, id 11) and tap2 (tap, id 12)" vtap_ports_add vnet1 tap2

# One round per mode; different sessions each time (names carry the set).
declare -A SETS=([1]="gre 4 both|erspan2 6 both|erspan3 6 both"
		 [2]="gre 6 both|erspan2 4 both|erspan3 4 both")
sets_add() {
	local set enc fam dir
	while read -r set; do
		read -r enc fam dir <<<"$set"
		vtap_set "$enc" "$fam" "$dir" || return 1
	done <<<"${1//|/$'\n'}"
}
for mode in 1 2; do
	t "deferred=$mode" setp deferred $mode
	round_begin "deferred-$mode"
	t "deferred-$mode: sessions and flows: ${SETS[$mode]//|/, }" vctl_batch sets_add "${SETS[$mode]}"
	t "deferred-$mode: pings vm1 <-> vm2, IPv4 and IPv6, no loss" round_traffic 5
	round_end_checks "deferred-$mode"
done

# A full queue: every copy dropped and counted, the VM untouched.
port_dropped() {	# PORT: copies its flows could not send, both directions
	vctl -j port show "$1" |
		json_get 'd[0]["stats"]["out"]["dropped"] + d[0]["stats"]["in"]["dropped"]'
}
full_queue() {	# MODE
	local n=20 out st d0 d1 matched
	round_dir "full-$1"
	setp deferred "$1" && setp queue_len 0 &&
	vtap_session "full$1" gre 4 && vtap_flow "full$1" vnet1 both || return 1
	d0=$(port_dropped vnet1) || return 1
	out=$(in_nsx "$NS_VM1" ping -q -c $n -i 0.01 -W 2 "$VM2_IP4") || { echo "$out"; return 1; }
	echo "$out" | tail -n 2
	d1=$(port_dropped vnet1) || return 1
	st=$(vctl -j session show "full$1") || return 1
	echo "$st"
	matched=$(json_get 'd[0]["stats"]["matched"]' <<<"$st")
	expect_ge matched "$matched" $((2 * n)) &&
	expect_eq "drop_queue = matched" "$(json_get 'd[0]["stats"]["drop_queue"]' <<<"$st")" \
		"$matched" &&
	expect_eq sent "$(json_get 'd[0]["stats"]["sent"]' <<<"$st")" 0 &&
	expect_eq "vnet1's dropped counter, increase" $((d1 - d0)) "$matched" &&
	vctl session del "full$1" && setp queue_len 1024
}
for mode in 1 2; do
	t "deferred=$mode, queue_len 0: 20 pings each way, none lost; every copy counted (drop_queue, port dropped)" \
		full_queue $mode
done

# CPU 1 offline and online again, five times, while vm1 pings with
# deferred=2 (CPU 0's copies go to CPU 1's inbox while it is online): copies
# resume each time, and none is stranded in a dead CPU's inbox.
hotplug() {
	local cpu=/sys/devices/system/cpu/cpu1/online i s0 s1 q0 q1 rc=0
	[ -w $cpu ] || { echo "no CPU hotplug here"; return 1; }
	setp deferred 2 && vtap_session hot gre 4 && vtap_flow hot vnet1 both || return 1
	in_nsx "$NS_VM1" ping -q -c 400 -i 0.01 -W 2 "$VM2_IP4" >"$TOPO_RUN/hot-ping" 2>&1 &
	for i in 1 2 3 4 5; do
		echo 0 >$cpu || rc=1
		sleep 0.2
		echo 1 >$cpu || rc=1
		sleep 0.2
	done
	wait $! || { cat "$TOPO_RUN/hot-ping"; rc=1; }
	[ "$(cat $cpu)" = 1 ] || { echo "cpu1 stayed offline"; return 1; }
	sleep 0.5
	s0=$(vctl -j session show hot | json_get 'd[0]["stats"]["sent"]')
	q0=$(vctl -j session show hot | json_get 'd[0]["stats"]["drop_queue"]')
	in_nsx "$NS_VM1" ping -q -c 20 -i 0.02 -W 2 "$VM2_IP4" >/dev/null || rc=1
	sleep 0.5
	s1=$(vctl -j session show hot | json_get 'd[0]["stats"]["sent"]')
	q1=$(vctl -j session show hot | json_get 'd[0]["stats"]["drop_queue"]')
	vctl -j session show hot
	expect_eq "copies of the last 20 pings (both ways)" $((s1 - s0)) 40 &&
	expect_eq "drop_queue since" "$q1" "$q0" && vctl session del hot && return $rc
}
t "deferred=2: CPU 1 offline and online 5 times under traffic; copies resume, none stranded" hotplug

# A VM's device deleted while its copies wait in a queue: a queued copy
# holds no pointer to it (KASAN in the debug tier would see a use after
# free), and no netfilter rule sees it as the copy's input device.
devdel() {	# MODE
	local ns rc=0 nft='' pid
	setp deferred "$1" || return 1
	netns_new ns || return 1
	ip link add eth0 netns "$ns" address 02:00:00:00:09:01 type veth peer name vnet9 netns "$NS_HV" &&
	ip -n "$NS_HV" link set vnet9 up && ip -n "$ns" link set eth0 up &&
	vctl port add vnet9 id 90 && vtap_session "dd$1" gre 4 && vctl flow add session "dd$1" port vnet9 dir out ||
		return 1
	if in_ns "$NS_HV" nft add table inet vtt 2>/dev/null; then
		nft=1
		in_ns "$NS_HV" nft add chain inet vtt post '{ type filter hook postrouting priority 0; }' &&
		in_ns "$NS_HV" nft add rule inet vtt post iifname vnet9 counter || rc=1
	fi
	in_ns "$ns" /usr/bin/python3 "$VTAP_TOP/selftests/lib/datapath.py" pktout eth0 3000 ff:ff:ff:ff:ff:ff \
		>/dev/null 2>&1 &
	pid=$!
	# Delete the device once copies flow (python starts slowly under TCG:
	# a fixed delay once deleted it before the first frame).
	for _ in $(seq 100); do
		[ "$(vctl -j session show "dd$1" | json_get 'd[0]["stats"]["matched"]')" -gt 0 ] && break
		sleep 0.1
	done
	ip -n "$NS_HV" link del vnet9 || rc=1
	wait $pid
	sleep 0.5
	vctl -j session show "dd$1"
	expect_ge "dd$1 sent" "$(vctl -j session show "dd$1" | json_get 'd[0]["stats"]["sent"]')" 1 || rc=1
	if [ -n "$nft" ]; then
		in_ns "$NS_HV" nft list table inet vtt | grep -q 'counter packets 0 ' || { echo "iifname matched"; rc=1; }
		in_ns "$NS_HV" nft delete table inet vtt
	fi
	vctl port del ifindex "$(vctl -j port show | json_get '[p["ifindex"] for p in d if p.get("stale")][0]')" || rc=1
	vctl session del "dd$1" && ip netns del "$ns" && return $rc
}
t "deferred=1: the VM's device deleted while its copies are queued" devdel 1
t "deferred=2: likewise" devdel 2

# Copies queued (deferred=2) by a ping flood, then the ports go and the
# module with them.
flood_unload() {
	local out
	setp deferred 2 && vtap_session flood erspan3 4 && vtap_flow flood vnet1 both &&
	vtap_flow flood tap2 both || return 1
	out=$(in_nsx "$NS_VM1" ping -q -f -c 500 -W 2 "$VM2_IP4") || { echo "$out"; return 1; }
	echo "$out" | tail -n 2
	vctl port del vnet1 && vctl port del tap2 || return 1
	vctl -j session show flood
	expect_ge "flood: sent" "$(vctl -j session show flood | json_get 'd[0]["stats"]["sent"]')" 1000
}
t "deferred=2: a 500-ping flood mirrored on both ports" flood_unload
t "rmmod right after (copies may still be queued)" busywait 60000 rmmod vtap
t "insmod: the parameters are back to their defaults" sh -c \
	"insmod '$VTAP_TOP/kmod/vtap.ko' && [ \"\$(cat $PARAM/deferred) \$(cat $PARAM/queue_len)\" = '0 1024' ]"
t "no kernel warnings" sh -c "! dmesg | grep -E 'WARNING:|BUG:|Oops|refcount_t|Call Trace'"
finish
