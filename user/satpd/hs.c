// SPDX-License-Identifier: GPL-2.0-only
/*
 * satpd's handshake messages: framing, mac1, replay protection of
 * initiations and the derivation of SATP keys from the Noise split (hs.h).
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "hs.h"

/* TAI64 labels a second s after 1970 as 2^62 + s (leap seconds do not matter for ordering). */
#define TAI64_EPOCH  (1ull << 62)
#define NSEC_PER_SEC 1000000000ull

/* Where the Noise message and the MACs sit (include/satp_hs_wire.h). */
#define INIT_NOISE_OFF offsetof(struct satp_hs_initiation, ephemeral)
#define INIT_NOISE_LEN NOISE_IK_MSG1_LEN(SATP_HS_TIMESTAMP_LEN)
#define INIT_MAC1_OFF  offsetof(struct satp_hs_initiation, mac1)
#define INIT_MAC2_OFF  offsetof(struct satp_hs_initiation, mac2)
#define RESP_NOISE_OFF offsetof(struct satp_hs_response, ephemeral)
#define RESP_NOISE_LEN NOISE_IK_MSG2_LEN(0)
#define RESP_MAC1_OFF  offsetof(struct satp_hs_response, mac1)
#define RESP_MAC2_OFF  offsetof(struct satp_hs_response, mac2)

_Static_assert(sizeof(struct satp_hs_hdr) == SATP_HS_HDR_LEN, "header size");
_Static_assert(sizeof(struct satp_hs_initiation) == SATP_HS_INITIATION_LEN, "initiation size");
_Static_assert(sizeof(struct satp_hs_response) == SATP_HS_RESPONSE_LEN, "response size");
_Static_assert(sizeof(struct satp_hs_cookie_reply) == SATP_HS_COOKIE_REPLY_LEN,
	       "cookie reply size");
_Static_assert(INIT_MAC1_OFF - INIT_NOISE_OFF == INIT_NOISE_LEN, "initiation noise message");
_Static_assert(RESP_MAC1_OFF - RESP_NOISE_OFF == RESP_NOISE_LEN, "response noise message");
_Static_assert(offsetof(struct satp_hs_hdr, mux) == offsetof(struct satp_hdr, mux), "mux offset");

static const char *const verdict_names[HS_VERDICT_MAX] = {
    [HS_OK] = "ok",
    [HS_BAD_LENGTH] = "bad-length",
    [HS_BAD_TYPE] = "bad-type",
    [HS_BAD_HEADER] = "bad-header",
    [HS_BAD_MAC1] = "bad-mac1",
    [HS_BAD_MAC2] = "bad-mac2",
    [HS_DECRYPT_FAILED] = "decrypt-failed",
    [HS_BAD_KEY] = "bad-key",
    [HS_UNKNOWN_PEER] = "unknown-peer",
    [HS_REPLAY] = "replay",
    [HS_UNKNOWN_INDEX] = "unknown-index",
    [HS_COOKIE_NEEDED] = "cookie-needed",
    [HS_INTERNAL] = "internal",
    [HS_RATELIMITED] = "ratelimited",
};

const char *hs_verdict_name(enum hs_verdict v)
{
	return (unsigned int)v < HS_VERDICT_MAX ? verdict_names[v] : "unknown";
}

/* Cookie reply nonces drawn from the DRBG per call of RAND_bytes. */
#define COOKIE_NONCE_BATCH 64

/* HASH(label || pub): the keys of mac1 and of cookie replies, known to anyone with pub. */
static int label_key(uint8_t key[NOISE_HASH_LEN], const char *label,
		     const uint8_t pub[NOISE_DH_LEN])
{
	return noise_hash(key, (const uint8_t *)label, strlen(label), pub, NOISE_DH_LEN);
}

static int mac1_key(uint8_t key[NOISE_HASH_LEN], const uint8_t pub[NOISE_DH_LEN])
{
	return label_key(key, HS_LABEL_MAC1, pub);
}

