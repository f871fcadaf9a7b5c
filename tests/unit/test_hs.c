// SPDX-License-Identifier: GPL-2.0-only
/*
 * satpd's handshake (user/satpd/hs.c) and key files (user/lib/keyfile.c):
 * a full exchange between two in-process parties whose SATP keys then carry
 * a packet, and tables of refused messages (every byte flipped, every
 * length, wrong keys, replays, bad MACs), each with its named verdict, no
 * change of state, and the genuine message still accepted afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hs.h"
#include "keyfile.h"
#include "satp_test_util.h"

#define N_PEERS 2
#define NS(sec) ((uint64_t)(sec)*1000000000ull)

struct world {
	struct hs_identity a, b;	 /* a initiates, b responds */
	struct hs_peer a_peer_b;	 /* a's view of b */
	struct hs_peer b_peers[N_PEERS]; /* b's configured peers: [0] is a */
	size_t b_npeers;
	uint8_t init[SATP_HS_INITIATION_LEN];
	uint8_t resp[SATP_HS_RESPONSE_LEN];
	struct hs_responder r;
	struct hs_session sa, sb;
};

static struct hs_peer *lookup(void *ctx, const uint8_t pub[NOISE_DH_LEN])
{
	struct world *w = ctx;
	size_t i;

	for (i = 0; i < w->b_npeers; i++)
		if (!memcmp(w->b_peers[i].pub, pub, NOISE_DH_LEN))
			return &w->b_peers[i];
	return NULL;
}

static void world_init(struct world *w, unsigned int kd_bits)
{
	uint8_t k[32];

	memset(w, 0, sizeof(*w));
	assert_int_equal(noise_keygen(k), 0);
	assert_int_equal(hs_identity_init(&w->a, k), 0);
	assert_int_equal(noise_keygen(k), 0);
	assert_int_equal(hs_identity_init(&w->b, k), 0);
	assert_int_equal(hs_peer_init(&w->a_peer_b, w->b.pub, kd_bits), 0);
	assert_int_equal(hs_peer_init(&w->b_peers[0], w->a.pub, kd_bits), 0);
	assert_int_equal(noise_keygen(k), 0);
	assert_int_equal(noise_pubkey(k, k), 0);
	assert_int_equal(hs_peer_init(&w->b_peers[1], k, kd_bits), 0); /* someone else */
	w->b_npeers = N_PEERS;
}

static void make_initiation(struct world *w, uint64_t sec)
{
	uint8_t ts[SATP_HS_TIMESTAMP_LEN];

	hs_timestamp_make(ts, sec, 0);
	assert_int_equal(hs_initiation_create(&w->a_peer_b, &w->a, 0x11223344, ts, NS(sec), w->init,
					      sizeof(w->init)),
			 SATP_HS_INITIATION_LEN);
}

static void make_response(struct world *w)
{
	assert_int_equal(
	    hs_initiation_consume(&w->b, NULL, lookup, w, w->init, sizeof(w->init), &w->r), HS_OK);
	assert_int_equal(
	    hs_response_create(&w->r, &w->b, 0x55667788, w->resp, sizeof(w->resp), &w->sb),
	    SATP_HS_RESPONSE_LEN);
}

/* Recompute mac1 the way any sender can, to reach the checks behind it. */
static void remac(uint8_t *msg, size_t mac1_off, const uint8_t pub[32])
{
	uint8_t key[32];

	assert_int_equal(
	    noise_hash(key, (const uint8_t *)HS_LABEL_MAC1, strlen(HS_LABEL_MAC1), pub, 32), 0);
	assert_int_equal(noise_mac(msg + mac1_off, SATP_HS_MAC_LEN, key, 32, msg, mac1_off), 0);
}

/* ---------------------------------------------------------------- full exchange */

/* The session keys of both sides carry an SATP packet in each direction. */
static void satp_roundtrip(const struct hs_session *from, enum satp_role from_role,
			   const struct hs_session *to, enum satp_role to_role, unsigned int bits)
{
	struct satp_keys tx, rx, unused;
	struct satp_crypto ct, cr;
	struct satp_algos a;
	struct satp_header h;
	struct satp_plain p;
	uint8_t buf[128] = {0};
	int len;

	satp_algos_default(&a);
	a.kd_bits = bits;
	a.cipher_bits = bits;
	assert_int_equal(hs_session_satp_keys(from, &a, from_role, &tx, &unused), 0);
	assert_int_equal(hs_session_satp_keys(to, &a, to_role, &unused, &rx), 0);
	assert_int_equal(satp_crypto_init(&ct, &tx), 0);
	assert_int_equal(satp_crypto_init(&cr, &rx), 0);
	memcpy(buf + SATP_HDR_LEN + SATP_PTYPE_LEN, "inner packet", 12);
	/* A new session starts its sequence numbers at 0. */
	len = satp_seal(&ct, buf, sizeof(buf), 12, 0, 1, 7, SATP_PTYPE_IPV4);
	assert_true(len > 0);
	assert_int_equal(satp_open(&cr, buf, (size_t)len, &h, &p), SATP_OK);
	assert_int_equal(p.inner_len, 12);
	assert_memory_equal(p.inner, "inner packet", 12);
	satp_crypto_free(&cr);
	/* The other direction's keys (the sender's own receive keys) do not open it. */
	assert_int_equal(hs_session_satp_keys(from, &a, to_role, &unused, &rx), 0);
	assert_int_equal(satp_crypto_init(&cr, &rx), 0);
	len = satp_seal(&ct, buf, sizeof(buf), 12, 1, 1, 7, SATP_PTYPE_IPV4);
	assert_true(len > 0);
	assert_int_equal(satp_open(&cr, buf, (size_t)len, &h, &p), SATP_BAD_TAG);
	satp_crypto_free(&ct);
	satp_crypto_free(&cr);
}

static void test_exchange(void **state)
{
	static const unsigned int kd[] = {128, 192, 256};
	struct world w;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kd); i++) {
		print_message("kd-prf %u bits\n", kd[i]);
		world_init(&w, kd[i]);
		make_initiation(&w, 1000);
		assert_true(w.a_peer_b.have_pending);
		make_response(&w);
		assert_null(w.r.peer); /* the responder state is spent */
		assert_int_equal(
		    hs_response_consume(&w.a_peer_b, &w.a, w.resp, sizeof(w.resp), &w.sa), HS_OK);
		assert_false(w.a_peer_b.have_pending);

		assert_int_equal(w.sa.master_key_len, kd[i] / 8);
		assert_int_equal(w.sb.master_key_len, kd[i] / 8);
		assert_true(w.sa.id == w.sb.id);
		assert_true(w.sa.initiator);
		assert_false(w.sb.initiator);
		assert_true(w.sa.confirmed);
		assert_false(w.sb.confirmed);
		assert_int_equal(w.sa.local_index, 0x11223344);
		assert_int_equal(w.sa.remote_index, 0x55667788);
		assert_int_equal(w.sb.local_index, 0x55667788);
		assert_int_equal(w.sb.remote_index, 0x11223344);
		assert_memory_equal(w.sa.tx_key, w.sb.rx_key, SATP_KEY_MAX);
		assert_memory_equal(w.sa.rx_key, w.sb.tx_key, SATP_KEY_MAX);
		assert_memory_equal(w.sa.tx_salt, w.sb.rx_salt, SATP_SALT_LEN);
		assert_memory_equal(w.sa.rx_salt, w.sb.tx_salt, SATP_SALT_LEN);
		assert_memory_not_equal(w.sa.tx_key, w.sa.rx_key, kd[i] / 8);
		assert_memory_not_equal(w.sa.tx_salt, w.sa.rx_salt, SATP_SALT_LEN);

		satp_roundtrip(&w.sa, SATP_ROLE_LEFT, &w.sb, SATP_ROLE_RIGHT, kd[i]);
		satp_roundtrip(&w.sb, SATP_ROLE_RIGHT, &w.sa, SATP_ROLE_LEFT, kd[i]);
	}
}

