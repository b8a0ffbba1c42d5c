# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The hypervisor topology of vtap's end-to-end tests and demo.  Source it
# (bash); it needs nothing else.  Documentation address ranges only.
#
#  ns vm1                          ns hv                               ns col
#  eth0 (veth)                     vnet1 --+
#   192.0.2.1/24  2001:db8:1::1    (veth)  |
#                                          +-- br0 (bridge, no IP)
#  ns vm2                                  |
#  eth0 (tap, tapvm) <== tapvm ==> tap2 ---+
#   192.0.2.2/24  2001:db8:1::2    (tap)
#
#                                  ul0 (veth) 198.51.100.1/24  <-----> ul1 198.51.100.2/24
#                                      2001:db8:100::1/64                  2001:db8:100::2/64
#
# vm1 <-> vm2 traffic crosses the bridge in hv; mirror copies reach the
# collector (col) over the separate underlay ul0 <-> ul1.  vm1 is a
# veth-attached VM (vnet1 is its port); vm2 a tap-attached one: build/tapvm
# holds tap2 in hv and relays it to a tap device that is vm2's eth0.
#
# Quiet by construction, so that captures hold only what a test sends: every
# namespace defaults to addrgenmode none (no link-local addresses, so no
# router solicitations and no DAD), addresses are added with nodad, every
# neighbour entry is permanent (no ARP or ND), the bridge does no multicast
# snooping or STP, and the collector rate-limits the ICMP errors it would
# send for GRE it does not terminate.  MLD reports for the solicited-node
# groups cannot be turned off: they are all sent during setup.  Checks must
# still tolerate a stray frame.
#
#   topo_up           build it (returns non-zero, saying why, on failure)
#   topo_down         remove it (idempotent; also stops tapvm)
#   in_ns NS CMD...   run CMD in namespace NS, keeping /sys (and bpffs pins)
#   in_nsx NS CMD...  the same with /sys remounted for NS (tcpdump, /sys/class/net)
#   cap_start TAG NS DEV FILE   start tcpdump on DEV in NS, writing FILE
#   cap_wait TAG...   wait until those captures listen (start several, then wait)
#   cap_stop TAG...   stop them; fails if the kernel dropped packets
#   dev_stat NS DEV COUNTER     /sys/class/net/DEV/statistics/COUNTER in NS
#   tapvm_start / tapvm_stop    (re)start or stop vm2's NIC (tap2 appears/vanishes)
#
# Variables: NS_VM1 NS_VM2 NS_HV NS_COL (namespace names), VM1_MAC VM2_MAC,
# VM1_IP4 VM2_IP4 VM1_IP6 VM2_IP6, HV_UL4 COL_UL4 HV_UL6 COL_UL6,
# VM1_PORT=vnet1 VM2_PORT=tap2 (the devices in hv).

