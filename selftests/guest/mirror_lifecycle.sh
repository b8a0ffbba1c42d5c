#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vtap mirroring under change, and bad input:
# - bad input (unknown session, duplicate name or id, id out of range, bad or
#   missing address, a device of another namespace, an unprivileged caller...):
#   each refused with a short message naming what is wrong, and its own exit
#   code (vtapctl(8): 2 usage, 4 not permitted, 5 no such object, 6 exists), and
#   `vtapctl -j session show` / `vtapctl -j port show` the same before and after
# - a session deleted while traffic flows (pings every 10 ms): no ping lost
# - the VM's device deleted while mirrored (veth: the VM's end deleted; tap:
#   tapvm stopped): `port show` marks the port stale, `port del ifindex N`
#   removes it, a recreated tap becomes a port again and mirrors
# - rmmod refused while ports exist, clean once they are deleted
# - a namespace torn down with sessions, ports and flows inside; rmmod after
# tools/vm/run fails the test on any oops, WARN or BUG in the kernel log.
#
#   vm1 eth0 <-veth-> vnet1 --+
#   vm2 eth0 <-tapvm-> tap2 --+-- br0     hv: ul0 <-veth-> col: ul1
. "$(dirname "$0")/../lib.sh"
. "$VTAP_TOP/selftests/lib/mirror.sh"
trap mirror_cleanup EXIT
modprobe -a veth bridge tun sch_ingress cls_bpf

if ! "$VTAPCTL" port help >/dev/null 2>&1 || ! "$VTAPCTL" flow help >/dev/null 2>&1; then
	skip "vtap lifecycle tests" "vtapctl has no port/flow commands yet"
	finish
fi

t "topology: two VMs (veth, tap), a bridge, an underlay to the collector" topo_up
t "ports: vnet1 (id 11) and tap2 (id 12)" vtap_ports_add vnet1 tap2
round_dir lifecycle		# for the spec lines vtap_session writes
s1() {
	vtap_session s1 erspan2 4 && vtap_flow s1 vnet1 in
}
t "session s1 (ERSPAN II, id 100) with a flow on vnet1 dir in" s1

# --- bad input -------------------------------------------------------------------
state() {
	vctl -j session show && vctl -j port show
}

# bad WANT WORD CMD...: CMD fails with exit status WANT and a short message
# (one or two lines) that names WORD (a regex, case-insensitive): the
# offending value or object; nothing changed (the state is BAD_STATE, taken
# once before all of these).
bad() {
	local want=$1 word=$2 after rc=0 err
	shift 2
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	after=$(state)
	echo "exit status $rc, stderr: $err"
	expect_eq "exit status" "$rc" "$want" || return 1
	case $(grep -c . <<<"$err") in
	1|2) ;;
	*) echo "want one or two lines on stderr"; return 1 ;;
	esac
	grep -qiE -- "$word" <<<"$err" || { echo "the message does not say '$word'"; return 1; }
	expect_eq "sessions and ports after" "$after" "$BAD_STATE"
}
unpriv() {	# CMD... as root of a new user namespace: no CAP_NET_ADMIN over hv
	in_ns "$NS_HV" unshare -U -r "$VTAPCTL" "$@"
}
C4=$COL_UL4
BAD_STATE=$(state)
t "bad: session del of an unknown session: exit 5" bad 5 nosuch vctl session del nosuch
t "bad: session set of an unknown session: exit 5" bad 5 nosuch vctl session set nosuch ttl 9
t "bad: flow add for an unknown session: exit 5" \
	bad 5 nosuch vctl flow add session nosuch port vnet1 dir in
t "bad: duplicate session name: exit 6" bad 6 'exist|s1' vctl session add s1 encap gre remote "$C4"
t "bad: duplicate session id: exit 6" bad 6 'exist|100' vctl session add s2 encap gre remote "$C4" id 100
t "bad: session id 1024 (out of range): exit 2" bad 2 1024 vctl session add s2 encap gre remote "$C4" id 1024
t "bad: session id 0: exit 2" bad 2 'id' vctl session add s2 encap gre remote "$C4" id 0
t "bad: remote 198.51.100.300: exit 2" bad 2 '198.51.100.300' \
	vctl session add s2 encap gre remote 198.51.100.300
t "bad: no remote: exit 2" bad 2 remote vctl session add s2 encap erspan3
t "bad: local of the other family: exit 2" bad 2 'local|family' \
	vctl session add s2 encap gre remote "$C4" local "$HV_UL6"
t "bad: hwid on a GRE session: exit 2" bad 2 hwid vctl session add s2 encap gre remote "$C4" hwid 3
t "bad: port add of a device in another namespace (ul1 is col's): exit 5" \
	bad 5 ul1 vctl port add ul1
