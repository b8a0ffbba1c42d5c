#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vtapctl collect on the host, no module needed: a sender namespace crafts
# GRE-TEB and ERSPAN II/III packets (selftests/host/collect_pkt.py) on raw
# sockets, including a lost copy, a reordered one, a duplicate, truncated
# frames, broken packets, VMs that move between two senders and a sender
# that starts its sequence over; the collector in another namespace writes
# pcapng, which Wireshark's tools read back.  The ASan/UBSan build is used,
# and one run is under valgrind.
#
#   ns snd                               ns col
#   +------------------------+          +---------------------------+
#   | s0 198.51.100.1        |<--veth-->| c0 198.51.100.2           |
#   |    (198.51.100.3: a    |          |    2001:db8:7::2          |
#   |     2nd "hypervisor")  |          |                           |
#   |    2001:db8:7::1       |          |                           |
#   +------------------------+          |  vtapctl collect ...      |
#                                       +---------------------------+
. "$(dirname "$0")/../lib.sh"
. "$VTAP_TOP/selftests/lib/collect.sh"

ASAN=$VTAP_TOP/build/asan/vtapctl
PKT="python3 $VTAP_TOP/selftests/host/collect_pkt.py"
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
	skip "collect" "$ASAN not built"
	finish
fi
for tool in tshark capinfos editcap tcpdump; do
	if ! command -v $tool >/dev/null; then
		skip "collect" "$tool missing (make deps)"
		finish
	fi
done

setup() {
	netns_new snd && netns_new col || return 1
	ip link add s0 netns "$snd" type veth peer name c0 netns "$col" || return 1
	ip -n "$snd" addr add 198.51.100.1/24 dev s0
	ip -n "$col" addr add 198.51.100.2/24 dev c0
	ip -n "$snd" addr add 2001:db8:7::1/64 dev s0 nodad
	ip -n "$col" addr add 2001:db8:7::2/64 dev c0 nodad
	ip -n "$snd" link set s0 up
	ip -n "$col" link set c0 up
	busywait 5000 nsx "$snd" ping -c 1 -W 1 198.51.100.2 >/dev/null &&
	busywait 5000 nsx "$snd" ping -6 -c 1 -W 1 2001:db8:7::2 >/dev/null
}
if ! t "topology: two namespaces, veth, IPv4 and IPv6" setup; then
	finish
fi

send_basic() {	# [DST4 DST6]
	nsx "$snd" $PKT send basic "${1:-198.51.100.2}" "${2:-2001:db8:7::2}" "$TMP/expect.json"
}

# ---- the main run: every encapsulation, loss, reorder, duplicate ---------------
main_run() {
	start main "$ASAN" -j collect write "$TMP/main.pcapng" count 26 duration 30 || return 1
	send_basic || return 1
	wait_for main; expect_eq "exit status" "$rc_of" 0 || { cat "$TMP/main.err"; return 1; }
	no_sanitizer_report "$TMP/main.err"
}
t "collect: receives the basic scenario, stops after count 26, exit 0" main_run

# Check the JSON summary against what the sender expects.
check_summary() {	# SUMMARY.json EXPECT.json
	python3 - "$1" "$2" <<'EOF'
import json, sys
got = json.load(open(sys.argv[1]))
exp = json.load(open(sys.argv[2]))
ok = True
def chk(what, g, w):
    global ok
    if g != w:
        print("%s: got %r, want %r" % (what, g, w))
        ok = False
chk("accepted", got["accepted"], len(exp["frames"]))
chk("rejected", got["rejected"], exp["rejected"])
chk("written", got["written"], len(exp["frames"]))
chk("socket drops", got["socket_drops"], 0)
ss = {(s["encap"], s.get("id")): s for s in got["sessions"]}
for e in exp["sessions"]:
    s = ss.get((e["encap"], e["id"]))
    if s is None:
        print("no session", e)
        ok = False
        continue
    for k in ("packets", "lost", "reordered", "duplicates"):
        chk("%s %s %s" % (e["encap"], e["id"], k), s[k], e[k])
chk("sessions", len(got["sessions"]), len(exp["sessions"]))
sys.exit(0 if ok else 1)
EOF
}
t "collect: summary: per-session packets, lost 1 (gap of 1), reordered 1, duplicate 1" \
	check_summary "$TMP/main.out" "$TMP/expect.json"
