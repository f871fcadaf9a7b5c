/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The SATP core: algorithms, key derivation, packet seal and open, replay
 * window commit. Bit-exact with anytun 0.3.8 and uanytun 0.3.7
 * (../shared/docs/satp.md). Every primitive is OpenSSL libcrypto (EVP).
 *
 * Errors are negative errno values; verdicts of received packets are
 * enum satp_verdict. Nothing here allocates per packet: contexts are set up
 * once per connection (satp_crypto_init) and reused.
 *
 * A struct satp_crypto is not thread-safe: give each worker its own. Its two
 * directions share no mutable state, so one thread may seal while another opens.
 */
#ifndef SATP_H
#define SATP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "satp_wire.h"
#include "satp_window.h"

enum satp_role {
	SATP_ROLE_LEFT = 0,  /* aliases alice, server; anytun's default */
	SATP_ROLE_RIGHT = 1, /* aliases bob, client */
};

enum satp_auth {
	SATP_AUTH_NULL = 0,
	SATP_AUTH_SHA1 = 1, /* HMAC-SHA1, rightmost tag_len bytes */
};

/* The algorithm choice of one connection (-k -c -a -b). */
struct satp_algos {
	unsigned int kd_bits;	  /* kd-prf master key length: 0 (null), 128, 192, 256 */
	unsigned int cipher_bits; /* payload cipher key length: 0 (null), 128, 192, 256 */
	enum satp_auth auth;
	unsigned int tag_len; /* 0..SATP_TAG_MAX; forced 0 with auth null */
};

/* Everything that determines a connection's keys. */
struct satp_keys {
	struct satp_algos algos;
	enum satp_role role; /* the local role: outbound labels; inbound use the other */
	uint8_t master_key[SATP_KEY_MAX];
	size_t master_key_len; /* must equal algos.kd_bits / 8 (0 with kd null) */
	uint8_t master_salt[SATP_SALT_LEN];
};

/* Defaults of both reference daemons: aes-ctr, sha1, tag 10, kd aes-ctr, left. */
void satp_algos_default(struct satp_algos *a);

/* Option-string parsers. Return 0 or -EINVAL; never print. */
int satp_parse_kd_prf(const char *s, unsigned int *bits); /* null aes-ctr aes-ctr-128/192/256 */
int satp_parse_cipher(const char *s, unsigned int *bits); /* same names */
int satp_parse_auth(const char *s, enum satp_auth *auth); /* null sha1 */
int satp_parse_role(const char *s, enum satp_role *role); /* left alice server right bob client */
const char *satp_role_name(enum satp_role role);
const char *satp_algo_name(unsigned int bits);	 /* "null" or "aes-ctr-N" */
const char *satp_auth_name(enum satp_auth auth); /* "null" or "sha1" */

/*
 * Apply the reference daemons' fix-ups: cipher and auth both null force the
 * kd-prf to null; auth null forces tag 0; tag > 20 is clamped to 20.
 * Returns a bitmask of SATP_FIXUP_* saying what was changed (for warnings).
 */
#define SATP_FIXUP_KD_NULL   1u
#define SATP_FIXUP_TAG_ZERO  2u
#define SATP_FIXUP_TAG_CLAMP 4u
unsigned int satp_algos_fixup(struct satp_algos *a);

/*
 * Hex key or salt: exactly `want` bytes (or up to `cap` when want is 0).
 * On error returns -EINVAL and writes a message quoting the input to err.
 */
int satp_hex_parse(const char *hex, uint8_t *out, size_t cap, size_t want, size_t *len, char *err,
		   size_t errlen);

/* -E: key = last keylen bytes of SHA-256(pass); salt = last 14 of SHA-1(pass). */
int satp_passphrase_key(const char *pass, uint8_t *key, size_t keylen);
int satp_passphrase_salt(const char *pass, uint8_t salt[SATP_SALT_LEN]);

/*
 * PRF labels (satp.md §3.1) by the role of the packet's SENDER: the first 4
 * bytes of SHA-1 of "1".."6". Outbound uses the local role's, inbound the other's.
 */
#define SATP_LABEL_ENC_LEFT   0x356A192Bu
#define SATP_LABEL_ENC_RIGHT  0xDA4B9237u
#define SATP_LABEL_SALT_LEFT  0x77DE68DAu
#define SATP_LABEL_SALT_RIGHT 0x1B645389u
#define SATP_LABEL_AUTH_LEFT  0xAC3478D6u
#define SATP_LABEL_AUTH_RIGHT 0xC1DFD96Eu

/* Opaque-ish per-direction state: the master-key schedule and reusable contexts. */
struct satp_dir;

struct satp_crypto {
	struct satp_algos algos;
	struct satp_dir *tx; /* labels of the local role */
	struct satp_dir *rx; /* labels of the remote (opposite) role */
};

/*
 * Set up both directions. The algos must be fixed up already (tag_len <= 20,
 * 0 with auth null) and master_key_len must be kd_bits / 8; with kd null the
 * key is ignored. Returns 0, -EINVAL or -ENOMEM.
 *
 * Each direction remembers the values derived for the last seq it saw, so
 * satp_verify then satp_decrypt of one packet derive its keys once.
 */
