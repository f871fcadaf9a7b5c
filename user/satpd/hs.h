/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * satpd's handshake: the Noise IK exchange of noise.h framed for the SATP port
 * (include/satp_hs_wire.h), with WireGuard's additions: a TAI64N timestamp in
 * the initiation that must grow per peer (replay protection), a mac1 keyed by
 * the receiver's public key (junk is dropped before any DH), cookies under
 * load (mac2: spoofed sources cost no DH), the derivation of SATP master keys
 * and salts for each direction from the Noise split, and the switching between
 * a connection's sessions (hs_keyring). docs/handshake.md describes the
 * design; this is its API.
 *
 * Nothing here does I/O or keeps time: the daemon passes timestamps and
 * indices in, sends what comes out and runs the timers of the policy below.
 * Nothing here is thread-safe: handshakes are rare, one thread handles them.
 * A consumed message either yields HS_OK or a named verdict and changes no
 * state; the daemon answers HS_OK initiations with a response and
 * HS_COOKIE_NEEDED ones with a cookie reply, and nothing else.
 */
#ifndef SATP_HS_H
#define SATP_HS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "noise.h"
#include "satp.h"
#include "satp_hs_wire.h"

/*
 * Mixed into the handshake hash before anything else: a handshake made for
 * another protocol or another version of this one cannot complete here.
 */
#define HS_PROLOGUE "satpd handshake v1: SATP master keys and salts"

/* Labels: every derived value has its own, so no two can ever coincide. */
#define HS_LABEL_MAC1	 "satpd v1 mac1"
#define HS_LABEL_I2R	 "satpd v1 satp key initiator to responder"
#define HS_LABEL_R2I	 "satpd v1 satp key responder to initiator"
#define HS_LABEL_SESSION "satpd v1 session number"
#define HS_LABEL_COOKIE	 "satpd v1 cookie"

/* ---------------------------------------------------------------- rekey policy */

/*
 * Start a new handshake when the current session is this old: bounds what one
 * compromised session key exposes to two minutes of traffic (WireGuard's value).
 */
#define HS_REKEY_AFTER_TIME_S 120
/*
 * Neither send nor accept under a session older than this: the initiator had
 * REJECT - REKEY = 60 s of retries to replace it; after that, a dead peer's
 * keys are not kept alive.
 */
#define HS_REJECT_AFTER_TIME_S 180
/*
 * Start a new handshake after this many packets sent under one session. SATP's
 * seq is 32 bits and its per-packet keys are a function of seq, so a key must
 * never see a seq twice. Half the space leaves 2^31 packets (35 minutes at
 * 1 Mpps) for the new handshake to complete.
 */
#define HS_REKEY_AFTER_PACKETS (1u << 31)
/*
 * Never send a seq at or above this under one session: the sender stops, rather
 * than wrap, 65536 short of the end, which keeps the receiver's replay window
 * (far smaller) clear of the top of the sequence space.
 */
#define HS_REJECT_AFTER_PACKETS 0xFFFF0000u
/* Resend an unanswered initiation after this (a lost datagram on either leg). */
#define HS_REKEY_TIMEOUT_S 5
/* Random extra delay up to this, so two peers rekeying at once do not collide forever. */
#define HS_REKEY_JITTER_MS 333
/* Give up retrying after this; the next packet to send starts a new attempt. */
#define HS_REKEY_ATTEMPT_TIME_S 90
/*
 * After switching to a new session for sending, keep accepting the old one's
 * receive keys this long: packets the peer sent under the old session before it
 * switched are still in flight or reordered. Seconds cover any real path's
 * delay; it is also capped by HS_REJECT_AFTER_TIME_S of the old session.
 */
#define HS_OLD_SESSION_GRACE_S 10
/*
 * A side that received data but sent nothing for this long sends an empty,
 * authenticated SATP packet (only the payload type): the peer learns the
 * session still works, and the responder's new session gets confirmed.
 */
