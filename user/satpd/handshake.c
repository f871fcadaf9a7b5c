// SPDX-License-Identifier: GPL-2.0-only
/*
 * The handshake in the daemon: messages in and out, the sessions of each
 * connection in its hs_keyring, and the timers of docs/handshake.md §5.
 * Main thread only (handshake.h says what the workers see).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "clock.h"
#include "conns.h"
#include "ctl_proto.h"
#include "datapath.h"
#include "endpoint.h"
#include "handshake.h"
#include "hsbudget.h"
#include "keyfile.h"
#include "log.h"

#define NS_PER_S  UINT64_C(1000000000)
#define NS_PER_MS UINT64_C(1000000)

/* The cookie binding of a source: 16-byte IPv6 (IPv4-mapped for IPv4) address and port. */
#define SRC_KEY_LEN 18

/* Counted by message type: initiation, response, cookie reply. */
#define N_TYPES 3

static const char *const hs_counter_names[] = {SATPD_HS_COUNTERS(SATPD_COUNTER_NAME)};
const struct satpd_counter_set satpd_hs_counters = {
    hs_counter_names, sizeof(hs_counter_names) / sizeof(hs_counter_names[0])};

struct satpd_hs {
	struct satpd *d; /* the core: connections, key sets, the UDP sockets */
	struct hs_identity id;
	struct hs_cookie_checker cookies;
	uint64_t verdicts[N_TYPES][HS_VERDICT_MAX]; /* received, by type and verdict */
	uint64_t bad_type;			    /* a type byte of no built-in message */
	uint64_t initiations_sent, responses_sent, cookie_replies_sent, keepalives_sent;
	uint64_t initiations_deferred; /* both sides initiated at once and ours wins (hs.h) */
	uint64_t send_errors, sessions, install_errors;
	uint64_t rekey_after_ns; /* initiator; the responder waits 11/8 of it (hs.h's ratio) */
	uint64_t load_sec;	 /* the second load_n counts initiations in */
	unsigned int load_n;
	struct hs_index_table index; /* our initiations' indexes -> their connection's mux */
	/* Under load, initiations with a valid cookie, per source: DH spent on one address. */
	struct satpd_hs_budget *cookied;
};

/* Per connection in handshake mode. Times are CLOCK_MONOTONIC nanoseconds; 0 = never. */
struct satpd_hs_conn {
	struct hs_peer peer;
	struct hs_keyring kr;
	bool attempting; /* initiations are being sent until a response comes */
	bool deferred;	 /* this attempt left a colliding initiation of the peer's unanswered */
	uint64_t attempt_start, next_retry;
	uint64_t last_rx, last_tx; /* authenticated data received / sent */
	uint64_t unanswered_since; /* data sent and nothing received since: new handshake */
	uint64_t unacked_since;	   /* data received and nothing sent since: keepalive */
	uint64_t sessions;	   /* established so far */
};

/*
 * The state of a connection whose keys the handshake brings (cfg.handshake):
 * satpd_hs_conn_new puts it in the connection's keys_owner. NULL otherwise.
 */
static struct satpd_hs_conn *hs_conn_of(const struct satpd_conn *c)
{
	return c->cfg.handshake ? c->keys_owner : NULL;
}

/* Key sets the keyring let go of, retired once the connection's pointers no longer name them. */
struct freed {
	struct satpd_keyset *k[6];
	unsigned int n;
};

static uint32_t random_u32(void)
{
	uint32_t v = 0;

	/* A handshake index or jitter: a failed draw leaves a usable, if guessable, zero. */
	if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
		log_warn("handshake: RAND_bytes failed");
	return v;
}

static const char *type_name(unsigned int t)
{
	static const char *const names[N_TYPES] = {"initiation", "response", "cookie_reply"};

	return t < N_TYPES ? names[t] : "?";
}

/* ---------------------------------------------------------------- setup */

