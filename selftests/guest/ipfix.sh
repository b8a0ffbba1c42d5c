#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Flow records: a port with "records both", `vtapctl flows export` (ASan
# build) to two nfcapd collectors (IPv4 and IPv6 underlay) and to a file
# that ipfixDump decodes.  Checked against a capture on the VM's NIC:
#
#   vm1 eth0 <-veth-> vnet1 (port 33, records both) --+-- br0 -- tap2 <-tapvm-> vm2
#   hv: vtapctl flows export to 198.51.100.2:4739 to [2001:db8:100::2]:4740
#       to file:OUT/ipfix.bin   (active 3, idle 2, interval 200 ms)
#   col: nfcapd -p 4739 (IPv4), nfcapd -6 -p 4740 (IPv6)
#
# - 30 UDP datagrams of 100 bytes (IPv4), 10 of 50 bytes (IPv6), a TCP
#   connection carrying 100000 bytes (segmentation offloads off on vm1, so
#   that the capture sees the packets the port saw) and 3 pings: nfdump's
#   records, per flow and direction, carry exactly the packets, IP-layer
#   octets, addresses, ports, protocol and TCP flags of the capture
# - idle timeout: two bursts 3.5 s apart are two records
# - active timeout: a 7 s stream is several records; their packets add up
# - a full table (limit 2): flows show counts the packets that found no
#   room, and the options record (ignoredPacketTotalCount) carries them; so
#   do vtapctl -j stats and its metrics (vtap_flows_lost_packets_total)
# - SIGTERM: the flow still open is exported (forced end), the table emptied
# - ipfixDump decodes every message of the file without complaint: both
#   templates, the options template, the VM's UUID (virtualStationUUID)
# - QinQ: frames that differ only in the inner (customer) VLAN are two flows
. "$(dirname "$0")/../lib.sh"
. "$VTAP_TOP/selftests/lib/topology.sh"

OUT=${VTAP_OUT:-$(mktemp -d)}
CHECK="/usr/bin/python3 $VTAP_TOP/selftests/lib/ipfix_check.py"
VTAPCTL_X=${VTAP_ASAN_VTAPCTL:-$VTAP_TOP/build/asan/vtapctl}
[ -x "$VTAPCTL_X" ] || VTAPCTL_X=$VTAPCTL
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
UUID=6f1c0e2a-5b7d-4c8e-9a01-23456789abcd
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	topo_down
}
trap cleanup EXIT
modprobe -a veth bridge tun sch_ingress cls_bpf 2>/dev/null

for tool in nfcapd nfdump ipfixDump; do
	if ! command -v "$tool" >/dev/null; then
		skip "ipfix" "$tool is not installed (nfdump, libfixbuf-tools)"
		finish
	fi
done

t "topology: vm1 (veth) and vm2 (tap) on a bridge, collector over the underlay" topo_up || finish

# The capture compares packets as the port saw them: no offloads on vm1.
t "vm1: segmentation offloads off" \
	in_nsx "$NS_VM1" ethtool -K eth0 tso off gso off gro off
t "port vnet1 id 33 vm $UUID records both" \
	"$VTAPCTL" -n "$NS_HV" port add vnet1 id 33 vm "$UUID" records both
show_records() {
	expect_eq "port show records" \
		"$("$VTAPCTL" -n "$NS_HV" -j port show vnet1 | json_get 'd[0]["records"]')" both
}
t "port show: records both" show_records

