#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Identity: vtap.conf, "vtapctl apply" and "vtapctl daemon" in the test VM.
# A VM is its MAC, not an ifindex: its vNIC is deleted and recreated with
# another name and ifindex (a restart), then moved to another hypervisor (a
# migration), while a collector receives its copies; the daemon re-attaches
# the same port id and flows on each rtnetlink event.  Also: apply is
# idempotent and says what it changes, --check changes nothing, a bad file
# changes nothing (apply and daemon reload), SIGTERM leaves or (cleanup)
# removes the state, and two tenants' namespaces do not see each other.
#
#   ns vm: eth0 52:54:00:00:00:01 192.0.2.1   (moves between hvA and hvB)
#   ns hvA: vnetA* fe:54:00:00:00:01 <-veth-> vm eth0
#           uA 198.51.100.1/25   <-veth->  ns col: cA 198.51.100.2/25
#   ns hvB: vnetB* fe:54:00:00:00:01 <-veth-> vm eth0
#           uB 198.51.100.129/25 <-veth->  ns col: cB 198.51.100.130/25
#   ns col: lo 203.0.113.10 (the collector both hypervisors send to)
. "$(dirname "$0")/../lib.sh"

OUT=$(mktemp -d)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
VM_MAC=52:54:00:00:00:01
TAP_MAC=fe:54:00:00:00:01	# libvirt's rule: the guest's MAC, first octet 0xfe
UUID=6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
daemons=()

cleanup() {
	local p
	for p in "${daemons[@]}"; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	cleanup_netns
	rm -rf "$OUT"
}
trap cleanup EXIT
modprobe -a veth sch_ingress cls_bpf tun

# vtapctl with ASan and UBSan: a report, a leak included, is exit status 99.
ASAN=${VTAPCTL_ASAN:-$VTAP_TOP/build/asan/vtapctl}
export ASAN_OPTIONS=detect_leaks=1:exitcode=99 UBSAN_OPTIONS=halt_on_error=1:exitcode=99
v() {	# NS vtapctl ARGS...
	local ns=$1
	shift
	nsx "$ns" "$ASAN" "$@"
}

# The file both hypervisors use.
cat >"$OUT/vtap.conf" <<EOF
# The collector, over ERSPAN III with the Platf ID 7 sub-header: the
# source index is the VM's port id.
session s1 encap erspan3 remote 203.0.113.10 id 5 subheader 7
rule session s1 num 10 dir out accept proto udp dport 9

vm web mac $VM_MAC id 101	# the guest's MAC: its tap has fe:54:...
    uuid $UUID
    flow session s1 dir out

vm tweb mac 52:54:00:00:00:02 id 102	# a tap VM
    flow session s1 dir out
EOF

setup() {
	netns_new vm && netns_new hvA && netns_new hvB && netns_new col || return 1
	ip -n "$col" addr add 203.0.113.10/32 dev lo &&
	ip link add uA netns "$hvA" type veth peer name cA netns "$col" &&
	ip link add uB netns "$hvB" type veth peer name cB netns "$col" &&
	ip -n "$hvA" addr add 198.51.100.1/25 dev uA &&
	ip -n "$hvB" addr add 198.51.100.129/25 dev uB &&
	ip -n "$col" addr add 198.51.100.2/25 dev cA &&
	ip -n "$col" addr add 198.51.100.130/25 dev cB || return 1
	for l in "$hvA uA" "$hvB uB" "$col cA" "$col cB"; do
		# shellcheck disable=SC2086  # "NS DEV"
		set -- $l
		ip -n "$1" link set "$2" up || return 1
	done
	ip -n "$hvA" route add 203.0.113.10/32 via 198.51.100.2 &&
	ip -n "$hvB" route add 203.0.113.10/32 via 198.51.100.130 || return 1
	# Static neighbours: no ARP on the underlay.
	ip -n "$hvA" neigh replace 198.51.100.2 lladdr \
		"$(ip -n "$col" -br link show cA | awk '{print $3}')" dev uA nud permanent &&
	ip -n "$hvB" neigh replace 198.51.100.130 lladdr \
		"$(ip -n "$col" -br link show cB | awk '{print $3}')" dev uB nud permanent
}
t "setup: vm, hypervisors A and B, collector" setup

