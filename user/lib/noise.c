// SPDX-License-Identifier: GPL-2.0-only
/*
 * Noise_IK_25519_ChaChaPoly_BLAKE2s. Every primitive is OpenSSL EVP; what is
 * written here is the protocol: the SymmetricState operations and the token
 * sequence of the IK pattern (noise.h).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "noise.h"

/* Handshake payloads are small (satpd sends 12 bytes); this bounds the scratch copy. */
#define NOISE_PAYLOAD_MAX 1024

/* ---------------------------------------------------------------- primitives */

int noise_keygen(uint8_t priv[NOISE_DH_LEN])
{
	if (RAND_priv_bytes(priv, NOISE_DH_LEN) != 1)
		return -EIO;
	/* RFC 7748 §5 clamping, stored like wg stores keys. */
	priv[0] &= 248;
	priv[31] &= 127;
	priv[31] |= 64;
	return 0;
}

int noise_pubkey(uint8_t pub[NOISE_DH_LEN], const uint8_t priv[NOISE_DH_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, NOISE_DH_LEN);
	size_t len = NOISE_DH_LEN;
	int err = -EIO;

	if (!k)
		return -EIO;
	if (EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 && len == NOISE_DH_LEN)
		err = 0;
	EVP_PKEY_free(k);
	return err;
}

/*
 * Our key pair as an EVP_PKEY. Given only the private key, OpenSSL computes
 * the public one, a scalar multiplication as costly as the DH itself; the
 * handshake knows it already and passes it in.
 */
static EVP_PKEY *own_key(const uint8_t priv[NOISE_DH_LEN], const uint8_t *own_pub)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *k = NULL;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, (void *)priv, NOISE_DH_LEN),
	    OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)own_pub,
					      NOISE_DH_LEN),
	    OSSL_PARAM_construct_end(),
	};

	if (!own_pub)
		return EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, NOISE_DH_LEN);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
	if (ctx && EVP_PKEY_fromdata_init(ctx) == 1)
		EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_KEYPAIR, params);
	EVP_PKEY_CTX_free(ctx);
	return k;
}

static int dh(uint8_t out[NOISE_DH_LEN], const uint8_t priv[NOISE_DH_LEN], const uint8_t *own_pub,
	      const uint8_t pub[NOISE_DH_LEN])
{
	static const uint8_t zero[NOISE_DH_LEN];
	EVP_PKEY *k = NULL, *peer = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = NOISE_DH_LEN;
	int err = -EIO;

	k = own_key(priv, own_pub);
	peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, NOISE_DH_LEN);
	if (!k || !peer)
		goto out;
	ctx = EVP_PKEY_CTX_new(k, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, peer) != 1)
		goto out;
	/* OpenSSL refuses an all-zero result itself; that is the only way derive fails here. */
	if (EVP_PKEY_derive(ctx, out, &len) != 1 || len != NOISE_DH_LEN ||
	    !CRYPTO_memcmp(out, zero, NOISE_DH_LEN)) {
		OPENSSL_cleanse(out, NOISE_DH_LEN);
		err = -EKEYREJECTED;
		goto out;
	}
	err = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(k);
	return err;
}

int noise_dh(uint8_t out[NOISE_DH_LEN], const uint8_t priv[NOISE_DH_LEN],
	     const uint8_t pub[NOISE_DH_LEN])
{
	return dh(out, priv, NULL, pub);
}

/*
 * The algorithms are fetched once per process: an implicit fetch by name or
 * through EVP_blake2s256() and friends looks the method up in the provider
 * store on every call, which cost more than the BLAKE2s of a mac1 itself.
 * Fetched methods are immutable and shared by every thread.
 */
static struct {
	EVP_MD *blake2s;
	EVP_MAC *hmac, *blake2smac;
	EVP_CIPHER *chachapoly;
} algs;
static pthread_once_t algs_once = PTHREAD_ONCE_INIT;

static void algs_fetch(void)
{
	algs.blake2s = EVP_MD_fetch(NULL, "BLAKE2S-256", NULL);
	algs.hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	algs.blake2smac = EVP_MAC_fetch(NULL, "BLAKE2SMAC", NULL);
	algs.chachapoly = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
}

