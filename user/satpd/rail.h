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
 * satp_rx counts per path too (satp_rail_stats, by the remote tuple this
 * module writes into satp_rail_idx): the copies it dropped before they reached
 * us are received and duplicates all the same, and the snapshot adds them in.
 */
#ifndef SATPD_RAIL_H
#define SATPD_RAIL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nexthop.h"
#include "satp_xdp.h"
#include "seqlock.h"
#include "udp.h"

struct satpd;
struct satpd_worker;
struct satpd_pkt;

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
	/* AF_XDP TX: the next-hop headers for the remote, published by the main thread
	 * (invalid when the route leaves by another interface than satp_rx's). */
	struct satpd_l2 l2;
	uint32_t l2_gen; /* main thread: the remote gen l2 was resolved for; odd: none */
	int l2_last_ret;
	/* What satp_rx knows the path by (main thread only): the remote of gen xdp_gen. */
	uint32_t xdp_gen; /* odd: none written yet */
	bool xdp_bound;
	struct satp_xdp_path_key xdp_key;
};

/*
 * What RAIL asks of the XDP path while it runs (d->xdp): compose.c fills it,
 * so that rail.c calls no transport. NULL members: satp_rx is not told.
 */
struct satpd_rail_xdp_ops {
	/* satp_rx knows the remote tuple key as path (on), or no longer (off). */
	int (*path_set)(void *ctx, const struct satp_xdp_path_key *key, uint32_t path, bool on);
	/* What satp_rx counted for path (seen, dropped as a copy already committed). */
	int (*path_stats)(const void *ctx, uint32_t path, struct satp_xdp_path_stats *out);
	void *ctx;
};

struct satpd_rail {
	unsigned int n; /* 0: RAIL off */
	struct satpd_rail_path path[SATPD_RAIL_PATHS_MAX];
	struct satpd_rail_xdp_ops xdp;
};

/* d->rail: the paths of -p/-o, with -r's address when given (after the sockets are open). */
int satpd_rail_init(struct satpd *d);
/* NULL: nothing. */
void satpd_rail_free(struct satpd_rail *r);
/* The path a datagram that came on socket sock from src belongs to; -1 with RAIL off. */
int satpd_rail_path_of(const struct satpd *d, int sock, const struct sockaddr_storage *src);
/* An authenticated datagram on path: count it with the replay commit's verdict (first: won it). */
void satpd_rail_seen(struct satpd *d, int path, bool first);
/* A datagram of path that won the replay commit: its source becomes the path's remote. */
void satpd_rail_learn(struct satpd *d, int path, const struct sockaddr_storage *src,
		      socklen_t srclen, int sock);
/* Send every sealed packet (len != 0) on every path with a known remote; zeroes len. */
void satpd_rail_send_batch(struct satpd_worker *w, struct satpd_pkt *pkts, unsigned int n);
/* One path's copies of the sealed packets (len != 0) whose bit in skip is clear, by its socket. */
void satpd_rail_send_path(struct satpd_worker *w, unsigned int path, struct satpd_pkt *pkts,
			  unsigned int n, uint64_t skip);
/* Copies of path that left another way (AF_XDP TX). */
void satpd_rail_sent(struct satpd *d, unsigned int path, unsigned int n);
/* The path's remote (sock -1: none known yet) and its generation. */
uint32_t satpd_rail_remote(const struct satpd *d, unsigned int path, struct satpd_peer_addr *a,
			   int *sock);
/* The path's remote as "addr:port", "" while unknown. */
void satpd_rail_remote_str(const struct satpd *d, unsigned int path, char *buf, size_t len);
/* Log the per-path counters. */
void satpd_rail_dump(const struct satpd *d);
/* Main thread, XDP on: give satp_rx the remote tuple of every path whose remote moved. */
void satpd_rail_sync_xdp(struct satpd *d);
/* The path's counters as an operator reads them: the daemon's plus satp_rx's. */
struct satp_ctl_path;
void satpd_rail_read(const struct satpd *d, unsigned int path, struct satp_ctl_path *out);

#endif /* SATPD_RAIL_H */
