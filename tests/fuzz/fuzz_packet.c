// SPDX-License-Identifier: GPL-2.0-only
/*
 * The receive path of one SATP datagram in the daemon's order: header parse,
 * tag verify, replay-window commit, decrypt. Input:
 *
 *   byte 0  mode: even = the rest is a datagram off the wire (opened with
 *           both roles' labels, so captured datagrams of either direction
 *           authenticate); odd = the rest describes a datagram this harness
 *           seals with a known key first, so the decrypt path is reached
 *   byte 1  which algorithm set (CONFIGS)
 *
 * Byte 0 with bit 1 set (and bit 0 clear) selects the window mode instead:
 * byte 1 is the window size (x 16), the rest a list of big-endian seqs;
 * for each, the read-only check (what XDP does) must agree with the commit
 * (the daemon's decision), and a committed seq must be a replay afterwards.
 *
 * Sealed mode, after the two bytes: seq(4) sender id(2) mux(2) payload type(2)
 * bit-to-flip(2, 0xffff = none), then the inner packet. Invariants checked:
 * a sealed datagram opens to exactly its inner packet; the same seq committed
 * twice is a replay; with a tag, any one flipped bit fails verification and
 * leaves the window alone.
 */
#include <string.h>

#include "fuzz_common.h"
#include "satp.h"

#define WINDOW_SIZE 64
#define NO_FLIP	    0xffff
#define SEAL_HDR    12 /* seq, sender id, mux, ptype, flip */
#define INNER_MAX   2048

struct config {
	unsigned int kd_bits, cipher_bits, tag_len;
	enum satp_auth auth;
	const uint8_t *key; /* NULL: derived from PASSPHRASE */
};

/* The vectors' passphrase (v02): key and salt derived as anytun's -E does. */
#define PASSPHRASE "satp test passphrase"

/* The algorithm sets of the vectors (tests/fuzz/make_corpus.py picks them) and a few more. */
static const struct config CONFIGS[] = {
    {128, 128, 10, SATP_AUTH_SHA1, fuzz_key128}, /* 0: defaults: v01 v03 v07 v08 v09 */
    {256, 256, 10, SATP_AUTH_SHA1, fuzz_key256}, /* 1: v04 */
    {128, 128, 20, SATP_AUTH_SHA1, fuzz_key128}, /* 2: v05, the longest tag */
    {0, 0, 0, SATP_AUTH_NULL, fuzz_key128},	 /* 3: v06, everything null */
    {128, 128, 10, SATP_AUTH_SHA1, NULL},	 /* 4: v02, passphrase */
    {128, 0, 10, SATP_AUTH_SHA1, fuzz_key128},	 /* 5: cipher null: authenticated plaintext */
    {128, 128, 0, SATP_AUTH_NULL, fuzz_key128},	 /* 6: auth null: no tag at all */
    {192, 128, 4, SATP_AUTH_SHA1, fuzz_key256},	 /* 7: short tag, odd kd size */
};
#define N_CONFIGS (sizeof(CONFIGS) / sizeof(CONFIGS[0]))

/* by_role[c][r]: config c with local role r. */
static struct satp_crypto by_role[N_CONFIGS][2];

static void config_keys(const struct config *cf, struct satp_keys *k)
{
	memset(k, 0, sizeof(*k));
	k->algos.kd_bits = cf->kd_bits;
	k->algos.cipher_bits = cf->cipher_bits;
	k->algos.auth = cf->auth;
	k->algos.tag_len = cf->tag_len;
	k->master_key_len = cf->kd_bits / 8;
	if (cf->key) {
		memcpy(k->master_key, cf->key, k->master_key_len);
		memcpy(k->master_salt, fuzz_salt, sizeof(fuzz_salt));
	} else if (satp_passphrase_key(PASSPHRASE, k->master_key, k->master_key_len) ||
		   satp_passphrase_salt(PASSPHRASE, k->master_salt)) {
		abort();
	}
}

