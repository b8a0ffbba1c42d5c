#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vtapctl collect receiving VXLAN (RFC 7348) on the host, no module needed:
# Linux vxlan devices in a sender namespace (VNI 42 and 43 over IPv4, VNI 60
# over IPv6, VNI 77 on UDP port 8472) carry Ethernet frames written into
# them on packet sockets; the collector in another namespace writes pcapng,
# compared byte for byte with tcpdump on the vxlan devices.  Also: the VNI
# as the session (interface names, session filter), the summary ("no
# sequence": VXLAN cannot count loss), malformed datagrams, dstport, encap,
# the port already taken, to DEV.  The ASan/UBSan build is used.
#
#   ns snd                                  ns col
#   +----------------------------+          +------------------------------+
#   | vx42 vx43 -> 192.0.2.2      |          |                              |
#   | vx60 vx61 -> 2001:db8:42::2 |          |  vtapctl collect ...         |
#   | vx77 -> 192.0.2.2:8472      |          |                              |
#   | s0 192.0.2.1, 2001:db8:42::1|<--veth-->| c0 192.0.2.2, 2001:db8:42::2 |
#   +----------------------------+          +------------------------------+
. "$(dirname "$0")/../lib.sh"
. "$VTAP_TOP/selftests/lib/collect.sh"

ASAN=$VTAP_TOP/build/asan/vtapctl
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=99
TMP=$(mktemp -d)
cleanup() {
	local p
	for p in $(jobs -p); do kill "$p" 2>/dev/null; done
	cleanup_netns
	rm -rf "$TMP"
}
trap cleanup EXIT

if [ ! -x "$ASAN" ]; then
	skip "collect vxlan" "$ASAN not built"
	finish
fi
for tool in tshark capinfos tcpdump; do
	if ! command -v $tool >/dev/null; then
		skip "collect vxlan" "$tool missing (make deps)"
		finish
	fi
done

vx_add() {	# NAME VNI REMOTE LOCAL PORT [OPTIONS...]
	local name=$1 vni=$2 remote=$3 local=$4 port=$5
	shift 5
	ip -n "$snd" link add "$name" type vxlan id "$vni" remote "$remote" local "$local" \
		dstport "$port" "$@" || return 1
	set -- "$name"
	# No IPv6 link-local address, no router solicitation, no MLD: only
	# the frames this test writes go through the tunnel.
	nsx "$snd" sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1" &&
	ip -n "$snd" link set "$1" up
}

setup() {
	netns_new snd && netns_new col || return 1
	ip link add s0 netns "$snd" type veth peer name c0 netns "$col" || return 1
	ip -n "$snd" addr add 192.0.2.1/24 dev s0
	ip -n "$col" addr add 192.0.2.2/24 dev c0
	ip -n "$snd" addr add 2001:db8:42::1/64 dev s0 nodad
	ip -n "$col" addr add 2001:db8:42::2/64 dev c0 nodad
	ip -n "$snd" link set s0 up
	ip -n "$col" link set c0 up
	vx_add vx42 42 192.0.2.2 192.0.2.1 4789 &&
	vx_add vx43 43 192.0.2.2 192.0.2.1 4789 &&
	vx_add vx60 60 2001:db8:42::2 2001:db8:42::1 4789 &&
	vx_add vx61 61 2001:db8:42::2 2001:db8:42::1 4789 udp6zerocsumtx &&
	vx_add vx77 77 192.0.2.2 192.0.2.1 8472 || return 1
	busywait 5000 nsx "$snd" ping -c 1 -W 1 192.0.2.2 >/dev/null &&
	busywait 5000 nsx "$snd" ping -6 -c 1 -W 1 2001:db8:42::2 >/dev/null
}
if ! t "topology: two namespaces, veth, vxlan devices over IPv4 and IPv6" setup; then
	finish
fi

