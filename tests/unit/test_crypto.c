// SPDX-License-Identifier: GPL-2.0-only
/*
 * Key derivation, passphrase hashing, option names, hex keys and fix-ups
 * against the worked examples of shared/docs/satp.md §3.3 and §4.
 */
#include <errno.h>

#include <openssl/evp.h>

#include "satp_internal.h"
#include "satp_test_util.h"

/* satp.md §3.3: vector v01, sender role left, seq 0. */
static void test_worked_example(void **state)
{
	struct satp_algos a;
	struct satp_crypto c;
	uint8_t enc[16], salt[SATP_SALT_LEN], auth[SATP_AUTH_KEY_LEN], iv[16];

	satp_algos_default(&a);
	test_crypto(&c, &a, SATP_ROLE_LEFT, KEY128, SALT);
	assert_int_equal(satp_kd_generate(c.tx, SATP_LABEL_ENC_LEFT, 0, enc, sizeof(enc)), 0);
	assert_int_equal(satp_kd_generate(c.tx, SATP_LABEL_SALT_LEFT, 0, salt, sizeof(salt)), 0);
	assert_int_equal(satp_kd_generate(c.tx, SATP_LABEL_AUTH_LEFT, 0, auth, sizeof(auth)), 0);
	test_assert_hex(enc, sizeof(enc), "78821835069ab9258c05585fcea81237");
	test_assert_hex(salt, sizeof(salt), "7ebe6f6daa90c668f86d69e0586a");
	test_assert_hex(auth, sizeof(auth), "804d22f04789df82db4c24fcf7636be0c3ba47c3");
	satp_payload_iv(iv, salt, 0, 1, 0);
	test_assert_hex(iv, sizeof(iv), "7ebe6f6daa90c669f86d69e0586a0000");
	satp_crypto_free(&c);
}

/* The worked example's counter block, encrypted by OpenSSL directly, is the enc key. */
static void test_counter_block(void **state)
{
	uint8_t key[16], x[16], enc[16], want[16];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int out = 0;

	test_unhex(KEY128, key, sizeof(key));
	test_unhex("a0a1a2a3a4a593cdb182aaabacad0000", x, sizeof(x));
	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, key, NULL), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, enc, &out, x, sizeof(x)), 1);
	assert_int_equal(out, 16);
	test_unhex("78821835069ab9258c05585fcea81237", want, sizeof(want));
	assert_memory_equal(enc, want, sizeof(want));
	EVP_CIPHER_CTX_free(ctx);
}

/* The PRF is one keystream: a long output starts with the short one. */
static void test_kd_prefix(void **state)
{
	struct satp_algos a;
	struct satp_crypto c;
	uint8_t shorter[20], longer[200];

	satp_algos_default(&a);
	test_crypto(&c, &a, SATP_ROLE_RIGHT, KEY128, SALT);
	assert_int_equal(satp_kd_generate(c.rx, SATP_LABEL_AUTH_LEFT, 7, shorter, sizeof(shorter)),
			 0);
	assert_int_equal(satp_kd_generate(c.rx, SATP_LABEL_AUTH_LEFT, 7, longer, sizeof(longer)),
			 0);
	assert_memory_equal(shorter, longer, sizeof(shorter));
	satp_crypto_free(&c);
}

static void test_kd_null(void **state)
{
	static const uint8_t zero[64];
	struct satp_algos a;
	struct satp_crypto c;
	uint8_t out[64];
	uint8_t buf[128] = {0};
	struct satp_header h;
	struct satp_plain p;
	int len;

	satp_algos_default(&a);
	a.kd_bits = 0;
	test_crypto(&c, &a, SATP_ROLE_LEFT, NULL, NULL);
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(satp_kd_generate(c.tx, SATP_LABEL_ENC_LEFT, 12345, out, sizeof(out)), 0);
	assert_memory_equal(out, zero, sizeof(out));

	/* Cipher and auth still run, with all-zero keys, and round-trip. */
	memcpy(buf + 10, "hello", 5);
	len = satp_seal(&c, buf, sizeof(buf), 5, 3, 1, 0, SATP_PTYPE_IPV4);
	assert_int_equal(len, 10 + 5 + 10);
	assert_memory_not_equal(buf + 10, "hello", 5);
	satp_crypto_free(&c);
	test_crypto(&c, &a, SATP_ROLE_RIGHT, NULL, NULL);
	assert_int_equal(satp_open(&c, buf, (size_t)len, &h, &p), SATP_OK);
	assert_int_equal(p.inner_len, 5);
	assert_memory_equal(p.inner, "hello", 5);
	satp_crypto_free(&c);
}