collectors() {
	mkdir -p "$OUT/nf4" "$OUT/nf6" && rm -f "$OUT"/nf4/* "$OUT"/nf6/* || return 1
	# Not through a function: $! must be the program (nsenter execs it).
	nsenter --net="/run/netns/$NS_COL" nfcapd -b "$COL_UL4" -p 4739 -w "$OUT/nf4" -t 3600 \
		>"$OUT/nfcapd4.log" 2>&1 &
	pids+=($!)
	nfcapd4=$!
	nsenter --net="/run/netns/$NS_COL" nfcapd -6 -b "$COL_UL6" -p 4740 -w "$OUT/nf6" -t 3600 \
		>"$OUT/nfcapd6.log" 2>&1 &
	pids+=($!)
	nfcapd6=$!
	busywait 5000 listening 4739 && busywait 5000 listening 4740
}
listening() {
	in_ns "$NS_COL" ss -Hlun "sport = $1" | grep -q .
}
t "nfcapd listens on $COL_UL4:4739 and [$COL_UL6]:4740" collectors

# A sink in vm2: UDP 6000-6010 and TCP 7001 (received bytes to a file).
sink() {
	nsenter --net="/run/netns/$NS_VM2" /usr/bin/python3 - "$OUT/sink.txt" >"$OUT/sink.log" 2>&1 <<'EOF' &
import select, socket, sys
socks = []
for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
    for port in range(6000, 6011):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, port))
        socks.append(s)
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 7001))
l.listen(1)
print("ready", flush=True)
got = 0
conns = []
while True:
    r, _, _ = select.select(socks + [l] + conns, [], [])
    for s in r:
        if s is l:
            conns.append(l.accept()[0])
        elif s in conns:
            d = s.recv(65536)
            if not d:
                s.close()
                conns.remove(s)
                open(sys.argv[1], "w").write("%d\n" % got)
            got += len(d)
        else:
            s.recv(65536)
EOF
	pids+=($!)
	busywait 30000 grep -q ready "$OUT/sink.log"
}
t "vm2: UDP and TCP sink" sink

t "capture on vm1's eth0" cap_start vm1 "$NS_VM1" eth0 "$OUT/vm1.pcap"
cap_wait vm1

export_start() {
	nsenter --net="/run/netns/$NS_HV" "$VTAPCTL_X" -j flows export to "$COL_UL4:4739" to "[$COL_UL6]:4740" \
		to "file:$OUT/ipfix.bin" active 3 idle 2 interval 200 domain 7 \
		template-refresh 5 >"$OUT/export.json" 2>"$OUT/export.err" &
	exporter=$!
	pids+=($!)
	sleep 0.5
	kill -0 "$exporter" || { cat "$OUT/export.err"; return 1; }
}
t "flows export: two collectors and a file (ASan build)" export_start

# python3 in vm1: send(family, src port, dst, dst port, count, size, gap s)
send() {
	in_ns "$NS_VM1" /usr/bin/python3 -c '
import socket, sys, time
fam = socket.AF_INET6 if ":" in sys.argv[2] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", int(sys.argv[1])))
for i in range(int(sys.argv[4])):
    s.sendto(b"x" * int(sys.argv[5]), (sys.argv[2], int(sys.argv[3])))
    time.sleep(float(sys.argv[6]))
' "$1" "$2" "$3" "$4" "$5" "$6"
}

tcp_send() {
	in_ns "$NS_VM1" /usr/bin/python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 7001), source_address=("0.0.0.0", 5100))
s.sendall(b"y" * 100000)
s.shutdown(socket.SHUT_WR)
s.recv(1)
s.close()
' "$VM2_IP4" && busywait 20000 grep -qx 100000 "$OUT/sink.txt"
}

t "vm1 -> vm2: 30 UDP datagrams of 100 bytes (5001 -> 6001)" send 5001 "$VM2_IP4" 6001 30 100 0.01
t "vm1 -> vm2: 10 UDP/IPv6 datagrams of 50 bytes (5002 -> 6002)" send 5002 "$VM2_IP6" 6002 10 50 0.01
t "vm1 -> vm2: TCP 5100 -> 7001, 100000 bytes" tcp_send
t "vm1 -> vm2: 3 pings" in_nsx "$NS_VM1" ping -c 3 -i 0.2 -q "$VM2_IP4"
# Both at once: the idle bursts while the long stream runs.
idle_active() {
	send 5004 "$VM2_IP4" 6004 35 80 0.2 &
	local stream=$!
	send 5003 "$VM2_IP4" 6003 5 60 0.01 && sleep 3.5 && send 5003 "$VM2_IP4" 6003 5 60 0.01
	local rc=$?
	wait "$stream" && return "$rc"
}
t "idle: 5 datagrams, 3.5 s of silence, 5 more (5003 -> 6003); active: 35 over 7 s (5004 -> 6004)" \
	idle_active

# Everything so far exported (idle 2 s): the table is empty.
table_empty() {
	[ "$("$VTAPCTL" -n "$NS_HV" -j flows show | json_get 'd[0]["used"]')" = 0 ]
}
t "flows show: every flow exported and removed after idle" busywait 8000 table_empty

t "flows set limit 2" "$VTAPCTL" -n "$NS_HV" flows set limit 2
# 10 flows of one datagram (48 IP octets each), from one process, well
# within the idle timeout: 2 recorded, 8 lost.
full() {
	in_ns "$NS_VM1" /usr/bin/python3 -c '
import socket, sys
for p in range(5010, 5020):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", p))
    s.sendto(b"z" * 20, (sys.argv[1], 6005))
' "$VM2_IP4" || return 1
	"$VTAPCTL" -n "$NS_HV" -j flows show >"$OUT/full.json" || return 1
	cat "$OUT/full.json"
	# limit, lost packets and octets; the flows listed are those in use,
	# at most 2 (the exporter may have removed them already: idle 2 s;
	# nfdump shows 2 below).
	expect_eq "limit lost-packets lost-octets flows-listed-are-used used<=2" \
		"$(json_get 'd[0]["limit"], d[0]["lost"]["packets"], d[0]["lost"]["octets"],
			    len(d[0]["flows"]) == d[0]["used"], d[0]["used"] <= 2' <"$OUT/full.json")" \
		"2 8 384 True True" &&
	"$VTAPCTL" -n "$NS_HV" flows show dev vnet1 | tee "$OUT/full.txt" &&
	grep -Eq "^limit 2 used [0-2] lost packets 8 octets 384 non-ip packets 0 octets 0$" "$OUT/full.txt" &&
	expect_eq "text: flow lines" \
		"$(grep -c "^vnet1 out udp 192.0.2.1 > 192.0.2.2 sport 50[01][0-9] dport 6005 packets 1 octets 48 " \
		   "$OUT/full.txt")" "$(sed -n 's/^limit 2 used \([0-9]\).*/\1/p' "$OUT/full.txt")"
}
t "full table: 8 of 10 single-packet flows (384 octets) counted lost; flows show -j and text" full
# The same counters in vtapctl stats: -j, and the metrics (format prometheus).
full_stats() {
	"$VTAPCTL" -n "$NS_HV" -j stats >"$OUT/full-stats.json" &&
		"$VTAPCTL" -n "$NS_HV" stats format prometheus >"$OUT/full.prom" || return 1
	expect_eq "stats -j: flows limit, lost packets, octets, non-ip" \
		"$(jq -r '.flows | "\(.limit) \(.lost.packets) \(.lost.octets) \(.lost.nonip_packets)"' \
		   "$OUT/full-stats.json")" "2 8 384 0" &&
	grep -x 'vtap_flows_limit 2' "$OUT/full.prom" &&
	grep -x 'vtap_flows_lost_packets_total 8' "$OUT/full.prom" &&
	grep -x 'vtap_flows_lost_bytes_total 384' "$OUT/full.prom" &&
	grep -x 'vtap_flows_nonip_packets_total 0' "$OUT/full.prom" &&
	"$VTAPCTL" -n "$NS_HV" stats | tee "$OUT/full-stats.txt" |
		grep -Eq '^flows limit 2 used [0-2] lost packets 8 octets 384 non-ip packets 0 octets 0$'
}
t "stats -j, text and format prometheus: limit 2, 8 packets (384 bytes) lost" full_stats
t "flows set limit 16384" "$VTAPCTL" -n "$NS_HV" flows set limit 16384
# A flow still open when the exporter stops: exported as a forced end.
t "vm1 -> vm2: one datagram just before the exporter stops (5020 -> 6006)" \
	send 5020 "$VM2_IP4" 6006 1 40 0