# vnic NS NAME: the VM's vNIC on hypervisor NS, the VM's side (eth0) down.
vnic() {
	ip -n "$1" link add "$2" address "$TAP_MAC" type veth peer name eth0 \
		netns "$vm" address "$VM_MAC" &&
	ip -n "$1" link set "$2" up
}
# vm_up: the VM's NIC up, with its address and a static neighbour.
vm_up() {
	ip -n "$vm" addr add 192.0.2.1/24 dev eth0 &&
	ip -n "$vm" link set eth0 up &&
	ip -n "$vm" neigh replace 192.0.2.99 lladdr 02:00:00:00:00:99 dev eth0 nud permanent
}
# send FIRST COUNT [NS]: the VM (NS, default vm) sends COUNT UDP datagrams
# numbered FIRST...; prints how many the kernel refused (no device).
send() {
	nsx "${3:-$vm}" "$PY" -S - "$1" "$2" <<'EOF'
import socket, sys, time
first, count = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
failed = 0
for n in range(first, first + count):
    try:
        s.sendto(b"vtap-seq %08d" % n + bytes(40), ("192.0.2.99", 9))
    except OSError:
        failed += 1
    time.sleep(0.005)
print(failed)
EOF
}

# ---- apply ------------------------------------------------------------------

apply_first() {
	v "$hvA" apply "$OUT/vtap.conf" >"$OUT/a1.out" || return 1
	cat "$OUT/a1.out"
	grep -q '^session s1: added$' "$OUT/a1.out" &&
	grep -q '^rules of session s1 dir out: rewritten (1, were 0)$' "$OUT/a1.out" &&
	[ "$(wc -l <"$OUT/a1.out")" = 2 ] &&
	v "$hvA" -j rule show | json_get '[(r["num"], r["dir"]) for r in d]' | grep -qx "\[(10, 'out')\]"
}
t "apply: adds session s1 and its rule, and says so (no device of a vm yet)" apply_first

t "apply again: no change, and says so" sh -c \
	"$VTAPCTL -n $hvA apply $OUT/vtap.conf | grep -qx 'no change: this namespace matches $OUT/vtap.conf'"

snaplen_of() { v "$hvA" -j session show s1 | json_get 'd[0].get("snaplen", 0)'; }

check_plan() {
	sed 's/subheader 7$/subheader 7 snaplen 96/' "$OUT/vtap.conf" >"$OUT/snap.conf"
	v "$hvA" apply --check "$OUT/snap.conf" >"$OUT/c.out" || return 1
	cat "$OUT/c.out"
	grep -q '^session s1: would change (snaplen)$' "$OUT/c.out" &&
	grep -q '^1 change planned, none made (--check)$' "$OUT/c.out" &&
	expect_eq "snaplen after --check" "$(snaplen_of)" 0
}
t "apply --check: shows the plan (snaplen), changes nothing" check_plan

change_back() {
	v "$hvA" apply "$OUT/snap.conf" | grep -q '^session s1: changed (snaplen)$' &&
	expect_eq "snaplen" "$(snaplen_of)" 96 &&
	v "$hvA" apply "$OUT/vtap.conf" | grep -q '^session s1: changed (snaplen)$' &&
	expect_eq "snaplen, option removed from the file" "$(snaplen_of)" 0 &&
	v "$hvA" apply "$OUT/vtap.conf" | grep -q '^no change'
}
t "apply: an option added then removed is set, then undone (session set)" change_back

