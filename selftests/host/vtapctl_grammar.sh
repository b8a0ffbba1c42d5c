#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vtapctl's command line (issue 19: "vtapctl speaks like ip and tc"), as a
# table: each row is the exit status, a text the output must contain (""
# for none) and the arguments.  vtap.ko is not loaded on the host, so a
# command that vtapctl parsed and would send gets exit 3; one it refused
# gets 2 before any netlink traffic.  Every row runs with the normal build
# and the ASan/UBSan build (build/asan/vtapctl); then -b, -p and -n, which
# need files and a namespace.
. "$(dirname "$0")/../lib.sh"

ASAN=$VTAP_TOP/build/asan/vtapctl
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=99
NOMOD="module is not loaded"
G="session add s encap gre remote 192.0.2.1"

# EXIT | TEXT | ARGS (split on blanks; \s is a space, \n a newline)
TABLE=$(cat <<EOF
# --- no command: show (as ip link, tc qdisc), or usage without a show
3|$NOMOD|session
3|$NOMOD|port
3|$NOMOD|flow
3|$NOMOD|rule
5|no vtap port in this network namespace|flows
# --- flow show exists
3|$NOMOD|flow show
3|$NOMOD|flow show session s port lo
2|'port' given twice|flow show port lo port lo
2|flow: unknown keyword 'dir'|flow show dir in
# --- prefixes and aliases
3|$NOMOD|sess sh
3|$NOMOD|se sho s1
3|$NOMOD|session list
3|$NOMOD|session ls
3|$NOMOD|session l
3|$NOMOD|port li
3|$NOMOD|rule ls
3|$NOMOD|session delete s1
3|$NOMOD|session dele s1
3|$NOMOD|session a s encap gre remote 192.0.2.1
3|$NOMOD|i
3|$NOMOD|inf
0|vtapctl|v
0|vtapctl|ver
0|Usage: vtapctl session add|session h
0|Usage: vtapctl session add|sess help
2|'s' is ambiguous: session, stats|s
2|'fl' is ambiguous: flow, flows|fl show
2|session: 's' is ambiguous: set, show|session s
2|unknown object 'sessions'|sessions
2|session: unknown command 'shows'|session shows
2|session: unknown command 'frob'|session frob
3|$NOMOD|flow sh
5|no vtap port in this network namespace|flows sh
# --- options after the object: -j and -p are options, not names
3|$NOMOD|session show -j
3|$NOMOD|session show s1 -j
3|$NOMOD|session show --json s1
3|$NOMOD|port show -p
0|{"vtapctl"|version -j
2|unknown option '--frobnicate'|--frobnicate info
2|'-n' needs a value|-n
2|'-b' needs a value|-b
2|-f is for -b|-f version
# --- names: a documented set
2|a session name is 1 to 31 of A-Z a-z 0-9 . _ : @ + -|session add a\\sb encap gre remote 192.0.2.1
2|a session name is 1 to 31|session add a\\nb encap gre remote 192.0.2.1
2|is not 'help'|session add help encap gre remote 192.0.2.1
2|does not start with -|session add -x encap gre remote 192.0.2.1
2|a session name is 1 to 31|session show a\\sb
2|a session name is 1 to 31|session show -x
2|a session name is 1 to 31|session del a\\sb
2|a session name is 1 to 31|session add nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn encap gre remote 192.0.2.1
3|$NOMOD|session add a.b_c:d@e+f-g encap gre remote 192.0.2.1
2|a session name is 1 to 31|flow add session -j1 port lo dir in
# --- name and dev keywords (as ip)
3|$NOMOD|session add name ids encap gre remote 192.0.2.1
3|$NOMOD|session set name ids ttl 9
3|$NOMOD|session show name ids
3|$NOMOD|session del name ids
3|$NOMOD|port show dev lo
5|port set: lo is not a vtap port|port set dev lo records in
2|usage: vtapctl port show|port show dev lo extra
# --- keywords: unknown, missing value, twice -- the same in every command
2|session: unknown keyword 'bogus'|$G bogus
2|session: unknown keyword 'bogus'|$G bogus 1
2|'ttl' needs a value|$G ttl
2|'ttl' given twice|$G ttl 9 ttl 9
2|'rate' given twice|$G rate 10 rate 20
2|'snaplen' given twice|$G snaplen 64 snaplen 128
2|'sample' given twice|$G sample 1/2 sample 1/3
2|'gso' given twice|$G gso slice gso segment
2|'dedup' given twice|$G dedup dedup off
2|'ttl' given twice|session set s ttl 9 ttl 9
2|'rate' given twice|session set s rate 10 rate 10
2|session: unknown keyword 'burst'|$G burst 10
2|session set: 'encap' cannot be changed|session set s encap vxlan
2|session set: 'id' cannot be changed|session set s id 5
2|port: unknown keyword 'bogus'|port add lo bogus
2|'xdp' needs a value|port add lo xdp
2|xdp: 'yes' is not on or off|port add lo xdp yes
2|'xdp' given twice|port add lo xdp on xdp off
3|$NOMOD|port add lo xdp on
3|$NOMOD|port add lo id 3 xdp off records both
2|xdp: 'maybe' is not on or off|port set lo xdp maybe
2|'xdp' given twice|port set lo xdp on xdp on
2|port: unknown keyword 'bogus'|port set lo bogus on
2|usage: vtapctl port set [dev] DEV [records|port set lo records in xdp
5|port set: lo is not a vtap port|port set lo xdp on
5|port set: lo is not a vtap port|port set lo records in xdp off
2|'id' needs a value|port add lo id
2|'id' given twice|port add lo id 1 id 2
2|flow: unknown keyword 'bogus'|flow add session s port lo bogus
2|'dir' needs a value|flow add session s port lo dir
2|'dir' given twice|flow add session s port lo dir in dir out
2|rule: unknown keyword 'bogus'|rule add session s bogus
2|'num' needs a value|rule del session s num
2|'num' given twice|rule del session s num 1 num 2 dir in
2|stats: unknown keyword 'bogus'|stats bogus
2|'session' needs a value|stats session
2|'port' given twice|stats port lo port lo
2|'format' given twice|stats format prometheus format prometheus
2|'write' given twice|stats format prometheus write a write b
2|'write' needs a value|stats format prometheus write
2|stats: unknown keyword 'prometheus'|stats prometheus
3|$NOMOD|stats format prometheus
3|$NOMOD|stats session s port lo format text
3|$NOMOD|stats format json
3|$NOMOD|stats -j format json
2|collect: unknown keyword 'bogus'|collect write x.pcapng bogus
2|collect: unknown keyword 'bogus'|collect bogus 1
2|'write' needs a value|collect write
2|'count' given twice|collect write x.pcapng count 1 count 2
2|'duration' given twice|collect write x.pcapng duration 1 duration 2
2|collect: xdp needs dev IFACE|collect to lo xdp
2|collect: dev IFACE is where xdp attaches: give xdp too|collect to lo dev lo
2|collect: mode is XDP's: give dev IFACE xdp too|collect to lo mode native
2|collect: mode: 'bogus' is not native or generic|collect to lo dev lo xdp mode bogus
2|'xdp' given twice|collect to lo dev lo xdp xdp
2|'dev' given twice|collect to lo dev lo dev lo xdp
2|'mode' needs a value|collect to lo dev lo xdp mode
2|flows: unknown keyword 'bogus'|flows export to 192.0.2.1 bogus
2|'idle' given twice|flows export to 192.0.2.1 idle 5 idle 6
0|Usage: vtapctl collect|collect --help
0|Usage: vtapctl collect|collect -h
0|Usage: vtapctl collect|collect help
# --- rates: bare number packets/s; tc's units in any case; fractions
3|$NOMOD|$G rate 1000
3|$NOMOD|$G rate 100pps
3|$NOMOD|$G rate 10mbit
3|$NOMOD|$G rate 10Mbit
3|$NOMOD|$G rate 10MBIT
3|$NOMOD|$G rate 1.5mbit
3|$NOMOD|$G rate 1.5Gbit burst 100000
3|$NOMOD|$G rate 64kbps
3|$NOMOD|$G rate 2KBps
3|$NOMOD|$G rate 1kibit
3|$NOMOD|$G rate none
2|is not a positive whole rate|$G rate 1.5pps
2|is not a positive whole rate|$G rate 1.5
2|is not a positive whole rate|$G rate 10mbits
2|is not a positive whole rate|$G rate 999bit
2|is not a positive whole rate|$G rate 0
2|is not a positive whole rate|$G rate 2tbit
2|burst: needs a positive number|$G rate 10mbit burst 0
# --- numbers: decimal; a leading zero is refused where it was octal
3|$NOMOD|$G ttl 10
3|$NOMOD|$G key 0x10
2|leading zero, which once meant octal|$G ttl 010
2|leading zero|$G tos 010
2|leading zero|$G id 07
2|leading zero|$G key 08
2|num: '010' has a leading zero|rule del session s num 010 dir in
2|is not a rule number from 1|rule del session s num 0 dir in
2|id: '010' has a leading zero|port add lo id 010
2|limit: '010' has a leading zero|flows set limit 010
2|collect: count: '010' has a leading zero|collect write x.pcapng count 010
2|collect: session: '07' has a leading zero|collect write x.pcapng session 07
3|$NOMOD|session add s encap vxlan remote 192.0.2.1 vni 010
2|decimal|session add s encap vxlan remote 192.0.2.1 vni 0x10
# --- collect: the output file's errors are exit 8 (not 4 or 7)
8|/nonexistent/dir/x.pcapng|collect encap vxlan dstport 47899 write /nonexistent/dir/x.pcapng count 1
8|/dev/full: No space left on device|collect encap vxlan dstport 47899 write /dev/full count 1
EOF
)

check_row() {	# BIN WANT TEXT ARGS...: exit status, text, no sanitizer report
	local bin=$1 want=$2 text=$3 rc=0 out
	shift 3
	out=$(cd "$TMP" && timeout 20 "$bin" "$@" 2>&1 </dev/null) || rc=$?
	echo "$out"
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' <<<"$out"; then
		echo "sanitizer report"
		return 1
	fi
	expect_eq "exit status" "$rc" "$want" || return 1
	[ -z "$text" ] || grep -qF -- "$text" <<<"$out" || { echo "no '$text' in the output"; return 1; }
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; cleanup_netns' EXIT

rows=0
for bin in "$VTAPCTL" "$ASAN"; do
	tag=$(basename "$(dirname "$bin")")
	[ "$tag" = build ] && tag=plain
	if [ ! -x "$bin" ]; then
		skip "$tag: binary" "$bin not built"
		continue
	fi
	while IFS='|' read -r want text args; do
		case $want in ''|'#'*) continue ;; esac
		argv=()
		for a in $args; do
			a=${a//\\s/ }
			a=${a//\\n/$'\n'}
			argv+=("$a")
		done
		rows=$((rows + 1))
		t "$tag: vtapctl $args -> $want" check_row "$bin" "$want" "$text" "${argv[@]}"
	done <<<"$TABLE"

	# collect: a file it may not create is 8 (4 is CAP_NET_RAW); as nobody,
	# VXLAN on a port above 1023 needs no privilege.
	if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
		mkdir -p "$TMP/private" && chmod 700 "$TMP/private" && chmod 755 "$TMP"
		printf '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups %s "$@"\n' \
			"$bin" > "$TMP/nobody" && chmod 755 "$TMP/nobody"
		t "$tag: collect write into a directory it may not write: exit 8, not 4" \
			check_row "$TMP/nobody" 8 "Permission denied" \
			collect encap vxlan dstport 47899 write "$TMP/private/x" count 1
		t "$tag: stats write into a directory it may not write: exit 8, not 4" \
			check_row "$TMP/nobody" 8 "Permission denied" \
			stats format prometheus write "$TMP/private/v.prom"
	else
		skip "$tag: collect write, permission denied" "needs root and setpriv"
	fi
	# -j: a failed show prints nothing on stdout, not "[]".
	t "$tag: -j: a refused show prints nothing on stdout" \
		sh -c "out=\$('$bin' -j session show -x 2>/dev/null); [ -z \"\$out\" ]"
	# -p: indented JSON (implies -j).
	t "$tag: -p version: indented JSON" sh -c \
		"'$bin' -p version | python3 -c 'import json,sys; s=sys.stdin.read(); json.loads(s); assert \"\n    \\\"vtapctl\\\": \" in s, s'"
	t "$tag: version -p: the same after the object" sh -c \
		"[ \"\$('$bin' version -p)\" = \"\$('$bin' -p version)\" ]"

	# -b: one command a line, comments, quotes; stops at the first failure.
	printf '%s\n' '# a comment' '' 'version' 'version -j   # JSON' 'version' > "$TMP/ok.batch"
	t "$tag: -b: every line runs, -j per line" sh -c \
		"out=\$('$bin' -b '$TMP/ok.batch'); [ \"\$(echo \"\$out\" | sed -n 2p)\" = \"\$('$bin' -j version)\" ] && [ \$(echo \"\$out\" | wc -l) = 3 ]"
	printf '%s\n' 'version' 'version bogus' 'version' > "$TMP/stop.batch"
	t "$tag: -b: stops at the first failure, FILE:LINE, its exit status" sh -c \
		"out=\$('$bin' -b '$TMP/stop.batch' 2>&1); rc=\$?; [ \$rc = 2 ] && echo \"\$out\" | grep -q 'stop.batch:2: version takes no arguments' && [ \$(echo \"\$out\" | grep -c '^vtapctl [0-9]') = 1 ]"
	t "$tag: -b -f: goes on, exit status of the first failure" sh -c \
		"out=\$('$bin' -f -b '$TMP/stop.batch' 2>&1); rc=\$?; [ \$rc = 2 ] && [ \$(echo \"\$out\" | grep -c '^vtapctl [0-9]') = 2 ]"
	t "$tag: -b -: standard input; quotes make one word" sh -c \
		"echo \"session add 'a b' encap gre remote 192.0.2.1\" | '$bin' -b - 2>&1 | grep -q '^vtapctl: -:1: a session name.*(not \"a b\")'"
	printf '%s\n' 'session add "a b' > "$TMP/quote.batch"
	t "$tag: -b: an open quote" check_row "$bin" 2 "quote.batch:1: a quote is not closed" -b "$TMP/quote.batch"
	printf '%s\n' '-j version' > "$TMP/opt.batch"
	t "$tag: -b: options go on the command line" check_row "$bin" 2 "options go on vtapctl's command line" -b "$TMP/opt.batch"
	printf '%s\n' 'collect write x' > "$TMP/collect.batch"
	t "$tag: -b: collect is refused" check_row "$bin" 2 "runs until it is stopped" -b "$TMP/collect.batch"
	t "$tag: -b: a missing file: exit 5" check_row "$bin" 5 "No such file" -b "$TMP/nosuch"
	t "$tag: -b and a command: exit 2" check_row "$bin" 2 "not the command line" -b "$TMP/ok.batch" version
	printf 'session add s%d encap gre remote 192.0.2.%d\n' 1 1 2 2 > "$TMP/mod.batch"
	t "$tag: -b: the first module request: exit 3, once" sh -c \
		"out=\$('$bin' -b '$TMP/mod.batch' 2>&1); [ \$? = 3 ] && [ \$(echo \"\$out\" | wc -l) = 1 ] && echo \"\$out\" | grep -q 'mod.batch:1:'"

	# -n NETNS: a namespace that does not exist; one that does (a device only there).
	t "$tag: -n nosuch: exit 5" check_row "$bin" 5 "ip netns list" -n "vt-nosuch-$$" info
	t "$tag: -n '..': exit 2" check_row "$bin" 2 "not a network namespace name" -n .. info
	if [ "$(id -u)" = 0 ] && netns_new NS 2>/dev/null; then
		# An address only the namespace has: collect can listen on it there.
		ip -n "$NS" addr add 198.51.100.77/32 dev lo
		c="collect encap vxlan dstport 47898 listen 198.51.100.77 write $TMP/n.pcapng duration 1"
		t "$tag: without -n: the namespace's address is not here (exit 1)" \
			check_row "$bin" 1 "" $c
		t "$tag: -n NETNS: collect listens on the namespace's address (exit 0)" \
			check_row "$bin" 0 "" -n "$NS" $c
		t "$tag: -n /run/netns/NETNS: a path too" \
			check_row "$bin" 0 "" -n "/run/netns/$NS" $c
		cleanup_netns
	else
		skip "$tag: -n NETNS" "needs root and ip netns"
	fi
done
echo "# $rows table rows"
finish
