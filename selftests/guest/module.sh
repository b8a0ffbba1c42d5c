#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vtap.ko lifecycle in the test VM (tools/vm/run loads the module first):
# version and features over genetlink, a TC program calling the module's
# kfunc on a veth, traffic through it, rmmod refused while the program is
# attached, clean unload afterwards, reload, namespace teardown.
#
#   ns vm1                         ns hv
#   +-----------------+            +---------------------------------+
#   | eth0 192.0.2.1  |<--veth---->| vnet1 192.0.2.254               |
#   +-----------------+            |   clsact: vtap_tc_ingress/egress |
#                                  |   session s1 (id 7)             |
#                                  +---------------------------------+
. "$(dirname "$0")/../lib.sh"

PIN=/sys/fs/bpf/vtap-test-$$
cleanup() {
	[ -n "${hv:-}" ] && nsx "$hv" tc qdisc del dev vnet1 clsact 2>/dev/null
	rm -rf "$PIN"
	cleanup_netns
}
trap cleanup EXIT
modprobe -a veth sch_ingress cls_bpf

le32() { printf '%d %d %d %d ' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
le16() { printf '%d %d ' $(($1 & 255)) $(($1 >> 8 & 255)); }
le64() { python3 -c "import sys; print(' '.join(str(b) for b in int(sys.argv[1]).to_bytes(8, 'little')))" "$1"; }

# struct vtap_port: port_id, slot, flags, vm_uuid[16], nsess[2], sess[2][8],
# cookie[2][8] (the sessions' cookies)
port_value() {	# PORT_ID SLOT SESSION_OUT SESSION_IN COOKIE_OUT COOKIE_IN
	local i
	le32 "$1"; le32 "$2"; le32 0
	for i in $(seq 16); do printf '0 '; done
	le16 1; le16 1
	le16 "$3"; for i in $(seq 7); do le16 0; done
	le16 "$4"; for i in $(seq 7); do le16 0; done
	le64 "$5"; for i in $(seq 7); do le64 0; done
	le64 "$6"; for i in $(seq 7); do le64 0; done
}
cookie_of() {	# NS SESSION
	nsx "$1" "$VTAPCTL" -j session show "$2" | json_get 'd[0]["cookie"]'
}

matched() {	# NS SESSION: the session's matched counter
	nsx "$1" "$VTAPCTL" -j session show "$2" | json_get 'd[0]["stats"]["matched"]'
}

t "vtap.ko is loaded" grep -q '^vtap ' /proc/modules
t "vtapctl info reports the version" sh -c "'$VTAPCTL' info | grep -q '^vtap [0-9]'"
t "vtapctl -j info: JSON with kfunc and sessions features" sh -c \
	"'$VTAPCTL' -j info | python3 -c 'import json,sys; d=json.load(sys.stdin); assert \"kfunc\" in d[\"features\"] and \"sessions\" in d[\"features\"], d'"
t "module BTF has bpf_vtap_mirror" sh -c \
	"bpftool btf dump id \$(bpftool btf list | awk -F: '/name \\[vtap\\]/{print \$1; exit}') | grep -q \"FUNC 'bpf_vtap_mirror'\""

setup() {
	netns_new vm1 && netns_new hv || return 1
	ip link add eth0 netns "$vm1" type veth peer name vnet1 netns "$hv"
	ip -n "$vm1" addr add 192.0.2.1/24 dev eth0
	ip -n "$hv" addr add 192.0.2.254/24 dev vnet1
	ip -n "$vm1" link set eth0 up
	ip -n "$hv" link set vnet1 up
}
t "topology" setup

t "session add in ns hv" nsx "$hv" "$VTAPCTL" session add s1 encap erspan3 remote 198.51.100.2 id 7
t "the session is not visible from another namespace" \
	expect_eq "sessions in init_net" "$("$VTAPCTL" -j session show)" "[]"
t "kfunc program loads" bpftool prog loadall "$BPFDIR/vtap.bpf.o" "$PIN" pinmaps "$PIN/maps"

attach() {
	nsx "$hv" tc qdisc add dev vnet1 clsact &&
	nsx "$hv" tc filter add dev vnet1 ingress bpf da pinned "$PIN/vtap_tc_ingress" &&
	nsx "$hv" tc filter add dev vnet1 egress bpf da pinned "$PIN/vtap_tc_egress"
}
t "attach to clsact ingress and egress of the veth" attach

ifindex=$(ip -n "$hv" -o link show vnet1 | cut -d: -f1)
# shellcheck disable=SC2046
c7=$(cookie_of "$hv" s1)
t "port entry: vnet1 -> session 7 both ways" \
	bpftool map update pinned "$PIN/maps/ports" key $(le32 "$ifindex") value $(port_value 5 0 7 7 "$c7" "$c7")
t "traffic passes the programs" ip netns exec "$vm1" ping -c 5 -i 0.2 -W 2 192.0.2.254
t "the kfunc ran for every packet, both directions" expect_ge "matched" "$(matched "$hv" s1)" 10
tfail "rmmod refused while attached" rmmod vtap

detach() {
	local rc=0
	nsx "$hv" tc qdisc del dev vnet1 clsact || rc=1
	rm -rf "$PIN"
	return $rc
}
t "detach" detach
t "traffic still passes after detach" ip netns exec "$vm1" ping -c 2 -i 0.2 -W 2 192.0.2.254
t "rmmod with a session still present" busywait 10000 rmmod vtap
t "the genetlink family is gone" expect_eq "vtapctl info exit" "$(status_of "$VTAPCTL" info)" 3
t "vtapctl says how to load the module" sh -c "'$VTAPCTL' info 2>&1 | grep -q 'modprobe vtap'"

t "insmod again" insmod "$VTAP_TOP/kmod/vtap.ko"
t "sessions did not survive the unload" \
	expect_eq "sessions in hv" "$(nsx "$hv" "$VTAPCTL" -j session show)" "[]"
teardown_with_session() {
	local tmp
	netns_new tmp || return 1
	nsx "$tmp" "$VTAPCTL" session add doomed encap gre remote 203.0.113.9 key 3 || return 1
	ip netns del "$tmp"
}
t "namespace teardown with a session inside" teardown_with_session
t "rmmod after namespace teardown" busywait 10000 rmmod vtap

# A vtap.ko without BTF (a build with no vmlinux to base it on) has no
# kfunc: it loads, says so, manages sessions, and INFO does not claim it.
nobtf() {
	local ko=$VTAP_OUT/vtap-nobtf.ko out
	objcopy --remove-section=.BTF --remove-section=.BTF.ext \
		"$VTAP_TOP/kmod/vtap.ko" "$ko" || return 1
	insmod "$ko" || return 1
	dmesg | tail -n 20 | grep -q 'vtap: no kfunc' || { echo "no warning"; return 1; }
	out=$("$VTAPCTL" info) && echo "$out" || return 1
	case $out in *kfunc*) echo "kfunc claimed"; return 1 ;; esac
	"$VTAPCTL" session add nb encap gre remote 198.51.100.2 && "$VTAPCTL" session del nb &&
	rmmod vtap
}
t "without BTF: the module loads and manages sessions, INFO has no kfunc" nobtf
t "no kernel warnings" sh -c "! dmesg | grep -E 'WARNING:|BUG:|Oops|refcount_t|Call Trace'"
finish
