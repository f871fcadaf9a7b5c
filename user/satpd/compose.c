// SPDX-License-Identifier: GPL-2.0-only
/*
 * The features plugged into the core's registration points (compose.h).
 */
#include <errno.h>

#include "clock.h"
#include "compose.h"
#include "conns.h"
#include "ctl_proto.h"
#include "datapath.h"
#include "edge.h"
#include "handshake.h"
#include "hsbudget.h"
#include "kx.h"
#include "rail.h"
#include "satp_hs_wire.h"
#include "sync.h"
#include "xsk.h"

/*
 * The features' counters, in the order printed after the core's: the order
 * they had among the core's before they became the features' own (a81f4d6),
 * as far as whole sets allow (docs/architecture.md, "Counter output").
 */
/* clang-format off */
#define FEATURE_COUNTERS(X) \
	SATPD_KX_COUNTERS(X) SATPD_HS_COUNTERS(X) SATPD_SYNC_COUNTERS(X) \
	SATPD_EDGE_TX_COUNTERS(X) SATPD_HS_BUDGET_COUNTERS(X)
/* clang-format on */

#define X(n) +1
_Static_assert(0 FEATURE_COUNTERS(X) <= SATPD_EXT_COUNTERS_MAX,
	       "every feature's counters fit a worker's ext[] (counters.h)");
