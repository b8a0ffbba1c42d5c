#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# planted.sh [BUG...]: proves that the debug tier can fail.  Runs ON THE HOST.  Boots the debug kernel
# twice with tools/vm/run: a control run loads and unloads the test-only buggy.ko (selftests/debug/buggy)
# without a bug and must pass (kmemleak scan included); then one run commits every planted bug in turn
# (planted-guest.sh, a kernel-log marker before each) and must FAIL with "kernel problem".  The saved
# kernel log is cut at the markers, and tools/vm/scan-log must flag each bug's own segment with the
# right checker's report (KASAN, KFENCE, lockdep, UBSAN, ODEBUG, ...) naming the buggy function; the
# kmemleak report must name bug_leak.  Order matters: a lockdep report turns lockdep off, and so does
# any KASAN/KFENCE report (TAINT_BAD_PAGE), so abba goes first and the memory-safety bugs last.
# Prints TAP.  Needs build/debug/env (tools/vm/debug/build-modules): VTAP_KERNEL, VTAP_DEBUG_BUGGY.
# About 2 min (two boots).
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$TOP/selftests/debug
ENV=${VTAP_DEBUG_ENV:-$TOP/build/debug/env}
OUTS=$TOP/build/debug/planted

if [ -z "${VTAP_KERNEL:-}" ] || [ -z "${VTAP_DEBUG_BUGGY:-}" ]; then
	if [ ! -f "$ENV" ]; then
		echo "1..0 # SKIP $ENV missing: run tools/vm/debug/build-modules first"
		exit 4
	fi
	set -a
	# shellcheck source=/dev/null
	. "$ENV"
	set +a
fi
export VTAP_KERNEL VTAP_DEBUG_BUGGY

# BUG | what tools/vm/scan-log must flag in the bug's own log segment (ERE) | what the segment must
# also show (ERE).  In the order committed.
CASES=(
	"abba|WARNING: possible circular locking dependency detected|bug_abba"
	"atomic|BUG: sleeping function called from invalid context|bug_atomic"
	"odebug|ODEBUG: free active .*timer_list|bug_odebug"
	"ubsan|UBSAN: shift-out-of-bounds|buggy\.c"
	"refcount|refcount_t: addition on 0; use-after-free|bug_refcount"
	"warn|WARNING: CPU: .* bug_warn|buggy: planted warning"
	"netref|unregister_netdevice: waiting for dbgdummy0 to become free|bug_netref"
	"kfence|BUG: KFENCE: out-of-bounds read in bug_kfence|kfence-#"
	"uaf|BUG: KASAN: use-after-free in bug_uaf|Freed by task"
	"oob|BUG: KASAN: slab-out-of-bounds in bug_oob|bug_oob"
	"leak|unreferenced object 0x|bug_leak"
)

echo "TAP version 13"
n=0 failed=0
report() {	# RC NAME [DETAILS FILE]
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=$((failed + 1))
		[ -n "${3:-}" ] && tail -n 40 "$3" | sed 's/^/# /'
	fi
}

# vmrun NAME BUG...: boot, run planted-guest.sh BUG...; sets rc, out (logs), err (run's stderr).
vmrun() {
	out=$OUTS/$1
	err=$out.stderr
	shift
	rm -rf "$out"
	mkdir -p "$out"
	rc=0
	VTAP_VM_OUT=$out "$TOP/tools/vm/run" -n -t 400 "$HERE/planted-guest.sh" "$@" \
		>"$out.stdout" 2>"$err" || rc=$?
}

# The control: no bug, no failure (and no false kmemleak report).
vmrun control none
if [ "$rc" = 0 ] && grep -q 'planted-guest: buggy.ko ran bugs=none' "$out.stdout"; then
	report 0 "control: buggy.ko without a bug passes ($(grep -o 'ok ([0-9.]* s)' "$err"))"
else
	cat "$out.stdout" >>"$err"
	report 1 "control: buggy.ko without a bug passes (exit $rc)" "$err"
fi

bugs=()
for c in "${CASES[@]}"; do
	bugs+=("${c%%|*}")
done
[ $# -gt 0 ] && bugs=("$@")
vmrun planted "${bugs[@]}"
if [ "$rc" != 0 ] && grep -q '^vm: FAIL: kernel problem' "$err" &&
	grep -q "planted-guest: buggy.ko ran bugs=${bugs[-1]}" "$out.stdout"; then
	report 0 "the run with ${#bugs[@]} planted bugs fails: kernel problem (exit $rc)"
else
	cat "$out.stdout" >>"$err"
	report 1 "the run with ${#bugs[@]} planted bugs fails with a kernel problem (exit $rc)" "$err"
fi

# segment BUG: the kernel log from BUG's marker to the next marker.
segment() {
	awk -v b="vtap-planted: begin $1\$" '
		/vtap-planted: begin / { on = ($0 ~ b) }
		on' "$out/dmesg.txt"
}
for c in "${CASES[@]}"; do
	IFS='|' read -r bug says shows <<<"$c"
	want=''
	for b in "${bugs[@]}"; do [ "$b" = "$bug" ] && want=1; done
	[ -n "$want" ] || continue
	seg=$OUTS/planted/segment-$bug.txt
	if [ "$bug" = leak ]; then
		cp "$out/kmemleak.txt" "$seg" 2>/dev/null || : >"$seg"
	else
		segment "$bug" >"$seg"
	fi
	why=''
	src=$seg
	if [ ! -s "$seg" ]; then
		why="no log segment (no marker, or no kmemleak report)"
	elif "$TOP/tools/vm/scan-log" "$seg" >"$seg.scan" 2>&1; then
		why="scan-log finds no problem in its segment"
	elif ! grep -qE -- "^> .*($says)" "$seg.scan"; then
		why="scan-log does not flag '$says'"
		src=$seg.scan
	elif ! grep -qE -- "$shows" "$seg"; then
		why="the segment does not show '$shows'"
	fi
	if [ -z "$why" ]; then
		report 0 "$bug: caught, $(grep -m1 -oE -- "$says" "$seg" | cut -c1-70)"
	else
		report 1 "$bug: $why" "$src"
	fi
done
echo "1..$n"
[ "$failed" = 0 ]