int hs_identity_init(struct hs_identity *id, const uint8_t priv[NOISE_DH_LEN])
{
	int err;

	memset(id, 0, sizeof(*id));
	memcpy(id->priv, priv, NOISE_DH_LEN);
	err = noise_pubkey(id->pub, id->priv);
	if (!err)
		err = mac1_key(id->mac1_key, id->pub);
	if (err)
		OPENSSL_cleanse(id, sizeof(*id));
	return err;
}

int hs_peer_init(struct hs_peer *p, const uint8_t pub[NOISE_DH_LEN], unsigned int kd_bits)
{
	if (kd_bits != 128 && kd_bits != 192 && kd_bits != 256)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	memcpy(p->pub, pub, NOISE_DH_LEN);
	p->master_key_len = kd_bits / 8;
	if (label_key(p->cookie_key, HS_LABEL_COOKIE, p->pub))
		return -EIO;
	return mac1_key(p->mac1_key, p->pub);
}

void hs_peer_wipe(struct hs_peer *p)
{
	OPENSSL_cleanse(p, sizeof(*p));
}

void hs_timestamp_make(uint8_t ts[SATP_HS_TIMESTAMP_LEN], uint64_t unix_sec, uint32_t nsec)
{
	uint64_t sec = htobe64(TAI64_EPOCH + unix_sec);
	uint32_t ns = htobe32(nsec - nsec % HS_TIMESTAMP_GRANULARITY_NS);

	memcpy(ts, &sec, sizeof(sec));
	memcpy(ts + sizeof(sec), &ns, sizeof(ns));
}

void hs_timestamp_now(uint8_t ts[SATP_HS_TIMESTAMP_LEN])
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	hs_timestamp_make(ts, (uint64_t)now.tv_sec, (uint32_t)now.tv_nsec);
}

bool hs_is_handshake(const uint8_t *buf, size_t len)
{
	const struct satp_hs_hdr *h = (const void *)buf;

	return len >= SATP_HS_HDR_LEN && be16toh(h->mux) == SATP_HS_MUX;
}

int hs_msg_type(const uint8_t *buf, size_t len)
{
	if (len < SATP_HS_HDR_LEN)
		return -EMSGSIZE;
	if (!hs_is_handshake(buf, len))
		return -EPROTO;
	return buf[0];
}

int hs_response_receiver_index(const uint8_t *buf, size_t len, uint32_t *idx)
{
	const struct satp_hs_response *m = (const void *)buf;

	if (len != SATP_HS_RESPONSE_LEN)
		return -EMSGSIZE;
	*idx = be32toh(m->receiver_index);
	return 0;
}

static void hdr_fill(struct satp_hs_hdr *h, uint8_t type)
{
	memset(h, 0, sizeof(*h));
	h->type = type;
	h->version = SATP_HS_VERSION;
	h->mux = htobe16(SATP_HS_MUX);
}

/* The checks that cost no cryptography, in the order a flood is cheapest to drop. */
static enum hs_verdict frame_check(const uint8_t *msg, size_t len, uint8_t type, size_t want)
{
	static const uint8_t zero[sizeof(((struct satp_hs_hdr *)0)->reserved)];
	const struct satp_hs_hdr *h = (const void *)msg;

	if (len != want)
		return HS_BAD_LENGTH;
	if (h->type != type)
		return HS_BAD_TYPE;
	if (h->version != SATP_HS_VERSION || memcmp(h->reserved, zero, sizeof(zero)) ||
	    be16toh(h->mux) != SATP_HS_MUX)
		return HS_BAD_HEADER;
	return HS_OK;
}

static enum hs_verdict mac1_check(const uint8_t *msg, size_t mac1_off,
				  const uint8_t key[NOISE_HASH_LEN])
{
	uint8_t mac[SATP_HS_MAC_LEN];

	if (noise_mac(mac, sizeof(mac), key, NOISE_HASH_LEN, msg, mac1_off))
		return HS_INTERNAL;
	if (CRYPTO_memcmp(mac, msg + mac1_off, sizeof(mac)))
		return HS_BAD_MAC1;
	return HS_OK;
}

static bool mac_is_zero(const uint8_t *mac)
{
	static const uint8_t zero[SATP_HS_MAC_LEN];

	return !CRYPTO_memcmp(mac, zero, sizeof(zero));
}

