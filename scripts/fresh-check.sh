#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make fresh-check: README's quick start, as a new user runs it, in a fresh
# Debian 12 root (debootstrap minbase, then only git and make), so that an
# install step missing from scripts/deps.sh fails here and not at a user's.
#
#   scripts/fresh-check.sh [TARGET...]      default: demo test
#
# The repository is cloned at HEAD (what is committed, as CI sees it) into the
# root, alone: nothing beside it (the tests keep their own captures). The root runs in a mount
# namespace of its own with /proc, /sys, /dev and a fresh /run and /tmp; the
# kernel, its network namespaces and XDP are the host's. The base system is
# built once and kept as a tarball (FRESH_CACHE); every run unpacks it anew.
# FRESH_KEEP=1 keeps the root for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
CACHE=${FRESH_CACHE:-/var/cache/satpd-fresh}
BASE=$CACHE/bookworm-minbase.tar
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(demo test)

say() { printf '==> fresh-check: %s\n' "$*"; }
die() {
	printf 'fresh-check: %s\n' "$*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mounts)"

# The mirror this machine's apt uses for bookworm (deb822 or one-line sources).
debian_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '/^URIs:/ { u = $2 } /^Suites:/ && / bookworm( |$)/ { print u; exit }' "$f"
	done | head -1
	awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list 2>/dev/null
}

build_base() {
	local mirror tmp
	mirror=$(debian_mirror | head -1)
	[ -n "$mirror" ] || die "no bookworm mirror in this machine's apt sources"
	command -v debootstrap >/dev/null || {
		say "installing debootstrap"
		apt-get install -y -qq debootstrap >/dev/null
	}
	mkdir -p "$CACHE"
	tmp=$(mktemp -d "$CACHE/base.XXXXXX")
	say "debootstrap --variant=minbase bookworm (once; kept in $BASE)"
	debootstrap --variant=minbase bookworm "$tmp" "$mirror" >"$CACHE/debootstrap.log" 2>&1 ||
		{ tail -20 "$CACHE/debootstrap.log" >&2; rm -rf "$tmp"; die "debootstrap failed"; }
	tar -C "$tmp" -cf "$BASE.part" . && mv "$BASE.part" "$BASE"
	rm -rf "$tmp"
}

[ -f "$BASE" ] || build_base
ROOT=$(mktemp -d /var/tmp/satpd-fresh.XXXXXX)
cleanup() {
	[ -n "${FRESH_KEEP:-}" ] && { say "kept $ROOT"; return; }
	rm -rf --one-file-system "$ROOT"
}
trap cleanup EXIT
tar -C "$ROOT" -xf "$BASE"
# apt-get in the root resolves names as this machine does (a machine may have no resolv.conf)
[ ! -f /etc/resolv.conf ] || cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
git clone -q "$REPO" "$ROOT/root/satpd"

# What the user types: README's quick start, as root in the new root.
cat >"$ROOT/root/quickstart.sh" <<EOF
set -e
export DEBIAN_FRONTEND=noninteractive PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
apt-get update -qq
apt-get install -y -qq make git >/dev/null
cd /root/satpd
for t in ${targets[*]}; do
	echo "==> fresh-check: make \$t"
	make "\$t"
done
EOF

say "running 'make ${targets[*]}' in $ROOT"
unshare --mount --propagation private bash -euc '
	r=$1
	# ip netns exec remounts / as a slave: / must be a mount point in the root.
	mount --bind "$r" "$r"
	mount -t proc proc "$r/proc"
	mount --rbind /sys "$r/sys"
	mount --rbind /dev "$r/dev"
	mount -t tmpfs tmpfs "$r/run"
	mount -t tmpfs tmpfs "$r/tmp"
	exec chroot "$r" /usr/bin/env -i HOME=/root TERM=dumb CI="${CI:-}" bash /root/quickstart.sh
' fresh "$ROOT"
say "passed: make ${targets[*]}"
