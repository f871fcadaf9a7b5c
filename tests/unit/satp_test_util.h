/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers shared by the unit tests (header-only: each test is one binary). */
#ifndef SATP_TEST_UTIL_H
#define SATP_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "satp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The vectors' keys (tests/vectors/regen.sh). */
#define KEY128 "000102030405060708090a0b0c0d0e0f"
#define KEY256 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define SALT   "a0a1a2a3a4a5a6a7a8a9aaabacad"

/* Hex test data; the parser under test is not used to read its own expectations. */
static inline size_t test_unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2, i;
	unsigned int b;

	assert_true(strlen(hex) % 2 == 0);
	assert_true(n <= cap);
	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
	return n;
}

static inline void test_assert_hex(const uint8_t *got, size_t len, const char *want)
{
	char buf[2 * 2048 + 1];
	size_t i;

	assert_true(2 * len < sizeof(buf));
	for (i = 0; i < len; i++)
		snprintf(buf + 2 * i, 3, "%02x", got[i]);
	buf[2 * len] = 0;
	assert_string_equal(buf, want);
}

/* struct satp_keys for the vectors: key and salt in hex, or NULL for none. */
static inline void test_keys(struct satp_keys *k, const struct satp_algos *a, enum satp_role role,
			     const char *key, const char *salt)
{
	memset(k, 0, sizeof(*k));
	k->algos = *a;
	k->role = role;
	if (key)
		k->master_key_len = test_unhex(key, k->master_key, sizeof(k->master_key));
	if (salt)
		test_unhex(salt, k->master_salt, sizeof(k->master_salt));
}

static inline void test_crypto(struct satp_crypto *c, const struct satp_algos *a,
			       enum satp_role role, const char *key, const char *salt)
{
	struct satp_keys k;

	test_keys(&k, a, role, key, salt);
	assert_int_equal(satp_crypto_init(c, &k), 0);
}

#endif /* SATP_TEST_UTIL_H */