struct pass_case {
	size_t keylen;
	const char *key;
};

/* satp.md §4: "satp test passphrase"; the key is the tail of SHA-256. */
static void test_passphrase(void **state)
{
	static const char pass[] = "satp test passphrase";
	/* clang-format off */
	static const struct pass_case cases[] = {
		{ 16, "fd6b4bef2b5b302f42de0615ca1d970e" },
		{ 24, "180f024247a83175fd6b4bef2b5b302f42de0615ca1d970e" },
		{ 32, "16d813a0ea1f0ec9180f024247a83175fd6b4bef2b5b302f42de0615ca1d970e" },
	};
	/* clang-format on */
	uint8_t key[SATP_KEY_MAX], salt[SATP_SALT_LEN];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(satp_passphrase_key(pass, key, cases[i].keylen), 0);
		test_assert_hex(key, cases[i].keylen, cases[i].key);
	}
	assert_int_equal(satp_passphrase_salt(pass, salt), 0);
	test_assert_hex(salt, sizeof(salt), "95838788a7ca3485503dee1568a5");
	assert_int_equal(satp_passphrase_key(pass, key, 0), -EINVAL);
	assert_int_equal(satp_passphrase_key(pass, key, 33), -EINVAL);
	assert_int_equal(satp_passphrase_key(NULL, key, 16), -EINVAL);
}

struct bits_case {
	const char *s;
	int ret;
	unsigned int bits;
};

static void test_parse_aes(void **state)
{
	/* clang-format off */
	static const struct bits_case cases[] = {
	    {"null", 0, 0},	      {"aes-ctr", 0, 128},     {"aes-ctr-128", 0, 128},
	    {"aes-ctr-192", 0, 192},  {"aes-ctr-256", 0, 256}, {"aes-ctr-512", -EINVAL, 0},
	    {"aes-ctr-", -EINVAL, 0}, {"AES-CTR", -EINVAL, 0}, {"aes", -EINVAL, 0},
	    {"", -EINVAL, 0},	      {"null ", -EINVAL, 0},   {"aes-ctr-1280", -EINVAL, 0},
	    {NULL, -EINVAL, 0},
	};
	/* clang-format on */
	unsigned int bits;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		bits = 999;
		assert_int_equal(satp_parse_kd_prf(cases[i].s, &bits), cases[i].ret);
		if (!cases[i].ret)
			assert_int_equal(bits, cases[i].bits);
		bits = 999;
		assert_int_equal(satp_parse_cipher(cases[i].s, &bits), cases[i].ret);
		if (!cases[i].ret)
			assert_int_equal(bits, cases[i].bits);
	}
}

static void test_parse_auth_role(void **state)
{
	static const struct {
		const char *s;
		int ret;
		enum satp_auth auth;
		/* clang-format off */
	} auths[] = {
		{ "null", 0, SATP_AUTH_NULL }, { "sha1", 0, SATP_AUTH_SHA1 },
		{ "SHA1", -EINVAL, 0 },	       { "sha256", -EINVAL, 0 },
		{ "", -EINVAL, 0 },	       { NULL, -EINVAL, 0 },
	};
	/* clang-format on */
	static const struct {
		const char *s;
		int ret;
		enum satp_role role;
		/* clang-format off */
	} roles[] = {
		{ "left", 0, SATP_ROLE_LEFT },	 { "alice", 0, SATP_ROLE_LEFT },
		{ "server", 0, SATP_ROLE_LEFT }, { "right", 0, SATP_ROLE_RIGHT },
		{ "bob", 0, SATP_ROLE_RIGHT },	 { "client", 0, SATP_ROLE_RIGHT },
		{ "Left", -EINVAL, 0 },		 { "middle", -EINVAL, 0 },
		{ "", -EINVAL, 0 },		 { NULL, -EINVAL, 0 },
	};
	/* clang-format on */
	enum satp_auth auth;
	enum satp_role role;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(auths); i++) {
		assert_int_equal(satp_parse_auth(auths[i].s, &auth), auths[i].ret);
		if (!auths[i].ret) {
			assert_int_equal(auth, auths[i].auth);
			assert_string_equal(satp_auth_name(auth), auths[i].s);
		}
	}
	for (i = 0; i < ARRAY_SIZE(roles); i++) {
		assert_int_equal(satp_parse_role(roles[i].s, &role), roles[i].ret);
		if (!roles[i].ret)
			assert_int_equal(role, roles[i].role);
	}
	assert_string_equal(satp_role_name(SATP_ROLE_LEFT), "left");
	assert_string_equal(satp_role_name(SATP_ROLE_RIGHT), "right");
}