/*
 * Contexts are per thread (an EVP context is not safe to share) and live as
 * long as it: each call re-initialises its context with the new key instead
 * of allocating one. A thread's contexts are freed when it exits; the main
 * thread's stay reachable until the process ends.
 */
struct noise_ctxs {
	EVP_MD_CTX *md;
	EVP_MAC_CTX *hmac, *blake2smac;
	EVP_CIPHER_CTX *aead;
	size_t mac_size; /* the output size blake2smac has (0: none set yet) */
};

static __thread struct noise_ctxs *thread_ctxs;
static pthread_key_t ctxs_key;
static bool ctxs_key_ok;

static void ctxs_free(void *p)
{
	struct noise_ctxs *c = p;

	EVP_MD_CTX_free(c->md);
	EVP_MAC_CTX_free(c->hmac);
	EVP_MAC_CTX_free(c->blake2smac);
	EVP_CIPHER_CTX_free(c->aead);
	OPENSSL_free(c);
}

static void setup_once(void)
{
	algs_fetch();
	ctxs_key_ok = !pthread_key_create(&ctxs_key, ctxs_free);
}

/* HMAC's digest is set once per context: naming it at each init would fetch it again. */
static EVP_MAC_CTX *hmac_ctx_new(void)
{
	char digest[] = "BLAKE2S-256";
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
	    OSSL_PARAM_construct_end(),
	};
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(algs.hmac);

	if (ctx && EVP_MAC_CTX_set_params(ctx, params) != 1) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* This thread's contexts, made on its first call; NULL if OpenSSL could not. */
static struct noise_ctxs *ctxs(void)
{
	struct noise_ctxs *c = thread_ctxs;

	if (c)
		return c;
	if (pthread_once(&algs_once, setup_once) || !ctxs_key_ok || !algs.blake2s || !algs.hmac ||
	    !algs.blake2smac || !algs.chachapoly)
		return NULL;
	c = OPENSSL_zalloc(sizeof(*c));
	if (!c)
		return NULL;
	c->md = EVP_MD_CTX_new();
	c->hmac = hmac_ctx_new();
	c->blake2smac = EVP_MAC_CTX_new(algs.blake2smac);
	c->aead = EVP_CIPHER_CTX_new();
	if (!c->md || !c->hmac || !c->blake2smac || !c->aead || pthread_setspecific(ctxs_key, c)) {
		ctxs_free(c);
		return NULL;
	}
	thread_ctxs = c;
	return c;
}

int noise_hash(uint8_t out[NOISE_HASH_LEN], const uint8_t *a, size_t alen, const uint8_t *b,
	       size_t blen)
{
	struct noise_ctxs *c = ctxs();
	unsigned int len = 0;

	if (!c)
		return -EIO;
	if (EVP_DigestInit_ex2(c->md, algs.blake2s, NULL) == 1 &&
	    (!alen || EVP_DigestUpdate(c->md, a, alen) == 1) &&
	    (!blen || EVP_DigestUpdate(c->md, b, blen) == 1) &&
	    EVP_DigestFinal_ex(c->md, out, &len) == 1 && len == NOISE_HASH_LEN)
		return 0;
	return -EIO;
}

/* One EVP_MAC computation over a || b in this thread's ctx; params, if any, set the size. */
static int mac_run(EVP_MAC_CTX *ctx, const OSSL_PARAM *params, uint8_t *out, size_t outlen,
		   const uint8_t *key, size_t keylen, const uint8_t *a, size_t alen,
		   const uint8_t *b, size_t blen)
{
	size_t len = 0;

	/* A NULL key would mean "the previous one" to EVP_MAC_init: an empty key is "". */
	if (EVP_MAC_init(ctx, key ? key : (const uint8_t *)"", keylen, params) != 1)
		return -EIO;
	if ((alen && EVP_MAC_update(ctx, a, alen) != 1) ||
	    (blen && EVP_MAC_update(ctx, b, blen) != 1))
		return -EIO;
	if (EVP_MAC_final(ctx, out, &len, outlen) != 1 || len != outlen)
		return -EIO;
	return 0;
}