int satpd_hs_open(struct satpd *d, struct satpd_hs **out)
{
	const struct satpd_config *c = d->cfg;
	struct satpd_hs *h;
	char pub[KEYFILE_B64_LEN + 1];
	int ret;

	*out = NULL;
	if (!c->have_private_key)
		return 0;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->d = d;
	ret = hs_identity_init(&h->id, c->private_key);
	if (!ret)
		ret = hs_cookie_checker_init(&h->cookies, &h->id, satpd_mono_ns());
	if (!ret) {
		h->cookied = satpd_hs_budget_new();
		ret = h->cookied ? 0 : -ENOMEM;
	}
	if (ret) {
		log_err("handshake: cannot set up the identity: %s", strerror(-ret));
		explicit_bzero(h, sizeof(*h));
		free(h);
		return ret;
	}
	h->rekey_after_ns =
	    (c->rekey_after_s ? c->rekey_after_s : HS_REKEY_AFTER_TIME_S) * NS_PER_S;
	keyfile_encode(pub, h->id.pub);
	log_notice("handshake: public key %s, sessions replaced every %" PRIu64 " s", pub,
		   h->rekey_after_ns / NS_PER_S);
	*out = h;
	return 0;
}

void satpd_hs_close(struct satpd_hs *h)
{
	if (!h)
		return;
	hs_cookie_checker_wipe(&h->cookies);
	satpd_hs_budget_free(h->cookied);
	explicit_bzero(h, sizeof(*h));
	free(h);
}

