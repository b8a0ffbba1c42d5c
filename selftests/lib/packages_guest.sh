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

t "topology: vm1 - hv (vnet1) - underlay - col" veth_trio_up || finish

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
