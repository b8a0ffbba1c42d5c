#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The kernel code meets the kernel's bar: checkpatch --strict clean, sparse
# clean, and the module builds without a single compiler warning and with
# module BTF (so its kfunc can be called).
. "$(dirname "$0")/../lib.sh"
cd "$VTAP_TOP" || exit 1

t "checkpatch --strict" make -s style
t "sparse (C=2)" make -s sparse
build_clean() {
	local log
	log=$(touch kmod/*.c && make module 2>&1) || { echo "$log"; return 1; }
	echo "$log"
	! grep -iE 'warning|error|Skipping BTF' <<<"$log" && grep -q 'BTF \[M\]' <<<"$log"
}
t "module builds without warnings, with BTF" build_clean
t "vtap.ko has .BTF and a filled-in .BTF_ids" sh -c \
	"readelf -S kmod/vtap.ko | grep -q ' .BTF ' && objcopy -O binary --only-section=.BTF_ids kmod/vtap.ko /dev/stdout | od -An -tx4 | grep -qv '^ *00000000 00000000 00000000 00000000 *\$'"
finish