t "bad: port id 1048576 (out of range): exit 2" bad 2 1048576 vctl port add ul0 id 1048576
t "bad: duplicate port id: exit 6" bad 6 '11|exist|used' vctl port add ul0 id 11
t "bad: port add of a port: exit 6" bad 6 'vnet1|already' vctl port add vnet1
t "bad: flow on a device that is not a port: exit 5" bad 5 ul0 vctl flow add session s1 port ul0 dir in
t "bad: flow dir sideways: exit 2" bad 2 sideways vctl flow add session s1 port vnet1 dir sideways
t "bad: the same flow twice: exit 6" bad 6 'already|exist' vctl flow add session s1 port vnet1 dir in
t "bad: port del of a device that is not a port: exit 5" bad 5 ul0 vctl port del ul0
t "bad: unprivileged session add: exit 4" bad 4 'permi|CAP_NET_ADMIN|root' \
	unpriv session add s2 encap gre remote "$C4"
t "bad: unprivileged session del: exit 4" bad 4 'permi|CAP_NET_ADMIN|root' unpriv session del s1
t "bad: unprivileged port add: exit 4" bad 4 'permi|CAP_NET_ADMIN|root' unpriv port add ul0
t "bad: unprivileged flow add: exit 4" bad 4 'permi|CAP_NET_ADMIN|root' \
	unpriv flow add session s1 port tap2 dir in
t "unprivileged session show still works (read-only)" unpriv session show s1

# --- the command line of issue 19, against the module ------------------------------
# -j session show of a missing session: exit 5, nothing on stdout (not "[]").
show_missing() {
	local out rc=0
	out=$(vctl -j session show nosuch 2>/dev/null) || rc=$?
	expect_eq "exit status" "$rc" 5 && expect_eq "stdout" "$out" ""
}
t "-j session show nosuch: exit 5, nothing on stdout" show_missing
t "flow show: s1's flow on vnet1, as flow add takes it" \
	eval 'vctl flow show session s1 | grep -qx "flow session s1 port vnet1 dir in"'
t "flow (no command), -j after the object: the same as JSON" \
	eval 'vctl flow -j | grep -qF "{\"session\":\"s1\",\"port\":\"vnet1\",\"dir\":\"in\"}"'
t "-n NETNS, prefixes: vtapctl -n hv sess sh s1 from outside the namespace" \
	eval '"$VTAPCTL" -n "$NS_HV" sess sh s1 | grep -q "^session s1"'
# -b: many commands over one socket; all of them took effect, and nothing is
# left over (the state is what it was).
batch_ok() {
	printf '%s\n' "session add b1 encap gre remote $C4 rate 1.5Mbit" \
		"session add name b2 encap erspan3 remote $C4 # a comment" \
		'flow add session b1 port vnet1 dir out' 'session show b1' \
		'flow show session b1' 'flow delete session b1 port vnet1' \
		'session del b1' 'session del b2' > "$MIRROR_WORK/ok.batch"
	vctl -b "$MIRROR_WORK/ok.batch" | tee "$MIRROR_WORK/ok.out" || return 1
	grep -q 'rate 1500000bit' "$MIRROR_WORK/ok.out" &&
	grep -qx 'flow session b1 port vnet1 dir out' "$MIRROR_WORK/ok.out" &&
	expect_eq "sessions and ports after" "$(state)" "$BAD_STATE"
}
t "-b: 8 commands (add, flow, show, delete) over one socket, state as before" batch_ok
# The first failure stops it with its exit status; the lines before it stay.
batch_stop() {
	local rc=0
	printf '%s\n' "session add b3 encap gre remote $C4" "session add s1 encap gre remote $C4" \
		"session add b4 encap gre remote $C4" > "$MIRROR_WORK/stop.batch"
	vctl -b "$MIRROR_WORK/stop.batch" 2>"$MIRROR_WORK/stop.err" || rc=$?
	cat "$MIRROR_WORK/stop.err"
	expect_eq "exit status" "$rc" 6 && grep -q 'stop.batch:2:' "$MIRROR_WORK/stop.err" &&
	vctl session show b3 >/dev/null && ! vctl session show b4 2>/dev/null &&
	vctl session del b3 && expect_eq "sessions and ports after" "$(state)" "$BAD_STATE"
}
t "-b: stops at the first failure (exit 6, FILE:LINE), the lines before it done" batch_stop

# --- a session deleted while traffic flows ---------------------------------------------
sent() {	# SESSION: its "sent" counter
	vctl -j session show "$1" | json_get 'd[0]["stats"]["sent"]'
}
live_delete() {
	local pid rc=0 out=$R/live-ping.log
	vtap_session live erspan3 4 && vtap_flow live vnet1 both && vtap_flow live tap2 both || return 1
	in_nsx "$NS_VM1" ping -q -c 300 -i 0.01 -W 2 "$VM2_IP4" >"$out" 2>&1 &
	pid=$!
	sleep 1
	vctl session del live || rc=1
	wait $pid || { echo "ping lost packets:"; rc=1; }
	cat "$out"
	grep -q ' 0% packet loss' "$out" || rc=1
	if vctl -j port show | grep -q '"live"'; then
		echo "port show still has flows to the deleted session:"
		vctl port show
		rc=1
	fi
	return $rc
}
t "session deleted while vm1 pings every 10 ms: no ping lost, its flows gone" live_delete