rule_change() {
	sed 's/dport 9$/dport 9-10/' "$OUT/vtap.conf" >"$OUT/r.conf"
	v "$hvA" apply "$OUT/r.conf" | tee /dev/stderr |
		grep -qx 'rules of session s1 dir out: rewritten (1, were 1)' &&
	v "$hvA" -j rule show | grep -q 'dport 9-10' &&
	v "$hvA" apply "$OUT/vtap.conf" | grep -qx 'rules of session s1 dir out: rewritten (1, were 1)' &&
	v "$hvA" apply "$OUT/vtap.conf" | grep -q '^no change'
}
t "apply: a changed rule is rewritten, and back; then no change" rule_change

subhdr_change() {
	sed 's/subheader 7$/subheader 3/' "$OUT/vtap.conf" >"$OUT/sh.conf"
	v "$hvA" apply "$OUT/sh.conf" | grep -qx 'session s1: changed (subheader)' &&
	expect_eq subheader "$(v "$hvA" -j session show s1 | json_get 'd[0]["subheader"]')" 3 &&
	v "$hvA" apply "$OUT/vtap.conf" | grep -qx 'session s1: changed (subheader)' &&
	expect_eq subheader "$(v "$hvA" -j session show s1 | json_get 'd[0]["subheader"]')" 7
}
t "apply: the ERSPAN III sub-header 7 -> 3 -> 7, in place" subhdr_change

replace_plan() {
	sed 's/encap erspan3/encap erspan2/; s/ subheader 7//' "$OUT/vtap.conf" >"$OUT/e3.conf"
	sed 's/203.0.113.10/203.0.113.11/' "$OUT/vtap.conf" >"$OUT/rm.conf"
	v "$hvA" apply --check "$OUT/rm.conf" | grep -qx 'session s1: would change (remote)' &&
	v "$hvA" apply --check "$OUT/e3.conf" | tee /dev/stderr |
		grep -q '^session s1: would replace (encap differs'
}
t "apply --check: another remote is changed in place, another encap replaces" replace_plan

# Bad files: refused whole, with FILE:LINE and why; nothing changes.
bad() {	# WHY LINE... (the file's lines), expects an error naming WHY
	local why=$1 rc=0 before after
	shift
	printf '%s\n' "$@" >"$OUT/bad.conf"
	before=$(v "$hvA" -j session show)
	v "$hvA" apply "$OUT/bad.conf" >"$OUT/bad.out" 2>&1 || rc=$?
	after=$(v "$hvA" -j session show)
	cat "$OUT/bad.out"
	expect_eq "exit status" "$rc" 2 &&
	grep -q "bad.conf:[0-9]*: .*$why" "$OUT/bad.out" &&
	grep -q 'not applied: nothing was changed' "$OUT/bad.out" &&
	expect_eq "sessions" "$(json_get '[(s["name"], s["encap"]) for s in d]' <<<"$after")" \
		"$(json_get '[(s["name"], s["encap"]) for s in d]' <<<"$before")"
}
S1='session s1 encap erspan2 remote 203.0.113.10 id 5'
t "bad file: unknown keyword" bad "unknown keyword 'colour'" "$S1" "vm a mac $VM_MAC id 1 colour red"
t "bad file: unknown statement" bad "unknown statement 'sesion'" "sesion s2 encap gre remote 203.0.113.10"
t "bad file: a VM matched by two entries" bad "would match vm a" "$S1" \
	"vm a mac $VM_MAC id 1" "vm b mac $TAP_MAC id 2"
t "bad file: a port id used twice" bad "port id 7 is vm a's" "$S1" \
	"vm a dev tapa id 7" "vm b dev tapb id 7"
t "bad file: a flow to a session not declared" bad "session s9 is not declared" "$S1" \
	"vm a dev tapa id 1" "  flow session s9 dir in"
t "bad file: a collector address of the wrong family" bad "different address families" \
	"session s2 encap gre remote 2001:db8::1 local 198.51.100.1"
t "bad file: an option of another encap" bad "vni: only for encap vxlan" \
	"session s2 encap gre remote 203.0.113.10 vni 5"