int noise_hmac(uint8_t out[NOISE_HASH_LEN], const uint8_t *key, size_t keylen, const uint8_t *a,
	       size_t alen, const uint8_t *b, size_t blen)
{
	struct noise_ctxs *c = ctxs();

	if (!c)
		return -EIO;
	return mac_run(c->hmac, NULL, out, NOISE_HASH_LEN, key, keylen, a, alen, b, blen);
}

int noise_mac(uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen, const uint8_t *data,
	      size_t len)
{
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &outlen),
	    OSSL_PARAM_construct_end(),
	};
	struct noise_ctxs *c;
	int err;

	if (!outlen || outlen > NOISE_HASH_LEN || !keylen || keylen > NOISE_HASH_LEN)
		return -EINVAL;
	c = ctxs();
	if (!c)
		return -EIO;
	/* The size stays with the context: parsing it again costs about a tenth of a mac1. */
	err = mac_run(c->blake2smac, c->mac_size == outlen ? NULL : params, out, outlen, key,
		      keylen, data, len, NULL, 0);
	c->mac_size = err ? 0 : outlen;
	return err;
}

int noise_hkdf(const uint8_t ck[NOISE_HASH_LEN], const uint8_t *ikm, size_t ikmlen,
	       uint8_t out1[NOISE_HASH_LEN], uint8_t out2[NOISE_HASH_LEN],
	       uint8_t out3[NOISE_HASH_LEN])
{
	uint8_t temp[NOISE_HASH_LEN], o1[NOISE_HASH_LEN], o2[NOISE_HASH_LEN];
	const uint8_t one = 1, two = 2, three = 3;
	int err;

	err = noise_hmac(temp, ck, NOISE_HASH_LEN, ikm, ikmlen, NULL, 0);
	if (!err)
		err = noise_hmac(o1, temp, sizeof(temp), &one, 1, NULL, 0);
	if (!err)
		err = noise_hmac(o2, temp, sizeof(temp), o1, sizeof(o1), &two, 1);
	if (!err && out3)
		err = noise_hmac(out3, temp, sizeof(temp), o2, sizeof(o2), &three, 1);
	if (!err) {
		/* Outputs may alias ck: written only once everything is computed. */
		memcpy(out1, o1, NOISE_HASH_LEN);
		memcpy(out2, o2, NOISE_HASH_LEN);
	}
	OPENSSL_cleanse(temp, sizeof(temp));
	OPENSSL_cleanse(o1, sizeof(o1));
	OPENSSL_cleanse(o2, sizeof(o2));
	return err;
}

void noise_nonce(uint8_t nonce[NOISE_NONCE_LEN], uint64_t n)
{
	int i;

	memset(nonce, 0, 4);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

/*
 * Key and nonce into this thread's AEAD context. The cipher is named only the
 * first time: naming it again would reset the context and allocate a new one.
 */
static EVP_CIPHER_CTX *aead_init(const uint8_t key[NOISE_KEY_LEN],
				 const uint8_t nonce[NOISE_NONCE_LEN], int enc)
{
	struct noise_ctxs *c = ctxs();
	const EVP_CIPHER *cipher;

	if (!c)
		return NULL;
	cipher = EVP_CIPHER_CTX_get0_cipher(c->aead) ? NULL : algs.chachapoly;
	if (EVP_CipherInit_ex2(c->aead, cipher, key, nonce, enc, NULL) != 1)
		return NULL;
	return c->aead;
}

int noise_aead_seal(const uint8_t key[NOISE_KEY_LEN], const uint8_t nonce[NOISE_NONCE_LEN],
		    const uint8_t *ad, size_t adlen, const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	int l = 0, fl = 0;

	/* EVP takes int lengths. */
	if (ptlen > INT_MAX || adlen > INT_MAX)
		return -EMSGSIZE;
	ctx = aead_init(key, nonce, 1);
	if (!ctx)
		return -EIO;
	if (adlen && EVP_EncryptUpdate(ctx, NULL, &l, ad, (int)adlen) != 1)
		return -EIO;
	l = 0;
	if (ptlen && EVP_EncryptUpdate(ctx, out, &l, pt, (int)ptlen) != 1)
		return -EIO;
	if (EVP_EncryptFinal_ex(ctx, out + l, &fl) != 1 || (size_t)l + (size_t)fl != ptlen)
		return -EIO;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, NOISE_TAG_LEN, out + ptlen) != 1)
		return -EIO;
	return 0;
}

