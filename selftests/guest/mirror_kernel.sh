#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The mirror checker against the kernel's own mirror path: tc mirred from the
# VM ports' clsact into gretap/erspan/ip6gretap/ip6erspan devices gives real
# GRE-TEB, ERSPAN II and ERSPAN III streams with the layout vtap sends, over
# IPv4 and IPv6.  Each is checked like vtap's (every frame once, byte-identical,
# in order; key, session id, index, D bit, hwid, sequence from 0...), the
# kernel's decapsulators in the collector namespace deliver the inner frames,
# tshark decodes every copy as selftests/lib/vtapcap.py does, and the checker
# fails on the same data when the expectations are wrong or a capture is
# corrupted.  Needs no vtap.ko; proves the test machinery of mirror.sh.
#
#   vm1 eth0 <-veth-> vnet1 --+                      (topology: selftests/lib/topology.sh)
#   vm2 eth0 <-tapvm-> tap2 --+-- br0     hv: ul0 <-veth-> col: ul1 (+ decapsulators)
#   hv: clsact on vnet1/tap2: matchall, mirred egress mirror -> one device per stream
. "$(dirname "$0")/../lib.sh"
. "$VTAP_TOP/selftests/lib/mirror.sh"
trap mirror_cleanup EXIT
modprobe -a veth bridge tun ip_gre ip6_gre sch_ingress cls_matchall act_mirred

t "topology: two VMs (veth, tap), a bridge, an underlay to the collector" topo_up

# Streams: ENCAP FAM DIR PORT.  Kernel devices have a fixed direction
# (erspan_dir) and index, so every stream is its own device and session.
streams=(
	"gre 4 out vnet1" "gre 4 in vnet1" "gre 6 out vnet1" "gre 6 in vnet1"
	"erspan2 4 out vnet1" "erspan2 4 in vnet1" "erspan2 6 out vnet1" "erspan2 6 in vnet1"
	"erspan3 4 out vnet1" "erspan3 4 in vnet1" "erspan3 6 out vnet1" "erspan3 6 in vnet1"
	"erspan2 4 out tap2" "erspan3 6 in tap2" "gre 4 in tap2"
)
declare -A actions=()
kdev() {	# N ENCAP FAM DIR PORT: device kN in hv, spec lines
	local n=$1 enc=$2 fam=$3 dir=$4 port=$5 type args=() id=$((200 + $1)) hook
	local src dst cos=''
	src=$(ul_src "$fam") dst=$(ul_dst "$fam")
	# Linux's ip6erspan takes the COS from the inner packet read as IPv6
	# (an IPv4 packet's version nibble becomes priority 5, COS 2).
	[ "$fam" = 6 ] && cos="cos any"
	case $enc$fam in
	gre4) type=gretap ;; gre6) type=ip6gretap ;;
	erspan*4) type=erspan ;; erspan*6) type=ip6erspan ;;
	esac
	case $enc in
	gre) args=(key "$id" oseq) ;;
	erspan2) args=(seq key "$id" erspan_ver 1 erspan "${PORT_ID[$port]}") ;;
	erspan3) args=(seq key "$id" erspan_ver 2 erspan_hwid $((n % 64))
		       erspan_dir "$([ "$dir" = out ] && echo ingress || echo egress)") ;;
	esac
	[ "$fam" = 4 ] && args+=(ttl 64) || args+=(hoplimit 64)
	ip -n "$NS_HV" link add "k$n" type "$type" local "$src" remote "$dst" "${args[@]}" &&
	ip -n "$NS_HV" link set "k$n" up || return 1
	case $enc in
	gre) spec "session k$n encap gre src $src dst $dst key $id seq0 0" ;;
	erspan2) spec "session k$n encap erspan2 src $src dst $dst id $id seq0 0 $cos" ;;
	erspan3) spec "session k$n encap erspan3 src $src dst $dst id $id hwid $((n % 64)) gra 100us seq0 0 $cos" ;;
	esac
	spec "mirror k$n@$port session k$n vm ${PORT_VM[$port]} dir $dir" \
		"$([ "$enc" = erspan2 ] && echo "index ${PORT_ID[$port]}")" "min 20"
	hook=$([ "$dir" = out ] && echo ingress || echo egress)
	actions[$port/$hook]+=" action mirred egress mirror dev k$n"
}

# Decapsulators in col for three of the streams (the other end's view);
# oseq, not seq: with iseq the kernel drops copies that cross on the way.
decaps=("1 gretap key 201" "6 erspan oseq key 206 erspan_ver 1 erspan 11"
	"12 ip6erspan oseq key 212 erspan_ver 2 erspan_hwid 12 erspan_dir egress")
decap_setup() {
	local d n type rest
	for d in "${decaps[@]}"; do
		read -r n type rest <<<"$d"
		if [ "$type" = ip6erspan ]; then
			# shellcheck disable=SC2086
			ip -n "$NS_COL" link add "dk$n" type $type local "$COL_UL6" remote "$HV_UL6" $rest
		else
			# shellcheck disable=SC2086
			ip -n "$NS_COL" link add "dk$n" type $type local "$COL_UL4" remote "$HV_UL4" $rest
		fi || return 1
		ip -n "$NS_COL" link set "dk$n" up || return 1
	done
}
t "decapsulators in col: gretap, erspan (v1), ip6erspan (v2)" decap_setup