t "bad file: a session declared twice" bad "declared twice" "$S1" "$S1"
t "bad file: flow outside a vm" bad "outside a vm block" "$S1" "flow session s1 dir in"

# ---- daemon: restart and migration ------------------------------------------

# start_daemon NS NAME: the daemon of hypervisor NS, its log in $OUT/NAME.log.
start_daemon() {
	# nsenter execs the daemon: $! is its pid, for signals.
	nsenter --net="/run/netns/$1" "$ASAN" daemon config "$OUT/vtap.conf" >"$OUT/$2.log" 2>&1 &
	daemons+=($!)
	printf -v "pid_$2" '%s' $!
	busywait 20000 grep -q 'started with' "$OUT/$2.log"
}
t "daemon A starts" start_daemon "$hvA" dA
t "daemon A: started, logged" grep -q 'started with .*: no change' "$OUT/dA.log"

# attached NS DEV LOG: the daemon logged DEV's port with id 101, and it is there.
attached() {
	busywait 20000 grep -q "port $2 (vm web, id 101): added (flows s1 out)" "$OUT/$3.log" || {
		cat "$OUT/$3.log"
		return 1
	}
	v "$1" -j port show | tee "$OUT/ports.json" | json_get \
		'[(p["dev"], p["id"], p.get("vm"), p["flows"]["out"][0]["session"]) for p in d]' |
		grep -qx "\[('$2', 101, '$UUID', 's1')\]" || { cat "$OUT/ports.json"; return 1; }
}

collector() {
	"$VTAPCTL" -n "$col" -j collect write "$OUT/web.pcapng" \
		names "$OUT/vtap.conf" >"$OUT/collect.json" 2>"$OUT/collect.err" &
	col_pid=$!
	busywait 20000 grep -q '^collect: listening' "$OUT/collect.err"
}
t "collector listens, VM names from the same file" collector

first_vnic() {
	vnic "$hvA" vnetA1 && attached "$hvA" vnetA1 dA && vm_up
}
t "vNIC vnetA1 appears on A: daemon A attaches vm web (id 101, flows s1 out)" first_vnic
t "vm: 30 sent on A (0..29), none refused" expect_eq refused "$(send 0 30)" 0

# A restart: the tap goes, the VM sends into the void, a new tap comes.
restart() {
	local old new
	old=$(ip -n "$hvA" -o link show vnetA1 | cut -d: -f1)
	ip -n "$hvA" link del vnetA1 || return 1
	busywait 20000 grep -q "port - (ifindex $old, id 101): removed (its device is gone)" \
		"$OUT/dA.log" || { cat "$OUT/dA.log"; return 1; }
	expect_eq "ports after the tap went" "$(v "$hvA" -j port show)" "[]"
}
t "restart: vnetA1 deleted, the daemon removes its port" restart
t "vm: 10 datagrams while no vNIC exists (30..39): all refused" \
	expect_eq refused "$(send 30 10)" 10

reattach() {
	local t0=${EPOCHREALTIME/[.,]/}
	vnic "$hvA" vnetA2 &&
	busywait 20000 grep -q "port vnetA2 (vm web, id 101): added" "$OUT/dA.log" &&
	attach_ms=$(((${EPOCHREALTIME/[.,]/} - t0) / 1000)) &&
	attached "$hvA" vnetA2 dA && vm_up
}
t "restart: vnetA2 (new name, new ifindex, same MAC): same port id and flows" reattach
echo "# the daemon's port for vnetA2 was there ${attach_ms:-?} ms after 'ip link add' returned (TCG, 100 ms polls)"
t "vm: 30 sent on A again (40..69), none refused" expect_eq refused "$(send 40 30)" 0