#define HS_KEEPALIVE_TIMEOUT_S 10
/*
 * A side that sent data but received nothing authenticated for this long
 * starts a new handshake: the peer restarted, or (anycast) the route moved to
 * an edge that has no session. With the keepalive above this bounds recovery.
 */
#define HS_NEW_HANDSHAKE_AFTER_S (HS_KEEPALIVE_TIMEOUT_S + HS_REKEY_TIMEOUT_S)
/* The XDP program's per-source budget for handshake datagrams (satp_hs_wire.h). */
#define HS_RATELIMIT_PPS   SATP_HS_RATELIMIT_PPS
#define HS_RATELIMIT_BURST SATP_HS_RATELIMIT_BURST
/*
 * A side that only ever responded starts a handshake itself when its session
 * is this old (as WireGuard): if the initiator stopped sending, nobody else
 * would replace the session before REJECT_AFTER_TIME and sending would stall.
 */
#define HS_REKEY_AFTER_TIME_RESPONDER_S                                                            \
	(HS_REJECT_AFTER_TIME_S - HS_KEEPALIVE_TIMEOUT_S - HS_REKEY_TIMEOUT_S)
/*
 * The responder's cookie secret is replaced this often, and cookies made
 * under the previous secret stay valid, so a cookie lives 120 to 240 s and
 * cannot be stockpiled by an address that stopped receiving (WireGuard's value).
 */
#define HS_COOKIE_SECRET_LIFETIME_S 120
/* The initiator uses a cookie this long: within any secret's validity, with margin for transit. */
#define HS_COOKIE_LIFETIME_S (HS_COOKIE_SECRET_LIFETIME_S - HS_REKEY_TIMEOUT_S)
/*
 * Initiation timestamps are rounded down to this many nanoseconds (2^24, about
 * 17 ms) so that they do not disclose the initiator's precise clock.
 */
#define HS_TIMESTAMP_GRANULARITY_NS (1u << 24)

/* ---------------------------------------------------------------- types */

enum hs_verdict {
	HS_OK = 0,
	HS_BAD_LENGTH,	   /* not the exact length of its type */
	HS_BAD_TYPE,	   /* the type byte is not what this function consumes */
	HS_BAD_HEADER,	   /* version, reserved bytes or mux wrong */
	HS_BAD_MAC1,	   /* mac1 does not verify: not meant for us, or junk */
	HS_BAD_MAC2,	   /* mac2 not zero where no cookies are in use */
	HS_DECRYPT_FAILED, /* an AEAD tag failed: tampered, or the wrong static key */
	HS_BAD_KEY,	   /* a DH result of zero: a low-order public key */
	HS_UNKNOWN_PEER,   /* authenticated, but the initiator's key is not configured */
	HS_REPLAY,	   /* timestamp not greater than the last accepted from this peer */
	HS_UNKNOWN_INDEX,  /* a response to no initiation in flight */
	HS_COOKIE_NEEDED,  /* under load without a valid cookie: answer with a cookie reply */
	HS_INTERNAL,	   /* libcrypto failed */
	HS_RATELIMITED,	   /* under load, a valid cookie, but its source is over its budget */
	HS_VERDICT_MAX,
};
const char *hs_verdict_name(enum hs_verdict v); /* "ok", "bad-length", ... */

/* The local static key pair. */
struct hs_identity {
	uint8_t priv[NOISE_DH_LEN];
	uint8_t pub[NOISE_DH_LEN];
	uint8_t mac1_key[NOISE_HASH_LEN]; /* HASH(label || pub): mac1 of messages to us */
};