/* ---------------------------------------------------------------- cookies */

/* A new secret every HS_COOKIE_SECRET_LIFETIME_S; the one before stays valid one more. */
static int cookie_rotate(struct hs_cookie_checker *cc, uint64_t now_ns)
{
	uint64_t age = now_ns - cc->secret_ns;

	if (age < HS_COOKIE_SECRET_LIFETIME_S * NSEC_PER_SEC)
		return 0;
	memcpy(cc->prev_secret, cc->secret, sizeof(cc->secret));
	cc->have_prev = age < 2 * HS_COOKIE_SECRET_LIFETIME_S * NSEC_PER_SEC;
	cc->secret_ns = now_ns;
	return RAND_priv_bytes(cc->secret, sizeof(cc->secret)) == 1 ? 0 : -EIO;
}

int hs_cookie_checker_init(struct hs_cookie_checker *cc, const struct hs_identity *id,
			   uint64_t now_ns)
{
	memset(cc, 0, sizeof(*cc));
	cc->secret_ns = now_ns;
	if (RAND_priv_bytes(cc->secret, sizeof(cc->secret)) != 1 ||
	    label_key(cc->reply_key, HS_LABEL_COOKIE, id->pub)) {
		hs_cookie_checker_wipe(cc);
		return -EIO;
	}
	return 0;
}

void hs_cookie_checker_wipe(struct hs_cookie_checker *cc)
{
	OPENSSL_cleanse(cc, sizeof(*cc));
}

/* The cookie of a source address: MAC(secret, address). */
static int cookie_of(uint8_t cookie[SATP_HS_COOKIE_LEN], const uint8_t secret[NOISE_HASH_LEN],
		     const struct hs_rx_info *rx)
{
	return noise_mac(cookie, SATP_HS_COOKIE_LEN, secret, NOISE_HASH_LEN, rx->src, rx->src_len);
}

/* mac2 = MAC(cookie, message before mac2). */
static int mac2_of(uint8_t mac2[SATP_HS_MAC_LEN], const uint8_t cookie[SATP_HS_COOKIE_LEN],
		   const uint8_t *msg, size_t mac2_off)
{
	return noise_mac(mac2, SATP_HS_MAC_LEN, cookie, SATP_HS_COOKIE_LEN, msg, mac2_off);
}

static bool mac2_valid_under(const uint8_t secret[NOISE_HASH_LEN], const struct hs_rx_info *rx,
			     const uint8_t *msg, size_t mac2_off)
{
	uint8_t cookie[SATP_HS_COOKIE_LEN], mac[SATP_HS_MAC_LEN];
	bool ok = !cookie_of(cookie, secret, rx) && !mac2_of(mac, cookie, msg, mac2_off) &&
		  !CRYPTO_memcmp(mac, msg + mac2_off, sizeof(mac));

	OPENSSL_cleanse(cookie, sizeof(cookie));
	return ok;
}

static enum hs_verdict mac2_check(const struct hs_rx_info *rx, const uint8_t *msg, size_t mac2_off)
{
	struct hs_cookie_checker *cc = rx ? rx->cookies : NULL;
	bool zero = mac_is_zero(msg + mac2_off);

	if (!cc)
		return zero ? HS_OK : HS_BAD_MAC2;
	if (cookie_rotate(cc, rx->now_ns))
		return HS_INTERNAL;
	if (zero)
		return rx->under_load ? HS_COOKIE_NEEDED : HS_OK;
	if (mac2_valid_under(cc->secret, rx, msg, mac2_off) ||
	    (cc->have_prev && mac2_valid_under(cc->prev_secret, rx, msg, mac2_off)))
		return HS_OK;
	return HS_COOKIE_NEEDED;
}

/*
 * Cookie reply nonces come from the DRBG in batches: one RAND_bytes per reply
 * cost a third of the reply (the DRBG's locks, fork check and update run per
 * call, whatever the length). Per thread. A forked child forgets the batch it
 * inherited, or it would send its parent's nonces again under the same key.
 */
