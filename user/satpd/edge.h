/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The replay-window exchange between the edges of an anycast cluster
 * (docs/anycast.md §8, wire format in user/satpd/edge_proto.h). Every
 * --edge-interval (Δ) this edge sends every --peer-edge the windows that
 * changed since its last round (all of them every SATPD_EDGE_FULL_EVERY
 * rounds, or when a peer says it just started), and merges what the peers
 * send into its own windows: top = max, bitmaps OR-ed, under the same per-slot
 * commit discipline as the data path, so satp_rx in XDP refuses the other
 * edges' datagrams too. A final round goes out when satpd stops.
 *
 * Served by the main loop (a timerfd and the exchange socket as poll hooks):
 * the packet path is untouched, and connections are read where they are
 * owned. A refused message is counted under its reason and logged rate-limited.
 */
#ifndef SATPD_EDGE_H
#define SATPD_EDGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "counters.h"
#include "edge_proto.h"
#include "satpd_options.h"

/* Every this many rounds all windows go out, changed or not: a peer that missed one catches up. */
#define SATPD_EDGE_FULL_EVERY 50
/* Rounds after start that ask the peers for everything (SATP_EDGE_F_HELLO). */
#define SATPD_EDGE_HELLO_ROUNDS 10
/* Messages read per wakeup: the main loop serves the data path too. */
#define SATPD_EDGE_RX_BATCH 64

/* clang-format off */
#define SATPD_EDGE_COUNTERS(X) \
	X(edge_tx_msgs)           /* exchange datagrams sent (one per peer and message) */       \
	X(edge_tx_records)        /* window records in them */                                   \
	X(edge_tx_errors)         /* sendto failed */                                            \
	X(edge_rx_msgs)           /* messages accepted */                                        \
	X(edge_rx_records)        /* window records in them */                                   \
	X(edge_rx_merged)         /* records that closed seqs here */                            \
	X(edge_rx_skipped)        /* records of a mux without a window here, or no slot left */ \
	X(edge_drop_unknown_peer) /* from an address that is no --peer-edge */                   \
	X(edge_drop_short)        /* shorter than header + tag, or longer than a message */      \
	X(edge_drop_bad_magic)    /* not an exchange message of this version */                  \
	X(edge_drop_bad_tag)      /* HMAC did not verify: another key, or forged */              \
	X(edge_drop_malformed)    /* authentic but does not parse */                             \
	X(edge_drop_self)         /* carries this edge's own id: reflected, or too old to tell */ \
	X(edge_twin_id)           /* another edge sends as this edge's id: sending stopped */     \
	X(edge_drop_replayed)     /* stamp not above the last one of that edge */                \
	X(edge_drop_stale)        /* stamp further than a minute from this clock */              \
	X(edge_drop_peers_full)   /* from more edge ids than --peer-edge entries */
/* clang-format on */

/*
 * What the exchange stops on the core's send path (d->tx_halted_sender),
 * counted there on every worker and shown with the exchange on or off.
 */
/* clang-format off */
#define SATPD_EDGE_TX_COUNTERS(X) \
	X(tx_edge_twin) /* device packet dropped: another edge sends with this sender id */
/* clang-format on */

enum satpd_edge_tx_counter {
	SATPD_EDGE_TX_COUNTERS(SATPD_COUNTER_INDEX)
};
extern const struct satpd_counter_set satpd_edge_tx_counters;

struct satpd_edge_counters {
#define X(n) uint64_t n;
	SATPD_EDGE_COUNTERS(X)
#undef X
};

struct satpd;

struct satpd_edge_peer {
	struct sockaddr_storage addr;
	socklen_t len;
	const char *name; /* the --peer-edge text */
};

/* An edge heard from, by the id its messages carry. */
struct satpd_edge_seen {
	bool used;
	uint16_t id;
	uint64_t stamp;	  /* the last accepted: the sender's CLOCK_REALTIME ns (edge_proto.h) */
	int64_t heard_ms; /* CLOCK_MONOTONIC ms of it */
};

struct satpd_edge {
	struct satpd *d;
	int fd;	 /* UDP, bound to --edge-listen; -1: the exchange is off */
	int tfd; /* timerfd, every Δ */
	struct satp_edge_mac *mac;
	uint16_t id;  /* this edge's: its -s */
	bool derived; /* key derived from the connection of derived_mux: only its windows */
	uint16_t derived_mux;
	uint64_t stamp; /* the last one sent: CLOCK_REALTIME ns (edge_proto.h) */
	unsigned int round;
	bool full_asked; /* a peer said hello: the next round sends everything */
	uint64_t *sent;	 /* per window slot: a hash of what was last sent */
	unsigned int n_sent;
	struct satpd_edge_peer peers[SATPD_EDGE_PEERS_MAX];
	unsigned int n_peers;
	struct satpd_edge_seen seen[SATPD_EDGE_PEERS_MAX];
	struct satp_edge_record *recs;	    /* SATP_EDGE_RECS_MAX, for one received message */
	struct satp_edge_sent *sent_stamps; /* ours: a reflection from a twin edge (edge_proto.h) */
	struct satpd_edge_counters ctr;
};

/* Resolve, bind, key, register with the main loop. 0 when off (no --peer-edge) or set up. */
int satpd_edge_open(struct satpd *d, struct satpd_edge *e);
/* The last round (SATP_EDGE_F_FINAL, every window): call once nothing commits any more. */
void satpd_edge_final(struct satpd_edge *e);
void satpd_edge_close(struct satpd_edge *e);
/* Its counters in the log (SIGUSR1, exit), as satpd_counters_dump. */
void satpd_edge_counters_dump(const struct satpd_edge *e);
/* Milliseconds since the last message accepted from any peer; -1: none yet. */
int64_t satpd_edge_last_heard_ms(const struct satpd_edge *e);

#endif /* SATPD_EDGE_H */