/* A configured peer: its public key, and the handshake state kept for it. */
struct hs_peer {
	uint8_t pub[NOISE_DH_LEN];
	uint8_t mac1_key[NOISE_HASH_LEN]; /* HASH(label || peer's pub): mac1 of messages to it */
	size_t master_key_len;		  /* the connection's kd-prf key length: 16, 24 or 32 */
	uint8_t last_ts[SATP_HS_TIMESTAMP_LEN]; /* greatest initiation timestamp accepted */
	bool have_ts;
	/* Initiator side: the one handshake in flight to this peer. */
	struct noise_handshake pending;
	uint32_t pending_index;
	bool have_pending;
	uint8_t last_mac1[SATP_HS_MAC_LEN]; /* of that initiation: the AD of a cookie reply */
	uint8_t
	    cookie_key[NOISE_HASH_LEN]; /* HASH(label || peer's pub): opens its cookie replies */
	uint8_t
	    cookie[SATP_HS_COOKIE_LEN]; /* the peer's last cookie for us, valid when have_cookie */
	uint64_t cookie_ns;		/* when it came: CLOCK_MONOTONIC ns (now_ns) */
	bool have_cookie;
	void *user; /* the daemon's connection, untouched here */
};

/* A responder between consuming an initiation and answering it. */
struct hs_responder {
	struct noise_handshake hs;
	struct hs_peer *peer;
	uint32_t remote_index;
};

/*
 * The keys of one session. tx protects what this side sends, rx what it
 * receives; each is an SATP master key (master_key_len bytes) and master salt.
 * Sequence numbers start at 0 under a new session.
 */
struct hs_session {
	uint64_t id;	       /* session number, the same on both sides */
	bool initiator;	       /* which side of the handshake this end was */
	bool confirmed;	       /* the peer proved it has the keys (initiator: at once) */
	uint32_t local_index;  /* our index in the handshake */
	uint32_t remote_index; /* the peer's */
	size_t master_key_len;
	uint8_t tx_key[SATP_KEY_MAX];
	uint8_t tx_salt[SATP_SALT_LEN];
	uint8_t rx_key[SATP_KEY_MAX];
	uint8_t rx_salt[SATP_SALT_LEN];
};

/* A responder's cookie state: a random secret, rotated, and the key that seals cookie replies. */
struct hs_cookie_checker {
	uint8_t secret[NOISE_HASH_LEN];
	uint8_t prev_secret[NOISE_HASH_LEN];
	uint64_t secret_ns; /* when secret was drawn: CLOCK_MONOTONIC ns (now_ns) */
	bool have_prev;
	uint8_t reply_key[NOISE_HASH_LEN]; /* HASH(label || own pub) */
};

/*
 * How and where an initiation arrived. Without one (NULL) or without cookies,
 * mac2 must be zero. With cookies: under load an initiation needs a valid
 * mac2 for its source; at any time a non-zero mac2 must be valid (a stale
 * cookie gets a fresh cookie reply rather than a silent drop).
 */
struct hs_rx_info {
	struct hs_cookie_checker *cookies;
	const uint8_t *src; /* the source address and port, as the daemon encodes them */
	size_t src_len;
	bool under_load; /* the daemon's judgement (e.g. its handshake queue is long) */
	uint64_t now_ns; /* CLOCK_MONOTONIC ns */
	/*
	 * Under load, for an initiation whose mac1 and mac2 verified, before any
	 * DH: false refuses it (HS_RATELIMITED). The cookie binds the source
	 * address, so a per-source budget charged here cannot be spent by a
	 * spoofer (WireGuard's per-IP limit). NULL: no limit.
	 */
	bool (*admit)(void *ctx);
	void *admit_ctx;
};

/* Finds the configured peer with this static public key, or NULL. */
typedef struct hs_peer *(*hs_peer_lookup_fn)(void *ctx, const uint8_t pub[NOISE_DH_LEN]);

/* ---------------------------------------------------------------- functions */

int hs_identity_init(struct hs_identity *id, const uint8_t priv[NOISE_DH_LEN]);
/* kd_bits: the connection's kd-prf, 128, 192 or 256 (-EINVAL otherwise: null has no key). */
int hs_peer_init(struct hs_peer *p, const uint8_t pub[NOISE_DH_LEN], unsigned int kd_bits);
void hs_peer_wipe(struct hs_peer *p);

/* TAI64N of a Unix time (nanoseconds rounded down to the granularity), and of now. */
void hs_timestamp_make(uint8_t ts[SATP_HS_TIMESTAMP_LEN], uint64_t unix_sec, uint32_t nsec);
void hs_timestamp_now(uint8_t ts[SATP_HS_TIMESTAMP_LEN]);

