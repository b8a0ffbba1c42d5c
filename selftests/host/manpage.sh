#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The man page documents every object and subcommand vtapctl knows (as its
# own help lists them), and renders without warnings.
. "$(dirname "$0")/../lib.sh"
MAN=$VTAP_TOP/Documentation/vtapctl.8

t "vtapctl.8 exists" test -s "$MAN"
objects=$("$VTAPCTL" help | awk '/^Objects:/ {on = 1; next} on && NF {print $1}')
t "vtapctl lists its objects" test -n "$objects"
for o in $objects; do
	case $o in help|version|info)
		t "man page: $o" grep -q "^\.B $o" "$MAN"
		continue ;;
	esac
	subs=$("$VTAPCTL" "$o" help 2>/dev/null | sed -n 's/^\(Usage:\)\{0,1\} *vtapctl '"$o"' \([a-z-]*\).*/\2/p' | grep -v '^help$' | sort -u)
	if [ -z "$subs" ]; then
		# An object whose usage has no subcommand word (stats, collect).
		t "man page: $o" grep -q "^\.B $o" "$MAN"
		continue
	fi
	for s in $subs; do
		case $s in session|listen|write|to) t "man page: $o" grep -q "^\.B $o" "$MAN"; continue ;; esac
		t "man page: $o $s" grep -qE "^\.B $o $s|^\.B $o \\\\fR.*$s" "$MAN"
	done
done
render() {
	local out
	out=$(LC_ALL=C.UTF-8 MANWIDTH=100 man --warnings -l "$MAN" 2>&1 >/dev/null) || return 1
	[ -z "$out" ] || { echo "$out"; return 1; }
}
if command -v man >/dev/null; then
	t "renders without warnings" render
else
	skip "renders without warnings" "man is not installed"
fi
finish
