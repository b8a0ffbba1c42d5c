#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vtapctl port, flow and stats in the test VM: ports on veth and tap devices
# (TC programs, pinned maps with BTF), flows per direction, counters from
# real traffic, two hypervisor namespaces side by side, bad input changing
# nothing, session del removing its flows and rules, a port whose device
# vanished, a dead namespace's leftovers, concurrent vtapctl runs, and no
# pins, no clsact of ours and no hold on vtap.ko once all ports are gone.
#
#   ns vm1                 ns hv                                ns vm2
#   eth0 192.0.2.1 <-veth-> vnet1 --- br0 --- vnet2 <-veth-> eth0 192.0.2.2
#                           tap0 (a tap port, no traffic)
#   ns vm3                 ns hv2
#   eth0 192.0.2.3 <-veth-> vnet1 192.0.2.254  (same names as in hv)
#
# The test's own network namespace is hv: vtapctl runs there directly,
# without an nsenter per call (which costs up to a second under TCG).
[ -n "${VTAP_PORTS_OWN_NS:-}" ] || VTAP_PORTS_OWN_NS=1 exec unshare --net -- "$0" "$@"
. "$(dirname "$0")/../lib.sh"

ROOT=/sys/fs/bpf/vtap
ASAN=${VTAPCTL_ASAN:-$VTAP_TOP/build/asan/vtapctl}
UUID=0123abcd-4567-89ab-cdef-0123456789ab
PY=/usr/bin/python3	# not a python3 earlier in PATH that takes seconds to start
[ -x "$PY" ] || PY=python3
PY="$PY -S"		# no site: faster, json is enough

trap cleanup_netns EXIT
modprobe -a veth sch_ingress cls_bpf tun bridge cls_matchall act_gact

v() { "$VTAPCTL" "$@"; }
v2() { nsx "$hv2" "$VTAPCTL" "$@"; }
inns() {	# NS CMD...: CMD in NS, or here (hv) if NS is empty
	local ns=$1
	shift
	if [ -n "$ns" ]; then nsx "$ns" "$@"; else "$@"; fi
}
ifindex_of() { ip -o link show dev "$1" | cut -d: -f1; }	# in hv
nsdir() { echo "$ROOT/net$(inns "${1:-}" stat -L -c %i /proc/self/ns/net)"; }

# code WANT CMD...: CMD exits with WANT; on failure it says why ("vtapctl: ...").
code() {
	local want=$1 rc=0 err
	shift
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	echo "$err"
	expect_eq "exit status of '$*'" "$rc" "$want" || return 1
	if [ "$want" != 0 ] && ! grep -q '^vtapctl: ' <<<"$err"; then
		echo "no 'vtapctl: ' message on stderr"
		return 1
	fi
}

# jcheck EXPR CMD...: CMD prints JSON, loaded as d; EXPR (Python) must hold.
# P maps a port list's devices (or ifindexes) to ports; F is a bpftool map
# dump's entries ({key, value}), E maps its (integer) keys to values.
jcheck() {
	local expr=$1 out
	shift
	out=$("$@") || return 1
	$PY -c '
import json, sys
d = json.loads(sys.argv[2])
P = {p.get("dev", p.get("ifindex")): p for p in d} if isinstance(d, list) and d and "ifindex" in d[0] else {}
F = [e.get("formatted", e) for e in d] if isinstance(d, list) and d and "key" in d[0] else []
E = {f["key"]: f["value"] for f in F} if F and isinstance(F[0]["key"], int) else {}
def names(flows): return [f.get("session", "#%d" % f["id"]) for f in flows]
if not eval("(" + sys.argv[1] + ")"):
	print(json.dumps(d))
	print("failed:", sys.argv[1])
	sys.exit(1)' "$expr" "$out"
}

