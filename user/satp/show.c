// SPDX-License-Identifier: GPL-2.0-only
/*
 * satp show [IFNAME] [--json]: the XDP state pinned under
 * <pin-root>/satpd/<ifname>/ (read directly, so it works without a daemon)
 * and, from each daemon's control socket, what only the daemon knows. The
 * JSON keys are stable and documented in satp.8; add keys, never rename.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "satp_cmd.h"
#include "satp_hs_wire.h"
#include "xdp_query.h"
#include "state.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: satp show [IFNAME] [--json] [--pin-root DIR] [--run-dir DIR] "
		"[--socket PATH]\n\n"
		"Show the XDP state pinned for IFNAME (default: every interface under\n"
		"<pin-root>/satpd/ or a running satpd's) and what the satpd serving it reports.\n\n"
		"  --json           machine-readable output (keys: satp(8))\n"
		"  --pin-root DIR   read the maps under DIR only (default: where each running\n"
		"                   satpd says it pinned them, else /sys/fs/bpf)\n"
		"  --run-dir DIR    where satpd's control sockets are (default /run/satpd,\n"
		"                   or $SATP_RUN_DIR)\n"
		"  --socket PATH    ask only this control socket\n");
}

/* ---------------------------------------------------------------- routes */

/* The routing table read back from the pinned tries (satp_xdp.h), one interface at a time. */
struct route_list {
	unsigned int n, cap;
	struct shown_route {
		uint16_t mux;
		char text[INET6_ADDRSTRLEN + 4];
	} * r;
	int err;
};