static void test_names(void **state)
{
	assert_string_equal(satp_algo_name(0), "null");
	assert_string_equal(satp_algo_name(128), "aes-ctr-128");
	assert_string_equal(satp_algo_name(192), "aes-ctr-192");
	assert_string_equal(satp_algo_name(256), "aes-ctr-256");
	assert_string_equal(satp_algo_name(64), "?");
	assert_string_equal(satp_verdict_name(SATP_OK), "ok");
	assert_string_equal(satp_verdict_name(SATP_TOO_SHORT), "too-short");
	assert_string_equal(satp_verdict_name(SATP_BAD_TAG), "bad-tag");
	assert_string_equal(satp_verdict_name(SATP_REPLAY), "replay");
	assert_string_equal(satp_verdict_name(SATP_TOO_OLD), "too-old");
	assert_string_equal(satp_verdict_name(SATP_NO_PAYLOAD), "no-payload");
	assert_string_equal(satp_verdict_name(SATP_VERDICT_MAX), "?");
}

struct hex_case {
	const char *hex;
	size_t cap;
	size_t want;
	int ret;
	const char *msg; /* the whole error message */
};

static void test_hex(void **state)
{
	/* clang-format off */
	static const struct hex_case cases[] = {
		{ KEY128, 32, 16, 0, NULL },
		{ "A0a1", 32, 0, 0, NULL },
		{ KEY256, 32, 0, 0, NULL },
		{ "abc", 32, 0, -EINVAL, "\"abc\": odd number of hex digits (3)" },
		{ "0g", 32, 0, -EINVAL, "\"0g\": bad hex digit 'g' at offset 1" },
		{ "00 1", 32, 0, -EINVAL, "\"00 1\": bad hex digit ' ' at offset 2" },
		{ "0x00", 32, 0, -EINVAL, "\"0x00\": bad hex digit 'x' at offset 1" },
		{ "\x01", 32, 0, -EINVAL, "\"\x01\": bad hex digit 0x01 at offset 0" },
		{ "0001", 32, 16, -EINVAL, "\"0001\": 2 bytes, want 16" },
		{ KEY128, 32, 14, -EINVAL, "\"" KEY128 "\": 16 bytes, want 14" },
		{ KEY256 "00", 32, 0, -EINVAL, "\"" KEY256 "00\": 33 bytes, at most 32" },
		{ "", 32, 0, -EINVAL, "empty hex string \"\"" },
		{ NULL, 32, 0, -EINVAL, "empty hex string \"\"" },
	};
	/* clang-format on */
	uint8_t out[32], want[32];
	char err[256];
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		err[0] = 0;
		len = 999;
		assert_int_equal(satp_hex_parse(cases[i].hex, out, cases[i].cap, cases[i].want,
						&len, err, sizeof(err)),
				 cases[i].ret);
		if (cases[i].ret) {
			assert_string_equal(err, cases[i].msg);
			continue;
		}
		assert_int_equal(len, strlen(cases[i].hex) / 2);
		test_unhex(cases[i].hex, want, sizeof(want));
		assert_memory_equal(out, want, len);
	}
	/* A short error buffer truncates, never overflows. */
	assert_int_equal(satp_hex_parse("zz", out, 32, 0, &len, err, 4), -EINVAL);
	assert_string_equal(err, "\"zz");
}

