// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every way a datagram can be wrong gets the right verdict, and nothing reads
 * outside the datagram (run under `make SAN=1`: each case sits in a buffer of
 * exactly its length).
 */
#include <errno.h>

#include "satp_test_util.h"

#define OTHER_KEY  "0f0e0d0c0b0a09080706050403020100"
#define OTHER_SALT "a0a1a2a3a4a5a6a7a8a9aaabacae"
#define INNER_LEN  64
#define TEST_SEQ   0x01020304u
#define TEST_SID   7
#define TEST_MUX   3

/* A datagram sealed by role left with the vectors' key and the given tag length. */
static size_t make_datagram(uint8_t *buf, size_t cap, unsigned int tag_len, size_t inner_len)
{
	struct satp_algos a;
	struct satp_crypto c;
	size_t i;
	int len;

	satp_algos_default(&a);
	a.tag_len = tag_len;
	test_crypto(&c, &a, SATP_ROLE_LEFT, KEY128, SALT);
	for (i = 0; i < inner_len; i++)
		buf[SATP_HDR_LEN + SATP_PTYPE_LEN + i] = (uint8_t)(i * 7 + 1);
	len = satp_seal(&c, buf, cap, inner_len, TEST_SEQ, TEST_SID, TEST_MUX, SATP_PTYPE_IPV4);
	assert_true(len > 0);
	satp_crypto_free(&c);
	return (size_t)len;
}

/* Open a copy in a heap buffer of exactly len bytes, so ASan sees any overread. */
static enum satp_verdict open_exact(struct satp_crypto *c, const uint8_t *data, size_t len)
{
	struct satp_header h;
	struct satp_plain p;
	enum satp_verdict v, verify;
	uint8_t *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	memcpy(copy, data, len);
	verify = satp_verify(c, copy, len);
	v = satp_open(c, copy, len, &h, &p);
	assert_int_equal(v == SATP_OK || v == SATP_NO_PAYLOAD, verify == SATP_OK);
	if (v == SATP_OK) {
		assert_ptr_equal(p.inner, copy + SATP_HDR_LEN + SATP_PTYPE_LEN);
		assert_int_equal(SATP_HDR_LEN + SATP_PTYPE_LEN + p.inner_len + c->algos.tag_len,
				 len);
	}
	free(copy);
	return v;
}

struct opener_case {
	const char *name;
	const char *key;
	const char *salt;
	enum satp_role role; /* the opener's local role; the sender is left */
	unsigned int seal_tag;
	unsigned int open_tag;
	size_t inner_len;
	enum satp_verdict want;
};

static void test_openers(void **state)
{
	/* clang-format off */
	static const struct opener_case cases[] = {
	    {"right keys", KEY128, SALT, SATP_ROLE_RIGHT, 10, 10, INNER_LEN, SATP_OK},
	    {"wrong key", OTHER_KEY, SALT, SATP_ROLE_RIGHT, 10, 10, INNER_LEN, SATP_BAD_TAG},
	    {"wrong salt", KEY128, OTHER_SALT, SATP_ROLE_RIGHT, 10, 10, INNER_LEN, SATP_BAD_TAG},
	    {"same role as sender", KEY128, SALT, SATP_ROLE_LEFT, 10, 10, INNER_LEN, SATP_BAD_TAG},
	    {"sealed 10 opened 20", KEY128, SALT, SATP_ROLE_RIGHT, 10, 20, INNER_LEN, SATP_BAD_TAG},
	    {"sealed 20 opened 10", KEY128, SALT, SATP_ROLE_RIGHT, 20, 10, INNER_LEN, SATP_BAD_TAG},
	    {"sealed 10 opened 20, short", KEY128, SALT, SATP_ROLE_RIGHT, 10, 20, 5,
	     SATP_TOO_SHORT},
	    {"sealed 20 opened 4", KEY128, SALT, SATP_ROLE_RIGHT, 20, 4, INNER_LEN, SATP_BAD_TAG},
	    {"tag 1", KEY128, SALT, SATP_ROLE_RIGHT, 1, 1, INNER_LEN, SATP_OK},
	    {"tag 20", KEY128, SALT, SATP_ROLE_RIGHT, 20, 20, INNER_LEN, SATP_OK},
	    {"no inner packet", KEY128, SALT, SATP_ROLE_RIGHT, 10, 10, 0, SATP_NO_PAYLOAD},
	    {"one inner byte", KEY128, SALT, SATP_ROLE_RIGHT, 10, 10, 1, SATP_OK},
	};
	/* clang-format on */
	uint8_t buf[256];
	struct satp_algos a;
	struct satp_crypto c;
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		len = make_datagram(buf, sizeof(buf), cases[i].seal_tag, cases[i].inner_len);
		satp_algos_default(&a);
		a.tag_len = cases[i].open_tag;
		test_crypto(&c, &a, cases[i].role, cases[i].key, cases[i].salt);
		if (open_exact(&c, buf, len) != cases[i].want)
			fail_msg("%s: %s, want %s", cases[i].name,
				 satp_verdict_name(open_exact(&c, buf, len)),
				 satp_verdict_name(cases[i].want));
		satp_crypto_free(&c);
	}
}

