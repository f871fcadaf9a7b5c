// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp_hmac_sha1 (RFC 2104 over OpenSSL's SHA-1, hmac_sha1.c) against
 * OpenSSL's own HMAC (EVP_MAC): RFC 2202's HMAC-SHA1 cases with 20-byte keys,
 * then random keys and messages of every length up to past a jumbo datagram,
 * a new key every run as the data path has.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "satp_internal.h"
#include "satp_test_util.h"

static void evp_mac_hmac(const uint8_t *key, const uint8_t *p, size_t len, uint8_t out[20])
{
	size_t n = 0;

	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, key, SATP_AUTH_KEY_LEN, p, len,
				  out, 20, &n));
	assert_int_equal(n, 20);
}

/* RFC 2202 section 3, the cases whose key is 20 bytes (SATP's auth key length). */
static const struct {
	const char *key, *data, *mac;
	/* clang-format off */
} rfc2202[] = {
	{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
	  "b617318655057264e28bc0b6fb378c8ef146be00" },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	  "dddddddddddddddd",
	  "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
	{ "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "546573742057697468205472756e636174696f6e",
	  "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04" },
};
/* clang-format on */

static void test_rfc2202(void **state)
{
	uint8_t key[20], data[64], mac[20];
	size_t i, len;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rfc2202); i++) {
		assert_int_equal(test_unhex(rfc2202[i].key, key, sizeof(key)), 20);
		len = test_unhex(rfc2202[i].data, data, sizeof(data));
		assert_int_equal(satp_hmac_sha1(key, data, len, mac), 0);
		test_assert_hex(mac, sizeof(mac), rfc2202[i].mac);
	}
}

static void test_random_against_evp_mac(void **state)
{
	static uint8_t data[9100];
	uint8_t key[SATP_AUTH_KEY_LEN], want[20], got[20];
	size_t i, len;

	(void)state;
	srandom(2104);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)random();
	for (len = 0; len <= sizeof(data); len += len < 200 ? 1 : 97) {
		for (i = 0; i < sizeof(key); i++)
			key[i] = (uint8_t)random();
		evp_mac_hmac(key, data + len % 7, len - len % 7, want);
		assert_int_equal(satp_hmac_sha1(key, data + len % 7, len - len % 7, got), 0);
		assert_memory_equal(got, want, sizeof(want));
	}
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc2202),
		cmocka_unit_test(test_random_against_evp_mac),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