# send DEV FIRST N [trunc]: write N frames (numbered from FIRST) into the
# vxlan device DEV on a packet socket; append them to $TMP/sent-DEV.hex.
# With "trunc", the last one is a 1400-byte frame cut to 200 bytes, as vtap
# sends a copy cut to a snaplen (its inner IPv4 length says 1386).
send() {
	nsx "$snd" /usr/bin/python3 - "$@" >>"$TMP/sent-$1.hex" <<EOF
import socket, sys, time
sys.path.insert(0, "$VTAP_TOP/selftests/host")
import collect_pkt as c
dev, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
trunc = len(sys.argv) > 4
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
for i in range(first, first + n):
    if trunc and i == first + n - 1:
        f = c.frame(i, size=1400)[:200]
    else:
        f = c.frame(i, size=60 + 37 * (i % 7), vlan=(i if i % 4 == 0 else None))
    s.send(f)
    print(f.hex())
    time.sleep(0.002)
EOF
}

# Tcpdump on the sender's vxlan devices: what went into each tunnel.
dump_start() {	# DEV...
	local d
	for d in "$@"; do
		# nsenter execs tcpdump: $! is tcpdump (to signal it).
		nsenter --net="/run/netns/$snd" tcpdump -i "$d" -w "$TMP/dump-$d.pcap" \
			-U --immediate-mode 2>"$TMP/dump-$d.err" &
		eval "dump_${d}_pid=$!"
		busywait 10000 grep -q "listening on" "$TMP/dump-$d.err" || return 1
	done
}
dump_stop() {	# DEV...
	local d pid
	sleep 0.3
	for d in "$@"; do
		eval "pid=\$dump_${d}_pid"
		kill -INT "$pid"
		wait "$pid"
	done
	return 0
}

# ---- the main run: three VNIs, IPv4 and IPv6 underlays --------------------------
main_run() {
	dump_start vx42 vx43 vx60 || return 1
	start main "$ASAN" -j collect write "$TMP/main.pcapng" count 10 duration 30 || return 1
	grep -q "VXLAN on UDP port 4789" "$TMP/main.err" || { cat "$TMP/main.err"; return 1; }
	send vx42 1 3 && send vx43 4 2 && send vx60 6 3 && send vx42 9 2 trunc || return 1
	wait_for main
	dump_stop vx42 vx43 vx60
	expect_eq "exit status" "$rc_of" 0 || { cat "$TMP/main.err"; return 1; }
	no_sanitizer_report "$TMP/main.err"
}
t "collect: VXLAN from vxlan devices (VNI 42, 43 over IPv4; 60 over IPv6), count 10, exit 0" main_run

# check_frames PCAPNG IFNAME=DEV...: the packets of each interface, in order,
# are exactly those tcpdump saw on DEV and those the sender wrote; and
# nothing else is in the file.
check_frames() {
	local f=$1
	shift
	/usr/bin/python3 - "$f" "$TMP" "$@" <<EOF
import sys
sys.path.insert(0, "$VTAP_TOP/selftests/host")
import collect_pkt
got = collect_pkt.read_capture(sys.argv[1])
tmp, ok, total = sys.argv[2], True, 0
for spec in sys.argv[3:]:
    ifname, dev = spec.split("=")
    sent = [bytes.fromhex(l) for l in open("%s/sent-%s.hex" % (tmp, dev)).read().split()]
    dumped = [p[3] for p in collect_pkt.read_capture("%s/dump-%s.pcap" % (tmp, dev))]
    mine = [p[3] for p in got if p[0] == ifname]
    total += len(mine)
    if dumped != sent:
        print("%s: tcpdump saw %d frames, %d were sent (or different bytes)" % (dev, len(dumped), len(sent)))
        ok = False
    if mine != dumped:
        print("%s: %d frames in the capture, tcpdump on %s saw %d" % (ifname, len(mine), dev, len(dumped)))
        for a, b in zip(mine, dumped):
            if a != b:
                print(" got ", a.hex(), "\n want", b.hex())
        ok = False
if total != len(got):
    print("other packets in the capture:", sorted(set(p[0] for p in got)))
    ok = False
sys.exit(0 if ok else 1)
EOF
}
t "collect: pcapng frames byte-identical to tcpdump on each vxlan device, one interface per VNI" \
	check_frames "$TMP/main.pcapng" vtap-v42=vx42 vtap-v43=vx43 vtap-v60=vx60