/* Every bit of header, ciphertext and tag is covered by the tag. */
static void test_bit_flips(void **state)
{
	uint8_t buf[256], bad[256];
	struct satp_algos a;
	struct satp_crypto c;
	size_t len, i;
	int bit;

	len = make_datagram(buf, sizeof(buf), SATP_TAG_DEFAULT, INNER_LEN);
	satp_algos_default(&a);
	test_crypto(&c, &a, SATP_ROLE_RIGHT, KEY128, SALT);
	assert_int_equal(open_exact(&c, buf, len), SATP_OK);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(bad, buf, len);
			bad[i] ^= (uint8_t)(1u << bit);
			if (open_exact(&c, bad, len) != SATP_BAD_TAG)
				fail_msg("byte %zu bit %d flipped: not bad-tag", i, bit);
		}
	}
	satp_crypto_free(&c);
}

static void test_truncation(void **state)
{
	static const unsigned int tags[] = {10, 20, 1};
	uint8_t buf[256];
	struct satp_algos a;
	struct satp_crypto c;
	enum satp_verdict want;
	size_t len, cut, t;

	for (t = 0; t < ARRAY_SIZE(tags); t++) {
		len = make_datagram(buf, sizeof(buf), tags[t], INNER_LEN);
		satp_algos_default(&a);
		a.tag_len = tags[t];
		test_crypto(&c, &a, SATP_ROLE_RIGHT, KEY128, SALT);
		for (cut = 0; cut < len; cut++) {
			want = cut < SATP_MIN_LEN(tags[t]) ? SATP_TOO_SHORT : SATP_BAD_TAG;
			if (open_exact(&c, buf, cut) != want)
				fail_msg("tag %u, cut to %zu of %zu: want %s", tags[t], cut, len,
					 satp_verdict_name(want));
		}
		assert_int_equal(open_exact(&c, buf, len), SATP_OK);
		satp_crypto_free(&c);
	}
}

/* Without auth nothing can be verified; lengths are still judged without overreads. */
static void test_auth_null_lengths(void **state)
{
	uint8_t buf[64];
	struct satp_algos a = {.kd_bits = 128, .cipher_bits = 128, .auth = SATP_AUTH_NULL};
	struct satp_crypto c;
	size_t len;

	memset(buf, 0x42, sizeof(buf));
	test_crypto(&c, &a, SATP_ROLE_RIGHT, KEY128, SALT);
	for (len = 0; len < SATP_HDR_LEN; len++)
		assert_int_equal(open_exact(&c, buf, len), SATP_TOO_SHORT);
	for (; len <= SATP_HDR_LEN + SATP_PTYPE_LEN; len++)
		assert_int_equal(open_exact(&c, buf, len), SATP_NO_PAYLOAD);
	assert_int_equal(open_exact(&c, buf, sizeof(buf)), SATP_OK);
	satp_crypto_free(&c);
}

static void test_seal_capacity(void **state)
{
	struct satp_algos a;
	struct satp_crypto c;
	uint8_t *buf;
	size_t need = SATP_HDR_LEN + SATP_PTYPE_LEN + INNER_LEN + SATP_TAG_DEFAULT;

	satp_algos_default(&a);
	test_crypto(&c, &a, SATP_ROLE_LEFT, KEY128, SALT);
	buf = calloc(1, need);
	assert_non_null(buf);
	assert_int_equal(satp_seal(&c, buf, need - 1, INNER_LEN, 0, 0, 0, 0), -EMSGSIZE);
	assert_int_equal(satp_seal(&c, buf, need, INNER_LEN, 0, 0, 0, 0), (int)need);
	assert_int_equal(satp_seal(&c, buf, 5, 0, 0, 0, 0, 0), -EMSGSIZE);
	assert_int_equal(satp_seal(&c, buf, need, SIZE_MAX, 0, 0, 0, 0), -EMSGSIZE);
	free(buf);
	satp_crypto_free(&c);
}

static void test_header_parse(void **state)
{
	static const uint8_t hdr[] = {0xde, 0xad, 0xbe, 0xef, 0x12, 0x34, 0xab, 0xcd};
	struct satp_header h;

	assert_int_equal(satp_header_parse(hdr, 7, 0, &h), SATP_TOO_SHORT);
	assert_int_equal(satp_header_parse(hdr, 8, 1, &h), SATP_TOO_SHORT);
	assert_int_equal(satp_header_parse(hdr, 8, 0, &h), SATP_OK);
	assert_int_equal(h.seq, 0xdeadbeef);
	assert_int_equal(h.sender_id, 0x1234);
	assert_int_equal(h.mux, 0xabcd);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openers),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_auth_null_lengths),
		cmocka_unit_test(test_seal_capacity),
		cmocka_unit_test(test_header_parse),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
