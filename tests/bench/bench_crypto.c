// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-packet cost of satp_seal and satp_open against the OpenSSL floor: the
 * same AES-128-CTR and HMAC-SHA1 over the same bytes with keys set up once,
 * i.e. what SATP would cost without its per-packet key derivation. Then the
 * parts: the PRF alone, the re-keyed cipher and HMAC, the fixed-key ones.
 * The raw floor is the least OpenSSL does for those bytes: AES-CTR on a
 * fixed key (the IV set per packet) and HMAC-SHA1 from SHA-1 states saved
 * after the key's pad blocks, through the SHA1_* calls, so no key block is
 * hashed per packet; SATP's per-packet keys cost 2 SHA-1 blocks and an AES
 * key schedule more than it.
 * Single thread; each figure is the best of BENCH_REPEATS runs over about
 * BENCH_ROW_SECONDS of this thread's CPU time: on a shared machine, time spent preempted by
 * other work is not counted (cache pollution by it still is).
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA1_*: the raw floor's HMAC */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "bench_measure.h"
#include "satp_internal.h"

#define CALIBRATE_N 2000
#define NPACKETS    256 /* distinct pre-sealed datagrams, so no seq repeats back to back */
#define BUF_LEN	    SATP_PACKET_MAX

static const size_t inner_sizes[] = {64, 512, 1400};

struct bench {
	struct satp_crypto sender, receiver;
	size_t inner_len, len;
	uint32_t seq;
	uint8_t work[BUF_LEN];
	uint8_t sealed[NPACKETS][BUF_LEN];
	/* the floor: keys set up once */
	EVP_CIPHER_CTX *ctr;
	EVP_MAC_CTX *mac;
	uint8_t key[SATP_AUTH_KEY_LEN];
	SHA_CTX ipad, opad; /* the raw floor: SHA-1 after each HMAC pad block */
	unsigned long failures;
};

static double measure(struct bench *b, bench_fn fn)
{
	return bench_measure(b, fn, CALIBRATE_N);
}

static void do_seal(struct bench *b)
{
	if (satp_seal(&b->sender, b->work, sizeof(b->work), b->inner_len, b->seq++, 1, 0,
		      SATP_PTYPE_IPV4) <= 0)
		b->failures++;
}

static void do_copy(struct bench *b)
{
	memcpy(b->work, b->sealed[b->seq++ % NPACKETS], b->len);
}

static void do_copy_open(struct bench *b)
{
	struct satp_header h;
	struct satp_plain p;

	memcpy(b->work, b->sealed[b->seq++ % NPACKETS], b->len);
	if (satp_open(&b->receiver, b->work, b->len, &h, &p) != SATP_OK)
		b->failures++;
}

static void do_kdf(struct bench *b)
{
	if (satp_dir_derive(b->sender.tx, b->seq++))
		b->failures++;
}

static void ctr(struct bench *b, const uint8_t *key)
{
	uint8_t iv[16] = {0};
	int out;

	iv[13] = (uint8_t)b->seq++;
	if (!EVP_EncryptInit_ex(b->ctr, NULL, NULL, key, iv) ||
	    !EVP_EncryptUpdate(b->ctr, b->work + SATP_HDR_LEN, &out, b->work + SATP_HDR_LEN,
			       (int)(SATP_PTYPE_LEN + b->inner_len)))
		b->failures++;
}

static void hmac(struct bench *b, const uint8_t *key)
{
	uint8_t out[SATP_TAG_MAX];
	size_t n;

	if (!EVP_MAC_init(b->mac, key, key ? SATP_AUTH_KEY_LEN : 0, NULL) ||
	    !EVP_MAC_update(b->mac, b->work, SATP_HDR_LEN + SATP_PTYPE_LEN + b->inner_len) ||
	    !EVP_MAC_final(b->mac, out, &n, sizeof(out)))
		b->failures++;
}

static void do_ctr_rekey(struct bench *b)
{
	b->key[0] = (uint8_t)b->seq;
	ctr(b, b->key);
}