#undef X
/* Every name whole in a snapshot (satp_ctl_add_counter would cut a longer one). */
#define X(n)                                                                                       \
	_Static_assert(sizeof(#n) <= SATP_CTL_NAME_MAX, #n ": a longer name than a snapshot holds");
FEATURE_COUNTERS(X)
#undef X

/*
 * A handshake-space datagram satp_rx did not judge (the socket path, or one
 * the kernel reassembled from fragments) goes through the same budgets here:
 * neither may bypass them. What satp_rx passed it charged already.
 */
static bool hs_admitted(const struct satpd_features *f, struct satpd_worker *w,
			const struct sockaddr_storage *src)
{
	if (!f->hs_budget || (w->d->rx_prefiltered && !w->rx_reassembled))
		return true;
	switch (satpd_hs_budget_take(f->hs_budget, src, satpd_coarse_ns())) {
	case SATPD_HS_OWN:
		return true;
	case SATPD_HS_SHARED:
		satpd_count(w, &satpd_hs_budget_counters, SATPD_CTR_rx_hs_shared);
		return true;
	case SATPD_HS_OVER:
		satpd_count(w, &satpd_hs_budget_counters, SATPD_CTR_rx_hs_over_budget);
		return false;
	default:
		satpd_count(w, &satpd_hs_budget_counters, SATPD_CTR_rx_hs_ceiling);
		return false;
	}
}

/*
 * Handshake space: an external key exchange's types (docs/kx.md), then the
 * built-in ones; both are the main thread's (the kx client's socket, the
 * keyring). A datagram neither takes goes on as an unknown mux.
 */
static bool hs_space_rx(void *ctx, struct satpd_worker *w, const uint8_t *buf, size_t len,
			const struct sockaddr_storage *src, socklen_t srclen, int sock)
{
	const struct satpd_features *f = ctx;

	if ((f->kx || f->hs) && !hs_admitted(f, w, src))
		return true;
	return satpd_kx_rx(f->kx, w, buf, len, src) ||
	       satpd_hs_dispatch(f->hs, w, buf, len, src, srclen, sock);
}

/* RAIL: count the copy on its path; a path learns its peer only from a copy that won the commit. */
static void rail_committed(void *ctx, int sock, const struct sockaddr_storage *src,
			   socklen_t srclen, bool first)
{
	struct satpd_rail *r = ctx;
	int path = satpd_rail_path_of(r, sock, src);

	satpd_rail_seen(r, path, first);
	if (first)
		satpd_rail_learn(r, path, src, srclen, sock);
}

/* The XDP path is freed at the stop, after composing: looked up per call. */
static int xdp_rail_stats(const void *ctx, uint32_t path, struct satp_xdp_path_stats *out)
{
	const struct satpd_features *f = ctx;

	return f->xdp ? satpd_xdp_rail_stats(f->xdp, path, out) : -ENODEV;
}

static void rail_send_batch(void *ctx, struct satpd_worker *w, const struct satpd_transport *t,
			    struct satpd_pkt *pkts, unsigned int n)
{
	satpd_rail_send_batch(ctx, w, t, pkts, n);
}

_Static_assert(SATPD_RAIL_PATHS_MAX <= SATPD_TX_DESTS_MAX, "every RAIL path a tx destination");

/* RAIL's path i is the tx hook's destination i. */
static uint32_t rail_dest_remote(const void *ctx, unsigned int i, struct satpd_peer_addr *a,
				 int *sock)
{
	return satpd_rail_remote(ctx, i, a, sock);
}

/* RAIL's paths: the tx hook's destinations, and the XDP path's counters for them. */
static int compose_rail(struct satpd_features *f)
{
	satpd_set_rx_observer(f->d, &(struct satpd_rx_observer){
					.committed = rail_committed,
					.ctx = f->rail,
					.copies_expected = true,
				    });
	satpd_set_tx_hook(f->d,
			  &(struct satpd_tx_hook){.send_batch = rail_send_batch, .ctx = f->rail});
	f->rail->xdp = (struct satpd_rail_xdp_ops){.path_stats = xdp_rail_stats, .ctx = f};
	if (!f->xdp)
		return 0;
	return satpd_xdp_set_dests(f->xdp, &(struct satpd_tx_dests){
					       .n = f->rail->n,
					       .remote = rail_dest_remote,
					       .ctx = f->rail,
					   });
}

/* Each dump hook's ctx is the struct satpd_features. */
static void dump_hs(const void *ctx)
{
	const struct satpd_features *f = ctx;

	satpd_hs_dump(f->hs);
}

static void dump_rail(const void *ctx)
{
	const struct satpd_features *f = ctx;

	satpd_rail_dump(f->rail);
}

/* The edge exchange and the XDP path come and go after composing: looked up at dump time. */
static void dump_edge(const void *ctx)
{
	const struct satpd_features *f = ctx;

	if (f->edge)
		satpd_edge_counters_dump(f->edge);
}

static void dump_xdp(const void *ctx)
{
	const struct satpd_features *f = ctx;

	if (f->xdp)
		satpd_xdp_counters_dump(f->xdp);
}

/*
 * The XDP path's maps follow the table; each is a no-op on the socket path.
 * The table is composed before the XDP path is set up: looked up per call.
 */
static int xdp_conn_set(void *ctx, const struct satpd_conn *c)
{
	const struct satpd_features *f = ctx;

	return satpd_xdp_conn_set(f->xdp, c);
}

static void xdp_conn_del(void *ctx, uint16_t mux)
{
	const struct satpd_features *f = ctx;

	satpd_xdp_conn_del(f->xdp, mux);
}

static void xdp_adopt(void *ctx, const struct satpd_conn *c)
{
	const struct satpd_features *f = ctx;

	satpd_xdp_adopted(f->xdp, c);
}

static int xdp_route_set(void *ctx, int family, const uint8_t *addr, unsigned int len, uint16_t mux)
{
	const struct satpd_features *f = ctx;

	return satpd_xdp_route_set(f->xdp, family, addr, len, mux);
}

static void xdp_route_del(void *ctx, int family, const uint8_t *addr, unsigned int len)
{
	const struct satpd_features *f = ctx;

	satpd_xdp_route_del(f->xdp, family, addr, len);
}

static int hs_conn_new(void *ctx, struct satpd_conn *c, char *err, size_t errlen)
{
	return satpd_hs_conn_new(ctx, c, err, errlen);
}

static void hs_conn_free(void *ctx, struct satpd_conn *c)
{
	satpd_hs_conn_free(c);
}

static void hs_conn_tick(void *ctx, struct satpd_conn *c)
{
	satpd_hs_conn_tick(ctx, c);
}

int satpd_compose_counters(struct satpd *d)
{
	static const struct satpd_counter_set *const sets[] = {
	    &satpd_kx_counters,	     &satpd_hs_counters,	&satpd_sync_counters,
	    &satpd_edge_tx_counters, &satpd_hs_budget_counters,
	};
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		ret = satpd_add_counters(d, sets[i]);
		if (ret)
			return ret;
	}
	satpd_set_tx_halt_counter(d, &satpd_edge_tx_counters, SATPD_CTR_tx_edge_twin);
	return 0;
}

int satpd_compose_conns(struct satpd_features *f)
{
	struct satpd *d = f->d;
	const struct satpd_conn_hooks xdp = {
	    .on_conn_set = xdp_conn_set,
	    .on_conn_del = xdp_conn_del,
	    .on_adopt = xdp_adopt,
	    .on_route_set = xdp_route_set,
	    .on_route_del = xdp_route_del,
	    .ctx = f,
	};
	const struct satpd_conn_hooks hs = {
	    .on_conn_new = hs_conn_new,
	    .on_conn_free = hs_conn_free,
	    .on_tick = hs_conn_tick,
	    .ctx = f->hs,
	};
	int ret = satpd_conns_add_hooks(d, &xdp);

	return ret ? ret : satpd_conns_add_hooks(d, &hs);
}

int satpd_compose_paths(struct satpd_features *f)
{
	static const satpd_dump_fn dumps[] = {dump_hs, dump_rail, dump_edge, dump_xdp};
	struct satpd *d = f->d;
	unsigned int i;
	int ret;

	/* Main thread only while a handshake or kx socket owns it; else any worker counts it. */
	satpd_set_mux_handler(d, SATP_HS_MUX, f->kx || f->hs, hs_space_rx, f);
	if (f->rail->n) {
		ret = compose_rail(f);
		if (ret)
			return ret;
	}
	for (i = 0; i < sizeof(dumps) / sizeof(dumps[0]); i++) {
		ret = satpd_add_dump_hook(d, dumps[i], f);
		if (ret)
			return ret;
	}
	return 0;
}