/* Two handshakes between the same parties give unrelated sessions. */
static void test_fresh_sessions(void **state)
{
	struct hs_session first;
	struct world w;

	world_init(&w, 128);
	make_initiation(&w, 1000);
	make_response(&w);
	assert_int_equal(hs_response_consume(&w.a_peer_b, &w.a, w.resp, sizeof(w.resp), &first),
			 HS_OK);
	make_initiation(&w, 1001);
	make_response(&w);
	assert_int_equal(hs_response_consume(&w.a_peer_b, &w.a, w.resp, sizeof(w.resp), &w.sa),
			 HS_OK);
	assert_true(first.id != w.sa.id);
	assert_memory_not_equal(first.tx_key, w.sa.tx_key, 16);
	assert_memory_not_equal(first.rx_salt, w.sa.rx_salt, SATP_SALT_LEN);
}

static void test_session_keys_mismatch(void **state)
{
	struct satp_keys tx, rx;
	struct satp_algos a;
	struct world w;

	world_init(&w, 256);
	make_initiation(&w, 1);
	make_response(&w);
	satp_algos_default(&a); /* kd-prf 128 bits: not this session's 256 */
	assert_int_equal(hs_session_satp_keys(&w.sb, &a, SATP_ROLE_LEFT, &tx, &rx), -EINVAL);
	assert_int_equal(hs_peer_init(&w.a_peer_b, w.b.pub, 0), -EINVAL);
	assert_int_equal(hs_peer_init(&w.a_peer_b, w.b.pub, 100), -EINVAL);
}

/* ---------------------------------------------------------------- refused initiations */

/* Consume, expect a verdict, and check that nothing moved. */
static void expect_initiation(struct world *w, const uint8_t *msg, size_t len, enum hs_verdict want)
{
	struct hs_peer before[N_PEERS];
	struct hs_responder r;
	enum hs_verdict v;

	memcpy(before, w->b_peers, sizeof(before));
	memset(&r, 0x5A, sizeof(r));
	v = hs_initiation_consume(&w->b, NULL, lookup, w, msg, len, &r);
	if (v != want)
		fail_msg("got %s, want %s", hs_verdict_name(v), hs_verdict_name(want));
	if (want == HS_OK)
		return;
	assert_memory_equal(before, w->b_peers, sizeof(before));
	for (size_t i = 0; i < sizeof(r); i++)
		assert_int_equal(((uint8_t *)&r)[i], 0x5A);
}

/* What each byte of an initiation is guarded by when it alone changes. */
static enum hs_verdict initiation_byte_guard(size_t i)
{
	if (i == offsetof(struct satp_hs_initiation, hdr.type))
		return HS_BAD_TYPE;
	if (i < SATP_HS_HDR_LEN)
		return HS_BAD_HEADER;
	if (i < offsetof(struct satp_hs_initiation, mac2))
		return HS_BAD_MAC1;
	return HS_BAD_MAC2;
}

static void test_initiation_every_byte(void **state)
{
	uint8_t bad[SATP_HS_INITIATION_LEN];
	struct world w;
	size_t i;

	world_init(&w, 128);
	make_initiation(&w, 1000);
	for (i = 0; i < sizeof(bad); i++) {
		memcpy(bad, w.init, sizeof(bad));
		bad[i] ^= 0x20;
		expect_initiation(&w, bad, sizeof(bad), initiation_byte_guard(i));
		/* Behind a recomputed mac1 (anyone can), the Noise message is what refuses it. */
		if (i >= offsetof(struct satp_hs_initiation, ephemeral) &&
		    i < offsetof(struct satp_hs_initiation, mac1)) {
			remac(bad, offsetof(struct satp_hs_initiation, mac1), w.b.pub);
			expect_initiation(&w, bad, sizeof(bad), HS_DECRYPT_FAILED);
		}
	}
	expect_initiation(&w, w.init, sizeof(w.init), HS_OK);
}

static void test_initiation_every_length(void **state)
{
	uint8_t longer[SATP_HS_INITIATION_LEN + 1];
	struct world w;
	size_t len;

	world_init(&w, 128);
	make_initiation(&w, 1000);
	for (len = 0; len < sizeof(w.init); len++)
		expect_initiation(&w, w.init, len, HS_BAD_LENGTH);
	memcpy(longer, w.init, sizeof(w.init));
	longer[sizeof(w.init)] = 0;
	expect_initiation(&w, longer, sizeof(longer), HS_BAD_LENGTH);
	/* A response where an initiation is expected is the wrong type, not a crash. */
	make_response(&w);
	expect_initiation(&w, w.resp, sizeof(w.resp), HS_BAD_LENGTH);
}

enum init_case {
	IC_WRONG_RESPONDER,	/* a built it for another key: b's mac1 does not verify */
	IC_WRONG_RESPONDER_MAC, /* ... and an attacker fixed mac1: the AEAD refuses */
	IC_UNKNOWN_PEER,	/* a authenticates, but b does not know a */
	IC_REPLAY,		/* the same initiation again */
	IC_SAME_TIMESTAMP,	/* a new initiation with the accepted timestamp */
	IC_OLDER_TIMESTAMP,	/* a new initiation with an older one */
	IC_BAD_MAC1,		/* one bit of mac1 */
	IC_MAC2_SET,		/* a cookie where none was asked for */
	IC_LOW_ORDER_EPHEMERAL, /* e = 0 behind a good mac1 */
};

struct init_row {
	const char *name;
	enum init_case c;
	enum hs_verdict want;
};

static const struct init_row init_rows[] = {
    {"wrong responder key", IC_WRONG_RESPONDER, HS_BAD_MAC1},
    {"wrong responder key, mac1 fixed", IC_WRONG_RESPONDER_MAC, HS_DECRYPT_FAILED},
    {"unknown initiator", IC_UNKNOWN_PEER, HS_UNKNOWN_PEER},
    {"replayed initiation", IC_REPLAY, HS_REPLAY},
    {"same timestamp", IC_SAME_TIMESTAMP, HS_REPLAY},
    {"older timestamp", IC_OLDER_TIMESTAMP, HS_REPLAY},
    {"bad mac1", IC_BAD_MAC1, HS_BAD_MAC1},
    {"mac2 not zero", IC_MAC2_SET, HS_BAD_MAC2},
    {"low-order ephemeral", IC_LOW_ORDER_EPHEMERAL, HS_BAD_KEY},
};

