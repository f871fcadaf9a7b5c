// SPDX-License-Identifier: GPL-2.0-only
/*
 * Noise_IK_25519_ChaChaPoly_BLAKE2s (user/lib/noise.c): known answers for
 * each primitive wrapper (RFC 7748, RFC 8439, BLAKE2s), HMAC and HKDF
 * against their definitions, the published noise-c test vector of the whole
 * pattern, and the IK state machine: a full handshake,
 * then every tampered byte, every truncation, the wrong static key, a
 * low-order ephemeral and calls out of order, each refused with its error
 * and without a change of state.
 */
#include <errno.h>

#include <openssl/evp.h>

#include "noise.h"
#include "satp_test_util.h"

#define PROLOGUE "test prologue"

/* ---------------------------------------------------------------- X25519 */

struct x25519_case {
	const char *name;
	const char *priv;
	const char *pub;
	const char *shared;
};

/* RFC 7748 §6.1: Alice and Bob reach the same secret. */
static const struct x25519_case x25519_cases[] = {
    {"rfc7748-6.1-alice", "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
     "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
     "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"},
    {"rfc7748-6.1-bob", "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
     "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
     "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"},
};

static void test_x25519_vectors(void **state)
{
	uint8_t priv[32], pub[32], out[32];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(x25519_cases); i++) {
		print_message("%s\n", x25519_cases[i].name);
		test_unhex(x25519_cases[i].priv, priv, sizeof(priv));
		test_unhex(x25519_cases[i].pub, pub, sizeof(pub));
		assert_int_equal(noise_dh(out, priv, pub), 0);
		test_assert_hex(out, sizeof(out), x25519_cases[i].shared);
	}
}

/* RFC 7748 §6.1: the public keys of Alice and Bob from their private keys. */
static void test_x25519_pubkey(void **state)
{
	uint8_t priv[32], pub[32];

	test_unhex(x25519_cases[0].priv, priv, sizeof(priv));
	assert_int_equal(noise_pubkey(pub, priv), 0);
	test_assert_hex(pub, sizeof(pub), x25519_cases[1].pub);
	test_unhex(x25519_cases[1].priv, priv, sizeof(priv));
	assert_int_equal(noise_pubkey(pub, priv), 0);
	test_assert_hex(pub, sizeof(pub), x25519_cases[0].pub);
}

/* Low-order points give an all-zero secret: refused, output wiped. */
static void test_x25519_low_order(void **state)
{
	static const char *const low[] = {
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "0100000000000000000000000000000000000000000000000000000000000000",
	};
	uint8_t priv[32], pub[32], out[32];
	size_t i;

	assert_int_equal(noise_keygen(priv), 0);
	for (i = 0; i < ARRAY_SIZE(low); i++) {
		test_unhex(low[i], pub, sizeof(pub));
		memset(out, 0xAA, sizeof(out));
		assert_int_equal(noise_dh(out, priv, pub), -EKEYREJECTED);
	}
}