t "collect: rejected packets counted by reason" sh -c \
	"python3 -c 'import json,sys; r=json.load(open(\"$TMP/main.out\"))[\"rejected_by_reason\"]; \
	want={\"short\":1,\"gre_protocol\":1,\"erspan_version\":2,\"gre_version\":1,\"inner_short\":1,\"erspan1\":1,\"gre_checksum\":1}; \
	sys.exit(0 if r==want else print(r) or 1)'"

t "collect: capinfos reads the file" capinfos "$TMP/main.pcapng"

# Frames as Wireshark reads them: interface, direction, lengths, bytes (via
# editcap to pcap), compared with what was sent.
check_frames() {	# PCAPNG EXPECT.json
	local f=$1
	tshark -r "$f" -T fields -E separator=' ' -e frame.interface_name \
		-e frame.packet_flags_direction -e frame.len -e frame.cap_len \
		>"$TMP/fields.txt" 2>"$TMP/tshark.err" || { cat "$TMP/tshark.err"; return 1; }
	editcap -F pcap "$f" "$TMP/check.pcap" || return 1
	python3 - "$TMP/fields.txt" "$TMP/check.pcap" "$2" <<EOF
import json, sys
sys.path.insert(0, "$VTAP_TOP/selftests/host")
import collect_pkt
fields = [l.split() for l in open(sys.argv[1]) if l.strip()]
pkts = collect_pkt.read_capture(sys.argv[2])
exp = json.load(open(sys.argv[3]))["frames"]
ok = len(fields) == len(exp) == len(pkts)
if not ok:
    print("packets: tshark %d, editcap %d, expected %d" % (len(fields), len(pkts), len(exp)))
dirs = {"0x00000001": "in", "0x00000002": "out"}
for i, (f, p, e) in enumerate(zip(fields, pkts, exp)):
    name, d = f[0], dirs.get(f[1], "-") if len(f) == 4 else "-"
    length, caplen = int(f[-2]), int(f[-1])
    got = [name, d, length, p[3].hex()]
    if got != e or caplen != len(bytes.fromhex(e[3])):
        print("packet %d: got %r\n          want %r" % (i + 1, got, e))
        ok = False
sys.exit(0 if ok else 1)
EOF
}
t "collect: tshark: every frame byte-identical, on its interface, with its direction and length" \
	check_frames "$TMP/main.pcapng" "$TMP/expect.json"

per_if_counts() {
	local got
	got=$(tshark -r "$TMP/main.pcapng" -T fields -e frame.interface_name 2>/dev/null | sort | uniq -c |
	      awk '{printf "%s=%s ", $2, $1}')
	expect_eq "packets per interface" "$got" \
		"vtap-gre=1 vtap-k5=3 vtap-s10=2 vtap-s11=3 vtap-s7=9 vtap-s8-i33=5 vtap-s8-i34=2 vtap-s9-i44=1 "
}
t "collect: one interface per (session, port index), packets per interface" per_if_counts

if_meta() {
	local info
	info=$(capinfos "$TMP/main.pcapng")
	grep -q 'Description = vtap ERSPAN II session 8 from 198.51.100.1, port index 33' <<<"$info" &&
	grep -q 'Description = vtap ERSPAN III session 11 from 2001:db8:7::1' <<<"$info" &&
	grep -q 'Time precision = nanoseconds (9)' <<<"$info" &&
	grep -q 'Capture application: vtapctl collect' <<<"$info" ||
	{ echo "$info"; return 1; }
}
t "collect: interface descriptions (session, encap, source, index), ns resolution" if_meta

comments() {
	local c
	c=$(tshark -r "$TMP/main.pcapng" -T fields -e frame.comment 2>/dev/null | grep .)
	grep -q '1 lost before this copy (GRE sequence 4)' <<<"$c" &&
	grep -q 'reordered (GRE sequence 5)' <<<"$c" &&
	grep -q 'duplicate (GRE sequence 7)' <<<"$c" &&
	grep -q 'truncated by the sender, original length from the inner IP header' <<<"$c" ||
	{ echo "$c"; return 1; }
}
t "collect: packet comments mark the gap, the reorder, the duplicate, truncation" comments

