// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "conns.h"
#include "datapath.h"
#include "edge.h"
#include "endpoint.h"
#include "hostport.h"
#include "keyfile.h"
#include "log.h"

static const char *const tx_counter_names[] = {SATPD_EDGE_TX_COUNTERS(SATPD_COUNTER_NAME)};
const struct satpd_counter_set satpd_edge_tx_counters = {
    tx_counter_names, sizeof(tx_counter_names) / sizeof(tx_counter_names[0])};

/* ---------------------------------------------------------------- sending */

/* FNV-1a over what a record says: whether a window changed since it was last sent. */
static uint64_t record_hash(uint32_t key, const struct satp_edge_record *r)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint64_t v[3] = {key, r->top, r->nbits};
	const uint8_t *p;
	size_t i;

	for (p = (const uint8_t *)v, i = 0; i < sizeof(v); i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	for (p = (const uint8_t *)r->bits, i = 0; i < (r->nbits + 63) / 64 * 8; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void begin(struct satpd_edge *e, struct satp_edge_writer *wr, uint8_t *buf, uint8_t flags)
{
	uint64_t now = satpd_real_ns();

	e->stamp = now > e->stamp ? now : e->stamp + 1;
	satp_edge_sent_add(e->sent_stamps, e->stamp);
	satp_edge_begin(
	    wr, buf, &(struct satp_edge_hdr){.flags = flags, .edge_id = e->id, .stamp = e->stamp});
}

static void flush(struct satpd_edge *e, struct satp_edge_writer *wr)
{
	int len = satp_edge_seal(wr, e->mac);
	unsigned int i;

	if (len < 0) {
		e->ctr.edge_tx_errors += e->n_peers;
		LOG_RATELIMITED(SATPD_LOG_ERROR, "edge: cannot seal a window message");
		return;
	}
	for (i = 0; i < e->n_peers; i++) {
		const struct satpd_edge_peer *p = &e->peers[i];

		if (sendto(e->fd, wr->buf, (size_t)len, 0, (const struct sockaddr *)&p->addr,
			   p->len) != len) {
			e->ctr.edge_tx_errors++;
			LOG_RATELIMITED(SATPD_LOG_WARNING, "edge: cannot send to %s: %s", p->name,
					strerror(errno));
			continue;
		}
		e->ctr.edge_tx_msgs++;
		e->ctr.edge_tx_records += wr->count;
	}
}

/*
 * One round: every window that changed since the last (all of them when
 * full), in as many messages as it takes; at least one, so that a round with
 * nothing new still tells the peers this edge is there.
 */
static void send_round(struct satpd_edge *e, uint8_t flags)
{
	struct satpd_windows *w = &e->d->windows;
	uint8_t buf[SATP_EDGE_MSG_MAX];
	struct satp_edge_record r;
	struct satp_edge_writer wr;
	unsigned int i, cap = 1u << w->bits;
	bool full;
	uint32_t key;
	uint64_t h;

	if (e->round < SATPD_EDGE_HELLO_ROUNDS)
		flags |= SATP_EDGE_F_HELLO;
	full =
	    (flags & SATP_EDGE_F_FINAL) || e->full_asked || e->round % SATPD_EDGE_FULL_EVERY == 0;
	if (full)
		flags |= SATP_EDGE_F_FULL;
	begin(e, &wr, buf, flags);
	for (i = 0; w->index && i < cap; i++) {
		if (satpd_windows_export(w, i, &key, &r.top, r.bits, &r.nbits))
			continue;
		r.mux = (uint16_t)(key >> 16);
		r.sender_id = (uint16_t)key;
		if (e->derived && r.mux != e->derived_mux)
			continue; /* the peers would refuse it: the key is that connection's */
		h = record_hash(key, &r);
		if (!full && i < e->n_sent && e->sent[i] == h)
			continue;
		if (satp_edge_add(&wr, &r) == -ENOSPC) {
			flush(e, &wr);
			begin(e, &wr, buf, flags);
			satp_edge_add(&wr, &r); /* any one record fits an empty message */
		}
		if (i < e->n_sent)
			e->sent[i] = h;
	}
	flush(e, &wr);
	e->round++;
	e->full_asked = false;
}

static void on_timer(void *ctx, int fd, short revents)
{
	uint64_t expirations;

	if (read(fd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;
	send_round(ctx, 0);
}

void satpd_edge_final(struct satpd_edge *e)
{
	if (e->fd < 0)
		return;
	send_round(e, SATP_EDGE_F_FINAL);
	log_notice("edge: final window round sent to %u peer edge%s", e->n_peers,
		   e->n_peers == 1 ? "" : "s");
}

/* ---------------------------------------------------------------- receiving */

static const struct satpd_edge_peer *find_peer(const struct satpd_edge *e,
					       const struct sockaddr_storage *src)
{
	unsigned int i;

	for (i = 0; i < e->n_peers; i++)
		if (satpd_same_addr(&e->peers[i].addr, src))
			return &e->peers[i];
	return NULL;
}

static struct satpd_edge_seen *find_seen(struct satpd_edge *e, uint16_t id)
{
	struct satpd_edge_seen *free_slot = NULL;
	unsigned int i;

	for (i = 0; i < SATPD_EDGE_PEERS_MAX; i++) {
		if (e->seen[i].used && e->seen[i].id == id)
			return &e->seen[i];
		if (!e->seen[i].used && !free_slot)
			free_slot = &e->seen[i];
	}
	if (free_slot)
		*free_slot = (struct satpd_edge_seen){.used = true, .id = id};
	return free_slot;
}

static void count_verdict(struct satpd_edge *e, enum satp_edge_verdict v)
{
	switch (v) {
	case SATP_EDGE_SHORT:
		e->ctr.edge_drop_short++;
		break;
	case SATP_EDGE_BAD_MAGIC:
		e->ctr.edge_drop_bad_magic++;
		break;
	case SATP_EDGE_BAD_TAG:
		e->ctr.edge_drop_bad_tag++;
		break;
	case SATP_EDGE_MALFORMED:
		e->ctr.edge_drop_malformed++;
		break;
	case SATP_EDGE_OK:
	case SATP_EDGE_VERDICTS:
		break;
	}
}

static void apply(struct satpd_edge *e, const struct satp_edge_record *r)
{
	struct satpd *d = e->d;
	struct satpd_conn *conn;
	int ret;

	e->ctr.edge_rx_records++;
	conn = e->derived && r->mux != e->derived_mux ? NULL : satpd_conns_get(d, r->mux);
	if (!conn || !conn->cfg.window) {
		e->ctr.edge_rx_skipped++;
		return;
	}
	ret = satpd_windows_merge(&d->windows, r->mux, r->sender_id, conn->cfg.window, r->top,
				  r->bits, r->nbits);
	if (ret > 0)
		e->ctr.edge_rx_merged++;
	else if (ret < 0)
		e->ctr.edge_rx_skipped++;
}

/* The stamp is the message's replay protection: above the last of its edge, near our clock. */
static struct satpd_edge_seen *fresh(struct satpd_edge *e, const struct satp_edge_hdr *h,
				     const char *from)
{
	uint64_t now = satpd_real_ns();
	struct satpd_edge_seen *s;

	if (h->stamp > now + SATP_EDGE_SKEW_NS || h->stamp + SATP_EDGE_SKEW_NS < now) {
		e->ctr.edge_drop_stale++;
		LOG_RATELIMITED(SATPD_LOG_WARNING,
				"edge: message of edge %u from %s dropped: its stamp is more than "
				"a minute off this clock (NTP?)",
				h->edge_id, from);
		return NULL;
	}
	s = find_seen(e, h->edge_id);
	if (!s) {
		e->ctr.edge_drop_peers_full++;
		LOG_RATELIMITED(SATPD_LOG_WARNING,
				"edge: message of edge %u from %s dropped: more edge ids than "
				"peers configured",
				h->edge_id, from);
		return NULL;
	}
	if (h->stamp <= s->stamp) {
		e->ctr.edge_drop_replayed++;
		LOG_RATELIMITED(SATPD_LOG_WARNING,
				"edge: message of edge %u from %s dropped: replayed (stamp %" PRIu64
				" not above %" PRIu64 ")",
				h->edge_id, from, h->stamp, s->stamp);
		return NULL;
	}
	return s;
}

/*
 * An authentic message with this edge's id: our own reflected, or another
 * edge's that uses our sender id under the same keys. The latter sends what we
 * send with the same keys, mux, sender id and (overlapping) seqs: keystream
 * reuse. Sending under static keys stops (core.h: tx_halted_sender, counted
 * as tx_edge_twin) until a restart; receiving goes on.
 */
static void own_id(struct satpd_edge *e, const struct satp_edge_hdr *h, const char *from)
{
	uint64_t now = satpd_real_ns();

	if (h->stamp > now + SATP_EDGE_SKEW_NS || h->stamp + SATP_EDGE_SKEW_NS < now ||
	    satp_edge_self_check(e->sent_stamps, h->stamp) != SATP_EDGE_SELF_TWIN) {
		e->ctr.edge_drop_self++;
		LOG_RATELIMITED(SATPD_LOG_WARNING,
				"edge: message from %s carries this edge's own id %u and a stamp "
				"of ours (reflected) or too old to tell: dropped",
				from, h->edge_id);
		return;
	}
	e->ctr.edge_twin_id++;
	if (atomic_exchange(&e->d->tx_halted_sender, (uint32_t)e->id + 1) == (uint32_t)e->id + 1)
		return;
	log_err("edge: the edge at %s sends as this edge's id %u under the same key: both "
		"would send with the same keys, mux, sender id and sequence numbers (keystream "
		"reuse). Static-key sending with sender id %u stops until satpd restarts: give "
		"every edge its own -s",
		from, h->edge_id, h->edge_id);
}

static void receive_one(struct satpd_edge *e, const uint8_t *buf, size_t len,
			const struct sockaddr_storage *src)
{
	const struct satpd_edge_peer *p = find_peer(e, src);
	enum satp_edge_verdict v;
	struct satpd_edge_seen *s;
	struct satp_edge_hdr h;
	unsigned int i, n;
	bool first;

	if (!p) {
		e->ctr.edge_drop_unknown_peer++;
		LOG_RATELIMITED(SATPD_LOG_WARNING, "edge: message from an address that is no "
						   "--peer-edge: dropped");
		return;
	}
	v = len > SATP_EDGE_MSG_MAX
		? SATP_EDGE_SHORT
		: satp_edge_open(e->mac, buf, len, &h, e->recs, SATP_EDGE_RECS_MAX, &n);
	if (v != SATP_EDGE_OK) {
		count_verdict(e, v);
		LOG_RATELIMITED(SATPD_LOG_WARNING, "edge: message from %s dropped: %s", p->name,
				satp_edge_verdict_name(v));
		return;
	}
	if (h.edge_id == e->id) {
		own_id(e, &h, p->name);
		return;
	}
	s = fresh(e, &h, p->name);
	if (!s)
		return;
	first = !s->heard_ms;
	s->stamp = h.stamp;
	s->heard_ms = satpd_mono_ms();
	e->ctr.edge_rx_msgs++;
	if (first)
		log_notice("edge: receiving replay windows from edge %u at %s", h.edge_id, p->name);
	if (h.flags & SATP_EDGE_F_HELLO)
		e->full_asked = true;
	for (i = 0; i < n; i++)
		apply(e, &e->recs[i]);
	if (h.flags & SATP_EDGE_F_FINAL)
		log_notice("edge: edge %u at %s stopped; its final windows are merged", h.edge_id,
			   p->name);
}

static void on_message(void *ctx, int fd, short revents)
{
	struct satpd_edge *e = ctx;
	uint8_t buf[SATP_EDGE_MSG_MAX];
	struct sockaddr_storage src;
	socklen_t slen;
	unsigned int i;
	ssize_t len;

	for (i = 0; i < SATPD_EDGE_RX_BATCH; i++) {
		slen = sizeof(src);
		memset(&src, 0, sizeof(src));
		len = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC,
			       (struct sockaddr *)&src, &slen);
		if (len < 0)
			break;
		receive_one(e, buf, (size_t)len, &src);
	}
}

int64_t satpd_edge_last_heard_ms(const struct satpd_edge *e)
{
	int64_t last = 0;
	unsigned int i;

	for (i = 0; i < SATPD_EDGE_PEERS_MAX; i++)
		if (e->seen[i].used && e->seen[i].heard_ms > last)
			last = e->seen[i].heard_ms;
	return last ? satpd_mono_ms() - last : -1;
}

/* ---------------------------------------------------------------- setup */

static int resolve(const char *text, int family, struct sockaddr_storage *out, socklen_t *len)
{
	struct addrinfo hints = {
	    .ai_socktype = SOCK_DGRAM, .ai_family = family, .ai_flags = AI_NUMERICSERV};
	char host[SATPD_HOST_MAX], port[8], err[SATPD_HOST_MAX + 128];
	struct addrinfo *res;
	uint16_t v;
	int ret;

	/* --edge-listen and --peer-edge were checked as HOST:PORT when parsed. */
	if (satp_hostport_parse(text, 0, host, sizeof(host), &v, err, sizeof(err))) {
		log_err("edge: %s", err);
		return -EINVAL;
	}
	snprintf(port, sizeof(port), "%u", v);
	ret = getaddrinfo(host, port, &hints, &res);
	if (ret) {
		log_err("edge: cannot resolve '%s': %s", text, gai_strerror(ret));
		return -EINVAL;
	}
	memcpy(out, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int load_key(struct satpd_edge *e, const struct satpd_config *c,
		    uint8_t key[SATP_EDGE_KEY_LEN])
{
	const struct satp_keys *k = &c->conns[0].keys;
	char err[SATPD_PATH_MAX + 128];

	if (c->edge_key_file[0]) {
		_Static_assert(KEYFILE_KEY_LEN == SATP_EDGE_KEY_LEN, "a satp genkey key");
		if (keyfile_read_private(c->edge_key_file, key, err, sizeof(err))) {
			log_err("edge: %s", err);
			return -EINVAL;
		}
		return 0;
	}
	e->derived = true;
	e->derived_mux = c->conns[0].mux;
	log_notice("edge: exchange key derived from the master key of mux %u (HKDF-SHA256, "
		   "label '%s'): whoever holds that key can speak to --edge-listen; "
		   "give --edge-key for a cluster key of its own",
		   e->derived_mux, SATP_EDGE_KDF_LABEL);
	return satp_edge_derive_key(k->master_key, k->master_key_len, k->master_salt, key);
}

static int open_socket(struct satpd_edge *e, const struct satpd_config *c)
{
	struct sockaddr_storage a;
	socklen_t alen;
	unsigned int i;
	int ret;

	ret = resolve(c->edge_listen, AF_UNSPEC, &a, &alen);
	if (ret)
		return ret;
	e->fd = socket(a.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (e->fd < 0 || bind(e->fd, (struct sockaddr *)&a, alen) < 0) {
		ret = -errno;
		log_err("edge: cannot listen on '%s': %s", c->edge_listen, strerror(errno));
		return ret;
	}
	for (i = 0; i < c->n_edge_peers; i++) {
		ret = resolve(c->edge_peers[i], a.ss_family, &e->peers[i].addr, &e->peers[i].len);
		if (ret)
			return ret;
		e->peers[i].name = c->edge_peers[i];
		e->n_peers++;
	}
	return 0;
}

static int open_timer(struct satpd_edge *e, unsigned int ms)
{
	struct itimerspec its = {
	    .it_interval = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000},
	};

	its.it_value = its.it_interval;
	e->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (e->tfd < 0 || timerfd_settime(e->tfd, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

int satpd_edge_open(struct satpd *d, struct satpd_edge *e)
{
	const struct satpd_config *c = d->cfg;
	uint8_t key[SATP_EDGE_KEY_LEN];
	int ret;

	memset(e, 0, sizeof(*e));
	e->fd = e->tfd = -1;
	e->d = d;
	if (!c->n_edge_peers)
		return 0;
	e->id = c->sync_base.sender_id;
	ret = load_key(e, c, key);
	if (!ret)
		ret = satp_edge_mac_new(&e->mac, key);
	explicit_bzero(key, sizeof(key));
	if (ret)
		goto err;
	e->n_sent = 1u << d->windows.bits;
	e->sent = calloc(e->n_sent, sizeof(*e->sent));
	e->recs = calloc(SATP_EDGE_RECS_MAX, sizeof(*e->recs));
	e->sent_stamps = calloc(1, sizeof(*e->sent_stamps));
	if (!e->sent || !e->recs || !e->sent_stamps) {
		ret = -ENOMEM;
		goto err;
	}
	ret = open_socket(e, c);
	if (!ret)
		ret = open_timer(e, c->edge_interval_ms);
	if (!ret)
		ret = satpd_add_poll_hook(d, e->fd, POLLIN, on_message, e);
	if (!ret)
		ret = satpd_add_poll_hook(d, e->tfd, POLLIN, on_timer, e);
	if (ret)
		goto err;
	log_notice("edge: exchanging replay windows every %u ms as edge %u, on %s, with %u peer "
		   "edge%s",
		   c->edge_interval_ms, e->id, c->edge_listen, e->n_peers,
		   e->n_peers == 1 ? "" : "s");
	return 0;
err:
	log_err("edge: window exchange not set up: %s", strerror(-ret));
	satpd_edge_close(e);
	return ret;
}

void satpd_edge_close(struct satpd_edge *e)
{
	if (e->fd >= 0)
		close(e->fd);
	if (e->tfd >= 0)
		close(e->tfd);
	satp_edge_mac_free(e->mac);
	free(e->sent);
	free(e->recs);
	free(e->sent_stamps);
	memset(e, 0, sizeof(*e));
	e->fd = e->tfd = -1;
}

void satpd_edge_counters_dump(const struct satpd_edge *e)
{
	int64_t heard = satpd_edge_last_heard_ms(e);

	log_notice(
	    "edge window exchange (%u peer%s, last message %s%" PRId64 " ms ago):", e->n_peers,
	    e->n_peers == 1 ? "" : "s", heard < 0 ? "never: " : "", heard < 0 ? 0 : heard);
#define X(name) log_notice("  %-18s %" PRIu64, #name, e->ctr.name);
	SATPD_EDGE_COUNTERS(X)
#undef X
}