# --- the VM's device deleted while mirrored ---------------------------------------------
port_json() {	# DEV-or-ifindex EXPR
	vctl -j port show | json_get "[p for p in d if p.get('dev') == '$1' or str(p.get('ifindex')) == '$1'][0]$2"
}
tap_gone() {
	local ifindex pid
	ifindex=$(ip -n "$NS_HV" -o link show tap2 | cut -d: -f1)
	vtap_session taps gre 4 && vtap_flow taps tap2 both || return 1
	in_nsx "$NS_VM2" ping -q -c 200 -i 0.01 -W 1 "$VM1_IP4" >/dev/null 2>&1 &
	pid=$!
	sleep 0.5
	tapvm_stop || return 1
	wait $pid
	! ip -n "$NS_HV" link show tap2 2>/dev/null || { echo "tap2 still exists"; return 1; }
	vctl port show
	expect_eq "tap2's port is stale" "$(port_json "$ifindex" '.get("stale")')" True || return 1
	vctl port del ifindex "$ifindex" || return 1
	vctl -j port show | json_get "'$ifindex' not in [str(p.get('ifindex')) for p in d] or sys.exit(1)"
}
t "tap: tapvm stops while vm2 pings: the port is stale, port del ifindex removes it" tap_gone
tap_back() {
	local before
	topo_vm2_restart || return 1
	vtap_ports_add tap2 && vctl flow add session taps port tap2 dir both || return 1
	before=$(sent taps)
	in_nsx "$NS_VM2" ping -q -c 3 -i 0.05 -W 2 "$VM1_IP4" || return 1
	expect_ge "copies sent for the new tap2" "$(sent taps)" $((before + 6))
}
t "tap: tapvm restarted, tap2 a port again, mirrored again" tap_back
veth_gone() {
	local ifindex pid
	ifindex=$(ip -n "$NS_HV" -o link show vnet1 | cut -d: -f1)
	vtap_session veths gre 6 && vtap_flow veths vnet1 both || return 1
	in_nsx "$NS_VM1" ping -q -c 200 -i 0.01 -W 1 "$VM2_IP6" >/dev/null 2>&1 &
	pid=$!
	sleep 0.5
	ip -n "$NS_VM1" link del eth0 || return 1
	wait $pid
	vctl port show
	expect_eq "vnet1's port is stale" "$(port_json "$ifindex" '.get("stale")')" True || return 1
	vctl port del ifindex "$ifindex"
}
t "veth: vm1's eth0 deleted while it pings: vnet1's port is stale, port del ifindex removes it" veth_gone

# --- module unload ----------------------------------------------------------------------
tfail "rmmod refused while a port (tap2) has vtap's programs attached" rmmod vtap
t "port del of the last port" vctl port del tap2
t "rmmod once no port is left (sessions still exist)" busywait 10000 rmmod vtap
t "insmod again" insmod "$VTAP_TOP/kmod/vtap.ko"

# --- a namespace torn down with sessions, ports and flows inside ---------------------------
teardown_ns() {
	local a b
	netns_new a && netns_new b || return 1
	ip link add va netns "$a" type veth peer name vb netns "$b" &&
	ip -n "$a" addr add 203.0.113.1/24 dev va && ip -n "$a" link set va up &&
	ip -n "$b" addr add 203.0.113.2/24 dev vb && ip -n "$b" link set vb up || return 1
	"$VTAPCTL" -n "$a" session add gone encap erspan3 remote 203.0.113.2 id 9 &&
	"$VTAPCTL" -n "$a" session add gone2 encap gre remote 203.0.113.2 key 9 &&
	"$VTAPCTL" -n "$a" port add va id 1 &&
	"$VTAPCTL" -n "$a" flow add session gone port va dir both &&
	"$VTAPCTL" -n "$a" flow add session gone2 port va dir out || return 1
	in_nsx "$a" ping -q -c 5 -i 0.05 -W 2 203.0.113.2 || return 1
	dead_ino=$(stat -L -c %i "/run/netns/$a")
	ip netns del "$a"
	ip netns del "$b"
}
dead_ino=
t "namespace with sessions, a port and flows deleted (traffic had flowed)" teardown_ns
# Its programs are not pinned: they go with its devices, and nothing keeps
# vtap.ko once the namespace is torn down (asynchronously: wait for it).
# Only its maps stay in bpffs (vtapctl.8, FILES).
t "rmmod after the namespace teardown, bpffs untouched" busywait 60000 rmmod vtap
only_maps() {
	local d=/sys/fs/bpf/vtap/net$dead_ino
	ls "$d"
	[ -e "$d/ports" ] && [ ! -e "$d/tc_ingress" ] && [ ! -e "$d/tc_egress" ]
}
t "the dead namespace's directory holds its maps, no programs" only_maps
rm -rf "/sys/fs/bpf/vtap/net$dead_ino"
t "no kernel warnings" sh -c "! dmesg | grep -E 'WARNING:|BUG:|Oops|refcount_t|Call Trace'"
finish
