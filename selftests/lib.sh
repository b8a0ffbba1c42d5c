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

# veth_trio_up: three namespaces, IPv4 only: $vm1 (eth0 192.0.2.1) <-veth->
# $hv (vnet1 192.0.2.254; ul0 198.51.100.1) <-veth-> $col (ul1
# 198.51.100.2), neighbours static, the underlay's ARP resolved; sets vm1,
# hv, col, vm_mac and hv_mac.  For tests that need one mirrored VM port and
# a collector, without selftests/lib/topology.sh's bridge and tap.
veth_trio_up() {
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
	# The collector compares bytes: the kernel completes the checksums a
	# copy leaves to the underlay (see selftests/lib/topology.sh).
	nsx "$hv" ethtool -K ul0 tx off >/dev/null || return 1
	ip -n "$vm1" link set eth0 up && ip -n "$hv" link set vnet1 up &&
	ip -n "$hv" link set ul0 up && ip -n "$col" link set ul1 up || return 1
	# The underlay's ARP is resolved before anything is mirrored.
	busywait 5000 nsx "$hv" ping -c 1 -W 1 198.51.100.2 >/dev/null
}