struct fixup_case {
	struct satp_algos in;
	struct satp_algos out;
	unsigned int changed;
};

static void test_fixup(void **state)
{
	/* clang-format off */
	static const struct fixup_case cases[] = {
		{ { 128, 128, SATP_AUTH_SHA1, 10 }, { 128, 128, SATP_AUTH_SHA1, 10 }, 0 },
		{ { 128, 0, SATP_AUTH_NULL, 10 }, { 0, 0, SATP_AUTH_NULL, 0 },
		  SATP_FIXUP_KD_NULL | SATP_FIXUP_TAG_ZERO },
		{ { 0, 0, SATP_AUTH_NULL, 0 }, { 0, 0, SATP_AUTH_NULL, 0 }, 0 },
		{ { 256, 128, SATP_AUTH_NULL, 10 }, { 256, 128, SATP_AUTH_NULL, 0 },
		  SATP_FIXUP_TAG_ZERO },
		{ { 128, 0, SATP_AUTH_SHA1, 10 }, { 128, 0, SATP_AUTH_SHA1, 10 }, 0 },
		{ { 128, 128, SATP_AUTH_SHA1, 21 }, { 128, 128, SATP_AUTH_SHA1, 20 },
		  SATP_FIXUP_TAG_CLAMP },
		{ { 128, 128, SATP_AUTH_SHA1, 1000 }, { 128, 128, SATP_AUTH_SHA1, 20 },
		  SATP_FIXUP_TAG_CLAMP },
		{ { 128, 128, SATP_AUTH_SHA1, 0 }, { 128, 128, SATP_AUTH_SHA1, 0 }, 0 },
	};
	/* clang-format on */
	struct satp_algos a;
	size_t i;

	satp_algos_default(&a);
	assert_int_equal(a.kd_bits, 128);
	assert_int_equal(a.cipher_bits, 128);
	assert_int_equal(a.auth, SATP_AUTH_SHA1);
	assert_int_equal(a.tag_len, 10);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		a = cases[i].in;
		assert_int_equal(satp_algos_fixup(&a), cases[i].changed);
		assert_memory_equal(&a, &cases[i].out, sizeof(a));
	}
}

struct init_case {
	struct satp_algos algos;
	size_t key_len;
	enum satp_role role;
	int ret;
};

static void test_crypto_init_checks(void **state)
{
	/* clang-format off */
	static const struct init_case cases[] = {
		{ { 128, 128, SATP_AUTH_SHA1, 10 }, 16, SATP_ROLE_LEFT, 0 },
		{ { 256, 192, SATP_AUTH_SHA1, 20 }, 32, SATP_ROLE_RIGHT, 0 },
		{ { 0, 0, SATP_AUTH_NULL, 0 }, 0, SATP_ROLE_LEFT, 0 },
		{ { 0, 256, SATP_AUTH_SHA1, 4 }, 16, SATP_ROLE_LEFT, 0 }, /* key ignored */
		{ { 128, 128, SATP_AUTH_SHA1, 10 }, 32, SATP_ROLE_LEFT, -EINVAL },
		{ { 256, 128, SATP_AUTH_SHA1, 10 }, 16, SATP_ROLE_LEFT, -EINVAL },
		{ { 128, 128, SATP_AUTH_SHA1, 21 }, 16, SATP_ROLE_LEFT, -EINVAL },
		{ { 128, 128, SATP_AUTH_NULL, 10 }, 16, SATP_ROLE_LEFT, -EINVAL },
		{ { 64, 128, SATP_AUTH_SHA1, 10 }, 8, SATP_ROLE_LEFT, -EINVAL },
		{ { 128, 100, SATP_AUTH_SHA1, 10 }, 16, SATP_ROLE_LEFT, -EINVAL },
		{ { 128, 128, (enum satp_auth)7, 10 }, 16, SATP_ROLE_LEFT, -EINVAL },
		{ { 128, 128, SATP_AUTH_SHA1, 10 }, 16, (enum satp_role)2, -EINVAL },
	};
	/* clang-format on */
	struct satp_keys k;
	struct satp_crypto c;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(&k, 0, sizeof(k));
		k.algos = cases[i].algos;
		k.role = cases[i].role;
		k.master_key_len = cases[i].key_len;
		assert_int_equal(satp_crypto_init(&c, &k), cases[i].ret);
		if (!cases[i].ret)
			satp_crypto_free(&c);
		assert_null(c.tx);
		assert_null(c.rx);
	}
}

