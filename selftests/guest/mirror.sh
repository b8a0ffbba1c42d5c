#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vtap end to end: VM traffic mirrored by vtap.ko to a collector, checked
# frame by frame against the VMs' own captures (selftests/lib/vtapcap.py).
#
#   vm1 eth0 <-veth-> vnet1 (port id 11) --+
#   vm2 eth0 <-tapvm-> tap2 (port id 12) --+-- br0     hv: ul0 <-veth-> col: ul1
#   sessions in hv: remote 198.51.100.2 / 2001:db8:100::2, local the hv's address
#
# - every encapsulation (GRE with key, ERSPAN II, ERSPAN III, VXLAN), direction (out,
#   in, both) and underlay (IPv4, IPv6) on both the veth and the tap port: each
#   frame the VM sent/received arrives once, byte-identical, in order (copies
#   made on two CPUs may cross within vtapcap's CROSS_WINDOW, said); key,
#   session id, index, D bit, hwid, gra, T, timestamps; sequence numbers from 0
#   rising by one; the session's counters equal what arrived
# - the kernel's own decapsulators (gretap with and without key, erspan and
#   ip6erspan v1/v2 with and without seq, ip6gretap, vxlan with a fixed VNI
#   over IPv4 and IPv6 and external) in the collector namespace deliver the
#   VM's frames
# - up to 7 sessions on one port and direction, one session on two ports,
#   deleting one session (mid-traffic) leaves the others working
# - the VMs' own traffic is the same with mirroring on and off
# - loop guard: the underlay itself a port, copies are not mirrored again
#   (drop_loop counts them; no copy of a copy reaches the collector)
# - tshark decodes every copy with the fields this test reads
. "$(dirname "$0")/../lib.sh"
. "$VTAP_TOP/selftests/lib/mirror.sh"
trap 'mirror_save "${VTAP_MIRROR_NAME:-mirror}"; mirror_cleanup' EXIT
modprobe -a veth bridge tun ip_gre ip6_gre vxlan sch_ingress cls_bpf

if ! "$VTAPCTL" port help >/dev/null 2>&1 || ! "$VTAPCTL" flow help >/dev/null 2>&1; then
	skip "vtap mirror tests" "vtapctl has no port/flow commands yet"
	finish
fi

[ "${VTAP_PORT_XDP:-}" = on ] && sysctl -qw kernel.bpf_stats_enabled=1
t "topology: two VMs (veth, tap), a bridge, an underlay to the collector" topo_up
t "ports: vnet1 (veth, id 11) and tap2 (tap, id 12)" vtap_ports_add vnet1 tap2

# ERSPAN III: hwid and both granularities.
e3opts() { [ "$1" = 4 ] && echo "hwid 5 gra 100us" || echo "hwid 42 gra 100ns"; }

# The sets of a matrix round, "ENCAP FAM DIR" each, all at once: at most 6
# sessions per port and direction (VTAP_PORT_MAX_SESSIONS is 8).
matrix_setup() {
	local set enc fam dir
	for set in "$@"; do
		read -r enc fam dir <<<"$set"
		# shellcheck disable=SC2046
		vtap_set "$enc" "$fam" "$dir" $([ "$enc" = erspan3 ] && e3opts "$fam") || return 1
	done
}

# Round A: IPv4 out, IPv6 in, IPv4 both; and the kernel's decapsulators in
# col (gretap, ip6gretap, erspan v1/v2, ip6erspan v1/v2) for six sessions of
# vnet1, each captured: they must deliver vm1's frames.
A_SETS=("gre 4 out" "erspan2 4 out" "erspan3 4 out" "gre 6 in" "erspan2 6 in" "erspan3 6 in"
	"gre 4 both" "erspan2 4 both" "erspan3 4 both")
DECAPS=("gre-4-out-vnet1 gretap out" "gre-6-in-vnet1 ip6gretap in"
	"dk-e2-4 erspan out" "dk-e2-6 ip6erspan in"
	"e3-4-both-vnet1 erspan both" "e3-6-in-vnet1 ip6erspan in")