# ERSPAN III timestamps: 100 ns units, taken when the scenario was built,
# which is before the arrival (no later than the end of the run).
timestamps() {
	python3 - "$TMP/main.pcapng" <<EOF
import sys, time
sys.path.insert(0, "$VTAP_TOP/selftests/host")
import collect_pkt
now = time.time_ns()
p = collect_pkt.read_capture(sys.argv[1])
s7 = [x[4] for x in p if x[0] == "vtap-s7"]
ok = all(now - 120 * 10**9 < t <= now for t in s7) and all(t % 100 == 0 for t in s7)
s9 = [x[4] for x in p if x[0] == "vtap-s9-i44"]
ok = ok and len(s9) == 1 and s9[0] % 100000 == 0 and now - 120 * 10**9 < s9[0] <= now
if not ok:
    print(now, s7, s9)
sys.exit(0 if ok else 1)
EOF
}
t "collect: ERSPAN III timestamps (100 ns, and 100 us with the upper 32 bits) used" timestamps

# ---- a VM that moves, a sender that starts over ------------------------------------
# The same (session, port index) from two senders (198.51.100.1 and .3, two
# hypervisors): one interface, every frame in order, the move counted, each
# sender's sequence its own (no loss); a sender whose sequence starts over:
# a reset, no loss; ERSPAN III sub-headers 7 and 3: index and 64-bit time.
move_run() {
	ip -n "$snd" addr add 198.51.100.3/24 dev s0 2>/dev/null
	start mv "$ASAN" -j collect write "$TMP/mv.pcapng" count 65 duration 30 || return 1
	nsx "$snd" $PKT send move 198.51.100.2 - "$TMP/mv.json" || return 1
	wait_for mv; expect_eq "exit status" "$rc_of" 0 || { cat "$TMP/mv.err"; return 1; }
	no_sanitizer_report "$TMP/mv.err"
}
t "collect: moves and restarts: 65 copies from two senders, exit 0" move_run

move_frames() {	# tshark and the pcapng's own timestamps, frame by frame
	tshark -r "$TMP/mv.pcapng" -T fields -E separator=' ' -e frame.interface_name \
		-e frame.packet_flags_direction -e frame.len -e frame.cap_len \
		>"$TMP/mv.fields" 2>"$TMP/tshark.err" || { cat "$TMP/tshark.err"; return 1; }
	python3 - "$TMP/mv.fields" "$TMP/mv.pcapng" "$TMP/mv.json" <<EOF
import json, sys
sys.path.insert(0, "$VTAP_TOP/selftests/host")
import collect_pkt
fields = [l.split() for l in open(sys.argv[1]) if l.strip()]
pkts = collect_pkt.read_capture(sys.argv[2])
exp = json.load(open(sys.argv[3]))["frames"]
ok = len(fields) == len(exp) == len(pkts)
if not ok:
    print("packets: tshark %d, read %d, expected %d" % (len(fields), len(pkts), len(exp)))
dirs = {"0x00000001": "in", "0x00000002": "out"}
for i, (f, p, e) in enumerate(zip(fields, pkts, exp)):
    d = dirs.get(f[1], "-") if len(f) == 4 else "-"
    got = [f[0], d, int(f[-2]), p[3].hex()]
    if got != e[:4] or p[0] != e[0]:
        print("packet %d: got %r\n          want %r" % (i + 1, got, e[:4]))
        ok = False
    if e[4] is not None and p[4] != e[4]:
        print("packet %d (%s): time %d, want %d (from the sub-header)" % (i + 1, e[0], p[4], e[4]))
        ok = False
sys.exit(0 if ok else 1)
EOF
}
t "collect: tshark: a moved VM's frames on one interface, in order; sub-header times exact" move_frames

move_summary() {
	python3 - "$TMP/mv.out" "$TMP/mv.json" <<'EOF'
import json, sys
got = json.load(open(sys.argv[1]))
exp = json.load(open(sys.argv[2]))
ok = True
def chk(what, g, w):
    global ok
    if g != w:
        print("%s: got %r, want %r" % (what, g, w))
        ok = False
chk("accepted", got["accepted"], len(exp["frames"]))
streams = {(s["encap"], s.get("id"), s["source"]): s for s in got["sessions"]}
chk("streams", sorted(streams), sorted(tuple(e[:3]) for e in exp["streams"]))
for e in exp["streams"]:
    s = streams.get(tuple(e[:3]))
    if s:
        chk("%s %s from %s: packets, lost, duplicates, resets" % tuple(e[:3]),
            [s["packets"], s["lost"], s["duplicates"], s["resets"]], e[3:])
chk("interfaces", [[i["name"], i["packets"], i["moves"], i["sources"]]
                   for i in got.get("interfaces", [])], exp["interfaces"])
sys.exit(0 if ok else 1)
EOF
}
t "collect: summary: per sender packets, no loss, 1 reset; per interface moves and senders" move_summary

