/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The SATP data path, independent of where datagrams come from: the UDP
 * sockets (main.c's poll loop: the whole path with --xdp-mode off, outer
 * fragments otherwise) and the AF_XDP workers (xsk.c), one per receive queue.
 *
 * Threads: every worker owns its struct satpd_worker (counters, buffers, its
 * tun queue). What they share is lock-free on the packet path: the
 * connections (conns.h: a table indexed by mux of RCU-like pointers that
 * only the main thread swaps, freed after every worker passed a quiescent
 * point), each connection's keys with one crypto context per worker, its
 * outgoing sequence number (an atomic fetch-add, seqstate.h) and learned
 * remote (a seqlock; written only when it moves), and the replay windows of
 * every (mux, sender id) (window_store.h).
 *
 *   rx: datagram -> header -> mux -> connection -> tag (keys, then the keys
 *       being installed, then the old ones in their grace period) -> replay
 *       commit -> learn remote -> decrypt -> payload type -> device
 *   tx: device packet -> connection (route / learned MAC / the only one;
 *       tap floods unknown destinations) -> next seq -> seal -> datagram
 *
 * Nothing here allocates, locks or logs per packet (warnings are rate-limited).
 */
#ifndef SATPD_DATAPATH_H
#define SATPD_DATAPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core.h"
#include "satp.h"

#define SATPD_VERSION "0.1"

/* Datagrams per recvmmsg/sendmmsg and device packets per round: one poll wakeup's work. */
#define SATPD_BATCH 32
/*
 * Buffer per packet: the reference daemons' 1600-byte datagrams with room to
 * spare, so a longer datagram shows up as truncated rather than cut silently.
 */
#define SATPD_BUF_SIZE 2048
/* Where a device read lands: sealing then writes header and type in front, in place. */
#define SATPD_HEADROOM (SATP_HDR_LEN + SATP_PTYPE_LEN)

/* One packet buffer of a batch. */
struct satpd_pkt {
	uint8_t buf[SATPD_BUF_SIZE];
	size_t len;		      /* rx: datagram length; tx: datagram length after seal */
	struct sockaddr_storage addr; /* rx: source */
	socklen_t addrlen;
	int sock;		 /* rx: socket index it came on; tx: socket to send from */
	struct satpd_conn *conn; /* tx: sealed for this connection (valid within the batch) */
	uint32_t remote_gen;	 /* tx: the remote generation addr was read at */
};

/* Buffers of one worker; dev_fd is where it delivers. */
int satpd_worker_init(struct satpd_worker *w, struct satpd *d, unsigned int id, int dev_fd);
void satpd_worker_free(struct satpd_worker *w);

/*
 * Verify, commit, learn, decrypt and deliver one received SATP datagram (the
 * UDP payload, decrypted in place). sock: the UDP socket index that answers
 * src (-1 if none).
 */
void satpd_rx_datagram(struct satpd_worker *w, uint8_t *buf, size_t len,
		       const struct sockaddr_storage *src, socklen_t srclen, int sock);
/*
 * Seal device packets (inner bytes at buf + SATPD_HEADROOM, length in len)
 * in place, each for the connection its destination picks, addressed in
 * pkt->addr/sock; returns how many are ready to send. Dropped ones (and tap
 * floods, sent here by the socket) get len 0. Call between
 * satpd_worker_enter() and satpd_worker_leave() (conns.h).
 */
unsigned int satpd_tx_seal_batch(struct satpd_worker *w, struct satpd_pkt *pkts, unsigned int n);
/*
 * Write what satpd_rx_datagram merged (vnet: consecutive TCP segments of a
 * flow become one GSO write). Call at the end of every receive batch.
 */
void satpd_dev_flush(struct satpd_worker *w);
/*
 * An authenticated datagram (data or handshake) from src on socket sock: the
 * connection's remote moves there if it is elsewhere (counted, logged).
 */
void satpd_learn_remote(struct satpd_worker *w, struct satpd_conn *conn,
			const struct sockaddr_storage *src, socklen_t srclen, int sock);
/* Read up to SATPD_BATCH packets from fd into w->tx; returns how many. */
unsigned int satpd_dev_read_batch(struct satpd_worker *w, int fd);
/*
 * Send sealed packets (len 0 = skip) to their pkt->addr through the UDP
 * sockets; with a tx hook, the hook sends them (through satpd_udp_transport).
 */
void satpd_udp_send_batch(struct satpd_worker *w, struct satpd_pkt *pkts, unsigned int n);
/*
 * The sealed packets (len != 0) whose bit in skip is clear to dst by its
 * socket; returns how many went out (none when dst->sock is no socket).
 */
unsigned int satpd_udp_send_to(struct satpd_worker *w, const struct satpd_tx_dest *dst,
			       struct satpd_pkt *pkts, unsigned int n, uint64_t skip);
/* The UDP sockets as a tx hook's transport: satpd_udp_send_to, nothing skipped. */
extern const struct satpd_transport satpd_udp_transport;

/* The socket path: read what is there, in batches, until the socket is empty. */
void satpd_udp_receive(struct satpd_worker *w, unsigned int sock);
/* Read the device fd in batches, seal, send with sendmmsg. */
void satpd_dev_receive(struct satpd_worker *w, int fd);

/* Serve fd from the main loop (the control socket's seam). -ENOSPC when full. */
int satpd_add_poll_hook(struct satpd *d, int fd, short events, satpd_poll_fn fn, void *ctx);

/* Registration (main thread, before the first datagram). -ENOSPC when full. */
void satpd_set_mux_handler(struct satpd *d, uint16_t mux, bool main_only, satpd_mux_rx_fn rx,
			   void *ctx);
void satpd_set_rx_observer(struct satpd *d, const struct satpd_rx_observer *o);
void satpd_set_tx_hook(struct satpd *d, const struct satpd_tx_hook *h);
int satpd_add_dump_hook(struct satpd *d, satpd_dump_fn fn, const void *ctx);
/* A feature's counters, kept by every worker and printed after the core's. -EEXIST, -ENOSPC. */
int satpd_add_counters(struct satpd *d, const struct satpd_counter_set *s);
/* Where a halted sender's dropped packets count (a registered set's counter i). */
void satpd_set_tx_halt_counter(struct satpd *d, const struct satpd_counter_set *s, unsigned int i);

/* Sum of every worker's counters, the features' (ext[]) included. */
void satpd_counters_sum(const struct satpd *d, struct satpd_counters *out);
void satpd_counters_dump(const struct satpd *d);

#endif /* SATPD_DATAPATH_H */