/* Build the initiation of the case (and whatever state comes before it). */
static void init_case_prepare(struct world *w, enum init_case c)
{
	uint8_t other[32];
	struct satp_hs_initiation *m = (void *)w->init;
	const size_t mac1 = offsetof(struct satp_hs_initiation, mac1);

	switch (c) {
	case IC_WRONG_RESPONDER:
	case IC_WRONG_RESPONDER_MAC:
		assert_int_equal(noise_keygen(other), 0);
		assert_int_equal(noise_pubkey(other, other), 0);
		assert_int_equal(hs_peer_init(&w->a_peer_b, other, 128), 0);
		make_initiation(w, 1000);
		if (c == IC_WRONG_RESPONDER_MAC)
			remac(w->init, mac1, w->b.pub);
		return;
	case IC_UNKNOWN_PEER:
		make_initiation(w, 1000);
		w->b_npeers = 0;
		return;
	case IC_REPLAY:
		make_initiation(w, 1000);
		expect_initiation(w, w->init, sizeof(w->init), HS_OK);
		return;
	case IC_SAME_TIMESTAMP:
	case IC_OLDER_TIMESTAMP:
		make_initiation(w, 1000);
		expect_initiation(w, w->init, sizeof(w->init), HS_OK);
		make_initiation(w, c == IC_SAME_TIMESTAMP ? 1000 : 999);
		return;
	case IC_BAD_MAC1:
		make_initiation(w, 1000);
		m->mac1[5] ^= 0x01;
		return;
	case IC_MAC2_SET:
		make_initiation(w, 1000);
		m->mac2[15] = 1;
		return;
	case IC_LOW_ORDER_EPHEMERAL:
		make_initiation(w, 1000);
		memset(m->ephemeral, 0, sizeof(m->ephemeral));
		remac(w->init, mac1, w->b.pub);
		return;
	}
}

static void test_initiation_refused(void **state)
{
	struct world w;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(init_rows); i++) {
		print_message("%s\n", init_rows[i].name);
		world_init(&w, 128);
		init_case_prepare(&w, init_rows[i].c);
		expect_initiation(&w, w.init, sizeof(w.init), init_rows[i].want);
	}
}

/* After refusals, the next genuine initiation with a newer timestamp still works. */
static void test_initiation_after_refusals(void **state)
{
	struct world w;

	world_init(&w, 128);
	make_initiation(&w, 1000);
	expect_initiation(&w, w.init, sizeof(w.init), HS_OK);
	expect_initiation(&w, w.init, sizeof(w.init), HS_REPLAY);
	make_initiation(&w, 1001);
	w.init[0] ^= 1;
	expect_initiation(&w, w.init, sizeof(w.init), HS_BAD_TYPE);
	w.init[0] ^= 1;
	expect_initiation(&w, w.init, sizeof(w.init), HS_OK);
}

/* ---------------------------------------------------------------- refused responses */

static void expect_response(struct world *w, const uint8_t *msg, size_t len, enum hs_verdict want)
{
	struct hs_peer before = w->a_peer_b;
	struct hs_session s;
	enum hs_verdict v;

	memset(&s, 0x5A, sizeof(s));
	v = hs_response_consume(&w->a_peer_b, &w->a, msg, len, &s);
	if (v != want)
		fail_msg("got %s, want %s", hs_verdict_name(v), hs_verdict_name(want));
	if (want == HS_OK)
		return;
	assert_memory_equal(&before, &w->a_peer_b, sizeof(before));
	for (size_t i = 0; i < sizeof(s); i++)
		assert_int_equal(((uint8_t *)&s)[i], 0x5A);
}

static enum hs_verdict response_byte_guard(size_t i)
{
	if (i == offsetof(struct satp_hs_response, hdr.type))
		return HS_BAD_TYPE;
	if (i < SATP_HS_HDR_LEN)
		return HS_BAD_HEADER;
	if (i < offsetof(struct satp_hs_response, mac2))
		return HS_BAD_MAC1;
	return HS_BAD_MAC2;
}

/* Behind a recomputed mac1: the receiver index finds nothing, the Noise message fails. */
static enum hs_verdict response_byte_guard_remac(size_t i)
{
	if (i < offsetof(struct satp_hs_response, receiver_index))
		return HS_OK; /* the responder's index is its own business (as in WireGuard) */
	if (i < offsetof(struct satp_hs_response, ephemeral))
		return HS_UNKNOWN_INDEX;
	return HS_DECRYPT_FAILED;
}

static void test_response_every_byte(void **state)
{
	uint8_t bad[SATP_HS_RESPONSE_LEN];
	const size_t mac1 = offsetof(struct satp_hs_response, mac1);
	struct world w;
	size_t i;

	world_init(&w, 128);
	make_initiation(&w, 1000);
	make_response(&w);
	for (i = 0; i < sizeof(bad); i++) {
		memcpy(bad, w.resp, sizeof(bad));
		bad[i] ^= 0x04;
		expect_response(&w, bad, sizeof(bad), response_byte_guard(i));
		if (i >= offsetof(struct satp_hs_response, receiver_index) && i < mac1) {
			remac(bad, mac1, w.a.pub);
			expect_response(&w, bad, sizeof(bad), response_byte_guard_remac(i));
		}
	}
	for (i = 0; i < sizeof(bad); i++)
		expect_response(&w, w.resp, i, HS_BAD_LENGTH);
	expect_response(&w, w.init, sizeof(w.init), HS_BAD_LENGTH);
	expect_response(&w, w.resp, sizeof(w.resp), HS_OK);
	/* Replayed: nothing is in flight any more. */
	expect_response(&w, w.resp, sizeof(w.resp), HS_UNKNOWN_INDEX);
}

/* A response to an initiation that a newer one (same index) replaced. */
static void test_response_stale(void **state)
{
	uint8_t stale[SATP_HS_RESPONSE_LEN];
	struct world w;

	world_init(&w, 128);
	make_initiation(&w, 1000);
	make_response(&w);
	memcpy(stale, w.resp, sizeof(stale));
	make_initiation(&w, 1001);
	expect_response(&w, stale, sizeof(stale), HS_DECRYPT_FAILED);
	make_response(&w);
	expect_response(&w, w.resp, sizeof(w.resp), HS_OK);
}

/* A response made by someone who is not b (the right mac1 for a, but not b's keys). */
static void test_response_wrong_responder(void **state)
{
	struct world w, eve;

	world_init(&w, 128);
	world_init(&eve, 128);
	eve.b_peers[0] = w.b_peers[0]; /* eve knows a's public key, as anyone may */
	make_initiation(&w, 1000);
	/* eve cannot read a's initiation to b at all. */
	assert_int_equal(
	    hs_initiation_consume(&eve.b, NULL, lookup, &eve, w.init, sizeof(w.init), &eve.r),
	    HS_BAD_MAC1);
	remac(w.init, offsetof(struct satp_hs_initiation, mac1), eve.b.pub);
	assert_int_equal(
	    hs_initiation_consume(&eve.b, NULL, lookup, &eve, w.init, sizeof(w.init), &eve.r),
	    HS_DECRYPT_FAILED);
}

