#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-build.sh TOP - the build graph of the tool, from make's own plan:
#   1. `make -n -B tool check-unit exports-tools` compiles every
#      tools/kvm-lazytop/*.c exactly once (the tests link the tool's
#      objects; only the libFuzzer targets, not asked for here, build
#      their own instrumented copies);
#   2. with the BPF skeleton newer than everything (make -W), only
#      collector.o is recompiled: nothing else includes the skeleton;
#   3. no object of the tool defines a weak symbol: there are no
#      fallbacks, a missing entry point is a link error;
#   4. tool.mk states the libraries each object needs instead of
#      grepping the sources for them.
# Needs the host tool built (make tool) in TOP.  Prints one line per
# failure and "check-build: N passed, N failed".
set -u
top=$1
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "  FAIL    $*"; fail=$((fail + 1)); }
mk() { env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$top" "$@" 2>&1; }

arch=$(uname -m)
obj=$top/build/$arch/kvm-lazytop.obj
skel=$top/build/$arch/kvm_lazytop.skel.h
[ -f "$skel" ] && [ -d "$obj" ] || { echo "check-build: $top is not built (make tool)"; exit 1; }
mk -q tool || { echo "check-build: $top/build/$arch/kvm-lazytop is not up to date (make tool)"; exit 1; }

# 1. one compilation per source
plan=$(mk -n -B tool check-unit exports-tools) || { echo "$plan" | tail -5; bad "make -n -B failed"; }
# one line per command: join the recipes' backslash-newline continuations
compiles=$(echo "$plan" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta' | grep -E '^[^ ]*(gcc|cc|clang)(-[0-9]+)? ')
for src in "$top"/tools/kvm-lazytop/*.c; do
	n=$(echo "$compiles" | grep -o -F " $src" | wc -l)
	if [ "$n" -eq 1 ]; then ok; else bad "${src#"$top"/} is compiled $n times (want 1)"; fi
done

# 2. the skeleton is collector.o's dependency only
rebuilt=$(mk -n -W "$skel" tool | grep -E '^[^ ]*(gcc|cc|clang) .* -c ' |
	grep -o -E '[a-z_]+\.c( |$)' | tr -d ' ' | sort | tr '\n' ' ')
if [ "$rebuilt" = "collector.c " ]; then ok; else bad "a newer skeleton recompiles: ${rebuilt:-nothing} (want collector.c only)"; fi

# 3. no weak fallbacks
weak=$(nm "$obj"/*.o | awk 'NF >= 2 && $(NF-1) ~ /^[WV]$/ { print $NF }' | sort -u | tr '\n' ' ')
if [ -z "$weak" ]; then ok; else bad "weak symbols in the tool's objects: $weak"; fi

# 4. dependencies stated, not grepped
if grep -n 'shell grep' "$top/tools/kvm-lazytop/tool.mk"; then bad "tool.mk decides dependencies by grepping sources"; else ok; fi

echo "check-build: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
