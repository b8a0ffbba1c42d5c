# SPDX-License-Identifier: GPL-2.0
# Shell helpers for vtap selftests: kselftest TAP output, unique network
# namespaces with cleanup, busywait.  Source it; then call `t NAME CMD...`
# for each check and `finish` at the end.
#
#   t NAME CMD...     run CMD; print "ok N NAME" or "not ok N NAME" (with its
#                     output as "# " lines)
#   tfail NAME CMD... the same, expecting CMD to fail
#   skip NAME WHY     print "ok N NAME # SKIP WHY"
#   finish            print the plan and exit 0, or 1 if anything failed
# With VTAP_TEST_TIMES=1 each result line ends in "# N ms" (the time since the
# previous result): where a slow kernel spends a test's time.

VTAP_TOP=${VTAP_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
VTAPCTL=${VTAPCTL:-$VTAP_TOP/build/vtapctl}
BPFDIR=$VTAP_TOP/build/bpf
export VTAP_TOP VTAPCTL

# Held (flock) by the tests that use or check the host's real DKMS tree and
# /lib/modules (selftests/host/dkms.sh, selftests/packages/packages.sh), so
# that two runs of the suite do not meet there.
VTAP_DKMS_LOCK=${VTAP_DKMS_LOCK:-/run/lock/vtap-dkms.lock}

KSFT_SKIP=4
__n=0
__fail=0
__tlog=$(mktemp)
echo "TAP version 13"

__t0=${EPOCHREALTIME/[.,]/}
__report() {	# NAME RC(0=pass)
	local ms=''
	__n=$((__n + 1))
	if [ "${VTAP_TEST_TIMES:-}" = 1 ]; then
		local now=${EPOCHREALTIME/[.,]/}
		ms=" # $(((now - __t0) / 1000)) ms"
		__t0=$now
	fi
	if [ "$2" = 0 ]; then
		echo "ok $__n $1$ms"
	else
		echo "not ok $__n $1$ms"
		__fail=$((__fail + 1))
		sed 's/^/# /' "$__tlog" | tail -n 30
	fi
}

t() {
	local name=$1 rc=0
	shift
	"$@" >"$__tlog" 2>&1 || rc=$?
	__report "$name" "$rc"
	return "$rc"
}

tfail() {
	local name=$1 rc=0
	shift
	"$@" >"$__tlog" 2>&1 || rc=$?
	if [ "$rc" = 0 ]; then
		echo "(succeeded, should have failed)" >>"$__tlog"
		__report "$name" 1
		return 1
	fi
	__report "$name" 0
}

skip() {
	__n=$((__n + 1))
	echo "ok $__n $1 # SKIP $2"
}

# Assert helpers for use inside t: print what differed, return non-zero.
expect_eq() {	# WHAT GOT WANT
	[ "$2" = "$3" ] && return 0
	echo "$1: got '$2', want '$3'"
	return 1
}

expect_ge() {	# WHAT GOT MIN
	[ "$2" -ge "$3" ] 2>/dev/null && return 0
	echo "$1: got '$2', want >= '$3'"
	return 1
}

# Exit status of a command, as a string, for expect_eq.
status_of() {
	local rc=0
	"$@" >/dev/null 2>&1 || rc=$?
	echo "$rc"
}

finish() {
	echo "1..$__n"
	rm -f "$__tlog" "$__tlog.nap"
	[ "$__fail" = 0 ]
	exit $?
}

# __nap [SECONDS]: sleep (default 0.05 s) without a process: a read that
# times out on a FIFO nobody writes to.  A process costs about half a
# second in the debug kernel's VM, and polling loops run often.
__nap() {
	if [ -z "${__nap_fd:-}" ]; then
		{ mkfifo "$__tlog.nap" && exec {__nap_fd}<>"$__tlog.nap"; } 2>/dev/null ||
			{ sleep "${1:-0.05}"; return 0; }
	fi
	read -r -t "${1:-0.05}" -u "$__nap_fd" _
	return 0
}

# busywait TIMEOUT_MS CMD...: retry CMD until it succeeds or time runs out.
busywait() {
	local timeout=$1 t0 t
	shift
	t0=${EPOCHREALTIME/./}
	while true; do
		"$@" && return 0
		t=${EPOCHREALTIME/./}
		[ $(((t - t0) / 1000)) -ge "$timeout" ] && return 1
		__nap 0.1
	done
}

# Network namespaces with unique names, removed by cleanup_netns (EXIT trap).
__netns=()
netns_new() {	# VAR: create a namespace, store its name in VAR
	local name
	name="vt-$1-$$-$RANDOM"
	ip netns add "$name" || return 1
	ip -n "$name" link set lo up
	__netns+=("$name")
	printf -v "$1" '%s' "$name"
}

cleanup_netns() {
	local n
	for n in "${__netns[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
	__netns=()
}

# Run a command in a namespace without remounting /sys (ip netns exec would
# hide the bpffs mount and its pins).
nsx() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# vtapctl -j output through a python one-liner: jq-like field access.
# json_get EXPR: read JSON on stdin, print the Python expression EXPR of it
# (the document is `d`).  A plain lookup (d[0]["stats"]["sent"]) whose value
# is a string or an exact integer is answered by jq: a Python start costs
# seconds in a test VM on the debug kernel, and the checks make hundreds.
json_get() {
	local in path
	if [[ $1 =~ ^d(\[([0-9]+|\"[A-Za-z0-9_]+\"|\'[A-Za-z0-9_]+\')\])+$ ]] &&
	   command -v jq >/dev/null; then
		in=$(cat)
		path=${1#d}
		path=${path//\'/\"}
		jq -r ".$path as \$v | if (\$v | type) == \"string\" then \$v
			elif (\$v | type) == \"number\" and \$v == (\$v | floor) and
			     \$v < 9007199254740992 and \$v > -9007199254740992 then \$v
			else error(\"not plain\") end" <<<"$in" 2>/dev/null && return 0
		python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" <<<"$in"
		return
	fi
	python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}
