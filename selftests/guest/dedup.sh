#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Session dedup (VTAP_A_SESSION_DEDUP), measured at the collector: both VMs'
# ports in one session, both directions, so that each frame between them
# meets the session twice (out at the sender's port, in at the receiver's).
#
#   vm1 eth0 <-veth-> vnet1 (port id 10) --+
#   vm2 eth0 <-tapvm-> tap2 (port id 20) --+-- br0     hv: ul0 <-veth-> col: ul1
#   session dd: erspan2 id 40 (the index says which port sent each copy)
#
# - without dedup the collector gets 2N copies of N datagrams vm1 sends to
#   vm2 (N from each port), each byte-identical to what vm2 received;
# - with dedup (turned on live by session set) exactly N, all from vm1's
#   port (the out copy survives), byte-identical and in order, identical
#   datagrams (same bytes) included; the dedup counter grows by N;
# - a ping exchange both ways: one copy per frame, each from its sender's
#   port;
# - dedup off again (session set): 2N copies, the counter unchanged;
# - out copies not sent (sampling passes them over: sample 1/2 every makes
#   every out call the odd one) are not recorded: their in copies go;
# - vm2's port removed: dedup changes nothing (N copies, counter unchanged);
# - a session without dedup counts 0; bad windows are refused;
# - vtap.conf: apply adds a session with dedup, then sets a changed or
#   removed window in place (the same cookie).
# Topology: selftests/lib/topology.sh.  Each check prints what it counted
# as TAP diagnostics.
# guest-timeout: 480
. "$(dirname "$0")/../lib.sh"
. "$VTAP_TOP/selftests/lib/topology.sh"

modprobe -a veth sch_ingress cls_bpf tun bridge 2>/dev/null
OUT=${VTAP_OUT:-/tmp}
SINK_PID=''
trap '[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null; topo_down' EXIT
N=50		# distinct datagrams
NSAME=5		# and this many identical ones (the same bytes)
SID=40

hv() { "$VTAPCTL" -n "$NS_HV" "$@"; }
stat_of() {	# SESSION COUNTER
	hv -j session show "$1" | json_get "d[0]['stats']['$2']"
}

# vm1 sends N distinct datagrams to vm2's port 9 from a UDP socket, then
# NSAME identical frames (byte for byte: the kernel would give each its own
# IPv4 id, so they are written whole to an AF_PACKET socket).
send_udp() {
	in_ns "$NS_VM1" python3 - "$VM2_IP4" "$N" "$NSAME" "$VM1_MAC" "$VM2_MAC" "$VM1_IP4" <<'EOF'
import socket, struct, sys, time
dst, n, same = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mac1, mac2, src = (bytes.fromhex(sys.argv[4].replace(":", "")),
		   bytes.fromhex(sys.argv[5].replace(":", "")), sys.argv[6])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
	s.sendto(b"dedup datagram %03d " % i + bytes(range(i, i + 40)), (dst, 9))
	time.sleep(0.002)
payload = b"the same bytes every time"
udp = struct.pack("!HHHH", 40000, 9, 8 + len(payload), 0) + payload
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0x1234, 0x4000, 64, 17, 0,
		 socket.inet_aton(src), socket.inet_aton(dst))
c = sum(struct.unpack("!10H", ip))
c = (c & 0xffff) + (c >> 16)
c = (c & 0xffff) + (c >> 16)
ip = ip[:10] + struct.pack("!H", ~c & 0xffff) + ip[12:]
frame = mac2 + mac1 + b"\x08\x00" + ip + udp
r = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
r.bind(("eth0", 0))
for i in range(same):
	r.send(frame)
	time.sleep(0.002)
EOF
}

