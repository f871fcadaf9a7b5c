// SPDX-License-Identifier: GPL-2.0-only
/*
 * Key derivation (satp.md §3): the AES-CTR PRF over the master key and salt,
 * run for every packet with that packet's seq. The master-key AES schedule
 * lives in one ECB context per direction; a packet's counter blocks are
 * built here and encrypted in one call.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "satp_internal.h"

static const struct satp_labels role_labels[] = {
    [SATP_ROLE_LEFT] = {.enc = SATP_LABEL_ENC_LEFT,
			.salt = SATP_LABEL_SALT_LEFT,
			.auth = SATP_LABEL_AUTH_LEFT},
    [SATP_ROLE_RIGHT] = {.enc = SATP_LABEL_ENC_RIGHT,
			 .salt = SATP_LABEL_SALT_RIGHT,
			 .auth = SATP_LABEL_AUTH_RIGHT},
};

const struct satp_labels *satp_role_labels(enum satp_role role)
{
	return &role_labels[role == SATP_ROLE_RIGHT];
}

/*
 * A context with the cipher fetched once ("AES-128-ECB", "AES-256-CTR", ...),
 * so that re-keying it per packet does no lookup.
 */
static EVP_CIPHER_CTX *cipher_ctx(unsigned int bits, const char *mode, const uint8_t *key)
{
	EVP_CIPHER_CTX *ctx = NULL;
	EVP_CIPHER *cipher;
	char name[32];

	snprintf(name, sizeof(name), "AES-%u-%s", bits, mode);
	cipher = EVP_CIPHER_fetch(NULL, name, NULL);
	if (!cipher)
		return NULL;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || !EVP_EncryptInit_ex(ctx, cipher, NULL, key, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(ctx, 0)) {
		EVP_CIPHER_CTX_free(ctx);
		ctx = NULL;
	}
	EVP_CIPHER_free(cipher);
	return ctx;
}

/* X = salt || 0000, X[6..9] ^= label, plus `index` as a 128-bit big-endian counter. */
static void counter_block(uint8_t x[SATP_BLOCK], const uint8_t salt[SATP_SALT_LEN], uint32_t label,
			  uint32_t seq, uint32_t index)
{
	unsigned int i, carry = index;

	memcpy(x, salt, SATP_SALT_LEN);
	x[14] = 0;
	x[15] = 0;
	satp_xor_be32(x + 6, label);
	satp_xor_be32(x + 10, seq);
	for (i = SATP_BLOCK; i-- > 0 && carry;) {
		carry += x[i];
		x[i] = (uint8_t)carry;
		carry >>= 8;
	}
}

static unsigned int blocks_for(unsigned int bytes)
{
	return (bytes + SATP_BLOCK - 1) / SATP_BLOCK;
}

/* Append the counter blocks of one value of `bytes` bytes, with seq 0. */
static unsigned int plan_value(struct satp_dir *d, unsigned int n, uint32_t label,
			       unsigned int bytes)
{
	unsigned int i;

	for (i = 0; i < blocks_for(bytes); i++, n++)
		counter_block(d->ctr + SATP_BLOCK * n, d->master_salt, label, 0, i);
	return n;
}

/* Lay out the counter blocks of every value a packet needs. */
static void plan_blocks(struct satp_dir *d)
{
	unsigned int n = 0;

	if (d->enc_len) {
		n = plan_value(d, n, d->labels.enc, d->enc_len);
		d->salt_off = SATP_BLOCK * n;
		n = plan_value(d, n, d->labels.salt, SATP_SALT_LEN);
	}
	d->auth_off = SATP_BLOCK * n;
	if (d->tag_len)
		n = plan_value(d, n, d->labels.auth, SATP_AUTH_KEY_LEN);
	d->nblocks = n;
}

int satp_dir_init(struct satp_dir *d, const struct satp_keys *k, const struct satp_labels *l)
{
	const struct satp_algos *a = &k->algos;

	memset(d, 0, sizeof(*d));
	d->labels = *l;
	memcpy(d->master_salt, k->master_salt, SATP_SALT_LEN);
	d->enc_len = a->cipher_bits / 8;
	d->tag_len = a->auth == SATP_AUTH_SHA1 ? a->tag_len : 0;
	plan_blocks(d);

	if (a->kd_bits && !(d->prf = cipher_ctx(a->kd_bits, "ECB", k->master_key)))
		goto err;
	if (a->cipher_bits && (!(d->payload = cipher_ctx(a->cipher_bits, "CTR", NULL)) ||
			       !(d->payload_ecb = cipher_ctx(a->cipher_bits, "ECB", NULL))))
		goto err;
	if (!d->prf) {
		/* kd-prf null: every derived byte is zero, for every seq. */
		d->ks_valid = true;
		d->ks_seq = 0;
	}
	return 0;
err:
	satp_dir_free(d);
	return -ENOMEM;
}

void satp_dir_free(struct satp_dir *d)
{
	EVP_CIPHER_CTX_free(d->prf);
	EVP_CIPHER_CTX_free(d->payload);
	EVP_CIPHER_CTX_free(d->payload_ecb);
	OPENSSL_cleanse(d, sizeof(*d));
}

int satp_dir_derive(struct satp_dir *d, uint32_t seq)
{
	uint8_t blocks[sizeof(d->ctr)];
	unsigned int i, bytes = d->nblocks * SATP_BLOCK;
	int out = 0;

	if (!d->prf || (d->ks_valid && d->ks_seq == seq))
		return 0;
	memcpy(blocks, d->ctr, bytes);
	for (i = 0; i < d->nblocks; i++)
		satp_xor_be32(blocks + SATP_BLOCK * i + 10, seq);
	d->ks_valid = false;
	if (!EVP_EncryptUpdate(d->prf, d->ks, &out, blocks, (int)bytes) || out != (int)bytes)
		return -EIO;
	d->ks_valid = true;
	d->ks_seq = seq;
	return 0;
}

int satp_kd_generate(struct satp_dir *d, uint32_t label, uint32_t seq, uint8_t *out, size_t len)
{
	uint8_t blocks[4 * SATP_BLOCK], ks[sizeof(blocks)];
	uint32_t index = 0;
	size_t n, i, nblocks;
	int got, err = 0;

	if (!d->prf) {
		memset(out, 0, len);
		return 0;
	}
	while (len) {
		n = len < sizeof(blocks) ? len : sizeof(blocks);
		nblocks = blocks_for(n);
		for (i = 0; i < nblocks; i++)
			counter_block(blocks + SATP_BLOCK * i, d->master_salt, label, seq, index++);
		got = 0;
		if (!EVP_EncryptUpdate(d->prf, ks, &got, blocks, (int)(nblocks * SATP_BLOCK))) {
			err = -EIO;
			break;
		}
		memcpy(out, ks, n);
		out += n;
		len -= n;
	}
	OPENSSL_cleanse(ks, sizeof(ks));
	return err;
}