TOPO_TOP=${VTAP_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TAPVM=${TAPVM:-$TOPO_TOP/build/tapvm}

VM1_MAC=02:00:00:00:01:01
VM2_MAC=02:00:00:00:02:01
UL0_MAC=02:00:00:00:64:01
UL1_MAC=02:00:00:00:64:02
VM1_IP4=192.0.2.1
VM2_IP4=192.0.2.2
VM1_IP6=2001:db8:1::1
VM2_IP6=2001:db8:1::2
HV_UL4=198.51.100.1
COL_UL4=198.51.100.2
HV_UL6=2001:db8:100::1
COL_UL6=2001:db8:100::2
VM1_PORT=vnet1
VM2_PORT=tap2
NS_VM1='' NS_VM2='' NS_HV='' NS_COL=''
TOPO_RUN=''		# scratch directory: tapvm pid file and log, capture logs
declare -A __cap_pid=() __cap_log=()

in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

in_nsx() {
	ip netns exec "$@"
}

dev_stat() {	# NS DEV COUNTER
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"
}

# Namespace defaults, before any device exists in it.
__topo_sysctls() {
	# shellcheck disable=SC2016  # expanded by that sh
	in_ns "$1" sh -c '
		for c in default all; do
			echo 1 >/proc/sys/net/ipv6/conf/$c/addr_gen_mode
			echo 0 >/proc/sys/net/ipv6/conf/$c/accept_dad
			echo 0 >/proc/sys/net/ipv6/conf/$c/router_solicitations
			echo 0 >/proc/sys/net/ipv6/conf/$c/accept_ra
			# MLD reports for the solicited-node groups (sent
			# even without a link-local address): all at once,
			# during setup, not up to seconds later.
			echo 1 >/proc/sys/net/ipv6/conf/$c/mldv1_unsolicited_report_interval
			echo 1 >/proc/sys/net/ipv6/conf/$c/mldv2_unsolicited_report_interval
		done
		echo 100000 >/proc/sys/net/ipv4/icmp_ratelimit
		echo 100000 >/proc/sys/net/ipv6/icmp/ratelimit'
}

tapvm_start() {
	[ -x "$TAPVM" ] || { echo "topology: $TAPVM not built (make)"; return 1; }
	rm -f "$TOPO_RUN/tapvm.pid" "$TOPO_RUN/tapvm.log"
	"$TAPVM" --host-ns "/run/netns/$NS_HV" --host-tap "$VM2_PORT" \
		--vm-ns "/run/netns/$NS_VM2" --vm-dev eth0 --mac "$VM2_MAC" \
		--pidfile "$TOPO_RUN/tapvm.pid" >"$TOPO_RUN/tapvm.log" 2>&1 &
	for _ in $(seq 100); do
		grep -q '^ready$' "$TOPO_RUN/tapvm.log" && return 0
		kill -0 $! 2>/dev/null || break
		sleep 0.05
	done
	echo "topology: tapvm did not start:"
	cat "$TOPO_RUN/tapvm.log"
	return 1
}

tapvm_stop() {
	local pid
	[ -n "$TOPO_RUN" ] && [ -f "$TOPO_RUN/tapvm.pid" ] || return 0
	pid=$(cat "$TOPO_RUN/tapvm.pid")
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	echo "topology: tapvm ($pid) did not stop"
	return 1
}

# vm2's side once tapvm runs: its NIC's addresses and routes, tap2 on the bridge.
__topo_vm2_link() {
	ip -n "$NS_HV" link set "$VM2_PORT" master br0 up &&
	ip -n "$NS_VM2" addr add "$VM2_IP4/24" dev eth0 &&
	ip -n "$NS_VM2" addr add "$VM2_IP6/64" dev eth0 nodad &&
	ip -n "$NS_VM2" link set eth0 up &&
	ip -n "$NS_VM2" neigh replace "$VM1_IP4" lladdr "$VM1_MAC" dev eth0 nud permanent &&
	ip -n "$NS_VM2" neigh replace "$VM1_IP6" lladdr "$VM1_MAC" dev eth0 nud permanent
}

topo_up() {
	local n tag
	TOPO_RUN=$(mktemp -d "${TMPDIR:-/tmp}/vtap-topo.XXXXXX") || return 1
	for tag in vm1 vm2 hv col; do
		n="vt-$tag-$$"
		ip netns add "$n" || return 1
		case $tag in
		vm1) NS_VM1=$n ;; vm2) NS_VM2=$n ;; hv) NS_HV=$n ;; col) NS_COL=$n ;;
		esac
		__topo_sysctls "$n" || return 1
		ip -n "$n" link set lo up || return 1
	done

	# vm1: a veth VM.  hv: the bridge and the underlay.
	ip link add eth0 netns "$NS_VM1" address "$VM1_MAC" type veth \
		peer name "$VM1_PORT" netns "$NS_HV" || return 1
	ip -n "$NS_HV" link add br0 type bridge stp_state 0 mcast_snooping 0 || return 1
	ip -n "$NS_HV" link set "$VM1_PORT" master br0 up || return 1
	ip -n "$NS_HV" link set br0 up || return 1
	ip -n "$NS_VM1" addr add "$VM1_IP4/24" dev eth0 || return 1
	ip -n "$NS_VM1" addr add "$VM1_IP6/64" dev eth0 nodad || return 1
	ip -n "$NS_VM1" link set eth0 up || return 1
	ip -n "$NS_VM1" neigh replace "$VM2_IP4" lladdr "$VM2_MAC" dev eth0 nud permanent || return 1
	ip -n "$NS_VM1" neigh replace "$VM2_IP6" lladdr "$VM2_MAC" dev eth0 nud permanent || return 1

	ip link add ul0 netns "$NS_HV" address "$UL0_MAC" type veth \
		peer name ul1 netns "$NS_COL" address "$UL1_MAC" || return 1
	ip -n "$NS_HV" addr add "$HV_UL4/24" dev ul0 || return 1
	ip -n "$NS_HV" addr add "$HV_UL6/64" dev ul0 nodad || return 1
	ip -n "$NS_COL" addr add "$COL_UL4/24" dev ul1 || return 1
	ip -n "$NS_COL" addr add "$COL_UL6/64" dev ul1 nodad || return 1
	# A copy leaves its inner checksum to an underlay device that can
	# complete it, as the VM's frame did (CHECKSUM_PARTIAL).  A NIC
	# completes it on the wire; a veth hands it on unfinished, and this
	# collector is a namespace that compares bytes.  With ul0's transmit
	# checksumming off, the kernel completes it on ul0 (validate_xmit_skb),
	# where a NIC would.  broker.sh also tests it on.
	ip netns exec "$NS_HV" ethtool -K ul0 tx off >/dev/null || return 1
	ip -n "$NS_HV" link set ul0 up || return 1
	ip -n "$NS_COL" link set ul1 up || return 1
	ip -n "$NS_HV" neigh replace "$COL_UL4" lladdr "$UL1_MAC" dev ul0 nud permanent || return 1
	ip -n "$NS_HV" neigh replace "$COL_UL6" lladdr "$UL1_MAC" dev ul0 nud permanent || return 1
	ip -n "$NS_COL" neigh replace "$HV_UL4" lladdr "$UL0_MAC" dev ul1 nud permanent || return 1
	ip -n "$NS_COL" neigh replace "$HV_UL6" lladdr "$UL0_MAC" dev ul1 nud permanent || return 1

	# vm2: a tap VM.
	tapvm_start || return 1
	__topo_vm2_link || return 1

	# Both VMs reach each other, the hypervisor reaches the collector.
	if ! in_nsx "$NS_VM1" ping -c 1 -W 5 -q "$VM2_IP4" >/dev/null ||
	   ! in_nsx "$NS_VM1" ping -c 1 -W 5 -q "$VM2_IP6" >/dev/null; then
		echo "topology: vm1 cannot reach vm2"
		return 1
	fi
	if ! in_nsx "$NS_HV" ping -c 1 -W 5 -q "$COL_UL4" >/dev/null ||
	   ! in_nsx "$NS_HV" ping -c 1 -W 5 -q "$COL_UL6" >/dev/null; then
		echo "topology: hv cannot reach the collector"
		return 1
	fi
}