# check PCAP REF MODE: the session's copies of vm1's datagrams (or, with
# MODE icmp, of the echo requests and replies) against vm2's own capture.
#   double  every frame twice, once from each port, each port's in order
#   out     every frame once, from its sender's port, in order
#   in      every frame once, from the receiver's port (vm2's), in order
check() {
	local rc=0
	__check "$@" >"$OUT/dedup-check.txt" 2>&1 || rc=$?
	cat "$OUT/dedup-check.txt"
	return $rc
}
# The last check's counts, as TAP diagnostics (t shows them only on failure).
diag() { local rc=$?; [ "$rc" = 0 ] && sed "s/^/# /" "$OUT/dedup-check.txt"; return 0; }
__check() {
	python3 - "$1" "$2" "$3" "$SID" "$VM1_MAC" "$NSAME" <<'EOF'
import sys
sys.path.insert(0, __import__("os").environ["VTAP_TOP"] + "/selftests/lib")
import vtapcap
pcap, ref, mode, sid, vm1mac = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
mac1 = bytes.fromhex(vm1mac.replace(":", ""))

def wanted(f):
	if len(f) < 34 or f[12:14] != b"\x08\x00":
		return False
	ihl = (f[14] & 15) * 4
	if mode == "icmp":
		return f[23] == 1 and len(f) > 14 + ihl and f[14 + ihl] in (0, 8)
	return f[23] == 17 and f[14 + ihl + 2:14 + ihl + 4] == b"\x00\x09" and f[6:12] == mac1

copies = []
for p in vtapcap.read_pcap(pcap):
	c = vtapcap.decode(p)
	if c.erspan and c.erspan.get("sid") == sid and c.inner is not None and wanted(c.inner):
		copies.append((c.erspan.get("index"), bytes(c.inner)))
ref = [bytes(p.data) for p in vtapcap.read_pcap(ref) if wanted(bytes(p.data))]
by = {10: [f for i, f in copies if i == 10], 20: [f for i, f in copies if i == 20]}
print(f"{len(ref)} frames at vm2, {len(copies)} copies: {len(by[10])} from port 10 "
      f"(vnet1), {len(by[20])} from port 20 (tap2)")
dups = len(ref) - len(set(ref))
print(f"{dups} frames at vm2 repeat an earlier one byte for byte")
ok = bool(ref) and (mode == "icmp" or dups == int(sys.argv[6]) - 1)
if mode == "double":
	ok = ok and by[10] == ref and by[20] == ref and len(copies) == 2 * len(ref)
elif mode == "out":
	ok = ok and by[10] == ref and not by[20] and len(copies) == len(ref)
elif mode == "in":
	ok = ok and by[20] == ref and not by[10] and len(copies) == len(ref)
elif mode == "icmp":
	# Each frame once, from its sender's port: requests from vm1 (10) and
	# replies from vm2 (20) for vm1's ping, the other way for vm2's.
	want = {f: (10 if f[6:12] == mac1 else 20) for f in ref}
	got = sorted(f for _, f in copies)
	ok = ok and got == sorted(ref) and all(want[f] == i for i, f in copies)
if not ok:
	for i, f in copies[:6]:
		print(f"  copy from {i}: {f[:48].hex()}")
	for f in ref[:3]:
		print(f"  at vm2:      {f[:48].hex()}")
sys.exit(0 if ok else 1)
EOF
}

# round NAME: capture at the collector and at vm2 while CMD... runs.
round() {
	local name=$1
	shift
	cap_start col "$NS_COL" ul1 "$OUT/dedup-$name.pcap"
	cap_start vm "$NS_VM2" eth0 "$OUT/dedup-$name-vm2.pcap"
	cap_wait col vm || return 1
	"$@" || return 1
	sleep 1
	cap_stop col vm
}

t "topology up" topo_up
t "vtapctl info lists the dedup feature" sh -c "'$VTAPCTL' -n $NS_HV info | grep -qw dedup"
t "port vnet1 (vm1, veth) id 10" hv port add "$VM1_PORT" id 10
t "port tap2 (vm2, tap) id 20" hv port add "$VM2_PORT" id 20
t "session dd: erspan2 id $SID, no dedup" hv session add dd encap erspan2 id $SID remote "$COL_UL4"
t "dd: dedup off by default (dedup_us 0)" expect_eq "dedup_us" "$(hv -j session show dd | json_get "d[0]['dedup_us']")" 0
t "flows: both ports, both directions" sh -c "'$VTAPCTL' -n $NS_HV flow add session dd port $VM1_PORT dir both &&
	'$VTAPCTL' -n $NS_HV flow add session dd port $VM2_PORT dir both"
