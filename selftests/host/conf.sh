#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vtap.conf(5) on the host, where vtap.ko is not loaded: "vtapctl apply"
# reads and checks the whole file before any netlink traffic, so a file
# with an error exits 2 with FILE:LINE and the reason for each error, and a
# good file gets as far as the missing module (exit 3).  With the normal
# build, the ASan/UBSan build, and under valgrind.
. "$(dirname "$0")/../lib.sh"

ASAN=$VTAP_TOP/build/asan/vtapctl
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=99
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
MAC=52:54:00:12:34:56
S1='session s1 encap erspan3 remote 203.0.113.10 id 7 gra 100ns'

# conf NAME LINE...: write $D/NAME.conf
conf() {
	local name=$1
	shift
	printf '%s\n' "$@" >"$D/$name.conf"
}

# run BIN WANT FILE TEXT...: exit status WANT, each TEXT in the output, no
# sanitizer report.
run() {
	local bin=$1 want=$2 file=$3 rc=0 out text
	shift 3
	out=$("$bin" apply --check "$file" 2>&1) || rc=$?
	echo "$out"
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' <<<"$out"; then
		echo "sanitizer report"
		return 1
	fi
	expect_eq "exit status" "$rc" "$want" || return 1
	for text; do
		grep -qF -- "$text" <<<"$out" || { echo "no '$text' in the output"; return 1; }
	done
}

run_daemon() {	# BIN FILE: exit 2, the file's last error reported
	local rc=0 out
	out=$("$1" daemon config "$2" 2>&1) || rc=$?
	echo "$out"
	expect_eq "exit status" "$rc" 2 && grep -q 'many.conf:27:' <<<"$out"
}

conf good \
	"# a comment" \
	"$S1 snaplen 128 sample 1/10 every rate 10mbit burst 100   # broker options" \
	"session s2 encap vxlan remote 2001:db8::10 local 2001:db8::1 vni 8 dstport 4790" \
	"session s3 encap gre remote 198.51.100.2 key 9 gso slice unparsed skip dedup" \
	"session s4 encap erspan2 remote 198.51.100.2 dedup 5ms snaplen 96" \
	"rule session s1 num 10 dir out accept proto tcp dport 443" \
	"rule session s1 num 20 dir out reject src 192.0.2.0/24" \
	"rule session s1 num 10 dir in accept vlan 10" \
	"" \
	"vm web mac $MAC id 101" \
	"    uuid 1b4e28ba-2fa1-11d2-883f-0016d3cca427" \
	"    records both" \
	"    flow session s1 dir both" \
	"    flow session s2 dir out" \
	"vm db dev tap3f2a9c1e-7b* id 102	# tabs too" \
	"	flow session s3 dir in" \
	"vm lb alias 'vm=lb*' id 103 xdp on" \
	"vm two mac 52:54:00:aa:bb:cc dev vnet* id 104"

conf many \
	"$S1" \
	"session s1 encap gre remote 203.0.113.10" \
	"session s2 encap gre remote 2001:db8::1 local 198.51.100.1" \
	"session s3 encap gre remote 203.0.113.10 vni 5" \
	"session s4 encap erspan9 remote 203.0.113.10" \
	"session s5 encap gre" \
	"session -x encap gre remote 203.0.113.10" \
	"rule session s1 num 10 dir out accept proto tcp dport 443" \
	"rule session s1 num 10 dir out accept proto udp" \
	"rule session s9 num 1 dir in accept" \
	"rule session s1 num 2 dir sideways accept" \
	"rule session s1 num 3 dir in accept proto tcp dport 99999" \
	"rule session s1 num 4 dir in" \
	"vm a mac $MAC id 1 colour red" \
	"  flow session s1 dir in" \
	"  flow session s1 dir out" \
	"  flow session s8 dir out" \
	"  flow session s1" \
	"vm b mac fe:54:00:12:34:56 id 1" \
	"  mac 00:00:00:00:00:01" \
	"vm c dev tapc id 2000000" \
	"vm d mac 52:54:00:zz:00:01 id 3" \
	"vm e id 4" \
	"vm f dev tapf" \
	"vm a dev tapa id 5" \
	"mac $MAC" \
	"sesion s6 encap gre remote 203.0.113.10"

