#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vtapctl collect ... dev IFACE xdp on the host's kernel: the guest test
# (selftests/guest/collect_xdp.sh) needs no module except for its last part
# (vtap.ko's own copies), which it skips here.  Native XDP on veth, generic
# XDP, the fallback and the exits, in seconds and without the test VM.
exec "$(dirname "$0")/../guest/collect_xdp.sh" "$@"
