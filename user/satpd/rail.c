// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "ctl_proto.h"
#include "datapath.h"
#include "endpoint.h"
#include "log.h"
#include "rail.h"

static void path_write(struct satpd_rail_path *p, const struct satpd_peer_addr *a, int sock)
{
	pthread_mutex_lock(&p->lock);
	satpd_seqlock_write_begin(&p->seq);
	p->remote = *a;
	p->sock = sock;
	satpd_seqlock_write_end(&p->seq);
	pthread_mutex_unlock(&p->lock);
}

/* A consistent copy of the path's remote without a lock; sock -1: none known yet. Returns its gen.
 */
static uint32_t path_read(struct satpd_rail_path *p, struct satpd_peer_addr *a, int *sock)
{
	uint32_t gen;

	do {
		gen = satpd_seqlock_read_begin(&p->seq);
		*a = p->remote;
		*sock = p->sock;
	} while (satpd_seqlock_read_retry(&p->seq, gen));
	return gen;
}

/* Path i's remote from -r (its host, its port), or none yet (learned). */
static int path_remote(struct satpd_rail *rail, struct satpd_rail_path *p)
{
	const struct satpd *d = rail->d;
	const struct satpd_config *c = d->cfg;
	struct satpd_endpoint r = c->conns[0].remote;
	struct satpd_peer_addr a;
	char s[64];
	int ret;

	if (c->n_rail_hosts > 1)
		snprintf(r.host, sizeof(r.host), "%s", c->rail_hosts[p->host]);
	if (!r.host[0]) {
		log_notice("RAIL path %u: local port %u, remote learned",
			   (unsigned int)(p - rail->path), p->lport);
		return 0;
	}
	ret = satpd_udp_resolve_remote(&d->udp, c, &r, &a);
	if (ret)
		return ret;
	satpd_addr_set_port(&a.sa, p->rport);
	p->remote = a;
	p->sock = satpd_udp_sock_for_port(&d->udp, a.sa.ss_family, p->lport);
	log_notice("RAIL path %u: local port %u -> %s", (unsigned int)(p - rail->path), p->lport,
		   satpd_addr_str(&a.sa, s, sizeof(s)));
	return 0;
}

int satpd_rail_init(struct satpd *d, struct satpd_rail **out)
{
	const struct satpd_config *c = d->cfg;
	const struct satpd_endpoint *r = &c->conns[0].remote;
	struct satpd_rail *rail;
	unsigned int nl = (unsigned int)c->local.port_hi - c->local.port_lo + 1u;
	unsigned int nr = (unsigned int)r->port_hi - r->port_lo + 1u;
	unsigned int pairs = nl > nr ? nl : nr;
	unsigned int hosts = c->n_rail_hosts > 1 ? c->n_rail_hosts : 1;
	unsigned int i;
	int ret;

	/* Always there (n 0 without RAIL), so that its readers need no NULL check. */
	rail = calloc(1, sizeof(*rail));
	if (!rail)
		return -ENOMEM;
	rail->d = d;
	*out = rail;
	if (!c->rail)
		return 0;
	rail->n = pairs * hosts;
	for (i = 0; i < rail->n; i++) {
		struct satpd_rail_path *p = &rail->path[i];

		p->host = (uint8_t)(i / pairs);
		p->lport = (uint16_t)(c->local.port_lo + i % pairs % nl);
		p->rport = (uint16_t)(r->port_lo + i % pairs % nr);
		p->sock = -1;
		pthread_mutex_init(&p->lock, NULL);
		ret = path_remote(rail, p);
		if (ret)
			return ret;
	}
	log_notice("RAIL: %u paths, every datagram sent on each", rail->n);
	return 0;
}

void satpd_rail_free(struct satpd_rail *r)
{
	unsigned int i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		pthread_mutex_destroy(&r->path[i].lock);
	free(r);
}

/*
 * The path that fits a datagram best: the local port it came to counts most
 * (with a -p range it names the path; a learned peer may send from any port),
 * then the remote's address (a host per link), then its port.
 */
#define FIT_LPORT 4
#define FIT_ADDR  2
#define FIT_RPORT 1

int satpd_rail_path_of(const struct satpd_rail *r, int sock, const struct sockaddr_storage *src)
{
	const struct satpd *d = r->d;
	uint16_t lport, rport = satpd_addr_port(src);
	int best = 0, best_fit = -1, fit, s;
	struct satpd_peer_addr a;
	unsigned int i;

	if (!r->n || sock < 0 || sock >= (int)d->udp.n)
		return -1;
	lport = d->udp.port[sock];
	for (i = 0; i < r->n; i++) {
		struct satpd_rail_path *p = (struct satpd_rail_path *)&r->path[i];

		path_read(p, &a, &s);
		fit = (p->lport == lport ? FIT_LPORT : 0) + (p->rport == rport ? FIT_RPORT : 0);
		if (s >= 0 && satpd_same_host(&a.sa, src))
			fit += FIT_ADDR;
		if (fit == FIT_LPORT + FIT_ADDR + FIT_RPORT)
			return (int)i;
		if (fit > best_fit) {
			best_fit = fit;
			best = (int)i;
		}
	}
	return best;
}

