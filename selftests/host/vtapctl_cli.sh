#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vtapctl on the host, where vtap.ko is not loaded: usage errors are caught
# before any netlink traffic and get exit code 2, a missing module gets exit
# code 3 and one line saying how to load it.  Run with the normal build, the
# ASan/UBSan build, and under valgrind.
. "$(dirname "$0")/../lib.sh"

ASAN=$VTAP_TOP/build/asan/vtapctl
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=99

check_exit() {	# WANT CMD...: exit status and no sanitizer report
	local want=$1 rc=0 out
	shift
	out=$("$@" 2>&1) || rc=$?
	echo "$out"
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' <<<"$out"; then
		echo "sanitizer report"
		return 1
	fi
	expect_eq "exit status of '$*'" "$rc" "$want"
}

for bin in "$VTAPCTL" "$ASAN"; do
	tag=$(basename "$(dirname "$bin")")
	[ "$tag" = build ] && tag=plain
	if [ ! -x "$bin" ]; then
		skip "$tag: binary" "$bin not built"
		continue
	fi
	t "$tag: version" sh -c "'$bin' version | grep -qx 'vtapctl [0-9.]*'"
	t "$tag: -j version is JSON" sh -c "'$bin' -j version | python3 -c 'import json,sys; json.load(sys.stdin)'"
	t "$tag: no arguments: usage, exit 2" check_exit 2 "$bin"
	t "$tag: help: exit 0" check_exit 0 "$bin" help
	t "$tag: unknown option: exit 2" check_exit 2 "$bin" --frobnicate info
	t "$tag: unknown object: exit 2" check_exit 2 "$bin" nosuchthing
	t "$tag: unknown session command: exit 2" check_exit 2 "$bin" session frob
	t "$tag: session help lists every command" sh -c \
		"out=\$('$bin' session help); for c in add set del show; do echo \"\$out\" | grep -q \"session \$c\" || exit 1; done"
	t "$tag: bad encap: exit 2" check_exit 2 "$bin" session add s encap vxlan remote 192.0.2.1
	t "$tag: id 0: exit 2" check_exit 2 "$bin" session add s encap gre remote 192.0.2.1 id 0
	t "$tag: id 1024: exit 2" check_exit 2 "$bin" session add s encap gre remote 192.0.2.1 id 1024
	t "$tag: id not a number: exit 2" check_exit 2 "$bin" session add s encap gre remote 192.0.2.1 id 7x
	t "$tag: bad address: exit 2" check_exit 2 "$bin" session add s encap gre remote 192.0.2.300
	t "$tag: missing remote: exit 2" check_exit 2 "$bin" session add s encap gre
	t "$tag: missing encap: exit 2" check_exit 2 "$bin" session add s remote 192.0.2.1
	t "$tag: missing value: exit 2" check_exit 2 "$bin" session add s encap gre remote
	t "$tag: name too long: exit 2" check_exit 2 "$bin" session add "$(printf 'n%.0s' $(seq 40))" encap gre remote 192.0.2.1
	t "$tag: ttl 0: exit 2" check_exit 2 "$bin" session add s encap gre remote 192.0.2.1 ttl 0
	t "$tag: bad gra: exit 2" check_exit 2 "$bin" session add s encap erspan3 remote 192.0.2.1 gra 1s
	t "$tag: unknown option: exit 2" check_exit 2 "$bin" session add s encap gre remote 192.0.2.1 colour blue
	t "$tag: no module: info exit 3" check_exit 3 "$bin" info
	t "$tag: no module: session show exit 3" check_exit 3 "$bin" session show
	t "$tag: no module: one line naming modprobe" sh -c \
		"out=\$('$bin' info 2>&1); [ \$(echo \"\$out\" | wc -l) = 1 ] && echo \"\$out\" | grep -q 'modprobe vtap'"
done

if command -v valgrind >/dev/null; then
	vg() { valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$@"; }
	t "valgrind: usage error path" check_exit 2 vg "$VTAPCTL" session add s encap gre remote nowhere
	t "valgrind: no-module path" check_exit 3 vg "$VTAPCTL" session show
	t "valgrind: help" check_exit 0 vg "$VTAPCTL" session help
else
	skip "valgrind" "valgrind not installed"
fi
finish