static __thread struct {
	uint8_t nonce[COOKIE_NONCE_BATCH][SATP_HS_NONCE_LEN];
	unsigned int left;
} cookie_nonces;
static pthread_once_t cookie_nonces_once = PTHREAD_ONCE_INIT;

static void cookie_nonces_forget(void)
{
	cookie_nonces.left = 0;
}

static void cookie_nonces_setup(void)
{
	pthread_atfork(NULL, NULL, cookie_nonces_forget);
}

static int cookie_nonce(uint8_t nonce[SATP_HS_NONCE_LEN])
{
	if (pthread_once(&cookie_nonces_once, cookie_nonces_setup))
		return -EIO;
	if (!cookie_nonces.left) {
		if (RAND_bytes(&cookie_nonces.nonce[0][0], sizeof(cookie_nonces.nonce)) != 1)
			return -EIO;
		cookie_nonces.left = COOKIE_NONCE_BATCH;
	}
	cookie_nonces.left--;
	memcpy(nonce, cookie_nonces.nonce[cookie_nonces.left], SATP_HS_NONCE_LEN);
	return 0;
}

int hs_cookie_reply_create(const struct hs_rx_info *rx, const uint8_t *initiation, size_t len,
			   uint8_t *out, size_t cap)
{
	const struct satp_hs_initiation *in = (const void *)initiation;
	struct satp_hs_cookie_reply *m = (void *)out;
	uint8_t cookie[SATP_HS_COOKIE_LEN];
	int err;

	if (!rx || !rx->cookies)
		return -EINVAL;
	if (len != SATP_HS_INITIATION_LEN || cap < SATP_HS_COOKIE_REPLY_LEN)
		return -EMSGSIZE;
	err = cookie_rotate(rx->cookies, rx->now_ns);
	if (!err)
		err = cookie_of(cookie, rx->cookies->secret, rx);
	if (err)
		goto out;
	hdr_fill(&m->hdr, SATP_HS_COOKIE_REPLY);
	m->receiver_index = in->sender_index;
	err = cookie_nonce(m->nonce);
	if (err)
		goto out;
	/* The initiation's mac1 as AD: only its sender can use the cookie. */
	err = noise_aead_seal(rx->cookies->reply_key, m->nonce, in->mac1, sizeof(in->mac1), cookie,
			      sizeof(cookie), m->enc_cookie);
	if (!err)
		err = SATP_HS_COOKIE_REPLY_LEN;
out:
	OPENSSL_cleanse(cookie, sizeof(cookie));
	return err;
}

enum hs_verdict hs_cookie_reply_consume(struct hs_peer *peer, const uint8_t *msg, size_t len,
					uint64_t now_ns)
{
	const struct satp_hs_cookie_reply *m = (const void *)msg;
	uint8_t cookie[SATP_HS_COOKIE_LEN];
	enum hs_verdict v;
	int err;

	v = frame_check(msg, len, SATP_HS_COOKIE_REPLY, SATP_HS_COOKIE_REPLY_LEN);
	if (v != HS_OK)
		return v;
	if (!peer->have_pending || be32toh(m->receiver_index) != peer->pending_index)
		return HS_UNKNOWN_INDEX;
	err = noise_aead_open(peer->cookie_key, m->nonce, peer->last_mac1, sizeof(peer->last_mac1),
			      m->enc_cookie, sizeof(m->enc_cookie), cookie);
	if (err) {
		v = err == -EBADMSG ? HS_DECRYPT_FAILED : HS_INTERNAL;
		goto out;
	}
	memcpy(peer->cookie, cookie, sizeof(cookie));
	peer->cookie_ns = now_ns;
	peer->have_cookie = true;
out:
	OPENSSL_cleanse(cookie, sizeof(cookie));
	return v;
}

/* ---------------------------------------------------------------- handshake */

static enum hs_verdict noise_verdict(int err)
{
	switch (err) {
	case -EBADMSG:
		return HS_DECRYPT_FAILED;
	case -EKEYREJECTED:
		return HS_BAD_KEY;
	default:
		return HS_INTERNAL;
	}
}

