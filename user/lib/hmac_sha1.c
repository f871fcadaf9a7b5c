// SPDX-License-Identifier: GPL-2.0-only
/*
 * HMAC-SHA1 (RFC 2104) of one datagram under its per-packet auth key, over
 * OpenSSL's SHA-1 block function through the SHA1_* calls: one SHA_CTX on
 * the stack, no provider dispatch and no allocation. Through EVP, OpenSSL 3.0
 * spends more than the SHA-1 blocks of a small packet on each digest init
 * (provider lookups, parameter parsing), twice per packet because the key
 * changes with every seq. The SHA1_* calls are deprecated in 3.0 but shipped,
 * and run the same assembly (SHA-NI, AVX2) as the provider; this file is the
 * only one that uses them. test_hmac checks it against EVP_MAC's HMAC.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <errno.h>
#include <string.h>

#include <openssl/sha.h>

#include "satp_internal.h"

/* RFC 2104 for SHA-1: its 64-byte block, and the pads XORed over the zero-padded key. */
#define HMAC_IPAD 0x36
#define HMAC_OPAD 0x5c
_Static_assert(SATP_AUTH_KEY_LEN <= SHA_CBLOCK, "the key is used as is, never hashed");
_Static_assert(SATP_TAG_MAX == SHA_DIGEST_LENGTH, "HMAC-SHA1 output");

static int sha1_run(const uint8_t key[SATP_AUTH_KEY_LEN], uint8_t pad, const uint8_t *p, size_t len,
		    uint8_t out[SHA_DIGEST_LENGTH])
{
	uint8_t block[SHA_CBLOCK];
	unsigned int i;
	SHA_CTX sha;
	int ok;

	for (i = 0; i < SATP_AUTH_KEY_LEN; i++)
		block[i] = key[i] ^ pad;
	memset(block + SATP_AUTH_KEY_LEN, pad, SHA_CBLOCK - SATP_AUTH_KEY_LEN);
	/* Nothing to cleanse: the key it holds stays in the direction's cache anyway. */
	ok = SHA1_Init(&sha) && SHA1_Update(&sha, block, SHA_CBLOCK) && SHA1_Update(&sha, p, len) &&
	     SHA1_Final(out, &sha);
	return ok ? 0 : -EIO;
}

int satp_hmac_sha1(const uint8_t key[SATP_AUTH_KEY_LEN], const uint8_t *p, size_t len,
		   uint8_t mac[SATP_TAG_MAX])
{
	uint8_t inner[SHA_DIGEST_LENGTH];
	int err;

	err = sha1_run(key, HMAC_IPAD, p, len, inner);
	if (!err)
		err = sha1_run(key, HMAC_OPAD, inner, sizeof(inner), mac);
	return err;
}