per_if_counts() {
	local got
	got=$(tshark -r "$TMP/main.pcapng" -T fields -e frame.interface_name 2>/dev/null | sort | uniq -c |
	      awk '{printf "%s=%s ", $2, $1}')
	expect_eq "packets per interface" "$got" "vtap-v42=5 vtap-v43=2 vtap-v60=3 "
}
t "collect: tshark: interfaces vtap-v<VNI>, packets per interface" per_if_counts

if_meta() {
	local info
	info=$(capinfos "$TMP/main.pcapng") || return 1
	grep -q 'Description = vtap VXLAN VNI 42 from 192.0.2.1' <<<"$info" &&
	grep -q 'Description = vtap VXLAN VNI 60 from 2001:db8:42::1' <<<"$info" ||
	{ echo "$info"; return 1; }
}
t "collect: interface descriptions: VXLAN, VNI, sender (IPv4 and IPv6)" if_meta

# The cut frame: 200 bytes captured, 1400 on the wire (from its IPv4 header).
truncated_frame() {
	local got
	got=$(tshark -r "$TMP/main.pcapng" -Y 'frame.cap_len != frame.len' -T fields \
	      -e frame.interface_name -e frame.cap_len -e frame.len -e frame.comment 2>/dev/null)
	expect_eq "cut frames" "$got" \
		"vtap-v42	200	1400	vtap: truncated by the sender, original length from the inner IP header"
}
t "collect: a cut frame: original length from the inner IPv4 header, marked in a comment" truncated_frame

check_summary() {	# SUMMARY.json
	/usr/bin/python3 - "$1" "$TMP" <<'EOF'
import json, sys
got = json.load(open(sys.argv[1]))
ok = True
def chk(what, g, w):
    global ok
    if g != w:
        print("%s: got %r, want %r" % (what, g, w))
        ok = False
def sent(dev):
    return [bytes.fromhex(l) for l in open("%s/sent-%s.hex" % (sys.argv[2], dev)).read().split()]
chk("received, accepted, rejected, filtered, written",
    [got[k] for k in ("received", "accepted", "rejected", "filtered", "written")], [10, 10, 0, 0, 10])
chk("socket drops", got["socket_drops"], 0)
want = [(42, "192.0.2.1", "vx42", 1), (43, "192.0.2.1", "vx43", 0), (60, "2001:db8:42::1", "vx60", 0)]
chk("sessions", [(s["encap"], s["id"], s["source"]) for s in got["sessions"]],
    [("vxlan", w[0], w[1]) for w in want])
for s, (vni, src, dev, trunc) in zip(got["sessions"], want):
    f = sent(dev)
    chk("VNI %d packets, bytes, truncated, no_sequence" % vni,
        [s["packets"], s["bytes"], s["truncated"], s["no_sequence"]],
        [len(f), sum(map(len, f)), trunc, len(f)])
    chk("VNI %d sequence" % vni, s.get("sequence"), False)
    chk("VNI %d loss keys" % vni, [k for k in ("lost", "gaps", "reordered", "duplicates") if k in s], [])
    chk("VNI %d ports" % vni, [(p["name"], p["unknown"], p["in"], p["out"]) for p in s["ports"]],
        [("vtap-v%d" % vni, len(f), 0, 0)])
sys.exit(0 if ok else 1)
EOF
}
t "collect: JSON summary: per VNI packets, bytes, truncated; sequence false, no loss counters" \
	check_summary "$TMP/main.out"

isb_comment() {	# in the Interface Statistics Blocks' opt_comment
	expect_eq "ISB comments" \
		"$(grep -ao 'VXLAN has no sequence number: lost, reordered and duplicate copies are not counted' \
		   "$TMP/main.pcapng" | wc -l)" 3
}
t "collect: interface statistics say that VXLAN loss is not counted" isb_comment