static void test_keygen_clamped(void **state)
{
	uint8_t a[32], b[32];

	assert_int_equal(noise_keygen(a), 0);
	assert_int_equal(noise_keygen(b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(a[0] & 7, 0);
	assert_int_equal(a[31] & 0xC0, 0x40);
}

/* ---------------------------------------------------------------- ChaCha20-Poly1305 */

#define SUNSCREEN                                                                                  \
	"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "     \
	"future, sunscreen would be it."

/* RFC 8439 §2.8.2. */
static void test_aead_rfc8439(void **state)
{
	uint8_t key[32], nonce[12], ad[12], ct[sizeof(SUNSCREEN) - 1 + 16], pt[sizeof(ct)];
	const size_t len = sizeof(SUNSCREEN) - 1;

	test_unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", key,
		   sizeof(key));
	test_unhex("070000004041424344454647", nonce, sizeof(nonce));
	test_unhex("50515253c0c1c2c3c4c5c6c7", ad, sizeof(ad));
	assert_int_equal(
	    noise_aead_seal(key, nonce, ad, sizeof(ad), (const uint8_t *)SUNSCREEN, len, ct), 0);
	test_assert_hex(ct, len,
			"d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
			"3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
			"92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
			"3ff4def08e4b7a9de576d26586cec64b6116");
	test_assert_hex(ct + len, 16, "1ae10b594f09e26a7e902ecbd0600691");
	assert_int_equal(noise_aead_open(key, nonce, ad, sizeof(ad), ct, sizeof(ct), pt), 0);
	assert_memory_equal(pt, SUNSCREEN, len);
}

/* Any changed bit of key, nonce, AD, ciphertext or tag is refused, and nothing is released. */
static void test_aead_tamper(void **state)
{
	uint8_t key[32] = {1}, nonce[12], ad[8] = {2}, msg[20] = {3}, ct[36], pt[20];
	size_t i;

	noise_nonce(nonce, 5);
	assert_int_equal(noise_aead_seal(key, nonce, ad, sizeof(ad), msg, sizeof(msg), ct), 0);
	for (i = 0; i < sizeof(ct); i++) {
		ct[i] ^= 0x01;
		memset(pt, 0x55, sizeof(pt));
		assert_int_equal(noise_aead_open(key, nonce, ad, sizeof(ad), ct, sizeof(ct), pt),
				 -EBADMSG);
		ct[i] ^= 0x01;
	}
	ad[0] ^= 1;
	assert_int_equal(noise_aead_open(key, nonce, ad, sizeof(ad), ct, sizeof(ct), pt), -EBADMSG);
	ad[0] ^= 1;
	noise_nonce(nonce, 6);
	assert_int_equal(noise_aead_open(key, nonce, ad, sizeof(ad), ct, sizeof(ct), pt), -EBADMSG);
	noise_nonce(nonce, 5);
	key[31] ^= 0x80;
	assert_int_equal(noise_aead_open(key, nonce, ad, sizeof(ad), ct, sizeof(ct), pt), -EBADMSG);
	key[31] ^= 0x80;
	assert_int_equal(noise_aead_open(key, nonce, ad, sizeof(ad), ct, 15, pt), -EBADMSG);
	assert_int_equal(noise_aead_open(key, nonce, ad, sizeof(ad), ct, sizeof(ct), pt), 0);
	assert_memory_equal(pt, msg, sizeof(msg));
}

/* Noise §5.1 / ChaChaPoly: 32 bits of zeros, then the counter little-endian. */
static void test_nonce(void **state)
{
	uint8_t n[12];

	noise_nonce(n, 0x0807060504030201ull);
	test_assert_hex(n, sizeof(n), "000000000102030405060708");
	noise_nonce(n, 0);
	test_assert_hex(n, sizeof(n), "000000000000000000000000");
	noise_nonce(n, UINT64_MAX - 1);
	test_assert_hex(n, sizeof(n), "00000000feffffffffffffff");
}

/* ---------------------------------------------------------------- BLAKE2s, HMAC, HKDF */

struct hash_case {
	const char *a, *b;
	const char *want;
};

/* BLAKE2s-256 of "abc" (RFC 7693 Appendix B) and of nothing; split inputs are concatenated. */
static const struct hash_case hash_cases[] = {
    {"abc", "", "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"},
    {"a", "bc", "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"},
    {"", "abc", "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"},
    {"", "", "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9"},
};

static void test_blake2s(void **state)
{
	uint8_t out[32];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(hash_cases); i++) {
		const struct hash_case *c = &hash_cases[i];

		assert_int_equal(noise_hash(out, (const uint8_t *)c->a, strlen(c->a),
					    (const uint8_t *)c->b, strlen(c->b)),
				 0);
		test_assert_hex(out, sizeof(out), c->want);
	}
}

