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

check_err() {	# WANT TEXT CMD...: exit status WANT, TEXT in what it printed
	local want=$1 text=$2
	shift 2
	local out
	out=$(check_exit "$want" "$@") || { echo "$out"; return 1; }
	echo "$out"
	grep -qF -- "$text" <<<"$out" || { echo "no '$text' in the output"; return 1; }
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
	t "$tag: bad encap: exit 2, lists vxlan" check_err 2 "is not one of gre, erspan2, erspan3, vxlan" \
		"$bin" session add s encap geneve remote 192.0.2.1
	# VXLAN: valid requests reach the (missing) module: exit 3.
	v="session add s encap vxlan remote 192.0.2.1"
	t "$tag: encap vxlan: parsed (exit 3)" check_exit 3 "$bin" $v
	t "$tag: vxlan vni 0 dstport 1: parsed" check_exit 3 "$bin" $v vni 0 dstport 1
	t "$tag: vxlan vni 16777215 dstport 65535: parsed" check_exit 3 "$bin" $v vni 16777215 dstport 65535
	t "$tag: vxlan over IPv6: parsed" check_exit 3 "$bin" session add s encap vxlan remote 2001:db8::2 local 2001:db8::1 vni 7
	t "$tag: vni before encap: parsed" check_exit 3 "$bin" session add s vni 7 dstport 8472 remote 192.0.2.1 encap vxlan
	t "$tag: vxlan with broker options: parsed" check_exit 3 "$bin" $v vni 7 snaplen 128 rate 10mbit
	t "$tag: vni 16777216: exit 2" check_err 2 "vni: '16777216' is not a decimal number from 0 to 16777215" "$bin" $v vni 16777216
	t "$tag: vni 4294967296: exit 2" check_exit 2 "$bin" $v vni 4294967296
	t "$tag: vni -1: exit 2" check_exit 2 "$bin" $v vni -1
	t "$tag: vni 0x10 (decimal only): exit 2" check_err 2 "decimal" "$bin" $v vni 0x10
	t "$tag: vni empty: exit 2" check_exit 2 "$bin" $v vni ""
	t "$tag: vni without value: exit 2" check_err 2 "'vni' needs a value" "$bin" $v vni
	t "$tag: dstport 0: exit 2" check_err 2 "dstport: '0' is not a decimal number from 1 to 65535" "$bin" $v dstport 0
	t "$tag: dstport 65536: exit 2" check_err 2 "dstport: '65536'" "$bin" $v dstport 65536
	t "$tag: dstport name: exit 2" check_exit 2 "$bin" $v dstport vxlan
	for e in gre erspan2 erspan3; do
		t "$tag: vni with encap $e: exit 2" check_err 2 "vni: only for encap vxlan, not $e" \
			"$bin" session add s encap $e remote 192.0.2.1 vni 5
		t "$tag: dstport with encap $e: exit 2" check_err 2 "dstport: only for encap vxlan, not $e" \
			"$bin" session add s encap $e remote 192.0.2.1 dstport 4789
	done
	t "$tag: vni given before encap gre: exit 2" check_err 2 "only for encap vxlan" \
		"$bin" session add s vni 5 encap gre remote 192.0.2.1
	t "$tag: key with vxlan: exit 2" check_err 2 "key: only for encap gre, not vxlan" "$bin" $v key 5
	t "$tag: hwid with vxlan: exit 2" check_err 2 "hwid: only for encap erspan3, not vxlan" "$bin" $v hwid 1
	t "$tag: gra with vxlan: exit 2" check_err 2 "gra: only for encap erspan3, not vxlan" "$bin" $v gra 100ns
	t "$tag: subheader with vxlan: exit 2" check_err 2 "subheader: only for encap erspan3, not vxlan" \
		"$bin" $v subheader 7
	for e in gre erspan2; do
		t "$tag: subheader with encap $e: exit 2" check_err 2 "subheader: only for encap erspan3, not $e" \
			"$bin" session add s encap $e remote 192.0.2.1 subheader 3
	done
	for sh in none 3 7; do
		t "$tag: erspan3 subheader $sh: parsed (exit 3)" check_exit 3 \
			"$bin" session add s encap erspan3 remote 192.0.2.1 subheader $sh
	done
	t "$tag: subheader 5: exit 2" check_err 2 "subheader: '5' is not one of none, 3, 7" \
		"$bin" session add s encap erspan3 remote 192.0.2.1 subheader 5
	t "$tag: subheader twice: exit 2" check_err 2 "'subheader' given twice" \
		"$bin" session add s encap erspan3 remote 192.0.2.1 subheader 3 subheader 7
	t "$tag: set subheader: parsed (exit 3)" check_exit 3 "$bin" session set s subheader 7
	t "$tag: set subheader x: exit 2" check_exit 2 "$bin" session set s subheader x
	for dd in "dedup" "dedup on" "dedup off" "dedup 5ms" "dedup 250us" "dedup 1s" "dedup 7"; do
		t "$tag: $dd: parsed (exit 3)" check_exit 3 "$bin" $v $dd
		t "$tag: set $dd: parsed (exit 3)" check_exit 3 "$bin" session set s $dd
	done
	t "$tag: dedup then another option: parsed (exit 3)" check_exit 3 "$bin" $v dedup ttl 9
	for dd in 0 0ms 2s 1000001 5x 1.5ms; do
		t "$tag: dedup $dd: exit 2" check_err 2 "dedup: '$dd' is not a window from 1us to 1s" \
			"$bin" $v dedup $dd
	done
	t "$tag: session help names dedup" check_err 0 "dedup [on|off|WINDOW]" "$bin" session help
	t "$tag: key with erspan2: exit 2" check_err 2 "key: only for encap gre" \
		"$bin" session add s encap erspan2 remote 192.0.2.1 key 5
	t "$tag: vni twice: exit 2" check_err 2 "'vni' given twice" "$bin" $v vni 1 vni 2
	t "$tag: dstport twice: exit 2" check_err 2 "'dstport' given twice" "$bin" $v dstport 4789 dstport 4789
	t "$tag: encap twice: exit 2" check_err 2 "'encap' given twice" "$bin" $v encap gre
	t "$tag: set vni: parsed (exit 3)" check_exit 3 "$bin" session set s vni 9
	t "$tag: set dstport: parsed (exit 3)" check_exit 3 "$bin" session set s dstport 8472
	t "$tag: set vni 16777216: exit 2" check_exit 2 "$bin" session set s vni 16777216
	t "$tag: set dstport 0: exit 2" check_exit 2 "$bin" session set s dstport 0
	t "$tag: set vni twice: exit 2" check_exit 2 "$bin" session set s vni 1 vni 1
	t "$tag: set encap: exit 2" check_exit 2 "$bin" session set s encap vxlan
	t "$tag: session help: vxlan, vni, dstport" sh -c \
		"out=\$('$bin' session help); for w in vxlan 'vni N' 'dstport N'; do echo \"\$out\" | grep -q \"\$w\" || exit 1; done"
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
	# Flow records: port records, flows show/set/export (parsed before anything else).
	t "$tag: port add records sideways: exit 2" check_err 2 "records: 'sideways' is not in, out, both or none" \
		"$bin" port add lo records sideways
	t "$tag: port add records twice: exit 2" check_err 2 "'records' given twice" \
		"$bin" port add lo records in records out
	t "$tag: port set without records: exit 2" check_err 2 "usage: vtapctl port set [dev] DEV [records" "$bin" port set lo
	t "$tag: port set records bad: exit 2" check_err 2 "is not in, out, both or none" "$bin" port set lo records all
	t "$tag: flows set limit 0: exit 2" check_err 2 "limit: '0' is not a number from 1 to 131072" \
		"$bin" flows set limit 0
	t "$tag: flows set limit 131073: exit 2" check_exit 2 "$bin" flows set limit 131073
	t "$tag: flows set nothing: exit 2" check_exit 2 "$bin" flows set
	t "$tag: flows show dev: exit 2" check_exit 2 "$bin" flows show dev
	t "$tag: flows export without to: exit 2" check_err 2 "where to?" "$bin" flows export idle 5
	t "$tag: flows export to a name: exit 2" check_err 2 "is not an IPv4 or IPv6 address" \
		"$bin" flows export to collector.example
	t "$tag: flows export port 0: exit 2" check_err 2 "is not a port from 1 to 65535" \
		"$bin" flows export to 192.0.2.1:0
	t "$tag: flows export [v6] without ]: exit 2" check_exit 2 "$bin" flows export to "[2001:db8::1:4739"
	t "$tag: flows export file: without a path: exit 2" check_err 2 "names no file" "$bin" flows export to file:
	t "$tag: flows export active 0: exit 2" check_err 2 "active: '0' is not a number from 1 to 86400" \
		"$bin" flows export to 192.0.2.1 active 0
	t "$tag: flows export interval 5: exit 2" check_exit 2 "$bin" flows export to 192.0.2.1 interval 5
	t "$tag: flows export idle twice: exit 2" check_err 2 "'idle' given twice" \
		"$bin" flows export to 192.0.2.1 idle 1 idle 2
	t "$tag: flows export 9 destinations: exit 2" check_err 2 "at most 8 destinations" \
		"$bin" flows export $(for i in $(seq 9); do echo to 192.0.2.$i; done)
	t "$tag: flows export unknown option: exit 2" check_exit 2 "$bin" flows export to 192.0.2.1 mtu 1500
	if command -v unshare >/dev/null && [ "$(id -u)" = 0 ]; then
		t "$tag: flows show in a namespace without ports: exit 5" check_err 5 "no vtap port" \
			unshare -n "$bin" flows show
		t "$tag: flows export (IPv6 collector, file) without ports: exit 5" check_err 5 "no vtap port" \
			unshare -n "$bin" flows export to "[2001:db8::1]:4739" to 192.0.2.1 to file:/dev/null
	fi
	# stats format prometheus [write FILE]: the file is made before the
	# module is asked, so its errors show here (exit 8); nothing is left behind.
	t "$tag: stats write to a missing directory: exit 8" check_err 8 \
		"stats: write /nonexistent/dir/v.prom: cannot create a temporary file in its directory: No such file or directory" \
		"$bin" stats format prometheus write /nonexistent/dir/v.prom
	t "$tag: stats write over /dev/null: exit 8, not replaced" sh -c \
		"out=\$('$bin' stats format prometheus write /dev/null 2>&1); [ \$? = 8 ] && echo \"\$out\" | grep -q 'not a regular file' && [ -c /dev/null ]"
	t "$tag: stats write over a directory: exit 8" check_err 8 "not a regular file" \
		"$bin" stats format prometheus write /tmp
	t "$tag: stats write without format prometheus: exit 2" check_err 2 \
		"stats: write: only with format prometheus" "$bin" stats write /tmp/v.prom
	t "$tag: stats -j format prometheus: exit 2" check_err 2 "format prometheus: not with -j" \
		"$bin" -j stats format prometheus
	t "$tag: stats format yaml: exit 2" check_err 2 "format: 'yaml' is not text, json or prometheus" \
		"$bin" stats format yaml
	t "$tag: stats write empty name: exit 2" check_err 2 "write: '' is not a file name" \
		"$bin" stats format prometheus write ""
	pdir=$(mktemp -d)
	t "$tag: stats format prometheus write, no module: exit 3, no file left" sh -c \
		"'$bin' stats format prometheus write '$pdir/v.prom'; [ \$? = 3 ] && [ -z \"\$(ls -A '$pdir')\" ]"
	rm -rf "$pdir"
	t "$tag: flows help lists every command" sh -c \
		"out=\$('$bin' flows help); for c in show set export; do echo \"\$out\" | grep -q \"flows \$c\" || exit 1; done"
done

if command -v valgrind >/dev/null; then
	vg() { valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$@"; }
	t "valgrind: usage error path" check_exit 2 vg "$VTAPCTL" session add s encap gre remote nowhere
	t "valgrind: no-module path" check_exit 3 vg "$VTAPCTL" session show
	t "valgrind: help" check_exit 0 vg "$VTAPCTL" session help
	t "valgrind: vxlan keyword of another encap" check_exit 2 vg "$VTAPCTL" session add s encap gre remote 192.0.2.1 vni 5
	t "valgrind: flows export usage error" check_exit 2 vg "$VTAPCTL" flows export to 192.0.2.1:0 idle 5
	if command -v unshare >/dev/null && [ "$(id -u)" = 0 ]; then
		t "valgrind: flows export without ports" check_exit 5 unshare -n valgrind -q \
			--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
			"$VTAPCTL" flows export to 192.0.2.1 to "[2001:db8::1]:4739"
	fi
	t "valgrind: stats write to a missing directory" check_exit 8 vg "$VTAPCTL" stats format prometheus write /nonexistent/v.prom
	t "valgrind: stats write, no module" check_exit 3 vg "$VTAPCTL" stats format prometheus write /tmp/vtap-valgrind.prom
	t "valgrind: vxlan, no module" check_exit 3 vg "$VTAPCTL" session add s encap vxlan remote 192.0.2.1 vni 5 dstport 8472
else
	skip "valgrind" "valgrind not installed"
fi
finish