# ---- session: VNI filter, plain-text summary ---------------------------------
filter_run() {
	: >"$TMP/sent-vx42.hex"; : >"$TMP/sent-vx43.hex"; : >"$TMP/sent-vx60.hex"
	dump_start vx42 vx43 vx60 || return 1
	start filt "$ASAN" collect session 42 60 write "$TMP/filt.pcapng" count 5 duration 30 || return 1
	send vx43 20 3 && send vx42 23 2 && send vx60 25 3 || return 1
	wait_for filt
	dump_stop vx42 vx43 vx60
	expect_eq "exit status" "$rc_of" 0 || { cat "$TMP/filt.err"; return 1; }
	no_sanitizer_report "$TMP/filt.err" || return 1
	grep -q '^received 8 packets ([0-9]* bytes): accepted 5, filtered 3, rejected 0' "$TMP/filt.out" &&
	grep -q '^session 42 vxlan from 192.0.2.1: packets 2 bytes [0-9]* no sequence (loss not counted) truncated 0$' "$TMP/filt.out" &&
	grep -q '^session 60 vxlan from 2001:db8:42::1: packets 3 bytes [0-9]* no sequence (loss not counted) truncated 0$' "$TMP/filt.out" &&
	! grep -q '^session 43' "$TMP/filt.out" || { cat "$TMP/filt.out"; return 1; }
	check_frames "$TMP/filt.pcapng" vtap-v42=vx42 vtap-v60=vx60
}
t "collect: session 42 60: VNI 43 filtered out, plain summary says \"no sequence\"" filter_run

# ---- malformed datagrams on the VXLAN port ------------------------------------
malformed_run() {
	start bad "$ASAN" -j collect write "$TMP/bad.pcapng" count 1 duration 30 || return 1
	nsx "$snd" /usr/bin/python3 - <<EOF || return 1
import socket, sys, time
sys.path.insert(0, "$VTAP_TOP/selftests/host")
import collect_pkt as c
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for p in (c.vxlan(42, c.frame(1), flags=0x00),     # I flag clear
          c.vxlan(42, b"")[:4],                    # shorter than the header
          b"",                                     # empty
          c.vxlan(42, c.frame(1)[:10]),            # inner frame under 14 bytes
          c.vxlan(99, c.frame(2), flags=0xff, rsvd1=0xabcdef, rsvd2=0x5a)):  # reserved bits: ignored
    s.sendto(p, ("192.0.2.2", 4789))
    time.sleep(0.01)
EOF
	wait_for bad; expect_eq "exit status" "$rc_of" 0 || { cat "$TMP/bad.err"; return 1; }
	no_sanitizer_report "$TMP/bad.err" || return 1
	expect_eq "received, accepted, rejected" \
		"$(json_get 'd["received"], d["accepted"], d["rejected"]' <"$TMP/bad.out")" "5 1 4" &&
	expect_eq "rejected by reason" \
		"$(json_get 'sorted(d["rejected_by_reason"].items())' <"$TMP/bad.out")" \
		"[('inner_short', 1), ('short', 2), ('vxlan_flags', 1)]" &&
	expect_eq "sessions" "$(json_get '[(s["id"], s["packets"]) for s in d["sessions"]]' <"$TMP/bad.out")" \
		"[(99, 1)]" &&
	expect_eq "interfaces" "$(tshark -r "$TMP/bad.pcapng" -T fields -e frame.interface_name 2>/dev/null | xargs)" \
		"vtap-v99"
}
t "collect: I flag clear, short, empty, inner short: rejected by reason; reserved bits ignored" malformed_run

# ---- dstport, encap ------------------------------------------------------------
dstport_run() {
	: >"$TMP/sent-vx77.hex"
	start dp "$ASAN" -j collect dstport 8472 write "$TMP/dp.pcapng" count 2 duration 30 || return 1
	grep -q "VXLAN on UDP port 8472" "$TMP/dp.err" || { cat "$TMP/dp.err"; return 1; }
	send vx42 30 1 && send vx77 31 2 || return 1
	wait_for dp; expect_eq "exit status" "$rc_of" 0 || return 1
	expect_eq "sessions" "$(json_get '[(s["id"], s["packets"]) for s in d["sessions"]]' <"$TMP/dp.out")" \
		"[(77, 2)]"
}
t "collect: dstport 8472: VXLAN on that port only" dstport_run