export_stop() {
	kill -TERM "$exporter" && wait "$exporter"
	local rc=$?
	cat "$OUT/export.err"
	[ "$rc" = 0 ] && ! grep -q ERROR "$OUT/export.err"
}
t "flows export stops on SIGTERM, clean under ASan" export_stop
t "flows show: the table is empty after the exporter's forced end" table_empty
cap_stop vm1
stop_nfcapd() {
	kill -TERM "$nfcapd4" "$nfcapd6" && wait "$nfcapd4" "$nfcapd6"
	nfdump -R "$OUT/nf4" -o csv >"$OUT/nf4.csv" &&
	nfdump -R "$OUT/nf6" -o csv >"$OUT/nf6.csv"
}
t "nfcapd: files written" stop_nfcapd

flows_cmp() {	# the capture's flows (both directions) vs nfdump's
	$CHECK pcap "$OUT/vm1.pcap" >"$OUT/pcap.flows" &&
	$CHECK nfdump "$OUT/nf4.csv" >"$OUT/nf4.flows" || return 1
	# The full-table flows: the capture has all 10, the records 2.
	cut -d' ' -f1-8 "$OUT/nf4.flows" | grep -v ' 6005 ' >"$OUT/nf4.cmp"
	grep -v ' 6005 ' "$OUT/pcap.flows" >"$OUT/pcap.cmp"
	diff -u "$OUT/pcap.cmp" "$OUT/nf4.cmp"
}
t "nfdump: every flow's packets, octets, ports and TCP flags are the capture's" flows_cmp