decap_setup() {
	local d name type dir id args fam lcl rmt
	# ERSPAN II sessions of one port only (the matrix's serve both ports).
	vtap_session dk-e2-4 erspan2 4 && vtap_flow dk-e2-4 vnet1 out index || return 1
	vtap_session dk-e2-6 erspan2 6 && vtap_flow dk-e2-6 vnet1 in index || return 1
	# oseq, not seq: a receiving tunnel with iseq drops a copy whose
	# sequence number is below the last one's, and the copies of a "both"
	# session, made on two CPUs, can cross on the underlay (vtapcap checks
	# the numbers itself).  ERSPAN needs the flag on one side only.
	for d in "${DECAPS[@]}"; do
		read -r name type dir <<<"$d"
		id=${SESSION_ID[$name]}
		case $name in
		gre*) args=(key "$id") ;;
		dk-e2*) args=(oseq key "$id" erspan_ver 1 erspan 1) ;;
		e3*) args=(oseq key "$id" erspan_ver 2 erspan_dir ingress erspan_hwid 1) ;;
		esac
		case $type in ip6*) fam=6 ;; *) fam=4 ;; esac
		lcl=$(ul_dst "$fam") rmt=$(ul_src "$fam")
		ip -n "$NS_COL" link add "dk$id" type "$type" local "$lcl" remote "$rmt" \
			"${args[@]}" && ip -n "$NS_COL" link set "dk$id" up &&
		round_capture "dk$id" "$NS_COL" "dk$id" || return 1
		spec "mirror decap-$type-$name plain dk$id.pcap vm vm1 dir $dir min 20"
	done
}
round_begin matrix-a
t "matrix-a: sessions and flows: ${A_SETS[*]}" vctl_batch matrix_setup "${A_SETS[@]}"
t "matrix-a: decapsulators in col for six sessions, captured" decap_setup
t "matrix-a: pings vm1 <-> vm2, IPv4 and IPv6, no loss" round_traffic 5
# mirror_xdp.sh: XDP, not TC, made the copies of what the VMs sent.
xdp_ran() {
	local p id runs
	for p in vnet1 tap2; do
		"$VTAPCTL" -n "$NS_HV" port show "$p" | grep -qw xdp || { echo "$p: no xdp"; return 1; }
		id=$(ip -n "$NS_HV" -j link show "$p" | json_get "d[0]['xdp']['prog']['id']")
		runs=$(bpftool -j prog show id "$id" | json_get "d['run_cnt']")
		echo "$p: XDP program $id ran $runs times"
		[ "$runs" -ge 20 ] || return 1
	done
}
if [ "${VTAP_PORT_XDP:-}" = on ]; then
	t "matrix-a: vtap's XDP program ran on vnet1 and tap2 (native, run_cnt)" xdp_ran
fi
round_end_checks matrix-a

