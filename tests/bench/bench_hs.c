// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a handshake message costs the responder, per message: what a flood of
 * spoofed initiations triggers (refused at mac1; a good mac1 judged
 * cookie-needed under load; the cookie reply) against a complete initiation
 * consumed and answered, and the primitives under them.
 * Single thread; each figure is the best of BENCH_REPEATS runs over about
 * BENCH_ROW_SECONDS of this thread's CPU time: on a shared machine, time spent preempted by
 * other work is not counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "bench_measure.h"
#include "hs.h"

#define CALIBRATE_N  200
#define TEST_KD_BITS 128

struct bench {
	struct hs_identity server, client;
	struct hs_peer server_view_of_client, client_view_of_server;
	struct hs_cookie_checker cookies;
	struct hs_rx_info rx;
	uint8_t src[18]; /* an IPv6 address and port, as the daemon encodes sources */
	uint8_t good[SATP_HS_INITIATION_LEN], bad_mac1[SATP_HS_INITIATION_LEN];
	uint8_t out[SATP_HS_INITIATION_LEN];
	uint8_t sealed[SATP_HS_COOKIE_LEN + NOISE_TAG_LEN];
	uint8_t key[NOISE_HASH_LEN], nonce[NOISE_NONCE_LEN];
	unsigned long failures;
};

static double measure(struct bench *b, bench_fn fn)
{
	return bench_measure(b, fn, CALIBRATE_N);
}

/* The one configured peer; the bench replays one initiation, so its timestamp is forgotten. */
static struct hs_peer *lookup(void *ctx, const uint8_t pub[NOISE_DH_LEN])
{
	struct bench *b = ctx;

	if (memcmp(pub, b->server_view_of_client.pub, NOISE_DH_LEN))
		return NULL;
	b->server_view_of_client.have_ts = false;
	return &b->server_view_of_client;
}

static enum hs_verdict consume(struct bench *b, const uint8_t *msg, bool under_load,
			       struct hs_responder *r)
{
	b->rx.under_load = under_load;
	return hs_initiation_consume(&b->server, &b->rx, lookup, b, msg, SATP_HS_INITIATION_LEN, r);
}

static void do_refused_mac1(struct bench *b)
{
	struct hs_responder r;

	if (consume(b, b->bad_mac1, true, &r) != HS_BAD_MAC1)
		b->failures++;
}

static void do_cookie_needed(struct bench *b)
{
	struct hs_responder r;

	if (consume(b, b->good, true, &r) != HS_COOKIE_NEEDED)
		b->failures++;
}

static void do_cookie_reply(struct bench *b)
{
	if (hs_cookie_reply_create(&b->rx, b->good, SATP_HS_INITIATION_LEN, b->out,
				   sizeof(b->out)) != SATP_HS_COOKIE_REPLY_LEN)
		b->failures++;
}

/* What one spoofed initiation with a good mac1 costs under load, all told. */
static void do_flood_message(struct bench *b)
{
	do_cookie_needed(b);
	do_cookie_reply(b);
}

static void do_full(struct bench *b)
{
	struct hs_responder r;
	struct hs_session s;

	if (consume(b, b->good, false, &r) != HS_OK ||
	    hs_response_create(&r, &b->server, 7, b->out, sizeof(b->out), &s) !=
		SATP_HS_RESPONSE_LEN)
		b->failures++;
	hs_session_wipe(&s);
}

static void do_mac(struct bench *b)
{
	if (noise_mac(b->out, SATP_HS_MAC_LEN, b->key, sizeof(b->key), b->good,
		      offsetof(struct satp_hs_initiation, mac1)))
		b->failures++;
}

static void do_hash(struct bench *b)
{
	if (noise_hash(b->out, b->key, sizeof(b->key), b->good, NOISE_DH_LEN))
		b->failures++;
}

static void do_hmac(struct bench *b)
{
	if (noise_hmac(b->out, b->key, sizeof(b->key), b->good, NOISE_DH_LEN, NULL, 0))
		b->failures++;
}

static void do_seal(struct bench *b)
{
	if (noise_aead_seal(b->key, b->nonce, b->good, SATP_HS_MAC_LEN, b->good + 8,
			    SATP_HS_COOKIE_LEN, b->out))
		b->failures++;
}

