/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon core's objects: struct satpd (one daemon), struct satpd_conn
 * (a connection, shared by the workers) with its key sets, struct
 * satpd_worker (one thread's share of the data path, its counters among it),
 * the registration points features fill (compose.c) and the transport a tx
 * hook sends through (struct satpd_transport). The transports' and features'
 * own state is not here (compose.h, struct satpd_features). Definitions only:
 * the data path (datapath.h) and the connection table (conns.h) both include
 * this, and the data path calls the table, never the reverse.
 *
 * How the workers see what the main thread changes: docs/architecture.md
 * section 4, conns.h (connections, key sets, epochs) and seqlock.h (the
 * remote).
 */
#ifndef SATPD_CORE_H
#define SATPD_CORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "counters.h"
#include "gso.h"
#include "satp.h"
#include "satpd_options.h"
#include "seqlock.h"
#include "seqstate.h"
#include "nexthop.h"
#include "udp.h"
#include "window_store.h"

/*
 * The main loop's timeout while the XDP path runs: how soon a learned remote
 * gets headers (xsk.h), and the cadence of the connection table's tick (conns.h).
 */
#define SATPD_TICK_MS 100

/*
 * Counters per verdict of the core's own paths; X(name) so that the dump
 * cannot forget one. A feature's counters are its own (counters.h). Two names
 * are older than that split and stay here since the core counts them itself:
 * rx_handshake_off_main is the reserved mux's guard (satpd_mux_handler), and
 * rx_keepalive the rx pipeline's verdict on an empty packet of a connection
 * whose keys a feature manages (rx_no_payload otherwise).
 */
/* clang-format off */
#define SATPD_COUNTERS(X) \
	X(rx_datagrams)     /* datagrams read from the underlay */                                \
	X(rx_bytes)                                                                               \
	X(rx_truncated)     /* longer than SATPD_BUF_SIZE */                                      \
	X(rx_too_short)     /* shorter than header + tag */                                       \
	X(rx_wrong_mux)     /* mux of no connection */                                            \
	X(rx_bad_tag)       /* authentication failed */                                           \
	X(rx_replay)        /* window: seen before */                                             \
	X(rx_too_old)       /* window: older than the window */                                   \
	X(rx_senders_full)  /* no free replay-window slot for a new sender */                     \
	X(rx_no_payload)    /* authenticated but empty */                                         \
	X(rx_bad_ptype)     /* payload type does not fit the device */                            \
	X(rx_foreign_src)   /* tun: inner source not routed to the delivering connection */       \
	X(rx_foreign_mac)   /* tap: source MAC held by another connection (SATPD_MAC_HOLD_S) */   \
	X(rx_dev_error)     /* device write failed */                                             \
	X(rx_delivered)     /* written to the device */                                           \
	X(remote_changes)   /* the remote endpoint was learned or moved */                        \
	X(tx_packets)       /* datagrams sent */                                                  \
	X(tx_bytes)                                                                               \
	X(tx_no_remote)     /* device packet dropped: no remote known yet */                      \
	X(tx_bad_inner)     /* tun packet that is neither IPv4 nor IPv6 */                        \
	X(tx_seq_exhausted) /* sequence numbers of the key used up */                             \
	X(tx_send_error)    /* sendmmsg failed for the datagram */                                \
	X(tx_xsk_packets)   /* of tx_packets: sent through AF_XDP TX */                           \
	X(tx_udp_fallback)  /* XDP path, sent by the socket: next hop unresolved, too big, full */ \
	X(tx_no_route)      /* device packet for no connection: no route matches its destination */ \
	X(tx_flooded)       /* tap: copies sent for unknown or broadcast destinations */           \
	X(rx_old_keys)      /* accepted under keys being replaced (set-keys grace period) */  \
	X(tx_no_keys)       /* device packet dropped: session removed, or handshake pending */ \
	X(rx_handshake_off_main) /* reserved mux (its handler main_only) on an AF_XDP worker: dropped */ \
	X(rx_keepalive)     /* authenticated empty packets of a keys_managed connection */ \
	X(rx_senders_quota) /* a new sender of a connection at its window-slot quota */    \
	X(rx_reassembled)   /* datagrams the kernel reassembled from IP fragments */          \
	X(rx_no_xdp_meta)   /* AF_XDP frames without satp_rx's metadata (driver has none): parsed */
/* clang-format on */

struct satpd_counters {
#define X(n) uint64_t n;
	SATPD_COUNTERS(X)
#undef X
	uint64_t ext[SATPD_EXT_COUNTERS_MAX]; /* the features', as struct satpd's counter_sets */
};

/* The learned remote as a worker reads it: one consistent copy per batch. */
struct satpd_remote_view {
	struct satpd_peer_addr addr;
	int sock; /* index into satpd_udp; -1 when no socket has its family */
	bool known;
	uint32_t gen; /* the seqlock generation it was read at */
};

/* Crypto contexts per key set: one per AF_XDP worker (its id) and one for the main thread. */
#define SATPD_MAIN_WORKER  SATPD_QUEUES_MAX
#define SATPD_CRYPTO_SLOTS (SATPD_QUEUES_MAX + 1)

/* Keys of a connection with a context per worker (satp_crypto is not thread-safe). */
struct satpd_keyset {
	struct satp_keys keys; /* a session: the tx keys */
	int64_t until; /* CLOCK_MONOTONIC seconds: pending: tx switch at the latest; old: rx end */
	int64_t end; /* the same clock: pending: when the grace period ends (becomes old's until) */
	/*
	 * A session of an external key exchange (docs/kx.md): its own tx and rx
	 * keys, its own sequence numbers from 0 and its own replay windows, since
	 * a new session's seqs restart and the connection's windows are past them.
	 */
	bool session;
	bool none;		 /* del-session: verifies nothing, sends nothing */
	uint64_t session_id;	 /* the kx daemon's name for it (logs, show) */
	_Atomic uint64_t tx_seq; /* session: the next seq to send */
	/*
	 * session: the last seq it may seal, then it stops (tx_seq_exhausted). The
	 * feature that installs it may set less (a handshake's new session comes first).
	 */
	uint64_t seq_last;
	struct satpd_windows *rx_win; /* session: its replay windows (NULL with -w 0) */
	struct satpd_key_fp fp,
	    fp_rx;	   /* keys (a session: tx) and a session's rx (window_store.h) */
	_Atomic bool used; /* keys_managed: a packet verified under it (confirms a responder's) */
	struct satp_crypto crypto[SATPD_CRYPTO_SLOTS];
};

/*
 * A connection's remote, under a seqlock so that readers take no lock
 * (conns.h). Any worker may learn one; writers take the lock, and only when
 * the remote moves.
 */
struct satpd_conn_remote {
	struct satpd_seqlock seq;
	struct satpd_peer_addr addr;
	int sock; /* index into satpd_udp */
	bool known;
	time_t learned;	      /* CLOCK_REALTIME seconds of the last change */
	pthread_mutex_t lock; /* writers only */
	_Atomic bool moved;   /* AF_XDP TX: resolve this connection's next hop */
};

/* A connection at run time: what anytun keeps per mux, shared by the workers. */
struct satpd_conn {
	struct satpd_conn_config cfg; /* a copy; the key bytes are wiped (they live in keys) */
	uint16_t mux;		      /* the mux we accept and send */
	bool mux_fixed; /* false until adopted (anytun: no -r, first packet's mux; socket path) */
	/* Key sets; only the main thread swaps them (conns.c), workers load them per packet. */
	_Atomic(struct satpd_keyset *) keys;	/* tx, and rx first */
	_Atomic(struct satpd_keyset *) pending; /* set-keys: rx tries them; tx takes them later */
	_Atomic(struct satpd_keyset *) old;	/* replaced keys, rx only, until old->until */
	_Atomic bool pending_seen;		/* the peer sends with the pending keys */
	/*
	 * Odd while the main thread moves key sets between the three pointers: a
	 * datagram that verified under none of them is tried again if it changed,
	 * since a set moving from pending to keys (or keys to old) between two of
	 * the worker's loads is in neither place it looked.
	 */
	struct satpd_seqlock keys_seq;
	/*
	 * Its keys are sessions (kx, or a handshake's), each with seqs from 0 and
	 * replay windows of its own: XDP's shared windows cannot judge it (no
	 * pre-filter, docs/kx.md). Set once; cleared again only when
	 * sessions_begin cannot tell the transport's maps.
	 */
	bool per_session_windows;
	struct satpd_conn_remote remote; /* satpd_conn_read_remote, satpd_conn_set_remote */
	struct satpd_seq *seq;		 /* handed on when change-conn replaces the connection */
	bool owns_seq;			 /* false once handed on */
	struct satpd_l2 l2;		 /* AF_XDP TX: the remote's next-hop headers (nexthop.h) */
	int l2_last_ret;		 /* of the last resolve, to log only changes */
	/* last_rx: Unix (CLOCK_REALTIME) seconds of the last delivered datagram; 0: none */
	_Atomic uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	_Atomic int64_t last_rx;
	/*
	 * The keys come from a feature (the handshake) that reads the flags below
	 * on the main thread; false: the packet path writes none of them.
	 */
	bool keys_managed;
	/*
	 * That feature's state for this connection, main thread only: its
	 * satpd_conn_hooks put it here (on_conn_new) and free it (on_conn_free).
	 */
	void *keys_owner;
	_Atomic bool keys_wanted;      /* a packet waited for keys (the handshake starts one) */
	_Atomic bool rx_seen, tx_seen; /* traffic since the feature last looked (its timers) */
};

struct satpd_pkt;
struct satpd;
struct satpd_xsk;

/* One thread's share of the data path. */
struct satpd_worker {
	struct satpd *d;
	unsigned int id;
	struct satpd_counters ctr;
	_Atomic uint64_t epoch;	   /* conns.h: the epoch it entered a batch at; 0 = quiescent */
	int dev_fd;		   /* the tun/tap queue this worker writes (and reads) */
	struct satpd_pkt *rx, *tx; /* SATPD_BATCH each, allocated once */
	struct satpd_remote_view remote; /* last read, of remote_conn; learn compares against it */
	const struct satpd_conn *remote_conn;
	struct satpd_pkt *flood; /* tap: one buffer to seal copies in */
	struct satpd_xsk *xsk;	 /* NULL: the socket path */
	bool vnet;		 /* dev fds carry a virtio_net_hdr (tun with TSO offloads) */
	uint8_t *gso_buf;	 /* vnet: one super-packet as read, SATP_GSO_MAX_LEN */
	struct satp_gso gso;	 /* vnet: its segmentation, resumed by the next read batch */
	struct satp_gro gro;	 /* vnet: delivered TCP segments merged, written per batch */
	bool rx_reassembled;	 /* the datagram in hand came in IP fragments (socket path) */
	pthread_t thread;
	bool running;
};

/* A file descriptor another module (the control socket) wants served by the main loop. */
typedef void (*satpd_poll_fn)(void *ctx, int fd, short revents);
struct satpd_poll_hook {
	int fd;
	short events;
	satpd_poll_fn fn;
	void *ctx;
};
/*
 * Control socket, metrics, kx socket, a sync client per -X/-M entry, the edge exchange's socket
 * and timer.
 */
#define SATPD_HOOKS_MAX (3 + SATPD_SYNC_HOSTS_MAX + 2)

/*
 * Registration points: features plug into the packet path here, composed once
 * by main.c (compose.c) before the first datagram; read-only afterwards. The
 * core calls them and names no feature.
 */
/*
 * A mux reserved for control datagrams (the handshake space): its datagrams
 * go to the handler. main_only: the handler's state is the main thread's,
 * and the datagram is dropped on an AF_XDP worker (counted:
 * rx_handshake_off_main). true: consumed; false: the datagram takes the data
 * path (then it is an unknown mux, as any other).
 */
typedef bool (*satpd_mux_rx_fn)(void *ctx, struct satpd_worker *w, const uint8_t *buf, size_t len,
				const struct sockaddr_storage *src, socklen_t srclen, int sock);
struct satpd_mux_handler {
	satpd_mux_rx_fn rx; /* NULL: no mux is reserved */
	void *ctx;
	uint16_t mux;
	bool main_only;
};

/*
 * Sees every authenticated datagram's replay verdict (first: it won the
 * commit), on whichever worker received it. copies_expected: the peer sends
 * every datagram more than once, so a replay is not logged as an attack.
 */
struct satpd_rx_observer {
	void (*committed)(void *ctx, int sock, const struct sockaddr_storage *src, socklen_t srclen,
			  bool first);
	void *ctx;
	bool copies_expected;
};

/*
 * One copy of a batch to a destination a tx hook keeps (RAIL's paths): its
 * index among the hook's destinations (struct satpd_tx_dests) and its remote
 * as the hook read it.
 */
struct satpd_tx_dest {
	unsigned int index;
	struct satpd_peer_addr addr;
	int sock;     /* index into satpd_udp */
	uint32_t gen; /* the remote's generation: it changes whenever addr or sock do */
};

/*
 * How a tx hook's copies leave: by the UDP sockets (satpd_udp_transport,
 * datapath.h), or on an AF_XDP worker by AF_XDP TX where the destination's
 * next hop is known and by its socket otherwise (xsk.c). Called per
 * destination and batch, never per packet.
 */
struct satpd_transport {
	/* the sealed packets of pkts (len != 0) to dst; returns how many left */
	unsigned int (*send_to)(void *ctx, struct satpd_worker *w, const struct satpd_tx_dest *dst,
				struct satpd_pkt *pkts, unsigned int n);
	void *ctx;
};

/*
 * Sends every sealed batch instead of the one remote each of
 * satpd_udp_send_batch, each copy through t (the transport of the worker and
 * the moment: a tap flood leaves by the socket on every worker).
 */
struct satpd_tx_hook {
	void (*send_batch)(void *ctx, struct satpd_worker *w, const struct satpd_transport *t,
			   struct satpd_pkt *pkts, unsigned int n);
	void *ctx;
};

/* The most destinations a tx hook has: RAIL's paths (satpd_options.h, asserted in compose.c). */
#define SATPD_TX_DESTS_MAX 16

/*
 * The tx hook's destinations, for a transport that keeps state per
 * destination (AF_XDP TX: next-hop headers; satp_rx: the remote tuples it
 * counts by). Read on the main thread only.
 */
struct satpd_tx_dests {
	unsigned int n; /* at most SATPD_TX_DESTS_MAX */
	/* destination i's remote now (sock -1: none known yet) and its generation */
	uint32_t (*remote)(const void *ctx, unsigned int i, struct satpd_peer_addr *a, int *sock);
	const void *ctx;
};

/* A feature's part of the SIGUSR1 counter dump, in the order registered. */
typedef void (*satpd_dump_fn)(const void *ctx);
struct satpd_dump_hook {
	satpd_dump_fn fn;
	const void *ctx;
};
/* The handshake, RAIL, the edge exchange, the XDP path. */
#define SATPD_DUMP_HOOKS_MAX 4

struct satpd_conns;

struct satpd {
	const struct satpd_config *cfg;
	struct satpd_udp udp;
	enum satpd_dev_type dev_type;
	struct satpd_conns *conns;    /* by mux; conns.h */
	struct satpd_windows windows; /* every (mux, sender id) of every connection */
	/*
	 * Workers besides the main thread that get a crypto context per key set:
	 * one per tun queue a transport's workers serve (0: the main thread only).
	 */
	unsigned int n_crypto_workers;
	struct satpd_worker sock_worker; /* the main thread: the UDP sockets */
	struct satpd_worker *workers;	 /* the AF_XDP workers, one per rx queue */
	unsigned int n_workers;
	/*
	 * A transport filters datagrams before the core sees them (satp_rx: its
	 * replay check, the handshake budgets); true while it runs.
	 */
	bool rx_prefiltered;
	/* What this start picked up from the last run, for `satp show`. */
	unsigned int windows_adopted; /* replay windows kept from the last run */
	unsigned int windows_pinned;  /* of them, found in pinned maps (the rest: the state file) */
	_Atomic bool stop;	      /* workers leave their loops */
	_Atomic bool remote_moved;    /* a worker learned a new remote: resolve next hops */
	/*
	 * 0, or a sender id + 1 whose static-key sending stopped: another party
	 * sends with it under the same keys (keystream reuse), as a feature found
	 * (the edge exchange: edge.h). The core's policy, as a key set's seq_last:
	 * the send path reads it per packet, one load rather than a hook.
	 * Its dropped packets count in tx_halted_ctr of tx_halted_set
	 * (satpd_set_tx_halt_counter).
	 */
	_Atomic uint32_t tx_halted_sender;
	const struct satpd_counter_set *tx_halted_set;
	unsigned int tx_halted_ctr;
	struct satpd_poll_hook hooks[SATPD_HOOKS_MAX];
	unsigned int n_hooks;
	char dev_name[IFNAMSIZ]; /* the tun/tap device, as the kernel named it */
	time_t started;		 /* Unix (CLOCK_REALTIME) seconds */
	_Atomic int64_t last_rx; /* Unix seconds of the last delivered batch; 0: none */
	/* The registration points above. */
	struct satpd_mux_handler mux_handler;
	struct satpd_rx_observer rx_observer;
	struct satpd_tx_hook tx_hook;
	struct satpd_dump_hook dump_hooks[SATPD_DUMP_HOOKS_MAX];
	unsigned int n_dump_hooks;
	struct satpd_counter_registry counter_sets; /* the features' counters (counters.h) */
};

/* Count counter i of a feature's set s on w; nothing when s is not registered. */
static inline void satpd_count(struct satpd_worker *w, const struct satpd_counter_set *s,
			       unsigned int i)
{
	int k = satpd_counter_slot(&w->d->counter_sets, s, i);

	if (k >= 0)
		w->ctr.ext[k]++;
}

#endif /* SATPD_CORE_H */