/* ---------------------------------------------------------------- cookies */

static bool mac_all_zero(const uint8_t *mac)
{
	static const uint8_t zero[SATP_HS_MAC_LEN];

	return !memcmp(mac, zero, sizeof(zero));
}

static const uint8_t src_a[] = {10, 0, 0, 1, 0x11, 0x5c};  /* 10.0.0.1:4444 */
static const uint8_t src_b[] = {10, 0, 0, 66, 0x11, 0x5c}; /* a spoofer's */

static struct hs_rx_info rx_at(struct hs_cookie_checker *cc, const uint8_t *src, bool load,
			       uint64_t sec)
{
	struct hs_rx_info rx = {
	    .cookies = cc, .src = src, .src_len = 6, .under_load = load, .now_ns = NS(sec)};

	return rx;
}

static enum hs_verdict consume_rx(struct world *w, const struct hs_rx_info *rx)
{
	struct hs_peer before = w->b_peers[0];
	enum hs_verdict v =
	    hs_initiation_consume(&w->b, rx, lookup, w, w->init, sizeof(w->init), &w->r);

	if (v != HS_OK)
		assert_memory_equal(&before, &w->b_peers[0], sizeof(before));
	return v;
}

/* Under load: no DH without a cookie; the cookie reply makes the next initiation pass. */
static void test_cookie_flow(void **state)
{
	uint8_t reply[SATP_HS_COOKIE_REPLY_LEN];
	struct hs_cookie_checker cc;
	struct hs_rx_info rx;
	struct world w;

	world_init(&w, 128);
	assert_int_equal(hs_cookie_checker_init(&cc, &w.b, NS(0)), 0);
	/* Not under load, no cookie: as without cookies. */
	make_initiation(&w, 1);
	rx = rx_at(&cc, src_a, false, 1);
	assert_int_equal(consume_rx(&w, &rx), HS_OK);

	make_initiation(&w, 2);
	rx = rx_at(&cc, src_a, true, 2);
	assert_int_equal(consume_rx(&w, &rx), HS_COOKIE_NEEDED);
	assert_int_equal(hs_cookie_reply_create(&rx, w.init, sizeof(w.init), reply, sizeof(reply)),
			 SATP_HS_COOKIE_REPLY_LEN);
	assert_int_equal(reply[0], SATP_HS_COOKIE_REPLY);
	assert_true(hs_is_handshake(reply, sizeof(reply)));
	assert_memory_equal(reply + 8, w.init + 8, 4); /* receiver index = sender index */
	assert_false(w.a_peer_b.have_cookie);
	assert_int_equal(hs_cookie_reply_consume(&w.a_peer_b, reply, sizeof(reply), NS(2)), HS_OK);
	assert_true(w.a_peer_b.have_cookie);

	/* The next initiation carries mac2: accepted under load from the same address only. */
	make_initiation(&w, 3);
	rx = rx_at(&cc, src_b, true, 3);
	assert_int_equal(consume_rx(&w, &rx), HS_COOKIE_NEEDED);
	rx = rx_at(&cc, src_a, true, 3);
	assert_int_equal(consume_rx(&w, &rx), HS_OK);
	/* A valid mac2 is fine when not under load too. */
	make_initiation(&w, 4);
	rx = rx_at(&cc, src_a, false, 4);
	assert_int_equal(consume_rx(&w, &rx), HS_OK);
	/* A changed mac2 gets a fresh cookie rather than a silent drop. */
	make_initiation(&w, 5);
	w.init[offsetof(struct satp_hs_initiation, mac2)] ^= 1;
	assert_int_equal(consume_rx(&w, &rx), HS_COOKIE_NEEDED);
	/* Without cookies in use, a non-zero mac2 is simply bad. */
	assert_int_equal(consume_rx(&w, NULL), HS_BAD_MAC2);
	/* Junk never gets a cookie: mac1 is checked first. */
	w.init[offsetof(struct satp_hs_initiation, mac1)] ^= 1;
	rx = rx_at(&cc, src_a, true, 5);
	assert_int_equal(consume_rx(&w, &rx), HS_BAD_MAC1);
	hs_cookie_checker_wipe(&cc);
}

/* An admit callback with a budget of n, counting its calls. */
struct admit_budget {
	unsigned int left, calls;
};

static bool admit_left(void *ctx)
{
	struct admit_budget *a = ctx;

	a->calls++;
	if (!a->left)
		return false;
	a->left--;
	return true;
}

/*
 * Under load, the per-source budget is charged only for an initiation whose
 * mac1 and cookie (bound to the address) verified, and an empty one refuses
 * it before any DH: junk or a spoofer without the cookie never charge it, so
 * they cannot spend a real peer's budget (review M2, WireGuard's per-IP limit).
 */
static void test_cookie_ratelimit(void **state)
{
	uint8_t reply[SATP_HS_COOKIE_REPLY_LEN];
	struct admit_budget a = {.left = 1};
	struct hs_cookie_checker cc;
	struct hs_rx_info rx;
	struct world w;

	(void)state;
	world_init(&w, 128);
	assert_int_equal(hs_cookie_checker_init(&cc, &w.b, NS(0)), 0);
	make_initiation(&w, 1);
	rx = rx_at(&cc, src_a, true, 1);
	rx.admit = admit_left;
	rx.admit_ctx = &a;
	assert_int_equal(consume_rx(&w, &rx), HS_COOKIE_NEEDED);
	assert_int_equal(hs_cookie_reply_create(&rx, w.init, sizeof(w.init), reply, sizeof(reply)),
			 SATP_HS_COOKIE_REPLY_LEN);
	assert_int_equal(hs_cookie_reply_consume(&w.a_peer_b, reply, sizeof(reply), NS(1)), HS_OK);
	assert_int_equal(a.calls, 0); /* no cookie yet: not charged */

	make_initiation(&w, 2);
	rx.src = src_b; /* a spoofer replaying it from elsewhere: cookie invalid there */
	assert_int_equal(consume_rx(&w, &rx), HS_COOKIE_NEEDED);
	w.init[offsetof(struct satp_hs_initiation, mac1)] ^= 1; /* junk */
	rx.src = src_a;
	assert_int_equal(consume_rx(&w, &rx), HS_BAD_MAC1);
	w.init[offsetof(struct satp_hs_initiation, mac1)] ^= 1;
	assert_int_equal(a.calls, 0);
	assert_int_equal(consume_rx(&w, &rx), HS_OK); /* the budget's one */
	assert_int_equal(a.calls, 1);

	make_initiation(&w, 3);
	assert_int_equal(consume_rx(&w, &rx), HS_RATELIMITED); /* nothing moved (consume_rx) */
	assert_int_equal(a.calls, 2);
	/* Not under load: no per-source limit at all. */
	rx.under_load = false;
	assert_int_equal(consume_rx(&w, &rx), HS_OK);
	assert_int_equal(a.calls, 2);
	hs_cookie_checker_wipe(&cc);
}