static void keys_of(struct satp_keys *k, enum satp_role role, const char *key, const char *salt)
{
	memset(k, 0, sizeof(*k));
	satp_algos_default(&k->algos);
	k->role = role;
	k->master_key_len = 16;
	test_unhex(key, k->master_key, 16);
	test_unhex(salt, k->master_salt, SATP_SALT_LEN);
}

/* One packet sealed by from and opened by to: its verdict. */
static enum satp_verdict carry(struct satp_crypto *from, struct satp_crypto *to)
{
	static const uint8_t inner[] = {0x45, 0, 0, 20, 1, 2, 3, 4};
	uint8_t buf[128];
	struct satp_header h;
	struct satp_plain p;
	int n;

	memcpy(buf + SATP_HDR_LEN + SATP_PTYPE_LEN, inner, sizeof(inner));
	n = satp_seal(from, buf, sizeof(buf), sizeof(inner), 0, 1, 5, SATP_PTYPE_IPV4);
	assert_true(n > 0);
	return satp_open(to, buf, (size_t)n, &h, &p);
}

/*
 * Separate keys per direction (kx sessions): A sends with K1 and receives with
 * K2, B the other way round; each direction carries, the wrong pairing fails,
 * and keys of other algos or roles are refused.
 */
static void test_crypto_init_split(void **state)
{
	static const char k1[] = "101112131415161718191a1b1c1d1e1f", k2[] = KEY128;
	static const char s1[] = "b0b1b2b3b4b5b6b7b8b9babbbcbd";
	struct satp_keys a_tx, a_rx, b_tx, b_rx, bad;
	struct satp_crypto a, b, same;

	keys_of(&a_tx, SATP_ROLE_LEFT, k1, s1);
	keys_of(&a_rx, SATP_ROLE_LEFT, k2, SALT);
	keys_of(&b_tx, SATP_ROLE_RIGHT, k2, SALT);
	keys_of(&b_rx, SATP_ROLE_RIGHT, k1, s1);
	assert_int_equal(satp_crypto_init_split(&a, &a_tx, &a_rx), 0);
	assert_int_equal(satp_crypto_init_split(&b, &b_tx, &b_rx), 0);
	assert_int_equal(carry(&a, &b), SATP_OK);
	assert_int_equal(carry(&b, &a), SATP_OK);
	/* the one-key crypto of A's tx key cannot read what B sends */
	assert_int_equal(satp_crypto_init(&same, &a_tx), 0);
	assert_int_equal(carry(&b, &same), SATP_BAD_TAG);
	assert_int_equal(carry(&same, &b), SATP_OK); /* its sending half is A's */
	satp_crypto_free(&same);
	bad = a_rx;
	bad.role = SATP_ROLE_RIGHT;
	assert_int_equal(satp_crypto_init_split(&same, &a_tx, &bad), -EINVAL);
	bad = a_rx;
	bad.algos.tag_len = 4;
	assert_int_equal(satp_crypto_init_split(&same, &a_tx, &bad), -EINVAL);
	bad = a_rx;
	bad.master_key_len = 8;
	assert_int_equal(satp_crypto_init_split(&same, &a_tx, &bad), -EINVAL);
	assert_null(same.tx);
	assert_null(same.rx);
	satp_crypto_free(&a);
	satp_crypto_free(&b);
}

/*
 * satp_seal's payload encryption, for every length around the switch from the
 * ECB-built keystream (small payloads) to OpenSSL's CTR, against AES-CTR run
 * by OpenSSL directly on the derived key and IV, for each AES key size.
 */
