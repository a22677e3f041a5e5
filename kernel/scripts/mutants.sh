#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mutants.sh - show that each fix of the kernel series is caught by a test
# when it is removed (make check-kernel-mutants; the quick subset runs in
# make test).  Format of the mutants: kernel/mutants/README.md.
#
# usage: mutants.sh [--quick] [--out DIR] [MUTANT...]
#
#   MUTANT   ARCH/NN-name (e.g. riscv/02-h1-csr-cpu) or a path to one of
#            kernel/mutants/ARCH/NN-name.patch.  Default: every mutant;
#            --quick: those listed in kernel/mutants/quick.list.
#   --out    results (default build/mutants): one directory per boot, the
#            table in DIR/table.txt
#
# For each architecture with a selected mutant, a control boot first runs
# the mutants' tests on the unmutated series: every one must pass (exit 0)
# without printing its expected failure, or the run fails.  Then, for each
# mutant: build the series plus the mutant as its last patch
# (build-kernel.sh / arm64-build-kernel.sh with KBUILD_PATCHES /
# ARM64_KBUILD_PATCHES: cached by hash, incremental), boot it in its own
# QEMU, run only its Mutant-Test, and call it caught only if the test
# exits with a failure status (not 0, not the kselftest skip 4, not a
# timeout or a signal) AND its output holds the Mutant-Expect text.
#
# A caught or passed verdict is cached under $CACHE/mutants/verdicts by the
# hash of everything it depends on (kernel result, test binaries, test,
# expected text, this script and the boot scripts), so an unchanged
# re-run boots nothing; MUTANTS_NOCACHE=1 runs every boot again.  Verdicts
# that are not a catch are never cached.
#
# A mutant that no test here can catch says why in a Mutant-Escape
# trailer: it is still built, booted and judged, and listed as NOT CAUGHT
# with that reason, but does not fail the run; if it is caught after all,
# the run fails until the stale trailer goes.
#
# Exit: 0 every mutant caught or a declared escape, and every control test
# passed; 1 otherwise (the table lists every mutant, caught or not); 2
# usage.
set -uo pipefail
# One compound command: bash parses it before running, so editing this
# file during a (long) run cannot derail that run.
{

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
CACHE=${CACHE:-/var/cache/kvm-lazytop}
export CACHE
mdir=$top/kernel/mutants
out=$top/build/mutants
quick=0
T0=$SECONDS

usage() { sed -n '4,35p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
say() { printf '  %-8s %s\n' "$1" "$2" >&2; }
die() { echo "mutants.sh: $*" >&2; exit 1; }

sel=()
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1; shift ;;
	--out) out=$2; shift 2 ;;
	-h|--help) usage ;;
	-*) usage ;;
	*) sel+=("$1"); shift ;;
	esac
done