move_pcapng_meta() {
	local info c
	info=$(capinfos "$TMP/mv.pcapng") || return 1
	grep -q 'Number of interfaces in file: 8' <<<"$info" &&
	grep -q "Description = vtap ERSPAN III session 20 from 198.51.100.1, port index 74565; the VM's copies from any sender" <<<"$info" ||
	{ echo "$info"; return 1; }
	c=$(tshark -r "$TMP/mv.pcapng" -T fields -e frame.comment 2>/dev/null | grep .)
	grep -q 'from another sender, 198.51.100.3 (the VM moved)' <<<"$c" &&
	grep -q 'the sender started over (GRE sequence 1): a reset, not a loss' <<<"$c" &&
	! grep -q 'lost before' <<<"$c" || { echo "$c"; return 1; }
}
t "collect: pcapng: 8 interfaces, descriptions, comments on the move and the reset" move_pcapng_meta

# ---- filters ---------------------------------------------------------------------
filter_run() {
	start filt "$ASAN" -j collect session 7 11 write "$TMP/filt.pcapng" duration 30 count 12 || return 1
	send_basic || return 1
	wait_for filt; expect_eq "exit status" "$rc_of" 0 || return 1
	no_sanitizer_report "$TMP/filt.err" || return 1
	expect_eq "accepted, filtered" \
		"$(json_get 'd["accepted"], d["filtered"]' <"$TMP/filt.out")" "12 14" &&
	expect_eq "interfaces" "$(tshark -r "$TMP/filt.pcapng" -T fields -e frame.interface_name 2>/dev/null | sort -u | xargs)" \
		"vtap-s11 vtap-s7"
}
t "collect: session 7 11: only those sessions" filter_run

listen_run() {
	start lst "$ASAN" -j collect listen 198.51.100.2 write "$TMP/lst.pcapng" count 23 duration 30 || return 1
	send_basic || return 1
	wait_for lst; expect_eq "exit status" "$rc_of" 0 || return 1
	grep -q "listening on 198.51.100.2" "$TMP/lst.err" &&
	expect_eq "IPv6 sessions" "$(json_get '[s["id"] for s in d["sessions"] if ":" in s["source"]]' <"$TMP/lst.out")" "[]"
}
t "collect: listen 198.51.100.2: IPv4 only" listen_run

listen6_run() {
	start l6 "$ASAN" -j collect listen 2001:db8:7::2 write "$TMP/l6.pcapng" count 3 duration 30 || return 1
	send_basic || return 1
	wait_for l6; expect_eq "exit status" "$rc_of" 0 || return 1
	expect_eq "sessions" "$(json_get '[(s["id"], s["source"], s["packets"]) for s in d["sessions"]]' <"$TMP/l6.out")" \
		"[(11, '2001:db8:7::1', 3)]"
}
t "collect: listen 2001:db8:7::2: IPv6 only" listen6_run

# ---- stopping ----------------------------------------------------------------------
sig_run() {	# SIGNAL
	start sig "$ASAN" collect write "$TMP/sig.pcapng" || return 1
	send_basic || return 1
	sleep 0.5
	kill -"$1" "$sig_pid"
	wait_for sig; expect_eq "exit status" "$rc_of" 0 || return 1
	no_sanitizer_report "$TMP/sig.err" || return 1
	grep -q '^session 7 erspan3 from 198.51.100.1: packets 9 bytes 940 lost 1 gaps 2 reordered 1 duplicates 1' "$TMP/sig.out" ||
	{ cat "$TMP/sig.out"; return 1; }
	capinfos "$TMP/sig.pcapng" >/dev/null
}
t "collect: SIGINT: plain summary, exit 0, complete file" sig_run INT
t "collect: SIGTERM: the same" sig_run TERM