migrate() {
	start_daemon "$hvB" dB &&
	ip -n "$hvA" link del vnetA2 &&
	busywait 20000 sh -c "[ \$(grep -c 'removed (its device is gone)' $OUT/dA.log) = 2 ]" &&
	vnic "$hvB" vnetB7 && attached "$hvB" vnetB7 dB && vm_up &&
	expect_eq "ports left on A" "$(v "$hvA" -j port show)" "[]"
}
t "migration: the vNIC leaves A, appears on B as vnetB7; B's daemon attaches it" migrate
t "vm: 30 sent on B (70..99), none refused" expect_eq refused "$(send 70 30)" 0
t "apply on B with its port, flows and rules in place: no change" sh -c \
	"$VTAPCTL -n $hvB apply $OUT/vtap.conf | grep -q '^no change'"

stop_collector() {
	sleep 1
	kill -INT "$col_pid" && wait "$col_pid" || { cat "$OUT/collect.err"; return 1; }
	cat "$OUT/collect.err"
}
t "collector stops" stop_collector

# Every datagram sent while a vNIC existed has its copy, in order, with
# port index 101 from both hypervisors; only the ones sent into the void
# (30..39) are missing.
copies() {
	"$PY" - "$OUT/web.pcapng" <<EOF
import re, sys
sys.path.insert(0, "$VTAP_TOP/selftests/host")
import collect_pkt
got = collect_pkt.read_capture(sys.argv[1])
seqs, ifs = [], set()
for p in got:
    m = re.search(rb"vtap-seq (\d{8})", p[3])
    if m:
        seqs.append(int(m.group(1)))
        ifs.add(p[0])
want = list(range(0, 30)) + list(range(40, 100))
print("interfaces", sorted(ifs), "copies", len(seqs))
if seqs != want:
    print("got", seqs)
    sys.exit(1)
if ifs != {"vtap-s5-i101"}:
    sys.exit(1)
EOF
}
t "collector: copies 0..29, 40..99 in order, port index 101 from A and B" copies

one_interface() {
	local ids
	ids=$(tshark -r "$OUT/web.pcapng" -Y 'udp.dstport == 9' -T fields -e frame.interface_id |
		sort -u | tr '\n' ' ')
	expect_eq "pcapng interfaces of the VM's copies" "$ids" "0 " &&
	tshark -r "$OUT/web.pcapng" -T fields -e frame.interface_name -e frame.interface_description \
		-c 1 | tee /dev/stderr | grep -q 'web'
}
t "pcapng: one interface for vm web across the move (tshark), described as web" one_interface

summary() {
	"$PY" - "$OUT/collect.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
ifs = {i["name"]: i for i in d["interfaces"]}
web = ifs.get("vtap-s5-i101")
print(json.dumps(web))
print(json.dumps(d["sessions"]))
ok = (web is not None and web.get("label") == "web" and web["moves"] == 1 and
      web["senders"] == 2 and web["packets"] == 90 and
      sorted(s["source"] for s in d["sessions"]) == ["198.51.100.1", "198.51.100.129"] and
      all(s["lost"] == 0 and s["resets"] == 0 for s in d["sessions"]))
sys.exit(0 if ok else 1)
EOF
}
t "collect summary: web moved once (2 senders), 90 copies, no loss, no reset" summary

