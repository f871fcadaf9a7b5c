// SPDX-License-Identifier: GPL-2.0-only
/* Master key and salt from the command line: hex strings or a passphrase (-K -A -E). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "satp.h"
#include "textbuf.h"

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int satp_hex_parse(const char *hex, uint8_t *out, size_t cap, size_t want, size_t *len, char *err,
		   size_t errlen)
{
	size_t digits, i, n;
	int hi, lo;

	if (!hex || !*hex)
		return satp_errf(err, errlen, "empty hex string \"\"");
	digits = strlen(hex);
	for (i = 0; i < digits; i++) {
		if (hex_value(hex[i]) >= 0)
			continue;
		if (isprint((unsigned char)hex[i]))
			return satp_errf(err, errlen, "\"%s\": bad hex digit '%c' at offset %zu",
					 hex, hex[i], i);
		return satp_errf(err, errlen, "\"%s\": bad hex digit 0x%02x at offset %zu", hex,
				 (unsigned char)hex[i], i);
	}
	if (digits % 2)
		return satp_errf(err, errlen, "\"%s\": odd number of hex digits (%zu)", hex,
				 digits);
	n = digits / 2;
	if (want && n != want)
		return satp_errf(err, errlen, "\"%s\": %zu bytes, want %zu", hex, n, want);
	if (n > cap)
		return satp_errf(err, errlen, "\"%s\": %zu bytes, at most %zu", hex, n, cap);
	for (i = 0; i < n; i++) {
		hi = hex_value(hex[2 * i]);
		lo = hex_value(hex[2 * i + 1]);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (len)
		*len = n;
	return 0;
}

/* The daemons keep the tail of the digest: the last `n` of its bytes. */
static int digest_tail(const EVP_MD *md, const char *pass, uint8_t *out, size_t n)
{
	uint8_t dgst[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	int ret = -EINVAL;

	if (!pass)
		return -EINVAL;
	if (!EVP_Digest(pass, strlen(pass), dgst, &dlen, md, NULL))
		return -EIO;
	if (n == 0 || n > dlen)
		goto out;
	memcpy(out, dgst + dlen - n, n);
	ret = 0;
out:
	OPENSSL_cleanse(dgst, sizeof(dgst));
	return ret;
}

int satp_passphrase_key(const char *pass, uint8_t *key, size_t keylen)
{
	return digest_tail(EVP_sha256(), pass, key, keylen);
}

int satp_passphrase_salt(const char *pass, uint8_t salt[SATP_SALT_LEN])
{
	return digest_tail(EVP_sha1(), pass, salt, SATP_SALT_LEN);
}