mapj() { bpftool -j map dump pinned "$(nsdir "$1")/ports"; }
jget() { $PY -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
matched() { v -j session show "$1" | jget 'd[0]["stats"]["matched"]'; }	# in hv

setup() {
	local ns
	ip link set lo up &&
	netns_new vm1 && netns_new vm2 && netns_new vm3 && netns_new hv2 || return 1
	for ns in "$vm1" "$vm2" "$vm3" "$hv2" ""; do
		# No IPv6 chatter (DAD, MLD): counters move only with our pings.
		inns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
	done
	ip link add vnet1 type veth peer name eth0 netns "$vm1" address 02:00:00:00:00:01 &&
	ip link add vnet2 type veth peer name eth0 netns "$vm2" address 02:00:00:00:00:02 &&
	ip link add eth0 netns "$vm3" address 02:00:00:00:00:03 type veth \
		peer name vnet1 netns "$hv2" address 02:00:00:00:00:fe &&
	ip link add br0 type bridge &&
	ip link set vnet1 master br0 &&
	ip link set vnet2 master br0 &&
	ip tuntap add tap0 mode tap &&
	ip -n "$vm1" addr add 192.0.2.1/24 dev eth0 &&
	ip -n "$vm2" addr add 192.0.2.2/24 dev eth0 &&
	ip -n "$vm3" addr add 192.0.2.3/24 dev eth0 &&
	ip -n "$hv2" addr add 192.0.2.254/24 dev vnet1 || return 1
	# Static neighbours: no ARP either (a late ARP probe would move counters).
	ip -n "$vm1" neigh add 192.0.2.2 lladdr 02:00:00:00:00:02 dev eth0 nud permanent &&
	ip -n "$vm2" neigh add 192.0.2.1 lladdr 02:00:00:00:00:01 dev eth0 nud permanent &&
	ip -n "$vm3" neigh add 192.0.2.254 lladdr 02:00:00:00:00:fe dev eth0 nud permanent &&
	ip -n "$hv2" neigh add 192.0.2.3 lladdr 02:00:00:00:00:03 dev vnet1 nud permanent || return 1
	for ns in "$vm1" "$vm2" "$vm3"; do ip -n "$ns" link set eth0 up || return 1; done
	for d in br0 vnet1 vnet2 tap0; do ip link set "$d" up || return 1; done
	ip -n "$hv2" link set vnet1 up &&
	# vnet2 has a clsact and a filter already: not vtap's to remove.
	tc qdisc add dev vnet2 clsact &&
	tc filter add dev vnet2 egress prio 10 matchall action pass
}
t "topology: hv with a bridge, two VM veths and a tap; hv2" setup
t "traffic flows before vtap" busywait 15000 nsx "$vm1" ping -c 1 -W 1 192.0.2.2

sessions() {
	v session add s1 encap erspan3 remote 198.51.100.2 id 7 &&
	v session add s2 encap gre remote 198.51.100.3 key 5 id 9
}
t "sessions s1 (id 7) and s2 (id 9) in hv" sessions
t "port show with no ports: []" expect_eq "port show" "$(v -j port show)" "[]"

# ---- ports ---------------------------------------------------------------
t "port add vnet1 (veth) with vm and id" v port add vnet1 vm "$UUID" id 100
t "port add vnet2 (veth, clsact there already)" v port add vnet2
t "port add tap0 (tap), -j prints the port" jcheck \
	'd[0]["dev"] == "tap0" and d[0]["id"] == 2 and not d[0]["stale"]' v -j port add tap0
HVDIR=$(nsdir)
t "maps pinned in $ROOT/net<netns inode>" \
	ls "$HVDIR/ports" "$HVDIR/port_stats" "$HVDIR/rules" "$HVDIR/rulesets" "$HVDIR/rule_src4"
one_prog_pair() {	# not pinned; every port has the same pair, attached
	[ ! -e "$HVDIR/tc_ingress" ] && [ ! -e "$HVDIR/tc_egress" ] || return 1
	local d dir ids
	for dir in ingress egress; do
		ids=$(for d in vnet1 vnet2 tap0; do
			tc -j filter show dev "$d" "$dir" |
				python3 -c 'import json,sys; print(*[p["id"] for p in [f.get("options", {}).get("prog", {}) for f in json.load(sys.stdin)] if p.get("name", "").startswith("vtap_tc_")])'
		done | sort -u)
		echo "$dir: program ids: $ids"
		[ "$(wc -w <<<"$ids")" = 1 ] || return 1
	done
}
t "programs not pinned; the three ports share one program per direction" one_prog_pair
typed() { bpftool map dump pinned "$HVDIR/ports" | grep -q '"port_id": 100'; }
t "bpftool map dump shows typed entries" typed
t "port show: ids (given, then first free >= 1), vm uuid, own clsact" jcheck \
	'sorted(P) == ["tap0", "vnet1", "vnet2"] and P["vnet1"]["id"] == 100 and
	 P["vnet1"]["vm"] == "'"$UUID"'" and P["vnet2"]["id"] == 1 and "vm" not in P["vnet2"] and
	 P["vnet1"]["own_clsact"] and not P["vnet2"]["own_clsact"] and P["tap0"]["own_clsact"] and
	 not any(p["stale"] for p in d)' v -j port show
plain_show() {
	local out
	out=$(v port show) || return 1
	echo "$out"
	grep -q "^port vnet1 ifindex [0-9]* id 100 vm $UUID\$" <<<"$out" &&
	grep -q '^    out: sessions none packets 0 bytes 0 mirrored 0 dropped 0$' <<<"$out"
}
t "port show, plain text" plain_show
our_filter() {	# DIR
	tc filter show dev vnet1 "$1" | grep -q "pref 1 bpf chain 0 handle 0x7674 vtap_tc_$1"
}
for d in ingress egress; do
	t "vnet1 clsact $d: our filter at pref 1 handle 0x7674" our_filter "$d"
done

# ---- flows ---------------------------------------------------------------
t "flow add s1 vnet1 both" v flow add session s1 port vnet1 dir both
t "flow add s2 vnet1 out" v flow add session s2 port vnet1 dir out
t "flow add s2 vnet2 in" v flow add session s2 port vnet2 dir in
t "flow add s1 tap0 out" v flow add session s1 port tap0 dir out
VNET1=$(ifindex_of vnet1)
VNET2=$(ifindex_of vnet2)
TAP0=$(ifindex_of tap0)
t "the map: vnet1 out [7, 9], in [7]; vnet2 out [], in [9]" jcheck \
	"E[$VNET1]['nsess'] == [2, 1] and E[$VNET1]['sess'][0][:2] == [7, 9] and
	 E[$VNET1]['sess'][1][0] == 7 and E[$VNET2]['nsess'] == [0, 1] and
	 E[$VNET2]['sess'][1][0] == 9 and E[$TAP0]['nsess'] == [1, 0]" mapj
t "port show names the sessions" jcheck \
	'names(P["vnet1"]["flows"]["out"]) == ["s1", "s2"] and names(P["vnet1"]["flows"]["in"]) == ["s1"] and
	 names(P["vnet2"]["flows"]["in"]) == ["s2"] and P["vnet2"]["flows"]["out"] == []' v -j port show
t "flow del s2 vnet1" v flow del session s2 port vnet1
t "vnet1: s1 both ways, s2 gone" jcheck \
	'names(P["vnet1"]["flows"]["out"]) == ["s1"] and names(P["vnet1"]["flows"]["in"]) == ["s1"]' \
	v -j port show
fill_tap0() {
	local i
	for i in $(seq 9); do v session add "q$i" encap gre remote 198.51.100.9 key "$i" || return 1; done
	for i in $(seq 8); do v flow add session "q$i" port tap0 dir in || return 1; done
}
t "8 flows (the maximum) on tap0 in" fill_tap0

# ---- bad input changes nothing ------------------------------------------
before=$(v -j port show)
t "port add: unknown device: exit 5" code 5 v port add nosuch0
t "port add: device of another namespace: exit 5" code 5 v port add eth0
t "port add: hv's device from init_net: exit 5" code 5 \
	nsenter --net=/proc/1/ns/net "$VTAPCTL" port add vnet1
t "port add: already a port: exit 6" code 6 v port add vnet1
t "port add: id used by another port: exit 6" code 6 v port add br0 id 100
t "port add: id 0x100000 out of range: exit 2" code 2 v port add br0 id 0x100000
t "port add: id -1: exit 2" code 2 v port add br0 id -1
for u in 0123abcd4567-89ab-cdef-0123456789abc 0123abcd-4567-89ab-cdef-0123456789ag; do
	t "port add: bad vm uuid '$u': exit 2" code 2 v port add br0 vm "$u"
done
t "port add: unknown option: exit 2" code 2 v port add br0 colour blue
t "port add: name too long: exit 2" code 2 v port add abcdefghijklmnopq
t "flow add: unknown session: exit 5" code 5 v flow add session nosuch port vnet1 dir in
not_port() {
	local out
	out=$(code 5 v flow add session s1 port br0 dir in) || { echo "$out"; return 1; }
	echo "$out"
	grep -q 'br0 is not a vtap port (vtapctl port add br0)' <<<"$out"
}
t "flow add: not a port: exit 5, says how to add it" not_port
t "flow add: existing flow (dir out): exit 6" code 6 v flow add session s1 port vnet1 dir out
t "flow add: existing flow (dir both): exit 6" code 6 v flow add session s1 port vnet1 dir both
t "flow add: half-existing flow (dir both on vnet2, s2 in): exit 6" code 6 \
	v flow add session s2 port vnet2 dir both
t "flow add: 9th session on tap0 in: exit 7" code 7 v flow add session q9 port tap0 dir in
t "flow add: bad dir: exit 2" code 2 v flow add session s1 port vnet2 dir sideways
t "flow add: no dir: exit 2" code 2 v flow add session s1 port vnet2
t "flow del: no such flow: exit 5" code 5 v flow del session s2 port vnet1
t "flow del: unknown device: exit 5" code 5 v flow del session s1 port nosuch0
t "port del: unknown device: exit 5" code 5 v port del nosuch0
t "port del: not a port: exit 5" code 5 v port del br0
t "port del: ifindex 0: exit 2" code 2 v port del ifindex 0
t "port del: unknown ifindex: exit 5" code 5 v port del ifindex 99999
t "stats: unknown session: exit 5" code 5 v stats session nosuch
t "stats: not a port: exit 5" code 5 v stats port br0
t "-j port show is unchanged" expect_eq "port show" "$(v -j port show)" "$before"

# ---- a failed port add leaves nothing behind ----------------------------
half() {	# a filter at priority 1 of another protocol: egress attach fails
	ip link add vnet4 type veth peer name vnet4p &&
	tc qdisc add dev vnet4 clsact &&
	tc filter add dev vnet4 egress prio 1 protocol ip matchall action pass &&
	code 1 v port add vnet4 || return 1
	expect_eq "vnet4 ingress filters" "$(tc filter show dev vnet4 ingress)" "" &&
	tc filter show dev vnet4 egress | grep -q matchall &&
	expect_eq "port show" "$(v -j port show)" "$before"
}
t "port add failing half-way (egress) undoes the ingress filter" half

# ---- traffic ---------------------------------------------------------------
t "ping vm1 -> vm2 through hv's bridge" nsx "$vm1" ping -c 5 -i 0.2 -W 2 192.0.2.2
t "vnet1 counted both directions" jcheck \
	'P["vnet1"]["stats"]["out"]["packets"] >= 5 and P["vnet1"]["stats"]["in"]["packets"] >= 5 and
	 P["vnet1"]["stats"]["out"]["bytes"] >= 5 * 98' v -j port show
t "vnet2 counted 'in' (s2's flow), not 'out' (no flow)" jcheck \
	'P["vnet2"]["stats"]["in"]["packets"] >= 5 and P["vnet2"]["stats"]["out"]["packets"] == 0' \
	v -j port show
t "session s1 matched (vnet1, both ways)" expect_ge "s1 matched" "$(matched s1)" 10
t "session s2 matched (vnet2 in)" expect_ge "s2 matched" "$(matched s2)" 5
t "stats -j: all sessions and ports" jcheck \
	'len(d["sessions"]) == 11 and len(d["ports"]) == 3 and
	 [s["stats"]["matched"] for s in d["sessions"] if s["name"] == "s1"][0] >= 10' v -j stats
t "stats session s1: that session only" jcheck \
	'"ports" not in d and [s["name"] for s in d["sessions"]] == ["s1"]' v -j stats session s1
t "stats port vnet2: that port only" jcheck \
	'"sessions" not in d and [p["dev"] for p in d["ports"]] == ["vnet2"] and
	 d["ports"][0]["stats"]["in"]["packets"] >= 5' v -j stats port vnet2
plain_stats() {
	local out
	out=$(v stats session s2 port vnet2) || return 1
	echo "$out"
	grep -q '^session s2 id 9$' <<<"$out" && grep -q '^    matched [1-9]' <<<"$out" &&
	grep -q '^port vnet2 ifindex' <<<"$out" && grep -q '^    in: packets [1-9]' <<<"$out"
}
t "stats, plain text" plain_stats

# ---- a second hypervisor namespace ----------------------------------------
t "hv2: port add vnet1 id 100 (same name and id as in hv)" v2 port add vnet1 id 100
hv2_flow() {
	v2 session add s1 encap gre remote 198.51.100.2 &&
	v2 flow add session s1 port vnet1 dir both
}
t "hv2: session s1 and a flow" hv2_flow
t "two namespace directories" expect_eq "dirs" "$(ls "$ROOT" | wc -l)" 2
t "hv2 sees its port only" jcheck 'list(P) == ["vnet1"] and P["vnet1"]["id"] == 100 and
	names(P["vnet1"]["flows"]["out"]) == ["s1"]' v2 -j port show
hv_vnet1=$(v -j port show vnet1 | jget 'd[0]["stats"]')
t "ping vm3 -> hv2" nsx "$vm3" ping -c 3 -i 0.2 -W 2 192.0.2.254
t "hv2's port counted" jcheck 'd[0]["stats"]["out"]["packets"] >= 3' v2 -j port show vnet1
t "hv's vnet1 did not move" expect_eq "hv vnet1 stats" \
	"$(v -j port show vnet1 | jget 'd[0]["stats"]')" "$hv_vnet1"

# ---- session del removes its flows (and rules) ----------------------------
le32() { printf '%d %d %d %d ' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
zeros() {	# PINNED_MAP: a zero value of its size
	local i n
	n=$(bpftool -j map show pinned "$1" | jget 'd["bytes_value"]')
	for ((i = 0; i < n; i++)); do printf '0 '; done
}
SD=$(((9 << 1) | 1))	# VTAP_SD(s2, in)
# shellcheck disable=SC2046
plant() {	# a rule and a ruleset of s2, as 'vtapctl rule' would write them
	bpftool map update pinned "$HVDIR/rules" key $(le32 $SD) $(le32 1) value $(zeros "$HVDIR/rules") &&
	bpftool map update pinned "$HVDIR/rulesets" key $(le32 $SD) value $(zeros "$HVDIR/rulesets") &&
	jcheck "[f['key'] for f in F] == [{'sd': $SD, 'num': 1}]" bpftool -j map dump pinned "$HVDIR/rules"
}
t "a rule of s2 in the rules map" plant
t "session del s2" v session del s2
t "s2's flow on vnet2 is gone" jcheck "E[$VNET2]['nsess'] == [0, 0]" mapj
t "s2's rules are gone" jcheck "F == []" bpftool -j map dump pinned "$HVDIR/rules"
t "s2's ruleset is gone" jcheck "F == []" bpftool -j map dump pinned "$HVDIR/rulesets"
del_q() {
	local i
	for i in $(seq 9); do v session del "q$i" || return 1; done
}
t "session del q1..q9" del_q
t "tap0 'in' is empty again, s1 still on vnet1 and tap0" jcheck \
	'P["tap0"]["flows"]["in"] == [] and names(P["tap0"]["flows"]["out"]) == ["s1"] and
	 names(P["vnet1"]["flows"]["in"]) == ["s1"]' v -j port show
t "hv2's flow of its own s1 is untouched by hv's deletions" jcheck \
	'names(P["vnet1"]["flows"]["in"]) == ["s1"]' v2 -j port show
ghost() {	# a flow to a session deleted behind vtapctl's back
	local val
	val=$(mapj | $PY -c '
import json, struct, sys
e = {x.get("formatted", x)["key"]: x.get("formatted", x)["value"] for x in json.load(sys.stdin)}['"$TAP0"']
sess = e["sess"][0] + [500] + [0] * 7
cookie = e["cookie"][0] + [0x5e55105e55] + [0] * 7	# no session has it
b = struct.pack("<III16BHH16H16Q", e["port_id"], e["slot"], e["flags"], *e["vm_uuid"], 1, 1,
		*sess, *cookie)
print(" ".join(str(x) for x in b))')
	# shellcheck disable=SC2046,SC2086
	bpftool map update pinned "$HVDIR/ports" key $(printf '%d %d %d %d' $((TAP0 & 255)) $((TAP0 >> 8 & 255)) 0 0) \
		value $val || return 1
	jcheck 'P["tap0"]["flows"]["in"] == [{"id": 500, "deleted": True}]' v -j port show &&
	v port show tap0 | grep -q '^    in: sessions 500(deleted) '
}
t "a flow whose session is gone shows as (deleted)" ghost

# ---- a port whose device disappears ---------------------------------------
gone() {
	ip link add vnet3 type veth peer name vnet3p || return 1
	v port add vnet3 || return 1
	VNET3=$(ifindex_of vnet3)
	ip link del vnet3
}
t "port add vnet3, then delete the device" gone
t "port show marks it stale, without a name" jcheck \
	"P[$VNET3]['stale'] and 'dev' not in P[$VNET3]" v -j port show
plain_stale() { v port show | grep "^port - ifindex $VNET3 "; }
t "port show, plain: stale" plain_stale
t "port del vnet3: no such device, exit 5" code 5 v port del vnet3
t "port del ifindex N removes the stale entry" v port del ifindex "$VNET3"
t "it is gone" jcheck "$VNET3 not in P and len(P) == 3" v -j port show

# ---- a namespace deleted with its ports: its directory is not inherited ----
modrefs() { awk '$1 == "vtap" { print $3 }' /proc/modules; }
dead_ns() {
	REFS0=$(modrefs)
	netns_new hv4 || return 1
	ip -n "$hv4" link add a0 type veth peer name a1 &&
	nsx "$hv4" "$VTAPCTL" port add a0 || return 1
	echo "vtap.ko references: $REFS0 before, $(modrefs) with the port"
	[ "$(modrefs)" -gt "$REFS0" ] || return 1
	OLD=$(nsdir "$hv4")
	ip netns del "$hv4" && [ -d "$OLD" ]
}
t "a namespace deleted with a port leaves its directory (maps)" dead_ns
# Its programs (which hold vtap.ko) go with its devices: the module can unload.
t "... but not its programs: vtap.ko's references come back to $REFS0" \
	busywait 60000 eval '[ "$(modrefs)" = "$REFS0" ]'
find_reuse() {	# namespace inode numbers are reused: find a namespace with the old one
	local i
	for i in $(seq 40); do
		netns_new cand || return 1
		[ "$(nsdir "$cand")" = "$OLD" ] && return 0
		sleep 0.2
	done
	return 1
}
if find_reuse; then
	t "a new namespace with the dead one's inode sees no ports" \
		expect_eq "port show" "$(nsx "$cand" "$VTAPCTL" -j port show)" "[]"
	reuse_add() {
		ip -n "$cand" link add a0 type veth peer name a1 &&
		nsx "$cand" "$VTAPCTL" port add a0 &&
		jcheck 'list(P) == ["a0"]' nsx "$cand" "$VTAPCTL" -j port show
	}
	t "port add there replaces the leftovers" reuse_add
	reuse_del() { nsx "$cand" "$VTAPCTL" port del a0 && [ ! -e "$OLD" ]; }
	t "port del removes the directory" reuse_del
else
	skip "a new namespace with the dead one's inode" "no new namespace got ${OLD##*/net}"
	t "rm -rf of the dead namespace's directory" rm -rf "$OLD"
fi

# ---- vtapctl under the sanitizers and valgrind ---------------------------
san() {	# the whole life of a port in a new namespace: load, use, unload
	local out
	export ASAN_OPTIONS=detect_leaks=1:exitcode=99 UBSAN_OPTIONS=halt_on_error=1:exitcode=99
	netns_new hv7 || return 1
	out=$(ip -n "$hv7" link add san0 type veth peer name san1 2>&1 &&
	      nsx "$hv7" "$ASAN" session add sa encap gre remote 198.51.100.7 2>&1 &&
	      nsx "$hv7" "$ASAN" port add san0 vm "$UUID" 2>&1 &&
	      nsx "$hv7" "$ASAN" flow add session sa port san0 dir in 2>&1 &&
	      nsx "$hv7" "$ASAN" -j stats 2>&1 &&
	      nsx "$hv7" "$ASAN" port add san0 2>&1; echo "exit $?" &&
	      nsx "$hv7" "$ASAN" session del sa 2>&1 &&
	      nsx "$hv7" "$ASAN" port del san0 2>&1 && echo "done")
	echo "$out"
	! grep -qE 'Sanitizer|runtime error' <<<"$out" && grep -q '^exit 6$' <<<"$out" &&
	grep -q '^done$' <<<"$out" && [ ! -e "$(nsdir "$hv7")" ]
}
if [ -x "$ASAN" ]; then
	t "ASan/UBSan vtapctl: session add/del, port add/del, flow add, stats" san
else
	skip "ASan/UBSan vtapctl" "$ASAN not built"
fi
vg() {
	nsx "$hv2" valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite "$VTAPCTL" "$@" >/dev/null
}
if command -v valgrind >/dev/null; then
	t "valgrind: port show" vg port show
else
	skip "valgrind" "valgrind not installed"
fi

# ---- concurrent vtapctl: the namespace lock ------------------------------
parallel() {	# in a new namespace: 5 port adds at once, then 5 port dels
	local i p pids=() rc=0
	netns_new hv6 || return 1
	for i in $(seq 5); do ip -n "$hv6" link add "p$i" type veth peer name "q$i" || return 1; done
	for i in $(seq 5); do nsx "$hv6" "$VTAPCTL" port add "p$i" & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	[ "$rc" = 0 ] || return 1
	jcheck 'sorted(p["id"] for p in d) == list(range(1, 6))' nsx "$hv6" "$VTAPCTL" -j port show &&
	jcheck 'sorted(v["slot"] for v in E.values()) == list(range(5))' mapj "$hv6" || return 1
	pids=()
	for i in $(seq 5); do nsx "$hv6" "$VTAPCTL" port del "p$i" & pids+=($!); done
	for p in "${pids[@]}"; do wait "$p" || rc=1; done
	[ "$rc" = 0 ] && [ ! -e "$(nsdir "$hv6")" ]
}
t "5 concurrent port adds get distinct ids and slots; 5 dels leave nothing" parallel

# ---- bpffs mounted on demand ----------------------------------------------
mountless() {	# a mount namespace without bpffs: vtapctl mounts one
	netns_new hv5 || return 1
	ip -n "$hv5" link add m0 type veth peer name m1 || return 1
	unshare -m --propagation private sh -c "
		umount /sys/fs/bpf && [ \"\$(stat -f -c %T /sys/fs/bpf)\" != bpf_fs ] &&
		$VTAPCTL -n $hv5 port add m0 &&
		[ \"\$(stat -f -c %T /sys/fs/bpf)\" = bpf_fs ] && ls -d $ROOT/net* &&
		$VTAPCTL -n $hv5 port del m0 && [ ! -e $ROOT ]"
}
t "no bpffs on /sys/fs/bpf: port add mounts one" mountless

# ---- all gone -------------------------------------------------------------
t "a foreign filter on tap0 (our clsact)" \
	tc filter add dev tap0 ingress prio 10 matchall action pass
del_all() { v port del vnet1 && v port del vnet2 && v port del tap0; }
t "port del vnet1, vnet2, tap0" del_all
t "hv has no ports" expect_eq "port show" "$(v -j port show)" "[]"
t "hv2: port del vnet1" v2 port del vnet1
no_pins() { [ ! -e "$ROOT" ] || [ -z "$(find "$ROOT" -mindepth 1 | tee /dev/stderr)" ]; }
t "no pins left under $ROOT" no_pins
no_vtap_filters() {	# NS DEV ("" is hv)
	local d
	for d in ingress egress; do
		if inns "$1" tc filter show dev "$2" "$d" | grep -q vtap_tc; then
			echo "$2 $d still has a vtap filter"
			return 1
		fi
	done
}
no_filters() {
	no_vtap_filters "" vnet1 && no_vtap_filters "" vnet2 && no_vtap_filters "" tap0 &&
	no_vtap_filters "$hv2" vnet1
}
t "no vtap filters left" no_filters
has_clsact() { inns "$1" tc qdisc show dev "$2" | grep -q clsact; }
# Removing a qdisc from a device that is up resets its queues and can drop
# the VM's packets: port del leaves clsact, even the one it made.
kept_ours() { has_clsact "" vnet1 && has_clsact "$hv2" vnet1; }
t "vnet1 (hv, hv2): the clsact port add made stays, empty of vtap's filters" kept_ours
kept() { has_clsact "" vnet2 && tc filter show dev vnet2 egress | grep -q 'pref 10 matchall'; }
t "vnet2: the clsact we found and its filter stay" kept
kept_tap() { has_clsact "" tap0 && tc filter show dev tap0 ingress | grep -q 'pref 10 matchall'; }
t "tap0: our clsact stays for the foreign filter on it" kept_tap
t "traffic still flows" nsx "$vm1" ping -c 2 -i 0.2 -W 2 192.0.2.2
t "rmmod vtap" busywait 10000 rmmod vtap
t "no kernel warnings" sh -c "! dmesg | grep -E 'WARNING:|BUG:|Oops|refcount_t|Call Trace'"
finish
