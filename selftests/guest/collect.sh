#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vtapctl collect end to end: real vtap.ko output (ERSPAN III, 100 ns) from a
# VM's veth port to a collector namespace, checked against tcpdump inside the
# VM: per-direction counts, byte-identical frames, timestamps monotonic and
# inside the send window; one copy dropped on the underlay (a tc u32 filter
# on the GRE sequence number) is a gap of exactly 1; `to DEV` delivers the
# same frames to tcpdump on a dummy device.  Then the same port as VXLAN
# (VNI 70): every frame, byte-identical, and no loss accounting.  Then as
# ERSPAN III with the platform sub-header (Platf ID 7 and 3): tshark reads
# the port id and the upper timestamp bits on the underlay, collect files
# the copies under vtap-s<ID>-i33 with the 64-bit time; full-size frames
# are cut to the 1500-byte path MTU.
#
#   ns vm1               ns hv                                  ns col
#   eth0 192.0.2.1 <-> vnet1 192.0.2.254 (port 33)
#                        ul0 198.51.100.1/24  <----veth---->  ul1 198.51.100.2/24
#                        session s1 erspan3 id 7 gra 100ns    tc: drop GRE seq 5
#                                                             collect write x.pcapng
#                                                             collect to dum0 (tcpdump)
# Static neighbours and no IPv6 on the VM link: the only frames are the 10
# pings and their 10 replies, so the copies carry GRE sequence 0..19.
. "$(dirname "$0")/../lib.sh"

OUT=${VTAP_OUT:-$(mktemp -d)}
PIN=/sys/fs/bpf/vtap-collect-$$
PKT="python3 $VTAP_TOP/selftests/host/collect_pkt.py"
NPING=10
DROP_SEQ=5
cleanup() {
	local p
	for p in $(jobs -p); do kill "$p" 2>/dev/null; done
	[ -n "${hv:-}" ] && nsx "$hv" tc qdisc del dev vnet1 clsact 2>/dev/null
	rm -rf "$PIN"
	cleanup_netns
}
trap cleanup EXIT
modprobe -a veth dummy sch_ingress cls_bpf cls_u32 act_gact 2>/dev/null

t "topology: vm1 - hv (vnet1) - underlay - col" veth_trio_up || finish

t "session s1: erspan3 id 7 gra 100ns to the collector" \
	nsx "$hv" "$VTAPCTL" session add s1 encap erspan3 remote 198.51.100.2 id 7 gra 100ns

