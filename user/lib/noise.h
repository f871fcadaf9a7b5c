/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Noise_IK_25519_ChaChaPoly_BLAKE2s (the Noise Protocol Framework, rev. 34):
 * the primitives as thin wrappers over OpenSSL 3 EVP, and the handshake state
 * machine (MixHash, MixKey, EncryptAndHash, Split) for the IK pattern:
 *
 *   <- s
 *   ...
 *   -> e, es, s, ss      message 1, initiator to responder
 *   <- e, ee, se         message 2, responder to initiator
 *
 * Errors are negative errno values:
 *   -EMSGSIZE      a message of the wrong length, or an output buffer too small
 *   -EBADMSG       an AEAD tag did not verify (tampered, or the wrong static key)
 *   -EKEYREJECTED  a DH result of all zeros (a low-order public key)
 *   -EPROTO        a call out of order (wrong role or step)
 *   -EIO           libcrypto failed
 * A failed read leaves the handshake exactly as it was.
 *
 * The BLAKE2s, HMAC, keyed-BLAKE2s and ChaCha20-Poly1305 wrappers may be
 * called from any thread: the algorithms are fetched once per process, and
 * each thread gets its own EVP contexts on its first call, re-keyed on every
 * later one and freed when the thread exits (a flood of spoofed initiations
 * costs only the cryptography, docs/handshake.md §6). A handshake state is
 * one thread's at a time. The X25519 wrappers still build their EVP_PKEYs
 * per call: a DH costs a hundred times more than that.
 */
#ifndef SATP_NOISE_H
#define SATP_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOISE_PROTOCOL_NAME "Noise_IK_25519_ChaChaPoly_BLAKE2s"
#define NOISE_DH_LEN	    32 /* X25519 keys and shared secrets */
#define NOISE_HASH_LEN	    32 /* BLAKE2s-256 */
#define NOISE_KEY_LEN	    32 /* ChaCha20-Poly1305 */
#define NOISE_TAG_LEN	    16 /* Poly1305 */
#define NOISE_NONCE_LEN	    12 /* 4 zero bytes || 64-bit little-endian counter */
#define NOISE_BLOCK_LEN	    64 /* BLAKE2s block: HMAC pads the key to this */

/* Message sizes of IK with a payload of n bytes. */
#define NOISE_IK_MSG1_LEN(n) (NOISE_DH_LEN + NOISE_DH_LEN + NOISE_TAG_LEN + (n) + NOISE_TAG_LEN)
#define NOISE_IK_MSG2_LEN(n) (NOISE_DH_LEN + (n) + NOISE_TAG_LEN)

/* ---------------------------------------------------------------- primitives */

/* A fresh X25519 private key from the OS CSPRNG, clamped as RFC 7748 says. */
int noise_keygen(uint8_t priv[NOISE_DH_LEN]);
int noise_pubkey(uint8_t pub[NOISE_DH_LEN], const uint8_t priv[NOISE_DH_LEN]);
/* X25519; -EKEYREJECTED when the result is all zeros. */
int noise_dh(uint8_t out[NOISE_DH_LEN], const uint8_t priv[NOISE_DH_LEN],
	     const uint8_t pub[NOISE_DH_LEN]);

/* BLAKE2s-256 of a || b (either may be empty). */
int noise_hash(uint8_t out[NOISE_HASH_LEN], const uint8_t *a, size_t alen, const uint8_t *b,
	       size_t blen);
/* HMAC-BLAKE2s of a || b under key. */
int noise_hmac(uint8_t out[NOISE_HASH_LEN], const uint8_t *key, size_t keylen, const uint8_t *a,
	       size_t alen, const uint8_t *b, size_t blen);
/* HKDF as Noise defines it: two outputs, or three when out3 is not NULL. */
int noise_hkdf(const uint8_t ck[NOISE_HASH_LEN], const uint8_t *ikm, size_t ikmlen,
	       uint8_t out1[NOISE_HASH_LEN], uint8_t out2[NOISE_HASH_LEN],
	       uint8_t out3[NOISE_HASH_LEN]);
/* Keyed BLAKE2s (key 1..32 bytes) with an outlen-byte output (1..32): mac1, mac2, cookies. */
int noise_mac(uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen, const uint8_t *data,
	      size_t len);