# ---- which mutants ------------------------------------------------------
# "arch/NN-name" ids, in arch then name order
ids=()
if [ ${#sel[@]} -eq 0 ] && [ $quick -eq 1 ]; then
	[ -f "$mdir/quick.list" ] || die "no $mdir/quick.list"
	while read -r id _; do
		case $id in ''|'#'*) continue ;; esac
		sel+=("$id")
	done <"$mdir/quick.list"
fi
if [ ${#sel[@]} -eq 0 ]; then
	for f in "$mdir"/*/[0-9]*.patch; do
		[ -e "$f" ] || continue
		ids+=("$(basename "$(dirname "$f")")/$(basename "$f" .patch)")
	done
else
	for s in "${sel[@]}"; do
		s=${s%.patch}
		s=${s#"$mdir"/}
		case $s in */*/*) s=${s#*/kernel/mutants/} ;; esac
		[ -f "$mdir/$s.patch" ] || die "no mutant $s ($mdir/$s.patch)"
		ids+=("$s")
	done
fi
[ ${#ids[@]} -gt 0 ] || die "no mutants selected"

# A trailer of the mutant's commit message (before the first "---")
trailer() {
	sed -n '/^---$/q; s/^'"$2"': *//p' "$1" | head -n 1
}

# the series of ARCH plus one mutant, as a patch directory
series_with() {	# arch mutant_file dir
	local arch=$1 m=$2 d=$3 p
	rm -rf "$d" && mkdir -p "$d" || return 1
	for p in "$top/kernel/patches/$arch"/[0-9]*.patch; do
		[ "$(basename "$p")" = 0000-cover-letter.patch ] && continue
		cp "$p" "$d/" || return 1
	done
	[ -n "$m" ] && cp "$m" "$d/9999-mutant-$(basename "$m")"
	return 0
}

# build the series (+ mutant) of ARCH; print the kernel result dir
build_kernel() {	# arch mutant_file|"" log
	local arch=$1 m=$2 log=$3 d
	if [ -z "$m" ]; then
		if [ "$arch" = riscv ]; then
			"$here/build-kernel.sh" patched 2>>"$log"
		else
			"$here/arm64-build-kernel.sh" patched 2>>"$log"
		fi
		return
	fi
	d=$CACHE/mutants/series-$arch-$(basename "$m" .patch)
	series_with "$arch" "$m" "$d" || return 1
	if [ "$arch" = riscv ]; then
		KBUILD_PATCHES=$d "$here/build-kernel.sh" patched 2>>"$log"
	else
		ARM64_KBUILD_PATCHES=$d "$here/arm64-build-kernel.sh" patched 2>>"$log"
	fi
}

# test binaries: the unmutated series' (mutants do not touch tests)
declare -A tests_dir
selftests_of() {	# arch log
	if [ -z "${tests_dir[$1]:-}" ]; then
		if [ "$1" = riscv ]; then
			tests_dir[$1]=$("$here/build-selftests.sh" patched 2>>"$2") || return 1
		else
			tests_dir[$1]=$("$here/arm64-build-selftests.sh" 2>>"$2") || return 1
		fi
	fi
	echo "${tests_dir[$1]}"
}

# per-test time limit: suite.list (riscv) or selftests.list (arm64), else 300
test_timeout() {	# arch name
	local f t
	if [ "$1" = riscv ]; then
		f=$top/tests/e2e/selftests/suite.list
		t=$(awk -F'\t' -v n="$2" '$1 == n { print $3; exit }' "$f")
	else
		f=$top/tests/e2e/arm64/selftests.list
		t=$(awk -v n="$2" '$1 ~ /^[0-9]+$/ { for (i = 2; i <= NF; i++) if ($i !~ /^\+/) {
			m = $i; sub(/.*\//, "", m); if (m == n) { print $1; exit } break } }' "$f")
	fi
	echo "${t:-300}"
}

# Boot KERNEL once and run TESTS ("argv" strings) in it, in order.  Per
# test NAME (basename of argv[0]) writes OUT/NAME.state (exit=N, timeout,
# signal=N or "not run") and OUT/NAME.output (its stdout and stderr).
boot_tests() {	# arch kernel_dir selftests_dir out test...
	local arch=$1 kdir=$2 st=$3 o=$4 t name tmo total=0 rc=0
	shift 4
	rm -rf "$o" && mkdir -p "$o"
	if [ "$arch" = riscv ]; then
		: >"$o/scenario.scn"
		local extra=()
		for t in "$@"; do
			name=$(basename "${t%% *}")
			# one of ours (tests/e2e/selftests/NAME.c, raw KVM API):
			# built against the kernel's own UAPI headers
			if [ -f "$top/tests/e2e/selftests/$name.c" ]; then
				mkdir -p "$o/bin"
				riscv64-linux-gnu-gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror \
					-I"$kdir/headers/include" -o "$o/bin/$name" \
					"$top/tests/e2e/selftests/$name.c" 2>>"$o/make-initramfs.log" ||
					return 1
				extra+=("$o/bin/$name=/selftests/$name")
			fi
			tmo=$(test_timeout riscv "$name")
			total=$((total + tmo))
			echo "run --name $name --timeout $tmo -- $t" >>"$o/scenario.scn"
		done
		"$here/make-initramfs.sh" -o "$o/initramfs.cpio" --scenario "$o/scenario.scn" \
			"$st=/selftests" "${extra[@]}" >>"$o/make-initramfs.log" 2>&1 || return 1
		"$here/run-qemu.sh" --kernel "$kdir" --initramfs "$o/initramfs.cpio" \
			--results "$o" --smp 2 --mem 2G --timeout $((total + 240)) \
			>"$o/run-qemu.log" 2>&1 || rc=1
		# Seen once on a loaded host: the guest hung before the kernel
		# printed its first line.  That says nothing about the test:
		# boot again, once, and say so.
		if [ $rc -ne 0 ] && ! grep -q 'Linux version' "$o/console.log" 2>/dev/null; then
			mv "$o/console.log" "$o/console.hung.log"
			echo "first boot hung before the kernel started, booted again" >"$o/retried"
			say RETRY "$(basename "$o"): the guest hung before the kernel started, booting again"
			rc=0
			"$here/run-qemu.sh" --kernel "$kdir" --initramfs "$o/initramfs.cpio" \
				--results "$o" --smp 2 --mem 2G --timeout $((total + 240)) \
				>"$o/run-qemu.log" 2>&1 || rc=1
		fi
		for t in "$@"; do
			name=$(basename "${t%% *}")
			awk -F'\t' -v n="$name" '$1 == n { print $2; f = 1 } END { if (!f) print "not run" }' \
				"$o/status" >"$o/$name.state" 2>/dev/null || echo "not run" >"$o/$name.state"
			cat "$o/$name.stdout" "$o/$name.stderr" >"$o/$name.output" 2>/dev/null
		done
	else
		: >"$o/selftests.list"
		for t in "$@"; do
			name=$(basename "${t%% *}")
			tmo=$(test_timeout arm64 "$name")
			echo "$tmo /selftests/$t" >>"$o/selftests.list"
		done
		"$top/tests/e2e/arm64/run-selftests.sh" --list "$o/selftests.list" \
			"$kdir" "$st" "$o/results.txt" >"$o/run-selftests.log" 2>&1 || rc=1
		for t in "$@"; do
			name=$(basename "${t%% *}")
			awk -v n="$name" '
				$1 == "SELFTEST-START:" && $2 == n { on = 1; next }
				on && $1 == "SELFTEST:" && $2 == n {
					s = $3; sub(/^rc=/, "", s)
					if (s ~ /^[0-9]+$/) s = "exit=" s
					else if (s ~ /^signal-/) { sub(/^signal-/, "", s); s = "signal=" s }
					print s > state; on = 0; done = 1; next }
				on && !/^(DMESG|INIT|PKVM-SYNC|LAZYTOP)/ { print }
				END { if (!done) print "not run" > state }' \
				state="$o/$name.state" "$o/results.console.log" \
				>"$o/$name.output" 2>/dev/null ||
				echo "not run" >"$o/$name.state"
		done
	fi
	return $rc
}

# verdict of one test in a boot: prints "VERDICT<TAB>seen"
judge() {	# out name expect mode(mutant|control)
	local o=$1 name=$2 expect=$3 mode=$4 state line
	# one line per run: a control boot runs a binary once per argument set
	state=$(sort -u "$o/$name.state" 2>/dev/null | paste -sd, -)
	state=${state:-not run}
	line=$(grep -m1 -F -- "$expect" "$o/$name.output" 2>/dev/null | sed 's/^[[:space:]]*//' | cut -c1-140)
	if [ "$mode" = control ]; then
		if [ "$state" = exit=0 ] && [ -z "$line" ]; then
			printf 'PASS\tpassed (exit=0)\n'
		elif [ "$state" = exit=0 ]; then
			printf 'FAIL\texit=0 but printed the expected failure: %s\n' "$line"
		else
			printf 'FAIL\t%s: %s\n' "$state" "$(first_failure "$o/$name.output")"
		fi
		return
	fi
	case $state in
	exit=0) printf 'NOT CAUGHT\tpassed (exit=0)\n' ;;
	exit=4) printf 'NOT CAUGHT\tskipped (exit=4): %s\n' "$(first_failure "$o/$name.output")" ;;
	exit=*)
		if [ -n "$line" ]; then
			printf 'CAUGHT\t%s: %s\n' "$state" "$line"
		else
			printf 'NOT CAUGHT\t%s, other failure: %s\n' "$state" "$(first_failure "$o/$name.output")"
		fi ;;
	*) printf 'NOT CAUGHT\t%s (guest: %s)\n' "$state" \
		"$(tail -n 1 "$o"/run-*.log 2>/dev/null | cut -c1-100)" ;;
	esac
}

first_failure() {
	{ grep -v '^[[:space:]]*====' "$1" 2>/dev/null |
	  grep -m1 -iE 'assert|fail|skip|error|expected|Needs' ||
	  tail -n 1 "$1" 2>/dev/null; } | sed 's/^[[:space:]]*//' | cut -c1-120
}

# inputs of a boot verdict besides the kernel and the test binaries
boot_inputs() {
	cat "$0" "$here/run-qemu.sh" "$here/make-initramfs.sh" "$top"/tests/e2e/selftests/*.c \
	    "$top/tests/e2e/arm64/run-selftests.sh" "$top/tests/e2e/arm64/boot-test.sh" \
	    "$top/tests/e2e/arm64/init.c" "$top/tests/e2e/arm64/lazy_state_test.c" \
	    "$top"/tests/e2e/guest/* 2>/dev/null
}
inputs_hash=$(boot_inputs | sha256sum | cut -c1-16)
vcache=$CACHE/mutants/verdicts
mkdir -p "$vcache" "$out"

# ---- controls: the unmutated series, every test once ---------------------
declare -A arch_tests arch_kernel
archs=()
for id in "${ids[@]}"; do
	a=${id%%/*}
	case $a in riscv|arm64) ;; *) die "$id: unknown architecture $a" ;; esac
	[[ " ${archs[*]} " == *" $a "* ]] || archs+=("$a")
	t=$(trailer "$mdir/$id.patch" Mutant-Test)
	[ -n "$t" ] && [ "$t" != none ] || continue
	[[ "${arch_tests[$a]:-}" == *"|$t|"* ]] || arch_tests[$a]+="|$t|"
done

rc=0
ctl_rows=()
for a in "${archs[@]}"; do
	log=$out/control-$a.log
	: >"$log"
	t0=$SECONDS
	kdir=$(build_kernel "$a" "" "$log") || { ctl_rows+=("$a|-|FAIL|series does not build, see $log|$((SECONDS - t0))"); rc=1; continue; }
	st=$(selftests_of "$a" "$log") || { ctl_rows+=("$a|-|FAIL|test binaries do not build, see $log|$((SECONDS - t0))"); rc=1; continue; }
	arch_kernel[$a]=$kdir
	mapfile -t tl < <(printf '%s' "${arch_tests[$a]:-}" | tr '|' '\n' | sed '/^$/d')
	[ ${#tl[@]} -gt 0 ] || continue
	key=$( { echo control; basename "$kdir"; basename "$st"; printf '%s\n' "${tl[@]}";
		 for id in "${ids[@]}"; do [ "${id%%/*}" = "$a" ] && trailer "$mdir/$id.patch" Mutant-Expect; done
		 echo "$inputs_hash"; } | sha256sum | cut -c1-16)
	if [ -z "${MUTANTS_NOCACHE:-}" ] && [ -f "$vcache/control-$key" ]; then
		say CONTROL "$a: cached pass ($(basename "$kdir"))"
		while IFS= read -r r; do ctl_rows+=("$r"); done <"$vcache/control-$key"
		continue
	fi
	say CONTROL "$a: boot $(basename "$kdir"): ${tl[*]}"
	o=$out/control-$a
	boot_tests "$a" "$kdir" "$st" "$o" "${tl[@]}"
	rows=() ok=1
	for t in "${tl[@]}"; do
		name=$(basename "${t%% *}")
		# the control must not print any expected failure of this test
		v=PASS seen=
		while IFS= read -r id; do
			[ "${id%%/*}" = "$a" ] || continue
			[ "$(trailer "$mdir/$id.patch" Mutant-Test)" = "$t" ] || continue
			IFS=$'\t' read -r v seen < <(judge "$o" "$name" "$(trailer "$mdir/$id.patch" Mutant-Expect)" control)
			[ "$v" = PASS ] || break
		done < <(printf '%s\n' "${ids[@]}")
		[ "$v" = PASS ] || ok=0
		rows+=("$a|$t|$v|${seen//|/\/}|$((SECONDS - t0))")
	done
	ctl_rows+=("${rows[@]}")
	if [ $ok -eq 1 ]; then
		printf '%s\n' "${rows[@]}" >"$vcache/control-$key"
	else
		rc=1
	fi
done

# ---- mutants ----------------------------------------------------------------
rows=()
ncaught=0 nknown=0 nbad=0
for id in "${ids[@]}"; do
	a=${id%%/*} f=$mdir/$id.patch
	of=$(trailer "$f" Mutant-Of) t=$(trailer "$f" Mutant-Test) ex=$(trailer "$f" Mutant-Expect)
	o=$out/$a-${id#*/}
	mkdir -p "$o"
	log=$o/build.log
	: >"$log"
	t0=$SECONDS
	v= seen= tb=0 tt=0
	if [ -z "$of" ] || [ -z "$t" ] || [ -z "$ex" ]; then
		v=INVALID seen="missing Mutant-Of/Mutant-Test/Mutant-Expect trailer"
	elif grep -qE '^\+\+\+ b/tools/' "$f"; then
		v=INVALID seen="a mutant must not change the tests (tools/)"
	elif ! kdir=$(build_kernel "$a" "$f" "$log"); then
		v="NOT CAUGHT" seen="does not apply or build: $(grep -m1 -iE 'does not apply|error' "$log" | cut -c1-100)"
	fi
	tb=$((SECONDS - t0))
	if [ -z "$v" ] && [ "$t" = none ]; then
		v="NOT CAUGHT" seen="no test catches it (builds: $(basename "$kdir"))"
	fi
	if [ -z "$v" ]; then
		name=$(basename "${t%% *}")
		st=$(selftests_of "$a" "$log") || st=
		key=$( { echo mutant; basename "$kdir"; basename "$st"; echo "$t"; echo "$ex";
			 echo "$inputs_hash"; } | sha256sum | cut -c1-16)
		if [ -z "$st" ]; then
			v="NOT CAUGHT" seen="test binaries do not build, see $log"
		elif [ -z "${MUTANTS_NOCACHE:-}" ] && [ -f "$vcache/mutant-$key" ]; then
			IFS=$'\t' read -r v seen <"$vcache/mutant-$key"
			seen="$seen (cached)"
		else
			say MUTANT "$id: boot $(basename "$kdir"), run $t"
			boot_tests "$a" "$kdir" "$st" "$o/boot" "$t"
			IFS=$'\t' read -r v seen < <(judge "$o/boot" "$name" "$ex" mutant)
			[ "$v" = CAUGHT ] && printf '%s\t%s\n' "$v" "$seen" >"$vcache/mutant-$key"
		fi
	fi
	tt=$((SECONDS - t0 - tb))
	esc=$(trailer "$f" Mutant-Escape)
	if [ -n "$esc" ] && [ "$v" = CAUGHT ]; then
		v="CAUGHT (stale Mutant-Escape)" nbad=$((nbad + 1))
		ncaught=$((ncaught + 1))
	elif [ -n "$esc" ] && [ "$v" = "NOT CAUGHT" ]; then
		v="NOT CAUGHT (declared)" seen="$seen; Mutant-Escape: $esc"
		nknown=$((nknown + 1))
	elif [ "$v" = CAUGHT ]; then
		ncaught=$((ncaught + 1))
	else
		nbad=$((nbad + 1))
	fi
	seen=${seen//|/\/}
	say "$v" "$id ($tb s build, $tt s boot+test)"
	rows+=("$id|${of%% *}|$t|$ex|$v|$seen|${tb}+${tt}")
done

# ---- table ------------------------------------------------------------------
{
	echo "control (unmutated series, the mutants' tests must pass):"
	echo "| arch | test | verdict | seen | s |"
	echo "|---|---|---|---|---|"
	for r in "${ctl_rows[@]}"; do echo "| ${r//|/ | } |"; done
	echo
	echo "mutants:"
	echo "| mutant | fix | test | expected failure | verdict | seen | s build+boot |"
	echo "|---|---|---|---|---|---|---|"
	for r in "${rows[@]}"; do echo "| ${r//|/ | } |"; done
	echo
	nc=0
	for r in "${rows[@]}"; do
		IFS='|' read -r id _ _ _ v _ _ <<<"$r"
		case $v in CAUGHT*) continue ;; esac
		[ $nc -eq 0 ] && echo "not caught:"
		echo "  $id ($v)"
		nc=$((nc + 1))
	done
	echo "${#rows[@]} mutants, $ncaught caught, $nknown declared escapes, $nbad unexpected ($((SECONDS - T0)) s)"
} | tee "$out/table.txt"
[ $nbad -eq 0 ] || rc=1
exit $rc
}