static void do_ctr_fixed(struct bench *b)
{
	ctr(b, NULL);
}

static void do_hmac_rekey(struct bench *b)
{
	b->key[0] = (uint8_t)b->seq++;
	hmac(b, b->key);
}

static void do_hmac_fixed(struct bench *b)
{
	hmac(b, NULL);
}

static void hmac_raw(struct bench *b)
{
	uint8_t inner[SHA_DIGEST_LENGTH], out[SHA_DIGEST_LENGTH];
	SHA_CTX sha = b->ipad;

	if (!SHA1_Update(&sha, b->work, SATP_HDR_LEN + SATP_PTYPE_LEN + b->inner_len) ||
	    !SHA1_Final(inner, &sha))
		b->failures++;
	sha = b->opad;
	if (!SHA1_Update(&sha, inner, sizeof(inner)) || !SHA1_Final(out, &sha))
		b->failures++;
}

static void do_floor_raw(struct bench *b)
{
	ctr(b, NULL);
	hmac_raw(b);
}

static void do_floor(struct bench *b)
{
	ctr(b, NULL);
	hmac(b, NULL);
}

static int setup(struct bench *b, size_t inner_len)
{
	/* clang-format off */
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0),
		OSSL_PARAM_construct_end(),
	};
	/* clang-format on */
	struct satp_keys k = {.role = SATP_ROLE_LEFT, .master_key_len = 16};
	uint8_t ipad[SHA_CBLOCK], opad[SHA_CBLOCK];
	EVP_MAC *mac;
	size_t i;
	int len;

	memset(b, 0, sizeof(*b));
	b->inner_len = inner_len;
	satp_algos_default(&k.algos);
	for (i = 0; i < k.master_key_len; i++)
		k.master_key[i] = (uint8_t)i;
	for (i = 0; i < SATP_SALT_LEN; i++)
		k.master_salt[i] = (uint8_t)(0xa0 + i);
	if (satp_crypto_init(&b->sender, &k))
		return -ENOMEM;
	k.role = SATP_ROLE_RIGHT;
	if (satp_crypto_init(&b->receiver, &k))
		return -ENOMEM;
	for (i = 0; i < NPACKETS; i++) {
		memset(b->sealed[i] + SATP_HDR_LEN + SATP_PTYPE_LEN, (int)i, inner_len);
		len = satp_seal(&b->sender, b->sealed[i], BUF_LEN, inner_len, (uint32_t)i, 1, 0,
				SATP_PTYPE_IPV4);
		if (len <= 0)
			return -EINVAL;
		b->len = (size_t)len;
	}

	memset(ipad, 0x36, sizeof(ipad));
	memset(opad, 0x5c, sizeof(opad));
	for (i = 0; i < sizeof(b->key); i++) {
		ipad[i] ^= b->key[i];
		opad[i] ^= b->key[i];
	}
	if (!SHA1_Init(&b->ipad) || !SHA1_Update(&b->ipad, ipad, sizeof(ipad)) ||
	    !SHA1_Init(&b->opad) || !SHA1_Update(&b->opad, opad, sizeof(opad)))
		return -EIO;
	b->ctr = EVP_CIPHER_CTX_new();
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	b->mac = mac ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac);
	if (!b->ctr || !b->mac ||
	    !EVP_EncryptInit_ex(b->ctr, EVP_aes_128_ctr(), NULL, b->key, NULL) ||
	    !EVP_MAC_CTX_set_params(b->mac, params) ||
	    !EVP_MAC_init(b->mac, b->key, sizeof(b->key), NULL))
		return -ENOMEM;
	return 0;
}

static void teardown(struct bench *b)
{
	satp_crypto_free(&b->sender);
	satp_crypto_free(&b->receiver);
	EVP_CIPHER_CTX_free(b->ctr);
	EVP_MAC_CTX_free(b->mac);
}

