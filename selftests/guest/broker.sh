#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Packet-broker features, measured at the collector: sampling (every Nth
# exactly, random within statistical bounds over 10 000 frames), slicing
# (snaplen, T bit, original length), masking (the copy only), the rate
# budget (held within 10% while the VM's own traffic is untouched), GSO
# super-packets segmented byte-identically to the wire (or sliced), copies
# cut to the path MTU and never fragmented, rules in the kernel path, the
# same over VXLAN, bad input that changes nothing, and the counters as
# Prometheus metrics (stats format prometheus) equal to vtapctl -j stats.
# Topology: selftests/lib/topology.sh.
. "$(dirname "$0")/../lib.sh"
. "$VTAP_TOP/selftests/lib/topology.sh"

modprobe -a veth sch_ingress cls_bpf tun bridge 2>/dev/null
OUT=${VTAP_OUT:-/tmp}
CHECK="python3 $VTAP_TOP/selftests/lib/broker_check.py"
trap 'topo_down' EXIT

hv() { "$VTAPCTL" -n "$NS_HV" "$@"; }
stat_of() {	# SESSION COUNTER
	hv -j session show "$1" | json_get "d[0]['stats']['$2']"
}
# blast NS DST COUNT SIZE [PPS]: COUNT UDP datagrams of SIZE bytes to port 9.
blast() {
	in_ns "$1" python3 - "$2" "$3" "$4" "${5:-0}" <<'EOF'
import socket, sys, time
dst, n, size, pps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = b"v" * size
t0 = time.monotonic()
for i in range(n):
	s.sendto(payload, (dst, 9))
	if pps:
		wait = t0 + (i + 1) / pps - time.monotonic()
		if wait > 0:
			time.sleep(wait)
print(f"{n} datagrams in {time.monotonic() - t0:.3f} s")
EOF
}

t "topology up" topo_up
t "port vnet1 (vm1, veth)" hv port add "$VM1_PORT" id 10
t "port tap2 (vm2, tap)" hv port add "$VM2_PORT" id 20

