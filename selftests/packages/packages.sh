#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Debian packages for real (make check-packages; .ci/run): `make deb`
# (dpkg-buildpackage, then lintian: no error or warning), what each .deb
# holds, `apt-get install ./build/deb/*.deb` on this host, DKMS's build of
# vtap.ko in vtap-dkms's postinst for the test VM's kernel (module BTF, the
# kfunc's id filled in), the test VM loading that module with `modprobe vtap`
# and mirroring a veth with the packaged vtapctl (selftests/lib/packages_guest.sh,
# one boot), then `apt-get remove` and `apt-get purge`: no file of the
# packages, no DKMS tree, sources, module or cache left, the service no longer
# enabled, the set of installed packages and every name with "vtap" in
# /usr /etc /var as before.
#
# It does not touch a previous installation: when a file of the packages, a
# DKMS tree or sources of vtap already exist (make install PREFIX=/usr, make
# dkms-install, the packages), it skips.  It holds $VTAP_DKMS_LOCK, as
# selftests/host/dkms.sh does, so that two runs of the suite do not meet in
# /var/lib/dkms (and it waits until no dkms.sh runs, for trees whose dkms.sh
# does not take the lock yet; one that starts later can still meet it).
# DKMS signs the module with a scratch key (mok_signing_key and
# mok_certificate, as dkms.sh), so /var/lib/dkms gets no mok.key.  If
# anything fails after the install, the EXIT trap purges both packages.
. "$(dirname "$0")/../lib.sh"
cd "$VTAP_TOP" || exit 1

KVER=${KVER:-$(tools/kbuild/kver 2>/dev/null)}
if [ "$(id -u)" != 0 ]; then
	skip "packages" "needs root (apt-get install)"
	finish
fi
for c in dpkg-buildpackage dh_dkms lintian dkms; do
	if ! command -v "$c" >/dev/null; then
		skip "packages" "$c is not installed (make deps)"
		finish
	fi
done
if [ -z "$KVER" ] || [ ! -d "/lib/modules/$KVER/build" ]; then
	skip "packages" "the headers of a 6.1 kernel are not installed (make deps)"
	finish
fi
VERSION=$(make -s --no-print-directory version)
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
DEBDIR=$VTAP_TOP/build/deb
DKMS_DEB=$DEBDIR/vtap-dkms_${VERSION}_all.deb
CTL_DEB=$DEBDIR/vtapctl_${VERSION}_$ARCH.deb
KO=/lib/modules/$KVER/updates/dkms/vtap.ko
S=$VTAP_TOP/build/selftests/packages
rm -rf "$S"
mkdir -p "$S"
export DEBIAN_FRONTEND=noninteractive
export mok_signing_key=$S/mok.key mok_certificate=$S/mok.pub
APT=(apt-get -y -q -o DPkg::Lock::Timeout=600)

exec 9>"$VTAP_DKMS_LOCK"
t "the DKMS lock ($VTAP_DKMS_LOCK)" flock -w 900 9
# A dkms.sh of a tree from before the lock does not take it: wait for it too.
no_dkms_test() { ! pgrep -f 'selftests/host/dkms\.sh' >/dev/null; }
t "no selftests/host/dkms.sh running (it checks the real DKMS tree)" busywait 900000 no_dkms_test

secs() { echo "# $1: $(($(date +%s) - $2)) s"; }

# --- build -------------------------------------------------------------------
start=$(date +%s)
t "make deb: dpkg-buildpackage, lintian without error or warning" make -s deb
secs "make deb (with lintian)" "$start"
if [ -s "$DEBDIR/lintian.txt" ]; then sed 's/^/# lintian: /' "$DEBDIR/lintian.txt"; fi
t "debian/changelog's version is the Makefile's ($VERSION)" expect_eq "changelog" \
	"$(dpkg-parsechangelog -S Version)" "$VERSION"
t "the packages: ${DKMS_DEB#"$VTAP_TOP"/}, ${CTL_DEB#"$VTAP_TOP"/}" sh -c \
	"dpkg-deb -f '$DKMS_DEB' Package Version Architecture | tr '\n' ' ' | grep -qx 'Package: vtap-dkms Version: $VERSION Architecture: all ' &&
	 dpkg-deb -f '$CTL_DEB' Package Version Architecture | tr '\n' ' ' | grep -qx 'Package: vtapctl Version: $VERSION Architecture: $ARCH '"