int satpd_hs_conn_new(struct satpd_hs *hs, struct satpd_conn *c, char *err, size_t errlen)
{
	struct satpd_hs_conn *h;
	int ret;

	if (!hs) {
		snprintf(err, errlen, "mux %u: --peer-key needs --private-key", c->cfg.mux);
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = hs_peer_init(&h->peer, c->cfg.peer_key, c->cfg.keys.algos.kd_bits);
	if (ret) {
		snprintf(err, errlen, "mux %u: cannot use the peer key: %s", c->cfg.mux,
			 strerror(-ret));
		free(h);
		return ret;
	}
	h->peer.user = c;
	c->keys_owner = h;
	c->keys_managed = true;
	return 0;
}

void satpd_hs_conn_free(struct satpd_conn *c)
{
	struct satpd_hs_conn *h = hs_conn_of(c);

	if (!h)
		return;
	c->keys_owner = NULL;
	hs_peer_wipe(&h->peer);
	explicit_bzero(h, sizeof(*h));
	free(h);
}

/* ---------------------------------------------------------------- sessions */

static void collect(void *ctx, struct hs_slot *slot)
{
	struct freed *f = ctx;

	if (slot->user && f->n < sizeof(f->k) / sizeof(f->k[0]))
		f->k[f->n++] = slot->user;
	slot->user = NULL;
}

static struct satpd_keyset *slot_keys(const struct hs_slot *s)
{
	return s->live ? s->user : NULL;
}

/*
 * After every keyring change: the workers' three pointers follow the keyring,
 * then what it let go of is retired (after the unpublishing, so that no worker
 * that could still load it is missed by the epoch).
 */
static void publish(struct satpd_hs *hs, struct satpd_conn *c, struct freed *f)
{
	struct hs_keyring *kr = &hs_conn_of(c)->kr;
	struct satpd_keyset *cur = slot_keys(&kr->current), *next = slot_keys(&kr->next),
			    *prev = slot_keys(&kr->previous);
	unsigned int i;

	/* Every tick comes here: the workers' seqlock moves only when a set did. */
	if (cur != atomic_load(&c->keys) || next != atomic_load(&c->pending) ||
	    prev != atomic_load(&c->old)) {
		satpd_conn_keys_write_begin(c);
		atomic_store(&c->keys, cur);
		atomic_store(&c->pending, next);
		atomic_store(&c->old, prev);
		satpd_conn_keys_write_end(c);
	}
	for (i = 0; i < f->n; i++)
		satpd_conns_retire_keyset(hs->d, f->k[i]);
	f->n = 0;
}

/* A new session's key set, its keyring slot and its publication. */
static int install(struct satpd_hs *hs, struct satpd_conn *c, struct hs_session *s, uint64_t now)
{
	struct satpd_hs_conn *h = hs_conn_of(c);
	struct satp_keys tx, rx;
	struct satpd_keyset *k = NULL;
	struct freed f = {.n = 0};
	int ret;

	ret = hs_session_satp_keys(s, &c->cfg.keys.algos, c->cfg.keys.role, &tx, &rx);
	if (!ret) {
		/* seqs from 0 and replay windows of its own, as a kx session's */
		k = satpd_keyset_new_session(hs->d, &tx, &rx, s->id, c->cfg.window, c->mux);
		ret = k ? 0 : -ENOMEM;
		/* A handshake session stops short of the end: a new one comes first (hs.h). */
		if (k)
			k->seq_last = HS_REJECT_AFTER_PACKETS - 1;
	}
	explicit_bzero(&tx, sizeof(tx));
	explicit_bzero(&rx, sizeof(rx));
	if (ret) {
		hs->install_errors++;
		hs_session_wipe(s);
		return ret;
	}
	hs_keyring_install(&h->kr, s, k, now, collect, &f);
	publish(hs, c, &f);
	h->sessions++;
	hs->sessions++;
	log_notice("mux %u: session %016" PRIx64 " established as %s%s", c->mux, s->id,
		   s->initiator ? "initiator" : "responder",
		   s->initiator ? "" : " (sending under it once the peer does)");
	hs_session_wipe(s);
	return 0;
}

/* ---------------------------------------------------------------- sending */

static void send_to(struct satpd_hs *hs, int sock, const struct sockaddr_storage *to,
		    socklen_t tolen, const uint8_t *buf, size_t len)
{
	char a[64];

	if (sock < 0 || sock >= (int)hs->d->udp.n ||
	    sendto(hs->d->udp.fds[sock], buf, len, 0, (const struct sockaddr *)to, tolen) < 0) {
		hs->send_errors++;
		LOG_RATELIMITED(SATPD_LOG_WARNING, "handshake: cannot send to %s: %s",
				satpd_addr_str(to, a, sizeof(a)),
				sock < 0 ? "no socket of its family" : strerror(errno));
	}
}

static void send_to_remote(struct satpd_hs *hs, struct satpd_conn *c, const uint8_t *buf,
			   size_t len)
{
	struct satpd_remote_view v;

	satpd_conn_read_remote(c, &v);
	if (v.known)
		send_to(hs, v.sock, &v.addr.sa, v.addr.len, buf, len);
}

/* hs_index_busy_fn: connection mux has an initiation in flight whose index lies in slot. */
static bool index_busy(void *ctx, uint16_t mux, uint32_t slot)
{
	const struct satpd_hs *hs = ctx;
	struct satpd_conn *c = satpd_conns_get(hs->d, mux);
	struct satpd_hs_conn *h = c ? hs_conn_of(c) : NULL;

	return h && h->peer.have_pending && (h->peer.pending_index & HS_INDEX_SLOT_MASK) == slot;
}

static void send_initiation(struct satpd_hs *hs, struct satpd_conn *c, uint64_t now)
{
	struct satpd_hs_conn *h = hs_conn_of(c);
	uint8_t msg[SATP_HS_INITIATION_LEN], ts[SATP_HS_TIMESTAMP_LEN];
	struct satpd_remote_view v;
	uint32_t idx;
	int len;

	/* Retry after the timeout plus jitter, whatever happens to this one. */
	h->next_retry = now + HS_REKEY_TIMEOUT_S * NS_PER_S +
			(uint64_t)(random_u32() % (HS_REKEY_JITTER_MS + 1)) * NS_PER_MS;
	satpd_conn_read_remote(c, &v);
	if (!v.known)
		return; /* no -r and nothing heard yet: the peer initiates */
	hs_timestamp_now(ts);
	len = hs_index_draw(&hs->index, c->mux, index_busy, hs, &idx);
	if (len) {
		log_err("mux %u: no index for an initiation: %s", c->mux, strerror(-len));
		return; /* the retry timer tries again */
	}
	len = hs_initiation_create(&h->peer, &hs->id, idx, ts, now, msg, sizeof(msg));
	if (len < 0) {
		log_err("mux %u: cannot make an initiation: %s", c->mux, strerror(-len));
		return;
	}
	send_to(hs, v.sock, &v.addr.sa, v.addr.len, msg, (size_t)len);
	hs->initiations_sent++;
}

/* An empty authenticated packet (just the payload type): the peer's timers see us alive. */
static void send_keepalive(struct satpd_hs *hs, struct satpd_conn *c, uint64_t now)
{
	struct satpd_keyset *k = atomic_load(&c->keys);
	uint8_t buf[SATP_HDR_LEN + SATP_PTYPE_LEN + SATP_TAG_MAX];
	uint64_t seq;
	int len;

	if (!k)
		return;
	seq = atomic_fetch_add(&k->tx_seq, 1);
	if (seq >= HS_REJECT_AFTER_PACKETS)
		return;
	len = satp_seal(&k->crypto[SATPD_MAIN_WORKER], buf, sizeof(buf), 0, (uint32_t)seq,
			c->cfg.sender_id, c->mux, 0);
	if (len < 0)
		return;
	send_to_remote(hs, c, buf, (size_t)len);
	hs->keepalives_sent++;
	hs_conn_of(c)->last_tx = now;
	hs_conn_of(c)->unacked_since = 0;
}

/* ---------------------------------------------------------------- receiving */

/* The state of the i-th connection in handshake mode, from the list of every mux. */
static struct satpd_hs_conn *hs_conn_at(struct satpd *d, const struct satpd_muxlist *l,
					unsigned int i)
{
	struct satpd_conn *c = satpd_conns_get(d, l->mux[i]);

	return c ? hs_conn_of(c) : NULL;
}

static struct hs_peer *peer_lookup(void *ctx, const uint8_t pub[NOISE_DH_LEN])
{
	const struct satpd_hs *hs = ctx;
	struct satpd_muxlist *l = satpd_conns_muxes(hs->d);
	struct satpd_hs_conn *h;
	unsigned int i;

	for (i = 0; l && i < l->n; i++)
		if ((h = hs_conn_at(hs->d, l, i)) && !memcmp(h->peer.pub, pub, NOISE_DH_LEN))
			return &h->peer;
	return NULL;
}

/*
 * The state of the connection whose initiation in flight has this index: its slot names
 * the mux (hs_index_draw), one lookup for whatever arrives, not a scan of
 * every connection for each unauthenticated response or cookie reply.
 */
static struct satpd_hs_conn *conn_of_index(const struct satpd_hs *hs, uint32_t idx)
{
	struct satpd_conn *c = satpd_conns_get(hs->d, hs_index_owner(&hs->index, idx));
	struct satpd_hs_conn *h = c ? hs_conn_of(c) : NULL;

	if (!h || !h->peer.have_pending || h->peer.pending_index != idx)
		return NULL;
	return h;
}

static size_t src_key(uint8_t out[SRC_KEY_LEN], const struct sockaddr_storage *src)
{
	uint16_t port = htons(satpd_addr_port(src));

	memset(out, 0, SRC_KEY_LEN);
	satpd_addr_v6mapped(src, out);
	memcpy(out + 16, &port, 2);
	return SRC_KEY_LEN;
}

/* More initiations this second than configured peers ever need: ask for cookies. */
static bool under_load(struct satpd_hs *h, uint64_t now)
{
	uint64_t sec = now / NS_PER_S;

	if (sec != h->load_sec) {
		h->load_sec = sec;
		h->load_n = 0;
	}
	return ++h->load_n > SATPD_HS_LOAD_PER_S;
}

struct admit_ctx {
	struct satpd_hs *h;
	const struct sockaddr_storage *src;
	uint64_t now;
};

/* A valid cookie under load: the source's own budget decides whether DH is spent on it. */
static bool admit_cookied(void *ctx)
{
	const struct admit_ctx *a = ctx;

	return satpd_hs_budget_source_take(a->h->cookied, a->src, a->now);
}

static void on_initiation(struct satpd_hs *h, struct satpd_worker *w, const uint8_t *buf,
			  size_t len, const struct sockaddr_storage *src, socklen_t srclen,
			  int sock)
{
	uint8_t key[SRC_KEY_LEN], out[SATP_HS_RESPONSE_LEN];
	uint64_t now = satpd_mono_ns();
	struct admit_ctx actx = {.h = h, .src = src, .now = now};
	struct hs_rx_info rx = {
	    .cookies = &h->cookies,
	    .src = key,
	    .src_len = src_key(key, src),
	    .under_load = under_load(h, now),
	    .now_ns = now,
	    .admit = admit_cookied,
	    .admit_ctx = &actx,
	};
	struct hs_responder r;
	struct hs_session s;
	struct satpd_hs_conn *hc;
	struct satpd_conn *c;
	enum hs_verdict v;
	bool confirmed;
	int n;

	v = hs_initiation_consume(&h->id, &rx, peer_lookup, h, buf, len, &r);
	h->verdicts[0][v]++;
	if (v == HS_COOKIE_NEEDED) {
		n = hs_cookie_reply_create(&rx, buf, len, out, sizeof(out));
		if (n > 0) {
			send_to(h, sock, src, srclen, out, (size_t)n);
			h->cookie_replies_sent++;
		}
		return;
	}
	if (v != HS_OK)
		return; /* silently: nothing unauthenticated is ever answered */
	c = r.peer->user;
	hc = hs_conn_of(c);
	if (hs_collision_defer(h->id.pub, hc->peer.pub, hc->attempting && hc->peer.have_pending,
			       &hc->deferred)) {
		h->initiations_deferred++;
		explicit_bzero(&r, sizeof(r));
		return;
	}
	n = hs_response_create(&r, &h->id, random_u32(), out, sizeof(out), &s);
	explicit_bzero(&r, sizeof(r)); /* its secrets are in s now, or lost with the error */
	if (n < 0) {
		log_err("mux %u: cannot make a response: %s", c->mux, strerror(-n));
		return;
	}
	/*
	 * An initiation proves the peer made it, not that it comes from where the
	 * peer is: one held back and re-sent from elsewhere still verifies. While a
	 * confirmed session exists the remote stays; the first datagram under the
	 * new session moves it (the data path learns from every one it commits).
	 */
	confirmed = hc->kr.current.live && hc->kr.current.s.confirmed;
	/* Receive keys first: the initiator may send under them as soon as it has the response. */
	if (install(h, c, &s, now))
		return;
	if (!confirmed)
		satpd_learn_remote(w, c, src, srclen, sock);
	send_to(h, sock, src, srclen, out, (size_t)n);
	h->responses_sent++;
	/* Ours, if one is in flight, lost the tie (or went unanswered): this session does. */
	hc->attempting = false;
}

static void on_response(struct satpd_hs *h, struct satpd_worker *w, const uint8_t *buf, size_t len,
			const struct sockaddr_storage *src, socklen_t srclen, int sock)
{
	struct satpd_hs_conn *hc = NULL;
	struct satpd_conn *c;
	struct hs_session s;
	enum hs_verdict v;
	uint32_t idx;
	uint64_t now;

	if (hs_response_receiver_index(buf, len, &idx))
		v = HS_BAD_LENGTH;
	else if (!(hc = conn_of_index(h, idx)))
		v = HS_UNKNOWN_INDEX;
	else
		v = hs_response_consume(&hc->peer, &h->id, buf, len, &s);
	h->verdicts[1][v]++;
	if (v != HS_OK)
		return;
	c = hc->peer.user;
	now = satpd_mono_ns();
	if (install(h, c, &s, now))
		return;
	hc->attempting = false;
	satpd_learn_remote(w, c, src, srclen, sock);
	/* At once, so that the responder confirms the session without waiting for data. */
	send_keepalive(h, c, now);
}

static void on_cookie_reply(struct satpd_hs *h, const uint8_t *buf, size_t len)
{
	struct satpd_hs_conn *hc = NULL;
	enum hs_verdict v;
	uint32_t idx;

	/* Same place as a response's receiver index: bytes 8..11 after the header. */
	if (len != SATP_HS_COOKIE_REPLY_LEN)
		v = HS_BAD_LENGTH;
	else if (memcpy(&idx, buf + SATP_HS_HDR_LEN, sizeof(idx)),
		 !(hc = conn_of_index(h, ntohl(idx))))
		v = HS_UNKNOWN_INDEX;
	else
		v = hs_cookie_reply_consume(&hc->peer, buf, len, satpd_mono_ns());
	h->verdicts[2][v]++;
	if (v == HS_OK && hc->attempting)
		hc->next_retry = 0; /* resend with the cookie on the next tick */
}

bool satpd_hs_dispatch(struct satpd_hs *h, struct satpd_worker *w, const uint8_t *buf, size_t len,
		       const struct sockaddr_storage *src, socklen_t srclen, int sock)
{
	if (!h)
		return false;
	satpd_count(w, &satpd_hs_counters, SATPD_CTR_rx_handshake);
	switch (buf[0]) {
	case SATP_HS_INITIATION:
		on_initiation(h, w, buf, len, src, srclen, sock);
		break;
	case SATP_HS_RESPONSE:
		on_response(h, w, buf, len, src, srclen, sock);
		break;
	case SATP_HS_COOKIE_REPLY:
		on_cookie_reply(h, buf, len);
		break;
	default:
		h->bad_type++;
	}
	return true;
}

/* ---------------------------------------------------------------- timers */

/* The newest session (next while it is unconfirmed) is old enough, and was used. */
static bool rekey_due(const struct satpd_hs *hd, const struct satpd_hs_conn *h, uint64_t now)
{
	const struct hs_slot *s = h->kr.next.live ? &h->kr.next : &h->kr.current;
	uint64_t after = s->s.initiator ? hd->rekey_after_ns : hd->rekey_after_ns / 8 * 11;

	if (!s->live)
		return false;
	if (s == &h->kr.current && s->tx_next >= HS_REKEY_AFTER_PACKETS)
		return true;
	/* An idle connection's session just ends; the next packet starts one. */
	if (h->last_tx < s->born_ns && h->last_rx < s->born_ns)
		return false;
	return now - s->born_ns >= after;
}

/* What the workers left: traffic both ways and the confirmation of a new session. */
static void fold_worker_flags(struct satpd_hs *hs, struct satpd_conn *c, uint64_t now)
{
	struct satpd_hs_conn *h = hs_conn_of(c);
	struct hs_keyring *kr = &h->kr;
	struct freed f = {.n = 0};
	struct satpd_keyset *k;

	if (atomic_exchange(&c->rx_seen, false)) {
		h->last_rx = now;
		h->unanswered_since = 0;
		if (!h->unacked_since)
			h->unacked_since = now;
	}
	if (atomic_exchange(&c->tx_seen, false)) {
		h->last_tx = now;
		h->unacked_since = 0;
		if (!h->unanswered_since)
			h->unanswered_since = now;
	}
	k = slot_keys(&kr->next);
	if (k && atomic_load(&k->used)) {
		hs_keyring_rx_ok(kr, &kr->next, now, collect, &f);
		log_notice("mux %u: session %016" PRIx64 " confirmed: sending under it", c->mux,
			   k->session_id);
	}
	k = slot_keys(&kr->current);
	if (k) {
		uint64_t sent = atomic_load(&k->tx_seq);

		kr->current.tx_next = sent > UINT32_MAX ? UINT32_MAX : (uint32_t)sent;
	}
	hs_keyring_expire(kr, now, collect, &f);
	publish(hs, c, &f);
}

/*
 * We answered an initiation moments ago: the initiator's keepalive is about to
 * confirm that session, and an initiation of ours would only replace it.
 * Waited for no longer than an initiator waits for its answer.
 */
static bool answer_pending(const struct satpd_hs_conn *h, uint64_t now)
{
	return h->kr.next.live && now - h->kr.next.born_ns < HS_REKEY_TIMEOUT_S * NS_PER_S;
}

void satpd_hs_conn_tick(struct satpd_hs *hs, struct satpd_conn *c)
{
	struct satpd_hs_conn *h = hs_conn_of(c);
	uint64_t now = satpd_mono_ns();
	bool start = false;

	fold_worker_flags(hs, c, now);
	if (atomic_exchange(&c->keys_wanted, false) && !h->kr.current.live &&
	    !answer_pending(h, now))
		start = true;
	if (rekey_due(hs, h, now))
		start = true;
	if (h->unanswered_since &&
	    now - h->unanswered_since >= HS_NEW_HANDSHAKE_AFTER_S * NS_PER_S) {
		/* Peer restarted or (anycast) the route moved to an edge without our session. */
		h->unanswered_since = now;
		start = true;
	}
	if (start && !h->attempting) {
		h->attempting = true;
		h->deferred = false;
		h->attempt_start = now;
		h->next_retry = 0;
	}
	if (h->attempting && now >= h->next_retry) {
		if (now - h->attempt_start >= HS_REKEY_ATTEMPT_TIME_S * NS_PER_S) {
			h->attempting = false;
			log_warn("mux %u: no handshake answer for %u s: giving up until there is "
				 "something to send",
				 c->mux, HS_REKEY_ATTEMPT_TIME_S);
		} else {
			send_initiation(hs, c, now);
		}
	}
	if (h->kr.current.live && h->unacked_since &&
	    now - h->unacked_since >= HS_KEEPALIVE_TIMEOUT_S * NS_PER_S)
		send_keepalive(hs, c, now);
}

/* ---------------------------------------------------------------- reporting */

void satpd_hs_dump(const struct satpd_hs *h)
{
	unsigned int t, v;
	char name[64], *p;

	if (!h)
		return;
	log_notice("handshake counters (received by type and verdict, then sent):");
	for (t = 0; t < N_TYPES; t++)
		for (v = 0; v < HS_VERDICT_MAX; v++) {
			/* hs_initiation_unknown_peer: one word, as every other counter */
			snprintf(name, sizeof(name), "hs_%s_%s", type_name(t),
				 hs_verdict_name((enum hs_verdict)v));
			for (p = name; *p; p++)
				*p = *p == '-' ? '_' : *p;
			log_notice("  %-30s %" PRIu64, name, h->verdicts[t][v]);
		}
	log_notice("  %-30s %" PRIu64, "hs_bad_type", h->bad_type);
	log_notice("  %-30s %" PRIu64, "hs_initiations_sent", h->initiations_sent);
	log_notice("  %-30s %" PRIu64, "hs_responses_sent", h->responses_sent);
	log_notice("  %-30s %" PRIu64, "hs_initiations_deferred", h->initiations_deferred);
	log_notice("  %-30s %" PRIu64, "hs_cookie_replies_sent", h->cookie_replies_sent);
	log_notice("  %-30s %" PRIu64, "hs_keepalives_sent", h->keepalives_sent);
	log_notice("  %-30s %" PRIu64, "hs_send_errors", h->send_errors);
	log_notice("  %-30s %" PRIu64, "hs_install_errors", h->install_errors);
	log_notice("  %-30s %" PRIu64, "hs_sessions", h->sessions);
}

void satpd_hs_fill_conn(const struct satpd_conn *c, struct satp_ctl_conn *sc)
{
	const struct satpd_hs_conn *h = hs_conn_of(c);
	const struct hs_slot *cur;

	if (!h)
		return;
	cur = &h->kr.current;
	satp_ctl_add_counter(sc->counters, &sc->n_counters, "hs_sessions", h->sessions);
	satp_ctl_add_counter(sc->counters, &sc->n_counters, SATP_CTL_S_HS_SESSION,
			     cur->live ? cur->s.id : 0);
	satp_ctl_add_counter(sc->counters, &sc->n_counters, SATP_CTL_S_HS_SESSION_AGE_S,
			     cur->live ? (satpd_mono_ns() - cur->born_ns) / NS_PER_S : 0);
	satp_ctl_add_counter(sc->counters, &sc->n_counters, SATP_CTL_S_HS_CONFIRMED,
			     cur->live && cur->s.confirmed);
	satp_ctl_add_counter(sc->counters, &sc->n_counters, SATP_CTL_S_HS_NEXT_UNCONFIRMED,
			     h->kr.next.live);
}