static void setup(void)
{
	struct satp_keys k;
	size_t c;
	int r;

	for (c = 0; c < N_CONFIGS; c++) {
		for (r = 0; r < 2; r++) {
			config_keys(&CONFIGS[c], &k);
			k.role = (enum satp_role)r;
			if (satp_crypto_init(&by_role[c][r], &k)) {
				fprintf(stderr, "fuzz_packet: config %zu does not set up\n", c);
				abort();
			}
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	setup();
	return 0;
}

/* The daemon's receive order on an exact-size heap copy (ASan sees any overread). */
static enum satp_verdict receive(struct satp_crypto *c, struct satp_window *w, const uint8_t *d,
				 size_t len, struct satp_plain *out_copy, uint8_t **keep)
{
	uint8_t *buf = malloc(len ? len : 1);
	struct satp_header h;
	struct satp_plain p;
	enum satp_verdict v;

	FUZZ_ASSERT(buf);
	memcpy(buf, d, len);
	v = satp_header_parse(buf, len, c->algos.tag_len, &h);
	if (v == SATP_OK)
		v = satp_verify(c, buf, len);
	if (v == SATP_OK) {
		v = satp_window_commit(w, h.seq);
		if (v == SATP_OK)
			FUZZ_ASSERT(satp_window_commit(w, h.seq) == SATP_REPLAY);
	}
	if (v == SATP_OK) {
		v = satp_decrypt(c, buf, len, &p);
		if (v == SATP_OK) {
			FUZZ_ASSERT(p.inner >= buf && p.inner + p.inner_len <= buf + len);
			if (out_copy)
				*out_copy = p;
		}
	}
	if (keep && v == SATP_OK)
		*keep = buf;
	else
		free(buf);
	return v;
}

static void fuzz_wire(size_t cfg, const uint8_t *d, size_t len)
{
	struct satp_window w;
	int r;

	for (r = 0; r < 2; r++) {
		satp_window_init(&w, WINDOW_SIZE);
		receive(&by_role[cfg][r], &w, d, len, NULL, NULL);
	}
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void fuzz_sealed(size_t cfg, const uint8_t *d, size_t len)
{
	struct satp_crypto *tx = &by_role[cfg][SATP_ROLE_LEFT],
			   *rx = &by_role[cfg][SATP_ROLE_RIGHT];
	size_t inner_len, cap, flip;
	struct satp_window w, fresh;
	struct satp_plain p = {0};
	enum satp_verdict v;
	uint8_t *buf, *opened = NULL;
	int n;

	if (len < SEAL_HDR)
		return;
	inner_len = len - SEAL_HDR;
	if (inner_len > INNER_MAX)
		inner_len = INNER_MAX;
	cap = SATP_HDR_LEN + SATP_PTYPE_LEN + inner_len + tx->algos.tag_len;
	buf = malloc(cap);
	FUZZ_ASSERT(buf);
	memcpy(buf + SATP_HDR_LEN + SATP_PTYPE_LEN, d + SEAL_HDR, inner_len);
	n = satp_seal(tx, buf, cap, inner_len, be32(d), be16(d + 4), be16(d + 6), be16(d + 8));
	FUZZ_ASSERT(n == (int)cap);

	satp_window_init(&w, WINDOW_SIZE);
	v = receive(rx, &w, buf, cap, &p, &opened);
	if (inner_len == 0) {
		FUZZ_ASSERT(v == SATP_NO_PAYLOAD);
	} else {
		FUZZ_ASSERT(v == SATP_OK);
		FUZZ_ASSERT(p.ptype == be16(d + 8));
		FUZZ_ASSERT(p.inner_len == inner_len);
		FUZZ_ASSERT(!memcmp(p.inner, d + SEAL_HDR, inner_len));
	}
	free(opened);

	flip = be16(d + 10);
	if (flip != NO_FLIP && tx->algos.tag_len) {
		flip %= cap * 8;
		buf[flip / 8] ^= (uint8_t)(1u << (flip % 8));
		satp_window_init(&w, WINDOW_SIZE);
		fresh = w;
		v = receive(rx, &w, buf, cap, NULL, NULL);
		FUZZ_ASSERT(v == SATP_BAD_TAG);
		/* a refused datagram never moves the window */
		FUZZ_ASSERT(!memcmp(&w, &fresh, sizeof(w)));
	}
	free(buf);
}

static void fuzz_window(unsigned int size, const uint8_t *d, size_t len)
{
	struct satp_window w;
	enum satp_verdict check, commit;
	uint32_t seq;
	size_t i;

	satp_window_init(&w, size);
	for (i = 0; i + 4 <= len; i += 4) {
		seq = be32(d + i);
		check = satp_window_check(&w, seq);
		commit = satp_window_commit(&w, seq);
		FUZZ_ASSERT(check == commit);
		if (commit == SATP_OK && w.size)
			FUZZ_ASSERT(satp_window_check(&w, seq) == SATP_REPLAY);
		FUZZ_ASSERT(w.gen % 2 == 0); /* no commit left the seqlock open */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cfg;

	if (size < 2)
		return 0;
	cfg = data[1] % N_CONFIGS;
	if (data[0] & 1)
		fuzz_sealed(cfg, data + 2, size - 2);
	else if (data[0] & 2)
		fuzz_window((unsigned int)data[1] * 16u, data + 2, size - 2);
	else
		fuzz_wire(cfg, data + 2, size - 2);
	return 0;
}