encap_gre_run() {
	start eg "$ASAN" -j collect encap gre write "$TMP/eg.pcapng" count 1 duration 30 || return 1
	grep -q "for GRE-TEB and ERSPAN, writing" "$TMP/eg.err" || { cat "$TMP/eg.err"; return 1; }
	send vx42 40 2 || return 1
	nsx "$snd" python3 "$VTAP_TOP/selftests/host/collect_pkt.py" send basic 192.0.2.2 - "$TMP/basic.json" ||
		return 1
	wait_for eg; expect_eq "exit status" "$rc_of" 0 || return 1
	expect_eq "received, accepted, encap" \
		"$(json_get 'd["received"], d["accepted"], [s["encap"] for s in d["sessions"]]' <"$TMP/eg.out")" \
		"1 1 ['erspan3']"
}
t "collect: encap gre: no VXLAN socket, GRE and ERSPAN received" encap_gre_run

encap_vxlan_run() {
	start ev "$ASAN" -j collect encap vxlan write "$TMP/ev.pcapng" count 1 duration 30 || return 1
	grep -q "for VXLAN on UDP port 4789, writing" "$TMP/ev.err" || { cat "$TMP/ev.err"; return 1; }
	nsx "$snd" python3 "$VTAP_TOP/selftests/host/collect_pkt.py" send basic 192.0.2.2 - "$TMP/basic.json" ||
		return 1
	send vx43 41 1 || return 1
	wait_for ev; expect_eq "exit status" "$rc_of" 0 || return 1
	expect_eq "received, accepted, sessions" \
		"$(json_get 'd["received"], d["accepted"], [(s["encap"], s["id"]) for s in d["sessions"]]' <"$TMP/ev.out")" \
		"1 1 [('vxlan', 43)]"
}
t "collect: encap vxlan: no raw GRE socket, VXLAN only" encap_vxlan_run

listen6_run() {
	start l6 "$ASAN" -j collect listen 2001:db8:42::2 write "$TMP/l6.pcapng" count 1 duration 30 || return 1
	send vx42 50 2 && send vx60 52 1 || return 1
	wait_for l6; expect_eq "exit status" "$rc_of" 0 || { cat "$TMP/l6.err" "$TMP/l6.out"; return 1; }
	expect_eq "sessions" "$(json_get '[(s["id"], s["source"], s["packets"]) for s in d["sessions"]]' <"$TMP/l6.out")" \
		"[(60, '2001:db8:42::1', 1)]"
}
t "collect: listen 2001:db8:42::2: VXLAN over IPv6 only" listen6_run

# RFC 6935 lets tunnels send a zero UDP checksum over IPv6 (vtap computes
# it; Linux vxlan with udp6zerocsumtx does not): accepted (UDP_NO_CHECK6_RX).
zero_csum6_run() {
	dump_start vx61 || return 1
	nsenter --net="/run/netns/$col" tcpdump -i c0 -w "$TMP/c0.pcap" -U --immediate-mode \
		'ip6 and udp port 4789' 2>"$TMP/c0.err" &
	local tpid=$!
	busywait 10000 grep -q "listening on" "$TMP/c0.err" || return 1
	start z6 "$ASAN" -j collect write "$TMP/z6.pcapng" count 2 duration 30 || return 1
	send vx61 55 2 || return 1
	wait_for z6
	dump_stop vx61
	sleep 0.3
	kill -INT "$tpid"
	wait "$tpid"
	expect_eq "exit status" "$rc_of" 0 || return 1
	# The outer UDP checksum (Ethernet 14 + IPv6 40 + 6) was zero on the wire.
	/usr/bin/python3 - "$TMP/c0.pcap" <<EOF || return 1
import sys
sys.path.insert(0, "$VTAP_TOP/selftests/host")
import collect_pkt
p = collect_pkt.read_capture(sys.argv[1])
cs = [x[3][14 + 40 + 6:14 + 40 + 8] for x in p]
if len(p) != 2 or any(c != bytes(2) for c in cs):
    print("outer UDP checksums", [c.hex() for c in cs])
    sys.exit(1)
EOF
	expect_eq "sessions" "$(json_get '[(s["id"], s["source"], s["packets"]) for s in d["sessions"]]' <"$TMP/z6.out")" \
		"[(61, '2001:db8:42::1', 2)]" &&
	check_frames "$TMP/z6.pcapng" vtap-v61=vx61
}
t "collect: VXLAN over IPv6 with a zero UDP checksum (udp6zerocsumtx): accepted" zero_csum6_run

