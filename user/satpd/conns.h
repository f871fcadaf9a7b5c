/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The connections of one daemon, keyed by mux, and how the workers see
 * changes safely without a lock per packet.
 *
 * Publication: a table of 65536 atomic pointers indexed by mux (one load per
 * datagram, whatever the number of connections). Only the main thread writes
 * it (setup, the control socket's add/change/del/set-keys, the tick); a
 * change builds a new object (connection or key set), publishes it with a
 * release store and retires the one it replaces.
 *
 * Reclamation, RCU-like (quiescent-state based): a worker announces the
 * global epoch when it starts a batch (satpd_worker_enter) and 0 when it goes
 * back to poll (satpd_worker_leave); it holds no connection pointer across
 * that. A retired object records the epoch it was unpublished in and the
 * global epoch moves on; it is freed once every worker is quiescent or
 * entered a later epoch (reclaim() in conns.c, from satpd_conns_tick on the main thread).
 * The main thread's own packet processing runs between its writes, so it
 * needs no announcement.
 *
 * Keys (set-keys with a grace period; SATP carries no key id): new keys go to
 * `pending`: receiving tries them at once. Sending switches to them (they
 * become `keys`, the replaced ones `old`) when the first datagram from the
 * peer authenticates with them (the peer switched) or, at the latest, after
 * half the grace period (the agreed point when no traffic comes). `old` stays
 * valid for receiving until the grace period ends. With grace 0 the switch is
 * immediate. Both ends changing keys within half the grace period of each
 * other lose nothing.
 *
 * Outgoing connection choice: routes, a userspace longest-prefix match per
 * family (lpm.h) replaced whole on a change (RCU as above; the tun read path
 * holds the inner header in the worker's cache already), mirrored into the
 * pinned BPF LPM tries satp_routes4/6 (include/satp_xdp.h: why two copies),
 * written first, so what `bpftool map dump` and `satp show` list is what
 * routes; and in tap mode the MAC learned per connection (floods for unknown
 * destinations). A configuration of one connection without routes gives it
 * the default routes (anytun's behaviour). Routes come from the configuration,
 * anytun sync, and the control socket (add-conn route=, add-route,
 * del-route); deleting a connection deletes its routes.
 */
#ifndef SATPD_CONNS_H
#define SATPD_CONNS_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"
#include "lpm.h"

/*
 * Replay windows per session (senders of one mux under one session's keys):
 * a session is between two endpoints, 16 leaves room for an anycast peer
 * whose nodes share the session.
 */
#define SATPD_SESSION_WINDOW_BITS 4

/* Learned MACs (tap): a bridge's table, bounded; collisions evict only expired bindings. */
#define SATPD_MAC_BITS	 12
#define SATPD_MAC_PROBES 8
/*
 * A MAC learned behind one connection stays there until it has been silent
 * this long (or its connection is gone): until then a frame from another
 * connection with that source MAC is dropped (rx_foreign_mac), since learning
 * it would redirect the MAC's traffic to that connection. Long enough that a
 * host that talks at all (ARP refreshes every minute or so) keeps its MAC, short
 * enough that a host moving to another site is reachable there soon after.
 */
#define SATPD_MAC_HOLD_S 60

struct satpd_retired;

/* The muxes of every connection; immutable once published (satpd_conns_muxes). */
struct satpd_muxlist {
	unsigned int n;
	uint16_t mux[];
};

/*
 * Observers of the connection table, main thread: the XDP path mirrors
 * connections and routes into its maps; the handshake keeps state and timers
 * per connection. Any member may be NULL. Called in registration order; the
 * first error of an int one stops the change (which is then undone or refused).
 */
struct satpd_conn_hooks {
	/* A new connection whose keys a feature brings (cfg.handshake), before it is published. */
	int (*on_conn_new)(void *ctx, struct satpd_conn *c, char *err, size_t errlen);
	/* Freed (its key sets go with the table): the feature's state goes too. */
	void (*on_conn_free)(void *ctx, struct satpd_conn *c);
	/* Each tick, for a connection with keys_managed, instead of the set-keys timers. */
	void (*on_tick)(void *ctx, struct satpd_conn *c);
	/* Published or changed (sessions on); deleted by mux; adopted its mux (no -r). */
	int (*on_conn_set)(void *ctx, const struct satpd_conn *c);
	void (*on_conn_del)(void *ctx, uint16_t mux);
	void (*on_adopt)(void *ctx, const struct satpd_conn *c);
	/* A route to mux, set or deleted. */
	int (*on_route_set)(void *ctx, int family, const uint8_t *addr, unsigned int len,
			    uint16_t mux);
	void (*on_route_del)(void *ctx, int family, const uint8_t *addr, unsigned int len);
	void *ctx;
};
/* The XDP path and the handshake. */
#define SATPD_CONN_HOOKS_MAX 2

struct satpd_conns {
	_Atomic(struct satpd_conn *) by_mux[UINT16_MAX + 1];
	/* The only connection while exactly one exists and it has every route (or tap). */
	_Atomic(struct satpd_conn *) sole;
	/* Without -r on the socket path: the one connection that adopts a mux. */
	_Atomic(struct satpd_conn *) adopt;
	_Atomic(struct satpd_muxlist *) muxes;
	_Atomic(struct satpd_lpm *) routes; /* mux per prefix; replaced whole on a change */
	bool auto_default;	    /* one connection, no route given: it got 0/0 and ::/0 */
	_Atomic unsigned int n_pub; /* n as the workers read it (the slot quota) */
	_Atomic uint64_t mac[1u << SATPD_MAC_BITS]; /* 0 or mac << 16 | mux */
	_Atomic uint32_t
	    mac_seen[1u << SATPD_MAC_BITS]; /* CLOCK_MONOTONIC s of mac[i]'s last frame */
	/* main thread only */
	unsigned int n;
	_Atomic uint64_t epoch;
	struct satpd_retired *retired;
	uint64_t last_tick_ns;	     /* CLOCK_MONOTONIC of the last satpd_conns_tick pass */
	struct satpd_keymem *keymem; /* keys the windows were committed under (window_store.h) */
	char state_dir[SATPD_PATH_MAX];
	int state_dirfd; /* opened at init: new connections' files after a privilege drop or chroot */
	struct satpd_conn_hooks hooks[SATPD_CONN_HOOKS_MAX];
	unsigned int n_hooks;
};

int satpd_conns_init(struct satpd *d, const char *state_dir);
/* At exit, workers stopped: frees everything. */
void satpd_conns_free(struct satpd *d);
/* After init, before the first connection: -ENOSPC when full. */
int satpd_conns_add_hooks(struct satpd *d, const struct satpd_conn_hooks *h);

/* Create connection cfg (its keys are finished) and publish it. -EEXIST for a used mux. */
int satpd_conns_add(struct satpd *d, const struct satpd_conn_config *cfg, char *err, size_t errlen);
/*
 * change-conn: a new connection object from cfg (keys finished) replaces old;
 * it continues old's outgoing sequence numbers, counters, and its remote when
 * keep_remote. Workers still on old finish with it; it is freed later.
 */
int satpd_conns_replace(struct satpd *d, struct satpd_conn *old,
			const struct satpd_conn_config *cfg, bool keep_remote, char *err,
			size_t errlen);
/* Unpublish (XDP first: it drops the mux then) and retire. -ENOENT. */
int satpd_conns_del(struct satpd *d, uint16_t mux);
/*
 * set-keys: receiving tries keys at once; see the top of this file for sending.
 * -EKEYREJECTED (err says why) for keys whose windows on this mux are gone.
 */
int satpd_conns_set_keys(struct satpd *d, struct satpd_conn *c, const struct satp_keys *keys,
			 uint32_t grace, char *err, size_t errlen);
/*
 * set-session (docs/kx.md): a session of separate tx and rx keys (same algos
 * and role as the connection) goes to pending as set-keys' keys do, with seqs
 * from 0 and replay windows of its own. The first session of a connection
 * sets SATP_XDP_CONN_NO_PREFILTER on its mux (the shared windows are past seq 0).
 * Since its seqs restart at 0, a key installed before (current, pending, old,
 * or among the last SATPD_SESSIONS_SEEN_MAX sessions of any connection) is
 * refused (-EKEYREJECTED, err says which; no other refusal returns it).
 */
int satpd_conns_set_session(struct satpd *d, struct satpd_conn *c, const struct satp_keys *tx,
			    const struct satp_keys *rx, uint64_t id, uint32_t grace, char *err,
			    size_t errlen);
/* del-session: at once, nothing is sent (tx_no_keys) or accepted until the next session. */
int satpd_conns_del_session(struct satpd *d, struct satpd_conn *c);
/* Routes of the configuration, after the connections exist. */
int satpd_conns_add_routes(struct satpd *d, const struct satpd_config *c);
/* A route at run time (anytun sync): replaces the prefix's mux. Main thread. */
int satpd_conns_set_route(struct satpd *d, int family, const uint8_t *addr, unsigned int len,
			  uint16_t mux);
/*
 * The control socket's routes: a prefix of another mux is refused (-EEXIST),
 * the same one again is a no-op; mux -1 deletes whichever mux has it. Messages
 * quote the prefix. Main thread.
 */
int satpd_conns_add_route(struct satpd *d, int family, const uint8_t *addr, unsigned int len,
			  uint16_t mux, char *err, size_t errlen);
int satpd_conns_del_route(struct satpd *d, int family, const uint8_t *addr, unsigned int len,
			  int mux, char *err, size_t errlen);
/* The mux of exactly this prefix, or -1. */
int satpd_conns_route_of(struct satpd *d, int family, const uint8_t *addr, unsigned int len);
struct satpd_conn *satpd_conns_get(struct satpd *d, uint16_t mux);

/*
 * A connection's remote under its seqlock (remote.seq): a consistent copy
 * without a lock, from any thread; set (from -r, or learned) under the writer
 * lock, which flags the move for the next-hop resolve (remote.moved).
 */
void satpd_conn_read_remote(struct satpd_conn *conn, struct satpd_remote_view *v);
void satpd_conn_set_remote(struct satpd *d, struct satpd_conn *conn,
			   const struct satpd_peer_addr *a, int sock);
/* Main thread: the i-th connection in mux order (snapshot, counters). */
struct satpd_conn *satpd_conns_next(struct satpd *d, unsigned int *mux);

/*
 * A session's key set as set-session makes it (own seqs from 0, own windows
 * of window size), for the handshake (handshake.h); NULL on failure (logged).
 */
struct satpd_keyset *satpd_keyset_new_session(struct satpd *d, const struct satp_keys *tx,
					      const struct satp_keys *rx, uint64_t id,
					      uint32_t window, uint16_t mux);
/*
 * Around every change of a connection's keys/pending/old (main thread): the
 * workers' rx_verify retries a datagram that failed while they changed.
 */
static inline void satpd_conn_keys_write_begin(struct satpd_conn *c)
{
	satpd_seqlock_write_begin(&c->keys_seq);
}

static inline void satpd_conn_keys_write_end(struct satpd_conn *c)
{
	satpd_seqlock_write_end(&c->keys_seq);
}

/* Unpublished before this call: freed once no worker can hold it. Main thread. */
void satpd_conns_retire_keyset(struct satpd *d, struct satpd_keyset *k);

/* Main thread, each tick: key switches due, grace periods over, retired objects freed. */
void satpd_conns_tick(struct satpd *d);

/* A worker starts a batch / goes back to poll. */
void satpd_worker_enter(struct satpd_worker *w);
void satpd_worker_leave(struct satpd_worker *w);

/* Adopt a mux (socket path, no -r): moves the connection to slot mux. Main thread. */
void satpd_conns_adopt(struct satpd *d, struct satpd_conn *conn, uint16_t mux);

/* The outgoing connection of a device packet; NULL: drop (no route) or *flood (tap). */
struct satpd_conn *satpd_conns_pick(struct satpd *d, const uint8_t *inner, size_t len, bool *flood);
/*
 * Tap, several connections: remember that the inner source MAC of an
 * authenticated frame lives behind mux. false: the MAC is held by another
 * connection (SATPD_MAC_HOLD_S): drop the frame.
 */
bool satpd_conns_learn_mac(struct satpd *d, const uint8_t *frame, size_t len, uint16_t mux);
/*
 * Tun: whether conn may deliver this inner packet, by its source address:
 * the routes would send a reply to that address back through conn (longest
 * prefix match, the table that picks tx). An only connection that has every
 * route (anytun's single connection without -R) accepts any source.
 */
bool satpd_conns_src_fits(struct satpd *d, const struct satpd_conn *conn, const uint8_t *inner,
			  size_t len);
/*
 * Every connection's mux, in mux order: as many steps as connections, not as
 * muxes (tap floods, the handshake's timers). Main thread, or within a batch.
 */
struct satpd_muxlist *satpd_conns_muxes(struct satpd *d);

/* The control socket's callbacks (struct satpd_ctl_ops); ctx: struct satpd_features (compose.h). */
struct satp_ctl_msg;
int satpd_ctl_add_conn(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen);
int satpd_ctl_change_conn(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen);
int satpd_ctl_del_conn(void *ctx, uint16_t mux, char *err, size_t errlen);
int satpd_ctl_set_keys(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen);
int satpd_ctl_reset_window(void *ctx, uint16_t mux, uint16_t sender, char *err, size_t errlen);
int satpd_ctl_set_session(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen);
int satpd_ctl_del_session(void *ctx, uint16_t mux, char *err, size_t errlen);
int satpd_ctl_add_route(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen);
int satpd_ctl_del_route(void *ctx, const struct satp_ctl_msg *m, char *err, size_t errlen);

#endif /* SATPD_CONNS_H */