/* The responder's secret rotates; the previous one stays good once; the initiator's copy ages. */
static void test_cookie_lifetimes(void **state)
{
	uint8_t reply[SATP_HS_COOKIE_REPLY_LEN];
	struct hs_cookie_checker cc;
	struct hs_rx_info rx;
	struct world w;

	world_init(&w, 128);
	assert_int_equal(hs_cookie_checker_init(&cc, &w.b, NS(0)), 0);
	make_initiation(&w, 1);
	rx = rx_at(&cc, src_a, true, 1);
	assert_int_equal(hs_cookie_reply_create(&rx, w.init, sizeof(w.init), reply, sizeof(reply)),
			 SATP_HS_COOKIE_REPLY_LEN);
	assert_int_equal(hs_cookie_reply_consume(&w.a_peer_b, reply, sizeof(reply), NS(1)), HS_OK);

	/* Made while the cookie is fresh; checked after one rotation: the previous secret. */
	make_initiation(&w, 100);
	rx = rx_at(&cc, src_a, true, 130);
	assert_int_equal(consume_rx(&w, &rx), HS_OK);
	/* Checked after a second rotation: that secret is gone. */
	make_initiation(&w, 110);
	w.b_peers[0].have_ts = false; /* only the cookie is under test here */
	rx = rx_at(&cc, src_a, true, 260);
	assert_int_equal(consume_rx(&w, &rx), HS_COOKIE_NEEDED);
	/* The initiator stops using a cookie after HS_COOKIE_LIFETIME_S: mac2 is zero again. */
	make_initiation(&w, 1 + HS_COOKIE_LIFETIME_S);
	assert_true(mac_all_zero(w.init + offsetof(struct satp_hs_initiation, mac2)));
	make_initiation(&w, HS_COOKIE_LIFETIME_S);
	assert_false(mac_all_zero(w.init + offsetof(struct satp_hs_initiation, mac2)));
	hs_cookie_checker_wipe(&cc);
}

static enum hs_verdict cookie_reply_byte_guard(size_t i)
{
	if (i == 0)
		return HS_BAD_TYPE;
	if (i < SATP_HS_HDR_LEN)
		return HS_BAD_HEADER;
	if (i < offsetof(struct satp_hs_cookie_reply, nonce))
		return HS_UNKNOWN_INDEX;
	return HS_DECRYPT_FAILED;
}

static void test_cookie_reply_refused(void **state)
{
	uint8_t reply[SATP_HS_COOKIE_REPLY_LEN], bad[SATP_HS_COOKIE_REPLY_LEN];
	struct hs_cookie_checker cc;
	struct hs_rx_info rx;
	struct hs_peer before;
	struct world w;
	size_t i;

	world_init(&w, 128);
	assert_int_equal(hs_cookie_checker_init(&cc, &w.b, NS(0)), 0);
	rx = rx_at(&cc, src_a, true, 1);
	/* No initiation in flight: nothing to attach a cookie to. */
	make_initiation(&w, 1);
	assert_int_equal(hs_cookie_reply_create(&rx, w.init, sizeof(w.init), reply, sizeof(reply)),
			 SATP_HS_COOKIE_REPLY_LEN);
	before = w.a_peer_b;
	w.a_peer_b.have_pending = false;
	assert_int_equal(hs_cookie_reply_consume(&w.a_peer_b, reply, sizeof(reply), NS(1)),
			 HS_UNKNOWN_INDEX);
	w.a_peer_b = before;
	for (i = 0; i < sizeof(reply); i++) {
		memcpy(bad, reply, sizeof(bad));
		bad[i] ^= 0x80;
		assert_int_equal(hs_cookie_reply_consume(&w.a_peer_b, bad, sizeof(bad), NS(1)),
				 cookie_reply_byte_guard(i));
		assert_memory_equal(&before, &w.a_peer_b, sizeof(before));
	}
	for (i = 0; i < sizeof(reply); i++)
		assert_int_equal(hs_cookie_reply_consume(&w.a_peer_b, reply, i, NS(1)),
				 HS_BAD_LENGTH);
	/* A reply to an earlier initiation (another mac1) does not open. */
	make_initiation(&w, 2);
	assert_int_equal(hs_cookie_reply_consume(&w.a_peer_b, reply, sizeof(reply), NS(2)),
			 HS_DECRYPT_FAILED);
	assert_false(w.a_peer_b.have_cookie);
	/* Bad arguments to create. */
	assert_int_equal(hs_cookie_reply_create(NULL, w.init, sizeof(w.init), reply, sizeof(reply)),
			 -EINVAL);
	assert_int_equal(hs_cookie_reply_create(&rx, w.init, 10, reply, sizeof(reply)), -EMSGSIZE);
	assert_int_equal(hs_cookie_reply_create(&rx, w.init, sizeof(w.init), reply, 55), -EMSGSIZE);
	hs_cookie_checker_wipe(&cc);
}

/* ---------------------------------------------------------------- keyring */

#define N_TAGS 8

enum kr_op {
	KR_INSTALL_I, /* install session tag as its initiator */
	KR_INSTALL_R, /* ... as its responder */
	KR_RX_NEXT,   /* a packet verified under next */
	KR_RX_PREV,   /* a packet verified under previous (changes nothing) */
	KR_TX,	      /* send one: want_tx is 0 or -ENOKEY, want_seq the seq */
	KR_EXPIRE,
};

struct kr_step {
	const char *what;
	enum kr_op op;
	unsigned int tag;
	uint64_t t;		      /* seconds */
	unsigned int cur, next, prev; /* tags expected afterwards, 0 for empty */
	int want_tx;
	uint32_t want_seq;
	unsigned int tx_tag;
};

struct kr_scenario {
	const char *name;
	const struct kr_step *steps;
	size_t n;
};

static const struct kr_step kr_initiator[] = {
    {"first session", KR_INSTALL_I, 1, 0, 1, 0, 0, 0, 0, 0},
    {"send under it from 0", KR_TX, 0, 1, 1, 0, 0, 0, 0, 1},
    {"then 1", KR_TX, 0, 2, 1, 0, 0, 0, 1, 1},
    {"rekey", KR_INSTALL_I, 2, 121, 2, 0, 1, 0, 0, 0},
    {"seq restarts under the new session", KR_TX, 0, 121, 2, 0, 1, 0, 0, 2},
    {"late packet under the old one", KR_RX_PREV, 0, 125, 2, 0, 1, 0, 0, 0},
    {"grace not over", KR_EXPIRE, 0, 130, 2, 0, 1, 0, 0, 0},
    {"grace over", KR_EXPIRE, 0, 131, 2, 0, 0, 0, 0, 0},
};