# Random and mutated datagrams on the VXLAN port, over IPv4 and IPv6.
flood_run() {
	start fl "$ASAN" -j collect encap vxlan write "$TMP/flood.pcapng" duration 30 || return 1
	nsx "$snd" /usr/bin/python3 - <<EOF || return 1
import os, random, socket, sys
sys.path.insert(0, "$VTAP_TOP/selftests/host")
import collect_pkt as c
random.seed(4789)
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
good = c.vxlan(42, c.frame(1, size=300))
for i in range(4000):
    k = random.randrange(4)
    if k == 0:
        p = os.urandom(random.randrange(0, 100))
    else:
        p = bytearray(good)
        for _ in range(random.randrange(1, 6)):
            p[random.randrange(len(p))] = random.randrange(256)
        p = bytes(p[:random.randrange(len(p) + 1)])
    if i & 1:
        s6.sendto(p, ("2001:db8:42::2", 4789))
    else:
        s4.sendto(p, ("192.0.2.2", 4789))
EOF
	sleep 1
	kill -INT "$fl_pid"
	wait_for fl; expect_eq "exit status" "$rc_of" 0 || return 1
	no_sanitizer_report "$TMP/fl.err" || return 1
	json_get 'd["received"], d["accepted"], d["rejected"], d["socket_drops"]' <"$TMP/fl.out"
	expect_eq "received = accepted + rejected, more than 3000" \
		"$(json_get 'd["received"] == d["accepted"] + d["rejected"] and d["received"] + d["socket_drops"] > 3000' <"$TMP/fl.out")" \
		"True" &&
	capinfos "$TMP/flood.pcapng" >/dev/null && tshark -r "$TMP/flood.pcapng" >/dev/null 2>&1
}
t "collect: 4000 random and mutated VXLAN datagrams: no crash, counted, a valid file" flood_run

# A vxlan device in the collector's namespace holds UDP port 4789 (IPv4).
port_taken() {
	ip -n "$col" link add vxc type vxlan id 5 dstport 4789 local 192.0.2.2 || return 1
	nsx "$col" sysctl -qw net.ipv6.conf.vxc.disable_ipv6=1
	ip -n "$col" link set vxc up || return 1
	# By default: a warning, and the rest works.
	start pt "$ASAN" -j collect write "$TMP/pt.pcapng" count 2 duration 30 || return 1
	grep -q "warning: not receiving VXLAN over IPv4: UDP port 4789: Address already in use" "$TMP/pt.err" &&
	grep -q "for GRE-TEB and ERSPAN, VXLAN on UDP port 4789" "$TMP/pt.err" || { cat "$TMP/pt.err"; return 1; }
	send vx60 60 1 || return 1
	nsx "$snd" python3 "$VTAP_TOP/selftests/host/collect_pkt.py" send basic 192.0.2.2 - "$TMP/basic.json" ||
		return 1
	wait_for pt; expect_eq "exit status" "$rc_of" 0 || return 1
	no_sanitizer_report "$TMP/pt.err" || return 1
	expect_eq "sessions" "$(json_get '[(s["encap"], s["id"]) for s in d["sessions"]]' <"$TMP/pt.out")" \
		"[('vxlan', 60), ('erspan3', 7)]" || return 1
	# Asked for by name: an error.
	expect_eq "encap vxlan, port taken: exit status" \
		"$(status_of nsx "$col" "$ASAN" collect encap vxlan write "$TMP/x.pcapng" duration 1)" 1 &&
	expect_eq "dstport 4789, port taken: exit status" \
		"$(status_of nsx "$col" "$ASAN" collect dstport 4789 write "$TMP/x.pcapng" duration 1)" 1 &&
	ip -n "$col" link del vxc
}
t "collect: port 4789 taken by a vxlan device: warning, GRE and IPv6 VXLAN still received; by name: exit 1" port_taken