static int add_route(void *ctx, int family, const uint8_t *addr, unsigned int len, uint16_t mux)
{
	struct route_list *l = ctx;
	char a[INET6_ADDRSTRLEN];

	if (l->n == l->cap) {
		unsigned int cap = l->cap ? 2 * l->cap : 64;
		struct shown_route *r = realloc(l->r, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		l->r = r;
		l->cap = cap;
	}
	l->r[l->n].mux = mux;
	snprintf(l->r[l->n].text, sizeof(l->r[l->n].text), "%s/%u",
		 inet_ntop(family, addr, a, sizeof(a)) ? a : "?", len);
	l->n++;
	return 0;
}

static int cmp_route(const void *a, const void *b)
{
	const struct shown_route *x = a, *y = b;

	return x->mux != y->mux ? (x->mux < y->mux ? -1 : 1) : strcmp(x->text, y->text);
}

static void read_routes(const struct satp_xdp_view *v, struct route_list *l)
{
	memset(l, 0, sizeof(*l));
	l->err = satp_xdp_view_routes(v->pin_dir, add_route, l);
	if (l->n) /* no routes: l->r is NULL, which qsort must not get */
		qsort(l->r, l->n, sizeof(*l->r), cmp_route);
}

static void print_routes(const struct route_list *l, uint16_t mux)
{
	unsigned int i, lo = 0, hi = l->n, shown = 0;

	/* Sorted by mux (read_routes): from the first of mux, not over every route each time. */
	while (lo < hi) {
		i = lo + (hi - lo) / 2;
		if (l->r[i].mux < mux)
			lo = i + 1;
		else
			hi = i;
	}
	for (i = lo; i < l->n && l->r[i].mux == mux; i++)
		printf("%s%s", shown++ ? ", " : "    routes: ", l->r[i].text);
	if (shown)
		printf("\n");
}

/* ---------------------------------------------------------------- human */

static void ago(char *buf, size_t len, int64_t when)
{
	int64_t d = (int64_t)time(NULL) - when;

	if (!when)
		snprintf(buf, len, "never");
	else if (d < 120)
		snprintf(buf, len, "%" PRId64 " s ago", d);
	else if (d < 7200)
		snprintf(buf, len, "%" PRId64 " min ago", d / 60);
	else
		snprintf(buf, len, "%" PRId64 " h ago", d / 3600);
}

static void print_addrs(const struct satp_xdp_config *c)
{
	char a[INET6_ADDRSTRLEN];
	const char *sep = "";
	unsigned int i;

	printf("  local addresses: ");
	if (c->flags & SATP_XDP_ANY_ADDR4)
		printf("%sany IPv4", sep), sep = ", ";
	if (c->flags & SATP_XDP_ANY_ADDR6)
		printf("%sany IPv6", sep), sep = ", ";
	for (i = 0; i < c->n_addr4 && i < SATP_XDP_MAX_ADDRS; i++)
		printf("%s%s", sep, inet_ntop(AF_INET, &c->addr4[i], a, sizeof(a))), sep = ", ";
	for (i = 0; i < c->n_addr6 && i < SATP_XDP_MAX_ADDRS; i++)
		printf("%s%s", sep, inet_ntop(AF_INET6, c->addr6[i], a, sizeof(a))), sep = ", ";
	printf("%s\n", *sep ? "" : "none");
}

/* The budgets satp_rx applies (handshakes, all sources', unverified senders): 0 in satp_cfg is the default. */
static unsigned int or_default(uint32_t v, unsigned int def)
{
	return v ? v : def;
}

static void print_xdp(const struct satp_xdp_view *v)
{
	const struct satp_xdp_config *c = &v->cfg;
	int i;

	printf("  xdp: %s, %s, satp_rx prog id %u\n",
	       satp_xdp_mode_name((enum satp_xdp_attach_mode)c->attach_mode),
	       c->attach_flags & SATP_XDP_ATTACH_DISPATCHER ? "through libxdp's dispatcher"
							    : "plain attach (no dispatcher)",
	       c->prog_id);
	if (!v->if_exists)
		printf("  kernel: interface %s does not exist here\n", v->ifname);
	else
		printf("  kernel: %s, prog id %u: %s\n", satp_xdp_mode_name(v->kernel_mode),
		       v->kernel_prog_id,
		       satp_xdp_view_attached(v)
			   ? "satp_rx attached"
			   : "satp_rx NOT attached (maps left from an earlier run)");
	printf("  rx queues: %u; AF_XDP sockets: ", v->rx_queues);
	if (v->n_xsks < 0)
		printf("not listed by this kernel (no xsk_diag; satpd's below)\n");
	else if (!v->n_xsks)
		printf("none (SATP is dropped: drop-no-socket)\n");
	else
		for (i = 0; i < v->n_xsks; i++)
			printf("queue %u (inode %u)%s", v->xsks[i].queue, v->xsks[i].inode,
			       i + 1 < v->n_xsks ? ", " : "\n");
	print_addrs(c);
	printf("  handshakes (mux %u) to the UDP socket: %u a second per source address, bursts of "
	       "%u\n",
	       (unsigned int)SATP_HS_MUX, or_default(c->hs_pps, SATP_HS_RATELIMIT_PPS),
	       or_default(c->hs_burst, SATP_HS_RATELIMIT_BURST));
	printf("  handshakes of all sources: %u a second, bursts of %u, half kept for sources "
	       "within their budget\n",
	       or_default(c->hs_ceiling_pps, SATP_HS_CEILING_PPS),
	       or_default(c->hs_ceiling_burst, SATP_HS_CEILING_BURST));
	printf("  senders without a window yet: %u a second per connection, bursts of %u\n",
	       or_default(c->unv_pps, SATP_XDP_UNVERIFIED_PPS),
	       or_default(c->unv_burst, SATP_XDP_UNVERIFIED_BURST));
}

static void print_senders(const struct satp_xdp_view *v, uint16_t mux)
{
	unsigned int i;

	for (i = 0; i < v->n_senders; i++) {
		const struct satp_xdp_view_sender *s = &v->senders[i];

		if (s->mux != mux)
			continue;
		printf("    sender %u: ", s->sender_id);
		if (s->valid)
			printf("window top %u (size %u)", s->top, s->size);
		else
			printf("window empty");
		/* XDP counts before any tag is checked: a forged datagram moves these too */
		printf(", pre-auth rx %" PRIu64 " packets %" PRIu64 " bytes, %" PRIu64
		       " replay drops\n",
		       (uint64_t)s->stats.rx_packets, (uint64_t)s->stats.rx_bytes,
		       (uint64_t)s->stats.rx_dropped);
	}
}

static void print_counters(const char *indent, const struct satp_ctl_counter *c, uint32_t n)
{
	uint32_t i, shown = 0;

	for (i = 0; i < n; i++) {
		if (!c[i].value)
			continue;
		printf("%s%s%s %" PRIu64, shown ? ", " : indent,
		       shown ? "" : "counters: ", c[i].name, c[i].value);
		shown++;
	}
	if (shown)
		printf("\n");
}

static void print_daemon_conn(const struct satp_ctl_conn *c)
{
	char learned[32], last[32];
	uint32_t i;

	ago(learned, sizeof(learned), c->remote_learned);
	ago(last, sizeof(last), c->last_rx);
	printf("    role %s, sender id %u, cipher %s, auth %s (tag %u), kd-prf %s, window %u\n",
	       c->role, c->sender_id, c->cipher, c->auth, c->tag_len, c->kd_prf, c->window);
	printf("    remote %s%s%s%s, seq out %" PRIu64 "\n", c->remote[0] ? c->remote : "unknown",
	       c->remote_learned ? " (learned " : "", c->remote_learned ? learned : "",
	       c->remote_learned ? ")" : "", c->seq_out);
	printf("    rx %" PRIu64 " packets %" PRIu64 " bytes, tx %" PRIu64 " packets %" PRIu64
	       " bytes, last rx %s\n",
	       c->rx_packets, c->rx_bytes, c->tx_packets, c->tx_bytes, last);
	print_counters("    ", c->counters, c->n_counters);
	for (i = 0; i < c->n_senders; i++)
		printf("%s%u:%u%s",
		       i ? ", " : "    window tops (satpd, sender:top): ", c->senders[i].id,
		       c->senders[i].window_top, i + 1 == c->n_senders ? "\n" : "");
}

/* RAIL: one line per path, so that the bad link stands out. */
static void print_paths(const struct satp_ctl_snapshot *s)
{
	uint32_t i;
	char seen[32], xseen[32];

	for (i = 0; i < s->n_paths; i++) {
		const struct satp_ctl_path *p = &s->paths[i];

		ago(seen, sizeof(seen), p->last_seen);
		ago(xseen, sizeof(xseen), p->xdp_last_seen);
		/* XDP judges a copy by its source tuple alone: what it counts is pre-auth */
		printf("  rail path %u: local port %u -> %s: rx %" PRIu64 ", first %" PRIu64
		       ", duplicates dropped %" PRIu64 " (%" PRIu64 " pre-auth in XDP), tx %" PRIu64
		       ", last authenticated %s; pre-auth in XDP: %" PRIu64 " seen, last %s\n",
		       i, p->local_port, p->remote[0] ? p->remote : "(not learned)", p->rx,
		       p->first, p->dups, p->xdp_dropped, p->tx, seen, p->xdp_seen, xseen);
	}
}

/* What the daemon picked up from its last run: the proof of a restart without a gap. */
static void print_restart(const struct satp_ctl_snapshot *s)
{
	const char *xdp = "no XDP";
	uint32_t i;

	if (s->xdp_program[0])
		xdp = strcmp(s->xdp_program, "taken-over") ? "satp_rx attached fresh"
							   : "satp_rx taken over";
	printf("  restart: %s, adopted %u window%s", xdp, s->windows_adopted,
	       s->windows_adopted == 1 ? "" : "s");
	for (i = 0; i < s->n_conns; i++) {
		const struct satp_ctl_conn *c = &s->conns[i];

		printf(", seq %s %llu (mux %u)", c->seq_resumed ? "resumed at" : "fresh from",
		       (unsigned long long)c->seq_resumed, c->mux);
	}
	printf("%s%s\n", s->state_dir[0] ? ", state in " : "", s->state_dir);
}

/* The data path asked for and the one obtained: a fallback says why. */
static void print_xdp_mode(const struct satp_ctl_snapshot *s)
{
	if (!s->xdp_mode_requested[0])
		return; /* an older daemon */
	printf("  xdp mode: requested %s%s, obtained %s", s->xdp_mode_requested,
	       s->xdp_mode_explicit ? "" : " (default)", s->xdp_mode_obtained);
	if (s->xdp_fallback[0])
		printf(", FELL BACK: %s", s->xdp_fallback);
	printf("\n");
}

static void print_daemon(const struct satp_daemon *d)
{
	unsigned int q;
	char up[32];

	ago(up, sizeof(up), d->snap.started);
	printf("  satpd: pid %d, version %s, device %s, rx path %s, started %s, socket %s\n",
	       d->snap.pid, d->snap.version, d->snap.dev, d->snap.rx_path, up, d->path);
	if (d->snap.xsk_queues) {
		printf("  AF_XDP sockets (satpd): queue");
		for (q = 0; q < 64; q++)
			if (d->snap.xsk_queues & (1ull << q))
				printf(" %u", q);
		printf(" of %u workers\n", d->snap.workers);
	}
	print_xdp_mode(&d->snap);
	print_restart(&d->snap);
	print_counters("  ", d->snap.counters, d->snap.n_counters);
	print_paths(&d->snap);
}

static void print_reasons(const struct satp_xdp_view *v)
{
	unsigned int r, zero = 0;

	printf("  xdp verdicts:            packets          bytes\n");
	for (r = 0; r < SATP_XDP_REASON_MAX; r++) {
		if (!v->counters[r].packets) {
			zero++;
			continue;
		}
		printf("    %-18s %12llu %14llu\n", satp_xdp_reason_names[r],
		       (unsigned long long)v->counters[r].packets,
		       (unsigned long long)v->counters[r].bytes);
	}
	if (zero)
		printf("    (%u other reasons at 0)\n", zero);
}

static void print_iface(const struct satp_state *st, const struct satp_iface *f)
{
	/* By mux, so that matching is one pass (there may be 65536): daemon's position + 1. */
	static uint32_t dpos[UINT16_MAX + 1];
	static bool in_xdp[UINT16_MAX + 1];
	const struct satp_xdp_view *v = f->view;
	struct route_list routes;
	unsigned int i;

	printf("interface: %s\n", f->ifname);
	printf("  pinned maps: %s\n", v->pin_dir);
	print_xdp(v);
	if (f->daemon)
		print_daemon(f->daemon);
	else
		printf("  satpd: not running (no control socket under %s answers for %s)\n",
		       st->run_dir, f->ifname);
	read_routes(v, &routes);
	if (routes.err)
		printf("  routes: not readable from the pinned tries: %s\n", strerror(-routes.err));
	else
		printf("  routes: %u in the pinned tries satp_routes4/6\n", routes.n);
	memset(dpos, 0, sizeof(dpos));
	memset(in_xdp, 0, sizeof(in_xdp));
	for (i = 0; f->daemon && i < f->daemon->snap.n_conns; i++)
		dpos[f->daemon->snap.conns[i].mux] = i + 1;
	for (i = 0; i < v->n_conns; i++)
		in_xdp[v->conns[i].mux] = true;
	for (i = 0; i < v->n_conns; i++) {
		const struct satp_xdp_view_conn *c = &v->conns[i];
		const struct satp_ctl_conn *dc =
		    dpos[c->mux] ? &f->daemon->snap.conns[dpos[c->mux] - 1] : NULL;

		printf("\n  connection mux %u: tag %u bytes, window %u%s\n", c->mux, c->tag_len,
		       c->window_size,
		       c->flags & SATP_XDP_CONN_NO_PREFILTER
			   ? " (handshake keys: no XDP replay pre-filter)"
			   : "");
		print_routes(&routes, c->mux);
		if (dc)
			print_daemon_conn(dc);
		print_senders(v, c->mux);
	}
	if (f->daemon) /* connections the daemon has but XDP does not (socket path) */
		for (i = 0; i < f->daemon->snap.n_conns; i++) {
			const struct satp_ctl_conn *dc = &f->daemon->snap.conns[i];

			if (in_xdp[dc->mux])
				continue;
			printf("\n  connection mux %u (not in XDP):\n", dc->mux);
			print_routes(&routes, dc->mux);
			print_daemon_conn(dc);
		}
	printf("\n");
	print_reasons(v);
	free(routes.r);
}

static void print_daemon_only(const struct satp_daemon *d)
{
	uint32_t i;

	printf("daemon: %s\n", d->snap.dev);
	print_daemon(d);
	for (i = 0; i < d->snap.n_conns; i++) {
		printf("\n  connection mux %u:\n", d->snap.conns[i].mux);
		print_daemon_conn(&d->snap.conns[i]);
	}
}

/* ---------------------------------------------------------------- JSON */

static void json_counters(struct json *j, const char *key, const struct satp_ctl_counter *c,
			  uint32_t n)
{
	uint32_t i;

	json_open(j, key, '{');
	for (i = 0; i < n; i++)
		json_u64(j, c[i].name, c[i].value);
	json_close(j, '}');
}

static void json_daemon_conn(struct json *j, const char *key, const struct satp_ctl_conn *c)
{
	uint32_t i;

	json_open(j, key, '{');
	json_u64(j, "mux", c->mux);
	json_u64(j, "sender_id", c->sender_id);
	json_str(j, "role", c->role);
	json_str(j, "cipher", c->cipher);
	json_str(j, "auth", c->auth);
	json_str(j, "kd_prf", c->kd_prf);
	json_u64(j, "tag_len", c->tag_len);
	json_u64(j, "window", c->window);
	if (c->remote[0])
		json_str(j, "remote", c->remote);
	else
		json_null(j, "remote");
	json_i64(j, "remote_learned", c->remote_learned);
	json_u64(j, "seq_out", c->seq_out);
	json_u64(j, "rx_packets", c->rx_packets);
	json_u64(j, "rx_bytes", c->rx_bytes);
	json_u64(j, "tx_packets", c->tx_packets);
	json_u64(j, "tx_bytes", c->tx_bytes);
	json_i64(j, "last_rx", c->last_rx);
	json_u64(j, "seq_resumed", c->seq_resumed);
	json_str(j, "seq_state", c->seq_state);
	json_counters(j, "counters", c->counters, c->n_counters);
	json_open(j, "senders", '[');
	for (i = 0; i < c->n_senders; i++) {
		json_open(j, NULL, '{');
		json_u64(j, "sender_id", c->senders[i].id);
		json_u64(j, "window_top", c->senders[i].window_top);
		json_close(j, '}');
	}
	json_close(j, ']');
	json_close(j, '}');
}

/* null from an older daemon that does not say; fallback null: none. */
static void json_xdp_mode(struct json *j, const struct satp_ctl_snapshot *s)
{
	if (!s->xdp_mode_requested[0]) {
		json_null(j, "xdp_mode");
		return;
	}
	json_open(j, "xdp_mode", '{');
	json_str(j, "requested", s->xdp_mode_requested);
	json_bool(j, "explicit", s->xdp_mode_explicit);
	json_str(j, "obtained", s->xdp_mode_obtained);
	if (s->xdp_fallback[0])
		json_str(j, "fallback", s->xdp_fallback);
	else
		json_null(j, "fallback");
	json_close(j, '}');
}

static void json_daemon(struct json *j, const char *key, const struct satp_daemon *d)
{
	unsigned int q;
	uint32_t i;

	if (!d) {
		json_null(j, key);
		return;
	}
	json_open(j, key, '{');
	json_str(j, "socket", d->path);
	json_i64(j, "pid", d->snap.pid);
	json_str(j, "version", d->snap.version);
	json_str(j, "dev", d->snap.dev);
	json_str(j, "rx_path", d->snap.rx_path);
	json_str(j, "xdp_ifname", d->snap.xdp_ifname);
	json_str(j, "pin_root", d->snap.pin_root);
	json_i64(j, "started", d->snap.started);
	json_u64(j, "workers", d->snap.workers);
	json_open(j, "xsk_queues", '[');
	for (q = 0; q < 64; q++)
		if (d->snap.xsk_queues & (1ull << q))
			json_u64(j, NULL, q);
	json_close(j, ']');
	json_xdp_mode(j, &d->snap);
	json_open(j, "restart", '{');
	if (d->snap.xdp_program[0])
		json_str(j, "xdp_program", d->snap.xdp_program);
	else
		json_null(j, "xdp_program");
	json_u64(j, "windows_adopted", d->snap.windows_adopted);
	json_str(j, "state_dir", d->snap.state_dir);
	json_close(j, '}');
	json_counters(j, "counters", d->snap.counters, d->snap.n_counters);
	json_open(j, "rail_paths", '[');
	for (i = 0; i < d->snap.n_paths; i++) {
		const struct satp_ctl_path *p = &d->snap.paths[i];

		json_open(j, NULL, '{');
		json_u64(j, "local_port", p->local_port);
		if (p->remote[0])
			json_str(j, "remote", p->remote);
		else
			json_null(j, "remote");
		json_u64(j, "rx", p->rx);
		json_u64(j, "first", p->first);
		json_u64(j, "duplicates", p->dups);
		json_u64(j, "tx", p->tx);
		json_i64(j, "last_seen", p->last_seen);
		json_u64(j, "xdp_seen", p->xdp_seen);
		json_u64(j, "xdp_dropped", p->xdp_dropped);
		json_i64(j, "xdp_last_seen", p->xdp_last_seen);
		json_str(j, "xdp_counted", "pre-auth");
		json_close(j, '}');
	}
	json_close(j, ']');
	json_open(j, "connections", '[');
	for (i = 0; i < d->snap.n_conns; i++)
		json_daemon_conn(j, NULL, &d->snap.conns[i]);
	json_close(j, ']');
	json_close(j, '}');
}

static void json_addrs(struct json *j, const struct satp_xdp_config *c)
{
	char a[INET6_ADDRSTRLEN];
	unsigned int i;

	json_bool(j, "any_addr4", c->flags & SATP_XDP_ANY_ADDR4);
	json_bool(j, "any_addr6", c->flags & SATP_XDP_ANY_ADDR6);
	json_open(j, "local_addresses", '[');
	for (i = 0; i < c->n_addr4 && i < SATP_XDP_MAX_ADDRS; i++)
		json_str(j, NULL, inet_ntop(AF_INET, &c->addr4[i], a, sizeof(a)));
	for (i = 0; i < c->n_addr6 && i < SATP_XDP_MAX_ADDRS; i++)
		json_str(j, NULL, inet_ntop(AF_INET6, c->addr6[i], a, sizeof(a)));
	json_close(j, ']');
}

static void json_xsks(struct json *j, const struct satp_xdp_view *v)
{
	int i;

	if (v->n_xsks < 0) {
		json_null(j, "xsks");
		return;
	}
	json_open(j, "xsks", '[');
	for (i = 0; i < v->n_xsks; i++) {
		const struct satp_xdp_view_xsk *x = &v->xsks[i];

		json_open(j, NULL, '{');
		json_u64(j, "queue", x->queue);
		json_u64(j, "inode", x->inode);
		json_u64(j, "rx_dropped", x->rx_dropped);
		json_u64(j, "rx_invalid", x->rx_invalid);
		json_u64(j, "rx_ring_full", x->rx_full);
		json_u64(j, "fill_ring_empty", x->fill_empty);
		json_close(j, '}');
	}
	json_close(j, ']');
}

static void json_xdp_conns(struct json *j, const struct satp_xdp_view *v)
{
	unsigned int i;

	json_open(j, "connections", '[');
	for (i = 0; i < v->n_conns; i++) {
		json_open(j, NULL, '{');
		json_u64(j, "mux", v->conns[i].mux);
		json_u64(j, "tag_len", v->conns[i].tag_len);
		json_u64(j, "window", v->conns[i].window_size);
		json_bool(j, "no_prefilter", v->conns[i].flags & SATP_XDP_CONN_NO_PREFILTER);
		json_close(j, '}');
	}
	json_close(j, ']');
	json_open(j, "senders", '[');
	for (i = 0; i < v->n_senders; i++) {
		const struct satp_xdp_view_sender *s = &v->senders[i];

		json_open(j, NULL, '{');
		json_u64(j, "mux", s->mux);
		json_u64(j, "sender_id", s->sender_id);
		json_u64(j, "slot", s->slot);
		json_bool(j, "window_valid", s->valid);
		json_u64(j, "window_top", s->top);
		json_u64(j, "window_size", s->size);
		json_u64(j, "rx_packets", s->stats.rx_packets);
		json_u64(j, "rx_bytes", s->stats.rx_bytes);
		json_u64(j, "replay_drops", s->stats.rx_dropped);
		json_str(j, "counted", "pre-auth");
		json_close(j, '}');
	}
	json_close(j, ']');
}

/* null when the tries cannot be read (an older satpd pinned no route tries). */
static void json_routes(struct json *j, const struct satp_xdp_view *v)
{
	struct route_list l;
	unsigned int i;

	read_routes(v, &l);
	if (l.err) {
		json_null(j, "routes");
		free(l.r);
		return;
	}
	json_open(j, "routes", '[');
	for (i = 0; i < l.n; i++) {
		json_open(j, NULL, '{');
		json_str(j, "prefix", l.r[i].text);
		json_u64(j, "mux", l.r[i].mux);
		json_close(j, '}');
	}
	json_close(j, ']');
	free(l.r);
}

static void json_xdp(struct json *j, const struct satp_xdp_view *v)
{
	unsigned int r;

	json_open(j, "xdp", '{');
	json_str(j, "pin_dir", v->pin_dir);
	json_str(j, "mode", satp_xdp_mode_name((enum satp_xdp_attach_mode)v->cfg.attach_mode));
	json_bool(j, "dispatcher", v->cfg.attach_flags & SATP_XDP_ATTACH_DISPATCHER);
	json_u64(j, "prog_id", v->cfg.prog_id);
	json_open(j, "kernel", '{');
	json_bool(j, "ifname_exists", v->if_exists);
	json_str(j, "mode", satp_xdp_mode_name(v->kernel_mode));
	json_u64(j, "prog_id", v->kernel_prog_id);
	json_bool(j, "attached", satp_xdp_view_attached(v));
	json_close(j, '}');
	json_u64(j, "rx_queues", v->rx_queues);
	json_xsks(j, v);
	json_addrs(j, &v->cfg);
	json_open(j, "handshake_budget", '{');
	json_u64(j, "pps", or_default(v->cfg.hs_pps, SATP_HS_RATELIMIT_PPS));
	json_u64(j, "burst", or_default(v->cfg.hs_burst, SATP_HS_RATELIMIT_BURST));
	json_close(j, '}');
	json_open(j, "handshake_ceiling", '{');
	json_u64(j, "pps", or_default(v->cfg.hs_ceiling_pps, SATP_HS_CEILING_PPS));
	json_u64(j, "burst", or_default(v->cfg.hs_ceiling_burst, SATP_HS_CEILING_BURST));
	json_close(j, '}');
	json_open(j, "unverified_budget", '{');
	json_u64(j, "pps", or_default(v->cfg.unv_pps, SATP_XDP_UNVERIFIED_PPS));
	json_u64(j, "burst", or_default(v->cfg.unv_burst, SATP_XDP_UNVERIFIED_BURST));
	json_close(j, '}');
	json_xdp_conns(j, v);
	json_routes(j, v);
	json_open(j, "counters", '{');
	for (r = 0; r < SATP_XDP_REASON_MAX; r++) {
		json_open(j, satp_xdp_reason_names[r], '{');
		json_u64(j, "packets", v->counters[r].packets);
		json_u64(j, "bytes", v->counters[r].bytes);
		json_close(j, '}');
	}
	json_close(j, '}');
	json_close(j, '}');
}

static void json_state(const struct satp_state *st)
{
	struct json j;
	unsigned int i;

	json_init(&j, stdout);
	json_open(&j, NULL, '{');
	json_str(&j, "pin_root", st->pin_root);
	json_str(&j, "run_dir", st->run_dir);
	json_open(&j, "interfaces", '[');
	for (i = 0; i < st->n_ifs; i++) {
		const struct satp_iface *f = &st->ifs[i];

		if (f->err)
			continue;
		json_open(&j, NULL, '{');
		json_str(&j, "ifname", f->ifname);
		json_xdp(&j, f->view);
		json_bool(&j, "daemon_running", f->daemon != NULL);
		json_daemon(&j, "daemon", f->daemon);
		json_close(&j, '}');
	}
	json_close(&j, ']');
	json_open(&j, "daemons", '[');
	for (i = 0; i < st->n_daemons; i++)
		if (!st->daemons[i].err && satp_state_show_unmatched(st, &st->daemons[i]))
			json_daemon(&j, NULL, &st->daemons[i]);
	json_close(&j, ']');
	json_open(&j, "unreachable", '[');
	for (i = 0; i < st->n_daemons; i++) {
		if (!st->daemons[i].err || !satp_state_show_unmatched(st, &st->daemons[i]))
			continue;
		json_open(&j, NULL, '{');
		json_str(&j, "socket", st->daemons[i].path);
		json_str(&j, "error", st->daemons[i].msg);
		json_close(&j, '}');
	}
	json_close(&j, ']');
	json_close(&j, '}');
}

/* ---------------------------------------------------------------- command */

static bool daemon_dev_asked(const struct satp_state *st)
{
	unsigned int i;

	for (i = 0; st->only && i < st->n_daemons; i++)
		if (!st->daemons[i].err && !strcmp(st->daemons[i].snap.dev, st->only))
			return true;
	return false;
}

static int report_iface_errors(const struct satp_state *st, const char *only)
{
	unsigned int i;
	int bad = 0;

	for (i = 0; i < st->n_ifs; i++) {
		const struct satp_iface *f = &st->ifs[i];

		if (!f->err || f->adopted || (f->err == -ENOENT && daemon_dev_asked(st)))
			continue;
		bad++;
		if (f->err == -ENOENT && only)
			fprintf(stderr, "satp show: no satpd state for %s under %s/satpd/\n",
				f->ifname, f->pin_root);
		else
			fprintf(stderr, "satp show: cannot read the maps pinned for %s: %s\n",
				f->ifname, strerror(-f->err));
	}
	return bad;
}

static void print_state(const struct satp_state *st, int bad)
{
	unsigned int i, shown = 0;

	for (i = 0; i < st->n_ifs; i++) {
		if (st->ifs[i].err)
			continue;
		printf("%s", shown++ ? "\n" : "");
		print_iface(st, &st->ifs[i]);
	}
	for (i = 0; i < st->n_daemons; i++) {
		const struct satp_daemon *d = &st->daemons[i];

		if (!satp_state_show_unmatched(st, d))
			continue;
		printf("%s", shown++ ? "\n" : "");
		if (d->err)
			printf("daemon socket %s: not answering: %s\n", d->path, d->msg);
		else
			print_daemon_only(d);
	}
	if (!shown && !bad)
		printf("satpd is not running (no control socket under %s) and nothing is pinned "
		       "under %s/satpd/\n",
		       st->run_dir, st->pin_root);
}

int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},	       {"pin-root", required_argument, NULL, 'p'},
	    {"run-dir", required_argument, NULL, 'r'}, {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0},
	};
	static struct satp_state st;
	struct satp_state_opts o = {0};
	bool json = false;
	int c, bad, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'p':
			o.pin_root = optarg;
			break;
		case 'r':
			o.run_dir = optarg;
			break;
		case 's':
			o.socket = optarg;
			break;
		case 'h':
			usage(stdout);
			return SATP_EXIT_OK;
		default:
			usage(stderr);
			return SATP_EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "satp show: unexpected argument '%s'\n", argv[optind + 1]);
		return SATP_EXIT_USAGE;
	}
	if (optind < argc) {
		if (!argv[optind][0] || strlen(argv[optind]) >= IFNAMSIZ ||
		    strchr(argv[optind], '/')) {
			fprintf(stderr, "satp show: invalid interface name '%s'\n", argv[optind]);
			return SATP_EXIT_USAGE;
		}
		o.ifname = argv[optind];
	}
	ret = satp_state_read(&o, &st, "satp show");
	if (ret) {
		satp_state_free(&st);
		return SATP_EXIT_FAIL;
	}
	bad = report_iface_errors(&st, o.ifname);
	if (json)
		json_state(&st);
	else
		print_state(&st, bad);
	satp_state_free(&st);
	return bad ? SATP_EXIT_FAIL : SATP_EXIT_OK;
}