setup() {
	local i=1 s hook p
	for s in "${streams[@]}"; do
		# shellcheck disable=SC2086
		kdev $i $s || return 1
		i=$((i + 1))
	done
	for p in vnet1 tap2; do
		tc -n "$NS_HV" qdisc add dev "$p" clsact || return 1
	done
	for hook in "${!actions[@]}"; do
		# shellcheck disable=SC2086
		tc -n "$NS_HV" filter add dev "${hook%/*}" "${hook#*/}" pref 1 matchall \
			${actions[$hook]} || return 1
	done
	# The decapsulated frames must be the VM's too.
	spec "mirror decap-gre vm vm1 dir out plain dk1.pcap min 20"
	spec "mirror decap-erspan2 vm vm1 dir in plain dk6.pcap min 20"
	spec "mirror decap-erspan3 vm vm1 dir in plain dk12.pcap min 20"
}

round_begin kernel dk1 "$NS_COL" dk1 dk6 "$NS_COL" dk6 dk12 "$NS_COL" dk12
t "${#streams[@]} kernel mirror streams: devices and tc mirred" setup
t "traffic: pings both ways, IPv4 and IPv6, no loss" round_traffic 5
teardown() {
	local p
	for p in vnet1 tap2; do
		tc -n "$NS_HV" qdisc del dev "$p" clsact || return 1
	done
}
t "remove the mirrors" teardown
t "captures complete, checker ran" round_end

t "no GRE to the collector outside the known streams" verdict collector.unknown
i=1
for s in "${streams[@]}"; do
	read -r enc fam dir port <<<"$s"
	what="kernel $enc over IPv$fam, $port dir $dir"
	t "$what: every frame once, byte-identical, in order" verdict "k$i@$port.frames"
	t "$what: outer header, GRE, ERSPAN fields" verdict "k$i.headers"
	t "$what: index, D bit" verdict "k$i@$port.headers"
	t "$what: sequence numbers from 0, rising by one" verdict "k$i.seq"
	i=$((i + 1))
done
t "decapsulated by a gretap in col: the frames vm1 sent" verdict decap-gre.frames
t "decapsulated by an erspan (v1) in col: the frames vm1 received" verdict decap-erspan2.frames
t "decapsulated by an ip6erspan (v2) in col: the frames vm1 received" verdict decap-erspan3.frames

# The checker must fail on the same data when the expectations are wrong or
# the captures damaged: vm1's capture with one byte flipped in every frame
# (used for mirror k1 only), the collector's with the D bit of stream k9
# flipped, and a spec with a wrong session id, hwid, TTL, index, first
# sequence number and granularity, and without mirror k4.
neg=$R/neg.spec
negative() {
	python3 - "$R" "$VTAP_TOP/selftests/lib" <<-'EOF' || return 1
	import sys
	sys.path.insert(0, sys.argv[2])
	import vtapcap
	r = sys.argv[1]
	vm = vtapcap.read_pcap(r + "/vm1.pcap")
	for p in vm:
	    p.data = p.data[:-1] + bytes([p.data[-1] ^ 1])
	vtapcap.write_pcap(r + "/vm1-bad.pcap", vm)
	col = vtapcap.read_pcap(r + "/col.pcap")
	for p in col:
	    c = vtapcap.decode(p)
	    if c.erspan and c.erspan["sid"] == 209:
	        off = len(p.data) - len(c.inner) - 1      # low byte of word 2
	        p.data = p.data[:off] + bytes([p.data[off] ^ 0x08]) + p.data[off + 1:]
	vtapcap.write_pcap(r + "/col-bad.pcap", col)
	EOF
	sed -e 's/^collector col.pcap/collector col-bad.pcap/' \
	    -e 's/^\(session k5 .* id\) 205/\1 204/' \
	    -e 's/^\(session k11 .* hwid\) 11/\1 12/' \
	    -e 's/^\(session k2 .* key\) 202/\1 202 ttl 63/' \
	    -e 's/^\(mirror k7@vnet1 .* index\) 11/\1 12/' \
	    -e 's/^\(session k3 .* seq0\) 0/\1 1/' \
	    -e 's/^\(session k10 .* gra\) 100us/\1 100ns/' \
	    -e 's/^\(mirror k1@vnet1 .* vm\) vm1 /\1 vm1bad /' \
	    -e '/^mirror k4@/d' "$SPEC" >"$neg"
	echo "vm vm1bad mac $VM1_MAC pcap vm1-bad.pcap" >>"$neg"
	vtapcap check "$neg" --results "$R/neg.results" >/dev/null 2>&1
	[ $? = 1 ]
}
t "checker on the same captures with wrong expectations: runs, fails" negative
t "checker: a wrong ERSPAN session id fails" failed k5@vnet1.frames "$R/neg.results"
t "checker: ...and the stream shows up as unknown" failed collector.unknown "$R/neg.results"
t "checker: a flipped D bit fails" failed k9@vnet1.headers "$R/neg.results"
t "checker: a wrong hwid fails" failed k11.headers "$R/neg.results"
t "checker: a wrong TTL fails" failed k2.headers "$R/neg.results"
t "checker: a wrong ERSPAN II index fails" failed k7.headers "$R/neg.results"
t "checker: a wrong first sequence number fails" failed k3.seq "$R/neg.results"
t "checker: a wrong granularity fails (timestamps off by 1000x)" failed k10.headers "$R/neg.results"
t "checker: a flipped byte in the VM's capture fails" failed k1@vnet1.frames "$R/neg.results"
t "checker: copies nobody expects fail" failed k4.headers "$R/neg.results"
t "checker: the right expectations still pass on the same data" verdict k6@vnet1.frames "$R/neg.results"

t "tshark decodes every copy with the fields vtapcap reads" \
	vtapcap tshark "$R/col.pcap" --results "$R/tshark.results"
mirror_save mirror_kernel
finish