le32() { printf '%d %d %d %d ' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
le16() { printf '%d %d ' $(($1 & 255)) $(($1 >> 8 & 255)); }
port_value() {	# PORT_ID SLOT SESSION_OUT SESSION_IN (struct vtap_port)
	local i
	le32 "$1"; le32 "$2"; le32 0
	for i in $(seq 16); do printf '0 '; done
	le16 1; le16 1
	le16 "$3"; for i in $(seq 7); do le16 0; done
	le16 "$4"; for i in $(seq 7); do le16 0; done
}

# vtapctl port/flow when they exist, else the maps by hand as module.sh does.
attach() {
	local ifindex
	if "$VTAPCTL" port help >/dev/null 2>&1 && "$VTAPCTL" flow help >/dev/null 2>&1; then
		nsx "$hv" "$VTAPCTL" port add vnet1 id 33 &&
		nsx "$hv" "$VTAPCTL" flow add session s1 port vnet1 dir both
		return
	fi
	echo "vtapctl has no port/flow: bpftool"
	bpftool prog loadall "$BPFDIR/vtap.bpf.o" "$PIN" pinmaps "$PIN/maps" &&
	nsx "$hv" tc qdisc add dev vnet1 clsact &&
	nsx "$hv" tc filter add dev vnet1 ingress bpf da pinned "$PIN/vtap_tc_ingress" &&
	nsx "$hv" tc filter add dev vnet1 egress bpf da pinned "$PIN/vtap_tc_egress" || return 1
	ifindex=$(ip -n "$hv" -o link show vnet1 | cut -d: -f1)
	# shellcheck disable=SC2046
	bpftool map update pinned "$PIN/maps/ports" key $(le32 "$ifindex") value $(port_value 33 0 7 7)
}
t "port vnet1 (id 33), flow s1 both directions" attach

# The one-shot drop: GRE (IP header without options) with protocol 0x22EB
# and sequence number DROP_SEQ, at the collector's ingress.
drop_filter() {
	nsx "$col" tc qdisc add dev ul1 clsact &&
	nsx "$col" tc filter add dev ul1 ingress protocol ip prio 1 u32 \
		match ip protocol 47 0xff \
		match u16 0x22eb 0xffff at 22 \
		match u32 "$DROP_SEQ" 0xffffffff at 24 \
		action drop
}
t "underlay: tc u32 drops the copy with GRE sequence $DROP_SEQ" drop_filter

capture() {
	ip -n "$col" link add dum0 type dummy &&
	nsx "$col" sysctl -qw net.ipv6.conf.dum0.disable_ipv6=1 &&
	ip -n "$col" link set dum0 up || return 1
	nsenter --net="/run/netns/$vm1" tcpdump -i eth0 -w "$OUT/vm1.pcap" -U --immediate-mode \
		2>"$OUT/tcpdump-vm1.err" &
	tcpdump_vm1=$!
	nsenter --net="/run/netns/$col" tcpdump -i dum0 -w "$OUT/dum0.pcap" -U --immediate-mode \
		2>"$OUT/tcpdump-dum0.err" &
	tcpdump_dum0=$!
	"$VTAPCTL" -n "$col" -j collect write "$OUT/x.pcapng" \
		>"$OUT/write.json" 2>"$OUT/write.err" &
	col_write=$!
	"$VTAPCTL" -n "$col" -j collect to dum0 \
		>"$OUT/to.json" 2>"$OUT/to.err" &
	col_to=$!
	busywait 20000 grep -q "listening on" "$OUT/tcpdump-vm1.err" &&
	busywait 20000 grep -q "listening on" "$OUT/tcpdump-dum0.err" &&
	busywait 20000 grep -q "^collect: listening" "$OUT/write.err" &&
	busywait 20000 grep -q "^collect: listening" "$OUT/to.err"
}
t "captures: tcpdump in vm1, collect write, collect to dum0, tcpdump on dum0" capture

traffic() {
	t0=$(date +%s%N)
	nsx "$vm1" ping -c "$NPING" -i 0.2 -W 2 192.0.2.254 >/dev/null || return 1
	t1=$(date +%s%N)
	sleep 1
}
t "vm1 pings hv $NPING times" traffic

stop() {
	local rc=0 p
	for p in "$col_write" "$col_to"; do
		kill -INT "$p"
		wait "$p" || rc=1
	done
	sleep 0.5
	kill -INT "$tcpdump_vm1" "$tcpdump_dum0"
	wait "$tcpdump_vm1" "$tcpdump_dum0"
	cat "$OUT/write.err" "$OUT/to.err"
	return $rc
}
t "collectors stop on SIGINT, exit 0" stop

t "tc dropped exactly one copy" sh -c \
	"nsenter --net=/run/netns/$col tc -s filter show dev ul1 ingress | grep -q 'Sent [0-9]* bytes 1 pkt'"

# The file and the summaries against vm1's own capture.
check() {
	python3 - "$OUT" "$vm_mac" "$t0" "$t1" "$NPING" "$DROP_SEQ" <<EOF
import json, sys
sys.path.insert(0, "$VTAP_TOP/selftests/host")
import collect_pkt
out, vm_mac, t0, t1, nping, drop = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
mac = bytes.fromhex(vm_mac.replace(":", ""))
ok = True
def fail(*a):
    global ok
    print(*a)
    ok = False

ref = collect_pkt.read_capture(out + "/vm1.pcap")
if len(ref) != 2 * nping:
    fail("vm1 captured %d frames, want %d" % (len(ref), 2 * nping))
sent = [p[3] for p in ref if p[3][6:12] == mac]
recv = [p[3] for p in ref if p[3][6:12] != mac]
want = [p[3] for i, p in enumerate(ref) if i != drop]   # GRE seq i = frame i
got = collect_pkt.read_capture(out + "/x.pcapng")

what = sys.argv[0]
names = {p[0] for p in got}
if names != {"vtap-s7"}:
    fail("interfaces", names)
if [p[3] for p in got] != want:
    fail("frames differ: got %d, want %d" % (len(got), len(want)))
    for g, w in zip(got, want):
        if g[3] != w:
            fail(" got", g[3].hex(), "\n want", w.hex())
# Direction: inbound = sent by the VM (ERSPAN D=0), outbound = delivered.
dropped = ref[drop][3]
n_in = sum(1 for p in got if p[1] == "in")
n_out = sum(1 for p in got if p[1] == "out")
if n_in != len(sent) - (dropped in sent) or n_out != len(recv) - (dropped in recv):
    fail("directions: in %d out %d, VM sent %d received %d" % (n_in, n_out, len(sent), len(recv)))
if any((p[1] == "in") != (p[3][6:12] == mac) for p in got):
    fail("a frame with the wrong direction")
if any(p[2] != len(p[3]) for p in got):
    fail("original length differs from captured length")
ts = [p[4] for p in got]
if ts != sorted(ts):
    fail("timestamps not monotonic", ts)
if not all(t0 <= t <= t1 for t in ts):
    fail("timestamps outside the send window [%d, %d]: %r" % (t0, t1, ts))
if any(t % 100 for t in ts):
    fail("timestamps not in 100 ns units")

for name in ("write", "to"):
    d = json.load(open("%s/%s.json" % (out, name)))
    s = d["sessions"]
    if len(s) != 1:
        fail(name, "sessions", s)
        continue
    s = s[0]
    exp = {"id": 7, "encap": "erspan3", "source": "198.51.100.1", "packets": 2 * nping - 1,
           "lost": 1, "gaps": 1, "reordered": 0, "duplicates": 0, "resets": 0, "truncated": 0}
    for k, v in exp.items():
        if s.get(k) != v:
            fail(name, k, "got", s.get(k), "want", v)
    p = s["ports"][0]
    if (p["out"], p["in"]) != (n_in, n_out):
        fail(name, "port counts", p)
    if d["rejected"] or d["socket_drops"]:
        fail(name, "rejected or dropped", d)
d = json.load(open(out + "/to.json"))
if (d["injected"], d["inject_errors"]) != (2 * nping - 1, 0):
    fail("injected", d["injected"], d["inject_errors"])
dum = [p[3] for p in collect_pkt.read_capture(out + "/dum0.pcap")]
if dum != want:
    fail("dum0: got %d frames, want %d (or different bytes)" % (len(dum), len(want)))
sys.exit(0 if ok else 1)
EOF
}
t "file and summaries: every frame but the dropped one, byte-identical, directions, timestamps; gap of 1" check

tshark_counts() {
	local got
	got=$(tshark -r "$OUT/x.pcapng" -T fields -e frame.interface_name \
		-e frame.packet_flags_direction 2>/dev/null | sort | uniq -c | awk '{print $1, $2, $3}' | xargs)
	# VM sent 10 requests, received 10 replies; one of them dropped (seq 5: a reply).
	expect_eq "tshark: packets per interface and direction" "$got" \
		"10 vtap-s7 0x00000001 9 vtap-s7 0x00000002"
}
t "tshark reads the file: 10 inbound (sent by the VM), 9 outbound" tshark_counts
t "capinfos: one interface, nanosecond resolution" sh -c \
	"capinfos '$OUT/x.pcapng' | grep -q 'Number of interfaces in file: 1' &&
	 capinfos '$OUT/x.pcapng' | grep -q 'Time precision = nanoseconds'"
t "tshark: the gap is marked on the copy after it" sh -c \
	"tshark -r '$OUT/x.pcapng' -T fields -e frame.comment 2>/dev/null |
	 grep -q '1 lost before this copy (GRE sequence $((DROP_SEQ + 1)))'"
# VXLAN: the same VM port mirrored by a VXLAN session instead (VNI 70):
# collect (VXLAN only) writes every frame, byte-identical, on interface
# vtap-v70, and says it cannot count losses.
vxlan_setup() {
	nsx "$hv" "$VTAPCTL" session add s2 encap vxlan remote 198.51.100.2 vni 70 &&
	nsx "$hv" "$VTAPCTL" flow del session s1 port vnet1 &&
	nsx "$hv" "$VTAPCTL" flow add session s2 port vnet1 dir both || return 1
	nsenter --net="/run/netns/$vm1" tcpdump -i eth0 -w "$OUT/vm1-vx.pcap" -U --immediate-mode \
		2>"$OUT/tcpdump-vm1-vx.err" &
	tcpdump_vm1=$!
	"$VTAPCTL" -n "$col" -j collect encap vxlan write "$OUT/vx.pcapng" \
		>"$OUT/vx.json" 2>"$OUT/vx.err" &
	col_write=$!
	busywait 20000 grep -q "listening on" "$OUT/tcpdump-vm1-vx.err" &&
	busywait 20000 grep -q "^collect: listening" "$OUT/vx.err"
}
vxlan_stop() {
	local rc=0
	kill -INT "$col_write"
	wait "$col_write" || rc=1
	sleep 0.5
	kill -INT "$tcpdump_vm1"
	wait "$tcpdump_vm1"
	cat "$OUT/vx.err"
	return $rc
}
vxlan_check() {
	python3 - "$OUT" "$NPING" "$VTAP_TOP" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[3] + "/selftests/host")
import collect_pkt
out, nping = sys.argv[1], int(sys.argv[2])
ref = [p[3] for p in collect_pkt.read_capture(out + "/vm1-vx.pcap")]
got = collect_pkt.read_capture(out + "/vx.pcapng")
bad = []
if len(ref) != 2 * nping:
    bad.append("vm1 captured %d frames, want %d" % (len(ref), 2 * nping))
if [p[3] for p in got] != ref:
    bad.append("frames differ: got %d, want %d" % (len(got), len(ref)))
if {p[0] for p in got} != {"vtap-v70"}:
    bad.append("interfaces %r" % {p[0] for p in got})
d = json.load(open(out + "/vx.json"))
s = d["sessions"]
if len(s) != 1 or s[0].get("encap") != "vxlan" or s[0].get("id") != 70 or \
   s[0].get("packets") != 2 * nping or s[0].get("sequence") is not False or "lost" in s[0]:
    bad.append("summary %r" % s)
print("\n".join(bad) or "%d frames, byte-identical, vtap-v70, no sequence" % len(got))
sys.exit(1 if bad else 0)
EOF
}
t "VXLAN: session s2 (VNI 70) instead of s1 on vnet1; collect encap vxlan" vxlan_setup
t "vm1 pings hv $NPING times" traffic
t "collector stops on SIGINT, exit 0" vxlan_stop
t "VXLAN: every frame, byte-identical, on vtap-v70; summary: $((2 * NPING)) packets, no sequence" \
	vxlan_check


