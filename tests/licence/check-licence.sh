#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# check-licence.sh TOP BPF_OBJ... - the licence the project states holds:
#   - every source of the tool (tools/kvm-lazytop/*.c, *.h) says
#     SPDX-License-Identifier: GPL-2.0-only (COPYING: the binary is GPL-2.0),
#     and the other files there with an SPDX line (man pages, completion,
#     make files) say GPL-2.0 or GPL-2.0-only;
#   - COPYING exists and names GPL-2.0-only for the tool, README.md has a
#     Licence section, LICENSES/ holds the text of every licence used;
#   - every BPF object's "license" section is GPL-compatible for the
#     kernel ("GPL" or "Dual BSD/GPL"), else the GPL-only helpers and
#     fentry/fexit programs would be refused at load time.
# Prints one line per failure and "check-licence: N passed, N failed".
set -u
top=$1
shift
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "  FAIL    $*"; fail=$((fail + 1)); }

for f in "$top"/tools/kvm-lazytop/*.[ch]; do
	if head -n 3 "$f" | grep -q 'SPDX-License-Identifier: GPL-2.0-only\( \|$\)'; then
		ok
	else
		bad "${f#"$top"/}: $(head -n 3 "$f" | grep -o 'SPDX-License-Identifier: .*' ||
			echo 'no SPDX-License-Identifier') (want GPL-2.0-only)"
	fi
done

# the rest of the tool's directory (man pages, completion, make files) is GPL-2.0 too
for f in $(git -C "$top" grep -l -E '^.{0,4}SPDX-License-Identifier' -- tools/kvm-lazytop); do
	case "$f" in *.c | *.h) continue ;; esac
	if head -n 3 "$top/$f" | grep -q -E 'SPDX-License-Identifier: GPL-2.0(-only)?( |$)'; then
		ok
	else
		bad "$f: $(head -n 3 "$top/$f" | grep -o 'SPDX-License-Identifier: .*') (want GPL-2.0-only)"
	fi
done
if grep -qs 'GPL-2.0-only' "$top/COPYING"; then ok; else bad "COPYING: missing or does not state GPL-2.0-only"; fi
if grep -qs '^## Licence' "$top/README.md"; then ok; else bad "README.md: no '## Licence' section"; fi
# every identifier used in an SPDX line of the tree has its text in LICENSES/
git -C "$top" rev-parse --git-dir >/dev/null 2>&1 || bad "$top: not a git checkout (git grep lists the SPDX lines)"
# (an SPDX line: a comment, possibly an added line of a patch, opening with the tag)
for id in $(git -C "$top" grep -h -o -E '^[+]?(//|/\*|#|<!--|\.\\") *SPDX-License-Identifier: (\([^)]*\)|[A-Za-z0-9.+-]+)' \
		-- ':!LICENSES' | sed 's/.*Identifier: //; s/[()]//g; s/ OR / /g' | tr ' ' '\n' |
		sed 's/-only$//' | sort -u); do
	if [ -f "$top/LICENSES/$id" ]; then ok; else bad "LICENSES/$id: missing (an SPDX line names $id)"; fi
done

[ $# -gt 0 ] || bad "no BPF object given"
for o in "$@"; do
	lic=$(readelf -p license "$o" 2>/dev/null | sed -n 's/^ *\[ *0\] *//p')
	case "$lic" in
	GPL | "Dual BSD/GPL") ok ;;
	*) bad "$(basename "$o"): license section '${lic:-<none>}' (want GPL or Dual BSD/GPL)" ;;
	esac
done

echo "check-licence: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
