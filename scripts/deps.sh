#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install everything satpd builds, tests and benchmarks with, from Debian 12
# packages. Idempotent and quiet when all is there already.
set -euo pipefail

PKGS=(
	make gcc clang llvm pkg-config
	libbpf-dev libxdp-dev libelf-dev zlib1g-dev libssl-dev libpcap-dev libmnl-dev libcmocka-dev
	bpftool xdp-tools
	iproute2 iputils-ping tcpdump iperf3 procps psmisc kmod netcat-openbsd curl nftables
	python3 python3-scapy python3-cryptography
	uanytun anytun bird2
	cppcheck clang-tidy clang-format valgrind
	# test_features reads the per-queue XDP counters of a veth (ethtool -S).
	ethtool
	# uanytun and anytun configure their device with /sbin/ifconfig (-n); libFuzzer and the
	# ASan runtime are in libclang-rt, a recommends of clang that --no-install-recommends skips.
	net-tools libclang-rt-14-dev
	# The man pages' and the unit's linters (test_satp_install.sh); /metrics parsed by the
	# reference Prometheus parser (test_metrics_parse.sh).
	groff-base mandoc systemd python3-prometheus-client
)

missing=()
for p in "${PKGS[@]}"; do
	# dpkg-query prints "install ok installed" only for a fully installed package.
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
	cat "$log" >&2
	echo "deps.sh: apt-get failed" >&2
	exit 1
fi
# uanytun/anytun/bird2 packages ship init scripts; the tests start their own peers and BIRDs.
for svc in uanytun anytun bird; do
	if command -v systemctl >/dev/null && systemctl is-active -q "$svc" 2>/dev/null; then
		systemctl stop "$svc" || true
	fi
done
echo "deps.sh: done"