static void do_open(struct bench *b)
{
	uint8_t pt[SATP_HS_COOKIE_LEN];

	if (noise_aead_open(b->key, b->nonce, b->good, SATP_HS_MAC_LEN, b->sealed,
			    sizeof(b->sealed), pt))
		b->failures++;
}

static void do_rand(struct bench *b)
{
	if (RAND_bytes(b->out, SATP_HS_NONCE_LEN) != 1)
		b->failures++;
}

static void do_dh(struct bench *b)
{
	if (noise_dh(b->out, b->server.priv, b->client.pub))
		b->failures++;
}

static int setup(struct bench *b)
{
	uint8_t priv[NOISE_DH_LEN], ts[SATP_HS_TIMESTAMP_LEN];
	int err;

	memset(b, 0, sizeof(*b));
	memset(b->src, 0x5a, sizeof(b->src));
	memset(b->key, 0x11, sizeof(b->key));
	err = noise_keygen(priv) ?: hs_identity_init(&b->server, priv);
	err = err ?: noise_keygen(priv) ?: hs_identity_init(&b->client, priv);
	err = err ?: hs_peer_init(&b->server_view_of_client, b->client.pub, TEST_KD_BITS);
	err = err ?: hs_peer_init(&b->client_view_of_server, b->server.pub, TEST_KD_BITS);
	err = err ?: hs_cookie_checker_init(&b->cookies, &b->server, 1);
	if (err)
		return err;
	hs_timestamp_now(ts);
	err = hs_initiation_create(&b->client_view_of_server, &b->client, 1, ts, 1, b->good,
				   sizeof(b->good));
	if (err != SATP_HS_INITIATION_LEN)
		return err < 0 ? err : -1;
	memcpy(b->bad_mac1, b->good, sizeof(b->good));
	b->bad_mac1[offsetof(struct satp_hs_initiation, mac1)] ^= 1;
	b->rx = (struct hs_rx_info){
	    .cookies = &b->cookies, .src = b->src, .src_len = sizeof(b->src), .now_ns = 2};
	/* The open row verifies a real ciphertext. */
	return noise_aead_seal(b->key, b->nonce, b->good, SATP_HS_MAC_LEN, b->good + 8,
			       SATP_HS_COOKIE_LEN, b->sealed);
}

static const struct row {
	const char *name;
	bench_fn fn;
} rows[] = {
    {"initiation refused at mac1 (bad-mac1)", do_refused_mac1},
    {"initiation, good mac1, under load (cookie-needed)", do_cookie_needed},
    {"cookie reply create", do_cookie_reply},
    {"spoofed flood message: cookie-needed + cookie reply", do_flood_message},
    {"complete initiation consume + response create", do_full},
    {"  noise_mac (keyed BLAKE2s, 16 B over 116 B)", do_mac},
    {"  noise_hash (BLAKE2s-256 over 64 B)", do_hash},
    {"  noise_hmac (HMAC-BLAKE2s over 32 B)", do_hmac},
    {"  noise_aead_seal (16 B, 16 B AD)", do_seal},
    {"  noise_aead_open (16 B, 16 B AD)", do_open},
    {"  RAND_bytes (12 B)", do_rand},
    {"  noise_dh (X25519)", do_dh},
};

/* bench_hs [WORD]: only the rows whose name contains WORD. */
int main(int argc, char **argv)
{
	struct bench *b = malloc(sizeof(*b));
	size_t i;
	double ns;

	if (!b || setup(b)) {
		fprintf(stderr, "bench_hs: setup failed\n");
		return 1;
	}
	printf("bench-hs: one core, responder side, per message (best of %d runs)\n\n",
	       BENCH_REPEATS);
	printf("%-54s %10s %10s\n", "message", "us/msg", "msg/s");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (argc > 1 && !strstr(rows[i].name, argv[1]))
			continue;
		b->failures = 0;
		ns = measure(b, rows[i].fn);
		printf("%-54s %10.2f %10.0f\n", rows[i].name, ns / 1e3, 1e9 / ns);
		if (b->failures) {
			fprintf(stderr, "bench_hs: %s: %lu calls failed\n", rows[i].name,
				b->failures);
			return 1;
		}
	}
	hs_cookie_checker_wipe(&b->cookies);
	free(b);
	return 0;
}