record_is() {	# WHAT LINE-PATTERN: one line of nf4.flows matching
	grep -q -- "$2" "$OUT/nf4.flows" && return 0
	echo "$1: no record '$2' in:"
	cat "$OUT/nf4.flows"
	return 1
}
t "UDP: 30 packets, 3840 octets (30 x (20 + 8 + 100))" \
	record_is udp "^17 $VM1_IP4 5001 $VM2_IP4 6001 30 3840 ...... 1$"
t "UDP/IPv6: 10 packets, 980 octets (10 x (40 + 8 + 50))" \
	record_is udp6 "^17 $VM1_IP6 5002 $VM2_IP6 6002 10 980 ...... 1$"
tcp_check() {
	local out back
	out=$(grep "^6 $VM1_IP4 5100 $VM2_IP4 7001 " "$OUT/nf4.flows")
	back=$(grep "^6 $VM2_IP4 7001 $VM1_IP4 5100 " "$OUT/nf4.flows")
	echo "out: $out"; echo "back: $back"
	# SYN, ACK, PSH, FIN out; SYN, ACK, FIN back (the sink sends no data).
	[ "$(echo "$out" | cut -d' ' -f8)" = ".AP.SF" ] &&
	[ "$(echo "$back" | cut -d' ' -f8)" = ".A..SF" ] &&
	[ "$(echo "$out" | cut -d' ' -f7)" -gt 100000 ]
}
t "TCP: flags SYN ACK PSH FIN out, SYN ACK FIN back, > 100000 octets out" tcp_check
t "ICMP: 3 echo requests out, 3 replies in" eval \
	'record_is ping "^1 $VM1_IP4 0 $VM2_IP4 0 3 252 ...... 1$" &&
	 record_is pong "^1 $VM2_IP4 0 $VM1_IP4 0 3 252 ...... 1$"'
t "idle timeout: the two bursts are two records of 5" \
	record_is idle "^17 $VM1_IP4 5003 $VM2_IP4 6003 10 880 ...... 2$"
active_check() {
	local n
	n=$(grep "^17 $VM1_IP4 5004 $VM2_IP4 6004 " "$OUT/nf4.flows" | cut -d' ' -f9)
	record_is active "^17 $VM1_IP4 5004 $VM2_IP4 6004 35 3780 ...... " &&
	expect_ge "records of the 7 s stream" "$n" 2
}
t "active timeout: the 7 s stream is >= 2 records adding up to 35 packets" active_check
t "full table: 2 of the 10 flows recorded" eval \
	'[ "$(grep -c " 6005 " "$OUT/nf4.flows")" = 2 ]'
t "IPv6 collector: the same records as the IPv4 one" eval \
	'$CHECK nfdump "$OUT/nf6.csv" >"$OUT/nf6.flows" && [ -s "$OUT/nf4.flows" ] &&
	 diff -u "$OUT/nf4.flows" "$OUT/nf6.flows"'
direction_check() {	# flowDirection and interfaces: out = ingress of port 33
	nfdump -R "$OUT/nf4" -o "fmt:%sa %dp %in %out %dir" -q | tee "$OUT/dir.txt" &&
	grep -Eq "^ *$VM1_IP4 +6001 +33 +0 +I$" "$OUT/dir.txt" &&
	grep -Eq "^ *$VM2_IP4 +5100 +0 +33 +E$" "$OUT/dir.txt"
}
t "records: sent by the VM in on interface 33 (ingress), received out (egress)" direction_check