for bin in "$VTAPCTL" "$ASAN"; do
	tag=$(basename "$(dirname "$bin")")
	[ "$tag" = build ] && tag=plain
	if [ ! -x "$bin" ]; then
		skip "$tag: binary" "$bin not built"
		continue
	fi
	t "$tag: a good file passes the checks (then: no module, exit 3)" \
		run "$bin" 3 "$D/good.conf" "vtap.ko is not loaded"
	t "$tag: every error of a bad file, with FILE:LINE, exit 2" run "$bin" 2 "$D/many.conf" \
		"many.conf:2: session s1 is declared twice (first on line 1)" \
		"many.conf:3: session s2: remote and local are of different address families" \
		"many.conf:4: session s3: vni: only for encap vxlan, not gre" \
		"many.conf:5: session s4: encap: 'erspan9' is not one of" \
		"many.conf:6: session s5: remote is required" \
		"many.conf:7: session -x: a session name is" \
		"many.conf:9: rule 10 of session s1 dir out is declared twice (first on line 8)" \
		"many.conf:10: rule: session s9 is not declared in this file" \
		"many.conf:11: rule: dir: 'sideways' is not in or out" \
		"many.conf:12: rule:" \
		"many.conf:13: rule: accept or reject is required" \
		"many.conf:14: vm a: unknown keyword 'colour'" \
		"many.conf:16: vm a: a flow to session s1 is declared twice (first on line 15)" \
		"many.conf:17: vm a: flow: session s8 is not declared in this file" \
		"many.conf:18: flow: dir {in|out|both} is required" \
		"many.conf:20: vm b: 'mac' given twice" \
		"many.conf:21: vm c: id: '2000000' is not a port id from 1 to 1048575" \
		"many.conf:22: vm d: mac: '52:54:00:zz:00:01' is not a MAC address" \
		"many.conf:23: vm e: nothing to match its device by (mac, dev or alias)" \
		"many.conf:24: vm f: id N is required" \
		"many.conf:25: vm a is declared twice (first on line 14)" \
		"many.conf:26: 'mac' outside a vm block" \
		"many.conf:27: unknown statement 'sesion'" \
		"many.conf: not applied: nothing was changed"
	conf dupmac "$S1" "vm a mac $MAC id 1" "vm b mac fe:54:00:12:34:56 id 2"
	t "$tag: two VMs one MAC would match (the guest's and the tap's)" run "$bin" 2 \
		"$D/dupmac.conf" "dupmac.conf:3: vm b: a device with this MAC would match vm a (line 2) too"
	conf badrec "$S1" "vm a dev tapa id 7" "  records sideways" "vm b dev tapb id 8 records in records out"
	t "$tag: records: a bad direction, given twice" run "$bin" 2 "$D/badrec.conf" \
		"badrec.conf:3: vm a: records: 'sideways' is not in, out, both or none" \
		"badrec.conf:4: vm b: 'records' given twice"
	conf badxdp "$S1" "vm a dev tapa id 7" "  xdp maybe" "vm b dev tapb id 8 xdp on xdp off" \
		"rule session s1 num 1 dir out accept" "xdp on"
	t "$tag: xdp: a bad value, given twice, outside a vm block" run "$bin" 2 "$D/badxdp.conf" \
		"badxdp.conf:3: vm a: xdp: 'maybe' is not on or off" \
		"badxdp.conf:4: vm b: 'xdp' given twice" \
		"badxdp.conf:6: 'xdp' outside a vm block"
	conf baddedup "$S1 dedup 2s" "session s2 encap gre remote 203.0.113.10 dedup 5 ms"
	t "$tag: a dedup window out of range, and one with a space" run "$bin" 2 "$D/baddedup.conf" \
		"baddedup.conf:1: session s1: dedup: '2s' is not a window from 1us to 1s" \
		"baddedup.conf:2: session s2: dedup: the unit goes with the number, without a space: '5ms'"
	conf dupid "$S1" "vm a dev tapa id 7" "vm b dev tapb id 7"
	t "$tag: a port id used twice" run "$bin" 2 "$D/dupid.conf" \
		"dupid.conf:3: vm b: port id 7 is vm a's already (line 2)"
	t "$tag: a file that does not exist: exit 5" run "$bin" 5 "$D/nonexistent.conf" \
		"nonexistent.conf: No such file or directory"
	printf 'session s1 encap gre remote 203.0.113.10\n%5000s\n' x >"$D/long.conf"
	t "$tag: a line too long" run "$bin" 2 "$D/long.conf" "long.conf:2: line too long"
	head -c 3000 /dev/urandom >"$D/random.conf"
	t "$tag: random bytes: refused, no crash" run "$bin" 2 "$D/random.conf" "not applied"
	t "$tag: apply without a file: usage, exit 2" sh -c "'$bin' apply 2>&1; [ \$? = 2 ]"
	t "$tag: daemon with a bad file: exit 2 before starting" run_daemon "$bin" "$D/many.conf"
done

if command -v valgrind >/dev/null; then
	t "valgrind: the good and the bad file, no errors, no leaks" sh -c \
		"valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
			'$VTAPCTL' apply --check '$D/good.conf' >/dev/null 2>&1; [ \$? = 3 ] &&
		 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
			'$VTAPCTL' apply --check '$D/many.conf' >/dev/null 2>&1; [ \$? = 2 ]"
else
	skip "valgrind" "valgrind is not installed"
fi
finish