# vm2 listens on port 9: no ICMP errors back to vm1 (they would be frames too).
in_ns "$NS_VM2" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9))
while True:
	s.recv(65536)' &
SINK_PID=$!
t "vm2 listens on udp port 9" busywait 10000 sh -c "nsenter --net=/run/netns/$NS_VM2 ss -Huln 'sport = :9' | grep -q ."

# ---- A: no dedup -------------------------------------------------------------
t "A: vm1 sends $N datagrams and $NSAME identical ones to vm2" round a send_udp
t "A: no dedup: two copies of each frame, one per port, byte-identical" \
	check "$OUT/dedup-a.pcap" "$OUT/dedup-a-vm2.pcap" double
diag
t "A: dedup counter 0 without dedup" expect_eq dedup "$(stat_of dd dedup)" 0

# ---- B: dedup turned on live ---------------------------------------------------
t "B: session set dd dedup (the default window)" hv session set dd dedup
t "B: show says dedup 10ms" sh -c "'$VTAPCTL' -n $NS_HV session show dd | grep -q ' dedup 10ms'"
t "B: JSON dedup_us 10000" expect_eq "dedup_us" "$(hv -j session show dd | json_get "d[0]['dedup_us']")" 10000
# The data path's rounds use the longest window: under TCG the guest's clock
# follows the host's, and a vCPU the loaded host descheduled between a
# frame's out and in copies (10 ms is little then, more so on the debug
# kernel) would send both, as dedup must when its window has passed.
t "B: session set dd dedup 1s" hv session set dd dedup 1s
d0=$(stat_of dd dedup); s0=$(stat_of dd sent)
t "B: vm1 sends the same again" round b send_udp
t "B: dedup: one copy of each frame, from vm1's port, byte-identical, in order" \
	check "$OUT/dedup-b.pcap" "$OUT/dedup-b-vm2.pcap" out
diag
t "B: dedup counter grew by $((N + NSAME))" expect_eq dedup "$(( $(stat_of dd dedup) - d0 ))" $((N + NSAME))
t "B: sent grew by $((N + NSAME))" expect_eq sent "$(( $(stat_of dd sent) - s0 ))" $((N + NSAME))

# ---- C: ping both ways -------------------------------------------------------
ping_both() {
	in_ns "$NS_VM1" ping -c 5 -i 0.2 -W 2 "$VM2_IP4" >/dev/null &&
	in_ns "$NS_VM2" ping -c 5 -i 0.2 -W 2 "$VM1_IP4" >/dev/null
}
d0=$(stat_of dd dedup)
t "C: vm1 pings vm2, vm2 pings vm1 (5 each)" round c ping_both
t "C: one copy per echo request and reply, from its sender's port" \
	check "$OUT/dedup-c.pcap" "$OUT/dedup-c-vm2.pcap" icmp
diag
t "C: dedup counter grew by 20" expect_eq dedup "$(( $(stat_of dd dedup) - d0 ))" 20

# ---- D: dedup off again --------------------------------------------------------
t "D: session set dd dedup off" hv session set dd dedup off
t "D: dedup_us 0 again" expect_eq "dedup_us" "$(hv -j session show dd | json_get "d[0]['dedup_us']")" 0
t "D: show no longer says dedup WINDOW" sh -c "! '$VTAPCTL' -n $NS_HV session show dd | grep -q ' dedup [0-9]*[mu]*s '"
d0=$(stat_of dd dedup)
t "D: vm1 sends again" round d send_udp
t "D: two copies of each frame again" check "$OUT/dedup-d.pcap" "$OUT/dedup-d-vm2.pcap" double
diag
t "D: dedup counter unchanged" expect_eq dedup "$(( $(stat_of dd dedup) - d0 ))" 0

