#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build.sh: the debug tier's build step, as TAP (run by selftests/run before the debug tier's guest
# runs).  The debug kernel (tools/vm/debug/kernel: cached, about 12 min the first time), then vtap.ko
# and the test-only buggy.ko against it (tools/vm/debug/build-modules -> build/debug/env).
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
echo "TAP version 13"
t0=$SECONDS
if ! dir=$("$TOP/tools/vm/debug/kernel" --no-build 2>/dev/null); then
	echo "# building the debug kernel: about 12 min on 2 cores, once (cached afterwards)"
	if ! dir=$("$TOP/tools/vm/debug/kernel"); then
		echo "not ok 1 debug kernel"
		echo "1..1"
		exit 1
	fi
	echo "ok 1 debug kernel: built in $((SECONDS - t0)) s, $dir"
else
	echo "ok 1 debug kernel: cached, $dir"
fi
t0=$SECONDS
if ! "$TOP/tools/vm/debug/build-modules"; then
	echo "not ok 2 vtap.ko and buggy.ko against the debug kernel, with BTF"
	echo "1..2"
	exit 1
fi
echo "ok 2 vtap.ko and buggy.ko against the debug kernel, with BTF ($((SECONDS - t0)) s)"
echo "1..2"
