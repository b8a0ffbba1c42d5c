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
	t "deferred-$mode: sessions and flows: ${SETS[$mode]//|/, }" sets_add "${SETS[$mode]}"
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