ipfixdump_check() {
	ipfixDump --hexdump=16 -i "$OUT/ipfix.bin" >"$OUT/ipfixdump.txt" 2>"$OUT/ipfixdump.err"
	local rc=$?
	cat "$OUT/ipfixdump.err"
	[ "$rc" = 0 ] && ! grep -Eiq "warn|error|unknown|invalid" "$OUT/ipfixdump.err" &&
	grep -q "virtualStationUUID" "$OUT/ipfixdump.txt" &&
	grep -q "ignoredPacketTotalCount" "$OUT/ipfixdump.txt" &&
	grep -q "sourceIPv6Address" "$OUT/ipfixdump.txt" &&
	grep -q "flowEndReason" "$OUT/ipfixdump.txt"
}
t "ipfixDump decodes the file: templates, records, options" ipfixdump_check
lost_record() {	# the last options record: 8 packets, 384 octets ignored
	grep -E "ignored(Packet|Octet)TotalCount" "$OUT/ipfixdump.txt" | tail -n 2 | tee "$OUT/lost.txt"
	grep -Eq "ignoredPacketTotalCount.* 8$" "$OUT/lost.txt" &&
	grep -Eq "ignoredOctetTotalCount.* 384$" "$OUT/lost.txt"
}
t "options record: ignoredPacketTotalCount 8, ignoredOctetTotalCount 384" lost_record
uuid_check() {
	grep -i "virtualStationUUID" "$OUT/ipfixdump.txt" | head -n 2
	grep -i "virtualStationUUID" "$OUT/ipfixdump.txt" | grep -qi "${UUID//-/}"
}
t "virtualStationUUID is the port's VM" uuid_check
reasons() {	# flowEndReason: active (2) for the long stream, end of flow (3) for TCP
	grep -E "flowEndReason : [0-9]" "$OUT/ipfixdump.txt" | sort | uniq -c
	expect_ge "active timeout records" \
		"$(grep -c "flowEndReason : 2$" "$OUT/ipfixdump.txt")" 2 &&
	expect_eq "end of flow records (TCP, FIN both ways)" \
		"$(grep -c "flowEndReason : 3$" "$OUT/ipfixdump.txt")" 2
}
t "flowEndReason: active timeout for the long stream, end of flow for TCP" reasons
forced() {
	record_is forced "^17 $VM1_IP4 5020 $VM2_IP4 6006 1 68 ...... 1$" &&
	expect_ge "forced end records" "$(grep -c "flowEndReason : 4$" "$OUT/ipfixdump.txt")" 1
}
t "forced end: the flow open at SIGTERM is exported (flowEndReason 4)" forced
exported_count() {	# the exporter's own count is what nfcapd received
	cat "$OUT/export.json"
	expect_eq "flow records exported" "$(json_get 'd[0]["exported"]' <"$OUT/export.json")" \
		"$(awk '{n += $9} END {print n}' "$OUT/nf4.flows")"
}
t "flows export -j: the flow records it reports sending are those nfdump has" exported_count

# QinQ (after the exporter and the capture stopped): vm1 sends behind an
# 802.1ad S-tag 10 with 802.1Q C-tags 20 and 21 inside; the table keeps
# them apart by the inner tag (the record's dot1qCustomerVlanId).
qinq_send() {
	local n=$NS_VM1
	ip -n "$n" link add link eth0 name s10 type vlan proto 802.1ad id 10 &&
	ip -n "$n" link add link s10 name c20 type vlan id 20 &&
	ip -n "$n" link add link s10 name c21 type vlan id 21 &&
	ip -n "$n" link set s10 up && ip -n "$n" link set c20 up && ip -n "$n" link set c21 up &&
	ip -n "$n" addr add 203.0.113.65/28 dev c20 && ip -n "$n" addr add 203.0.113.81/28 dev c21 &&
	ip -n "$n" neigh replace 203.0.113.66 lladdr 02:00:00:00:00:99 dev c20 nud permanent &&
	ip -n "$n" neigh replace 203.0.113.82 lladdr 02:00:00:00:00:99 dev c21 nud permanent &&
	send 5030 203.0.113.66 6030 5 40 0 && send 5031 203.0.113.82 6031 3 40 0
}
t "vm1: 5 datagrams over S-tag 10 C-tag 20 (5030), 3 over C-tag 21 (5031)" qinq_send
qinq_flows() {
	"$VTAPCTL" -n "$NS_HV" -j flows show >"$OUT/qinq.json" &&
	[ "$(json_get 'sorted((f["sport"], f.get("vlan"), f.get("cvlan"), f["packets"], f["octets"])
		for f in d[0]["flows"] if f["sport"] in (5030, 5031))' <"$OUT/qinq.json")" = \
	  "[(5030, 10, 20, 5, 340), (5031, 10, 21, 3, 204)]" ] &&
	"$VTAPCTL" -n "$NS_HV" flows show | grep -q " sport 5030 dport 6030 vlan 10 cvlan 20 packets 5 "
}
t "flows show: one flow per inner VLAN, vlan 10, cvlan 20 and 21, 5 and 3 packets" \
	busywait 5000 qinq_flows
finish
