# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Helpers of the host tests of `vtapctl collect` (collect_netns.sh,
# collect_vxlan.sh).  Source after lib.sh; they use $col (the collector's
# namespace) and $TMP.
#
#   start NAME CMD...        run a collector in col, wait until it listens;
#                            its pid in ${NAME}_pid
#   wait_for NAME            wait for it; its exit status in $rc_of
#   no_sanitizer_report FILE fail (printing FILE) on an ASan/UBSan report
#   exit_of WANT CMD...      run CMD in col: exit status WANT, no report

start() {
	local name=$1
	shift
	# nsenter execs the command: $! is the collector (to signal it).
	nsenter --net="/run/netns/$col" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	eval "${name}_pid=$!"
	busywait 10000 grep -q "^collect: listening" "$TMP/$name.err"
}

wait_for() {
	local pid
	eval "pid=\$${1}_pid"
	rc_of=0
	wait "$pid" || rc_of=$?
}

no_sanitizer_report() {
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$1"; then
		cat "$1"
		return 1
	fi
}

exit_of() {
	local want=$1 rc=0
	shift
	nsx "$col" "$@" >"$TMP/err.out" 2>&1 || rc=$?
	cat "$TMP/err.out"
	no_sanitizer_report "$TMP/err.out" && expect_eq "exit status of $*" "$rc" "$want"
}
