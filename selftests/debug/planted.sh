#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# planted.sh [BUG...]: proves that the debug tier can fail.  Runs ON THE HOST; for each planted bug of
# the test-only buggy.ko (selftests/debug/buggy), boots the debug kernel with tools/vm/run and commits
# that one bug in the guest (planted-guest.sh).  Expectation inverted: the run must FAIL with "kernel
# problem", and the report tools/vm/run prints must name the right checker (KASAN, KFENCE, kmemleak,
# lockdep, ...), with the buggy function in the saved logs.  A control run that loads and unloads
# buggy.ko without a bug must pass (kmemleak scan included).  Prints TAP.
# Needs build/debug/env (tools/vm/debug/build-modules): VTAP_KERNEL, VTAP_DEBUG_BUGGY.
# One guest boot per bug, about 20-40 s each.
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

# BUG | what tools/vm/run's report must say (ERE) | what the saved logs must also show (ERE)
CASES=(
	"uaf|BUG: KASAN: use-after-free in bug_uaf|Freed by task"
	"oob|BUG: KASAN: slab-out-of-bounds in bug_oob|bug_oob"
	"kfence|BUG: KFENCE: out-of-bounds read in bug_kfence|kfence-#"
	"leak|kmemleak: [0-9]+ new suspected memory leak|bug_leak"
	"abba|WARNING: possible circular locking dependency detected|bug_abba"
	"atomic|BUG: sleeping function called from invalid context|bug_atomic"
	"ubsan|UBSAN: shift-out-of-bounds|buggy\\.c"
	"odebug|ODEBUG: free active .*timer_list|bug_odebug"
	"netref|unregister_netdevice: waiting for dbgdummy0 to become free|bug_netref"
	"refcount|refcount_t: addition on 0; use-after-free|bug_refcount"
	"warn|WARNING: CPU: .* bug_warn|buggy: planted warning"
)

echo "TAP version 13"
n=0 failed=0
want=("$@")
wanted() {
	local w
	[ ${#want[@]} -eq 0 ] && return 0
	for w in "${want[@]}"; do [ "$w" = "$1" ] && return 0; done
	return 1
}
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

# vmrun BUG KMEMLEAK: boot, run planted-guest.sh BUG; sets rc, out (logs), err (run's stderr).
vmrun() {
	out=$OUTS/$1
	err=$out.stderr
	mkdir -p "$out"
	rc=0
	VTAP_VM_OUT=$out VTAP_VM_KMEMLEAK=$2 \
		"$TOP/tools/vm/run" -n -t 240 "$HERE/planted-guest.sh" "$1" >"$out.stdout" 2>"$err" || rc=$?
}

# The control: no bug, no failure (and no false kmemleak report).
if wanted none; then
	vmrun none 1
	if [ "$rc" = 0 ] && grep -q 'planted-guest: buggy.ko ran bugs=none' "$out.stdout"; then
		report 0 "control: buggy.ko without a bug passes ($(grep -o 'ok ([0-9.]* s)' "$err"))"
	else
		cat "$out.stdout" >>"$err"
		report 1 "control: buggy.ko without a bug passes (exit $rc)" "$err"
	fi
fi

for c in "${CASES[@]}"; do
	IFS='|' read -r bug says shows <<<"$c"
	wanted "$bug" || continue
	kml=0
	[ "$bug" = leak ] && kml=1
	vmrun "$bug" "$kml"
	why=''
	if [ "$rc" = 0 ]; then
		why="the run passed: no checker caught it"
	elif ! grep -q '^vm: FAIL: kernel problem' "$err"; then
		why="the run failed (exit $rc) for another reason than a kernel problem"
	elif ! grep -qE -- "$says" "$err"; then
		why="the report does not say '$says'"
	elif ! grep -sqE -- "$shows" "$out"/dmesg.txt "$out"/kmemleak.txt "$out"/console.log; then
		why="the logs do not show '$shows'"
	fi
	if [ -z "$why" ]; then
		report 0 "$bug: caught, $(grep -m1 -oE -- "$says" "$err" | cut -c1-70)"
	else
		echo "$why" >>"$err"
		report 1 "$bug: $why" "$err"
	fi
done
echo "1..$n"
[ "$failed" = 0 ]