/* Keyed BLAKE2s (the mac1 MAC): the reference KAT, key 00..1f, empty and one-byte input. */
static void test_blake2s_keyed(void **state)
{
	uint8_t key[32], out[32], in = 0, short16[16];
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	assert_int_equal(noise_mac(out, 32, key, 32, NULL, 0), 0);
	test_assert_hex(out, 32,
			"48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49");
	assert_int_equal(noise_mac(out, 32, key, 32, &in, 1), 0);
	test_assert_hex(out, 32,
			"40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1");
	/* A 16-byte BLAKE2s is its own function (the length is in the parameter block). */
	assert_int_equal(noise_mac(short16, 16, key, 32, &in, 1), 0);
	assert_memory_not_equal(short16, out, 16);
	assert_int_equal(noise_mac(out, 0, key, 32, &in, 1), -EINVAL);
	assert_int_equal(noise_mac(out, 33, key, 32, &in, 1), -EINVAL);
	assert_int_equal(noise_mac(out, 16, key, 0, &in, 1), -EINVAL);
	assert_int_equal(noise_mac(out, 16, key, 33, &in, 1), -EINVAL);
}

/* HMAC (RFC 2104) spelled out over EVP BLAKE2s, to check the EVP_MAC wrapper against. */
static void hmac_reference(uint8_t out[32], const uint8_t *key, size_t keylen, const uint8_t *d,
			   size_t len)
{
	uint8_t k[NOISE_BLOCK_LEN] = {0}, pad[NOISE_BLOCK_LEN], inner[32];
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t i;

	assert_non_null(ctx);
	if (keylen > NOISE_BLOCK_LEN)
		assert_int_equal(EVP_Digest(key, keylen, k, &n, EVP_blake2s256(), NULL), 1);
	else
		memcpy(k, key, keylen);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	assert_int_equal(EVP_DigestInit_ex(ctx, EVP_blake2s256(), NULL), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, pad, sizeof(pad)), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, d, len), 1);
	assert_int_equal(EVP_DigestFinal_ex(ctx, inner, &n), 1);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	assert_int_equal(EVP_DigestInit_ex(ctx, EVP_blake2s256(), NULL), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, pad, sizeof(pad)), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, inner, sizeof(inner)), 1);
	assert_int_equal(EVP_DigestFinal_ex(ctx, out, &n), 1);
	EVP_MD_CTX_free(ctx);
}

static void test_hmac(void **state)
{
	static const size_t keylens[] = {0, 1, 32, 64, 65, 100};
	uint8_t key[100], data[77], want[32], got[32];
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0xA0 + i);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(3 * i);
	for (i = 0; i < ARRAY_SIZE(keylens); i++) {
		hmac_reference(want, key, keylens[i], data, sizeof(data));
		assert_int_equal(
		    noise_hmac(got, key, keylens[i], data, 10, data + 10, sizeof(data) - 10), 0);
		assert_memory_equal(got, want, sizeof(want));
	}
}

/* Noise §4.3: temp = HMAC(ck, ikm); out1 = HMAC(temp, 1); out2 = HMAC(temp, out1 || 2); ... */
static void test_hkdf(void **state)
{
	uint8_t ck[32], ikm[40], temp[32], w1[32], w2[32], w3[32], o1[32], o2[32], o3[32];
	uint8_t buf[33];

	memset(ck, 0x11, sizeof(ck));
	memset(ikm, 0x22, sizeof(ikm));
	hmac_reference(temp, ck, sizeof(ck), ikm, sizeof(ikm));
	buf[0] = 1;
	hmac_reference(w1, temp, sizeof(temp), buf, 1);
	memcpy(buf, w1, 32);
	buf[32] = 2;
	hmac_reference(w2, temp, sizeof(temp), buf, 33);
	memcpy(buf, w2, 32);
	buf[32] = 3;
	hmac_reference(w3, temp, sizeof(temp), buf, 33);

	assert_int_equal(noise_hkdf(ck, ikm, sizeof(ikm), o1, o2, o3), 0);
	assert_memory_equal(o1, w1, 32);
	assert_memory_equal(o2, w2, 32);
	assert_memory_equal(o3, w3, 32);
	/* Two outputs are the first two of three; outputs may overwrite the chaining key. */
	assert_int_equal(noise_hkdf(ck, ikm, sizeof(ikm), ck, o2, NULL), 0);
	assert_memory_equal(ck, w1, 32);
	assert_memory_equal(o2, w2, 32);
}