static void test_payload_ctr_lengths(void **state)
{
	static const unsigned int bits[] = {128, 192, 256};
	uint8_t buf[1024] = {0}, want[1024], enc[32], salt[SATP_SALT_LEN], iv[16];
	const EVP_CIPHER *ciphers[] = {EVP_aes_128_ctr(), EVP_aes_192_ctr(), EVP_aes_256_ctr()};
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	struct satp_header h;
	struct satp_plain p;
	struct satp_crypto c;
	struct satp_algos a;
	size_t b, len, i;
	uint32_t seq;
	int out, n;

	(void)state;
	assert_non_null(ctx);
	for (b = 0; b < ARRAY_SIZE(bits); b++) {
		satp_algos_default(&a);
		a.cipher_bits = bits[b];
		test_crypto(&c, &a, SATP_ROLE_LEFT, KEY128, SALT);
		for (len = 0; len <= 2 * SATP_CTR_ECB_BLOCKS_MAX * 16 + 17; len++) {
			seq = (uint32_t)(len * 7919);
			for (i = 0; i < len; i++)
				buf[SATP_HDR_LEN + SATP_PTYPE_LEN + i] = (uint8_t)(i * 31 + len);
			memcpy(want, buf, sizeof(want));
			n = satp_seal(&c, buf, sizeof(buf), len, seq, 3, 5, SATP_PTYPE_IPV4);
			assert_int_equal(n, (int)(SATP_HDR_LEN + SATP_PTYPE_LEN + len + a.tag_len));
			satp_put_be16(want + SATP_HDR_LEN, SATP_PTYPE_IPV4);
			assert_int_equal(
			    satp_kd_generate(c.tx, SATP_LABEL_ENC_LEFT, seq, enc, bits[b] / 8), 0);
			assert_int_equal(
			    satp_kd_generate(c.tx, SATP_LABEL_SALT_LEFT, seq, salt, sizeof(salt)),
			    0);
			satp_payload_iv(iv, salt, seq, 3, 5);
			assert_int_equal(EVP_EncryptInit_ex(ctx, ciphers[b], NULL, enc, iv), 1);
			assert_int_equal(EVP_EncryptUpdate(ctx, want + SATP_HDR_LEN, &out,
							   want + SATP_HDR_LEN,
							   (int)(SATP_PTYPE_LEN + len)),
					 1);
			assert_memory_equal(buf + SATP_HDR_LEN, want + SATP_HDR_LEN,
					    SATP_PTYPE_LEN + len);
		}
		satp_crypto_free(&c);
	}
	/* And back: open restores what was sealed, on the receiving role's keys. */
	satp_algos_default(&a);
	test_crypto(&c, &a, SATP_ROLE_RIGHT, KEY128, SALT);
	{
		struct satp_crypto s;

		test_crypto(&s, &a, SATP_ROLE_LEFT, KEY128, SALT);
		for (len = 1; len <= 2 * SATP_CTR_ECB_BLOCKS_MAX * 16 + 17; len++) {
			for (i = 0; i < len; i++)
				buf[SATP_HDR_LEN + SATP_PTYPE_LEN + i] = (uint8_t)(i ^ len);
			n = satp_seal(&s, buf, sizeof(buf), len, (uint32_t)len, 3, 5,
				      SATP_PTYPE_IPV4);
			assert_true(n > 0);
			assert_int_equal(satp_open(&c, buf, (size_t)n, &h, &p), SATP_OK);
			assert_int_equal(p.inner_len, len);
			for (i = 0; i < len; i++)
				assert_int_equal(p.inner[i], (uint8_t)(i ^ len));
		}
		satp_crypto_free(&s);
	}
	satp_crypto_free(&c);
	EVP_CIPHER_CTX_free(ctx);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_example),
		cmocka_unit_test(test_counter_block),
		cmocka_unit_test(test_kd_prefix),
		cmocka_unit_test(test_kd_null),
		cmocka_unit_test(test_passphrase),
		cmocka_unit_test(test_parse_aes),
		cmocka_unit_test(test_parse_auth_role),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_fixup),
		cmocka_unit_test(test_crypto_init_checks),
		cmocka_unit_test(test_crypto_init_split),
		cmocka_unit_test(test_payload_ctr_lengths),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
