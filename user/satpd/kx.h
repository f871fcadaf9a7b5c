/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kx socket (include/satp_kx.h, docs/kx.md): an external key-exchange
 * daemon's messages through satpd's UDP port. Datagrams on the port with
 * mux SATP_HS_MUX and a type >= SATP_HS_EXTERNAL_MIN go to the one
 * subscribed client with their source; the client has satpd send such
 * datagrams (never anything else) from its own socket. Keys go through the
 * control socket (set-session, del-session).
 *
 * Why a socket of its own rather than the control socket: the control socket
 * answers one text request per connection and closes; a relay needs a
 * connection that stays (so satpd knows when the subscriber is gone) and
 * keeps datagram boundaries, which SOCK_SEQPACKET gives without framing.
 *
 * All on the main thread: the UDP sockets are read there, the client is
 * served by a poll hook (an epoll set of the listening socket and the client).
 * Relaying allocates nothing and logs nothing per datagram: one sendmsg
 * with MSG_DONTWAIT; what does not fit the client's queue (SATPD_KX_QUEUE_BYTES)
 * is counted (kx_rx_dropped) and reported to the client in its next record.
 */
#ifndef SATPD_KX_H
#define SATPD_KX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "counters.h"

/* clang-format off */
#define SATPD_KX_COUNTERS(X) \
	X(kx_rx_relayed)     /* external key-exchange datagrams handed to the kx client */     \
	X(kx_rx_no_client)   /* ... dropped: no kx client subscribed */                         \
	X(kx_rx_dropped)     /* ... dropped: the kx client's queue was full */                  \
	X(kx_rx_too_long)    /* ... dropped: longer than SATP_KX_PAYLOAD_MAX */                 \
	X(kx_tx_sent)        /* datagrams the kx client had satpd send */                       \
	X(kx_tx_refused)     /* ... refused: not an external key-exchange message, or bad */    \
	X(kx_session_reused) /* set-session refused: a key installed before (seqs restart) */
/* clang-format on */

enum satpd_kx_counter {
	SATPD_KX_COUNTERS(SATPD_COUNTER_INDEX)
};
/* Registered whether a kx socket is open or not (compose.c). */
extern const struct satpd_counter_set satpd_kx_counters;

struct satpd;
struct satpd_ctl;
struct satpd_kx;
struct satpd_worker;

/*
 * The relay's bound: the send buffer towards the client, about 40 messages of
 * the largest size or a few hundred handshake-sized ones. A client that falls
 * further behind loses datagrams (counted), as UDP would.
 */
#define SATPD_KX_QUEUE_BYTES (64 * 1024)
/* Client records handled per wakeup: a busy client cannot starve the data path. */
#define SATPD_KX_TX_BATCH 32

/* The kx socket's path for a control socket's: ".sock" becomes ".kx.sock", else ".kx" is added. */
int satpd_kx_path(const char *ctl_path, char *buf, size_t len);
/*
 * Listen beside the control socket ctl, with its mode and group, served from
 * the main loop, into *out. Returns 0 or -errno (logged).
 */
int satpd_kx_open(struct satpd *d, const struct satpd_ctl *ctl, struct satpd_kx **out);
void satpd_kx_close(struct satpd_kx *k);

/*
 * The UDP receive path's hook: true when the datagram is an external
 * key-exchange message (handshake header, mux SATP_HS_MUX, type >=
 * SATP_HS_EXTERNAL_MIN), which it relays to k's client or counts (on w) as
 * dropped, also with k NULL (no kx socket); false for anything else, which
 * the caller handles as before.
 */
bool satpd_kx_rx(struct satpd_kx *k, struct satpd_worker *w, const uint8_t *buf, size_t len,
		 const struct sockaddr_storage *src);

#endif /* SATPD_KX_H */