# ---- sampling -------------------------------------------------------------
t "session every: sample 1/10 every" hv session add every encap gre key 1 remote "$COL_UL4" sample 1/10 every
t "session rand: sample 1/10 random" hv session add rand encap gre key 2 remote "$COL_UL4" sample 1/10 random
t "show reports sampling" sh -c "'$VTAPCTL' -n $NS_HV session show every | grep -q 'sample 1/10 every'"
hv flow add session every port "$VM1_PORT" dir out
hv flow add session rand port "$VM1_PORT" dir out
# 10 000 frames are too many for tcpdump under TCG: the collector's own
# interface counters count the copies (the underlay carries nothing else).
col0=$(dev_stat "$NS_COL" ul1 rx_packets)
# The debug kernel (5-6 times slower): the same check over fewer frames.
NSAMPLE=10000
[[ $(uname -r) == *vtapdbg* ]] && NSAMPLE=3000
t "$NSAMPLE frames from vm1" blast "$NS_VM1" "$VM2_IP4" $NSAMPLE 18
sleep 1
m=$(stat_of every matched); s=$(stat_of every sent)
t "every: exactly 1 in 10 sent ($s of $m)" expect_eq "sent" "$s" "$((m / 10))"
t "every: the rest counted as sampled_out" expect_eq "sampled_out" "$(stat_of every sampled_out)" "$((m - s))"
r=$(stat_of rand sent); rm=$(stat_of rand matched)
within() {	# GOT EXPECTED TOLERANCE
	local d=$(($1 - $2))
	[ ${d#-} -le "$3" ] || { echo "got $1, expected $2 +- $3"; return 1; }
}
# Binomial(n, 1/10): sd = sqrt(n * 0.09) = 30 for n = 10 000 (16 for 3000); allow 5 sd.
t "random: $r of $rm within 5 standard deviations of 1/10" within "$r" "$((rm / 10))" \
	"$(python3 -c "import math; print(int(5 * math.sqrt($rm * 0.09)) + 1)")"
t "the collector received every copy sent" expect_eq "copies" \
	"$(( $(dev_stat "$NS_COL" ul1 rx_packets) - col0 ))" "$((s + r))"
hv session del every
hv session del rand

# ---- slicing and masking -----------------------------------------------------
t "session snap: erspan2 snaplen 100" hv session add snap encap erspan2 id 31 remote "$COL_UL4" snaplen 100
t "session mask: erspan3, the IPv4 addresses masked" hv session add mask encap erspan3 id 32 remote "$COL_UL4" mask offset 26 len 8 byte 0
hv flow add session snap port "$VM1_PORT" dir out
hv flow add session mask port "$VM1_PORT" dir out
# The reference is what reaches vm2: over its tap, checksums are complete,
# as on a wire (vm1's own veth capture shows them unfinished).
cap_start col "$NS_COL" ul1 "$OUT/slice.pcap"
cap_start vm "$NS_VM2" eth0 "$OUT/slice-vm.pcap"
cap_wait col vm
blast "$NS_VM1" "$VM2_IP4" 20 400 >/dev/null
blast "$NS_VM1" "$VM2_IP4" 20 10 >/dev/null
sleep 1
t "captures complete" cap_stop col vm
t "slices: 100 bytes with T set, small frames whole" $CHECK snap "$OUT/slice.pcap" 31 100
t "sliced counter" expect_ge "sliced" "$(stat_of snap sliced)" 20
t "masks applied to the copies only" $CHECK mask "$OUT/slice.pcap" 32 26 8 0 "$OUT/slice-vm.pcap" "$VM1_MAC"
t "vm2 received the unmasked frames (40 datagrams)" \
	sh -c "[ \$(python3 $VTAP_TOP/selftests/lib/vtapcap.py decode $OUT/slice-vm.pcap | grep -c 'UDP\|udp') -ge 40 ]"
hv session del snap
hv session del mask

# ---- rate budget -------------------------------------------------------------
# A token bucket forfeits credit past its burst: the budget is far below
# what vm1 offers and the burst is two seconds' worth, so that the guest's
# scheduling stalls under TCG do not starve it.
t "session budget: 50 pps, burst 100" hv session add budget encap gre key 5 remote "$COL_UL4" rate 50 burst 100
hv flow add session budget port "$VM1_PORT" dir out
# The sender catches up after a stall of the guest in one burst, which can
# overflow tap2's queue to vm2's relay (500 frames): once, on a very busy
# machine, 2678 of 3000 arrived.  The check says how many the queue dropped.
ip -n "$NS_HV" link set "$VM2_PORT" txqueuelen 10000
rx0=$(dev_stat "$NS_VM2" eth0 rx_packets)
txd0=$(dev_stat "$NS_HV" "$VM2_PORT" tx_dropped)
# The sender times its own sending (python starts slowly under TCG).
secs=$(blast "$NS_VM1" "$VM2_IP4" 3000 18 500 | awk '/datagrams in/ {print $4}')
t "vm1 sent 3000 frames at ~500/s (in $secs s)" test -n "$secs"
sleep 0.5
sent=$(stat_of budget sent); dropped=$(stat_of budget drop_rate)
want=$(python3 -c "print(int(50 * $secs + 100))")
t "budget held within 10%: $sent copies for $want allowed" \
	within "$sent" "$want" "$((want / 10 + 1))"
t "copies over budget counted as drop_rate" expect_eq "matched" "$(stat_of budget matched)" "$((sent + dropped))"
rx=$(( $(dev_stat "$NS_VM2" eth0 rx_packets) - rx0 ))
txd=$(( $(dev_stat "$NS_HV" "$VM2_PORT" tx_dropped) - txd0 ))
t "the VM's own traffic untouched: vm2 got all 3000" \
	expect_ge "vm2 rx ($txd dropped by $VM2_PORT's queue)" "$rx" 3000

# ---- Prometheus: the counters of vtapctl -j stats, as metrics ----------------
# Taken while nothing moves: -j stats before and after the metrics, the same.
PROM=$OUT/prom
mkdir -p "$PROM"
prom_snapshot() {
	hv -j stats >"$PROM/a.json" && hv stats format prometheus write "$PROM/vtap.prom" &&
		hv -j stats >"$PROM/b.json" && cmp -s "$PROM/a.json" "$PROM/b.json"
}
t "stats format prometheus write FILE (between two equal -j stats)" busywait 20000 prom_snapshot
t "FILE replaced at once: mode 0644, no temporary file left" sh -c \
	"[ \"\$(stat -c %a '$PROM/vtap.prom')\" = 644 ] && [ -z \"\$(ls -A '$PROM' | grep '^[.]')\" ]"
t "metrics = vtapctl -j stats; budget: $dropped rate drops, matched = sent + dropped" \
	/usr/bin/python3 "$VTAP_TOP/selftests/lib/prom_check.py" "$PROM/a.json" "$PROM/vtap.prom" \
	budget "$dropped"
t "stats session budget format prometheus: the seven drop causes, no port" sh -c \
	"out=\$('$VTAPCTL' -n $NS_HV stats session budget format prometheus) &&
	 [ \$(echo \"\$out\" | grep -c '^vtap_session_dropped_packets_total{session=\"budget\",cause=') = 7 ] &&
	 ! echo \"\$out\" | grep -q '^vtap_port'"
hv session del budget

# ---- GSO --------------------------------------------------------------------
# Full-sized segments plus GRE do not fit a 1500-byte underlay: jumbo it, as
# mirror underlays are, so the segments arrive whole.
ip -n "$NS_HV" link set ul0 mtu 9000
ip -n "$NS_COL" link set ul1 mtu 9000
t "session seg: GSO segmented (default)" hv session add seg encap gre key 6 remote "$COL_UL4"
t "session whole: gso slice" hv session add whole encap erspan2 id 33 remote "$COL_UL4" gso slice
t "rule: seg mirrors only tcp to port 5001" hv rule add session seg num 10 dir out accept proto tcp dport 5001
t "rule show" sh -c "'$VTAPCTL' -n $NS_HV rule show | grep -q 'session seg dir out num 10 accept proto tcp dport 5001'"
hv flow add session seg port "$VM1_PORT" dir out
hv flow add session whole port "$VM1_PORT" dir out
in_ns "$NS_VM2" sh -c 'ncat -l 5001 >/dev/null &'
sleep 0.5
cap_start col "$NS_COL" ul1 "$OUT/gso.pcap"
# The wire: tap2's transmit side in hv, where the kernel segments what the
# tap cannot take whole (a capture there sees every segment, even one the
# tap's queue then drops).
cap_start wire "$NS_HV" "$VM2_PORT" "$OUT/gso-wire.pcap"
cap_wait col wire
t "vm1 sends 64 kB over TCP" in_ns "$NS_VM1" sh -c "head -c 65536 /dev/zero | ncat --send-only $VM2_IP4 5001"
sleep 1
t "captures complete" cap_stop col wire
t "GSO super-packets were seen" expect_ge "gso" "$(stat_of seg gso)" 1
t "segmented copies byte-identical to the wire" $CHECK gso "$OUT/gso.pcap" 6 "$OUT/gso-wire.pcap" "$VM1_MAC" 5001
big_copies() {	# copies of session id 33 larger than any wire frame
	python3 -c "
import sys; sys.path.insert(0, '$VTAP_TOP/selftests/lib'); import vtapcap
cs = [vtapcap.decode(p) for p in vtapcap.read_pcap('$OUT/gso.pcap')]
print(sum(1 for c in cs if c.erspan and c.erspan['sid'] == 33 and len(c.inner) > 1514))"
}
t "gso slice: one copy per super-packet, whole (cut only past the path MTU)" \
	expect_eq "super-packet copies" "$(big_copies)" "$(stat_of whole gso)"
t "no copy of anything but the rule's flow in seg" sh -c \
	"[ \$(python3 $VTAP_TOP/selftests/lib/vtapcap.py decode $OUT/gso.pcap | grep 'key 6 ' | grep -vc 'TCP\|tcp') = 0 ]"

# The same with ul0's transmit checksumming on: whole segment copies leave
# their TCP checksum to the underlay (CHECKSUM_PARTIAL, as mirred's do); a
# veth hands them on so, and the collector sees the pseudo-header sum.
hv session del whole
in_ns "$NS_HV" ethtool -K ul0 tx on >/dev/null
in_ns "$NS_VM2" sh -c 'ncat -l 5001 >/dev/null &'
sleep 0.5
cap_start col "$NS_COL" ul1 "$OUT/gso-partial.pcap"
cap_start wire "$NS_HV" "$VM2_PORT" "$OUT/gso-partial-wire.pcap"
cap_wait col wire
t "vm1 sends 64 kB over TCP (underlay checksum offload on)" \
	in_ns "$NS_VM1" sh -c "head -c 65536 /dev/urandom | ncat --send-only $VM2_IP4 5001"
sleep 1
t "captures complete" cap_stop col wire
t "offload on: copies leave the checksum to the device, the rest byte-identical to the wire" \
	$CHECK gso "$OUT/gso-partial.pcap" 6 "$OUT/gso-partial-wire.pcap" "$VM1_MAC" 5001 partial
in_ns "$NS_HV" ethtool -K ul0 tx off >/dev/null

# A 1500-byte underlay: full-sized segments do not fit with GRE, each copy
# is cut to the path MTU, where it is (no checksum computed over the rest).
ip -n "$NS_HV" link set ul0 mtu 1500
ip -n "$NS_COL" link set ul1 mtu 1500
in_ns "$NS_VM2" sh -c 'ncat -l 5001 >/dev/null &'
sleep 0.5
cap_start col "$NS_COL" ul1 "$OUT/gso-cut.pcap"
cap_start wire "$NS_HV" "$VM2_PORT" "$OUT/gso-cut-wire.pcap"
cap_wait col wire
t "vm1 sends 64 kB over TCP (underlay MTU 1500)" \
	in_ns "$NS_VM1" sh -c "head -c 65536 /dev/urandom | ncat --send-only $VM2_IP4 5001"
sleep 1
t "captures complete" cap_stop col wire
t "segment copies cut to the path MTU: prefixes, the checksum not computed" \
	$CHECK gso "$OUT/gso-cut.pcap" 6 "$OUT/gso-cut-wire.pcap" "$VM1_MAC" 5001 cut

t "rule del" hv rule del session seg num 10 dir out
hv session del seg

# ---- path MTU ---------------------------------------------------------------
ip -n "$NS_HV" link set ul0 mtu 1500
ip -n "$NS_COL" link set ul1 mtu 1500
t "session big: erspan2, underlay MTU 1500" hv session add big encap erspan2 id 34 remote "$COL_UL4"
hv flow add session big port "$VM1_PORT" dir out
cap_start col "$NS_COL" ul1 "$OUT/mtu.pcap"
cap_wait col
t "full-size frames from vm1" in_ns "$NS_VM1" ping -c 5 -i 0.1 -s 1472 -M do -W 2 "$VM2_IP4"
sleep 0.5
t "capture complete" cap_stop col
t "copies cut to the path MTU with T set, DF, none over" $CHECK mtu "$OUT/mtu.pcap" 34 1500
t "mirror traffic never fragmented" $CHECK frags "$OUT/mtu.pcap"
t "truncated counter" expect_ge "truncated" "$(stat_of big truncated)" 5

# ---- VXLAN ------------------------------------------------------------------
# GSO segmented over an IPv6 underlay (the outer UDP checksum by local
# checksum offload over the segment's checksum left to the device), with a
# rule; and cut to the path MTU over IPv4, where no T bit marks the cut
# (the inner IP header keeps the original length).
ip -n "$NS_HV" link set ul0 mtu 9000
ip -n "$NS_COL" link set ul1 mtu 9000
t "session vx6: vxlan over IPv6, VNI 61" hv session add vx6 encap vxlan vni 61 remote "$COL_UL6"
t "rule: vx6 mirrors only tcp to port 5001" hv rule add session vx6 num 10 dir out accept proto tcp dport 5001
hv flow add session vx6 port "$VM1_PORT" dir out
in_ns "$NS_VM2" sh -c 'ncat -l 5001 >/dev/null &'
sleep 0.5
cap_start col "$NS_COL" ul1 "$OUT/vx-gso.pcap"
cap_start wire "$NS_HV" "$VM2_PORT" "$OUT/vx-gso-wire.pcap"
cap_wait col wire
t "vm1 sends 64 kB over TCP (VXLAN over IPv6)" \
	in_ns "$NS_VM1" sh -c "head -c 65536 /dev/urandom | ncat --send-only $VM2_IP4 5001"
sleep 1
t "captures complete" cap_stop col wire
t "VXLAN: GSO super-packets were seen" expect_ge "gso" "$(stat_of vx6 gso)" 1
t "VXLAN: segment copies byte-identical to the wire, outer UDP checksums right" \
	$CHECK gso "$OUT/vx-gso.pcap" vni:61 "$OUT/vx-gso-wire.pcap" "$VM1_MAC" 5001
hv session del vx6

ip -n "$NS_HV" link set ul0 mtu 1500
ip -n "$NS_COL" link set ul1 mtu 1500
t "session vx4: vxlan over IPv4, VNI 62, underlay MTU 1500" \
	hv session add vx4 encap vxlan vni 62 remote "$COL_UL4"
hv flow add session vx4 port "$VM1_PORT" dir out
cap_start col "$NS_COL" ul1 "$OUT/vx-mtu.pcap"
cap_wait col
t "full-size frames from vm1" in_ns "$NS_VM1" ping -c 5 -i 0.1 -s 1472 -M do -W 2 "$VM2_IP4"
sleep 0.5
t "capture complete" cap_stop col
t "VXLAN copies cut to the path MTU, DF, none over, UDP checksum 0" \
	$CHECK mtu "$OUT/vx-mtu.pcap" vni:62 1500
t "VXLAN: mirror traffic never fragmented" $CHECK frags "$OUT/vx-mtu.pcap"
t "VXLAN: truncated counter" expect_ge "truncated" "$(stat_of vx4 truncated)" 5
hv session del vx4

# ---- bad input ----------------------------------------------------------------
before=$(hv -j session show; hv -j rule show)
badcode() {	# WANT ARGS...
	local want=$1 rc=0
	shift
	hv "$@" || rc=$?
	expect_eq "exit of '$*'" "$rc" "$want"
}
hv rule add session big num 5 dir out accept proto udp >/dev/null
before=$(hv -j session show; hv -j rule show)
t "duplicate rule number: exit 6" badcode 6 rule add session big num 5 dir out reject
t "bad CIDR: exit 2" badcode 2 rule add session big num 6 dir out accept src 192.0.2.1/24
t "reversed port range: exit 2" badcode 2 rule add session big num 6 dir out accept proto tcp dport 90-80
t "rule of an unknown session: exit 5" badcode 5 rule add session nosuch num 6 dir out accept
t "snaplen 0: exit 2" badcode 2 session set big snaplen 0
t "rate 0: exit 2" badcode 2 session set big rate 0
t "mask past snaplen: exit 2" badcode 2 session set big snaplen 100 mask offset 90 len 20
t "sample 1/0: exit 2" badcode 2 session set big sample 1/0
t "state unchanged" expect_eq "show" "$(hv -j session show; hv -j rule show)" "$before"

hv session del big
t "ports del" sh -c "'$VTAPCTL' -n $NS_HV port del $VM1_PORT && '$VTAPCTL' -n $NS_HV port del $VM2_PORT"
finish
