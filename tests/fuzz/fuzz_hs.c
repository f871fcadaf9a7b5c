// SPDX-License-Identifier: GPL-2.0-only
/*
 * The handshake messages (user/satpd/hs.c): what anyone on the internet can
 * send to the SATP port before any key is agreed. Two identities, I
 * (initiator) and R (responder), and a valid initiation, response and
 * cookie reply made once at start. Input: byte 0 selects
 *
 *   0  raw bytes, consumed as R (initiation; byte 1 bit 0: with cookies,
 *      bit 1: under load, bit 2: the bytes are an XOR mask over the valid
 *      initiation instead) and as I (response, cookie reply), plus the
 *      framing helpers;
 *   1  an XOR mask over the valid initiation;  2  over the valid response;
 *   3  over the valid cookie reply.
 *
 * Invariant of 1-3: the message is accepted exactly when the mask is all
 * zero; one changed bit anywhere is refused, and refusal changes no state.
 * Each input starts from copies of the peers' state, so runs do not interact.
 */
#include <string.h>

#include "fuzz_common.h"
#include "hs.h"

#define NOW_NS	 1000000000000ull
#define I_INDEX	 0x11111111u
#define R_INDEX	 0x22222222u
#define MAX_MSG	 SATP_HS_INITIATION_LEN
#define KD_BITS	 128
#define SRC_ADDR "\x0a\x4d\x00\x03\x11\x5c" /* 10.77.0.3:4444, as the daemon encodes it */

static struct hs_identity id_i, id_r;
static struct hs_peer r_sees_i, i_sees_r; /* templates: copied for every input */
static struct hs_peer cur_r_sees_i, cur_i_sees_r;
static struct hs_cookie_checker cookies;
static uint8_t initiation[SATP_HS_INITIATION_LEN], response[SATP_HS_RESPONSE_LEN];
static uint8_t cookie_reply[SATP_HS_COOKIE_REPLY_LEN];

static struct hs_peer *lookup(void *ctx, const uint8_t pub[NOISE_DH_LEN])
{
	return !memcmp(pub, cur_r_sees_i.pub, NOISE_DH_LEN) ? &cur_r_sees_i : NULL;
}

static struct hs_rx_info rx_info(bool with_cookies, bool under_load)
{
	struct hs_rx_info rx = {
	    .cookies = with_cookies ? &cookies : NULL,
	    .src = (const uint8_t *)SRC_ADDR,
	    .src_len = sizeof(SRC_ADDR) - 1,
	    .under_load = under_load,
	    .now_ns = NOW_NS,
	};

	return rx;
}

static void setup(void)
{
	uint8_t priv_i[NOISE_DH_LEN], priv_r[NOISE_DH_LEN], ts[SATP_HS_TIMESTAMP_LEN];
	struct hs_rx_info load = rx_info(true, true), calm = rx_info(false, false);
	struct hs_responder resp;
	struct hs_session s;
	size_t k;

	for (k = 0; k < NOISE_DH_LEN; k++) {
		priv_i[k] = (uint8_t)(k + 1);
		priv_r[k] = (uint8_t)(k + 101);
	}
	FUZZ_ASSERT(!hs_identity_init(&id_i, priv_i) && !hs_identity_init(&id_r, priv_r));
	FUZZ_ASSERT(!hs_peer_init(&r_sees_i, id_i.pub, KD_BITS));
	FUZZ_ASSERT(!hs_peer_init(&i_sees_r, id_r.pub, KD_BITS));
	FUZZ_ASSERT(!hs_cookie_checker_init(&cookies, &id_r, NOW_NS));
	hs_timestamp_make(ts, 1700000000, 0);
	FUZZ_ASSERT(hs_initiation_create(&i_sees_r, &id_i, I_INDEX, ts, NOW_NS, initiation,
					 sizeof(initiation)) == SATP_HS_INITIATION_LEN);
	/* the cookie reply R sends when under load, for this initiation */
	cur_r_sees_i = r_sees_i;
	FUZZ_ASSERT(hs_initiation_consume(&id_r, &load, lookup, NULL, initiation,
					  sizeof(initiation), &resp) == HS_COOKIE_NEEDED);
	FUZZ_ASSERT(hs_cookie_reply_create(&load, initiation, sizeof(initiation), cookie_reply,
					   sizeof(cookie_reply)) == SATP_HS_COOKIE_REPLY_LEN);
	/* and the response when not */
	cur_r_sees_i = r_sees_i;
	FUZZ_ASSERT(hs_initiation_consume(&id_r, &calm, lookup, NULL, initiation,
					  sizeof(initiation), &resp) == HS_OK);
	FUZZ_ASSERT(hs_response_create(&resp, &id_r, R_INDEX, response, sizeof(response), &s) ==
		    SATP_HS_RESPONSE_LEN);
	hs_session_wipe(&s);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	setup();
	return 0;
}