int hs_index_draw(struct hs_index_table *t, uint16_t owner, hs_index_busy_fn busy, void *ctx,
		  uint32_t *idx)
{
	uint32_t v, slot;
	unsigned int i;

	for (i = 0; i < HS_INDEX_DRAWS; i++) {
		if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
			return -EIO;
		slot = v & HS_INDEX_SLOT_MASK;
		if (t->owner[slot] != owner && busy(ctx, t->owner[slot], slot))
			continue;
		t->owner[slot] = owner;
		*idx = v;
		return 0;
	}
	return -EAGAIN;
}

int hs_initiation_create(struct hs_peer *peer, const struct hs_identity *id, uint32_t sender_index,
			 const uint8_t ts[SATP_HS_TIMESTAMP_LEN], uint64_t now_ns, uint8_t *out,
			 size_t cap)
{
	struct satp_hs_initiation *m = (void *)out;
	struct noise_handshake hs;
	int err;

	if (cap < SATP_HS_INITIATION_LEN)
		return -EMSGSIZE;
	err = noise_handshake_init_keypair(&hs, NOISE_INITIATOR, (const uint8_t *)HS_PROLOGUE,
					   strlen(HS_PROLOGUE), id->priv, id->pub, peer->pub);
	if (err)
		return err;
	hdr_fill(&m->hdr, SATP_HS_INITIATION);
	m->sender_index = htobe32(sender_index);
	err =
	    noise_write_msg1(&hs, ts, SATP_HS_TIMESTAMP_LEN, out + INIT_NOISE_OFF, INIT_NOISE_LEN);
	if (err < 0)
		goto out;
	err =
	    noise_mac(m->mac1, SATP_HS_MAC_LEN, peer->mac1_key, NOISE_HASH_LEN, out, INIT_MAC1_OFF);
	if (err)
		goto out;
	memset(m->mac2, 0, sizeof(m->mac2));
	if (peer->have_cookie && now_ns - peer->cookie_ns < HS_COOKIE_LIFETIME_S * NSEC_PER_SEC)
		err = mac2_of(m->mac2, peer->cookie, out, INIT_MAC2_OFF);
	if (err)
		goto out;
	memcpy(peer->last_mac1, m->mac1, sizeof(peer->last_mac1));
	noise_handshake_wipe(&peer->pending);
	peer->pending = hs;
	peer->pending_index = sender_index;
	peer->have_pending = true;
	err = SATP_HS_INITIATION_LEN;
out:
	noise_handshake_wipe(&hs);
	return err;
}

enum hs_verdict hs_initiation_consume(const struct hs_identity *id, const struct hs_rx_info *rx,
				      hs_peer_lookup_fn lookup, void *ctx, const uint8_t *msg,
				      size_t len, struct hs_responder *r)
{
	const struct satp_hs_initiation *m = (const void *)msg;
	uint8_t ts[SATP_HS_TIMESTAMP_LEN];
	struct noise_handshake hs;
	struct hs_peer *peer;
	enum hs_verdict v;
	int err;

	v = frame_check(msg, len, SATP_HS_INITIATION, SATP_HS_INITIATION_LEN);
	if (v == HS_OK)
		v = mac1_check(msg, INIT_MAC1_OFF, id->mac1_key);
	/* Only now, with mac1 good: the cookie decides whether DH may be spent. */
	if (v == HS_OK)
		v = mac2_check(rx, msg, INIT_MAC2_OFF);
	if (v != HS_OK)
		return v;
	/* under load, HS_OK means a valid cookie: the address is the sender's own */
	if (rx && rx->cookies && rx->under_load && rx->admit && !rx->admit(rx->admit_ctx))
		return HS_RATELIMITED;
	if (noise_handshake_init_keypair(&hs, NOISE_RESPONDER, (const uint8_t *)HS_PROLOGUE,
					 strlen(HS_PROLOGUE), id->priv, id->pub, NULL))
		return HS_INTERNAL;
	err = noise_read_msg1(&hs, msg + INIT_NOISE_OFF, INIT_NOISE_LEN, ts, sizeof(ts));
	if (err < 0) {
		v = noise_verdict(err);
		goto out;
	}
	peer = lookup(ctx, hs.rs);
	if (!peer) {
		v = HS_UNKNOWN_PEER;
		goto out;
	}
	/* Big-endian TAI64N: byte order is time order. */
	if (peer->have_ts && memcmp(ts, peer->last_ts, sizeof(ts)) <= 0) {
		v = HS_REPLAY;
		goto out;
	}
	memcpy(peer->last_ts, ts, sizeof(ts));
	peer->have_ts = true;
	r->hs = hs;
	r->peer = peer;
	r->remote_index = be32toh(m->sender_index);
out:
	noise_handshake_wipe(&hs);
	return v;
}