if [ ! -f "$DKMS_DEB" ] || [ ! -f "$CTL_DEB" ]; then
	skip "packages: install" "no packages"
	finish
fi

# The files of a package (no directories), without .gz: dh_compress decides.
deb_files() { dpkg-deb -c "$1" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\.||; s|\.gz$||' | sort; }
same_list() {	# GOT WANT
	[ "$1" = "$2" ] && return 0
	diff <(echo "$2") <(echo "$1") | sed 's/^/  /'
	echo "(< expected, > in the package)"
	return 1
}
want_dkms() {
	{
		printf '%s\n' dkms.conf Kbuild kmod/Kbuild include/uapi/linux/vtap.h \
			include/vtap_bpf.h include/vtap_version.h tools/kbuild/dkms-make
		git ls-files 'kmod/*.c' 'kmod/*.h'
	} | sed "s|^|/usr/src/vtap-$VERSION/|"
	printf '/usr/share/doc/vtap-dkms/%s\n' changelog copyright
}
want_ctl() {
	local f
	printf '%s\n' /usr/sbin/vtapctl /usr/share/man/man8/vtapctl.8 /usr/share/man/man7/vtap.7 \
		/usr/share/man/man5/vtap.conf.5 /usr/share/bash-completion/completions/vtapctl \
		/lib/systemd/system/vtap.service /lib/systemd/system/vtap-collect@.service \
		/usr/share/lintian/overrides/vtapctl \
		/usr/share/doc/vtapctl/changelog /usr/share/doc/vtapctl/copyright
	for f in README.md Documentation/*.md Documentation/netlink/specs/vtap.yaml; do
		echo "/usr/share/doc/vtapctl/${f##*/}"
	done
}
t "vtap-dkms: the module's sources (make dkms-install's files), no build output" \
	same_list "$(deb_files "$DKMS_DEB")" "$(want_dkms | sort)"
t "vtap-dkms: dkms-make is executable" sh -c \
	"dpkg-deb -c '$DKMS_DEB' | grep -q '^-rwxr-xr-x .* ./usr/src/vtap-$VERSION/tools/kbuild/dkms-make\$'"
t "vtap-dkms: dkms.conf's version is $VERSION, its cache /var/cache/vtap-dkms" sh -c \
	"dpkg-deb --fsys-tarfile '$DKMS_DEB' | tar -xOf - ./usr/src/vtap-$VERSION/dkms.conf >'$S/dkms.conf' &&
	 grep -qx 'PACKAGE_VERSION=\"$VERSION\"' '$S/dkms.conf' && grep -q 'VTAP_CACHE:-/var/cache/vtap-dkms' '$S/dkms.conf'"
t "vtapctl: the tool, man pages, completion, the systemd units, documentation" \
	same_list "$(deb_files "$CTL_DEB")" "$(want_ctl | sort)"
t "vtapctl: vtap.service runs /usr/sbin/vtapctl daemon" sh -c \
	"dpkg-deb --fsys-tarfile '$CTL_DEB' | tar -xOf - ./lib/systemd/system/vtap.service |
	 grep -qx 'ExecStart=/usr/sbin/vtapctl daemon config /etc/vtap/vtap.conf'"
t "vtapctl: vtap-collect@.service runs /usr/sbin/vtapctl collect" sh -c \
	"dpkg-deb --fsys-tarfile '$CTL_DEB' | tar -xOf - ./lib/systemd/system/vtap-collect@.service |
	 grep -qx 'ExecStart=/usr/sbin/vtapctl collect \$ARGS'"
t "vtapctl: depends on the libraries it links (shlibs), recommends vtap-dkms" sh -c \
	"dpkg-deb -f '$CTL_DEB' Depends | grep -q libbpf && dpkg-deb -f '$CTL_DEB' Recommends | grep -qx vtap-dkms"

# --- a previous state is left alone ----------------------------------------
prior=()
for p in vtap-dkms vtapctl; do
	st=$(dpkg-query -W -f '${Status}' "$p" 2>/dev/null || true)
	case $st in ''|'unknown ok not-installed') ;; *) prior+=("package $p ($st)") ;; esac
