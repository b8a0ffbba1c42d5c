#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vtapctl collect ... dev IFACE xdp: the collector's XDP path on the kernel's
# own veth (native and generic XDP), no module needed.  A sender namespace
# crafts vtap's encapsulations (selftests/host/collect_pkt.py's builders):
# ERSPAN III (with and without sub-header) and II (VLAN field and T bit set)
# over IPv4, GRE-TEB with key and sequence over IPv6, VXLAN over IPv4
# (without and with a UDP checksum, which the program verifies) and IPv6, a
# GRE-TEB with a checksum (the program leaves it to the sockets), a session
# not listened to, and pings.  The collector, "to xo0" (a veth whose peer
# xo1 tcpdump reads), must deliver each listened frame exactly once and
# byte-identical to the inner frame sent, with XDP's per-session counters
# equal to what was sent; the session not listened to and the pings reach
# the collector's stack untouched (tcpdump on c0 sees them as sent, the
# sockets filter the session).  Then: write FILE with xdp (counting only),
# count N (the program's budget), the fallback to raw sockets when XDP
# cannot attach, argument errors, and the program gone from c0 after every
# exit, SIGKILL included.  In the test VM, vtap.ko's own ERSPAN III copies of a
# VM's pings too: XDP sends exactly the VM's frames.
#
#   ns snd                        ns col
#   s0 198.51.100.1  <--veth-->   c0 198.51.100.2   (XDP: vtapctl collect)
#      2001:db8:7::1                 2001:db8:7::2
#                                 xo0 --veth-- xo1  (tcpdump; GRO on: NAPI
#                                                    for XDP frames)
. "$(dirname "$0")/../lib.sh"

OUT=${VTAP_OUT:-$(mktemp -d)}
TMP=$(mktemp -d)
cleanup() {
	local p
	for p in $(jobs -p); do kill "$p" 2>/dev/null; done
	cleanup_netns
	rm -rf "$TMP"
}
trap cleanup EXIT
modprobe -a veth 2>/dev/null

for tool in tcpdump ethtool python3; do
	if ! command -v $tool >/dev/null; then
		skip "collect xdp" "$tool missing (make deps)"
		finish
	fi
done

setup() {
	netns_new snd && netns_new col || return 1
	ip link add s0 netns "$snd" type veth peer name c0 netns "$col" &&
	ip link add xo0 netns "$col" type veth peer name xo1 netns "$col" || return 1
	nsx "$col" sysctl -qw net.ipv6.conf.xo0.disable_ipv6=1 &&
	nsx "$col" sysctl -qw net.ipv6.conf.xo1.disable_ipv6=1 || return 1
	ip -n "$snd" addr add 198.51.100.1/24 dev s0 &&
	ip -n "$col" addr add 198.51.100.2/24 dev c0 &&
	ip -n "$snd" addr add 2001:db8:7::1/64 dev s0 nodad &&
	ip -n "$col" addr add 2001:db8:7::2/64 dev c0 nodad || return 1
	# veth delivers XDP frames only to a peer with NAPI: GRO (or XDP) on it.
	nsx "$col" ethtool -K xo1 gro on >/dev/null || return 1
	# Whole UDP checksums on the wire, as from a NIC (the program checks them).
	nsx "$snd" ethtool -K s0 tx off >/dev/null || return 1
	ip -n "$snd" link set s0 up && ip -n "$col" link set c0 up &&
	ip -n "$col" link set xo0 up && ip -n "$col" link set xo1 up || return 1
	busywait 5000 nsx "$snd" ping -c 1 -W 1 198.51.100.2 >/dev/null &&
	busywait 5000 nsx "$snd" ping -6 -c 1 -W 1 2001:db8:7::2 >/dev/null
}
if ! t "topology: snd - c0 (collector), xo0 - xo1 (DEV and its reader)" setup; then
	finish
fi

