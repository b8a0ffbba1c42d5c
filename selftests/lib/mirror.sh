# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034  # variables for the tests that source this
# Capture rounds for vtap's end-to-end mirror tests.  Source after lib.sh
# (it uses t/skip and VTAPCTL); it sources topology.sh.
#
# A round: the collector's capture starts (and captures of decapsulating
# devices, if any), the test creates its mirrors and writes what it expects
# into the round's spec file, the VMs' own captures run while pings go both
# ways between vm1 and vm2 over IPv4 and IPv6, the test removes its mirrors,
# the captures stop and selftests/lib/vtapcap.py compares the collector's
# copies with what the VMs sent and received.  Each check's verdict is then
# one `t NAME verdict KEY` line in the test.
#
#   round_begin NAME [TAG NS DEV]...  start the collector capture (ul1 in
#                     col), plus the extra captures given; sets R (the
#                     round's directory) and SPEC
#   round_capture TAG NS DEV   one more capture for the round, started now
#   round_dir NAME    a directory and spec without captures
#   spec LINE...      append a line to the round's spec (see vtapcap.py)
#   round_traffic [N [CMD...]]  the VMs' own captures around CMD (default:
#                     pings N each way between vm1 and vm2, v4 and v6)
#   round_end         stop the captures, run the checker
#   verdict KEY [RESULTS]   the check's outcome in the round's results
#                     (or RESULTS): status 0 if it passed, else the checker's
#                     explanation; failed KEY [RESULTS]: it ran and failed
#   mirror_save DIR   copy the rounds' captures and specs to $VTAP_OUT/DIR
#
# vtap's own mirrors, through vtapctl in hv (each also described in the spec):
#   vtap_ports_add PORT...           vnet1 (vm1, id 11) / tap2 (vm2, id 12)
#   vtap_session NAME ENCAP FAM [OPTS]   to the collector over IPv4/IPv6;
#                     SID and SESSION_ID[NAME] = its id (ERSPAN) or key (GRE)
#   vtap_flow SESSION PORT DIR [index]   a flow; "index": check the ERSPAN index
#   vtap_set ENCAP FAM DIR [OPTS]    the sessions and flows for both ports
#   vtap_round_clear PORT...         port del (mirroring stops), save counters
#   round_verdicts NAME              a check per session and mirror of the spec
#   round_end_checks NAME            port del vnet1 tap2, checker, ports again,
#                     the verdicts
#
. "$(dirname "${BASH_SOURCE[0]}")/topology.sh"

VTAPCAP=$(dirname "${BASH_SOURCE[0]}")/vtapcap.py
MIRROR_WORK=$(mktemp -d "${TMPDIR:-/tmp}/vtap-mirror.XXXXXX")
R='' SPEC=''
ROUND_LAG=${ROUND_LAG:-0.5}	# s: see "lag" in vtapcap.py
declare -A PORT_ID=([vnet1]=11 [tap2]=12)
declare -A PORT_VM=([vnet1]=vm1 [tap2]=vm2)
declare -A PORT_UUID=([vnet1]=6f1c2a3e-0000-4000-8000-000000000001
		      [tap2]=6f1c2a3e-0000-4000-8000-000000000002)
__round_caps=()

vtapcap() {
	python3 "$VTAPCAP" "$@"
}

now() {
	date +%s.%N
}

spec() {
	echo "$*" >>"$SPEC"
}

# round_dir NAME: a fresh directory and spec for what follows (round_begin
# does this too).
round_dir() {
	R=$MIRROR_WORK/$1
	SPEC=$R/spec
	mkdir -p "$R"
	: >"$SPEC"
}