# Restart vm2's NIC after tapvm_stop (its tap devices are gone with it).
topo_vm2_restart() {
	tapvm_start && __topo_vm2_link
}

topo_down() {
	local tag n
	for tag in "${!__cap_pid[@]}"; do
		kill -TERM "${__cap_pid[$tag]}" 2>/dev/null
		wait "${__cap_pid[$tag]}" 2>/dev/null
	done
	__cap_pid=()
	tapvm_stop >/dev/null
	for n in "$NS_VM1" "$NS_VM2" "$NS_HV" "$NS_COL"; do
		[ -n "$n" ] && ip netns del "$n" 2>/dev/null
	done
	NS_VM1='' NS_VM2='' NS_HV='' NS_COL=''
	[ -n "$TOPO_RUN" ] && rm -rf "$TOPO_RUN"
	TOPO_RUN=''
	return 0
}

# cap_start TAG NS DEV FILE: capture everything on DEV (not promiscuous,
# nanosecond timestamps).  Call cap_wait before relying on it.
cap_start() {
	local tag=$1 ns=$2 dev=$3 file=$4 log
	log=$TOPO_RUN/cap-$tag.log
	rm -f "$file"
	# Empty before the start: cap_wait must not find the previous capture's
	# "listening on" in it (the redirection below runs in the child, later).
	: >"$log"
	# Not through a function: $! must be tcpdump itself.
	# --immediate-mode: a packet still in the ring when tcpdump stops is lost.
	# It makes libpcap use TPACKET_V2, whose ring has fixed slots as large
	# as the largest frame: 64 KiB on a device with offloads (a veth), so
	# 8 MiB held 127 frames, and a burst of 245 while tcpdump waited for a
	# CPU (CI runs two VMs on two CPUs) lost 2.  32 MiB: about 500 slots.
	ip netns exec "$ns" tcpdump -i "$dev" -p -n -U -s 0 -B 32768 -Z root \
		--immediate-mode --time-stamp-precision=nano -w "$file" >"$log" 2>&1 &
	__cap_pid[$tag]=$!
	__cap_log[$tag]=$log
}