/* ---------------------------------------------------------------- the IK handshake */

struct pair {
	uint8_t i_priv[32], i_pub[32], r_priv[32], r_pub[32];
	struct noise_handshake ini, resp;
	uint8_t msg1[NOISE_IK_MSG1_LEN(12)];
	uint8_t msg2[NOISE_IK_MSG2_LEN(5)];
};

/* The static keys of the cacophony test vectors (any fixed keys would do). */
static void pair_init(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	test_unhex("e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1", p->i_priv,
		   32);
	test_unhex("4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893", p->r_priv,
		   32);
	assert_int_equal(noise_pubkey(p->i_pub, p->i_priv), 0);
	assert_int_equal(noise_pubkey(p->r_pub, p->r_priv), 0);
	assert_int_equal(noise_handshake_init(&p->ini, NOISE_INITIATOR, (const uint8_t *)PROLOGUE,
					      strlen(PROLOGUE), p->i_priv, p->r_pub),
			 0);
	assert_int_equal(noise_handshake_init(&p->resp, NOISE_RESPONDER, (const uint8_t *)PROLOGUE,
					      strlen(PROLOGUE), p->r_priv, NULL),
			 0);
}

static void pair_msg1(struct pair *p)
{
	assert_int_equal(noise_write_msg1(&p->ini, (const uint8_t *)"timestamp12B", 12, p->msg1,
					  sizeof(p->msg1)),
			 sizeof(p->msg1));
}

static void pair_msg2(struct pair *p)
{
	uint8_t pl[12];

	assert_int_equal(noise_read_msg1(&p->resp, p->msg1, sizeof(p->msg1), pl, sizeof(pl)), 12);
	assert_int_equal(
	    noise_write_msg2(&p->resp, (const uint8_t *)"hello", 5, p->msg2, sizeof(p->msg2)),
	    sizeof(p->msg2));
}

static void test_handshake(void **state)
{
	uint8_t pl[16], ii2r[32], ir2i[32], ri2r[32], rr2i[32], nonce[12], ct[21], pt[5];
	struct pair p;

	pair_init(&p);
	/* Both sides start from the same hash: protocol name, prologue, responder's key. */
	assert_memory_equal(p.ini.h, p.resp.h, 32);
	pair_msg1(&p);
	assert_int_equal(noise_read_msg1(&p.resp, p.msg1, sizeof(p.msg1), pl, sizeof(pl)), 12);
	assert_memory_equal(pl, "timestamp12B", 12);
	assert_memory_equal(p.resp.rs, p.i_pub, 32); /* the responder learnt who initiated */
	assert_memory_equal(p.resp.re, p.msg1, 32);
	assert_memory_equal(p.ini.h, p.resp.h, 32);
	assert_int_equal(
	    noise_write_msg2(&p.resp, (const uint8_t *)"hello", 5, p.msg2, sizeof(p.msg2)),
	    sizeof(p.msg2));
	assert_int_equal(noise_read_msg2(&p.ini, p.msg2, sizeof(p.msg2), pl, sizeof(pl)), 5);
	assert_memory_equal(pl, "hello", 5);
	assert_memory_equal(p.ini.h, p.resp.h, 32);
	assert_memory_equal(p.ini.ck, p.resp.ck, 32);

	assert_int_equal(noise_split(&p.ini, ii2r, ir2i), 0);
	assert_int_equal(noise_split(&p.resp, ri2r, rr2i), 0);
	assert_memory_equal(ii2r, ri2r, 32);
	assert_memory_equal(ir2i, rr2i, 32);
	assert_memory_not_equal(ii2r, ir2i, 32);

	/* Transport: the initiator's first message under i2r opens on the responder. */
	noise_nonce(nonce, 0);
	assert_int_equal(noise_aead_seal(ii2r, nonce, NULL, 0, (const uint8_t *)"data!", 5, ct), 0);
	assert_int_equal(noise_aead_open(ri2r, nonce, NULL, 0, ct, sizeof(ct), pt), 0);
	assert_memory_equal(pt, "data!", 5);
	noise_handshake_wipe(&p.ini);
	noise_handshake_wipe(&p.resp);
}

