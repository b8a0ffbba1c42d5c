#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# DKMS builds vtap.ko with module BTF for an installed kernel that is not the
# running one (the BTF base extracted from /boot/vmlinuz-KVER), with the
# kfunc's BTF id filled in; for the running kernel the base is
# /sys/kernel/btf/vmlinux (simulated with VTAP_RUNNING_KVER and
# VTAP_SYSFS_BTF: this host runs another kernel); it refuses to build a
# module without BTF.  Everything goes to a scratch tree (--dkmstree, --sourcetree,
# --installtree, a scratch signing key): /var/lib/dkms and /lib/modules are
# not touched.  resolve_btfids, built once from linux-source, is cached in
# build/dkms-cache.
. "$(dirname "$0")/../lib.sh"
cd "$VTAP_TOP" || exit 1

KVER=${KVER:-$(tools/kbuild/kver 2>/dev/null)}
if ! command -v dkms >/dev/null || [ -z "$KVER" ] || [ ! -d "/lib/modules/$KVER/build" ]; then
	skip "dkms" "dkms or the headers of a 6.1 kernel are not installed"
	finish
fi
VERSION=$(sed -n 's/^#define VTAP_VERSION "\(.*\)"/\1/p' include/vtap_version.h)
# selftests/packages/packages.sh installs vtap-dkms for real: not while this
# test checks that the real DKMS tree and /lib/modules stay untouched.
exec 9>"$VTAP_DKMS_LOCK"
flock -w 900 9 || echo "# $VTAP_DKMS_LOCK still held after 900 s: going on"
S=$VTAP_TOP/build/selftests/dkms
rm -rf "$S"
mkdir -p "$S/dkms" "$S/root/lib/modules/$KVER"
trap 'rm -rf "$S"' EXIT
export VTAP_CACHE=$VTAP_TOP/build/dkms-cache
# dkms signs with these (it makes them if missing) instead of /var/lib/dkms/mok.*
export mok_signing_key=$S/mok.key mok_certificate=$S/mok.pub
dk() {
	dkms --dkmstree "$S/dkms" --sourcetree "$S/root/usr/src" \
		--installtree "$S/root/lib/modules" "$@"
}
MV=vtap/$VERSION
BUILT=$S/dkms/vtap/$VERSION/$KVER/$(uname -m)
# (not "..": its link count and time change with whatever else is installed meanwhile)
real_before=$(ls -la /var/lib/dkms 2>&1 | grep -v " \.\.$")

# The base the module's BTF refers to, for the checks: the raw BTF of KVER
# (from the private kbuild dir that `make` prepared).
BASE=$(tools/kbuild/prepare "$KVER" 2>/dev/null)/vmlinux.btf

. "$VTAP_TOP/selftests/lib/kocheck.sh"

t "make dkms-install into the scratch tree" make -s dkms-install DESTDIR="$S/root"
t "dkms add" dk add "$MV"

# A kernel that is not the running one: the base comes from /boot/vmlinuz-KVER.
start=$(date +%s)
t "dkms build -k $KVER (not the running kernel)" dk build "$MV" -k "$KVER"
echo "# dkms build: $(($(date +%s) - start)) s"
t "build log: BTF base from /boot/vmlinuz-$KVER" grep -q "BTF base: /boot/vmlinuz-$KVER" "$BUILT/log/make.log"
t "build log: kbuild generated the module's BTF" grep -q 'BTF \[M\]' "$BUILT/log/make.log"
t "built module: BTF, vermagic, kfunc id set" check_ko "$BUILT/module/vtap.ko" "$KVER" "$BASE" "$S"

# The running kernel: the base is /sys/kernel/btf/vmlinux, the same bytes as
# the one from /boot/vmlinuz, so the same module BTF (dkms-make --base only
# picks the base; the build above showed that kbuild takes such a raw base).
DM=$S/root/usr/src/vtap-$VERSION/tools/kbuild/dkms-make
KDIR=/lib/modules/$KVER/build
t "dkms-make --base: /boot/vmlinuz-$KVER when KVER is not running" sh -c \
	"VTAP_RUNNING_KVER=0.0.0-other '$DM' --base $KVER $KDIR '$S/base.image' | grep -q 'BTF base: /boot/vmlinuz-$KVER\$'"
t "dkms-make --base: sysfs when KVER is the running kernel" sh -c \
	"VTAP_RUNNING_KVER=$KVER VTAP_SYSFS_BTF='$BASE' '$DM' --base $KVER $KDIR '$S/base.sysfs' | grep -q 'BTF base: $BASE (running kernel)\$'"
t "dkms-make --base: the running kernel's sysfs BTF, really" sh -c \
	"[ \$(uname -r) = $KVER ] || [ ! -r /sys/kernel/btf/vmlinux ] || ! '$DM' --base \$(uname -r) $KDIR '$S/base.run' | grep -q sysfs"
t "the same base either way (and the one the checks use)" sh -c \
	"cmp '$S/base.image' '$S/base.sysfs' && cmp '$S/base.image' '$BASE'"
tfail "dkms-make --base: no base for an unknown kernel" env VTAP_RUNNING_KVER=0.0.0-other \
	"$DM" --base 6.1.0-0-nosuch $KDIR "$S/base.none"

t "dkms install --no-depmod" dk install "$MV" -k "$KVER" --no-depmod
t "installed into the scratch modules tree" check_ko "$S/root/lib/modules/$KVER/updates/dkms/vtap.ko" "$KVER" "$BASE" "$S"
t "dkms status: installed" sh -c "dkms --dkmstree '$S/dkms' status | grep -q '^vtap/$VERSION, $KVER, .*: installed'"

t "dkms remove --all" dk remove "$MV" --all --no-depmod
t "removed from the scratch modules tree" test ! -e "$S/root/lib/modules/$KVER/updates/dkms/vtap.ko"
# No usable BTF base: the build fails instead of making a module without BTF
# (in a tree of its own: a failed build leaves dkms's state half-done).
echo "not BTF" >"$S/notbtf"
mkdir -p "$S/dkms-bad"
t "dkms add (second tree)" dkms --dkmstree "$S/dkms-bad" --sourcetree "$S/root/usr/src" add "$MV"
tfail "dkms build with an unusable BTF base fails" env VTAP_BTF_BASE="$S/notbtf" \
	dkms --dkmstree "$S/dkms-bad" --sourcetree "$S/root/usr/src" \
	--installtree "$S/root/lib/modules" build "$MV" -k "$KVER"
t "dkms-make says why" grep -rq 'neither an ELF vmlinux nor raw BTF' "$S/dkms-bad/vtap/$VERSION/build/make.log"
t "no module built" sh -c "! find '$S/dkms-bad' -name 'vtap.ko*' | grep ."
t "the real /var/lib/dkms is untouched" expect_eq "/var/lib/dkms" "$(ls -la /var/lib/dkms 2>&1 | grep -v " \.\.$")" "$real_before"
t "no vtap.ko in the real /lib/modules/$KVER" sh -c "! find /lib/modules/$KVER -name 'vtap.ko*' | grep ."
finish
