// SPDX-License-Identifier: GPL-2.0-only
/*
 * One SATP datagram: seal (encrypt then MAC) and open (verify, then decrypt),
 * satp.md §5 and §6. Per packet: one PRF call, one AES-CTR re-key, and
 * HMAC as two SHA-1 runs (RFC 2104, hmac_sha1.c): nothing allocated, where
 * OpenSSL 3.0's EVP_MAC HMAC re-key allocated five times.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "satp_internal.h"

static const char *const verdict_names[SATP_VERDICT_MAX] = {
    [SATP_OK] = "ok",	      [SATP_TOO_SHORT] = "too-short", [SATP_BAD_TAG] = "bad-tag",
    [SATP_REPLAY] = "replay", [SATP_TOO_OLD] = "too-old",     [SATP_NO_PAYLOAD] = "no-payload",
};

const char *satp_verdict_name(enum satp_verdict v)
{
	if ((unsigned int)v >= SATP_VERDICT_MAX)
		return "?";
	return verdict_names[v];
}

static bool algos_valid(const struct satp_algos *a)
{
	static const unsigned int aes_bits[] = {0, 128, 192, 256};
	bool kd = false, cipher = false;
	size_t i;

	for (i = 0; i < sizeof(aes_bits) / sizeof(aes_bits[0]); i++) {
		kd |= a->kd_bits == aes_bits[i];
		cipher |= a->cipher_bits == aes_bits[i];
	}
	if (!kd || !cipher || a->tag_len > SATP_TAG_MAX)
		return false;
	return a->auth == SATP_AUTH_SHA1 || (a->auth == SATP_AUTH_NULL && a->tag_len == 0);
}

int satp_crypto_init(struct satp_crypto *c, const struct satp_keys *k)
{
	enum satp_role remote;
	int err = -EINVAL;

	memset(c, 0, sizeof(*c));
	if (!algos_valid(&k->algos))
		return -EINVAL;
	if (k->algos.kd_bits && k->master_key_len != k->algos.kd_bits / 8)
		return -EINVAL;
	if (k->role != SATP_ROLE_LEFT && k->role != SATP_ROLE_RIGHT)
		return -EINVAL;
	remote = k->role == SATP_ROLE_LEFT ? SATP_ROLE_RIGHT : SATP_ROLE_LEFT;

	c->algos = k->algos;
	c->tx = calloc(1, sizeof(*c->tx));
	c->rx = calloc(1, sizeof(*c->rx));
	err = -ENOMEM;
	if (!c->tx || !c->rx)
		goto err;
	err = satp_dir_init(c->tx, k, satp_role_labels(k->role));
	if (err)
		goto err;
	err = satp_dir_init(c->rx, k, satp_role_labels(remote));
	if (err)
		goto err;
	return 0;
err:
	satp_crypto_free(c);
	return err;
}

int satp_crypto_init_split(struct satp_crypto *c, const struct satp_keys *tx,
			   const struct satp_keys *rx)
{
	struct satp_crypto in;
	int err;

	memset(c, 0, sizeof(*c));
	if (memcmp(&tx->algos, &rx->algos, sizeof(tx->algos)) || tx->role != rx->role)
		return -EINVAL;
	err = satp_crypto_init(c, tx);
	if (err)
		return err;
	err = satp_crypto_init(&in, rx);
	if (err) {
		satp_crypto_free(c);
		return err;
	}
	/* rx's receiving direction replaces the one derived from tx's master key */
	satp_dir_free(c->rx);
	free(c->rx);
	c->rx = in.rx;
	in.rx = NULL;
	satp_crypto_free(&in);
	return 0;
}

void satp_crypto_free(struct satp_crypto *c)
{
	if (c->tx)
		satp_dir_free(c->tx);
	if (c->rx)
		satp_dir_free(c->rx);
	free(c->tx);
	free(c->rx);
	c->tx = NULL;
	c->rx = NULL;
}

void satp_payload_iv(uint8_t iv[SATP_BLOCK], const uint8_t sess_salt[SATP_SALT_LEN], uint32_t seq,
		     uint16_t sender_id, uint16_t mux)
{
	memcpy(iv, sess_salt, SATP_SALT_LEN);
	iv[14] = 0;
	iv[15] = 0;
	satp_xor_be16(iv + 4, mux);
	satp_xor_be16(iv + 6, sender_id);
	satp_xor_be32(iv + 10, seq);
}

/*
 * CTR over the ECB context for a small payload: the keystream blocks are
 * AES(iv), AES(iv + 1), ... with the block index in iv's last two bytes, which
 * satp_payload_iv leaves zero (a datagram has far fewer than 2^16 blocks, so
 * the count never carries past them, the same blocks OpenSSL's CTR makes).
 */
static int payload_crypt_ecb(struct satp_dir *d, const uint8_t iv[SATP_BLOCK], uint8_t *p,
			     size_t len)
{
	uint8_t ks[SATP_CTR_ECB_BLOCKS_MAX * SATP_BLOCK];
	unsigned int i, n = (unsigned int)((len + SATP_BLOCK - 1) / SATP_BLOCK);
	uint64_t a, k;
	size_t j;
	int out = 0;

	for (i = 0; i < n; i++) {
		memcpy(ks + SATP_BLOCK * i, iv, SATP_BLOCK - 2);
		satp_put_be16(ks + SATP_BLOCK * i + SATP_BLOCK - 2, (uint16_t)i);
	}
	if (!EVP_EncryptInit_ex(d->payload_ecb, NULL, NULL, d->ks, NULL) ||
	    !EVP_EncryptUpdate(d->payload_ecb, ks, &out, ks, (int)(n * SATP_BLOCK)) ||
	    out != (int)(n * SATP_BLOCK))
		return -EIO;
	for (j = 0; j + sizeof(a) <= len; j += sizeof(a)) {
		memcpy(&a, p + j, sizeof(a));
		memcpy(&k, ks + j, sizeof(k));
		a ^= k;
		memcpy(p + j, &a, sizeof(a));
	}
	for (; j < len; j++)
		p[j] ^= ks[j];
	return 0;
}

