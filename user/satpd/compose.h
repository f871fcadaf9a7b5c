/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where the features meet the core: main.c calls these once, and they fill
 * the core's registration points (core.h, datapath.h: the reserved mux's
 * handler, the rx observer, the tx hook, the counter dump, the features'
 * counters) with the handshake, kx, RAIL, the edge exchange and the XDP path.
 * The core includes none of those; they include the core, and none includes
 * another: RAIL's copies leave through the transport the tx hook is given, and
 * the XDP path learns RAIL's paths as the tx hook's destinations (here).
 */
#ifndef SATPD_COMPOSE_H
#define SATPD_COMPOSE_H

struct satpd;

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
int satpd_compose_conns(struct satpd *d);

/*
 * The packet path's hooks, once the features exist (after the control socket
 * and kx socket are open, before any datagram is read). 0 or -errno.
 */
int satpd_compose_paths(struct satpd *d);

#endif /* SATPD_COMPOSE_H */