int satp_crypto_init(struct satp_crypto *c, const struct satp_keys *k);
/*
 * As satp_crypto_init, with separate master keys per direction (a session of
 * an external key exchange, docs/kx.md): sending from tx's key and salt,
 * receiving from rx's. Both must have the same algos and role: the role still
 * picks the labels of each direction. -EINVAL otherwise.
 */
int satp_crypto_init_split(struct satp_crypto *c, const struct satp_keys *tx,
			   const struct satp_keys *rx);
void satp_crypto_free(struct satp_crypto *c);

/* The PRF of satp.md §3.2, for tests: out = AES-CTR(K, S^label^seq); zeros with kd null. */
int satp_kd_generate(struct satp_dir *d, uint32_t label, uint32_t seq, uint8_t *out, size_t len);

/* The payload IV of satp.md §5: sess_salt || 0000, ^ mux at 4, sender id at 6, seq at 10. */
void satp_payload_iv(uint8_t iv[16], const uint8_t sess_salt[SATP_SALT_LEN], uint32_t seq,
		     uint16_t sender_id, uint16_t mux);

/*
 * Seal in place. The caller puts the inner packet at buf + SATP_HDR_LEN +
 * SATP_PTYPE_LEN; seal writes header and payload type, encrypts, appends the
 * tag. cap is the buffer size. Returns the datagram length, -EMSGSIZE, or
 * -EIO if libcrypto failed.
 */
int satp_seal(struct satp_crypto *c, uint8_t *buf, size_t cap, size_t inner_len, uint32_t seq,
	      uint16_t sender_id, uint16_t mux, uint16_t ptype);

enum satp_verdict {
	SATP_OK = 0,
	SATP_TOO_SHORT,	 /* shorter than header + tag */
	SATP_BAD_TAG,	 /* HMAC did not verify */
	SATP_REPLAY,	 /* window: seen before */
	SATP_TOO_OLD,	 /* window: older than its size */
	SATP_NO_PAYLOAD, /* authenticated, but encrypted part <= 2 bytes */
	SATP_VERDICT_MAX,
};
const char *satp_verdict_name(enum satp_verdict v); /* "ok", "too-short", "bad-tag", ... */

/* The header fields of a datagram, in host order. */
struct satp_header {
	uint32_t seq;
	uint16_t sender_id;
	uint16_t mux;
};

/* Parse the header; SATP_TOO_SHORT when len < 8 + tag_len. */
enum satp_verdict satp_header_parse(const uint8_t *buf, size_t len, unsigned int tag_len,
				    struct satp_header *h);

/* Verify the tag in constant time; no state changes. */
enum satp_verdict satp_verify(struct satp_crypto *c, const uint8_t *buf, size_t len);

/* The decrypted payload: points into the caller's buffer. */
struct satp_plain {
	uint16_t ptype;
	uint8_t *inner;
	size_t inner_len;
};

/*
 * Decrypt in place (after satp_verify and the replay commit). SATP_NO_PAYLOAD
 * when the encrypted part is 2 bytes or less (nothing is decrypted then).
 */
enum satp_verdict satp_decrypt(struct satp_crypto *c, uint8_t *buf, size_t len,
			       struct satp_plain *p);

/* verify + decrypt, for callers without a replay window (decode tool, tests). */
enum satp_verdict satp_open(struct satp_crypto *c, uint8_t *buf, size_t len, struct satp_header *h,
			    struct satp_plain *p);

/*
 * Replay window (include/satp_window.h). check: read-only, what XDP also does.
 * commit: the single decision point; SATP_OK when this seq was accepted now,
 * SATP_REPLAY / SATP_TOO_OLD otherwise. Size 0 always accepts. commit is safe
 * against concurrent readers (seqlock on gen); writers to one slot must be
 * serialised by the caller. init clamps size to SATP_WINDOW_BITS.
 */
void satp_window_init(struct satp_window *w, uint32_t size);
enum satp_verdict satp_window_check(const struct satp_window *w, uint32_t seq);
enum satp_verdict satp_window_commit(struct satp_window *w, uint32_t seq);
/*
 * The window relative to its top, for another edge (edge_proto.h): bit i of
 * bits (SATP_WINDOW_WORDS words) = seq top - 1 - i committed, nbits = size - 1
 * of them. A consistent read under the seqlock, beside a committing writer.
 * 0; -ENOENT when nothing is committed or protection is off; -EAGAIN when
 * the writer kept sliding the window (try again later).
 */
int satp_window_export(const struct satp_window *w, uint32_t *top, uint64_t *bits, uint32_t *nbits);
/*
 * Merge another edge's export into w: top becomes the larger of the two, the
 * seqs committed there are committed here (what is too old here is dropped).
 * The union only grows, so no order of merges and commits re-opens a seq. A
 * writer like commit (serialise with it); XDP readers are safe. Returns 1
 * when w changed, 0 when it already knew everything.
 */
int satp_window_merge(struct satp_window *w, uint32_t top, const uint64_t *bits, uint32_t nbits);

#endif /* SATP_H */
