# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# check_ko KO KVER BASE SCRATCH: KO was built for KVER, carries module BTF
# on top of BASE (KVER's raw BTF) with the FUNC bpf_vtap_mirror, and its kfunc
# set's BTF id is that FUNC's (resolve_btfids filled it in).  Prints what
# differs; status 0 when all hold.  SCRATCH: a directory for temporary files.
# Source it (selftests/host/dkms.sh, selftests/packages/packages.sh).
check_ko() {
	local ko=$1 kver=$2 base=$3 scratch=$4 id sym
	readelf -SW "$ko" | grep -q ' \.BTF ' || { echo "$ko: no .BTF section"; return 1; }
	modinfo -F vermagic "$ko" | grep -q "^$kver " || { echo "$ko: vermagic is not $kver"; return 1; }
	id=$(bpftool -B "$base" btf dump file "$ko" | sed -n "s/^\[\([0-9]*\)\] FUNC 'bpf_vtap_mirror'.*/\1/p")
	[ -n "$id" ] || { echo "$ko: no FUNC bpf_vtap_mirror in its BTF (base $base)"; return 1; }
	sym=$(readelf -sW "$ko" | awk '$NF == "__BTF_ID__set8__vtap_kfunc_ids" {print $2}')
	[ -n "$sym" ] || { echo "$ko: no kfunc set symbol"; return 1; }
	objcopy --dump-section .BTF_ids="$scratch/btf_ids" "$ko" "$scratch/scratch.o" || return 1
	python3 - "$scratch/btf_ids" "$((16#$sym))" "$id" <<-'PYEOF'
	import struct, sys
	data = open(sys.argv[1], "rb").read()
	off, want = int(sys.argv[2]), int(sys.argv[3])
	cnt, flags, kid, kflags = struct.unpack_from("<IIII", data, off)
	print(f"kfunc set: cnt {cnt}, id {kid}; bpf_vtap_mirror is BTF id {want}")
	sys.exit(0 if cnt == 1 and kid == want else 1)
	PYEOF
}
