/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where the features meet the core: main.c calls these once, and they fill
 * the core's registration points (core.h, datapath.h: the reserved mux's
 * handler, the rx observer, the tx hook, the counter dump, the features'
 * counters) with the handshake, kx, RAIL, the edge exchange and the XDP path.
 * The core includes none of those; they include the core, and none includes
 * another: RAIL's copies leave through the transport the tx hook is given, and
 * the XDP path learns RAIL's paths as the tx hook's destinations (here).
 * Their state is struct satpd_features, not the core's struct satpd.
 */
#ifndef SATPD_COMPOSE_H
#define SATPD_COMPOSE_H

struct satpd;
struct satpd_edge;
struct satpd_hs;
struct satpd_hs_budget;
struct satpd_kx;
struct satpd_rail;
struct satpd_xdp_path;
struct satp_ctl_snapshot;

/* A fallback reason: the mode, the interface and the error, for satp show and /metrics. */
#define SATPD_XDP_REASON_MAX 160

/*
 * The state of the transports and features main.c composes on the core;
 * NULL/0 when off. main.c holds it next to its struct satpd. Each feature's
 * hooks get its own state as ctx; this struct is the ctx of what spans them
 * (the control ops and the snapshot, the counter dump, the connection
 * table's observers of a transport that comes and goes).
 */
struct satpd_features {
	struct satpd *d; /* the core they are composed on */
	/* transports */
	struct satpd_xdp_path *xdp; /* NULL with --xdp-mode off or after a fallback */
	/* Why the default --xdp-mode fell back to the UDP sockets ("": it did not). */
	char xdp_fallback[SATPD_XDP_REASON_MAX];
	/* features */
	struct satpd_rail *rail; /* rail.h; n 0: RAIL off; never NULL after satpd_rail_init() */
	struct satpd_kx *kx;	 /* the kx socket (kx.h); NULL without one */
	struct satpd_hs *hs;	 /* the handshake (handshake.h); NULL without --private-key */
	struct satpd_hs_budget *hs_budget; /* mux 0xFFFF that satp_rx did not judge (hsbudget.h) */
	struct satpd_edge *edge;	   /* the anycast window exchange (edge.h); NULL: off */
};

/*
 * The features' counters (counters.h), whether each feature is configured or
 * not: the names printed do not depend on the configuration. Before any
 * datagram or control request. 0 or -errno.
 */
int satpd_compose_counters(struct satpd *d);

/*
 * The connection table's observers (conns.h): the XDP path's maps and the
 * handshake's per-connection state. After satpd_conns_init(), before the
 * first connection. 0 or -errno.
 */
int satpd_compose_conns(struct satpd_features *f);

/*
 * The packet path's hooks, once the features exist (after the control socket
 * and kx socket are open, before any datagram is read). 0 or -errno.
 */
int satpd_compose_paths(struct satpd_features *f);

/*
 * The control socket's read-only picture of the daemon (user/lib/ctl_proto.h),
 * filled from the main thread between polls (snapshot.c): the remote under its
 * seqlock, the next outgoing seq, counters summed over the workers (each
 * exact, not one instant together), and per sender its window top
 * (satp_ctl_add_sender). Every connection, by mux (-ENOMEM if they do not
 * fit). Meant as satpd_ctl_ops.snapshot, whose ctx is f.
 */
int satpd_snapshot(const struct satpd_features *f, struct satp_ctl_snapshot *out);

#endif /* SATPD_COMPOSE_H */