done
while read -r f; do
	if [ -e "$f" ] || [ -L "$f" ]; then prior+=("$f"); fi
done < <({ deb_files "$DKMS_DEB"; deb_files "$CTL_DEB"; } | sed 's|^/lib/|/usr/lib/|')
for f in /var/lib/dkms/vtap /usr/src/vtap-* "$KO" /var/cache/vtap-dkms; do
	if [ -e "$f" ]; then prior+=("$f"); fi
done
if [ ${#prior[@]} -gt 0 ]; then
	skip "packages: install and remove" "vtap is already installed here: ${prior[*]:0:3}"
	finish
fi

# Names with "vtap" in the system's directories, the installed packages,
# /var/lib/dkms: before, and after the purge.
vtap_names() {
	find /usr /etc /var -xdev \( -path /var/tmp -o -path /var/cache/apt \) -prune -o \
		-name '*vtap*' -print 2>/dev/null | sort
}
installed() { dpkg-query -W -f '${Package}:${Architecture} ${Status}\n' | grep ' installed$' | sort; }
dkms_tree() { find /var/lib/dkms 2>/dev/null | sort; }
names_before=$(vtap_names)
pkgs_before=$(installed)
dkms_before=$(dkms_tree)

cleanup() {
	local p
	for p in vtapctl vtap-dkms; do
		if dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -qv 'not-installed'; then
			echo "# cleanup: purging $p"
			"${APT[@]}" purge "$p" >>"$S/cleanup.log" 2>&1 ||
				echo "# cleanup: apt-get purge $p failed, see $S/cleanup.log"
		fi
	done
}
trap cleanup EXIT

# --- install -------------------------------------------------------------------
start=$(date +%s)
t "apt-get install ./build/deb/*.deb (DKMS builds vtap.ko in the postinst)" \
	"${APT[@]}" install "$DKMS_DEB" "$CTL_DEB"
secs "apt-get install (with DKMS's build)" "$start"
t "apt-get installed exactly vtap-dkms and vtapctl" same_list \
	"$(comm -13 <(echo "$pkgs_before") <(installed))" \
	"$(printf '%s\n' "vtap-dkms:all install ok installed" "vtapctl:$ARCH install ok installed")"
dpkg -L vtap-dkms vtapctl 2>/dev/null | sort -u >"$S/dpkg-L"
t "dpkg -L lists the packages' files" sh -c \
	"grep -qx /usr/sbin/vtapctl '$S/dpkg-L' && grep -qx /usr/src/vtap-$VERSION/dkms.conf '$S/dpkg-L' &&
	 grep -qx /lib/systemd/system/vtap.service '$S/dpkg-L'"
t "dkms status: vtap/$VERSION installed for $KVER" sh -c \
	"dkms status vtap/$VERSION | tee /dev/stderr | grep -q '^vtap/$VERSION, $KVER, [^:]*: installed'"
LOG=/var/lib/dkms/vtap/$VERSION/$KVER/$(uname -m)/log/make.log
# (here the test VM's kernel is not the running one; where it is, sysfs)
from=/boot/vmlinuz-$KVER
[ "$(uname -r)" != "$KVER" ] || from="/sys/kernel/btf/vmlinux (running kernel)"
t "DKMS's build: BTF base from $from, resolve_btfids cached in /var/cache/vtap-dkms" \
	grep -qF "BTF base: $from; resolve_btfids: /var/cache/vtap-dkms/" "$LOG"
t "DKMS's build: kbuild generated the module's BTF" grep -q 'BTF \[M\]' "$LOG"
. "$VTAP_TOP/selftests/lib/kocheck.sh"
BASE=$(tools/kbuild/prepare "$KVER" 2>/dev/null)/vmlinux.btf
t "$KO: vermagic $KVER, module BTF, the kfunc's id filled in" check_ko "$KO" "$KVER" "$BASE" "$S"
t "modinfo -k $KVER vtap (depmod): $KO, version $VERSION" sh -c \
	"[ \"\$(modinfo -k $KVER -n vtap)\" = '$KO' ] && [ \"\$(modinfo -k $KVER -F version vtap)\" = '$VERSION' ]"
t "signed with the scratch key, not one in /var/lib/dkms" sh -c \
	"[ -f '$mok_certificate' ] && [ ! -e /var/lib/dkms/mok.key ] && modinfo -F signer '$KO' | grep -q ."
t "/usr/sbin/vtapctl version: vtapctl $VERSION" expect_eq "version" \
	"$(/usr/sbin/vtapctl version 2>&1)" "vtapctl $VERSION"
t "man -w vtapctl: the package's page" expect_eq "man -w" \
	"$(man -w 8 vtapctl 2>&1)" "/usr/share/man/man8/vtapctl.8.gz"
t "bash completion loads from the package" bash --norc --noprofile -c \
	". /usr/share/bash-completion/completions/vtapctl && complete -p vtapctl"
# dh_installsystemd's postinst enables vtap.service (deb-systemd-helper,
# which only dpkg's maintainer scripts may run): the symlink and its state.
WANTS=/etc/systemd/system/multi-user.target.wants/vtap.service
DSH=/var/lib/systemd/deb-systemd-helper-enabled
enabled() { [ -L "$WANTS" ] && [ -e "$DSH/vtap.service.dsh-also" ]; }
t "vtap.service is enabled (deb-systemd-helper: $WANTS)" enabled

# --- the test VM: modprobe the DKMS-built module, mirror -----------------------
start=$(date +%s)
rc=0
VTAP_VM_OUT=$S/vm "$VTAP_TOP/tools/vm/run" -n -t 300 \
	"$VTAP_TOP/selftests/lib/packages_guest.sh" "$VERSION" >"$S/vm.log" 2>&1 || rc=$?
secs "the test VM" "$start"
n=0
while IFS= read -r line; do
	line=${line%$'\r'}
	case $line in
	"ok "*"# SKIP"*) skip "VM: $(sed 's/^ok [0-9]* //; s/ # SKIP.*//' <<<"$line")" "${line##*# SKIP }" ;;
	"ok "*) t "VM: $(sed 's/^ok [0-9]* //' <<<"$line")" true; n=$((n + 1)) ;;
	"not ok "*) t "VM: $(sed 's/^not ok [0-9]* //' <<<"$line")" sh -c "grep -v '^ok ' '$S/vm.log' | tail -n 30; false"; n=$((n + 1)) ;;
	esac
