#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The man page documents every object, subcommand and option vtapctl knows
# (as its own help lists them), documents nothing vtapctl does not know, and
# the man pages render without warnings.
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

# The man page's text, without font escapes: \fB, \fI, \fR, \fP; \- is -.
text=$(sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' "$MAN")
has_word() { grep -qE "(^|[^a-z0-9-])$1([^a-z0-9-]|\$)" <<<"$text"; }

# Global options: each one `vtapctl help` lists is in OPTIONS.
opts=$("$VTAPCTL" help | grep -oE '(^|[ ,])--?[a-zA-Z-]+' | tr -d ' ,' | sort -u)
t "vtapctl help lists options" test -n "$opts"
for o in $opts; do
	t "man page: option $o" has_word "$o"
done

# Every keyword and value of each object's usage (the lowercase words of its
# Usage: lines; UPPERCASE words are placeholders) is in the man page.
usage_words() {	# OBJECT
	"$VTAPCTL" "$1" help 2>/dev/null |
		awk '/^Usage:/ {on = 1} on && !/^(Usage:| )/ {exit} on' |
		sed 's/^Usage://' | grep -oE '\b[a-z0-9][a-z0-9/-]*[a-z0-9]\b' | grep '[a-z]' |
		grep -vxE "vtapctl|$1|help" | sort -u
}
for o in $objects; do
	case $o in help) continue ;; esac
	words=$(usage_words "$o")
	case $o in session|port|flow|rule|stats|collect)
		t "vtapctl $o help lists options" test -n "$words" ;;
	esac
	for w in $words; do
		t "man page: $o ... $w" has_word "$w"
	done
done

# And the reverse: every "OBJECT SUBCOMMAND" the man page documents, the
# binary knows.
while read -r o s; do
	t "binary knows man page's $o $s" sh -c \
		"'$VTAPCTL' $o help | grep -qE '^(Usage:)? *vtapctl $o $s( |\$)'"
done < <(grep -oE '^\.B (session|port|flow|rule) [a-z]+' "$MAN" | cut -d' ' -f2,3 | sort -u)

render() {	# PAGE
	local out
	out=$(LC_ALL=C.UTF-8 MANWIDTH=100 man --warnings -l "$1" 2>&1 >/dev/null) || return 1
	[ -z "$out" ] || { echo "$out"; return 1; }
}
for page in "$MAN" "$VTAP_TOP/Documentation/vtap.7"; do
	if command -v man >/dev/null; then
		t "${page##*/} renders without warnings" render "$page"
	else
		skip "${page##*/} renders without warnings" "man is not installed"
	fi
done
finish