/* Fixed ephemerals make the handshake a function of its inputs; fresh ones make it differ. */
static void test_handshake_deterministic(void **state)
{
	uint8_t e[32];
	struct pair a, b, c;

	test_unhex("893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a", e, 32);
	pair_init(&a);
	pair_init(&b);
	pair_init(&c);
	noise_handshake_set_ephemeral(&a.ini, e);
	noise_handshake_set_ephemeral(&b.ini, e);
	pair_msg1(&a);
	pair_msg1(&b);
	pair_msg1(&c);
	assert_memory_equal(a.msg1, b.msg1, sizeof(a.msg1));
	assert_memory_not_equal(a.msg1, c.msg1, 32);
	/* The static key travels encrypted: its bytes appear nowhere in the message. */
	assert_memory_not_equal(a.msg1 + 32, a.i_pub, 32);
}

/*
 * The published Noise_IK_25519_ChaChaPoly_BLAKE2s vector of noise-c
 * (tests/vector/noise-c-basic.txt, also shipped as snow's
 * tests/vectors/noise-c-basic.txt): both handshake messages, the handshake
 * hash, and the first transport messages in each direction under Split().
 */
struct vector_msg {
	const char *payload;
	const char *ciphertext;
};

static const struct vector_msg ik_vector_msgs[] = {
    {"4c756477696720766f6e204d69736573",
     "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79440b03ddc7aac5123d06a1b23b"
     "71670e32e76c28239a7ca4ac8f784de7e44c1adb78f2058771dfd4229fbdc85c5fba3b587b1d171ce36822"
     "9c7b752ac25b8faf4e7b2fab7326f0d6fa1fdbef58de623245"},
    {"4d757272617920526f746862617264",
     "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843d9b5a8927f0ac9655ef768"
     "33bc7e55269c081ec38c61031f76fe15b2aaaad5"},
    /* Transport: initiator and responder alternate, each counting from nonce 0. */
    {"462e20412e20486179656b", "2c256ed08fcd08c2980f954ee4beaccb61c9581340f5dd2fd1cf3b"},
    {"4361726c204d656e676572", "d6033f70eee20945c7c9dba304e397ee3b284ff5e00fd9efb095d3"},
    {"4a65616e2d426170746973746520536179",
     "a9c068ca5d8babf72560652d8e851adbfac35c8a66e810d560863173e96adf4cfe"},
    {"457567656e2042f6686d20766f6e2042617765726b",
     "2a09d8f459e5927e40fdd2eddc99bdafb04e13a26f145cb5cfe9e6ba34c94331ebc17d5156"},
};