static const struct kr_step kr_responder[] = {
    {"unconfirmed", KR_INSTALL_R, 1, 0, 0, 1, 0, 0, 0, 0},
    {"nothing to send under yet", KR_TX, 0, 0, 0, 1, 0, -ENOKEY, 0, 0},
    {"the initiator's first packet confirms", KR_RX_NEXT, 0, 1, 1, 0, 0, 0, 0, 0},
    {"now it sends", KR_TX, 0, 1, 1, 0, 0, 0, 0, 1},
    {"the peer rekeys", KR_INSTALL_R, 2, 100, 1, 2, 0, 0, 0, 0},
    {"still sending under the confirmed one", KR_TX, 0, 100, 1, 2, 0, 0, 1, 1},
    {"confirmed: switch", KR_RX_NEXT, 0, 101, 2, 0, 1, 0, 0, 0},
    {"seq from 0", KR_TX, 0, 101, 2, 0, 1, 0, 0, 2},
    {"grace over", KR_EXPIRE, 0, 111, 2, 0, 0, 0, 0, 0},
};

static const struct kr_step kr_reject[] = {
    {"session", KR_INSTALL_I, 1, 0, 1, 0, 0, 0, 0, 0},
    {"usable until reject time", KR_TX, 0, 179, 1, 0, 0, 0, 0, 1},
    {"not at it", KR_TX, 0, 180, 1, 0, 0, -ENOKEY, 0, 0},
    {"and dropped", KR_EXPIRE, 0, 180, 0, 0, 0, 0, 0, 0},
    {"unconfirmed ones age too", KR_INSTALL_R, 2, 200, 0, 2, 0, 0, 0, 0},
    {"dropped at reject time", KR_EXPIRE, 0, 380, 0, 0, 0, 0, 0, 0},
};

static const struct kr_step kr_simultaneous[] = {
    {"established", KR_INSTALL_I, 1, 0, 1, 0, 0, 0, 0, 0},
    {"the peer's initiation answered", KR_INSTALL_R, 2, 120, 1, 2, 0, 0, 0, 0},
    {"our own completes too", KR_INSTALL_I, 3, 120, 3, 0, 2, 0, 0, 0},
    {"both still received", KR_RX_PREV, 0, 121, 3, 0, 2, 0, 0, 0},
    {"sending under ours", KR_TX, 0, 121, 3, 0, 2, 0, 0, 3},
};

static const struct kr_scenario kr_scenarios[] = {
    {"initiator rekey", kr_initiator, ARRAY_SIZE(kr_initiator)},
    {"responder confirmation", kr_responder, ARRAY_SIZE(kr_responder)},
    {"reject after time", kr_reject, ARRAY_SIZE(kr_reject)},
    {"simultaneous initiation", kr_simultaneous, ARRAY_SIZE(kr_simultaneous)},
};

static void kr_free(void *ctx, struct hs_slot *slot)
{
	unsigned int *freed = ctx;

	assert_true(slot->live);
	assert_ptr_equal(slot->user, &freed[slot->s.id]); /* the user pointer travels along */
	freed[slot->s.id]++;
}

static unsigned int kr_tag(const struct hs_slot *slot)
{
	return slot->live ? (unsigned int)slot->s.id : 0;
}

static void kr_step_run(struct hs_keyring *kr, const struct kr_step *st, unsigned int *freed)
{
	struct hs_session s = {0};
	struct hs_slot *slot = NULL;
	uint32_t seq = 0;

	switch (st->op) {
	case KR_INSTALL_I:
	case KR_INSTALL_R:
		s.id = st->tag;
		s.initiator = st->op == KR_INSTALL_I;
		s.confirmed = s.initiator;
		hs_keyring_install(kr, &s, &freed[st->tag], NS(st->t), kr_free, freed);
		break;
	case KR_RX_NEXT:
		hs_keyring_rx_ok(kr, &kr->next, NS(st->t), kr_free, freed);
		break;
	case KR_RX_PREV:
		hs_keyring_rx_ok(kr, &kr->previous, NS(st->t), kr_free, freed);
		break;
	case KR_TX:
		assert_int_equal(hs_keyring_tx(kr, NS(st->t), &slot, &seq), st->want_tx);
		if (!st->want_tx) {
			assert_int_equal(seq, st->want_seq);
			assert_int_equal(kr_tag(slot), st->tx_tag);
		}
		break;
	case KR_EXPIRE:
		hs_keyring_expire(kr, NS(st->t), kr_free, freed);
		break;
	}
}

static void test_keyring(void **state)
{
	unsigned int freed[N_TAGS];
	struct hs_keyring kr;
	size_t i, j, t;

	for (i = 0; i < ARRAY_SIZE(kr_scenarios); i++) {
		memset(&kr, 0, sizeof(kr));
		memset(freed, 0, sizeof(freed));
		for (j = 0; j < kr_scenarios[i].n; j++) {
			const struct kr_step *st = &kr_scenarios[i].steps[j];

			print_message("%s: %s\n", kr_scenarios[i].name, st->what);
			kr_step_run(&kr, st, freed);
			assert_int_equal(kr_tag(&kr.current), st->cur);
			assert_int_equal(kr_tag(&kr.next), st->next);
			assert_int_equal(kr_tag(&kr.previous), st->prev);
		}
		hs_keyring_clear(&kr, kr_free, freed);
		/* Every session left exactly once. */
		for (t = 1; t < N_TAGS; t++)
			assert_true(freed[t] <= 1);
		for (j = 0; j < kr_scenarios[i].n; j++)
			if (kr_scenarios[i].steps[j].op <= KR_INSTALL_R)
				assert_int_equal(freed[kr_scenarios[i].steps[j].tag], 1);
	}
}

/* Receive order: the session most packets come under first. */
static void test_keyring_rx_order(void **state)
{
	struct hs_session s = {.id = 1, .initiator = true};
	struct hs_slot *order[3];
	struct hs_keyring kr = {0};

	assert_int_equal(hs_keyring_rx_order(&kr, order), 0);
	hs_keyring_install(&kr, &s, NULL, 0, NULL, NULL);
	s.id = 2;
	hs_keyring_install(&kr, &s, NULL, NS(1), NULL, NULL);
	s.id = 3;
	s.initiator = false;
	hs_keyring_install(&kr, &s, NULL, NS(2), NULL, NULL);
	assert_int_equal(hs_keyring_rx_order(&kr, order), 3);
	assert_ptr_equal(order[0], &kr.current);
	assert_ptr_equal(order[1], &kr.next);
	assert_ptr_equal(order[2], &kr.previous);
	hs_keyring_clear(&kr, NULL, NULL);
	assert_int_equal(hs_keyring_rx_order(&kr, order), 0);
}