# ---- a tap VM restarts, QEMU's way --------------------------------------------
# The tap is created with a random MAC, then given the guest's MAC with 0xfe
# (two rtnetlink events; the second one matches), as libvirt does; stopping
# tapvm is the VM's process exiting (its tap vanishes).
TVM_MAC=52:54:00:00:00:02
tapvm_run() {	# NAME: tap NAME on hypervisor A, the VM's NIC in ns tvm
	rm -f "$OUT/tapvm.log"
	"$VTAP_TOP/build/tapvm" --host-ns "/run/netns/$hvA" --host-tap "$1" \
		--host-mac fe:54:00:00:00:02 --vm-ns "/run/netns/$tvm" --vm-dev eth0 \
		--mac "$TVM_MAC" >"$OUT/tapvm.log" 2>&1 &
	tapvm_pid=$!
	busywait 20000 grep -q '^ready$' "$OUT/tapvm.log" || { cat "$OUT/tapvm.log"; return 1; }
	busywait 20000 grep -q "port $1 (vm tweb, id 102): added (flows s1 out)" "$OUT/dA.log" ||
		{ cat "$OUT/dA.log"; return 1; }
	ip -n "$tvm" addr add 192.0.2.2/24 dev eth0 &&
	ip -n "$tvm" link set eth0 up &&
	ip -n "$tvm" neigh replace 192.0.2.99 lladdr 02:00:00:00:00:99 dev eth0 nud permanent
}
tap_first() {
	netns_new tvm || return 1
	"$VTAPCTL" -n "$col" collect write "$OUT/tap.pcapng" \
		>/dev/null 2>"$OUT/tapcol.err" &
	tapcol_pid=$!
	busywait 20000 grep -q '^collect: listening' "$OUT/tapcol.err" && tapvm_run tapw1
}
t "tap VM: tapw1 created, then given fe:54:00:00:00:02: daemon A attaches vm tweb (id 102)" tap_first
t "tap VM: 20 sent through tapw1 (0..19)" expect_eq refused "$(send 0 20 "$tvm")" 0

tap_restart() {
	local old
	old=$(ip -n "$hvA" -o link show tapw1 | cut -d: -f1)
	kill -TERM "$tapvm_pid" && wait "$tapvm_pid" &&
	busywait 20000 grep -q "port - (ifindex $old, id 102): removed (its device is gone)" \
		"$OUT/dA.log" && tapvm_run tapw2 &&
	[ "$(ip -n "$hvA" -o link show tapw2 | cut -d: -f1)" != "$old" ]
}
t "tap VM restarts: tapw1 goes, tapw2 (another ifindex) gets id 102 again" tap_restart
t "tap VM: 20 sent through tapw2 (20..39)" expect_eq refused "$(send 20 20 "$tvm")" 0

tap_copies() {
	sleep 1
	kill -INT "$tapcol_pid" && wait "$tapcol_pid" || return 1
	kill -TERM "$tapvm_pid" && wait "$tapvm_pid"
	"$PY" - "$OUT/tap.pcapng" <<PYEOF
import re, sys
sys.path.insert(0, "$VTAP_TOP/selftests/host")
import collect_pkt
seqs, ifs = [], set()
for p in collect_pkt.read_capture(sys.argv[1]):
    m = re.search(rb"vtap-seq (\d{8})", p[3])
    if m and p[3][6:12] == bytes.fromhex("$TVM_MAC".replace(":", "")):
        seqs.append(int(m.group(1)))
        ifs.add(p[0])
print("interfaces", sorted(ifs), "copies", len(seqs))
sys.exit(0 if seqs == list(range(40)) and ifs == {"vtap-s5-i102"} else 1)
PYEOF
}
t "tap VM: every datagram's copy, in order, port index 102, across the restart" tap_copies

# ---- reload, stop -------------------------------------------------------------

reload_bad() {
	cp "$OUT/vtap.conf" "$OUT/good.conf"
	echo "vm broken id" >>"$OUT/vtap.conf"
	kill -HUP "$pid_dB"
	busywait 20000 grep -q "reload of .* refused: keeping the last good configuration" \
		"$OUT/dB.log" || { cat "$OUT/dB.log"; return 1; }
	kill -0 "$pid_dB" &&
	v "$hvB" -j port show | json_get '[p["id"] for p in d]' | grep -qx '\[101\]'
}
t "daemon B: a bad reload is refused, the daemon and its port stay" reload_bad

reload_good() {
	sed '/flow session/s/dir out/dir both/' "$OUT/good.conf" >"$OUT/vtap.conf"
	kill -HUP "$pid_dB"
	busywait 20000 grep -q "port vnetB7 (vm web, id 101): updated (flows s1 both)" \
		"$OUT/dB.log" || { cat "$OUT/dB.log"; return 1; }
	v "$hvB" -j port show | json_get '[len(p["flows"]["in"]) for p in d]' | grep -qx '\[1\]'
}
t "daemon B: a good reload applies (flow both), one line for the change" reload_good