round_begin() {
	round_dir "$1"
	shift
	__round_caps=(col)
	cap_start col "$NS_COL" ul1 "$R/col.pcap"
	spec "collector col.pcap"
	while [ $# -ge 3 ]; do
		cap_start "$1" "$2" "$3" "$R/$1.pcap"
		__round_caps+=("$1")
		shift 3
	done
	cap_wait "${__round_caps[@]}"
}

round_capture() {
	cap_start "$1" "$2" "$3" "$R/$1.pcap" &&
	__round_caps+=("$1") &&
	cap_wait "$1"
}

# Pings both ways, IPv4 and IPv6, one after the other (so that frames and
# their copies keep one order).  Fails if any was lost.
pings() {
	local n=${1:-5} rc=0
	in_nsx "$NS_VM1" ping -q -c "$n" -i 0.05 -W 2 "$VM2_IP4" >>"$R/traffic.log" 2>&1 || rc=1
	in_nsx "$NS_VM1" ping -q -c "$n" -i 0.05 -W 2 "$VM2_IP6" >>"$R/traffic.log" 2>&1 || rc=1
	in_nsx "$NS_VM2" ping -q -c "$n" -i 0.05 -W 2 "$VM1_IP4" >>"$R/traffic.log" 2>&1 || rc=1
	in_nsx "$NS_VM2" ping -q -c "$n" -i 0.05 -W 2 "$VM1_IP6" >>"$R/traffic.log" 2>&1 || rc=1
	return $rc
}

# round_traffic [N [CMD...]]: run CMD (default: pings N) while the VMs' own
# captures run, with ROUND_LAG of quiet on both sides.
round_traffic() {
	local n=${1:-5} rc=0 t0 t1
	shift
	cap_start vm1 "$NS_VM1" eth0 "$R/vm1.pcap"
	cap_start vm2 "$NS_VM2" eth0 "$R/vm2.pcap"
	cap_wait vm1 vm2 || return 1
	t0=$(now)
	sleep "$ROUND_LAG"
	if [ $# -gt 0 ]; then
		"$@" || rc=1
	else
		pings "$n" || rc=1
	fi
	sleep "$ROUND_LAG"
	t1=$(now)
	cap_stop vm1 vm2 >>"$R/traffic.log" || rc=1
	spec "window $t0 $t1"
	spec "lag $ROUND_LAG"
	spec "vm vm1 mac $VM1_MAC pcap vm1.pcap"
	spec "vm vm2 mac $VM2_MAC pcap vm2.pcap"
	echo $rc >"$R/traffic.rc"
	return $rc
}

round_end() {
	local rc=0
	sleep 0.2	# the last copies in flight
	cap_stop "${__round_caps[@]}" >>"$R/traffic.log" || rc=1
	__vfile=''
	vtapcap check "$SPEC" --results "$R/results" >"$R/check.log" 2>&1
	[ $? -le 1 ] || { cat "$R/check.log"; rc=1; }	# 2: a bad spec
	return $rc
}

# verdict KEY [RESULTS]: 0 if the check passed; else print why.  Pure bash
# (a results file is read once; round_end forgets it): a round has a
# hundred of these, and every fork counts in the guest.
declare -A __vres=() __vdet=()
__vfile=''
__load_results() {
	local line key=''
	__vres=() __vdet=()
	while IFS= read -r line; do
		case $line in
		"ok "*) key=${line#ok }; __vres[$key]=ok ;;
		"not ok "*) key=${line#not ok }; __vres[$key]=fail ;;
		*) [ -n "$key" ] && __vdet[$key]+="$line"$'\n' ;;
		esac
	done <"$1"
	__vfile=$1
}

verdict() {
	local key=$1 file=${2:-$R/results}
	[ -f "$file" ] || { echo "no results ($file)"; return 1; }
	[ "$__vfile" = "$file" ] || __load_results "$file"
	case ${__vres[$key]:-} in
	ok) return 0 ;;
	fail) printf '%s' "${__vdet[$key]:-}"; return 1 ;;
	*) echo "no result for $key in $file"; return 1 ;;
	esac
}

# failed KEY [RESULTS]: the check ran and failed (for checks of the checker).
failed() {
	local out
	if out=$(verdict "$@"); then
		echo "$1 passed, should have failed"
		return 1
	fi
	case $out in "no result"*) echo "$out"; return 1 ;; esac
	return 0
}

mirror_save() {
	[ -n "${VTAP_OUT:-}" ] && [ -d "$VTAP_OUT" ] || return 0
	mkdir -p "$VTAP_OUT/$1"
	cp -r "$MIRROR_WORK"/. "$VTAP_OUT/$1/"
}

mirror_cleanup() {
	topo_down
	rm -rf "$MIRROR_WORK"
}

# --- vtap's own mirrors (vtapctl in hv) ------------------------------------------

vctl() {
	if [ -n "${VCTL_BATCH:-}" ]; then
		printf '%q ' "$@" >>"$VCTL_BATCH" && echo >>"$VCTL_BATCH"
		return
	fi
	"$VTAPCTL" -n "$NS_HV" "$@"
}

# vctl_batch CMD...: CMD with every vctl it makes queued, then all of them
# in one vtapctl process (-b: one netlink socket; the first command that
# fails stops the batch and vtapctl says which line).  One process instead
# of one per command: about a second each on the debug kernel.
vctl_batch() {
	local rc=0
	VCTL_BATCH=$MIRROR_WORK/batch
	: >"$VCTL_BATCH"
	"$@" || rc=1
	VCTL_BATCH=''
	[ $rc = 0 ] && "$VTAPCTL" -n "$NS_HV" -b "$MIRROR_WORK/batch"
}

NEXT_ID=100
declare -A SESSION_ID=()

ul_src() { [ "$1" = 4 ] && echo "$HV_UL4" || echo "$HV_UL6"; }
ul_dst() { [ "$1" = 4 ] && echo "$COL_UL4" || echo "$COL_UL6"; }