duration_run() {
	local t0=$SECONDS
	start dur "$ASAN" collect write "$TMP/dur.pcapng" duration 2 || return 1
	wait_for dur; expect_eq "exit status" "$rc_of" 0 || return 1
	[ $((SECONDS - t0)) -le 6 ] && capinfos "$TMP/dur.pcapng" >/dev/null
}
t "collect: duration 2 stops by itself; an empty capture is a valid file" duration_run

stdout_run() {
	nsenter --net="/run/netns/$col" "$ASAN" collect write - count 26 duration 30 \
		>"$TMP/stdout.pcapng" 2>"$TMP/stdout.err" &
	local pid=$!
	busywait 10000 grep -q "^collect: listening" "$TMP/stdout.err" || return 1
	send_basic || return 1
	wait "$pid" || return 1
	grep -q '^session 7 erspan3' "$TMP/stdout.err" &&
	check_frames "$TMP/stdout.pcapng" "$TMP/expect.json"
}
t "collect: write - streams pcapng to stdout, summary on stderr" stdout_run

# ---- rotation ----------------------------------------------------------------------
rotate_size() {
	local f n=0 total=0
	start rot "$ASAN" -j collect write "$TMP/rot.pcapng" rotate-size 2k count 26 duration 30 || return 1
	send_basic || return 1
	wait_for rot; expect_eq "exit status" "$rc_of" 0 || return 1
	[ ! -e "$TMP/rot.pcapng" ] || { echo "unnumbered file written"; return 1; }
	for f in "$TMP"/rot-*.pcapng; do
		n=$((n + 1))
		[ "$f" = "$TMP/rot-$(printf %04d $n).pcapng" ] || { echo "unexpected name $f"; return 1; }
		[ "$(stat -c %s "$f")" -le 2000 ] || { echo "$f: over 2000 bytes"; return 1; }
		capinfos "$f" >/dev/null || return 1
		total=$((total + $(capinfos -c -M "$f" | awk '/Number of packets/ {print $NF}')))
	done
	expect_ge "files" "$n" 3 && expect_eq "packets in all files" "$total" 26 &&
	expect_eq "files in the summary" "$(json_get 'd["files"]' <"$TMP/rot.out")" "$n" &&
	mergecap -a -w "$TMP/rot-all.pcapng" "$TMP"/rot-0*.pcapng &&
	check_frames "$TMP/rot-all.pcapng" "$TMP/expect.json"
}
t "collect: rotate-size 2k: FILE-0001.pcapng..., each complete and under 2 kB, nothing lost" rotate_size

rotate_time() {
	local n
	start rtm "$ASAN" -j collect write "$TMP/rtm.pcapng" rotate-time 1 duration 30 count 52 || return 1
	send_basic || return 1
	sleep 2.2
	send_basic || return 1
	wait_for rtm; expect_eq "exit status" "$rc_of" 0 || return 1
	n=$(ls "$TMP"/rtm-*.pcapng | wc -l)
	expect_ge "files" "$n" 2 || return 1
	for f in "$TMP"/rtm-*.pcapng; do capinfos "$f" >/dev/null || return 1; done
}
t "collect: rotate-time 1: a new file per second with traffic, each complete" rotate_time

# ---- to DEV -------------------------------------------------------------------------
inject_run() {
	# The host may have no dummy driver: a veth pair, the "IDS" on the far end.
	ip -n "$col" link add i0 type veth peer name i1 || return 1
	nsx "$col" sysctl -qw net.ipv6.conf.i0.disable_ipv6=1 net.ipv6.conf.i1.disable_ipv6=1
	ip -n "$col" link set i0 up && ip -n "$col" link set i1 up || return 1
	nsenter --net="/run/netns/$col" tcpdump -i i1 -w "$TMP/i1.pcap" -U --immediate-mode \
		ether src 02:00:00:00:00:01 2>"$TMP/tcpdump.err" &
	local tpid=$!
	busywait 10000 grep -q "listening on" "$TMP/tcpdump.err" || return 1
	start inj "$ASAN" -j collect to i0 count 26 duration 30 || return 1
	send_basic || return 1
	wait_for inj; expect_eq "exit status" "$rc_of" 0 || return 1
	sleep 0.5
	kill -INT "$tpid"
	wait "$tpid"
	expect_eq "injected" "$(json_get 'd["injected"], d["inject_errors"]' <"$TMP/inj.out")" "26 0" || return 1
	python3 - "$TMP/i1.pcap" "$TMP/expect.json" <<EOF
import json, sys
sys.path.insert(0, "$VTAP_TOP/selftests/host")
import collect_pkt
got = [p[3].hex() for p in collect_pkt.read_capture(sys.argv[1])]
want = [e[3] for e in json.load(open(sys.argv[2]))["frames"]]
if got != want:
    print("got", len(got), "want", len(want))
    for g, w in zip(got, want):
        if g != w:
            print(g, "\n", w)
    sys.exit(1)
EOF
}
t "collect: to i0 (veth): tcpdump on its peer sees every inner frame, byte-identical" inject_run