# ---- to DEV ----------------------------------------------------------------------
inject_run() {
	ip -n "$col" link add i0 type veth peer name i1 || return 1
	nsx "$col" sysctl -qw net.ipv6.conf.i0.disable_ipv6=1 net.ipv6.conf.i1.disable_ipv6=1
	ip -n "$col" link set i0 up && ip -n "$col" link set i1 up || return 1
	nsenter --net="/run/netns/$col" tcpdump -i i1 -w "$TMP/i1.pcap" -U --immediate-mode \
		ether src 02:00:00:00:00:01 2>"$TMP/tcpdump.err" &
	local tpid=$!
	busywait 10000 grep -q "listening on" "$TMP/tcpdump.err" || return 1
	: >"$TMP/sent-vx42.hex"; : >"$TMP/sent-vx60.hex"
	start inj "$ASAN" -j collect encap vxlan to i0 count 5 duration 30 || return 1
	send vx42 70 3 trunc && send vx60 73 2 || return 1
	wait_for inj; expect_eq "exit status" "$rc_of" 0 || return 1
	sleep 0.5
	kill -INT "$tpid"
	wait "$tpid"
	expect_eq "injected" "$(json_get 'd["injected"], d["inject_errors"]' <"$TMP/inj.out")" "5 0" || return 1
	/usr/bin/python3 - "$TMP" <<EOF
import sys
sys.path.insert(0, "$VTAP_TOP/selftests/host")
import collect_pkt
t = sys.argv[1]
got = [p[3] for p in collect_pkt.read_capture(t + "/i1.pcap")]
want = [bytes.fromhex(l) for d in ("vx42", "vx60") for l in open(t + "/sent-%s.hex" % d).read().split()]
if got != want:
    print("got", len(got), "want", len(want))
    sys.exit(1)
EOF
}
t "collect: encap vxlan to i0 (veth): the peer sees every inner frame, byte-identical" inject_run

# ---- valgrind ---------------------------------------------------------------------
if command -v valgrind >/dev/null; then
	vg_run() {
		start vg valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect "$VTAPCTL" -j collect \
			write "$TMP/vg.pcapng" rotate-size 2k count 12 duration 60 || return 1
		send vx42 80 4 trunc && send vx60 84 4 && send vx43 88 4 || return 1
		wait_for vg; expect_eq "exit status" "$rc_of" 0 || { cat "$TMP/vg.err"; return 1; }
		expect_eq "accepted, files >= 2" \
			"$(json_get 'd["accepted"], d["files"] >= 2' <"$TMP/vg.out")" "12 True"
	}
	t "collect: VXLAN under valgrind (IPv4 and IPv6, rotate-size): no errors, no leaks" vg_run
else
	skip "collect: VXLAN under valgrind" "valgrind not installed"
fi

# ---- arguments ----------------------------------------------------------------------
t "collect: dstport 0: exit 2" exit_of 2 "$ASAN" collect dstport 0 write x.pcapng
t "collect: dstport 65536: exit 2" exit_of 2 "$ASAN" collect dstport 65536 write x.pcapng
t "collect: dstport twice: exit 2" exit_of 2 "$ASAN" collect dstport 1 dstport 2 write x.pcapng
t "collect: encap gre with dstport: exit 2" exit_of 2 "$ASAN" collect encap gre dstport 4789 write x.pcapng
t "collect: encap erspan (unknown): exit 2" exit_of 2 "$ASAN" collect encap erspan write x.pcapng
t "collect: encap twice: exit 2" exit_of 2 "$ASAN" collect encap gre encap vxlan write x.pcapng
t "collect: encap vxlan, listen on an address not here: exit 1" \
	exit_of 1 "$ASAN" collect encap vxlan listen 192.0.2.77 write "$TMP/x.pcapng"
t "collect: help mentions encap and dstport" sh -c "'$ASAN' collect help | grep -q 'dstport PORT' && '$ASAN' collect help | grep -q 'encap gre'"

finish