/* AES-CTR of the encrypted portion in place, keyed by the values derived for hdr's seq. */
static int payload_crypt(struct satp_dir *d, const uint8_t *hdr, uint8_t *p, size_t len)
{
	uint8_t iv[SATP_BLOCK];
	int out = 0;

	satp_payload_iv(iv, d->ks + d->salt_off, satp_get_be32(hdr), satp_get_be16(hdr + 4),
			satp_get_be16(hdr + 6));
	if (len <= SATP_CTR_ECB_BLOCKS_MAX * SATP_BLOCK)
		return payload_crypt_ecb(d, iv, p, len);
	if (!EVP_EncryptInit_ex(d->payload, NULL, NULL, d->ks, iv) ||
	    !EVP_EncryptUpdate(d->payload, p, &out, p, (int)len) || out != (int)len)
		return -EIO;
	return 0;
}

/* The full HMAC-SHA1; the tag is its rightmost tag_len bytes. */
static int hmac(struct satp_dir *d, const uint8_t *p, size_t len, uint8_t mac[SATP_TAG_MAX])
{
	return satp_hmac_sha1(d->ks + d->auth_off, p, len, mac);
}

int satp_seal(struct satp_crypto *c, uint8_t *buf, size_t cap, size_t inner_len, uint32_t seq,
	      uint16_t sender_id, uint16_t mux, uint16_t ptype)
{
	struct satp_dir *d = c->tx;
	size_t enc_len = SATP_PTYPE_LEN + inner_len;
	size_t auth_len = SATP_HDR_LEN + enc_len;
	uint8_t mac[SATP_TAG_MAX];
	int err;

	if (inner_len > cap || cap - inner_len < SATP_HDR_LEN + SATP_PTYPE_LEN + d->tag_len ||
	    auth_len + d->tag_len > (size_t)INT32_MAX)
		return -EMSGSIZE;
	satp_put_be32(buf, seq);
	satp_put_be16(buf + 4, sender_id);
	satp_put_be16(buf + 6, mux);
	satp_put_be16(buf + SATP_HDR_LEN, ptype);

	err = satp_dir_derive(d, seq);
	if (err)
		return err;
	if (d->payload) {
		err = payload_crypt(d, buf, buf + SATP_HDR_LEN, enc_len);
		if (err)
			return err;
	}
	if (d->tag_len) {
		err = hmac(d, buf, auth_len, mac);
		if (err)
			return err;
		memcpy(buf + auth_len, mac + SATP_TAG_MAX - d->tag_len, d->tag_len);
	}
	return (int)(auth_len + d->tag_len);
}

enum satp_verdict satp_header_parse(const uint8_t *buf, size_t len, unsigned int tag_len,
				    struct satp_header *h)
{
	if (len < SATP_MIN_LEN(tag_len))
		return SATP_TOO_SHORT;
	h->seq = satp_get_be32(buf);
	h->sender_id = satp_get_be16(buf + 4);
	h->mux = satp_get_be16(buf + 6);
	return SATP_OK;
}

enum satp_verdict satp_verify(struct satp_crypto *c, const uint8_t *buf, size_t len)
{
	struct satp_dir *d = c->rx;
	uint8_t mac[SATP_TAG_MAX];
	size_t auth_len;

	if (len < SATP_MIN_LEN(d->tag_len))
		return SATP_TOO_SHORT;
	if (!d->tag_len)
		return SATP_OK;
	auth_len = len - d->tag_len;
	/* Failures of the library fail closed, as a tag that did not verify. */
	if (satp_dir_derive(d, satp_get_be32(buf)) || hmac(d, buf, auth_len, mac))
		return SATP_BAD_TAG;
	if (CRYPTO_memcmp(mac + SATP_TAG_MAX - d->tag_len, buf + auth_len, d->tag_len))
		return SATP_BAD_TAG;
	return SATP_OK;
}

enum satp_verdict satp_decrypt(struct satp_crypto *c, uint8_t *buf, size_t len,
			       struct satp_plain *p)
{
	struct satp_dir *d = c->rx;
	size_t enc_len;

	if (len < SATP_MIN_LEN(d->tag_len))
		return SATP_TOO_SHORT;
	enc_len = len - SATP_MIN_LEN(d->tag_len);
	if (enc_len <= SATP_PTYPE_LEN)
		return SATP_NO_PAYLOAD;
	if (d->payload) {
		if (satp_dir_derive(d, satp_get_be32(buf)) ||
		    payload_crypt(d, buf, buf + SATP_HDR_LEN, enc_len))
			return SATP_BAD_TAG;
	}
	p->ptype = satp_get_be16(buf + SATP_HDR_LEN);
	p->inner = buf + SATP_HDR_LEN + SATP_PTYPE_LEN;
	p->inner_len = enc_len - SATP_PTYPE_LEN;
	return SATP_OK;
}

enum satp_verdict satp_open(struct satp_crypto *c, uint8_t *buf, size_t len, struct satp_header *h,
			    struct satp_plain *p)
{
	enum satp_verdict v;

	v = satp_header_parse(buf, len, c->rx->tag_len, h);
	if (v == SATP_OK)
		v = satp_verify(c, buf, len);
	if (v == SATP_OK)
		v = satp_decrypt(c, buf, len, p);
	return v;
}