int noise_aead_open(const uint8_t key[NOISE_KEY_LEN], const uint8_t nonce[NOISE_NONCE_LEN],
		    const uint8_t *ad, size_t adlen, const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t tag[NOISE_TAG_LEN];
	size_t ptlen;
	int l = 0, fl = 0;

	if (ctlen < NOISE_TAG_LEN)
		return -EBADMSG;
	ptlen = ctlen - NOISE_TAG_LEN;
	if (ptlen > INT_MAX || adlen > INT_MAX)
		return -EMSGSIZE;
	ctx = aead_init(key, nonce, 0);
	if (!ctx)
		return -EIO;
	memcpy(tag, ct + ptlen, NOISE_TAG_LEN);
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, NOISE_TAG_LEN, tag) != 1)
		return -EIO;
	if (adlen && EVP_DecryptUpdate(ctx, NULL, &l, ad, (int)adlen) != 1)
		return -EIO;
	l = 0;
	if (ptlen && EVP_DecryptUpdate(ctx, out, &l, ct, (int)ptlen) != 1)
		return -EIO;
	if (EVP_DecryptFinal_ex(ctx, out + l, &fl) != 1) {
		OPENSSL_cleanse(out, ptlen);
		return -EBADMSG;
	}
	return 0;
}

/* ---------------------------------------------------------------- symmetric state */

static int mix_hash(struct noise_handshake *hs, const uint8_t *data, size_t len)
{
	return noise_hash(hs->h, hs->h, sizeof(hs->h), data, len);
}

static int mix_key(struct noise_handshake *hs, const uint8_t *ikm, size_t len)
{
	int err = noise_hkdf(hs->ck, ikm, len, hs->ck, hs->k, NULL);

	if (err)
		return err;
	hs->n = 0;
	hs->has_k = true;
	return 0;
}

/* MixKey(DH(priv, pub)); own_pub is priv's public key. */
static int mix_dh(struct noise_handshake *hs, const uint8_t *priv, const uint8_t *own_pub,
		  const uint8_t *pub)
{
	uint8_t shared[NOISE_DH_LEN];
	int err = dh(shared, priv, own_pub, pub);

	if (!err)
		err = mix_key(hs, shared, sizeof(shared));
	OPENSSL_cleanse(shared, sizeof(shared));
	return err;
}

/* out gets len + 16 bytes (every IK payload is sent after a MixKey, so k is set). */
static int encrypt_and_hash(struct noise_handshake *hs, const uint8_t *pt, size_t len, uint8_t *out)
{
	uint8_t nonce[NOISE_NONCE_LEN];
	int err;

	if (!hs->has_k)
		return -EPROTO;
	noise_nonce(nonce, hs->n);
	err = noise_aead_seal(hs->k, nonce, hs->h, sizeof(hs->h), pt, len, out);
	if (err)
		return err;
	hs->n++;
	return mix_hash(hs, out, len + NOISE_TAG_LEN);
}

/* ct and out must not overlap: the hash takes the ciphertext after decryption. */
static int decrypt_and_hash(struct noise_handshake *hs, const uint8_t *ct, size_t len, uint8_t *out)
{
	uint8_t nonce[NOISE_NONCE_LEN];
	int err;

	if (!hs->has_k)
		return -EPROTO;
	noise_nonce(nonce, hs->n);
	err = noise_aead_open(hs->k, nonce, hs->h, sizeof(hs->h), ct, len, out);
	if (err)
		return err;
	hs->n++;
	return mix_hash(hs, ct, len);
}

/* Token e of the sender: a fresh ephemeral (unless a test fixed it), sent and hashed. */
static int write_e(struct noise_handshake *hs, uint8_t *out)
{
	int err = 0;

	if (!hs->e_fixed)
		err = noise_keygen(hs->e_priv);
	if (!err)
		err = noise_pubkey(hs->e_pub, hs->e_priv);
	if (err)
		return err;
	memcpy(out, hs->e_pub, NOISE_DH_LEN);
	return mix_hash(hs, hs->e_pub, NOISE_DH_LEN);
}

static int read_e(struct noise_handshake *hs, const uint8_t *in)
{
	memcpy(hs->re, in, NOISE_DH_LEN);
	return mix_hash(hs, hs->re, NOISE_DH_LEN);
}

