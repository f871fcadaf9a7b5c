/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * satpd driven by an existing anytun control plane: one sync client
 * (user/satpd/sync_client.h) per -X / -M entry, served by the main loop; each
 * connection record adds or replaces the connection of its mux (cipher, auth,
 * tag length and sender id from the command line, as anytun), except one keyed
 * by handshakes or kx sessions (refused, logged, counted sync_refused: the
 * stream is unauthenticated and would downgrade it to its static keys), each route
 * record adds or replaces a route (conns.h). Records are idempotent upserts:
 * the server resends everything after a reconnect.
 */
#ifndef SATPD_SYNC_H
#define SATPD_SYNC_H

#include "counters.h"

/* clang-format off */
#define SATPD_SYNC_COUNTERS(X) \
	X(sync_refused) /* anytun sync connection records refused (logged: why) */
/* clang-format on */

enum satpd_sync_counter {
	SATPD_SYNC_COUNTERS(SATPD_COUNTER_INDEX)
};
/* Registered whether -X/-M is given or not (compose.c). */
extern const struct satpd_counter_set satpd_sync_counters;

struct satpd;
struct satp_sync_client;

struct satpd_sync {
	struct satp_sync_client *clients[8];
	unsigned int n;
};

/* 0, or -errno when an entry is malformed or does not resolve (a bad option). */
int satpd_sync_open(struct satpd *d, struct satpd_sync *s);
void satpd_sync_close(struct satpd_sync *s);

#endif /* SATPD_SYNC_H */