# Round V: VXLAN, and the kernel's decapsulators that round A does not
# cover.  VXLAN sessions of every direction over both underlays (each VNI
# its session id), checked at the collector; and in col: a vxlan device with
# a fixed VNI for an IPv4 session (VNI = its id), one over IPv6 (VNI 5000),
# an "external" (metadata) vxlan device on UDP port 4790 for a session of
# tap2 in both directions (VNI 77); a gretap without key, a gretap with key
# and an ip6gretap without key that check sequence numbers (iseq), and an
# erspan (v1) and an ip6erspan (v2) that do too (seq: one port and
# direction each, so the numbers rise in arrival order).  Each device must
# deliver the VM's frames, byte-identical and in order.
V_SETS=("vxlan 4 out" "vxlan 6 in" "vxlan 6 both")
vdecap() {	# NAME TYPE PORT DIR DEV-ARGS...: capture a decapsulator in col
	local name=$1 type=$2 port=$3 dir=$4 dev=vd${SESSION_ID[$1]}
	shift 4
	ip -n "$NS_COL" link add "$dev" type "$type" "$@" &&
	ip -n "$NS_COL" link set "$dev" up &&
	round_capture "$dev" "$NS_COL" "$dev" || return 1
	spec "mirror decap-$type-$name plain $dev.pcap vm ${PORT_VM[$port]} dir $dir min 20"
}
vdecap_setup() {
	local id
	vtap_session vx-k4 vxlan 4 && vtap_flow vx-k4 vnet1 out || return 1
	vdecap vx-k4 vxlan vnet1 out id "${SESSION_ID[vx-k4]}" dstport 4789 \
		local "$(ul_dst 4)" || return 1
	vtap_session vx-k6 vxlan 6 vni 5000 && vtap_flow vx-k6 vnet1 in || return 1
	vdecap vx-k6 vxlan vnet1 in id 5000 dstport 4789 local "$(ul_dst 6)" || return 1
	vtap_session vx-ext vxlan 4 vni 77 dstport 4790 && vtap_flow vx-ext tap2 both || return 1
	vdecap vx-ext vxlan tap2 both external dstport 4790 || return 1
	# GRE-TEB without a key: the session and the device have none.
	SID=$NEXT_ID NEXT_ID=$((NEXT_ID + 1)) SESSION_ID[g-nokey]=$SID
	vctl session add g-nokey encap gre remote "$(ul_dst 4)" local "$(ul_src 4)" || return 1
	spec "session g-nokey encap gre src $(ul_src 4) dst $(ul_dst 4) seq0 0 complete yes"
	vtap_flow g-nokey vnet1 out || return 1
	vdecap g-nokey gretap vnet1 out local "$(ul_dst 4)" remote "$(ul_src 4)" || return 1
	# GRE-TEB with a key into a gretap that checks sequence numbers (iseq),
	# and without a key over IPv6 into an ip6gretap that does too.
	vtap_session g-seq gre 4 && vtap_flow g-seq vnet1 out || return 1
	vdecap g-seq gretap vnet1 out local "$(ul_dst 4)" remote "$(ul_src 4)" \
		key "${SESSION_ID[g-seq]}" iseq || return 1
	SID=$NEXT_ID NEXT_ID=$((NEXT_ID + 1)) SESSION_ID[g6-nokey]=$SID
	vctl session add g6-nokey encap gre remote "$(ul_dst 6)" local "$(ul_src 6)" || return 1
	spec "session g6-nokey encap gre src $(ul_src 6) dst $(ul_dst 6) seq0 0 complete yes"
	vtap_flow g6-nokey vnet1 in || return 1
	vdecap g6-nokey ip6gretap vnet1 in local "$(ul_dst 6)" remote "$(ul_src 6)" iseq || return 1
	vtap_session dk-e2s erspan2 4 && vtap_flow dk-e2s vnet1 out index || return 1
	id=${SESSION_ID[dk-e2s]}
	vdecap dk-e2s erspan vnet1 out local "$(ul_dst 4)" remote "$(ul_src 4)" \
		seq key "$id" erspan_ver 1 erspan 1 || return 1
	vtap_session dk-e3s erspan3 6 && vtap_flow dk-e3s vnet1 in || return 1
	id=${SESSION_ID[dk-e3s]}
	vdecap dk-e3s ip6erspan vnet1 in local "$(ul_dst 6)" remote "$(ul_src 6)" \
		seq key "$id" erspan_ver 2 erspan_dir egress erspan_hwid 1 || return 1
}
# The loop guard for VXLAN: ul0, which carries every copy, is a port with a
# flow to the VXLAN session vloop (also on tap2): vtap's own UDP output is
# not mirrored again (drop_loop), the collector gets no copy of a copy.
vloop_setup() {
	vctl port add ul0 id 98 &&
	vtap_session vloop vxlan 6 &&
	vtap_flow vloop tap2 out &&
	vctl flow add session vloop port ul0 dir both &&
	sed -i '/^session vloop /s/$/ drops drop_loop/' "$SPEC"
}
if vctl session help 2>&1 | grep -q vxlan; then
	round_begin matrix-v
	t "matrix-v: VXLAN sessions and flows: ${V_SETS[*]}" vctl_batch matrix_setup "${V_SETS[@]}"
	t "matrix-v: decapsulators in col: vxlan (VNI, IPv6, external), gretap/ip6gretap with iseq and without key, erspan/ip6erspan with seq" \
		vdecap_setup
	t "matrix-v: loop guard: VXLAN session vloop on tap2 and on the underlay ul0 (port id 98)" \
		vloop_setup
	t "matrix-v: pings vm1 <-> vm2, IPv4 and IPv6, no loss" round_traffic 5
	t "matrix-v: ul0 no longer a port" vctl port del ul0
	round_end_checks matrix-v
	t "loop guard: vloop counted the copies leaving through ul0 as drop_loop" \
		expect_ge drop_loop "$(json_get '[s for s in d if s["name"] == "vloop"][0]["stats"]["drop_loop"]' \
			<"$R/stats.json")" 20
else
	skip "matrix-v: VXLAN sessions" "vtapctl has no encap vxlan"
fi