/* The Noise nonce of counter n. */
void noise_nonce(uint8_t nonce[NOISE_NONCE_LEN], uint64_t n);
/* ChaCha20-Poly1305: out = ciphertext || tag (ptlen + 16 bytes). */
int noise_aead_seal(const uint8_t key[NOISE_KEY_LEN], const uint8_t nonce[NOISE_NONCE_LEN],
		    const uint8_t *ad, size_t adlen, const uint8_t *pt, size_t ptlen, uint8_t *out);
/* out = plaintext (ctlen - 16 bytes); -EBADMSG when the tag does not verify. */
int noise_aead_open(const uint8_t key[NOISE_KEY_LEN], const uint8_t nonce[NOISE_NONCE_LEN],
		    const uint8_t *ad, size_t adlen, const uint8_t *ct, size_t ctlen, uint8_t *out);

/* ---------------------------------------------------------------- handshake */

enum noise_role {
	NOISE_INITIATOR = 0,
	NOISE_RESPONDER = 1,
};

enum noise_step {
	NOISE_STEP_MSG1 = 0, /* message 1 is next */
	NOISE_STEP_MSG2,     /* message 2 is next */
	NOISE_STEP_DONE,     /* split may be called */
};

/* HandshakeState with its SymmetricState and CipherState inline: plain data, copyable. */
struct noise_handshake {
	enum noise_role role;
	enum noise_step step;
	uint8_t ck[NOISE_HASH_LEN]; /* chaining key */
	uint8_t h[NOISE_HASH_LEN];  /* handshake hash */
	uint8_t k[NOISE_KEY_LEN];   /* CipherState key, valid when has_k */
	uint64_t n;		    /* CipherState nonce */
	bool has_k;
	bool e_fixed; /* tests: the ephemeral was set, do not draw one */
	uint8_t s_priv[NOISE_DH_LEN], s_pub[NOISE_DH_LEN]; /* local static */
	uint8_t e_priv[NOISE_DH_LEN], e_pub[NOISE_DH_LEN]; /* local ephemeral */
	uint8_t rs[NOISE_DH_LEN];			   /* remote static */
	uint8_t re[NOISE_DH_LEN];			   /* remote ephemeral */
};

/*
 * Initialize(): h = HASH(protocol name) (it is 33 bytes, longer than HASHLEN),
 * ck = h, MixHash(prologue), MixHash(responder's static public key).
 * The initiator passes the responder's public key as rs; the responder NULL.
 */
int noise_handshake_init(struct noise_handshake *hs, enum noise_role role, const uint8_t *prologue,
			 size_t prologue_len, const uint8_t s_priv[NOISE_DH_LEN],
			 const uint8_t rs[NOISE_DH_LEN]);
/*
 * The same with the local static public key given, which saves computing it
 * (a scalar multiplication) on every handshake: a responder's cost per forged
 * initiation halves. s_pub must be s_priv's public key.
 */
int noise_handshake_init_keypair(struct noise_handshake *hs, enum noise_role role,
				 const uint8_t *prologue, size_t prologue_len,
				 const uint8_t s_priv[NOISE_DH_LEN],
				 const uint8_t s_pub[NOISE_DH_LEN], const uint8_t rs[NOISE_DH_LEN]);
/* Use this ephemeral private key instead of a random one (test vectors only). */
int noise_handshake_set_ephemeral(struct noise_handshake *hs, const uint8_t e_priv[NOISE_DH_LEN]);

/* Message 1. write returns its length; read returns the payload length. */
int noise_write_msg1(struct noise_handshake *hs, const uint8_t *payload, size_t plen, uint8_t *out,
		     size_t cap);
int noise_read_msg1(struct noise_handshake *hs, const uint8_t *msg, size_t len, uint8_t *payload,
		    size_t cap);
/* Message 2, the same way. */
int noise_write_msg2(struct noise_handshake *hs, const uint8_t *payload, size_t plen, uint8_t *out,
		     size_t cap);
int noise_read_msg2(struct noise_handshake *hs, const uint8_t *msg, size_t len, uint8_t *payload,
		    size_t cap);

/* Split(): the initiator-to-responder and responder-to-initiator keys. */
int noise_split(const struct noise_handshake *hs, uint8_t i2r[NOISE_KEY_LEN],
		uint8_t r2i[NOISE_KEY_LEN]);

/* Wipe every secret (also on abandoned handshakes). */
void noise_handshake_wipe(struct noise_handshake *hs);

#endif /* SATP_NOISE_H */