# ---- errors -------------------------------------------------------------------------
t "collect: no arguments: usage, exit 2" exit_of 2 "$ASAN" collect
t "collect: help: exit 0" exit_of 0 "$ASAN" collect help
t "collect: neither write nor to: exit 2" exit_of 2 "$ASAN" collect count 3
t "collect: unknown option: exit 2" exit_of 2 "$ASAN" collect write x.pcapng colour blue
t "collect: bad session id: exit 2" exit_of 2 "$ASAN" collect session x write x.pcapng
t "collect: bad listen address: exit 2" exit_of 2 "$ASAN" collect listen 1.2.3 write x.pcapng
t "collect: rotate without write: exit 2" exit_of 2 "$ASAN" collect to c0 rotate-size 1
t "collect: rotate-size 0: exit 2" exit_of 2 "$ASAN" collect write x rotate-size 0
t "collect: write twice: exit 2" exit_of 2 "$ASAN" collect write x write y
t "collect: to a missing device: exit 5" exit_of 5 "$ASAN" collect to nosuchdev0
t "collect: to lo (not Ethernet): exit 1" exit_of 1 "$ASAN" collect to lo
t "collect: unwritable file: exit 8" exit_of 8 "$ASAN" collect write /nonexistent/dir/x.pcapng
t "collect: listen on an address not here: exit 1" exit_of 1 "$ASAN" collect listen 192.0.2.77 write "$TMP/x.pcapng"

# ---- hostile input --------------------------------------------------------------------
flood_run() {
	start fl "$ASAN" -j collect write "$TMP/flood.pcapng" duration 30 count 3000 || return 1
	nsx "$snd" python3 - <<'EOF' || return 1
import os, random, socket, struct, sys
sys.path.insert(0, os.environ["VTAP_TOP"] + "/selftests/host")
import collect_pkt as c
random.seed(7)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_GRE)
good = c.gre(c.ERSPAN3, c.erspan3(3, 0, c.frame(1), sub=c.platf(3, 1, 2)), seq=1)
for i in range(6000):
    k = random.randrange(4)
    if k == 0:
        p = os.urandom(random.randrange(0, 200))
    else:
        p = bytearray(good)
        for _ in range(random.randrange(1, 6)):
            p[random.randrange(len(p))] = random.randrange(256)
        p = bytes(p[:random.randrange(len(p) + 1)])
    s.sendto(p, ("198.51.100.2", 0))
EOF
	sleep 1
	kill -INT "$fl_pid"
	wait_for fl; expect_eq "exit status" "$rc_of" 0 || return 1
	no_sanitizer_report "$TMP/fl.err" || return 1
	json_get 'd["received"], d["accepted"], d["rejected"]' <"$TMP/fl.out"
	capinfos "$TMP/flood.pcapng" >/dev/null && tshark -r "$TMP/flood.pcapng" >/dev/null 2>&1
}
t "collect: 6000 random and mutated packets: no crash, a valid file" flood_run

# ---- valgrind -----------------------------------------------------------------------
if command -v valgrind >/dev/null; then
	vg_run() {
		start vg valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect "$VTAPCTL" -j collect \
			write "$TMP/vg.pcapng" rotate-size 3k to c0 count 26 duration 60 || return 1
		send_basic || return 1
		wait_for vg; expect_eq "exit status" "$rc_of" 0 || { cat "$TMP/vg.err"; return 1; }
		check_summary "$TMP/vg.out" "$TMP/expect.json"
	}
	t "collect: under valgrind (write, rotate, to DEV): no errors, no leaks" vg_run
else
	skip "collect: valgrind" "valgrind not installed"
fi

finish
