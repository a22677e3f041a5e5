#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Series hygiene for the riscv KVM patch series (make kernel-check).
#
# usage: check-series.sh [PATCHDIR]          (default kernel/patches/riscv)
#        check-series.sh --import            only the IMPORT step; prints the
#                                            scratch repo (tag "pristine")
#        check-series.sh --no-build [PATCHDIR]  IMPORT, APPLY and CHECKPATCH
#                                            only (the builds need a full
#                                            defconfig build: long on a loaded
#                                            host); never records a pass
#
# Steps, one progress line each, full logs in $CACHE/logs/kernel-check-*.log:
#   IMPORT     pristine Debian tree imported once into a scratch git repo
#              ($CACHE/kernel-check/linux, tag "pristine")
#   APPLY      `git am --whitespace=error` of the whole series onto a fresh
#              checkout of the pristine commit (one commit per patch)
#   CHECKPATCH scripts/checkpatch.pl --strict on every patch: 0 errors,
#              0 warnings (but an allowed FILE_PATH_CHANGES); a CHECK passes
#              only if PATCHDIR/checkpatch-allow.txt
#              lists it with a justification (no file: no CHECK allowed)
#   W1-BASE    W=1 build of arch/riscv/kvm/ at the pristine commit
#   BUILD i/N  every prefix: kernel patches build `vmlinux` (the last kernel
#              patch builds the full `Image`), incremental in one persistent
#              O= dir; selftest patches build the selftests they touch
#              (static, against headers_install of that prefix).  A compiler
#              warning in a file the series touches fails the prefix.
#   W1-HEAD    W=1 build of arch/riscv/kvm/ at the last kernel patch; any
#              W=1 warning not already present at the pristine commit fails
#              (compared as "file: message [-Wflag]", line numbers ignored)
#
# checkpatch-allow.txt (owned by the series author), one entry per line,
# '#' starts a comment:
#     PATCH  TYPE  justification...
# PATCH is the patch file name, its 4-digit number (0004) or '*'; TYPE is
# the checkpatch type (as printed by --show-types, e.g. MACRO_ARG_REUSE).
# An entry without a justification is ignored.  Only CHECKs and the
# FILE_PATH_CHANGES (new file, MAINTAINERS heuristic) and UNKNOWN_COMMIT_ID
# (Fixes: of an upstream commit the pristine tree has no history for)
# warnings can be allowed.
#
# A pass is recorded as $CACHE/kernel-check/pass-<key>, key = hash of the
# patches, checkpatch-allow.txt, config fragment, pristine version,
# toolchain and this script: an unchanged re-run is instant.
# Exit 0 all passed, 1 something failed (summary at the end), 2 usage.
set -uo pipefail
{
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
CACHE=${CACHE:-/var/cache/kvm-lazytop}
JOBS=${JOBS:-2}
CROSS=riscv64-linux-gnu-
import_only= no_build=
if [ "${1:-}" = --import ]; then import_only=1; shift; fi
if [ "${1:-}" = --no-build ]; then no_build=1; shift; fi
patchdir=$(cd "${1:-$top/kernel/patches/riscv}" 2>/dev/null && pwd) || {
	echo "usage: check-series.sh [--import] [PATCHDIR]" >&2; exit 2; }
frag=$top/kernel/configs/riscv64.config
allow=$patchdir/checkpatch-allow.txt
work=$CACHE/kernel-check
repo=$work/linux
obj=$work/obj
stobj=$work/selftests-obj
hdr=$work/headers
logs=$CACHE/logs
mkdir -p "$work" "$logs"

say() { printf '  %-10s %s\n' "$1" "$2"; }
die() { echo "check-series.sh: $*" >&2; exit 1; }
T0=$SECONDS
el() { local s=$((SECONDS - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

pristine=$("$here/fetch-source.sh") || die "no pristine tree"
mapfile -t series < <(find "$patchdir" -maxdepth 1 -name '[0-9]*.patch' \
	! -name '0000-cover-letter.patch' | LC_ALL=C sort)
[ ${#series[@]} -gt 0 ] || die "no patches in $patchdir"
N=${#series[@]}

key=$( {
	head -6 "$pristine/Makefile"
	for f in "${series[@]}" "$frag"; do echo "== $(basename "$f")"; cat "$f"; done
	echo "== allow"; cat "$allow" 2>/dev/null
	cat "$0"
	${CROSS}gcc --version | head -1
} | sha256sum | cut -c1-16)
stamp=$work/pass-$key
if [ -z "$import_only" ] && [ -f "$stamp" ]; then
	say PASS "$N patches, cached ($stamp)"
	sed 's/^/    /' "$stamp"
	exit 0
fi

exec 9>"$work/lock"
flock 9

# ---- IMPORT ------------------------------------------------------------
ver=$(head -6 "$pristine/Makefile" | sha256sum | cut -c1-16)
git_() { git -C "$repo" -c gc.auto=0 -c maintenance.auto=false -c user.name=kernel-check -c user.email=kernel-check@localhost \
	-c core.autocrlf=false -c advice.detachedHead=false "$@"; }
if [ "$(cat "$work/linux.version" 2>/dev/null)" != "$ver" ] ||
   ! git_ rev-parse -q --verify pristine >/dev/null 2>&1; then
	t=$SECONDS
	rm -rf "$repo" "$obj" "$stobj" "$work/linux.version"
	mkdir -p "$repo"
	log=$logs/kernel-check-import.log
	{
		rsync -a --exclude=/.unpacked "$pristine/" "$repo/" &&
		git_ init -q && git_ add -A -f . &&
		git_ commit -q -m "pristine $(basename "$pristine")" &&
		git_ tag pristine
	} >"$log" 2>&1 || die "importing $pristine into $repo failed, see $log"
	echo "$ver" >"$work/linux.version"
	say IMPORT "$pristine -> $repo in $(el $t)"
else
	say IMPORT "reuse $repo"
fi
if [ -n "$import_only" ]; then
	echo "$repo"
	exit 0
fi

fails=()
fail() { fails+=("$*"); echo "    FAIL: $*"; }

# ---- APPLY ---------------------------------------------------------------
log=$logs/kernel-check-apply.log
git_ am --abort >/dev/null 2>&1
git_ checkout -q -f -B series pristine >"$log" 2>&1 || die "checkout failed, see $log"
git_ clean -q -f -d -x >>"$log" 2>&1
if git_ am -q --whitespace=error "${series[@]}" >>"$log" 2>&1; then
	mapfile -t commits < <(git_ rev-list --reverse pristine..series)
	[ ${#commits[@]} -eq "$N" ] || die "git am made ${#commits[@]} commits for $N patches"
	say APPLY "$N patches apply cleanly to $(basename "$pristine") (git am, whitespace=error)"
else
	bad=$(sed -n 's/^Patch failed at \([0-9]*\) \(.*\)$/\1 \2/p' "$log" | head -1)
	say APPLY "FAIL at ${bad:-?}"
	sed -n '1,15p' "$log" | sed 's/^/    /'
	git_ am --abort >/dev/null 2>&1
	die "series does not apply, see $log"
fi

# ---- CHECKPATCH ------------------------------------------------------------
declare -A allowed=()
nallow=0
if [ -f "$allow" ]; then
	while read -r p ty just; do
		case "$p" in ''|'#'*) continue ;; esac
		ty=${ty%:}; just=${just#-- }; just=${just#: }
		[ -n "$just" ] || { echo "    note: $allow: '$p $ty' has no justification, ignored"; continue; }
		allowed["$p $ty"]=1; nallow=$((nallow + 1))
	done < <(sed 's/#.*//' "$allow")
fi
log=$logs/kernel-check-checkpatch.log
: >"$log"
cp_bad=0
for p in "${series[@]}"; do
	b=$(basename "$p") num=${b%%-*}
	out=$(cd "$repo" && perl scripts/checkpatch.pl --strict --show-types "$p" 2>&1)
	{ echo "==== $b"; echo "$out"; } >>"$log"
	ne=$(grep -c '^ERROR:' <<<"$out") nw=$(grep -c '^WARNING:' <<<"$out")
	nc=0 na=0 un=()
	while read -r ty; do
		[ -n "$ty" ] || continue
		nc=$((nc + 1))
		if [ -n "${allowed["$b $ty"]:-}${allowed["$num $ty"]:-}${allowed["* $ty"]:-}" ]; then
			na=$((na + 1))
		else
			un+=("$ty")
		fi
	done < <(sed -n 's/^CHECK:\([A-Z0-9_]*\):.*/\1/p' <<<"$out")
	# The one WARNING that may be allowed is FILE_PATH_CHANGES, checkpatch's
	# "does MAINTAINERS need updating?" heuristic for any added file: it
	# cannot be avoided for a new selftest whose directory MAINTAINERS
	# already covers.  UNKNOWN_COMMIT_ID too: the pristine Debian tree has
	# no upstream history, so a Fixes: tag naming an upstream commit cannot
	# be resolved.  Every other warning fails.
	nwa=0
	while read -r ty; do
		case $ty in FILE_PATH_CHANGES|UNKNOWN_COMMIT_ID) ;; *) continue ;; esac
		if [ -n "${allowed["$b $ty"]:-}${allowed["$num $ty"]:-}" ]; then
			nwa=$((nwa + 1))
		fi
	done < <(sed -n 's/^WARNING:\([A-Z0-9_]*\):.*/\1/p' <<<"$out")
	st=ok
	if [ "$ne" -gt 0 ] || [ "$nw" -gt "$nwa" ] || [ ${#un[@]} -gt 0 ]; then st=FAIL; cp_bad=$((cp_bad + 1)); fi
	say CHECKPATCH "$b: $ne errors, $nw warnings ($nwa allowed), $nc checks ($na allowed) $st"
	if [ "$st" = FAIL ]; then
		# print every offending message with its location line
		awk -v allowlist="$(printf '%s\n' "${!allowed[@]}")" -v b="$b" -v num="$num" '
			BEGIN { n = split(allowlist, a, "\n"); for (i = 1; i <= n; i++) ok[a[i]] = 1 }
			/^(ERROR|WARNING|CHECK):/ {
				split($0, f, ":"); ty = f[2]
				show = ($1 != "CHECK") || !((b " " ty) in ok || (num " " ty) in ok || ("* " ty) in ok)
				if (show) { print "      " $0; getline; if ($0 ~ /^#/) print "        " $0 }
			}' <<<"$out"
	fi
done
if [ ! -f "$allow" ]; then
	echo "    (no $(basename "$allow") in $patchdir: no CHECK is allowed)"
fi
[ "$cp_bad" -eq 0 ] || fail "checkpatch: $cp_bad of $N patches not clean (see $log)"
if [ -n "$no_build" ]; then
	git_ checkout -q -f series >/dev/null 2>&1
	if [ ${#fails[@]} -gt 0 ]; then
		say RESULT "FAIL (--no-build: apply + checkpatch only, $(el $T0)):"
		printf '    - %s\n' "${fails[@]}"
		exit 1
	fi
	say RESULT "apply + checkpatch clean (--no-build: W=1 and the prefix builds NOT run, $(el $T0))"
	exit 0
fi

# ---- helpers for the builds ---------------------------------------------------
kmake() { make -C "$repo" O="$obj" ARCH=riscv CROSS_COMPILE=$CROSS -j"$JOBS" "$@"; }
configure() {
	mkdir -p "$obj"
	sed -e 's/[[:space:]]*#.*required$//' -e 's/[[:space:]]*#optional$//' \
	    -e 's/^\(CONFIG_[A-Za-z0-9_]*\)=n$/# \1 is not set/' "$frag" >"$obj/frag.config"
	kmake defconfig &&
	(cd "$obj" && "$repo/scripts/kconfig/merge_config.sh" -m -O "$obj" \
		"$obj/.config" "$obj/frag.config") &&
	kmake olddefconfig
}
# W=1 warnings of arch/riscv/kvm/, normalised: "path: message [-Wflag]"
w1_warnings() {
	local log=$1
	find "$obj/arch/riscv/kvm" -name '*.o' -delete 2>/dev/null
	kmake W=1 arch/riscv/kvm/ >"$log" 2>&1 || return 1
	{ grep -E '^[^ ]+:[0-9]+:[0-9]+: warning: ' "$log" || true; } |
		sed -E -e "s|^$repo/||" -e 's|^\.\./linux/||' \
		    -e 's/^([^:]+):[0-9]+:[0-9]+: warning: /\1: /' | LC_ALL=C sort
}
# first compiler errors of a build log (or the first make error)
build_errors() {
	{ grep -E ': (fatal )?error: ' "$1" || grep -F '***' "$1"; } | head -n 4 |
		sed "s|$repo/||; s/^/        /"
}
# compiler warnings of files touched by the series in a build log
touched_re=$(cat "${series[@]}" | sed -n 's|^+++ b/\(.*\)$|\1|p' | LC_ALL=C sort -u |
	sed 's/[.[\*^$]/\\&/g' | paste -sd'|')
touched_warnings() {
	grep -E '^[^ ]+:[0-9]+:[0-9]+: warning: ' "$1" | sed -e "s|^$repo/||" |
		grep -E "^($touched_re):" || true
}
# selftests a patch adds or modifies (file names relative to the kvm dir)
st_targets() {
	local p=$1
	sed -n -e 's|^+TEST_GEN_PROGS_riscv[[:space:]]*+=[[:space:]]*\([^[:space:]]*\).*|\1|p' "$p"
	sed -n 's|^+++ b/tools/testing/selftests/kvm/\(.*\)\.c$|\1|p' "$p" |
		grep -vE '^(lib|include)/' || true
}

# ---- CONFIG + W1-BASE -----------------------------------------------------
log=$logs/kernel-check-config.log
git_ checkout -q -f pristine >"$log" 2>&1 || die "checkout pristine failed"
t=$SECONDS
configure >>"$log" 2>&1 || die "configuration failed, see $log"
say CONFIG "defconfig + $(basename "$frag"), $(grep -c '=y' "$obj/.config") options =y"
t=$SECONDS
w1base=$work/w1-base.txt
w1_warnings "$logs/kernel-check-w1-base.log" >"$w1base" ||
	die "W=1 build of arch/riscv/kvm/ at the pristine commit failed, see $logs/kernel-check-w1-base.log"
say W1-BASE "arch/riscv/kvm/ at pristine: $(wc -l <"$w1base") W=1 warnings ($(el $t))"

# ---- BUILD every prefix -------------------------------------------------------
last_kernel=0
kind=()
for i in $(seq 1 "$N"); do
	p=${series[$((i - 1))]}
	k= s=
	sed -n 's|^+++ b/\(.*\)$|\1|p; s|^--- a/\(.*\)$|\1|p' "$p" | grep -qv '^tools/testing/selftests/' && k=k
	grep -qE '^(\+\+\+ b|--- a)/tools/testing/selftests/' "$p" && s=s
	kind[$i]=$k$s
	[ -n "$k" ] && last_kernel=$i
done
sttargets=()
w1head_done=
build_summary=()
for i in $(seq 1 "$N"); do
	p=${series[$((i - 1))]} b=$(basename "${series[$((i - 1))]}")
	log=$logs/kernel-check-build-$(printf '%02d' "$i").log
	git_ checkout -q -f "${commits[$((i - 1))]}" >"$log" 2>&1 || die "checkout of prefix $i failed"
	t=$SECONDS
	what=() ok=1
	if [[ ${kind[$i]} == *k* ]]; then
		tgt=vmlinux
		[ "$i" -eq "$last_kernel" ] && tgt=Image
		if kmake "$tgt" >>"$log" 2>&1; then
			what+=("$tgt")
		else
			ok=
			what+=("$tgt FAILED")
			fail "prefix $i ($b): $tgt build failed:"
			build_errors "$log"
		fi
		tw=$(touched_warnings "$log")
		if [ -n "$tw" ]; then
			ok=
			fail "prefix $i ($b): compiler warnings in files the series touches:"
			sed 's/^/        /' <<<"$tw" | head -n 10
		fi
	fi
	if [[ ${kind[$i]} == *s* ]]; then
		mapfile -t -O "${#sttargets[@]}" sttargets < <(st_targets "$p")
		mapfile -t sttargets < <(printf '%s\n' "${sttargets[@]}" | awk 'NF && !seen[$0]++')
		rm -rf "$hdr"
		if ! kmake headers_install INSTALL_HDR_PATH="$hdr" >>"$log" 2>&1; then
			ok=; fail "prefix $i ($b): headers_install failed"
		else
			mkdir -p "$stobj"
			targets=()
			for s in "${sttargets[@]}"; do targets+=("$stobj/$s"); rm -f "$stobj/$s"; done
			if [ ${#targets[@]} -eq 0 ]; then targets=(all); fi
			if make -C "$repo/tools/testing/selftests/kvm" -j"$JOBS" \
				ARCH=riscv CROSS_COMPILE=$CROSS OUTPUT="$stobj" \
				INSTALL_HDR_PATH="$hdr" LINUX_HDR_PATH="$hdr/include/" \
				KHDR_INCLUDES="-isystem $hdr/include" \
				LDFLAGS="-static -pthread -no-pie" "${targets[@]}" >>"$log" 2>&1; then
				what+=("selftests: ${sttargets[*]:-all}")
			else
				ok=
				what+=("selftests FAILED")
				fail "prefix $i ($b): selftests build failed (${sttargets[*]}):"
				build_errors "$log"
			fi
			tw=$(touched_warnings "$log")
			if [ -n "$tw" ]; then
				ok=
				fail "prefix $i ($b): selftest compiler warnings in files the series touches:"
				sed 's/^/        /' <<<"$tw" | head -n 10
			fi
		fi
	fi
	st=ok; [ -n "$ok" ] || st=FAIL
	say "BUILD $i/$N" "${b:0:50}: ${what[*]} $st ($(el $t))"
	build_summary+=("prefix $i: ${what[*]} $st")
	if [ "$i" -eq "$last_kernel" ]; then
		t=$SECONDS
		w1head=$work/w1-head.txt
		if [ -z "$ok" ]; then
			say W1-HEAD "skipped, head kernel build failed"
			fail "W=1: not checked (head kernel build failed)"
		elif ! w1_warnings "$logs/kernel-check-w1-head.log" >"$w1head"; then
			say W1-HEAD "FAIL: W=1 build of arch/riscv/kvm/ failed"
			fail "W=1 build of arch/riscv/kvm/ at the head failed, see $logs/kernel-check-w1-head.log"
		else
			new=$(LC_ALL=C comm -13 "$w1base" "$w1head")
			nn=$(grep -c . <<<"$new")
			say W1-HEAD "arch/riscv/kvm/ at patch $i: $(wc -l <"$w1head") W=1 warnings, $nn new ($(el $t))"
			if [ "$nn" -gt 0 ]; then
				fail "W=1: $nn new warnings in arch/riscv/kvm/ (see $logs/kernel-check-w1-head.log):"
				sed 's/^/        /' <<<"$new" | head -n 15
			fi
		fi
		w1head_done=1
	fi
done

# leave the worktree at the head of the series
git_ checkout -q -f series >/dev/null 2>&1

if [ ${#fails[@]} -gt 0 ]; then
	say RESULT "FAIL (${#fails[@]} problems, $(el $T0)), logs in $logs/kernel-check-*.log:"
	printf '    - %s\n' "${fails[@]}"
	exit 1
fi
{
	echo "$N patches apply, checkpatch --strict clean ($nallow allow entries), W=1 clean"
	printf '%s\n' "${build_summary[@]}"
} >"$stamp.tmp" && mv "$stamp.tmp" "$stamp"
say RESULT "PASS: $N patches in $(el $T0) (stamp $stamp)"
exit 0
}