# ---- E: an out copy not sent is not recorded ---------------------------------
# sample 1/2 every: the session's calls alternate, out at vnet1 (odd: passed
# over) then in at tap2 (even: sent), so no out copy is sent: every in copy
# must go.
t "E: session set dd dedup 5ms sample 1/2 every" hv session set dd dedup 5ms sample 1/2 every
t "E: show says dedup 5ms" sh -c "'$VTAPCTL' -n $NS_HV session show dd | grep -q ' dedup 5ms'"
d0=$(stat_of dd dedup)
t "E: vm1 sends again" round e send_udp
t "E: out copies passed over, so every in copy sent (from vm2's port)" \
	check "$OUT/dedup-e.pcap" "$OUT/dedup-e-vm2.pcap" in
diag
t "E: dedup counter unchanged" expect_eq dedup "$(( $(stat_of dd dedup) - d0 ))" 0
t "E: back to sample 1/1" hv session set dd sample 1/1

# ---- F: the receiver unmonitored -------------------------------------------------
t "F: port del tap2 (vm2 unmonitored)" hv port del "$VM2_PORT"
d0=$(stat_of dd dedup)
t "F: vm1 sends again" round f send_udp
t "F: one copy of each frame (vm1's out), as without dedup" \
	check "$OUT/dedup-f.pcap" "$OUT/dedup-f-vm2.pcap" out
diag
t "F: dedup counter unchanged" expect_eq dedup "$(( $(stat_of dd dedup) - d0 ))" 0

# ---- bad input -------------------------------------------------------------------
tfail "dedup 0 refused by vtapctl" hv session set dd dedup 0
tfail "dedup 2s refused by vtapctl" hv session set dd dedup 2s
tfail "dedup 5x refused by vtapctl" hv session set dd dedup 5x
t "dd still has dedup 5ms" expect_eq "dedup_us" "$(hv -j session show dd | json_get "d[0]['dedup_us']")" 5000
t "session add with dedup 1s" hv session add dd2 encap gre key 3 remote "$COL_UL4" dedup 1s
t "dd2: dedup_us 1000000" expect_eq "dedup_us" "$(hv -j session show dd2 | json_get "d[0]['dedup_us']")" 1000000
t "dd2: dedup counter 0 (no traffic)" expect_eq dedup "$(stat_of dd2 dedup)" 0
t "session del dd2" hv session del dd2
t "port del vnet1" hv port del "$VM1_PORT"
t "session del dd" hv session del dd

# ---- vtap.conf: dedup added, changed and removed in place ------------------------
conf() { echo "session ap encap gre key 4 remote $COL_UL4 $*" >"$OUT/dedup.conf"; }
cookie() { hv -j session show ap | json_get "d[0]['cookie']"; }
conf dedup 5ms
t "apply: session ap with dedup 5ms added" sh -c \
	"'$VTAPCTL' -n $NS_HV apply '$OUT/dedup.conf' | grep -q 'session ap: added'"
t "ap: dedup_us 5000" expect_eq "dedup_us" "$(hv -j session show ap | json_get "d[0]['dedup_us']")" 5000
t "apply again: no change" sh -c \
	"'$VTAPCTL' -n $NS_HV apply '$OUT/dedup.conf' | grep -q '^no change'"
c0=$(cookie)
conf dedup 20ms
t "apply: dedup 20ms changes the session in place" sh -c \
	"'$VTAPCTL' -n $NS_HV apply '$OUT/dedup.conf' | grep -q 'session ap: changed (dedup)'"
t "ap: dedup_us 20000, the same session (cookie)" expect_eq "dedup_us cookie" \
	"$(hv -j session show ap | json_get "d[0]['dedup_us'], d[0]['cookie']")" "20000 $c0"
conf
t "apply: dedup dropped from the line turns it off in place" sh -c \
	"'$VTAPCTL' -n $NS_HV apply '$OUT/dedup.conf' | grep -q 'session ap: changed (dedup)'"
t "ap: dedup_us 0, the same session" expect_eq "dedup_us cookie" \
	"$(hv -j session show ap | json_get "d[0]['dedup_us'], d[0]['cookie']")" "0 $c0"
t "session del ap" hv session del ap
finish