/* True when a datagram carries the reserved mux: a handshake message, never SATP data. */
bool hs_is_handshake(const uint8_t *buf, size_t len);
/* The type byte of a handshake message, or -EMSGSIZE / -EPROTO. */
int hs_msg_type(const uint8_t *buf, size_t len);
/* The receiver index of a response, to find its peer: 0 or -EMSGSIZE. */
int hs_response_receiver_index(const uint8_t *buf, size_t len, uint32_t *idx);

/*
 * Sender indexes of initiations in flight: 32 random bits each (a forged
 * response or cookie reply must guess all of them), found again in one
 * lookup: the low HS_INDEX_SLOT_BITS bits pick a slot that names its owner
 * (satpd: a connection's mux). A draw whose slot another owner's live
 * initiation holds is drawn again, at most HS_INDEX_DRAWS times. A lookup is
 * a candidate only: the caller compares the owner's pending_index.
 */
#define HS_INDEX_SLOT_BITS 16 /* a slot per mux: room for every connection at once */
#define HS_INDEX_SLOT_MASK ((1u << HS_INDEX_SLOT_BITS) - 1)
/* Draws before giving up: fails once in 2^64 with half the slots busy. */
#define HS_INDEX_DRAWS 64

struct hs_index_table {
	uint16_t owner[1u << HS_INDEX_SLOT_BITS];
};

/* Does owner still have an initiation in flight whose index lies in slot? */
typedef bool (*hs_index_busy_fn)(void *ctx, uint16_t owner, uint32_t slot);

/*
 * A fresh index for owner into *idx, its slot now owner's: 0, -EAGAIN when
 * every draw hit a busy slot, -EIO when the DRBG fails (no index is better
 * than a guessable one).
 */
int hs_index_draw(struct hs_index_table *t, uint16_t owner, hs_index_busy_fn busy, void *ctx,
		  uint32_t *idx);

/* The owner idx's slot names: who may have sent an initiation with it. */
static inline uint16_t hs_index_owner(const struct hs_index_table *t, uint32_t idx)
{
	return t->owner[idx & HS_INDEX_SLOT_MASK];
}

/*
 * Initiator: build an initiation to peer (SATP_HS_INITIATION_LEN bytes into
 * out) and keep its state in peer, replacing any earlier one in flight.
 * Returns the length or -errno.
 */
int hs_initiation_create(struct hs_peer *peer, const struct hs_identity *id, uint32_t sender_index,
			 const uint8_t ts[SATP_HS_TIMESTAMP_LEN], uint64_t now_ns, uint8_t *out,
			 size_t cap);

/*
 * Responder: authenticate an initiation. On HS_OK, r holds what answering
 * needs and the peer's last timestamp moved forward; on any other verdict
 * nothing changed and nothing may be sent back.
 */
enum hs_verdict hs_initiation_consume(const struct hs_identity *id, const struct hs_rx_info *rx,
				      hs_peer_lookup_fn lookup, void *ctx, const uint8_t *msg,
				      size_t len, struct hs_responder *r);

/* Responder: cookies. init draws the first secret. */
int hs_cookie_checker_init(struct hs_cookie_checker *cc, const struct hs_identity *id,
			   uint64_t now_ns);
void hs_cookie_checker_wipe(struct hs_cookie_checker *cc);
/*
 * The answer to an initiation that got HS_COOKIE_NEEDED (its framing and mac1
 * are then known good): SATP_HS_COOKIE_REPLY_LEN bytes, or -errno.
 */
int hs_cookie_reply_create(const struct hs_rx_info *rx, const uint8_t *initiation, size_t len,
			   uint8_t *out, size_t cap);
/* Initiator: take the cookie of a reply to the initiation in flight; used by the next one. */
enum hs_verdict hs_cookie_reply_consume(struct hs_peer *peer, const uint8_t *msg, size_t len,
					uint64_t now_ns);