# send EXPECT.json [N]: N rounds (default 3) of every kind, in order.
send() {
	nsx "$snd" python3 - "$1" "${2:-3}" "$VTAP_TOP/selftests/host" <<'EOF'
import json, socket, sys, time
sys.path.insert(0, sys.argv[3])
from collect_pkt import frame, gre, erspan2, erspan3, vxlan, platf, ts100ns, GRE_TEB, ERSPAN2, ERSPAN3
out, rounds = sys.argv[1], int(sys.argv[2])
s4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_GRE)
s6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_GRE)
u4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u4.setsockopt(socket.SOL_SOCKET, 11, 1)  # SO_NO_CHECK: VXLAN over IPv4 as vtap sends it
u4c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # with a checksum
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)  # with one, as vtap over IPv6
D4, D6 = "198.51.100.2", "2001:db8:7::2"
exp = {"xdp": [], "sockets": [], "other": [], "sessions": {}}
n, seq = 0, 0
def put(kind, key, fr, via, data):
    global n
    if via == "xdp":
        st = exp["sessions"].setdefault(key, {"packets": 0, "bytes": 0, "passed": 0})
        st["packets"] += 1
        st["bytes"] += len(fr)
    elif via == "sockets":
        exp["sessions"].setdefault(key, {"packets": 0, "bytes": 0, "passed": 0})["passed"] += 1
    exp[via].append({"kind": kind, "frame": fr.hex(), "data": data.hex()})
for r in range(rounds):
    n += 1; f = frame(n, size=200)
    d = gre(ERSPAN3, erspan3(7, ts100ns(), f, d=r & 1), seq=seq); seq += 1
    s4.sendto(d, (D4, 0)); put("erspan3", "erspan3/7", f, "xdp", d)
    n += 1; f = frame(n, size=120)
    d = gre(ERSPAN3, erspan3(7, ts100ns(), f, sub=platf(3, 33, 1)), seq=seq); seq += 1
    s4.sendto(d, (D4, 0)); put("erspan3-sub", "erspan3/7", f, "xdp", d)
    n += 1; f = frame(n, size=300)[:100]
    d = gre(ERSPAN2, erspan2(8, 33, f, vlan=5, t=1), seq=seq); seq += 1
    s4.sendto(d, (D4, 0)); put("erspan2-vlan-t", "erspan2/8", f, "xdp", d)
    n += 1; f = frame(n, size=80, vlan=9)
    d = gre(GRE_TEB, f, key=5, seq=r)
    s6.sendto(d, (D6, 0)); put("gre-teb-v6", "gre/5", f, "xdp", d)
    n += 1; f = frame(n, size=64)
    d = vxlan(70, f)
    u4.sendto(d, (D4, 4789)); put("vxlan", "vxlan/70", f, "xdp", d)
    n += 1; f = frame(n, size=65 + r)
    d = vxlan(70, f)
    u4c.sendto(d, (D4, 4789)); put("vxlan-csum", "vxlan/70", f, "xdp", d)
    n += 1; f = frame(n, size=150 + r)
    d = vxlan(70, f)
    u6.sendto(d, (D6, 4789)); put("vxlan-v6-csum", "vxlan/70", f, "xdp", d)
    n += 1; f = frame(n, size=90)
    d = gre(GRE_TEB, f, key=5, csum=True)
    s4.sendto(d, (D4, 0)); put("gre-teb-csum", "gre/5", f, "sockets", d)
    n += 1; f = frame(n, size=110)
    d = gre(ERSPAN3, erspan3(9, ts100ns(), f), seq=1000 + r)
    s4.sendto(d, (D4, 0)); put("erspan3-not-listened", "erspan3/9", f, "other", d)
    time.sleep(0.01)
with open(out, "w") as fp:
    json.dump(exp, fp)
EOF
}