sess_gone_back() {
	v "$hvB" session del s1 &&
	busywait 20000 grep -q "session s1: added" "$OUT/dB.log" &&
	busywait 20000 sh -c "$VTAPCTL -n $hvB -j port show | grep -q '\"session\":\"s1\"'" ||
		{ cat "$OUT/dB.log"; return 1; }
}
t "daemon B: a session deleted behind its back is made again, with its flows" sess_gone_back

stop_keep() {
	kill -TERM "$pid_dA" && wait "$pid_dA" &&
	grep -q 'stopping: the configured state stays' "$OUT/dA.log" &&
	! grep -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$OUT/dA.log" &&
	v "$hvA" -j session show | json_get '[s["name"] for s in d]' | grep -qx "\['s1'\]"
}
t "daemon A (ASan): SIGTERM exits 0, no sanitizer report, the state stays" stop_keep

stop_cleanup() {
	kill -TERM "$pid_dB" && wait "$pid_dB" || return 1
	"$VTAPCTL" -n "$hvB" daemon config "$OUT/vtap.conf" cleanup >"$OUT/dB2.log" 2>&1 &
	pid_dB=$!
	busywait 20000 grep -q 'started with' "$OUT/dB2.log" &&
	kill -TERM "$pid_dB" && wait "$pid_dB" &&
	grep -q 'removing the configured state' "$OUT/dB2.log" &&
	expect_eq "sessions on B" "$(v "$hvB" -j session show)" "[]" &&
	expect_eq "ports on B" "$(v "$hvB" -j port show)" "[]" &&
	v "$hvA" -j session show | json_get '[s["name"] for s in d]' | grep -qx "\['s1'\]"
}
t "daemon with cleanup: SIGTERM removes B's state, A's stays" stop_cleanup

# ---- tenancy ------------------------------------------------------------------
# Two tenants, each a hypervisor namespace with its own daemon and file; the
# same session and VM names, different collectors.  Neither sees, changes or
# receives the other's.
tenants() {
	local i
	netns_new t1 && netns_new t2 && netns_new v1 && netns_new v2 || return 1
	ip -n "$col" addr add 203.0.113.11/32 dev lo &&
	ip -n "$col" addr add 203.0.113.12/32 dev lo || return 1
	for i in 1 2; do
		local t v
		eval "t=\$t$i v=\$v$i"
		ip link add "u$i" netns "$t" type veth peer name "ct$i" netns "$col" &&
		ip -n "$t" addr add "198.51.100.$((20 + i))/32" dev "u$i" &&
		ip -n "$t" link set "u$i" up && ip -n "$col" link set "ct$i" up &&
		ip -n "$t" route add 203.0.113.0/24 dev "u$i" &&
		ip -n "$col" route add "198.51.100.$((20 + i))/32" dev "ct$i" &&
		ip -n "$t" neigh replace "203.0.113.1$i" lladdr \
			"$(ip -n "$col" -br link show "ct$i" | awk '{print $3}')" dev "u$i" nud permanent || return 1
		sed "s/203.0.113.10/203.0.113.1$i/" "$OUT/good.conf" >"$OUT/t$i.conf"
		"$VTAPCTL" -n "$t" daemon config "$OUT/t$i.conf" >"$OUT/t$i.log" 2>&1 &
		daemons+=($!)
		printf -v "pid_t$i" '%s' $!
		busywait 20000 grep -q 'started with' "$OUT/t$i.log" || return 1
		ip -n "$t" link add vnet0 address "$TAP_MAC" type veth peer name eth0 \
			netns "$v" address "$VM_MAC" &&
		ip -n "$t" link set vnet0 up &&
		busywait 20000 grep -q "port vnet0 (vm web, id 101): added" "$OUT/t$i.log" &&
		ip -n "$v" addr add 192.0.2.1/24 dev eth0 && ip -n "$v" link set eth0 up &&
		ip -n "$v" neigh replace 192.0.2.99 lladdr 02:00:00:00:00:99 dev eth0 nud permanent ||
			return 1
	done
}
t "tenants t1 and t2: own namespaces, daemons and files; same names, own collectors" tenants