/* One direction: HKDF(split key, label) gives the master key and, from its second output, the salt.
 */
static int derive_dir(const uint8_t split[NOISE_KEY_LEN], const char *label, size_t key_len,
		      uint8_t *key, uint8_t salt[SATP_SALT_LEN])
{
	uint8_t o1[NOISE_HASH_LEN], o2[NOISE_HASH_LEN];
	int err;

	err = noise_hkdf(split, (const uint8_t *)label, strlen(label), o1, o2, NULL);
	if (!err) {
		memcpy(key, o1, key_len);
		memcpy(salt, o2, SATP_SALT_LEN);
	}
	OPENSSL_cleanse(o1, sizeof(o1));
	OPENSSL_cleanse(o2, sizeof(o2));
	return err;
}

static int session_derive(const struct noise_handshake *hs, size_t key_len, struct hs_session *s)
{
	uint8_t i2r[NOISE_KEY_LEN], r2i[NOISE_KEY_LEN], id[NOISE_HASH_LEN], unused[NOISE_HASH_LEN];
	static const char label[] = HS_LABEL_SESSION;
	bool ini = hs->role == NOISE_INITIATOR;
	uint64_t num;
	int err;

	err = noise_split(hs, i2r, r2i);
	if (!err)
		err = derive_dir(ini ? i2r : r2i, ini ? HS_LABEL_I2R : HS_LABEL_R2I, key_len,
				 s->tx_key, s->tx_salt);
	if (!err)
		err = derive_dir(ini ? r2i : i2r, ini ? HS_LABEL_R2I : HS_LABEL_I2R, key_len,
				 s->rx_key, s->rx_salt);
	/* The handshake hash is the same on both sides and unique to this handshake. */
	if (!err)
		err =
		    noise_hkdf(hs->h, (const uint8_t *)label, sizeof(label) - 1, id, unused, NULL);
	if (!err) {
		memcpy(&num, id, sizeof(num));
		s->id = be64toh(num);
		s->initiator = ini;
		s->master_key_len = key_len;
	}
	OPENSSL_cleanse(i2r, sizeof(i2r));
	OPENSSL_cleanse(r2i, sizeof(r2i));
	return err;
}

int hs_response_create(struct hs_responder *r, const struct hs_identity *id, uint32_t sender_index,
		       uint8_t *out, size_t cap, struct hs_session *s)
{
	struct satp_hs_response *m = (void *)out;
	struct hs_session sess = {0};
	int err;

	if (cap < SATP_HS_RESPONSE_LEN)
		return -EMSGSIZE;
	if (!r->peer || r->hs.role != NOISE_RESPONDER || r->hs.step != NOISE_STEP_MSG2)
		return -EPROTO;
	hdr_fill(&m->hdr, SATP_HS_RESPONSE);
	m->sender_index = htobe32(sender_index);
	m->receiver_index = htobe32(r->remote_index);
	err = noise_write_msg2(&r->hs, NULL, 0, out + RESP_NOISE_OFF, RESP_NOISE_LEN);
	if (err < 0)
		goto out;
	err = noise_mac(m->mac1, SATP_HS_MAC_LEN, r->peer->mac1_key, NOISE_HASH_LEN, out,
			RESP_MAC1_OFF);
	if (!err)
		err = session_derive(&r->hs, r->peer->master_key_len, &sess);
	if (err)
		goto out;
	memset(m->mac2, 0, sizeof(m->mac2));
	/* The responder's keys are unconfirmed until the initiator's first packet under them. */
	sess.confirmed = false;
	sess.local_index = sender_index;
	sess.remote_index = r->remote_index;
	*s = sess;
	err = SATP_HS_RESPONSE_LEN;
out:
	hs_session_wipe(&sess);
	noise_handshake_wipe(&r->hs);
	r->peer = NULL;
	return err;
}