struct row {
	size_t inner;
	double seal, open, floor, raw;
	double kdf, ctr_rekey, ctr_fixed, hmac_rekey, hmac_fixed, copy;
};

static int run_row(struct bench *b, size_t inner, struct row *r)
{
	int err = setup(b, inner);

	if (err)
		return err;
	r->inner = inner;
	r->seal = measure(b, do_seal);
	r->copy = measure(b, do_copy);
	r->open = measure(b, do_copy_open) - r->copy;
	r->floor = measure(b, do_floor);
	r->raw = measure(b, do_floor_raw);
	r->kdf = measure(b, do_kdf);
	r->ctr_rekey = measure(b, do_ctr_rekey);
	r->ctr_fixed = measure(b, do_ctr_fixed);
	r->hmac_rekey = measure(b, do_hmac_rekey);
	r->hmac_fixed = measure(b, do_hmac_fixed);
	err = b->failures ? -EIO : 0;
	teardown(b);
	return err;
}

int main(void)
{
	static struct bench b;
	struct row rows[sizeof(inner_sizes) / sizeof(inner_sizes[0])];
	size_t i, n = sizeof(inner_sizes) / sizeof(inner_sizes[0]);
	struct row *r;

	for (i = 0; i < n; i++) {
		if (run_row(&b, inner_sizes[i], &rows[i])) {
			fprintf(stderr, "bench_crypto: a seal or open failed at %zu bytes\n",
				inner_sizes[i]);
			return 1;
		}
	}

	printf("bench-crypto: one core, %s; kd-prf, cipher aes-ctr-128, HMAC-SHA1 tag %d\n",
	       OpenSSL_version(OPENSSL_VERSION), SATP_TAG_DEFAULT);
	printf(
	    "floor = AES-128-CTR + HMAC-SHA1 (EVP_MAC) over the same bytes, keys set up once;\n");
	printf("raw = the same with HMAC's pad blocks hashed once (SHA1_* on saved states)\n\n");
	printf("inner |     seal      |     open      |     floor     |      raw      | ours/floor "
	       "| ours/raw\n");
	printf("bytes | ns/pkt   Mpps | ns/pkt   Mpps | ns/pkt   Mpps | ns/pkt   Mpps | seal  open "
	       "| seal  open\n");
	printf("------+---------------+---------------+---------------+---------------+-----------"
	       "+-----------\n");
	for (i = 0; i < n; i++) {
		r = &rows[i];
		printf(
		    "%5zu | %6.0f %6.2f | %6.0f %6.2f | %6.0f %6.2f | %6.0f %6.2f | %4.2f  %4.2f "
		    "| %4.2f  %4.2f\n",
		    r->inner, r->seal, 1e3 / r->seal, r->open, 1e3 / r->open, r->floor,
		    1e3 / r->floor, r->raw, 1e3 / r->raw, r->seal / r->floor, r->open / r->floor,
		    r->seal / r->raw, r->open / r->raw);
	}
	printf("\nwhere the time goes (ns/packet)\n");
	printf("inner |  kdf  | ctr re-keyed  fixed | hmac re-keyed  fixed | kdf+re-keyed  floor "
	       "parts\n");
	printf("------+-------+---------------------+----------------------+-----------------------"
	       "---\n");
	for (i = 0; i < n; i++) {
		r = &rows[i];
		printf("%5zu | %5.0f | %12.0f %6.0f | %13.0f %6.0f | %12.0f %12.0f\n", r->inner,
		       r->kdf, r->ctr_rekey, r->ctr_fixed, r->hmac_rekey, r->hmac_fixed,
		       r->kdf + r->ctr_rekey + r->hmac_rekey, r->ctr_fixed + r->hmac_fixed);
	}
	printf("\nkdf: the PRF blocks of one packet (enc key, salt, auth key) in one ECB call.\n");
	printf("open excludes the %.0f ns copy that restores the ciphertext each round.\n",
	       rows[n - 1].copy);
	return 0;
}