void satpd_rail_seen(struct satpd_rail *r, int path, bool first)
{
	struct satpd_rail_path *p;

	if (path < 0)
		return;
	p = &r->path[path];
	atomic_fetch_add_explicit(&p->rx, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(first ? &p->first : &p->dups, 1, memory_order_relaxed);
	atomic_store_explicit(&p->last_seen_unix_s, (int64_t)time(NULL), memory_order_relaxed);
}

void satpd_rail_learn(struct satpd_rail *r, int path, const struct sockaddr_storage *src,
		      socklen_t srclen, int sock)
{
	struct satpd_rail_path *p;
	struct satpd_peer_addr a;
	int cur_sock;
	char s[64];

	if (path < 0)
		return;
	p = &r->path[path];
	path_read(p, &a, &cur_sock);
	if (cur_sock == sock && satpd_same_addr(&a.sa, src))
		return;
	memset(&a, 0, sizeof(a));
	memcpy(&a.sa, src, srclen);
	a.len = srclen;
	path_write(p, &a, sock);
	LOG_RATELIMITED(SATPD_LOG_NOTICE, "RAIL path %d: remote endpoint is now %s", path,
			satpd_addr_str(src, s, sizeof(s)));
}

uint32_t satpd_rail_remote(const struct satpd_rail *r, unsigned int path, struct satpd_peer_addr *a,
			   int *sock)
{
	return path_read((struct satpd_rail_path *)&r->path[path], a, sock);
}

void satpd_rail_send_batch(struct satpd_rail *r, struct satpd_worker *w,
			   const struct satpd_transport *t, struct satpd_pkt *pkts, unsigned int n)
{
	struct satpd_tx_dest dst;
	unsigned int i;

	for (i = 0; i < r->n; i++) {
		dst.index = i;
		dst.gen = path_read(&r->path[i], &dst.addr, &dst.sock);
		if (dst.sock < 0 || dst.sock >= (int)r->d->udp.n)
			continue;
		atomic_fetch_add_explicit(&r->path[i].tx, t->send_to(t->ctx, w, &dst, pkts, n),
					  memory_order_relaxed);
	}
	for (i = 0; i < n; i++)
		pkts[i].len = 0;
}

void satpd_rail_remote_str(const struct satpd_rail *r, unsigned int path, char *buf, size_t len)
{
	struct satpd_rail_path *p = (struct satpd_rail_path *)&r->path[path];
	struct satpd_peer_addr a;
	int sock;

	path_read(p, &a, &sock);
	if (sock < 0 || !len)
		snprintf(buf, len, "%s", "");
	else
		satpd_addr_str(&a.sa, buf, len);
}

void satpd_rail_read(const struct satpd_rail *r, unsigned int path, struct satp_ctl_path *out)
{
	const struct satpd_rail_path *p = &r->path[path];
	struct satp_xdp_path_stats xs = {0};

	memset(out, 0, sizeof(*out));
	out->local_port = p->lport;
	satpd_rail_remote_str(r, path, out->remote, sizeof(out->remote));
	if (r->xdp.path_stats)
		r->xdp.path_stats(r->xdp.ctx, path, &xs);
	/* satp_rx's drops never reached us: received and duplicates both. */
	out->rx = atomic_load(&p->rx) + xs.dropped;
	out->first = atomic_load(&p->first);
	out->dups = atomic_load(&p->dups) + xs.dropped;
	out->tx = atomic_load(&p->tx);
	out->last_seen = atomic_load(&p->last_seen_unix_s);
	out->xdp_seen = xs.seen;
	out->xdp_dropped = xs.dropped;
	/* pre-auth (a spoofed source tuple moves it): reported apart, never as last_seen */
	out->xdp_last_seen = xs.last_ns ? satpd_mono_ns_to_unix_s(xs.last_ns) : 0;
}

void satpd_rail_dump(const struct satpd_rail *r)
{
	struct satp_ctl_path c;
	unsigned int i;

	for (i = 0; i < r->n; i++) {
		satpd_rail_read(r, i, &c);
		log_notice("  rail path %u (port %u->%u): rx %" PRIu64 " first %" PRIu64
			   " dups %" PRIu64 " tx %" PRIu64 " last seen %" PRId64
			   " (XDP: seen %" PRIu64 ", dropped %" PRIu64 ")",
			   i, r->path[i].lport, r->path[i].rport, c.rx, c.first, c.dups, c.tx,
			   c.last_seen, c.xdp_seen, c.xdp_dropped);
	}
}