/* Responder: the response (SATP_HS_RESPONSE_LEN bytes) and the session. r is wiped. */
int hs_response_create(struct hs_responder *r, const struct hs_identity *id, uint32_t sender_index,
		       uint8_t *out, size_t cap, struct hs_session *s);

/* Initiator: authenticate the response to peer's handshake in flight; the session on HS_OK. */
enum hs_verdict hs_response_consume(struct hs_peer *peer, const struct hs_identity *id,
				    const uint8_t *msg, size_t len, struct hs_session *s);

/*
 * A session's keys as two struct satp_keys for satp_crypto_init: use tx's
 * sending direction and rx's receiving direction. -EINVAL if the algos' kd-prf
 * length differs from the session's key length.
 */
int hs_session_satp_keys(const struct hs_session *s, const struct satp_algos *a,
			 enum satp_role role, struct satp_keys *tx, struct satp_keys *rx);
void hs_session_wipe(struct hs_session *s);

/* ---------------------------------------------------------------- keyring */

/*
 * The sessions of one connection and the rules for switching between them
 * (WireGuard's next/current/previous keypairs), with time passed in:
 *   current   sends and receives;
 *   next      a responder's session, receive-only until a packet from the
 *             initiator verifies under it, which promotes it to current;
 *   previous  the session current replaced, receive-only for
 *             HS_OLD_SESSION_GRACE_S so packets in flight at the switch are
 *             not lost.
 * A receiver tries hs_keyring_rx_order's sessions in turn. Each session's
 * sequence numbers start at 0. Sessions leave through free_fn, exactly once,
 * with the daemon's user pointer (its satp_crypto and replay window).
 */
struct hs_slot {
	struct hs_session s;
	bool live;
	uint64_t born_ns;    /* installed at: CLOCK_MONOTONIC ns, as every now_ns here */
	uint64_t retired_ns; /* stopped being current at (previous only), the same clock */
	uint32_t tx_next;    /* the next seq to send under this session */
	void *user;	     /* the daemon's per-session state, untouched here */
};

struct hs_keyring {
	struct hs_slot next, current, previous;
};

typedef void (*hs_slot_free_fn)(void *ctx, struct hs_slot *slot);

/* Install a new session: an initiator's becomes current at once, a responder's next. */
void hs_keyring_install(struct hs_keyring *kr, const struct hs_session *s, void *user,
			uint64_t now_ns, hs_slot_free_fn free_fn, void *ctx);
/* The live sessions to try on receive, most likely first; returns how many (0..3). */
size_t hs_keyring_rx_order(struct hs_keyring *kr, struct hs_slot *out[3]);
/* A packet verified under slot: confirms (promotes) next. */
void hs_keyring_rx_ok(struct hs_keyring *kr, struct hs_slot *slot, uint64_t now_ns,
		      hs_slot_free_fn free_fn, void *ctx);
/* The session and seq to send under; -ENOKEY when there is none usable (handshake first). */
int hs_keyring_tx(struct hs_keyring *kr, uint64_t now_ns, struct hs_slot **slot, uint32_t *seq);
/* True when a new handshake should start (time on the initiator's side, packets on either). */
bool hs_keyring_want_rekey(const struct hs_keyring *kr, uint64_t now_ns);
/* Drop what is past its grace period or REJECT_AFTER_TIME. */
void hs_keyring_expire(struct hs_keyring *kr, uint64_t now_ns, hs_slot_free_fn free_fn, void *ctx);
/* Drop everything (connection removed, peer key changed). */
void hs_keyring_clear(struct hs_keyring *kr, hs_slot_free_fn free_fn, void *ctx);

/*
 * Both sides initiated at once: true when the peer's (authenticated)
 * initiation should go unanswered because ours, still in flight, wins: the
 * lower public key's. Then both sides make the one session, not two crossed
 * ones each received only through the other's grace period. At most once per
 * attempt (*deferred): a peer whose initiations keep coming does not get ours.
 */
bool hs_collision_defer(const uint8_t own_pub[NOISE_DH_LEN], const uint8_t peer_pub[NOISE_DH_LEN],
			bool attempting, bool *deferred);

#endif /* SATP_HS_H */