enum hs_verdict hs_response_consume(struct hs_peer *peer, const struct hs_identity *id,
				    const uint8_t *msg, size_t len, struct hs_session *s)
{
	const struct satp_hs_response *m = (const void *)msg;
	struct noise_handshake hs;
	struct hs_session sess = {0};
	enum hs_verdict v;
	int err;

	v = frame_check(msg, len, SATP_HS_RESPONSE, SATP_HS_RESPONSE_LEN);
	if (v == HS_OK)
		v = mac1_check(msg, RESP_MAC1_OFF, id->mac1_key);
	/* Responses carry no cookie: a forged one must also guess the index in flight. */
	if (v == HS_OK && !mac_is_zero(msg + RESP_MAC2_OFF))
		v = HS_BAD_MAC2;
	if (v != HS_OK)
		return v;
	if (!peer->have_pending || be32toh(m->receiver_index) != peer->pending_index)
		return HS_UNKNOWN_INDEX;
	hs = peer->pending;
	err = noise_read_msg2(&hs, msg + RESP_NOISE_OFF, RESP_NOISE_LEN, NULL, 0);
	if (err < 0) {
		v = noise_verdict(err);
		goto out;
	}
	if (session_derive(&hs, peer->master_key_len, &sess)) {
		v = HS_INTERNAL;
		goto out;
	}
	sess.confirmed = true; /* the response itself proved the responder's keys */
	sess.local_index = peer->pending_index;
	sess.remote_index = be32toh(m->sender_index);
	*s = sess;
	/* A response is good once: a replayed one finds nothing in flight. */
	noise_handshake_wipe(&peer->pending);
	peer->have_pending = false;
out:
	hs_session_wipe(&sess);
	noise_handshake_wipe(&hs);
	return v;
}

int hs_session_satp_keys(const struct hs_session *s, const struct satp_algos *a,
			 enum satp_role role, struct satp_keys *tx, struct satp_keys *rx)
{
	if (a->kd_bits / 8 != s->master_key_len)
		return -EINVAL;
	memset(tx, 0, sizeof(*tx));
	memset(rx, 0, sizeof(*rx));
	tx->algos = rx->algos = *a;
	tx->role = rx->role = role;
	tx->master_key_len = rx->master_key_len = s->master_key_len;
	memcpy(tx->master_key, s->tx_key, s->master_key_len);
	memcpy(tx->master_salt, s->tx_salt, SATP_SALT_LEN);
	memcpy(rx->master_key, s->rx_key, s->master_key_len);
	memcpy(rx->master_salt, s->rx_salt, SATP_SALT_LEN);
	return 0;
}