/* Rekey on packets at 2^31 on either side, on time only as initiator; stop before 2^32. */
static void test_keyring_limits(void **state)
{
	struct hs_session s = {.id = 1, .initiator = false};
	struct hs_keyring kr = {0};
	struct hs_slot *slot;
	uint32_t seq;

	assert_true(hs_keyring_want_rekey(&kr, 0)); /* nothing yet */
	hs_keyring_install(&kr, &s, NULL, 0, NULL, NULL);
	hs_keyring_rx_ok(&kr, &kr.next, 0, NULL, NULL);
	assert_false(hs_keyring_want_rekey(&kr, NS(HS_REKEY_AFTER_TIME_S)));
	assert_false(hs_keyring_want_rekey(&kr, NS(HS_REKEY_AFTER_TIME_RESPONDER_S) - 1));
	assert_true(hs_keyring_want_rekey(&kr, NS(HS_REKEY_AFTER_TIME_RESPONDER_S)));
	kr.current.tx_next = HS_REKEY_AFTER_PACKETS - 1;
	assert_false(hs_keyring_want_rekey(&kr, NS(1)));
	assert_int_equal(hs_keyring_tx(&kr, NS(1), &slot, &seq), 0);
	assert_int_equal(seq, HS_REKEY_AFTER_PACKETS - 1);
	assert_true(hs_keyring_want_rekey(&kr, NS(1)));
	kr.current.tx_next = HS_REJECT_AFTER_PACKETS - 1;
	assert_int_equal(hs_keyring_tx(&kr, NS(1), &slot, &seq), 0);
	assert_int_equal(hs_keyring_tx(&kr, NS(1), &slot, &seq), -ENOKEY);
	hs_keyring_clear(&kr, NULL, NULL);

	s.initiator = true;
	hs_keyring_install(&kr, &s, NULL, NS(10), NULL, NULL);
	assert_false(hs_keyring_want_rekey(&kr, NS(10 + HS_REKEY_AFTER_TIME_S) - 1));
	assert_true(hs_keyring_want_rekey(&kr, NS(10 + HS_REKEY_AFTER_TIME_S)));
}

/*
 * Both sides initiated at once: the lower public key's initiation is the one
 * answered; that side leaves the other's unanswered, once per attempt.
 */
static void test_collision_defer(void **state)
{
	static const struct {
		const char *name;
		uint8_t own, peer; /* first byte of each public key; the rest equal */
		bool attempting, deferred_before;
		bool defer, deferred_after;
	} cases[] = {
	    {"ours lower, in flight: unanswered", 0x10, 0x20, true, false, true, true},
	    {"ours lower, deferred once already: answered", 0x10, 0x20, true, true, false, true},
	    {"ours higher: answered", 0x20, 0x10, true, false, false, false},
	    {"nothing in flight: answered", 0x10, 0x20, false, false, false, false},
	    {"same key (a loop to ourselves): answered", 0x10, 0x10, true, false, false, false},
	};
	uint8_t own[NOISE_DH_LEN], peer[NOISE_DH_LEN];
	size_t i;
	bool deferred;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(own, 0x55, sizeof(own));
		memset(peer, 0x55, sizeof(peer));
		own[0] = cases[i].own;
		peer[0] = cases[i].peer;
		deferred = cases[i].deferred_before;
		print_message("%s\n", cases[i].name);
		assert_int_equal(hs_collision_defer(own, peer, cases[i].attempting, &deferred),
				 cases[i].defer);
		assert_int_equal(deferred, cases[i].deferred_after);
	}
	/* The two sides decide opposite ways: exactly one initiation goes unanswered. */
	own[0] = 0x10;
	peer[0] = 0x20;
	deferred = false;
	assert_true(hs_collision_defer(own, peer, true, &deferred));
	deferred = false;
	assert_false(hs_collision_defer(peer, own, true, &deferred));
}

/* ---------------------------------------------------------------- helpers */

static void test_verdict_names(void **state)
{
	unsigned int i, j;

	for (i = 0; i < HS_VERDICT_MAX; i++) {
		assert_string_not_equal(hs_verdict_name(i), "unknown");
		for (j = 0; j < i; j++)
			assert_string_not_equal(hs_verdict_name(i), hs_verdict_name(j));
	}
	assert_string_equal(hs_verdict_name(HS_VERDICT_MAX), "unknown");
	assert_string_equal(hs_verdict_name(HS_REPLAY), "replay");
}

static void test_timestamps(void **state)
{
	uint8_t t0[12], t1[12], t2[12], now[12];

	hs_timestamp_make(t0, 0, 0);
	test_assert_hex(t0, 12, "400000000000000000000000");
	hs_timestamp_make(t1, 1700000000, 999999999);
	hs_timestamp_make(t2, 1700000001, 0);
	assert_true(memcmp(t1, t2, 12) < 0);
	/* Rounded down to the granularity: nanoseconds within one step compare equal. */
	hs_timestamp_make(t1, 5, 1);
	hs_timestamp_make(t2, 5, HS_TIMESTAMP_GRANULARITY_NS - 1);
	assert_memory_equal(t1, t2, 12);
	hs_timestamp_make(t2, 5, HS_TIMESTAMP_GRANULARITY_NS);
	assert_true(memcmp(t1, t2, 12) < 0);
	hs_timestamp_now(now);
	hs_timestamp_make(t1, 1700000000, 0);
	assert_true(memcmp(t1, now, 12) < 0);
}

static void test_classify(void **state)
{
	uint8_t data[SATP_HDR_LEN] = {0, 0, 0, 1, 0, 1, 0xFF, 0xFE};
	uint32_t idx = 0;
	struct world w;

	world_init(&w, 128);
	make_initiation(&w, 1);
	make_response(&w);
	assert_true(hs_is_handshake(w.init, sizeof(w.init)));
	assert_true(hs_is_handshake(w.resp, sizeof(w.resp)));
	assert_false(hs_is_handshake(data, sizeof(data))); /* SATP data, mux 0xFFFE */
	assert_false(hs_is_handshake(w.init, SATP_HS_HDR_LEN - 1));
	assert_int_equal(hs_msg_type(w.init, sizeof(w.init)), SATP_HS_INITIATION);
	assert_int_equal(hs_msg_type(w.resp, sizeof(w.resp)), SATP_HS_RESPONSE);
	assert_int_equal(hs_msg_type(data, sizeof(data)), -EPROTO);
	assert_int_equal(hs_msg_type(data, 3), -EMSGSIZE);
	assert_int_equal(hs_response_receiver_index(w.resp, sizeof(w.resp), &idx), 0);
	assert_int_equal(idx, 0x11223344);
	assert_int_equal(hs_response_receiver_index(w.resp, sizeof(w.resp) - 1, &idx), -EMSGSIZE);
	/* The layout of docs/handshake.md, byte by byte where it matters. */
	assert_int_equal(w.init[0], SATP_HS_INITIATION);
	assert_int_equal(w.init[1], SATP_HS_VERSION);
	assert_int_equal(w.init[6], 0xFF);
	assert_int_equal(w.init[7], 0xFF);
	assert_int_equal(w.init[8], 0x11);
	assert_int_equal(w.init[11], 0x44);
	assert_int_equal(w.resp[8], 0x55);
	assert_int_equal(w.resp[12], 0x11);
	assert_int_equal(offsetof(struct satp_hs_initiation, mac1), 120);
	assert_int_equal(offsetof(struct satp_hs_response, mac1), 64);
}

/* ---------------------------------------------------------------- key files */

struct decode_row {
	const char *name;
	const char *text;
	int want;
};

