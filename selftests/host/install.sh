#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make install / uninstall / dkms-install into scratch DESTDIRs: exactly the
# expected files, with the right modes, working; uninstall leaves nothing.
. "$(dirname "$0")/../lib.sh"
cd "$VTAP_TOP" || exit 1

SCRATCH=$VTAP_TOP/build/selftests/install
rm -rf "$SCRATCH"
mkdir -p "$SCRATCH"
trap 'rm -rf "$SCRATCH"' EXIT
VERSION=$(sed -n 's/^#define VTAP_VERSION "\(.*\)"/\1/p' include/vtap_version.h)
# One version: include/vtap_version.h's; dkms.conf (below) and debian/changelog
# (make deb refuses another) repeat it.
if command -v dpkg-parsechangelog >/dev/null; then
	t "debian/changelog's version is vtap's version ($VERSION)" expect_eq "debian/changelog" \
		"$(dpkg-parsechangelog -l debian/changelog -S Version 2>&1)" "$VERSION"
else
	skip "debian/changelog's version is vtap's version" "dpkg-parsechangelog (dpkg-dev) is not installed"
fi
KO=$VTAP_TOP/kmod/vtap.ko
if [ ! -f "$KO" ] || [ ! -x "$VTAPCTL" ]; then
	skip "make install" "kmod/vtap.ko or build/vtapctl not built (run make)"
	finish
fi
KVER=$(modinfo -F vermagic "$KO" | cut -d' ' -f1)

files() { (cd "$1" && find . -type f -o -type l | sed 's|^\./||' | sort); }
docs() {	# PREFIX: where the documentation goes
	local f
	for f in README.md Documentation/*.md Documentation/netlink/specs/vtap.yaml; do
		echo "$1/share/doc/vtap/${f##*/}"
	done
}
want_files() {	# PREFIX (without the leading /)
	{
		echo "lib/modules/$KVER/extra/vtap.ko"
		echo "$1/sbin/vtapctl"
		echo "$1/share/man/man8/vtapctl.8"
		echo "$1/share/man/man7/vtap.7"
		echo "$1/share/man/man5/vtap.conf.5"
		echo "$1/share/bash-completion/completions/vtapctl"
		echo "$1/lib/systemd/system/vtap.service"
		echo "$1/lib/systemd/system/vtap-collect@.service"
		docs "$1"
	} | sort
}
same_list() {	# GOT WANT
	[ "$1" = "$2" ] && return 0
	diff <(echo "$2") <(echo "$1") | sed 's/^/  /'
	echo "(< expected, > installed)"
	return 1
}

# PREFIX=/usr, as a distribution package would.
D=$SCRATCH/pkg
t "make install DESTDIR PREFIX=/usr" sh -c "make -s install DESTDIR='$D' PREFIX=/usr >'$SCRATCH/log' 2>&1"
t "install: exactly the expected files" same_list "$(files "$D")" "$(want_files usr)"
t "install: with DESTDIR, depmod is left to the package" grep -q 'not running depmod' "$SCRATCH/log"
t "install: vtap.ko is the built module" cmp "$KO" "$D/lib/modules/$KVER/extra/vtap.ko"
t "install: the module goes to the kernel it was built for" \
	sh -c "modinfo -F vermagic '$D/lib/modules/$KVER/extra/vtap.ko' | grep -q '^$KVER '"
t "install: modes (755 vtapctl, 644 the rest)" sh -c \
	"[ \$(stat -c %a '$D/usr/sbin/vtapctl') = 755 ] &&
	 ! find '$D' -type f ! -path '*/sbin/vtapctl' ! -perm 644 | grep ."
t "install: the installed vtapctl runs (BPF programs inside it)" sh -c \
	"'$D/usr/sbin/vtapctl' version | grep -qx 'vtapctl $VERSION' &&
	 grep -q vtap_tc_ingress '$D/usr/sbin/vtapctl'"
if command -v man >/dev/null; then
	t "install: man vtapctl from the installed tree" sh -c \
		"MANPATH='$D/usr/share/man' MANWIDTH=80 man 8 vtapctl 2>/dev/null | grep -q 'session add'"
	t "install: man 7 vtap from the installed tree" sh -c \
		"MANPATH='$D/usr/share/man' MANWIDTH=80 man 7 vtap 2>/dev/null | grep -q vtapctl"
	t "install: man 5 vtap.conf from the installed tree" sh -c \
		"MANPATH='$D/usr/share/man' MANWIDTH=80 man 5 vtap.conf 2>/dev/null | grep -Eq 'vtapctl +apply'"
else
	skip "install: man pages from the installed tree" "man is not installed"
fi
t "install: vtap.service runs the installed vtapctl daemon" grep -qx \
	'ExecStart=/usr/sbin/vtapctl daemon config /etc/vtap/vtap.conf' "$D/usr/lib/systemd/system/vtap.service"
t "install: vtap-collect@.service runs the installed vtapctl collect" grep -qx \
	'ExecStart=/usr/sbin/vtapctl collect $ARGS' "$D/usr/lib/systemd/system/vtap-collect@.service"
if command -v systemd-analyze >/dev/null; then
	for u in vtap.service vtap-collect@.service; do
		t "install: systemd-analyze verify $u" sh -c \
			"systemd-analyze verify --man=no '$D/usr/lib/systemd/system/$u' 2>&1 | tee /dev/stderr | grep -v 'vtapctl.*No such file\|Command .* is not executable\|modprobe' | grep -q . && exit 1; exit 0"
	done
fi
t "install: completion loads from its installed place" bash --norc --noprofile -c \
	". '$D/usr/share/bash-completion/completions/vtapctl' && complete -p vtapctl"
t "make uninstall DESTDIR PREFIX=/usr" make -s uninstall DESTDIR="$D" PREFIX=/usr
t "uninstall: no file left" same_list "$(files "$D")" ""

# The default PREFIX is /usr/local.
D=$SCRATCH/local
t "make install DESTDIR (default PREFIX)" sh -c "make -s install DESTDIR='$D' >/dev/null 2>&1"
t "default PREFIX: /usr/local" same_list "$(files "$D")" "$(want_files usr/local)"
t "make uninstall DESTDIR (default PREFIX)" make -s uninstall DESTDIR="$D"
t "uninstall (default PREFIX): no file left" same_list "$(files "$D")" ""

# dkms-install: what DKMS needs to build the module, and nothing else.
D=$SCRATCH/dkms
want_dkms() {
	{
		printf '%s\n' dkms.conf Kbuild kmod/Kbuild include/uapi/linux/vtap.h \
			include/vtap_bpf.h include/vtap_version.h tools/kbuild/dkms-make
		git ls-files 'kmod/*.c' 'kmod/*.h'
	} | sed "s|^|usr/src/vtap-$VERSION/|" | sort
}
t "make dkms-install DESTDIR" make -s dkms-install DESTDIR="$D"
t "dkms-install: the module's sources, no build output" same_list "$(files "$D")" "$(want_dkms)"
t "dkms-install: dkms-make is executable" test -x "$D/usr/src/vtap-$VERSION/tools/kbuild/dkms-make"
t "dkms.conf's version is vtap's version ($VERSION)" \
	grep -qx "PACKAGE_VERSION=\"$VERSION\"" "$D/usr/src/vtap-$VERSION/dkms.conf"
finish
