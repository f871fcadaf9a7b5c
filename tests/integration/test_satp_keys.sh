#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# satp genkey / satp pubkey: keys in wg's base64, the RFC 7748 §6.1 known
# answer, and refusals of bad input. No namespaces needed.
set -u
cd "$(dirname "$0")/../.."
SATP=${BUILD:-build}/satp
fail=0
ok() { echo "ok   $1"; }
not_ok() { echo "FAIL $1"; fail=1; }

b64() { python3 -c 'import base64,sys; print(base64.b64encode(bytes.fromhex(sys.stdin.read().strip())).decode())'; }
# RFC 7748 §6.1: Alice's private key and the public key it gives.
alice_priv=$(echo 77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a | b64)
alice_pub=$(echo 8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a | b64)

got=$(echo "$alice_priv" | "$SATP" pubkey)
[ "$got" = "$alice_pub" ] && ok "pubkey of RFC 7748 Alice" || not_ok "pubkey of RFC 7748 Alice: '$got'"

k1=$("$SATP" genkey) k2=$("$SATP" genkey)
[ ${#k1} -eq 44 ] && [ "$k1" != "$k2" ] && ok "genkey: 44 characters, fresh each time" ||
	not_ok "genkey: '$k1' '$k2'"
p1=$(echo "$k1" | "$SATP" pubkey) p1b=$(echo "$k1" | "$SATP" pubkey)
[ ${#p1} -eq 44 ] && [ "$p1" = "$p1b" ] && [ "$p1" != "$k1" ] && ok "genkey | pubkey is deterministic" ||
	not_ok "genkey | pubkey: '$p1' '$p1b'"

for bad in "x" "" "${alice_priv%?}" "${alice_priv}AAAA" "!!!!${alice_priv:4}"; do
	if echo "$bad" | "$SATP" pubkey >/dev/null 2>&1; then
		not_ok "pubkey accepted '$bad'"
	else
		ok "pubkey refuses '$bad'"
	fi
done
"$SATP" genkey extra >/dev/null 2>&1
[ $? -eq 2 ] && ok "genkey with an argument: usage error" || not_ok "genkey with an argument"

[ $fail -eq 0 ] && echo PASS || echo FAIL
exit $fail