/* ---------------------------------------------------------------- handshake */

int noise_handshake_init_keypair(struct noise_handshake *hs, enum noise_role role,
				 const uint8_t *prologue, size_t prologue_len,
				 const uint8_t s_priv[NOISE_DH_LEN],
				 const uint8_t s_pub[NOISE_DH_LEN], const uint8_t rs[NOISE_DH_LEN])
{
	static const char name[] = NOISE_PROTOCOL_NAME;
	int err = 0;

	if ((role == NOISE_INITIATOR) != (rs != NULL) || role > NOISE_RESPONDER)
		return -EINVAL;
	memset(hs, 0, sizeof(*hs));
	hs->role = role;
	memcpy(hs->s_priv, s_priv, NOISE_DH_LEN);
	if (s_pub)
		memcpy(hs->s_pub, s_pub, NOISE_DH_LEN);
	else
		err = noise_pubkey(hs->s_pub, hs->s_priv);
	/* The name is longer than HASHLEN, so h = HASH(name). */
	if (!err)
		err = noise_hash(hs->h, (const uint8_t *)name, sizeof(name) - 1, NULL, 0);
	memcpy(hs->ck, hs->h, NOISE_HASH_LEN);
	if (!err)
		err = mix_hash(hs, prologue, prologue_len);
	if (!err && rs)
		memcpy(hs->rs, rs, NOISE_DH_LEN);
	/* Pre-message "<- s": both sides hash the responder's static key. */
	if (!err)
		err = mix_hash(hs, role == NOISE_INITIATOR ? hs->rs : hs->s_pub, NOISE_DH_LEN);
	if (err)
		noise_handshake_wipe(hs);
	return err;
}

int noise_handshake_init(struct noise_handshake *hs, enum noise_role role, const uint8_t *prologue,
			 size_t prologue_len, const uint8_t s_priv[NOISE_DH_LEN],
			 const uint8_t rs[NOISE_DH_LEN])
{
	return noise_handshake_init_keypair(hs, role, prologue, prologue_len, s_priv, NULL, rs);
}

int noise_handshake_set_ephemeral(struct noise_handshake *hs, const uint8_t e_priv[NOISE_DH_LEN])
{
	memcpy(hs->e_priv, e_priv, NOISE_DH_LEN);
	hs->e_fixed = true;
	return 0;
}

/* Every step works on a copy, committed only on success: a failure changes nothing. */
static void commit(struct noise_handshake *hs, struct noise_handshake *t, int err)
{
	if (!err)
		*hs = *t;
	OPENSSL_cleanse(t, sizeof(*t));
}

int noise_write_msg1(struct noise_handshake *hs, const uint8_t *payload, size_t plen, uint8_t *out,
		     size_t cap)
{
	struct noise_handshake t = *hs;
	uint8_t *p = out;
	int err;

	if (hs->role != NOISE_INITIATOR || hs->step != NOISE_STEP_MSG1)
		return -EPROTO;
	if (plen > NOISE_PAYLOAD_MAX || cap < NOISE_IK_MSG1_LEN(plen))
		return -EMSGSIZE;
	err = write_e(&t, p);
	p += NOISE_DH_LEN;
	if (!err) /* es */
		err = mix_dh(&t, t.e_priv, t.e_pub, t.rs);
	if (!err) /* s */
		err = encrypt_and_hash(&t, t.s_pub, NOISE_DH_LEN, p);
	p += NOISE_DH_LEN + NOISE_TAG_LEN;
	if (!err) /* ss */
		err = mix_dh(&t, t.s_priv, t.s_pub, t.rs);
	if (!err)
		err = encrypt_and_hash(&t, payload, plen, p);
	t.step = NOISE_STEP_MSG2;
	commit(hs, &t, err);
	return err ? err : (int)NOISE_IK_MSG1_LEN(plen);
}