# start NAME ARGS...: a collector in col, stderr in $TMP/NAME.err, its pid in
# NAME_pid; one that does not come up is killed (a test that fails leaves no
# collector holding c0 for the next).
collectors=()
start() {
	local name=$1 pid
	shift
	nsenter --net="/run/netns/$col" "$VTAPCTL" -j collect "$@" \
		>"$TMP/$name.json" 2>"$TMP/$name.err" &
	pid=$!
	eval "${name}_pid=$pid"
	collectors+=("$pid")
	busywait 20000 grep -q "^collect: listening" "$TMP/$name.err" && return 0
	kill -KILL "$pid" 2>/dev/null
	cat "$TMP/$name.err"
	return 1
}

# Before each part: no collector of an earlier one is left (it failed).
reap() {
	local p
	for p in "${collectors[@]}"; do
		kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	collectors=()
	for p in ${xo1_tcpdump:-} ${c0_tcpdump:-}; do
		kill -INT "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	xo1_tcpdump= c0_tcpdump=
	return 0
}

stop() {	# NAME: SIGINT, exit status 0
	local pid rc=0
	eval "pid=\$${1}_pid"
	kill -INT "$pid" 2>/dev/null
	wait "$pid" || rc=$?
	cat "$TMP/$1.err"
	expect_eq "exit status of collector $1" "$rc" 0
}

no_xdp_on_c0() {
	if ip -n "$col" link show c0 | grep -q "xdp"; then
		ip -n "$col" link show c0
		echo "an XDP program is still attached to c0"
		return 1
	fi
}

tcpdump_start() {	# NAME DEV FILTER...
	local name=$1 dev=$2
	shift 2
	nsenter --net="/run/netns/$col" tcpdump -i "$dev" -w "$TMP/$name.pcap" -U \
		--immediate-mode "$@" 2>"$TMP/$name.tcpdump.err" &
	eval "${name}_tcpdump=$!"
	busywait 20000 grep -q "listening on" "$TMP/$name.tcpdump.err"
}

tcpdump_stop() {	# NAME
	local pid
	eval "pid=\$${1}_tcpdump"
	sleep 0.5
	kill -INT "$pid"
	wait "$pid"
	cp "$TMP/$1.pcap" "$OUT/" 2>/dev/null
	return 0
}

# check MODE: the frames on xo1, the copies left on c0 and the summary.
check() {
	python3 - "$TMP" "$1" "$VTAP_TOP/selftests/host" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[3])
import collect_pkt
tmp, mode = sys.argv[1], sys.argv[2]
ok = True
def fail(*a):
    global ok
    print(*a)
    ok = False
exp = json.load(open(tmp + "/expect.json"))
got = [p[3] for p in collect_pkt.read_capture(tmp + "/xo1.pcap")]
want = [bytes.fromhex(e["frame"]) for e in exp["xdp"] + exp["sockets"]]
# XDP's frames and the sockets' may interleave differently: as multisets.
if sorted(got) != sorted(want):
    fail("xo1: %d frames, want %d" % (len(got), len(want)))
    for g in got:
        if g not in want:
            fail("  unexpected on xo1:", g.hex())
    for w in want:
        if w not in got:
            fail("  missing on xo1:", w.hex())
else:
    print("xo1: %d frames, byte-identical to the inner frames sent" % len(got))
# On c0 (after XDP): the copies left to the stack, as sent; none it consumed.
c0 = collect_pkt.read_capture(tmp + "/c0.pcap")
def payload(p):   # the GRE or UDP payload of an IPv4/IPv6 Ethernet frame
    b = p[3]
    if b[12:14] == b"\x08\x00":
        ihl = (b[14] & 15) * 4
        tot = int.from_bytes(b[16:18], "big")
        pl = b[14 + ihl:14 + tot]
        return pl[8:] if b[23] == 17 else pl
    pl = b[54:54 + int.from_bytes(b[18:20], "big")]
    return pl[8:] if b[20] == 17 else pl
