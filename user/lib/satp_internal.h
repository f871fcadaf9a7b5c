/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals of libsatp shared between its .c files: the per-direction state
 * behind struct satp_dir. Not part of the API; include only from user/lib.
 */
#ifndef SATP_INTERNAL_H
#define SATP_INTERNAL_H

#include <openssl/evp.h>

#include "satp.h"

/* The PRF works in AES blocks. */
#define SATP_BLOCK 16

/*
 * Most PRF blocks one packet needs: an enc key of up to 32 bytes (2 blocks),
 * the 14-byte session salt (1) and the 20-byte auth key (2). All of them are
 * computed by one ECB call over the concatenated counter blocks.
 */
#define SATP_KD_BLOCKS_MAX 5

/*
 * Payloads up to this many AES blocks get their CTR keystream from the ECB
 * context (counter blocks built here, as the PRF's): OpenSSL 3.0 re-keys an
 * ECB context with one parameter query where a CTR context takes two (key
 * and IV length), which is most of the cost of a small packet's cipher. From
 * about 512 bytes on, OpenSSL's own CTR loop is faster (bench-crypto).
 */
#define SATP_CTR_ECB_BLOCKS_MAX 16

/* Labels of the derived values (satp.md §3.1), by sender role. */
struct satp_labels {
	uint32_t enc;
	uint32_t salt;
	uint32_t auth;
};

struct satp_dir {
	EVP_CIPHER_CTX *prf;	 /* AES-ECB, master key: the PRF's block function; NULL: kd null */
	EVP_CIPHER_CTX *payload; /* AES-CTR, re-keyed per packet; NULL: cipher null */
	EVP_CIPHER_CTX *payload_ecb; /* AES-ECB, re-keyed per packet: small payloads' keystream */
	struct satp_labels labels;
	uint8_t master_salt[SATP_SALT_LEN];
	unsigned int tag_len; /* effective: 0 with auth null */
	unsigned int enc_len; /* payload key bytes: 0 with cipher null */

	/* Counter blocks of one packet with seq 0; seq is XORed in per packet. */
	uint8_t ctr[SATP_KD_BLOCKS_MAX * SATP_BLOCK];
	unsigned int nblocks;
	unsigned int salt_off; /* where each value starts in ks[] */
	unsigned int auth_off;

	/*
	 * The values derived for the last seq. verify and decrypt of the same
	 * packet are separate calls (the replay commit sits between them); the
	 * cache makes them share one derivation. Keys are a pure function of
	 * seq, so a hit is always correct.
	 */
	bool ks_valid;
	uint32_t ks_seq;
	uint8_t ks[SATP_KD_BLOCKS_MAX * SATP_BLOCK];
};

/*
 * hmac_sha1.c: HMAC-SHA1 (RFC 2104) of p under a 20-byte key, over OpenSSL's
 * SHA-1 with the context on the stack. The same bytes as EVP_MAC's HMAC,
 * which OpenSSL 3.0 re-keys with five allocations; this makes none.
 */
int satp_hmac_sha1(const uint8_t key[SATP_AUTH_KEY_LEN], const uint8_t *p, size_t len,
		   uint8_t mac[SATP_TAG_MAX]);

/* kd.c */
int satp_dir_init(struct satp_dir *d, const struct satp_keys *k, const struct satp_labels *l);
void satp_dir_free(struct satp_dir *d);
int satp_dir_derive(struct satp_dir *d, uint32_t seq);
const struct satp_labels *satp_role_labels(enum satp_role role);

static inline void satp_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline void satp_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static inline void satp_xor_be16(uint8_t *p, uint16_t v)
{
	p[0] ^= v >> 8;
	p[1] ^= v;
}

static inline void satp_xor_be32(uint8_t *p, uint32_t v)
{
	p[0] ^= v >> 24;
	p[1] ^= v >> 16;
	p[2] ^= v >> 8;
	p[3] ^= v;
}

static inline uint16_t satp_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t satp_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif /* SATP_INTERNAL_H */
