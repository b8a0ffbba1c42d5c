#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# planted-guest.sh BUG...|none: runs INSIDE the debug kernel's guest (selftests/debug/planted.sh starts
# it through tools/vm/run -n).  For each BUG in order, writes the marker "vtap-planted: begin BUG" to
# the kernel log, then loads the test-only buggy.ko ($VTAP_DEBUG_BUGGY) committing that bug and unloads
# it; `leak` (which must come last) stays loaded, so that the kmemleak report that tools/vm/guest-run
# takes after this script names bug_leak.  Exits 0 when every step ran: catching the bugs is the
# harness's job, the run must then fail.
set -u
ko=${VTAP_DEBUG_BUGGY:?VTAP_DEBUG_BUGGY is not set}
mark() { echo "vtap-planted: begin $1" >/dev/kmsg; }

for bug in "$@"; do
	mark "$bug"
	case $bug in
	netref)
		# The module holds a tracked reference on dbgdummy0: deleting the device blocks, and
		# after 10 s the kernel says whom it is waiting for (with the tracker's stack); rmmod
		# releases it.
		ip link add dbgdummy0 type dummy || exit 1
		insmod "$ko" bugs=netref netdev=dbgdummy0 || exit 1
		ip link del dbgdummy0 &
		del=$!
		sleep 13
		rmmod buggy || exit 1
		wait "$del" || exit 1
		;;
	none)
		insmod "$ko" || exit 1
		rmmod buggy || exit 1
		;;
	leak)
		insmod "$ko" bugs=leak || exit 1
		;;
	*)
		insmod "$ko" bugs="$bug" || exit 1
		rmmod buggy || exit 1
		;;
	esac
	echo "planted-guest: buggy.ko ran bugs=$bug"
done
mark end
exit 0
