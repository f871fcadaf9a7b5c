/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * RAIL, as uanytun's master branch: with a port range for -p and/or -o (or
 * -Y) every SATP datagram goes out unchanged on every path, a path being a
 * (local port, remote port) pair taken by index (the shorter range repeats
 * its ports) to a remote host: -r given more than once gives every pair to
 * every host (a link each: the route to a host picks its local interface). The receiver keeps the
 * first copy: the replay window's atomic commit is the one decision (satp_rx in XDP drops copies
 * already committed before they reach us). A path learns its remote only from a copy that won
 * that commit, as the connection does: a copy that lost it may be a replay from anywhere (an
 * old datagram re-sent from a spoofed source must not redirect a path). A path whose copies
 * always lose therefore keeps the remote it has (-r's, or the last winner's) until one wins.
 *
 * Counters per path tell an operator which link is bad: received
 * (authenticated copies that reached the daemon), first (won the commit:
 * delivered), dups (lost it: a copy that came later) and last seen. With XDP,
 * satp_rx counts per path too (satp_rail_stats, by the remote tuple the XDP
 * path writes into satp_rail_idx for each of the tx hook's destinations): the
 * copies it dropped before they reached us are received and duplicates all the
 * same, and the snapshot adds them in.
 */
#ifndef SATPD_RAIL_H
#define SATPD_RAIL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "satp_xdp.h"
#include "seqlock.h"
#include "udp.h"

struct satpd;
struct satpd_worker;
struct satpd_pkt;
struct satpd_transport;

struct satpd_rail_path {
	uint16_t lport, rport;
	uint8_t host; /* index into the config's rail_hosts (RAIL over several -r) */
	/* The remote, under a seqlock; written only when it moves. */
	struct satpd_seqlock seq;
	struct satpd_peer_addr remote;
	int sock; /* index into satpd_udp of the remote's family; -1: unknown */
	pthread_mutex_t lock;
	_Atomic uint64_t rx, first, dups, tx;
	_Atomic int64_t last_seen_unix_s; /* 0: never */
};

/*
 * What RAIL asks of the XDP path while it runs: compose.c fills it, so that
 * rail.c calls no transport. A NULL member: nothing to add. (The paths' next
 * hops and the tuples satp_rx counts them by are the transport's, kept per
 * destination of the tx hook: core.h, struct satpd_tx_dests.)
 */
struct satpd_rail_xdp_ops {
	/* What satp_rx counted for path (seen, dropped as a copy already committed). */
	int (*path_stats)(const void *ctx, uint32_t path, struct satp_xdp_path_stats *out);
	const void *ctx;
};

struct satpd_rail {
	struct satpd *d; /* the core: its sockets and configuration */
	unsigned int n;	 /* 0: RAIL off */
	struct satpd_rail_path path[SATPD_RAIL_PATHS_MAX];
	struct satpd_rail_xdp_ops xdp;
};

/*
 * *out: the paths of -p/-o, with -r's address when given (after the sockets
 * are open); n 0 without RAIL. *out is set on failure too: satpd_rail_free() it.
 */
int satpd_rail_init(struct satpd *d, struct satpd_rail **out);
/* NULL: nothing. */
void satpd_rail_free(struct satpd_rail *r);
/* The path a datagram that came on socket sock from src belongs to; -1 with RAIL off. */
int satpd_rail_path_of(const struct satpd_rail *r, int sock, const struct sockaddr_storage *src);
/* An authenticated datagram on path: count it with the replay commit's verdict (first: won it). */
void satpd_rail_seen(struct satpd_rail *r, int path, bool first);
/* A datagram of path that won the replay commit: its source becomes the path's remote. */
void satpd_rail_learn(struct satpd_rail *r, int path, const struct sockaddr_storage *src,
		      socklen_t srclen, int sock);
/*
 * The tx hook: every sealed packet (len != 0) on every path with a known
 * remote, through t (path i is the hook's destination i); zeroes len.
 */
void satpd_rail_send_batch(struct satpd_rail *r, struct satpd_worker *w,
			   const struct satpd_transport *t, struct satpd_pkt *pkts, unsigned int n);
/* The path's remote (sock -1: none known yet) and its generation. */
uint32_t satpd_rail_remote(const struct satpd_rail *r, unsigned int path, struct satpd_peer_addr *a,
			   int *sock);
/* The path's remote as "addr:port", "" while unknown. */
void satpd_rail_remote_str(const struct satpd_rail *r, unsigned int path, char *buf, size_t len);
/* Log the per-path counters. */
void satpd_rail_dump(const struct satpd_rail *r);
/* The path's counters as an operator reads them: the daemon's plus satp_rx's. */
struct satp_ctl_path;
void satpd_rail_read(const struct satpd_rail *r, unsigned int path, struct satp_ctl_path *out);

#endif /* SATPD_RAIL_H */