# vtap_session NAME ENCAP FAM [vtapctl options...]: add a session from hv to
# the collector and describe it in the spec (sequence from 0, counters exact).
# Sets SID (the session or GRE key number).
vtap_session() {
	local name=$1 enc=$2 fam=$3 extra=()
	shift 3
	SID=$NEXT_ID
	NEXT_ID=$((NEXT_ID + 1))
	case $enc in
	gre) extra=(key "$SID") ;;
	*) extra=(id "$SID") ;;
	esac
	vctl session add "$name" encap "$enc" remote "$(ul_dst "$fam")" \
		local "$(ul_src "$fam")" "${extra[@]}" "$@" || return 1
	SESSION_ID[$name]=$SID
	# The spec's word for vtapctl's dstport is dport.
	spec "session $name encap $enc src $(ul_src "$fam") dst $(ul_dst "$fam")" \
		"${extra[@]}" "${@/#dstport/dport}" "seq0 0 complete yes"
}

# vtap_flow SESSION PORT DIR [index]: a flow, and the mirror it makes.
vtap_flow() {
	local s=$1 port=$2 dir=$3 idx=${4:-}
	vctl flow add session "$s" port "$port" dir "$dir" || return 1
	spec "mirror $s@$port session $s vm ${PORT_VM[$port]} dir $dir" \
		${idx:+index ${PORT_ID[$port]}} "min ${MIRROR_MIN:-20}"
}

# With VTAP_PORT_XDP=on, each port has vtap's XDP program too (mirror_xdp.sh).
vtap_ports_add() {
	local p
	for p in "$@"; do
		vctl port add "$p" vm "${PORT_UUID[$p]}" id "${PORT_ID[$p]}" \
			${VTAP_PORT_XDP:+xdp "$VTAP_PORT_XDP"} || return 1
	done
}

# End of a round with vtap mirrors: stop mirroring (the ports and their
# flows deleted), then take the counters: nothing is sent after this.  The
# sessions stay (unused); every session has its own id and key.
vtap_round_clear() {
	local p rc=0
	for p in "$@"; do
		vctl port del "$p" || rc=1
	done
	vctl -j session show >"$R/stats.json" || rc=1
	spec "stats stats.json"
	return $rc
}

# The set of sessions that cover one encapsulation, underlay family and
# direction on both ports: GRE and ERSPAN III copies carry no port, so they
# get a session per port; one ERSPAN II session serves both (index = port id).
vtap_set() {
	local enc=$1 fam=$2 dir=$3 p name
	shift 3
	case $enc in
	erspan2)
		name=e2-$fam-$dir
		vtap_session "$name" erspan2 "$fam" || return 1
		for p in vnet1 tap2; do
			vtap_flow "$name" "$p" "$dir" index || return 1
		done
		;;
	*)
		# ERSPAN III with a platform sub-header carries the port's index.
		local idx=
		[[ " $* " == *" subheader "[37]" "* ]] && idx=index
		for p in vnet1 tap2; do
			name=${enc/erspan3/e3}-$fam-$dir-$p
			vtap_session "$name" "$enc" "$fam" "$@" || return 1
			vtap_flow "$name" "$p" "$dir" $idx || return 1
		done
		;;
	esac
}

# One check per session and per mirror (port and session) of the round.
round_verdicts() {
	local kind name rest
	local -A vxlan=()
	t "$1: no GRE or VXLAN to the collector outside the sessions" verdict collector.unknown
	t "$1: no copy of a copy" verdict collector.nested
	while read -r kind name rest; do
		case $kind in
		session)
			case $rest in
			*"encap vxlan"*)	# no sequence, no port index or direction
				vxlan[$name]=1
				t "$1: $name: outer IP, UDP ports and checksum, VXLAN flags and VNI, one source port per flow" \
					verdict "$name.headers"
				;;
			*)
				t "$1: $name: outer IP, GRE key/flags, ERSPAN fields" verdict "$name.headers"
				t "$1: $name: sequence numbers from 0, rising by one" verdict "$name.seq"
				;;
			esac
			case $rest in *complete*)
				t "$1: $name: counters: sent = arrived, no drops" verdict "$name.counters"
			esac
			;;
		mirror)
			t "$1: $name: every frame once, byte-identical, in order" verdict "$name.frames"
			case $rest in *session*)
				[ -n "${vxlan[${name%@*}]:-}" ] ||
				t "$1: $name: index (port id), D bit" verdict "$name.headers"
			esac
			;;
		esac
	done <"$SPEC"
}

round_end_checks() {
	t "$1: stop (port del), save counters" vtap_round_clear vnet1 tap2
	t "$1: captures complete, checker ran" round_end
	t "$1: ports again" vtap_ports_add vnet1 tap2
	round_verdicts "$1"
}
