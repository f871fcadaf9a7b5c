// SPDX-License-Identifier: GPL-2.0-only
/*
 * The edge window exchange's codec and MAC (edge_proto.h): HMAC-SHA256 and
 * HKDF-SHA256 through OpenSSL's EVP_MAC and EVP_KDF.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "edge_proto.h"

struct satp_edge_mac {
	EVP_MAC_CTX *keyed; /* initialised with the key once; each message works on a dup */
};

int satp_edge_mac_new(struct satp_edge_mac **out, const uint8_t key[SATP_EDGE_KEY_LEN])
{
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
	    OSSL_PARAM_construct_end(),
	};
	struct satp_edge_mac *m;
	EVP_MAC *mac;
	int ret = -EIO;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac)
		goto err;
	m->keyed = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (!m->keyed || EVP_MAC_init(m->keyed, key, SATP_EDGE_KEY_LEN, params) != 1)
		goto err;
	*out = m;
	return 0;
err:
	satp_edge_mac_free(m);
	return ret;
}

void satp_edge_mac_free(struct satp_edge_mac *m)
{
	if (!m)
		return;
	EVP_MAC_CTX_free(m->keyed);
	free(m);
}

static int mac_compute(struct satp_edge_mac *m, const uint8_t *p, size_t len,
		       uint8_t out[SATP_EDGE_TAG_LEN])
{
	EVP_MAC_CTX *c = EVP_MAC_CTX_dup(m->keyed);
	size_t n = 0;
	int ret = -EIO;

	if (c && EVP_MAC_update(c, p, len) == 1 &&
	    EVP_MAC_final(c, out, &n, SATP_EDGE_TAG_LEN) == 1 && n == SATP_EDGE_TAG_LEN)
		ret = 0;
	EVP_MAC_CTX_free(c);
	return ret;
}

int satp_edge_derive_key(const uint8_t *master_key, size_t key_len,
			 const uint8_t salt[SATP_SALT_LEN], uint8_t out[SATP_EDGE_KEY_LEN])
{
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)master_key, key_len),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, SATP_SALT_LEN),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)SATP_EDGE_KDF_LABEL,
					      sizeof(SATP_EDGE_KDF_LABEL) - 1),
	    OSSL_PARAM_construct_end(),
	};
	EVP_KDF *kdf;
	EVP_KDF_CTX *c = NULL;
	int ret = -EIO;

	if (!key_len)
		return -EINVAL;
	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (kdf)
		c = EVP_KDF_CTX_new(kdf);
	if (c && EVP_KDF_derive(c, out, SATP_EDGE_KEY_LEN, params) == 1)
		ret = 0;
	EVP_KDF_CTX_free(c);
	EVP_KDF_free(kdf);
	return ret;
}

