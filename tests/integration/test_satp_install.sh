#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make install DESTDIR=... PREFIX=/usr` lays out what an operator needs: both
# binaries, both man pages (rendering without groff warnings), the systemd
# template unit pointing at the installed satpd and /etc/satpd/<instance>/config,
# and a bash completion that completes satp's subcommands. Uses the binaries
# already built (make -o all): the suite builds them first.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
TMP=$(mktemp -d /tmp/satp-install.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

fail() {
	echo "FAIL: $*"
	exit 1
}

for b in satp satpd; do
	[ -x "$BUILD/$b" ] || fail "$BUILD/$b not built (make tests)"
done
make --no-print-directory -s -o all install BUILD="$BUILD" DESTDIR="$TMP/root" PREFIX=/usr \
	>"$TMP/log" 2>&1 || fail "make install: $(cat "$TMP/log")"
R=$TMP/root
want() { # want MODE PATH
	[ -f "$R$2" ] || fail "missing $2"
	[ "$(stat -c %a "$R$2")" = "$1" ] || fail "$2 has mode $(stat -c %a "$R$2"), want $1"
}
want 755 /usr/sbin/satpd
want 755 /usr/bin/satp
want 644 /usr/share/man/man8/satpd.8
want 644 /usr/share/man/man8/satp.8
want 644 /usr/lib/systemd/system/satpd@.service
want 644 /usr/share/bash-completion/completions/satp
unexpected=$(cd "$R" && find . -type f | sort | grep -v -x -e ./usr/sbin/satpd -e ./usr/bin/satp \
	-e ./usr/share/man/man8/satpd.8 -e ./usr/share/man/man8/satp.8 \
	-e ./usr/lib/systemd/system/satpd@.service -e ./usr/share/bash-completion/completions/satp)
[ -z "$unexpected" ] || fail "unexpected files installed: $unexpected"
echo "ok   layout: binaries, man pages, unit, completion, with their modes"

"$R/usr/bin/satp" help | grep -q "reset-window" || fail "installed satp does not run"
# The man pages lint clean: groff's warnings (-ww) and mandoc's warnings and errors (-Tlint
# -W warning; its STYLE notes, such as lines longer than 80 bytes, are not warnings). The
# tools are in scripts/deps.sh: a missing one fails here rather than skips the check.
for c in groff mandoc systemd-analyze; do
	command -v "$c" >/dev/null || fail "$c is not installed (scripts/deps.sh installs it)"
done
for m in satp satpd; do
	out=$(groff -man -ww -z "$R/usr/share/man/man8/$m.8" 2>&1)
	[ -z "$out" ] || fail "$m.8: groff warns: $out"
	out=$(mandoc -Tlint -W warning "$R/usr/share/man/man8/$m.8" 2>&1)
	[ -z "$out" ] || fail "$m.8: mandoc warns: $out"
done
echo "ok   man pages lint clean (groff -ww, mandoc -Tlint -W warning)"

U=$R/usr/lib/systemd/system/satpd@.service
grep -qx 'ExecStart=/usr/sbin/satpd --config /etc/satpd/%i/config -D' "$U" || fail "unit ExecStart: $(grep ExecStart "$U")"
grep -q '@' <(grep -v '^#' "$U" | grep -v 'satpd@\|%i') && fail "unsubstituted @VAR@ in the unit"
grep -qx 'RuntimeDirectory=satpd' "$U" || fail "unit lacks RuntimeDirectory=satpd"
# systemd-analyze verify, every message a failure. Its ExecStart must be executable: the
# copy verified points at the installed satpd under $R. Documentation= pages are checked
# here rather than by verify's man(1) lookup (--man=no: the pages are not in man's path).
sed "s|=/usr/sbin/satpd|=$R/usr/sbin/satpd|" "$U" >"$TMP/satpd@.service"
systemd-analyze verify --man=no "$TMP/satpd@.service" >"$TMP/verify" 2>&1 ||
	fail "systemd-analyze verify: $(cat "$TMP/verify")"
[ ! -s "$TMP/verify" ] || fail "systemd-analyze verify warns: $(cat "$TMP/verify")"
# shellcheck disable=SC2013 # one line, several pages separated by spaces
for d in $(sed -n 's/^Documentation=//p' "$U"); do
	page=${d#man:}
	name=${page%%(*} sec=${page#*(}
	sec=${sec%)}
	[ -f "$R/usr/share/man/man$sec/$name.$sec" ] || fail "the unit documents $d, not installed"
done
echo "ok   unit: ExecStart reads /etc/satpd/<instance>/config through the installed satpd; systemd-analyze verify is silent"

got=$(bash -c '
. "$1"
COMP_WORDS=(satp re); COMP_CWORD=1; _satp; echo "${COMPREPLY[*]}"
COMP_WORDS=(satp conn ""); COMP_CWORD=2; _satp; echo "${COMPREPLY[*]}"
COMP_WORDS=(satp conn add 5 ro); COMP_CWORD=4; _satp; echo "${COMPREPLY[*]}"
COMP_WORDS=(satp route ""); COMP_CWORD=2; _satp; echo "${COMPREPLY[*]}"
COMP_WORDS=(satp session set 5 tx-); COMP_CWORD=4; _satp; echo "${COMPREPLY[*]}"' _ "$R/usr/share/bash-completion/completions/satp")
[ "$got" = $'reset-window\nadd change del\nrole route\nadd del\ntx-key tx-salt' ] ||
	fail "completion: got '$got'"
echo "ok   bash completion: subcommands, conn actions, fields, route and session"
# The completion offers exactly the subcommands `satp help` lists.
want=$("$R/usr/bin/satp" help 2>&1 | awk '/^Available subcommands:/{on=1; next} on && !NF {exit} on {print $1}' | sort | tr '\n' ' ')
offered=$(bash -c '. "$1"; COMP_WORDS=(satp ""); COMP_CWORD=1; _satp; printf "%s\n" "${COMPREPLY[@]}"' _ \
	"$R/usr/share/bash-completion/completions/satp" | sort | tr '\n' ' ')
[ "$want" = "$offered" ] || fail "completion offers '$offered', satp help lists '$want'"
echo "ok   bash completion: the same subcommands as satp help"
echo "PASS"