seen = [payload(p) for p in c0]
for e in exp["sockets"] + exp["other"]:
    if bytes.fromhex(e["data"]) not in seen:
        fail("c0: a passed copy (%s) is missing or changed" % e["kind"])
for e in exp["xdp"]:
    if bytes.fromhex(e["data"]) in seen:
        fail("c0: a copy XDP consumed (%s) reached the stack" % e["kind"])
d = json.load(open(tmp + "/main.json"))
x = d.get("xdp", {})
if x.get("mode") != mode or not x.get("redirect"):
    fail("xdp:", x)
sess = {"%s/%d" % (s["encap"], s["id"]): s for s in x.get("sessions", [])}
for key, e in exp["sessions"].items():
    if key == "erspan3/9":
        if key in sess:
            fail("xdp counted session 9, which is not listened to:", sess[key])
        continue
    s = sess.get(key, {})
    for f in ("packets", "bytes", "passed"):
        if s.get(f) != e[f]:
            fail("xdp session %s: %s %s, want %s" % (key, f, s.get(f), e[f]))
    if s.get("undelivered"):
        fail("xdp session %s: undelivered %s" % (key, s["undelivered"]))
# The sockets: the checksummed copies accepted and sent, session 9 filtered.
if d["accepted"] != len(exp["sockets"]) or d["injected"] != len(exp["sockets"]):
    fail("sockets: accepted %d injected %d, want %d" % (d["accepted"], d["injected"],
                                                        len(exp["sockets"])))
if d["filtered"] != len(exp["other"]):
    fail("sockets: filtered %d, want %d (session 9)" % (d["filtered"], len(exp["other"])))
print("xdp sessions:", json.dumps(x.get("sessions")))
sys.exit(0 if ok else 1)
EOF
}