static void put16(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return be16toh(v);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return be32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

void satp_edge_begin(struct satp_edge_writer *wr, uint8_t buf[SATP_EDGE_MSG_MAX],
		     const struct satp_edge_hdr *h)
{
	memset(buf, 0, SATP_EDGE_HDR_LEN);
	put32(buf, SATP_EDGE_MAGIC);
	buf[4] = SATP_EDGE_VERSION;
	buf[5] = h->flags;
	put16(buf + 6, h->edge_id);
	put64(buf + 8, h->stamp);
	wr->buf = buf;
	wr->len = SATP_EDGE_HDR_LEN;
	wr->count = 0;
}

/* The record's bits with those from nbits on cleared, as the wire wants them. */
static uint64_t word_masked(const struct satp_edge_record *r, uint32_t word)
{
	uint32_t used = r->nbits - word * 64;

	return used >= 64 ? r->bits[word] : r->bits[word] & ((1ull << used) - 1);
}

int satp_edge_add(struct satp_edge_writer *wr, const struct satp_edge_record *r)
{
	size_t need = satp_edge_record_len(r->nbits);
	uint8_t *p = wr->buf + wr->len;
	uint32_t i;

	if (r->nbits > SATP_EDGE_BITS_MAX)
		return -EINVAL;
	if (wr->len + need + SATP_EDGE_TAG_LEN > SATP_EDGE_MSG_MAX || wr->count == UINT16_MAX)
		return -ENOSPC;
	put16(p, r->mux);
	put16(p + 2, r->sender_id);
	put32(p + 4, r->top);
	put16(p + 8, (uint16_t)r->nbits);
	put16(p + 10, 0);
	for (i = 0; i < (r->nbits + 63) / 64; i++)
		put64(p + SATP_EDGE_REC_HDR + 8 * i, word_masked(r, i));
	wr->len += need;
	wr->count++;
	return 0;
}

int satp_edge_seal(struct satp_edge_writer *wr, struct satp_edge_mac *m)
{
	put16(wr->buf + 16, wr->count);
	if (mac_compute(m, wr->buf, wr->len, wr->buf + wr->len))
		return -EIO;
	return (int)(wr->len + SATP_EDGE_TAG_LEN);
}

/* One record at p (avail bytes left before the tag); its length, or 0 when it does not parse. */
static size_t parse_record(const uint8_t *p, size_t avail, struct satp_edge_record *r)
{
	uint32_t i, words;
	size_t len;

	if (avail < SATP_EDGE_REC_HDR)
		return 0;
	r->mux = get16(p);
	r->sender_id = get16(p + 2);
	r->top = get32(p + 4);
	r->nbits = get16(p + 8);
	len = satp_edge_record_len(r->nbits);
	if (get16(p + 10) || r->nbits > SATP_EDGE_BITS_MAX || len > avail)
		return 0;
	words = (r->nbits + 63) / 64;
	memset(r->bits, 0, sizeof(r->bits));
	for (i = 0; i < words; i++)
		r->bits[i] = get64(p + SATP_EDGE_REC_HDR + 8 * i);
	/* A bit past nbits would be a seq the sender did not mean: refuse, do not guess. */
	if (words && word_masked(r, words - 1) != r->bits[words - 1])
		return 0;
	return len;
}

enum satp_edge_verdict satp_edge_open(struct satp_edge_mac *m, const uint8_t *buf, size_t len,
				      struct satp_edge_hdr *h, struct satp_edge_record *recs,
				      unsigned int cap, unsigned int *n)
{
	uint8_t tag[SATP_EDGE_TAG_LEN];
	size_t off = SATP_EDGE_HDR_LEN, body, rl;
	unsigned int i;

	*n = 0;
	if (len < SATP_EDGE_HDR_LEN + SATP_EDGE_TAG_LEN)
		return SATP_EDGE_SHORT;
	if (get32(buf) != SATP_EDGE_MAGIC || buf[4] != SATP_EDGE_VERSION)
		return SATP_EDGE_BAD_MAGIC;
	body = len - SATP_EDGE_TAG_LEN;
	if (mac_compute(m, buf, body, tag) || CRYPTO_memcmp(tag, buf + body, SATP_EDGE_TAG_LEN))
		return SATP_EDGE_BAD_TAG;
	h->flags = buf[5];
	h->edge_id = get16(buf + 6);
	h->stamp = get64(buf + 8);
	h->count = get16(buf + 16);
	if ((h->flags & ~SATP_EDGE_F_ALL) || get16(buf + 18) || h->count > cap)
		return SATP_EDGE_MALFORMED;
	for (i = 0; i < h->count; i++) {
		rl = parse_record(buf + off, body - off, &recs[i]);
		if (!rl)
			return SATP_EDGE_MALFORMED;
		off += rl;
	}
	if (off != body)
		return SATP_EDGE_MALFORMED; /* bytes after the last record */
	*n = h->count;
	return SATP_EDGE_OK;
}

const char *satp_edge_verdict_name(enum satp_edge_verdict v)
{
	static const char *const names[] = {
	    [SATP_EDGE_OK] = "ok",
	    [SATP_EDGE_SHORT] = "short",
	    [SATP_EDGE_BAD_MAGIC] = "bad_magic",
	    [SATP_EDGE_BAD_TAG] = "bad_tag",
	    [SATP_EDGE_MALFORMED] = "malformed",
	};

	return (unsigned int)v < SATP_EDGE_VERDICTS ? names[v] : "?";
}

void satp_edge_sent_add(struct satp_edge_sent *s, uint64_t stamp)
{
	s->stamp[s->head] = stamp;
	s->head = (s->head + 1) % SATP_EDGE_SENT_MAX;
	if (s->n < SATP_EDGE_SENT_MAX)
		s->n++;
}

/* The i-th kept stamp, oldest first. */
static uint64_t sent_at(const struct satp_edge_sent *s, unsigned int i)
{
	return s->stamp[(s->head + SATP_EDGE_SENT_MAX - s->n + i) % SATP_EDGE_SENT_MAX];
}

enum satp_edge_self satp_edge_self_check(const struct satp_edge_sent *s, uint64_t stamp)
{
	unsigned int lo = 0, hi = s->n, mid;

	/* a previous run's, or dropped from the ring: a twin's next messages are newer */
	if (!s->n || stamp < sent_at(s, 0))
		return SATP_EDGE_SELF_UNKNOWN;
	while (lo < hi) { /* stamps grow: binary search */
		mid = lo + (hi - lo) / 2;
		if (sent_at(s, mid) < stamp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && sent_at(s, lo) == stamp ? SATP_EDGE_SELF_OURS : SATP_EDGE_SELF_TWIN;
}