# The polling below uses bash builtins only: a process costs about half a
# second in the debug kernel's VM, and these loops run for every capture.
# __nap [SECONDS]: sleep (default 0.05 s) without a process (lib.sh has the
# same; this one for scripts that source only this file).
if ! declare -F __nap >/dev/null; then
	__nap() {
		if [ -z "${__nap_fd:-}" ]; then
			local f=$TOPO_RUN/nap
			{ [ -n "$TOPO_RUN" ] && { [ -p "$f" ] || mkfifo "$f"; } &&
			  exec {__nap_fd}<>"$f"; } 2>/dev/null || { sleep "${1:-0.05}"; return 0; }
		fi
		read -r -t "${1:-0.05}" -u "$__nap_fd" _
		return 0
	}
fi

# __has FILE STRING: FILE has a line containing STRING (grep -qF, built in).
__has() {
	local l
	while IFS= read -r l; do
		[[ $l == *"$2"* ]] && return 0
	done <"$1"
	return 1
}

# cap_wait TAG...: wait until each capture listens.
cap_wait() {
	local tag i
	for tag in "$@"; do
		for ((i = 0; i < 200; i++)); do
			__has "${__cap_log[$tag]}" 'listening on' 2>/dev/null && continue 2
			kill -0 "${__cap_pid[$tag]}" 2>/dev/null || break
			__nap
		done
		echo "capture $tag did not start:"
		cat "${__cap_log[$tag]}"
		return 1
	done
}

# __cap_counts LOG: sets got, seen and dropped from tcpdump's last report
# in LOG ("N packets captured", "N packets received by filter", "N packets
# dropped by kernel"; empty when absent).
__cap_counts() {
	local l
	got='' seen='' dropped=''
	while IFS= read -r l; do
		case $l in
		[0-9]*" packet captured"|[0-9]*" packets captured") got=${l%% *} ;;
		[0-9]*" packet received by filter"|[0-9]*" packets received by filter") seen=${l%% *} ;;
		[0-9]*" packet dropped by kernel"|[0-9]*" packets dropped by kernel") dropped=${l%% *} ;;
		esac
	done <"$1"
}

# tcpdump exits on SIGTERM without reading what is still in its ring: first
# ask it (SIGUSR1) until it has written every packet its filter took.
__cap_drain() {
	local pid=${__cap_pid[$1]} log=${__cap_log[$1]} l line got seen i
	for ((i = 0; i < 60; i++)); do
		kill -USR1 "$pid" 2>/dev/null || return 1
		__nap
		line=''
		while IFS= read -r l; do
			[[ $l == *'captured, '*' received by filter'* ]] && line=$l
		done <"$log"
		got=${line#*: } got=${got%% *}
		seen=${line#*captured, } seen=${seen%% *}
		[ -n "$got" ] && [ "$got" = "$seen" ] && return 0
	done
	return 1
}

# Every packet the filter took must be in the file, none dropped.
cap_stop() {
	local tag rc=0 log got seen dropped
	for tag in "$@"; do
		[ -n "${__cap_pid[$tag]:-}" ] || continue
		__cap_drain "$tag"
		kill -TERM "${__cap_pid[$tag]}" 2>/dev/null
		wait "${__cap_pid[$tag]}" 2>/dev/null
		unset "__cap_pid[$tag]"
		log=${__cap_log[$tag]}
		__cap_counts "$log"
		if [ -z "$got" ] || [ "$got" != "$seen" ] || [ "$dropped" != 0 ]; then
			echo "capture $tag lost packets:"
			cat "$log"
			rc=1
		fi
	done
	return $rc
}