static void test_noise_c_vector(void **state)
{
	uint8_t prologue[11], is[32], ie[32], rs_pub[32], rsp[32], re[32], want_rs[32];
	uint8_t pl[64], msg[256], got[256], out[128], ki2r[32], kr2i[32], ri2r[32], rr2i[32];
	uint8_t nonce[12];
	struct noise_handshake ini, resp;
	uint64_t n_i2r = 0, n_r2i = 0;
	size_t i, len, plen;

	test_unhex("50726f6c6f677565313233", prologue, sizeof(prologue));
	test_unhex("e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1", is, 32);
	test_unhex("893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a", ie, 32);
	test_unhex("31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62", want_rs, 32);
	test_unhex("4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893", rsp, 32);
	test_unhex("bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b", re, 32);
	/* init_remote_static is the responder's public key. */
	assert_int_equal(noise_pubkey(rs_pub, rsp), 0);
	assert_memory_equal(rs_pub, want_rs, 32);

	assert_int_equal(
	    noise_handshake_init(&ini, NOISE_INITIATOR, prologue, sizeof(prologue), is, rs_pub), 0);
	assert_int_equal(
	    noise_handshake_init(&resp, NOISE_RESPONDER, prologue, sizeof(prologue), rsp, NULL), 0);
	noise_handshake_set_ephemeral(&ini, ie);
	noise_handshake_set_ephemeral(&resp, re);

	plen = test_unhex(ik_vector_msgs[0].payload, pl, sizeof(pl));
	len = test_unhex(ik_vector_msgs[0].ciphertext, msg, sizeof(msg));
	assert_int_equal(noise_write_msg1(&ini, pl, plen, got, sizeof(got)), (int)len);
	assert_memory_equal(got, msg, len);
	assert_int_equal(noise_read_msg1(&resp, msg, len, out, sizeof(out)), (int)plen);
	assert_memory_equal(out, pl, plen);

	plen = test_unhex(ik_vector_msgs[1].payload, pl, sizeof(pl));
	len = test_unhex(ik_vector_msgs[1].ciphertext, msg, sizeof(msg));
	assert_int_equal(noise_write_msg2(&resp, pl, plen, got, sizeof(got)), (int)len);
	assert_memory_equal(got, msg, len);
	assert_int_equal(noise_read_msg2(&ini, msg, len, out, sizeof(out)), (int)plen);
	assert_memory_equal(out, pl, plen);

	test_assert_hex(ini.h, 32,
			"45e34c56ca0de9c348e104edcf503035e5559ceed661ac22916f6f171696d994");
	assert_memory_equal(ini.h, resp.h, 32);

	assert_int_equal(noise_split(&ini, ki2r, kr2i), 0);
	assert_int_equal(noise_split(&resp, ri2r, rr2i), 0);
	for (i = 2; i < ARRAY_SIZE(ik_vector_msgs); i++) {
		bool from_initiator = i % 2 == 0;

		plen = test_unhex(ik_vector_msgs[i].payload, pl, sizeof(pl));
		len = test_unhex(ik_vector_msgs[i].ciphertext, msg, sizeof(msg));
		noise_nonce(nonce, from_initiator ? n_i2r++ : n_r2i++);
		assert_int_equal(
		    noise_aead_seal(from_initiator ? ki2r : rr2i, nonce, NULL, 0, pl, plen, got),
		    0);
		assert_memory_equal(got, msg, len);
		assert_int_equal(
		    noise_aead_open(from_initiator ? ri2r : kr2i, nonce, NULL, 0, msg, len, out),
		    0);
		assert_memory_equal(out, pl, plen);
	}
	noise_handshake_wipe(&ini);
	noise_handshake_wipe(&resp);
}

/* A read that fails must leave the handshake bit for bit as it was. */
static void assert_msg1_refused(struct pair *p, const uint8_t *msg, size_t len, int want)
{
	struct noise_handshake before = p->resp;
	uint8_t pl[64];
	int err = noise_read_msg1(&p->resp, msg, len, pl, sizeof(pl));

	if (want)
		assert_int_equal(err, want);
	else
		assert_true(err < 0);
	assert_memory_equal(&before, &p->resp, sizeof(before));
}

static void assert_msg2_refused(struct pair *p, const uint8_t *msg, size_t len, int want)
{
	struct noise_handshake before = p->ini;
	uint8_t pl[64];
	int err = noise_read_msg2(&p->ini, msg, len, pl, sizeof(pl));

	if (want)
		assert_int_equal(err, want);
	else
		assert_true(err < 0);
	assert_memory_equal(&before, &p->ini, sizeof(before));
}

