#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fuzz vtap's generic netlink family (build/fuzz/genl_fuzz, from
# selftests/fuzz/genl_fuzz.c) in the test VM, in a namespace of its own:
# first unprivileged (uid 65534, no capabilities: nothing may change), then
# privileged with VTAP_FUZZ_NL_COUNT messages (default 2000; `make
# fuzz-netlink` sends 10000).  Another namespace with sessions must not
# notice; afterwards the kernel must be clean and the module must unload and
# load again.  VTAP_FUZZ_NL_SEED=N repeats a run (the seed is printed).
#
#   ns baseline: b1 gre/IPv4, b2 erspan3/IPv6 id 7, b3 erspan2/IPv4 + options
#   ns fuzz:     f1 gre/IPv4, f2 erspan3/IPv6, then genl_fuzz --unpriv, genl_fuzz
. "$(dirname "$0")/../lib.sh"

FUZZ=$VTAP_TOP/build/fuzz/genl_fuzz
COUNT=${VTAP_FUZZ_NL_COUNT:-2000}
# A fixed seed unless told: make check runs the same messages every time
# (make fuzz-netlink picks a new seed).
SEED=${VTAP_FUZZ_NL_SEED:-1}
tmp=$(mktemp -d)
cleanup() {
	cleanup_netns
	rm -rf "$tmp"
}
trap cleanup EXIT

# Kernel messages from here on are this test's.
echo "fuzz_netlink: start" >/dev/kmsg

vctl() {	# NS ARGS...
	local ns=$1
	shift
	nsx "$ns" "$VTAPCTL" "$@"
}

setup() {
	netns_new base && netns_new fuzz
}

baseline_sessions() {
	vctl "$base" session add b1 encap gre remote 198.51.100.2 key 1 &&
	vctl "$base" session add b2 encap erspan3 remote 2001:db8:100::2 id 7 gra 100ns &&
	vctl "$base" session add b3 encap erspan2 remote 203.0.113.9 local 192.0.2.1 id 9 \
		ttl 32 sample 1/10 every snaplen 128 rate 10mbit &&
	vctl "$base" -j session show >"$tmp/base.before" &&
	[ "$(json_get 'len(d)' <"$tmp/base.before")" = 3 ]
}

fuzz_sessions() {
	vctl "$fuzz" session add f1 encap gre remote 198.51.100.3 key 2 &&
	vctl "$fuzz" session add f2 encap erspan3 remote 2001:db8:100::3 id 3 &&
	vctl "$fuzz" -j session show >"$tmp/fuzz.before"
}

# run_fuzz NAME ARGS...: genl_fuzz in the fuzz namespace; its output in
# $tmp/NAME.out (shown if it fails).
run_fuzz() {
	local name=$1 rc=0
	shift
	nsx "$fuzz" "$FUZZ" -v ${SEED:+-s "$SEED"} "$@" >"$tmp/$name.out" 2>&1 || rc=$?
	# the whole output (extack statistics too) for VTAP_VM_KEEP=1
	[ -n "${VTAP_OUT:-}" ] && cp "$tmp/$name.out" "$VTAP_OUT/genl_fuzz-$name.out"
	if [ "$rc" != 0 ]; then	# the first failures, with the message in hex
		echo "genl_fuzz $* exited with $rc"
		grep -v -E '^genl_fuzz: (seed|[0-9])' "$tmp/$name.out" | head -n 28
	fi
	return "$rc"
}

summary() {	# NAME: the fuzzer's own lines, as TAP comments
	grep -E '^genl_fuzz: (seed|[0-9])' "$tmp/$1.out" | sed 's/^/# /'
}

same_dump() {	# NS BEFORE
	vctl "$1" -j session show >"$tmp/now" || return 1
	if ! cmp -s "$2" "$tmp/now"; then
		echo "session dump changed:"
		diff "$2" "$tmp/now"
		return 1
	fi
}

roundtrip() {
	local ns
	netns_new ns || return 1
	vctl "$ns" session add rt encap erspan3 remote 2001:db8:100::9 id 1023 &&
	[ "$(vctl "$ns" -j session show rt | json_get 'd[0]["id"]')" = 1023 ] &&
	vctl "$ns" session del rt &&
	[ "$(vctl "$ns" -j session show)" = "[]" ]
}

kernel_clean() {
	local log
	log=$(dmesg | sed -n '/fuzz_netlink: start/,$p')
	if grep -E 'BUG|WARNING|KASAN|UBSAN|Call Trace' <<<"$log"; then
		return 1
	fi
	return 0
}

unload() {
	cleanup_netns
	busywait 10000 rmmod vtap
}

t "genl_fuzz is built" test -x "$FUZZ" || finish
t "namespaces baseline and fuzz" setup || finish
t "baseline namespace: three sessions" baseline_sessions
t "fuzz namespace: two sessions" fuzz_sessions

t "genl_fuzz --unpriv: every reply well-formed, every change EPERM" \
	run_fuzz unpriv --unpriv -n "$COUNT"
summary unpriv
t "unprivileged fuzzing changed nothing (dump byte-identical)" same_dump "$fuzz" "$tmp/fuzz.before"

t "genl_fuzz: $COUNT messages, every reply well-formed" run_fuzz priv -n "$COUNT"
summary priv
t "baseline namespace unchanged (dump byte-identical)" same_dump "$base" "$tmp/base.before"

t "vtapctl info still works" vctl "$base" info
t "session add/del round trip in a fresh namespace" roundtrip
t "no BUG/WARNING/KASAN/UBSAN/Call Trace in dmesg" kernel_clean
t "namespaces deleted, rmmod vtap" unload
t "insmod vtap.ko again" insmod "$VTAP_TOP/kmod/vtap.ko"
t "vtapctl info after the reload" "$VTAPCTL" info
finish