static const struct decode_row decode_rows[] = {
    {"zero key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0},
    {"newline", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 0},
    {"crlf and spaces", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \r\n", 0},
    {"empty", "", -EINVAL},
    {"short", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", -EINVAL},
    {"no padding", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", -EINVAL},
    {"two pads", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", -EINVAL},
    {"long", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", -EINVAL},
    {"not base64", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*AA=", -EINVAL},
    {"leading space", " AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", -EINVAL},
    {"non-canonical", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=", -EINVAL},
    {"two keys",
     "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
     -EINVAL},
};

static void test_key_decode(void **state)
{
	uint8_t key[32], zero[32] = {0};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(decode_rows); i++) {
		print_message("%s\n", decode_rows[i].name);
		memset(key, 0xEE, sizeof(key));
		assert_int_equal(
		    keyfile_decode(key, decode_rows[i].text, strlen(decode_rows[i].text)),
		    decode_rows[i].want);
		if (!decode_rows[i].want)
			assert_memory_equal(key, zero, sizeof(key));
	}
}

static void test_key_encode(void **state)
{
	uint8_t key[32], back[32];
	char b64[KEYFILE_B64_LEN + 1];
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	keyfile_encode(b64, key);
	assert_int_equal(strlen(b64), KEYFILE_B64_LEN);
	assert_int_equal(keyfile_decode(back, b64, strlen(b64)), 0);
	assert_memory_equal(key, back, sizeof(key));
	memset(key, 0xFF, sizeof(key));
	keyfile_encode(b64, key);
	assert_string_equal(b64, "//////////////////////////////////////////8=");
}

static void test_key_files(void **state)
{
	char dir[] = "/tmp/satp-test-hs-XXXXXX", path[64], pub[64], err[256];
	uint8_t key[32], back[32];
	struct stat st;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/private", dir);
	snprintf(pub, sizeof(pub), "%s/public", dir);
	assert_int_equal(noise_keygen(key), 0);

	assert_int_equal(keyfile_write_private(path, key, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(keyfile_read_private(path, back, err, sizeof(err)), 0);
	assert_memory_equal(key, back, sizeof(key));
	/* Never over an existing file. */
	assert_int_equal(keyfile_write_private(path, key, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, path));

	/* Readable by others: refused as a private key, fine as a public one. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(keyfile_read_private(path, back, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "0640"));
	assert_int_equal(keyfile_read_public(path, back, err, sizeof(err)), 0);

	assert_int_equal(keyfile_read_public(dir, back, err, sizeof(err)), -EINVAL);
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(keyfile_read_private(path, back, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "missing"));

	/* Content that is not a key, long or short, names the file and not the content. */
	fd = open(pub, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(write(fd, "secretsecret", 12), 12);
	close(fd);
	assert_int_equal(keyfile_read_public(pub, back, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, pub));
	assert_null(strstr(err, "secret"));
	assert_int_equal(truncate(pub, 30), 0);
	assert_int_equal(keyfile_read_public(pub, back, err, sizeof(err)), -EINVAL);

	unlink(pub);
	snprintf(path, sizeof(path), "%s/private", dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

/* ---------------------------------------------------------------- initiation indexes */

#define INDEX_DRAWS 4096

/* Slots held by live initiations of other owners, as the daemon's callback sees them. */
struct index_world {
	bool busy_slot[1u << HS_INDEX_SLOT_BITS];
	bool all_busy;
};

static bool index_busy(void *ctx, uint16_t owner, uint32_t slot)
{
	const struct index_world *w = ctx;

	return w->all_busy || w->busy_slot[slot];
}

/* Distinct values of the 16 bits at shift among n indexes. */
static unsigned int distinct16(const uint32_t *v, unsigned int n, unsigned int shift)
{
	static bool seen[1u << 16];
	unsigned int i, d = 0;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n; i++)
		if (!seen[(v[i] >> shift) & 0xffff]) {
			seen[(v[i] >> shift) & 0xffff] = true;
			d++;
		}
	return d;
}

/*
 * L9: an index is 32 random bits (low half included: it no longer carries the
 * mux), and a lookup by any index drawn finds its owner in one step. 4096
 * uniform 16-bit draws give about 3970 distinct values; a fixed half gives 1.
 */
static void test_index_random_bits(void **state)
{
	static struct hs_index_table t;
	static struct index_world w;
	static uint32_t idx[INDEX_DRAWS];
	unsigned int i;

	for (i = 0; i < INDEX_DRAWS; i++) {
		assert_int_equal(hs_index_draw(&t, 7, index_busy, &w, &idx[i]), 0);
		assert_int_equal(hs_index_owner(&t, idx[i]), 7);
	}
	assert_true(distinct16(idx, INDEX_DRAWS, 0) > INDEX_DRAWS * 9 / 10);
	assert_true(distinct16(idx, INDEX_DRAWS, 16) > INDEX_DRAWS * 9 / 10);
}

/* A slot another owner's live initiation holds is never taken over; all busy: -EAGAIN. */
static void test_index_slots_kept(void **state)
{
	static struct hs_index_table t;
	static struct index_world w;
	uint32_t idx, first, s;
	unsigned int i;

	assert_int_equal(hs_index_draw(&t, 1, index_busy, &w, &first), 0);
	for (s = 0; s < (1u << HS_INDEX_SLOT_BITS); s += 2)
		w.busy_slot[s] = true; /* owner 1 (and others) in flight in every even slot */
	w.busy_slot[first & HS_INDEX_SLOT_MASK] = true; /* and in first's, whichever it is */
	for (i = 0; i < INDEX_DRAWS; i++) {
		assert_int_equal(hs_index_draw(&t, 2, index_busy, &w, &idx), 0);
		assert_int_equal(idx & 1, 1);
		assert_int_equal(hs_index_owner(&t, idx), 2);
	}
	assert_int_equal(hs_index_owner(&t, first), 1); /* a busy slot is never taken over */
	w.all_busy = true;
	assert_int_equal(hs_index_draw(&t, 3, index_busy, &w, &idx), -EAGAIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_index_random_bits),
	    cmocka_unit_test(test_index_slots_kept),
	    cmocka_unit_test(test_exchange),
	    cmocka_unit_test(test_fresh_sessions),
	    cmocka_unit_test(test_session_keys_mismatch),
	    cmocka_unit_test(test_initiation_every_byte),
	    cmocka_unit_test(test_initiation_every_length),
	    cmocka_unit_test(test_initiation_refused),
	    cmocka_unit_test(test_initiation_after_refusals),
	    cmocka_unit_test(test_response_every_byte),
	    cmocka_unit_test(test_response_stale),
	    cmocka_unit_test(test_response_wrong_responder),
	    cmocka_unit_test(test_cookie_flow),
	    cmocka_unit_test(test_cookie_ratelimit),
	    cmocka_unit_test(test_cookie_lifetimes),
	    cmocka_unit_test(test_cookie_reply_refused),
	    cmocka_unit_test(test_keyring),
	    cmocka_unit_test(test_keyring_rx_order),
	    cmocka_unit_test(test_keyring_limits),
	    cmocka_unit_test(test_collision_defer),
	    cmocka_unit_test(test_verdict_names),
	    cmocka_unit_test(test_timestamps),
	    cmocka_unit_test(test_classify),
	    cmocka_unit_test(test_key_decode),
	    cmocka_unit_test(test_key_encode),
	    cmocka_unit_test(test_key_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
