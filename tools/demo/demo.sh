#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: runs inside the test VM (tools/vm/run loaded vtap.ko).
# Shows the module answering over genetlink and a mirror session created in a
# hypervisor namespace.  (The traffic part arrives with mirror sessions.)
set -euo pipefail
VTAPCTL=${VTAP_TOP:?}/build/vtapctl
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "vtapctl info (kernel $(uname -r))"
"$VTAPCTL" info

ns=vtap-demo-hv
ip netns add $ns
trap 'ip netns del $ns 2>/dev/null' EXIT
say "a session in namespace $ns: ERSPAN III to collector 198.51.100.2"
nsenter --net=/run/netns/$ns "$VTAPCTL" session add collector encap erspan3 \
	remote 198.51.100.2 id 7 hwid 5 gra 100ns
nsenter --net=/run/netns/$ns "$VTAPCTL" session show
say "the same, as JSON"
nsenter --net=/run/netns/$ns "$VTAPCTL" -j session show