/* Every bit position of every byte of message 1, flipped one at a time. */
static void test_msg1_every_byte(void **state)
{
	struct pair p;
	size_t i;
	int bit;

	pair_init(&p);
	pair_msg1(&p);
	for (i = 0; i < sizeof(p.msg1); i++) {
		for (bit = 0; bit < 8; bit++) {
			p.msg1[i] ^= (uint8_t)(1u << bit);
			/* A changed ephemeral is still a point: the AEAD catches it. */
			assert_msg1_refused(&p, p.msg1, sizeof(p.msg1), -EBADMSG);
			p.msg1[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_msg1_refused(&p, p.msg1, 0, 0); /* settle cmocka's view: still untouched */
	pair_msg2(&p);			       /* and the genuine message still works */
}

static void test_msg1_truncated(void **state)
{
	struct pair p;
	size_t len;

	pair_init(&p);
	pair_msg1(&p);
	for (len = 0; len < sizeof(p.msg1); len++)
		assert_msg1_refused(&p, p.msg1, len,
				    len < NOISE_IK_MSG1_LEN(0) ? -EMSGSIZE : -EBADMSG);
	pair_msg2(&p);
}

static void test_msg2_every_byte_and_length(void **state)
{
	uint8_t pl[8];
	struct pair p;
	size_t i, len;
	int bit;

	pair_init(&p);
	pair_msg1(&p);
	pair_msg2(&p);
	for (i = 0; i < sizeof(p.msg2); i++) {
		for (bit = 0; bit < 8; bit++) {
			p.msg2[i] ^= (uint8_t)(1u << bit);
			assert_msg2_refused(&p, p.msg2, sizeof(p.msg2), -EBADMSG);
			p.msg2[i] ^= (uint8_t)(1u << bit);
		}
	}
	for (len = 0; len < sizeof(p.msg2); len++)
		assert_msg2_refused(&p, p.msg2, len,
				    len < NOISE_IK_MSG2_LEN(0) ? -EMSGSIZE : -EBADMSG);
	assert_int_equal(noise_read_msg2(&p.ini, p.msg2, sizeof(p.msg2), pl, sizeof(pl)), 5);
}

/* The initiator believes in another responder key: the responder cannot read message 1. */
static void test_wrong_responder_key(void **state)
{
	uint8_t other_priv[32], other_pub[32];
	struct pair p;

	pair_init(&p);
	assert_int_equal(noise_keygen(other_priv), 0);
	assert_int_equal(noise_pubkey(other_pub, other_priv), 0);
	assert_int_equal(noise_handshake_init(&p.ini, NOISE_INITIATOR, (const uint8_t *)PROLOGUE,
					      strlen(PROLOGUE), p.i_priv, other_pub),
			 0);
	pair_msg1(&p);
	assert_msg1_refused(&p, p.msg1, sizeof(p.msg1), -EBADMSG);
}

/* A different prologue (another protocol or version) breaks the first AEAD. */
static void test_wrong_prologue(void **state)
{
	struct pair p;

	pair_init(&p);
	assert_int_equal(noise_handshake_init(&p.resp, NOISE_RESPONDER, (const uint8_t *)"other", 5,
					      p.r_priv, NULL),
			 0);
	pair_msg1(&p);
	assert_msg1_refused(&p, p.msg1, sizeof(p.msg1), -EBADMSG);
}

/* An ephemeral of low order makes es all zeros: refused before any decryption. */
static void test_low_order_ephemeral(void **state)
{
	uint8_t bad[NOISE_IK_MSG1_LEN(12)];
	struct pair p;

	pair_init(&p);
	pair_msg1(&p);
	memcpy(bad, p.msg1, sizeof(bad));
	memset(bad, 0, 32);
	assert_msg1_refused(&p, bad, sizeof(bad), -EKEYREJECTED);
	pair_msg2(&p);
	memset(p.msg2, 0, 32);
	assert_msg2_refused(&p, p.msg2, sizeof(p.msg2), -EKEYREJECTED);
}

/* Initialising with the public key given is the same as having it computed. */
static void test_init_keypair(void **state)
{
	struct noise_handshake a, b;
	struct pair p;

	pair_init(&p);
	assert_int_equal(noise_handshake_init_keypair(&a, NOISE_RESPONDER,
						      (const uint8_t *)PROLOGUE, strlen(PROLOGUE),
						      p.r_priv, p.r_pub, NULL),
			 0);
	assert_memory_equal(&a, &p.resp, sizeof(a));
	assert_int_equal(noise_handshake_init_keypair(&b, NOISE_INITIATOR,
						      (const uint8_t *)PROLOGUE, strlen(PROLOGUE),
						      p.i_priv, p.i_pub, p.r_pub),
			 0);
	assert_memory_equal(&b, &p.ini, sizeof(b));
}

/* Every call in the wrong role or at the wrong step, and buffers too small. */
static void test_out_of_order(void **state)
{
	uint8_t out[256], k1[32], k2[32], pl[4];
	struct pair p;

	pair_init(&p);
	assert_int_equal(noise_handshake_init(&p.ini, NOISE_INITIATOR, NULL, 0, p.i_priv, NULL),
			 -EINVAL);
	assert_int_equal(noise_handshake_init(&p.ini, NOISE_RESPONDER, NULL, 0, p.i_priv, p.r_pub),
			 -EINVAL);
	pair_init(&p);
	assert_int_equal(noise_write_msg1(&p.resp, NULL, 0, out, sizeof(out)), -EPROTO);
	assert_int_equal(noise_write_msg2(&p.ini, NULL, 0, out, sizeof(out)), -EPROTO);
	assert_int_equal(noise_write_msg2(&p.resp, NULL, 0, out, sizeof(out)), -EPROTO);
	assert_int_equal(noise_read_msg2(&p.ini, out, NOISE_IK_MSG2_LEN(0), NULL, 0), -EPROTO);
	assert_int_equal(noise_split(&p.ini, k1, k2), -EPROTO);
	assert_int_equal(noise_write_msg1(&p.ini, NULL, 0, out, NOISE_IK_MSG1_LEN(0) - 1),
			 -EMSGSIZE);
	pair_msg1(&p);
	assert_int_equal(noise_write_msg1(&p.ini, NULL, 0, out, sizeof(out)), -EPROTO);
	assert_int_equal(noise_read_msg1(&p.resp, p.msg1, sizeof(p.msg1), pl, sizeof(pl)),
			 -EMSGSIZE);
	assert_int_equal(noise_read_msg1(&p.ini, p.msg1, sizeof(p.msg1), pl, sizeof(pl)), -EPROTO);
	assert_int_equal(noise_split(&p.resp, k1, k2), -EPROTO);
	pair_msg2(&p);
	assert_int_equal(noise_read_msg1(&p.resp, p.msg1, sizeof(p.msg1), out, sizeof(out)),
			 -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_x25519_vectors),
	    cmocka_unit_test(test_x25519_pubkey),
	    cmocka_unit_test(test_x25519_low_order),
	    cmocka_unit_test(test_keygen_clamped),
	    cmocka_unit_test(test_aead_rfc8439),
	    cmocka_unit_test(test_aead_tamper),
	    cmocka_unit_test(test_nonce),
	    cmocka_unit_test(test_blake2s),
	    cmocka_unit_test(test_blake2s_keyed),
	    cmocka_unit_test(test_hmac),
	    cmocka_unit_test(test_hkdf),
	    cmocka_unit_test(test_noise_c_vector),
	    cmocka_unit_test(test_handshake),
	    cmocka_unit_test(test_handshake_deterministic),
	    cmocka_unit_test(test_msg1_every_byte),
	    cmocka_unit_test(test_msg1_truncated),
	    cmocka_unit_test(test_msg2_every_byte_and_length),
	    cmocka_unit_test(test_wrong_responder_key),
	    cmocka_unit_test(test_wrong_prologue),
	    cmocka_unit_test(test_low_order_ephemeral),
	    cmocka_unit_test(test_init_keypair),
	    cmocka_unit_test(test_out_of_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