static void fresh_state(void)
{
	cur_r_sees_i = r_sees_i;
	cur_i_sees_r = i_sees_r;
}

static void fuzz_raw(uint8_t flags, const uint8_t *d, size_t len)
{
	struct hs_rx_info rx = rx_info(flags & 1, flags & 2);
	uint8_t *msg = malloc(len ? len : 1);
	struct hs_responder resp;
	struct hs_session s;
	uint32_t idx;

	FUZZ_ASSERT(msg);
	memcpy(msg, d, len);
	if (flags & 4) {
		size_t k;

		free(msg);
		msg = malloc(SATP_HS_INITIATION_LEN);
		FUZZ_ASSERT(msg);
		memcpy(msg, initiation, SATP_HS_INITIATION_LEN);
		for (k = 0; k < len && k < SATP_HS_INITIATION_LEN; k++)
			msg[k] ^= d[k];
		len = SATP_HS_INITIATION_LEN;
	}
	fresh_state();
	hs_is_handshake(msg, len);
	hs_msg_type(msg, len);
	hs_response_receiver_index(msg, len, &idx);
	if (hs_initiation_consume(&id_r, &rx, lookup, NULL, msg, len, &resp) == HS_OK)
		hs_session_wipe(&s);
	if (hs_response_consume(&cur_i_sees_r, &id_i, msg, len, &s) == HS_OK)
		hs_session_wipe(&s);
	hs_cookie_reply_consume(&cur_i_sees_r, msg, len, NOW_NS);
	free(msg);
}

/* msg ^= mask (as far as the mask goes); true when something changed. */
static bool apply_mask(uint8_t *msg, size_t len, const uint8_t *mask, size_t mlen)
{
	bool changed = false;
	size_t k;

	for (k = 0; k < len && k < mlen; k++) {
		msg[k] ^= mask[k];
		changed |= mask[k] != 0;
	}
	return changed;
}

static void fuzz_mutated(int which, const uint8_t *mask, size_t mlen)
{
	static const size_t lens[] = {0, SATP_HS_INITIATION_LEN, SATP_HS_RESPONSE_LEN,
				      SATP_HS_COOKIE_REPLY_LEN};
	const uint8_t *valid[] = {NULL, initiation, response, cookie_reply};
	struct hs_rx_info calm = rx_info(false, false);
	struct hs_peer before;
	struct hs_responder resp;
	struct hs_session s;
	uint8_t msg[MAX_MSG];
	enum hs_verdict v;
	bool changed;

	memcpy(msg, valid[which], lens[which]);
	changed = apply_mask(msg, lens[which], mask, mlen);
	fresh_state();
	if (which == 1) {
		before = cur_r_sees_i;
		v = hs_initiation_consume(&id_r, &calm, lookup, NULL, msg, lens[which], &resp);
		if (v != HS_OK)
			FUZZ_ASSERT(!memcmp(&before, &cur_r_sees_i, sizeof(before)));
	} else if (which == 2) {
		before = cur_i_sees_r;
		v = hs_response_consume(&cur_i_sees_r, &id_i, msg, lens[which], &s);
		if (v == HS_OK)
			hs_session_wipe(&s);
		else
			FUZZ_ASSERT(!memcmp(&before, &cur_i_sees_r, sizeof(before)));
	} else {
		before = cur_i_sees_r;
		v = hs_cookie_reply_consume(&cur_i_sees_r, msg, lens[which], NOW_NS);
		if (v != HS_OK)
			FUZZ_ASSERT(!memcmp(&before, &cur_i_sees_r, sizeof(before)));
	}
	if (changed != (v != HS_OK))
		fprintf(stderr, "message %d: mask %s, verdict %s\n", which,
			changed ? "changed it" : "all zero", hs_verdict_name(v));
	FUZZ_ASSERT(changed == (v != HS_OK));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	switch (data[0] % 4) {
	case 0:
		fuzz_raw(data[1], data + 2, size - 2);
		break;
	default:
		fuzz_mutated(data[0] % 4, data + 1, size - 1);
		break;
	}
	return 0;
}