remote_of() { v "$1" -j session show | json_get '[(s["name"], s["remote"]) for s in d]'; }
t "tenancy: t1 sees only its session (remote .11)" expect_eq t1 "$(remote_of "$t1")" "[('s1', '203.0.113.11')]"
t "tenancy: t2 sees only its session (remote .12)" expect_eq t2 "$(remote_of "$t2")" "[('s1', '203.0.113.12')]"

other_del() {
	v "$t2" session del s1 &&
	busywait 20000 sh -c "grep -c 'session s1: added' $OUT/t2.log | grep -qx 2" &&
	expect_eq "t1's session" "$(remote_of "$t1")" "[('s1', '203.0.113.11')]" &&
	expect_eq "t1's daemon log" "$(grep -c '^vtapctl daemon: session s1: ' "$OUT/t1.log")" 1 &&
	expect_eq "t1's port" "$(v "$t1" -j port show | json_get '[p["id"] for p in d]')" "[101]"
}
t "tenancy: t2 deletes its s1: t1's session, port and daemon are untouched" other_del

tenant_copies() {
	local i
	for i in 1 2; do
		"$VTAPCTL" -n "$col" collect listen "203.0.113.1$i" \
			write "$OUT/t$i.pcapng" >/dev/null 2>"$OUT/ct$i.err" &
		printf -v "cpid$i" '%s' $!
		busywait 20000 grep -q '^collect: listening' "$OUT/ct$i.err" || return 1
	done
	for i in 1 2; do
		eval "v=\$v$i"
		nsx "$v" "$PY" -S - "$i" <<'PYEOF' || return 1
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for n in range(10):
    s.sendto(b"tenant-%s %d" % (sys.argv[1].encode(), n) + bytes(40), ("192.0.2.99", 9))
PYEOF
	done
	sleep 1
	kill -INT "$cpid1" "$cpid2" && wait "$cpid1" "$cpid2" || return 1
	"$PY" - "$OUT" <<PYEOF
import sys
sys.path.insert(0, "$VTAP_TOP/selftests/host")
import collect_pkt
out, ok = sys.argv[1], True
for i in (1, 2):
    got = [p[3] for p in collect_pkt.read_capture("%s/t%d.pcapng" % (out, i))]
    mine = [f for f in got if b"tenant-%d " % i in f]
    other = [f for f in got if b"tenant-%d " % (3 - i) in f]
    print("collector %d: %d of its tenant's, %d of the other's" % (i, len(mine), len(other)))
    ok &= len(mine) == 10 and not other
sys.exit(0 if ok else 1)
PYEOF
}
t "tenancy: each collector gets its tenant's 10 copies, none of the other's" tenant_copies

tenant_stop() {
	kill -TERM "$pid_t1" && wait "$pid_t1" &&
	expect_eq "t1 ports" "$(v "$t1" -j port show | json_get '[p["id"] for p in d]')" "[101]" ||
		return 1
	"$VTAPCTL" -n "$t1" daemon config "$OUT/t1.conf" cleanup \
		>"$OUT/t1c.log" 2>&1 &
	local p=$!
	busywait 20000 grep -q 'started with' "$OUT/t1c.log" && kill -TERM "$p" && wait "$p" &&
	expect_eq "t1 sessions after cleanup" "$(v "$t1" -j session show)" "[]" &&
	expect_eq "t2" "$(remote_of "$t2")" "[('s1', '203.0.113.12')]" &&
	expect_eq "t2 ports" "$(v "$t2" -j port show | json_get '[p["id"] for p in d]')" "[101]"
}
t "tenancy: t1's daemon cleanup removes t1's state only" tenant_stop

finish