# One run of to DEV on the XDP path in MODE (native, generic).
run_mode() {
	local mode=$1 modearg=()
	[ "$mode" = generic ] && modearg=(mode generic)
	reap
	rm -f "$TMP"/*.pcap
	t "$mode: tcpdump on xo1 (DEV's peer) and on c0 (what XDP passes)" \
		eval 'tcpdump_start xo1 xo1 && tcpdump_start c0 c0 "ip proto 47 or udp or ip6 proto 47"' ||
		return
	t "$mode: collect session 5 7 8 70 to xo0 dev c0 xdp ${modearg[*]}: 'XDP $mode on c0'" \
		eval 'start main session 5 7 8 70 to xo0 dev c0 xdp "${modearg[@]}" &&
		      grep -x "collect: XDP $mode on c0" "$TMP/main.err"' || return
	t "$mode: an XDP program on c0 while it runs" \
		sh -c "ip -n $col link show c0 | grep -q xdp"
	t "$mode: send 3 rounds: ERSPAN II/III, GRE-TEB v6, VXLAN, checksum, session 9" \
		send "$TMP/expect.json" 3
	t "$mode: pings from snd reach the collector's stack (not vtap's: passed)" \
		nsx "$snd" ping -c 3 -i 0.2 -W 2 198.51.100.2
	sleep 0.5
	t "$mode: SIGINT: exit 0" stop main
	tcpdump_stop xo1
	tcpdump_stop c0
	cp "$TMP/main.json" "$OUT/xdp-$mode.json"
	t "$mode: no XDP program on c0 after the exit" no_xdp_on_c0
	t "$mode: frames on xo1 byte-identical, passed copies untouched on c0, counters" \
		check "$mode"
}
run_mode native
run_mode generic

# write FILE with xdp: the program only counts; every frame goes to the file.
write_run() {
	reap
	start w session 7 write "$TMP/w.pcapng" dev c0 xdp || return 1
	grep -x "collect: XDP native on c0 (counting; the sockets write the file)" "$TMP/w.err" ||
		return 1
	send "$TMP/expect-w.json" 2 || return 1
	sleep 0.5
	stop w || return 1
	python3 - "$TMP" <<'EOF'
import json, sys
tmp = sys.argv[1]
d = json.load(open(tmp + "/w.json"))
s = {"%s/%d" % (x["encap"], x["id"]): x for x in d["xdp"]["sessions"]}
want = 4    # 2 rounds of 2 copies of session 7
assert d["xdp"]["redirect"] is False, d["xdp"]
assert s["erspan3/7"]["packets"] == want, s
assert list(s) == ["erspan3/7"], s
assert d["written"] == want, d["written"]
print("written", d["written"], "counted", s["erspan3/7"]["packets"])
EOF
}
t "write FILE dev c0 xdp: counted by XDP, every frame written by the sockets" write_run

# count N: the program redirects at most N.
count_run() {
	reap
	# duration: a safety net, should the count never be reached
	start cnt session 7 to xo0 count 4 duration 60 dev c0 xdp || return 1
	send "$TMP/expect-c.json" 3 || return 1
	local rc=0
	wait "$cnt_pid" || rc=$?
	cat "$TMP/cnt.err"
	expect_eq "exit status" "$rc" 0 || return 1
	expect_eq "xdp packets" "$(json_get 'd["xdp"]["packets"]' <"$TMP/cnt.json")" 4
}
t "count 4: the program redirects 4, the collector stops by itself" count_run
t "no XDP program on c0 after count" no_xdp_on_c0

# The fallback: while one collector holds c0, another cannot attach.
fallback_run() {
	reap
	start hold session 7 to xo0 dev c0 xdp || return 1
	nsx "$col" timeout 60 "$VTAPCTL" -j collect session 7 to xo0 dev c0 xdp duration 1 \
		>"$TMP/fb.json" 2>"$TMP/fb.err" || { cat "$TMP/fb.err"; return 1; }
	cat "$TMP/fb.err"
	grep -q "^collect: raw sockets (XDP: c0: native: another XDP program is attached; generic: " \
		"$TMP/fb.err" || return 1
	expect_eq "summary's xdp mode" "$(json_get 'd["xdp"]["mode"]' <"$TMP/fb.json")" off || return 1
	stop hold
}
t "XDP cannot attach (c0 taken): 'collect: raw sockets (XDP: ...)', exit 0" fallback_run
fallback_mode_run() {
	reap
	start hold session 7 to xo0 dev c0 xdp mode generic || return 1
	nsx "$col" timeout 60 "$VTAPCTL" collect session 7 to xo0 dev c0 xdp mode native duration 1 \
		2>"$TMP/fb2.err" >/dev/null || { cat "$TMP/fb2.err"; return 1; }
	cat "$TMP/fb2.err"
	grep -q "^collect: raw sockets (XDP: native mode on c0: " "$TMP/fb2.err" || return 1
	stop hold
}
t "mode native while generic is attached: raw sockets, with the reason" fallback_mode_run

kill_run() {
	reap
	start k session 7 to xo0 dev c0 xdp || return 1
	ip -n "$col" link show c0 | grep -q xdp || return 1
	kill -KILL "$k_pid"
	wait "$k_pid" 2>/dev/null
	busywait 5000 no_xdp_on_c0
}
t "SIGKILL: the BPF link goes with the process, nothing left on c0" kill_run

exit_of() {	# WANT MESSAGE ARGS...
	local want=$1 msg=$2 rc=0
	shift 2
	nsx "$col" "$VTAPCTL" collect "$@" >"$TMP/e.out" 2>&1 || rc=$?
	cat "$TMP/e.out"
	expect_eq "exit status" "$rc" "$want" && grep -qF -- "$msg" "$TMP/e.out"
}
t "xdp without dev: exit 2" \
	exit_of 2 "collect: xdp needs dev IFACE" to xo0 xdp
t "dev without xdp: exit 2" \
	exit_of 2 "collect: dev IFACE is where xdp attaches" to xo0 dev c0
t "mode without xdp: exit 2" \
	exit_of 2 "collect: mode is XDP's" to xo0 mode native
t "mode bogus: exit 2" \
	exit_of 2 "collect: mode: 'bogus' is not native or generic" to xo0 dev c0 xdp mode bogus
t "xdp twice: exit 2" \
	exit_of 2 "'xdp' given twice" to xo0 dev c0 xdp xdp
reap
t "dev nosuch xdp: exit 5" \
	exit_of 5 "collect: dev nosuch: no such device" to xo0 dev nosuch xdp duration 1
t "no XDP program on c0 at the end" no_xdp_on_c0

# vtap.ko's own copies (the test VM): a VM's pings mirrored as ERSPAN III by
# a real session, the collector's XDP path sends them to xo0; xo1 gets
# exactly the VM's frames, and the program counts each.
NPING=10
real_run() {
	local cap rc=0
	reap
	veth_trio_up || return 1
	nsx "$hv" "$VTAPCTL" session add s1 encap erspan3 remote 198.51.100.2 id 7 &&
	nsx "$hv" "$VTAPCTL" port add vnet1 id 33 &&
	nsx "$hv" "$VTAPCTL" flow add session s1 port vnet1 dir both || return 1
	ip link add xo0 netns "$col" type veth peer name xo1 netns "$col" &&
	nsx "$col" sysctl -qw net.ipv6.conf.xo0.disable_ipv6=1 &&
	nsx "$col" sysctl -qw net.ipv6.conf.xo1.disable_ipv6=1 &&
	nsx "$col" ethtool -K xo1 gro on >/dev/null &&
	ip -n "$col" link set xo0 up && ip -n "$col" link set xo1 up || return 1
	nsenter --net="/run/netns/$vm1" tcpdump -i eth0 -w "$TMP/vm1.pcap" -U --immediate-mode \
		2>"$TMP/vm1.tcpdump.err" &
	cap=$!
	busywait 20000 grep -q "listening on" "$TMP/vm1.tcpdump.err" &&
	tcpdump_start xo1 xo1 &&
	start real session 7 to xo0 dev ul1 xdp || return 1
	grep -x "collect: XDP native on ul1" "$TMP/real.err" || return 1
	nsx "$vm1" ping -c "$NPING" -i 0.2 -W 2 192.0.2.254 >/dev/null || rc=1
	sleep 1
	stop real || rc=1
	tcpdump_stop xo1
	sleep 0.5
	kill -INT "$cap"
	wait "$cap"
	[ $rc = 0 ] || return 1
	python3 - "$TMP" "$NPING" "$VTAP_TOP/selftests/host" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[3])
import collect_pkt
tmp, nping = sys.argv[1], int(sys.argv[2])
ref = [p[3] for p in collect_pkt.read_capture(tmp + "/vm1.pcap")]
got = [p[3] for p in collect_pkt.read_capture(tmp + "/xo1.pcap")]
d = json.load(open(tmp + "/real.json"))
s = d["xdp"]["sessions"]
print("vm1 %d frames, xo1 %d, xdp %s" % (len(ref), len(got), s))
assert len(ref) == 2 * nping, "vm1 captured %d frames" % len(ref)
assert got == ref, "xo1's frames are not vm1's"
assert len(s) == 1 and s[0]["id"] == 7 and s[0]["encap"] == "erspan3", s
assert s[0]["packets"] == 2 * nping and s[0]["bytes"] == sum(map(len, ref)), s
assert d["accepted"] == 0, d["accepted"]
EOF
}
if [ -d /sys/module/vtap ]; then
	t "vtap.ko's ERSPAN III copies of a VM's pings: XDP sends exactly its frames to xo0" \
		real_run
	t "no XDP program on ul1 after the exit" \
		sh -c "! ip -n $col link show ul1 | grep -q xdp"
else
	skip "vtap.ko's copies through XDP" "vtap.ko is not loaded (the test VM loads it)"
fi

finish
