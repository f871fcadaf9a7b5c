/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * satpd's side of the handshake (docs/handshake.md): the library (user/satpd/hs.h)
 * does the protocol; this plumbs it into the daemon.
 *
 * Everything here runs on the main thread: handshake datagrams (mux 0xFFFF)
 * arrive on the UDP sockets, the timers run from the tick. Workers only see
 * the result, a connection's three key sets (conn->keys = the keyring's
 * current session, pending = next, old = previous), published as set-keys
 * publishes them (conns.h), and leave three flags for the tick (the
 * connection is keys_managed): a packet waited for a session (keys_wanted),
 * traffic was received or sent (rx_seen, tx_seen); a session's key set
 * records that a packet verified under it (used: confirms a responder's
 * session). Each session's key set stops sealing at HS_REJECT_AFTER_PACKETS
 * (its seq_last).
 *
 * Each session has its own sequence numbers from 0 (keyset->tx_seq) and its
 * own replay window (keyset->win), so a restarted peer's old packets verify
 * under none of the current keys and new ones never collide with old seqs.
 */
#ifndef SATPD_HANDSHAKE_H
#define SATPD_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "counters.h"
#include "hs.h"

/* clang-format off */
#define SATPD_HS_COUNTERS(X) \
	X(rx_handshake) /* mux 0xFFFF datagrams handed to the handshake */
/* clang-format on */

enum satpd_hs_counter {
	SATPD_HS_COUNTERS(SATPD_COUNTER_INDEX)
};
/* Registered whether the handshake is configured or not (compose.c). */
extern const struct satpd_counter_set satpd_hs_counters;

struct satpd;
struct satpd_hs;
struct satpd_conn;
struct satpd_worker;
struct satp_ctl_conn;

/*
 * Initiations per second above which the daemon counts as under load and
 * asks for cookies (docs/handshake.md §6): far above what configured peers
 * need (one each per rekey), far below what a flood with good mac1s would
 * cost in X25519 (about 66 µs each).
 */
#define SATPD_HS_LOAD_PER_S 50

/*
 * The daemon's identity and cookie secret over the core d, into *out; *out
 * NULL without --private-key. 0 or -errno (logged).
 */
int satpd_hs_open(struct satpd *d, struct satpd_hs **out);
void satpd_hs_close(struct satpd_hs *h);

/*
 * A connection in handshake mode (cfg.handshake): its peer and keyring. err
 * says why not (h NULL: no --private-key).
 */
int satpd_hs_conn_new(struct satpd_hs *h, struct satpd_conn *c, char *err, size_t errlen);
/*
 * Its state (keys_owner), without the key sets (conn_free frees those through
 * the connection); nothing for a connection with static keys.
 */
void satpd_hs_conn_free(struct satpd_conn *c);

/*
 * The one entry for datagrams with mux 0xFFFF: true when handled (counted
 * and consumed), false when the daemon has no handshake (h NULL: then it is
 * an unknown mux, as before). Built-in types 1..3 go to the handshake.
 */
bool satpd_hs_dispatch(struct satpd_hs *h, struct satpd_worker *w, const uint8_t *buf, size_t len,
		       const struct sockaddr_storage *src, socklen_t srclen, int sock);

/* Timers of one connection (main thread, each tick): confirm, expire, rekey, retry, keepalive. */
void satpd_hs_conn_tick(struct satpd_hs *h, struct satpd_conn *c);

/* The handshake counters, in the SIGUSR1 dump; nothing with h NULL. */
void satpd_hs_dump(const struct satpd_hs *h);
/* Session number, age, confirmation and count of a connection, for `satp show`. */
void satpd_hs_fill_conn(const struct satpd_conn *c, struct satp_ctl_conn *sc);

#endif /* SATPD_HANDSHAKE_H */