# ERSPAN III with the platform sub-header: session s3 (id 8, Platf ID 7,
# 100 ns) and s4 (id 9, Platf ID 3, 100 us) both mirror vnet1 (port id 33).
# On the underlay (tcpdump on ul1), tshark reads O = 1, the Platf ID, the
# port id as pid7.source_index / pid3.port_index and the upper timestamp
# bits; vtapctl collect files the copies under vtap-s8-i33 and vtap-s9-i33,
# with the time the sub-header completes.  Full-size frames (1514 bytes)
# over the 1500-byte underlay: each copy, 8 bytes of sub-header longer, is
# cut to the path MTU (T set), none over.
sub_setup() {
	nsx "$col" tc qdisc del dev ul1 clsact &&
	nsx "$hv" "$VTAPCTL" session add s3 encap erspan3 remote 198.51.100.2 id 8 gra 100ns \
		subheader 7 &&
	nsx "$hv" "$VTAPCTL" session add s4 encap erspan3 remote 198.51.100.2 id 9 subheader 3 &&
	nsx "$hv" "$VTAPCTL" -j session show s3 | grep -q '"subheader":7' &&
	nsx "$hv" "$VTAPCTL" session show s4 | grep -q ' subheader 3' &&
	nsx "$hv" "$VTAPCTL" flow del session s2 port vnet1 &&
	nsx "$hv" "$VTAPCTL" flow add session s3 port vnet1 dir both &&
	nsx "$hv" "$VTAPCTL" flow add session s4 port vnet1 dir both || return 1
	nsenter --net="/run/netns/$vm1" tcpdump -i eth0 -w "$OUT/vm1-sh.pcap" -U --immediate-mode \
		2>"$OUT/tcpdump-vm1-sh.err" &
	tcpdump_vm1=$!
	nsenter --net="/run/netns/$col" tcpdump -i ul1 -w "$OUT/ul1-sh.pcap" -U --immediate-mode \
		ip proto 47 2>"$OUT/tcpdump-ul1-sh.err" &
	tcpdump_ul1=$!
	"$VTAPCTL" -n "$col" -j collect write "$OUT/sh.pcapng" \
		>"$OUT/sh.json" 2>"$OUT/sh.err" &
	col_write=$!
	busywait 20000 grep -q "listening on" "$OUT/tcpdump-vm1-sh.err" &&
	busywait 20000 grep -q "listening on" "$OUT/tcpdump-ul1-sh.err" &&
	busywait 20000 grep -q "^collect: listening" "$OUT/sh.err"
}
sub_traffic() {
	t0=$(date +%s%N)
	nsx "$vm1" ping -c "$NPING" -i 0.2 -W 2 192.0.2.254 >/dev/null &&
	nsx "$vm1" ping -c 3 -i 0.2 -W 2 -s 1472 -M "do" 192.0.2.254 >/dev/null || return 1
	t1=$(date +%s%N)
	sleep 1
}
sub_stop() {
	local rc=0
	kill -INT "$col_write"
	wait "$col_write" || rc=1
	sleep 0.5
	kill -INT "$tcpdump_vm1" "$tcpdump_ul1"
	wait "$tcpdump_vm1" "$tcpdump_ul1"
	cat "$OUT/sh.err"
	return $rc
}
sub_tshark() {	# the underlay's copies as Wireshark reads them
	tshark -r "$OUT/ul1-sh.pcap" -T fields -E separator=, -E occurrence=f \
		-e erspan.spanid -e erspan.o -e erspan.platid -e erspan.pid7.source_index \
		-e erspan.pid7.timestamp -e erspan.pid3.port_index -e erspan.pid3.timestamp \
		-e erspan.timestamp -e erspan.truncated -e ip.len -e frame.time_epoch \
		>"$OUT/ul1-sh.fields" 2>"$OUT/tshark-sh.err" || { cat "$OUT/tshark-sh.err"; return 1; }
	python3 - "$OUT" "$NPING" <<'EOF'
import sys
out, nping = sys.argv[1], int(sys.argv[2])
rows = [l.strip().split(",") for l in open(out + "/ul1-sh.fields") if l.strip()]
bad = []
for sid, pid, idxcol, hicol, unit in ((8, 7, 3, 4, 100), (9, 3, 5, 6, 100000)):
    mine = [r for r in rows if r[0] == str(sid)]
    if len(mine) != 2 * (nping + 3):
        bad.append("session %d: %d copies, want %d" % (sid, len(mine), 2 * (nping + 3)))
    ncut = 0
    for r in mine:
        if r[1] != "1" or r[2] != str(pid) or r[idxcol] != "33":
            bad.append("session %d: erspan.o %s, platid %s, index %s (want 1, %d, 33)"
                       % (sid, r[1], r[2], r[idxcol], pid))
        full = (int(r[hicol]) << 32 | int(r[7])) * unit
        arrival = float(r[10]) * 1e9
        if abs(full - arrival) > 1e9:
            bad.append("session %d: 64-bit time %d, arrival %d" % (sid, full, arrival))
        iplen = int(r[9])
        if iplen > 1500:
            bad.append("session %d: outer packet of %d bytes over the MTU" % (sid, iplen))
        if r[8] == "1":
            ncut += 1
            if iplen < 1500 - 8:
                bad.append("session %d: a cut copy of %d bytes, not filling the MTU" % (sid, iplen))
    if ncut != 6:
        bad.append("session %d: %d copies cut (T), want 6 (3 full-size pings and replies)"
                   % (sid, ncut))
print("\n".join(bad) or "%d copies: sub-headers 7 and 3, index 33, 64-bit times; 6 cut each" % len(rows))
sys.exit(1 if bad else 0)
EOF
}
sub_collect() {	# the collector's file against vm1's capture and the underlay
	python3 - "$OUT" "$NPING" "$VTAP_TOP" <<'EOF'
import json, sys
sys.path.insert(0, sys.argv[3] + "/selftests/host")
import collect_pkt
out, nping = sys.argv[1], int(sys.argv[2])
ref = [p[3] for p in collect_pkt.read_capture(out + "/vm1-sh.pcap")]
got = collect_pkt.read_capture(out + "/sh.pcapng")
rows = [l.strip().split(",") for l in open(out + "/ul1-sh.fields") if l.strip()]
bad = []
if len(ref) != 2 * (nping + 3):
    bad.append("vm1 captured %d frames, want %d" % (len(ref), 2 * (nping + 3)))
for name, sid, hicol, unit in (("vtap-s8-i33", 8, 4, 100), ("vtap-s9-i33", 9, 6, 100000)):
    mine = [p for p in got if p[0] == name]
    if len(mine) != len(ref):
        bad.append("%s: %d frames, want %d" % (name, len(mine), len(ref)))
    for k, (p, f) in enumerate(zip(mine, ref)):
        if not f.startswith(p[3]) or p[2] != len(f):
            bad.append("%s #%d: %d of %d bytes, original length %d: not vm1's frame"
                       % (name, k, len(p[3]), len(f), p[2]))
    # The collector's time: the sub-header's upper bits with the base's lower.
    want = [(int(r[hicol]) << 32 | int(r[7])) * unit for r in rows if r[0] == str(sid)]
    if [p[4] for p in mine] != want:
        bad.append("%s: times %r, want %r" % (name, [p[4] for p in mine][:3], want[:3]))
if {p[0] for p in got} != {"vtap-s8-i33", "vtap-s9-i33"}:
    bad.append("interfaces %r" % {p[0] for p in got})
d = json.load(open(out + "/sh.json"))
ifs = [(i["name"], i["packets"], i["moves"], i["sources"]) for i in d["interfaces"]]
if sorted(ifs) != [(n, len(ref), 0, ["198.51.100.1"]) for n in ("vtap-s8-i33", "vtap-s9-i33")]:
    bad.append("summary interfaces %r" % ifs)
for s in d["sessions"]:
    if (s["lost"], s["resets"], s["truncated"]) != (0, 0, 6):
        bad.append("summary session %r" % s)
print("\n".join(bad) or "%d frames on vtap-s8-i33 and vtap-s9-i33, sub-header times" % len(got))
sys.exit(1 if bad else 0)
EOF
}
t "sub-header: sessions s3 (id 8, subheader 7, 100 ns) and s4 (id 9, subheader 3) on vnet1; captures" \
	sub_setup
t "vm1 pings hv $NPING times, and 3 times with full-size (1514-byte) frames" sub_traffic
t "collector stops on SIGINT, exit 0" sub_stop
t "tshark: erspan.o 1, platid 7 / 3, pid7.source_index / pid3.port_index 33, 64-bit times; full-size copies cut to the MTU (T)" \
	sub_tshark
t "collect: vtap-s8-i33 and vtap-s9-i33, vm1's frames (cut ones as prefixes), sub-header times" \
	sub_collect
t "kernel counters: 6 copies of each session cut to the path MTU" sh -c \
	"'$VTAPCTL' -n $hv -j session show s3 | grep -q '\"truncated\":6' &&
	 '$VTAPCTL' -n $hv -j session show s4 | grep -q '\"truncated\":6'"
t "no kernel warnings" sh -c "! dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace'"
finish