void hs_session_wipe(struct hs_session *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

/* ---------------------------------------------------------------- keyring */

static void slot_drop(struct hs_slot *slot, hs_slot_free_fn free_fn, void *ctx)
{
	if (!slot->live)
		return;
	if (free_fn)
		free_fn(ctx, slot);
	OPENSSL_cleanse(slot, sizeof(*slot));
}

/* Move a session between slots (the destination must be empty). */
static void slot_move(struct hs_slot *to, struct hs_slot *from)
{
	*to = *from;
	OPENSSL_cleanse(from, sizeof(*from));
}

static bool slot_too_old(const struct hs_slot *slot, uint64_t now_ns)
{
	return now_ns - slot->born_ns >= HS_REJECT_AFTER_TIME_S * NSEC_PER_SEC;
}

/* current becomes previous, its grace period starting now. */
static void retire_current(struct hs_keyring *kr, uint64_t now_ns, hs_slot_free_fn free_fn,
			   void *ctx)
{
	slot_drop(&kr->previous, free_fn, ctx);
	if (kr->current.live) {
		slot_move(&kr->previous, &kr->current);
		kr->previous.retired_ns = now_ns;
	}
}

void hs_keyring_install(struct hs_keyring *kr, const struct hs_session *s, void *user,
			uint64_t now_ns, hs_slot_free_fn free_fn, void *ctx)
{
	struct hs_slot *to;

	if (s->initiator && kr->next.live) {
		/*
		 * Both sides initiated at once. The peer may already send under the
		 * session it initiated (our next): keep that for receiving, as
		 * WireGuard does; the older current goes.
		 */
		slot_drop(&kr->previous, free_fn, ctx);
		slot_move(&kr->previous, &kr->next);
		kr->previous.retired_ns = now_ns;
		slot_drop(&kr->current, free_fn, ctx);
		to = &kr->current;
	} else if (s->initiator) {
		retire_current(kr, now_ns, free_fn, ctx);
		to = &kr->current;
	} else {
		slot_drop(&kr->next, free_fn, ctx);
		to = &kr->next;
	}
	memset(to, 0, sizeof(*to));
	to->s = *s;
	to->live = true;
	to->born_ns = now_ns;
	to->user = user;
}

size_t hs_keyring_rx_order(struct hs_keyring *kr, struct hs_slot *out[3])
{
	struct hs_slot *order[] = {&kr->current, &kr->next, &kr->previous};
	size_t i, n = 0;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (order[i]->live)
			out[n++] = order[i];
	return n;
}

void hs_keyring_rx_ok(struct hs_keyring *kr, struct hs_slot *slot, uint64_t now_ns,
		      hs_slot_free_fn free_fn, void *ctx)
{
	if (slot != &kr->next || !kr->next.live)
		return;
	retire_current(kr, now_ns, free_fn, ctx);
	slot_move(&kr->current, &kr->next);
	kr->current.s.confirmed = true;
}

int hs_keyring_tx(struct hs_keyring *kr, uint64_t now_ns, struct hs_slot **slot, uint32_t *seq)
{
	struct hs_slot *c = &kr->current;

	if (!c->live || slot_too_old(c, now_ns) || c->tx_next >= HS_REJECT_AFTER_PACKETS)
		return -ENOKEY;
	*slot = c;
	*seq = c->tx_next++;
	return 0;
}

bool hs_keyring_want_rekey(const struct hs_keyring *kr, uint64_t now_ns)
{
	const struct hs_slot *c = &kr->current;

	if (!c->live)
		return true;
	if (c->tx_next >= HS_REKEY_AFTER_PACKETS)
		return true;
	/* The initiator rekeys on time first, so the two sides do not both start at once. */
	return now_ns - c->born_ns >=
	       (c->s.initiator ? HS_REKEY_AFTER_TIME_S : HS_REKEY_AFTER_TIME_RESPONDER_S) *
		   NSEC_PER_SEC;
}

void hs_keyring_expire(struct hs_keyring *kr, uint64_t now_ns, hs_slot_free_fn free_fn, void *ctx)
{
	struct hs_slot *p = &kr->previous;

	if (p->live && (now_ns - p->retired_ns >= HS_OLD_SESSION_GRACE_S * NSEC_PER_SEC ||
			slot_too_old(p, now_ns)))
		slot_drop(p, free_fn, ctx);
	if (kr->current.live && slot_too_old(&kr->current, now_ns))
		slot_drop(&kr->current, free_fn, ctx);
	if (kr->next.live && slot_too_old(&kr->next, now_ns))
		slot_drop(&kr->next, free_fn, ctx);
}

void hs_keyring_clear(struct hs_keyring *kr, hs_slot_free_fn free_fn, void *ctx)
{
	slot_drop(&kr->next, free_fn, ctx);
	slot_drop(&kr->current, free_fn, ctx);
	slot_drop(&kr->previous, free_fn, ctx);
}

bool hs_collision_defer(const uint8_t own_pub[NOISE_DH_LEN], const uint8_t peer_pub[NOISE_DH_LEN],
			bool attempting, bool *deferred)
{
	if (!attempting || *deferred || memcmp(own_pub, peer_pub, NOISE_DH_LEN) >= 0)
		return false;
	*deferred = true;
	return true;
}