# The VMs' own traffic is the same with mirroring off (no ports: measured
# here) and on (round B's 15 sessions on both ports: measured there): no
# loss, the same packets and bytes at vm2.
SAME_N=50
burst() {	# prints: pings received, rx_packets and rx_bytes of vm2's eth0
	local p0 b0 p1 b1 out
	p0=$(dev_stat "$NS_VM2" eth0 rx_packets) b0=$(dev_stat "$NS_VM2" eth0 rx_bytes)
	out=$(in_nsx "$NS_VM1" ping -q -c $SAME_N -i 0.01 -W 2 "$VM2_IP4") || { echo "$out"; return 1; }
	p1=$(dev_stat "$NS_VM2" eth0 rx_packets) b1=$(dev_stat "$NS_VM2" eth0 rx_bytes)
	echo "$(sed -n 's/.* \([0-9]*\) received.*/\1/p' <<<"$out") $((p1 - p0)) $((b1 - b0))"
}
burst_off() {
	vctl port del vnet1 && vctl port del tap2 || return 1
	OFF=$(burst) || { echo "$OFF"; return 1; }
	echo "mirroring off: $OFF"
	expect_eq "pings received" "${OFF%% *}" "$SAME_N" &&
	vtap_ports_add vnet1 tap2
}
t "mirroring off: $SAME_N pings at 10 ms, none lost" burst_off

# Round B: IPv4 in, IPv6 out, IPv6 both.  Its traffic: pings, the burst with
# every session on, pings; one session (ERSPAN II on both ports) is deleted
# half-way: the others keep every frame, its copies stop.
# And the loop guard: ul0, which carries all the copies, is itself a port
# with a flow to session "loop" (also on vnet1).  vtap must not mirror its
# own output: drop_loop counts it, the collector gets no copy of a copy.
B_SETS=("gre 4 in" "erspan2 4 in" "erspan3 4 in" "gre 6 out" "erspan2 6 out" "erspan3 6 out"
	"gre 6 both" "erspan2 6 both" "erspan3 6 both")
loop_setup() {
	vctl port add ul0 id 99 &&
	vtap_session loop gre 4 &&
	vtap_flow loop vnet1 both &&
	vctl flow add session loop port ul0 dir both &&
	sed -i '/^session loop /s/$/ drops drop_loop/' "$SPEC"
}
b_traffic() {
	local tdel rc=0
	pings 3 || rc=1
	ON=$(burst) || rc=1
	sleep "$ROUND_LAG"
	tdel=$(now)
	vctl session del e2-6-both || rc=1
	sleep "$ROUND_LAG"
	pings 3 || rc=1
	# e2-6-both ended at tdel: no counters (it is gone), no copies after.
	sed -i -e "s/^\(mirror e2-6-both@[a-z0-9]* .*\) min [0-9]*/\1 min 12 until $tdel/" \
	       -e "/^session e2-6-both /s/ complete yes//" "$SPEC"
	return $rc
}
# Round B's ERSPAN III sessions also carry the platform sub-header (Platf ID
# 7 over IPv4, 3 over IPv6): no kernel decapsulator reads those.
e3opts() { [ "$1" = 4 ] && echo "hwid 5 gra 100us subheader 7" || echo "hwid 42 gra 100ns subheader 3"; }
round_begin matrix-b
t "matrix-b: sessions and flows (ERSPAN III with sub-headers 7, 3): ${B_SETS[*]}" \
	vctl_batch matrix_setup "${B_SETS[@]}"
t "matrix-b: loop guard: session loop on vnet1 and on the underlay ul0 (port id 99)" loop_setup
t "matrix-b: pings, $SAME_N-ping burst, delete e2-6-both, pings; no loss" round_traffic 3 b_traffic
t "VM traffic identical with mirroring off and on (pings, packets, bytes at vm2)" \
	expect_eq "mirroring on vs off" "$ON" "$OFF"
t "matrix-b: e2-6-both deleted while its two ports kept mirroring" \
	expect_eq "vtapctl session show e2-6-both" "$(status_of vctl session show e2-6-both)" 5
t "matrix-b: ul0 no longer a port" vctl port del ul0
round_end_checks matrix-b
t "loop guard: the copies leaving through ul0 were counted as drop_loop" \
	expect_ge drop_loop "$(json_get '[s for s in d if s["name"] == "loop"][0]["stats"]["drop_loop"]' \
		<"$R/stats.json")" 100

# Wireshark's reading of everything the collector got.
tshark_all() {
	vtapcap merge "$MIRROR_WORK/all-copies.pcap" "$MIRROR_WORK"/*/col.pcap &&
	vtapcap tshark "$MIRROR_WORK/all-copies.pcap" --results "$MIRROR_WORK/tshark.results"
}
t "tshark decodes every copy (GRE, ERSPAN II, III) with the fields vtapcap reads" tshark_all
finish