done <"$S/vm.log"
t "the VM run: exit 0, no kernel problem ($n checks)" sh -c \
	"[ $rc = 0 ] && [ $n -gt 0 ] || { tail -n 40 '$S/vm.log'; exit 1; }"

# --- remove, purge -------------------------------------------------------------
files_left() {	# the packages' files (not directories) that still exist
	local f
	while read -r f; do
		if [ -d "$f" ]; then continue; fi	# also /lib -> usr/lib
		if [ -e "$f" ] || [ -L "$f" ]; then echo "left: $f"; fi
	done <"$S/dpkg-L"
}
start=$(date +%s)
t "apt-get remove vtap-dkms vtapctl" "${APT[@]}" remove vtap-dkms vtapctl
secs "apt-get remove" "$start"
t "after remove: none of the packages' files is left" same_list "$(files_left)" ""
t "after remove: no DKMS tree, sources, module or cache" sh -c \
	"! ls -d /var/lib/dkms/vtap /usr/src/vtap-$VERSION '$KO' /var/cache/vtap-dkms 2>/dev/null | grep . &&
	 ! modinfo -k $KVER vtap >/dev/null 2>&1"
t "after remove: the service's enablement (configuration) waits for the purge" enabled
t "apt-get purge vtap-dkms vtapctl" "${APT[@]}" purge vtap-dkms vtapctl
t "after purge: dpkg knows neither package" sh -c \
	"! dpkg-query -W vtap-dkms vtapctl 2>/dev/null | grep ."
t "after purge: vtap.service is not enabled, its symlink and state are gone" sh -c \
	"! ls /etc/systemd/system/*/vtap.service $DSH/vtap.service* $DSH/*/vtap.service 2>/dev/null | grep ."
t "after purge: the installed packages are as before" same_list "$(installed)" "$pkgs_before"
t "after purge: names with vtap in /usr /etc /var as before" same_list "$(vtap_names)" "$names_before"
t "after purge: /var/lib/dkms as before" same_list "$(dkms_tree)" "$dkms_before"
finish
