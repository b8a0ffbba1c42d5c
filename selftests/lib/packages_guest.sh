#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# packages_guest.sh VERSION: the guest half of selftests/host/packages.sh,
# in a test VM booted with `tools/vm/run -n` (nothing loaded first) while
# the vtap-dkms and vtapctl packages are installed on the host, whose / the
# guest sees.  `modprobe vtap` loads the module DKMS built and installed
# (updates/dkms, found through the host's depmod), and the packaged
# /usr/sbin/vtapctl mirrors a veth's traffic with it to its own collector:
#
#   ns vm1               ns hv                                  ns col
#   eth0 192.0.2.1 <-> vnet1 192.0.2.254 (port 11)
#                        ul0 198.51.100.1/24  <----veth---->  ul1 198.51.100.2/24
#                        session s1: GRE key 7, both ways     vtapctl collect
# Static neighbours and no IPv6 on the VM link: the only frames are the
# pings and their replies.
. "$(dirname "$0")/../lib.sh"

VERSION=${1:?usage: packages_guest.sh VERSION}
VTAPCTL=/usr/sbin/vtapctl
KO=/lib/modules/$(uname -r)/updates/dkms/vtap.ko
OUT=${VTAP_OUT:-$(mktemp -d)}
NPING=5
cleanup() {
	local p
	for p in $(jobs -p); do kill "$p" 2>/dev/null; done
	cleanup_netns
}
trap cleanup EXIT
modprobe -a veth sch_ingress cls_bpf

t "vtap.ko is not loaded before modprobe" sh -c "! grep -q '^vtap ' /proc/modules"
t "modprobe vtap" modprobe vtap
same_module() {
	expect_eq "modinfo -n vtap" "$(modinfo -n vtap)" "$KO" &&
	expect_eq "srcversion of the loaded module" "$(cat /sys/module/vtap/srcversion)" \
		"$(modinfo -F srcversion "$KO")" &&
	expect_eq "its version" "$(cat /sys/module/vtap/version)" "$VERSION"
}
t "the loaded module is the one DKMS installed ($KO), version $VERSION" same_module
t "the packaged vtapctl: vtap $VERSION with the kfunc (module BTF)" sh -c \
	"'$VTAPCTL' info | tee /dev/stderr | grep -q '^vtap $VERSION' && '$VTAPCTL' -j info | grep -q kfunc"

setup() {
	netns_new vm1 && netns_new hv && netns_new col || return 1
	ip link add eth0 netns "$vm1" type veth peer name vnet1 netns "$hv" &&
	ip link add ul0 netns "$hv" type veth peer name ul1 netns "$col" || return 1
	nsx "$vm1" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1 &&
	nsx "$hv" sysctl -qw net.ipv6.conf.vnet1.disable_ipv6=1 || return 1
	ip -n "$vm1" addr add 192.0.2.1/24 dev eth0 &&
	ip -n "$hv" addr add 192.0.2.254/24 dev vnet1 &&
	ip -n "$hv" addr add 198.51.100.1/24 dev ul0 &&
	ip -n "$col" addr add 198.51.100.2/24 dev ul1 || return 1
	vm_mac=$(ip -n "$vm1" -br link show eth0 | awk '{print $3}')
	hv_mac=$(ip -n "$hv" -br link show vnet1 | awk '{print $3}')
	ip -n "$vm1" neigh add 192.0.2.254 lladdr "$hv_mac" dev eth0 nud permanent &&
	ip -n "$hv" neigh add 192.0.2.1 lladdr "$vm_mac" dev vnet1 nud permanent || return 1
	ip -n "$vm1" link set eth0 up && ip -n "$hv" link set vnet1 up &&
	ip -n "$hv" link set ul0 up && ip -n "$col" link set ul1 up || return 1
	busywait 5000 nsx "$hv" ping -c 1 -W 1 198.51.100.2 >/dev/null
}
t "topology: vm1 - hv (vnet1) - underlay - col" setup || finish

t "session add s1 encap gre remote 198.51.100.2 key 7" \
	nsx "$hv" "$VTAPCTL" session add s1 encap gre remote 198.51.100.2 key 7
t "port add vnet1 id 11" nsx "$hv" "$VTAPCTL" port add vnet1 id 11
t "flow add session s1 port vnet1 dir both" nsx "$hv" "$VTAPCTL" flow add session s1 port vnet1 dir both

collector() {
	nsx "$col" "$VTAPCTL" -j collect encap gre session 7 write "$OUT/pkg.pcapng" \
		count $((2 * NPING)) duration 60 >"$OUT/collect.json" 2>"$OUT/collect.err" &
	col_pid=$!
	busywait 20000 grep -q "^collect: listening" "$OUT/collect.err"
}
t "vtapctl collect in col (GRE key 7)" collector
t "vm1 pings hv $NPING times" nsx "$vm1" ping -c "$NPING" -i 0.2 -W 2 192.0.2.254
t "collect got every copy and stopped by itself (count $((2 * NPING)))" sh -c \
	"timeout 30 tail --pid=$col_pid -f /dev/null; cat '$OUT/collect.err'; ! kill -0 $col_pid 2>/dev/null"
t "collect's summary: $((2 * NPING)) packets of GRE key 7 from 198.51.100.1" sh -c \
	"cat '$OUT/collect.json'; python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))[\"sessions\"]
sys.exit(0 if len(s) == 1 and s[0][\"packets\"] == $((2 * NPING)) and s[0][\"id\"] == 7 and
	 s[0][\"source\"] == \"198.51.100.1\" else 1)' '$OUT/collect.json'"
t "session s1 counted them: sent $((2 * NPING))" expect_eq "sent" \
	"$(nsx "$hv" "$VTAPCTL" -j session show s1 | json_get 'd[0]["stats"]["sent"]')" $((2 * NPING))

t "port del vnet1, session del s1" sh -c \
	"nsenter --net=/run/netns/$hv '$VTAPCTL' port del vnet1 && nsenter --net=/run/netns/$hv '$VTAPCTL' session del s1"
t "modprobe -r vtap" busywait 10000 modprobe -r vtap
finish