int noise_read_msg1(struct noise_handshake *hs, const uint8_t *msg, size_t len, uint8_t *payload,
		    size_t cap)
{
	struct noise_handshake t = *hs;
	uint8_t plain[NOISE_PAYLOAD_MAX];
	const uint8_t *p = msg;
	size_t plen;
	int err;

	if (hs->role != NOISE_RESPONDER || hs->step != NOISE_STEP_MSG1)
		return -EPROTO;
	if (len < NOISE_IK_MSG1_LEN(0) || len - NOISE_IK_MSG1_LEN(0) > NOISE_PAYLOAD_MAX)
		return -EMSGSIZE;
	plen = len - NOISE_IK_MSG1_LEN(0);
	if (cap < plen)
		return -EMSGSIZE;
	err = read_e(&t, p);
	p += NOISE_DH_LEN;
	if (!err) /* es */
		err = mix_dh(&t, t.s_priv, t.s_pub, t.re);
	if (!err) /* s */
		err = decrypt_and_hash(&t, p, NOISE_DH_LEN + NOISE_TAG_LEN, t.rs);
	p += NOISE_DH_LEN + NOISE_TAG_LEN;
	if (!err) /* ss */
		err = mix_dh(&t, t.s_priv, t.s_pub, t.rs);
	if (!err)
		err = decrypt_and_hash(&t, p, plen + NOISE_TAG_LEN, plain);
	if (!err && plen)
		memcpy(payload, plain, plen);
	t.step = NOISE_STEP_MSG2;
	commit(hs, &t, err);
	OPENSSL_cleanse(plain, sizeof(plain));
	return err ? err : (int)plen;
}

int noise_write_msg2(struct noise_handshake *hs, const uint8_t *payload, size_t plen, uint8_t *out,
		     size_t cap)
{
	struct noise_handshake t = *hs;
	int err;

	if (hs->role != NOISE_RESPONDER || hs->step != NOISE_STEP_MSG2)
		return -EPROTO;
	if (plen > NOISE_PAYLOAD_MAX || cap < NOISE_IK_MSG2_LEN(plen))
		return -EMSGSIZE;
	err = write_e(&t, out);
	if (!err) /* ee */
		err = mix_dh(&t, t.e_priv, t.e_pub, t.re);
	if (!err) /* se: the initiator's static with the responder's ephemeral */
		err = mix_dh(&t, t.e_priv, t.e_pub, t.rs);
	if (!err)
		err = encrypt_and_hash(&t, payload, plen, out + NOISE_DH_LEN);
	t.step = NOISE_STEP_DONE;
	commit(hs, &t, err);
	return err ? err : (int)NOISE_IK_MSG2_LEN(plen);
}

int noise_read_msg2(struct noise_handshake *hs, const uint8_t *msg, size_t len, uint8_t *payload,
		    size_t cap)
{
	struct noise_handshake t = *hs;
	uint8_t plain[NOISE_PAYLOAD_MAX];
	size_t plen;
	int err;

	if (hs->role != NOISE_INITIATOR || hs->step != NOISE_STEP_MSG2)
		return -EPROTO;
	if (len < NOISE_IK_MSG2_LEN(0) || len - NOISE_IK_MSG2_LEN(0) > NOISE_PAYLOAD_MAX)
		return -EMSGSIZE;
	plen = len - NOISE_IK_MSG2_LEN(0);
	if (cap < plen)
		return -EMSGSIZE;
	err = read_e(&t, msg);
	if (!err) /* ee */
		err = mix_dh(&t, t.e_priv, t.e_pub, t.re);
	if (!err) /* se */
		err = mix_dh(&t, t.s_priv, t.s_pub, t.re);
	if (!err)
		err = decrypt_and_hash(&t, msg + NOISE_DH_LEN, plen + NOISE_TAG_LEN, plain);
	if (!err && plen)
		memcpy(payload, plain, plen);
	t.step = NOISE_STEP_DONE;
	commit(hs, &t, err);
	OPENSSL_cleanse(plain, sizeof(plain));
	return err ? err : (int)plen;
}

int noise_split(const struct noise_handshake *hs, uint8_t i2r[NOISE_KEY_LEN],
		uint8_t r2i[NOISE_KEY_LEN])
{
	if (hs->step != NOISE_STEP_DONE)
		return -EPROTO;
	return noise_hkdf(hs->ck, NULL, 0, i2r, r2i, NULL);
}

void noise_handshake_wipe(struct noise_handshake *hs)
{
	OPENSSL_cleanse(hs, sizeof(*hs));
}
