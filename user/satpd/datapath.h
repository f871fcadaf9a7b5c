/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The SATP data path, independent of where datagrams come from: the UDP
 * socket path (this file's callers in main.c) today, AF_XDP workers later.
 *
 *   rx: datagram -> header -> mux -> tag -> replay commit -> learn remote
 *       -> decrypt -> payload type -> device
 *   tx: device packet -> payload type -> next seq -> seal -> datagram
 *
 * Nothing here allocates, locks or logs per packet (warnings are rate-limited).
 */
#ifndef SATPD_DATAPATH_H
#define SATPD_DATAPATH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "satp.h"
#include "satpd_options.h"
#include "seqstate.h"
#include "udp.h"
#include "windows.h"

/* Datagrams per recvmmsg/sendmmsg and device packets per round: one poll wakeup's work. */
#define SATPD_BATCH 32
/*
 * Buffer per packet: the reference daemons' 1600-byte datagrams with room to
 * spare, so a longer datagram shows up as truncated rather than cut silently.
 */
#define SATPD_BUF_SIZE 2048
/* Where a device read lands: sealing then writes header and type in front, in place. */
#define SATPD_HEADROOM (SATP_HDR_LEN + SATP_PTYPE_LEN)

/* Counters per verdict; X(name) so that the dump cannot forget one. */
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
	X(rx_dev_error)     /* device write failed */                                             \
	X(rx_delivered)     /* written to the device */                                           \
	X(remote_changes)   /* the remote endpoint was learned or moved */                        \
	X(tx_packets)       /* datagrams sent */                                                  \
	X(tx_bytes)                                                                               \
	X(tx_no_remote)     /* device packet dropped: no remote known yet */                      \
	X(tx_bad_inner)     /* tun packet that is neither IPv4 nor IPv6 */                        \
	X(tx_seq_exhausted) /* sequence numbers of the key used up */                             \
	X(tx_send_error)    /* sendmmsg failed for the datagram */
/* clang-format on */

struct satpd_counters {
#define X(n) uint64_t n;
	SATPD_COUNTERS(X)
#undef X
};

/* A connection at run time: what anytun keeps per mux. */
struct satpd_conn {
	const struct satpd_conn_config *cfg;
	struct satp_crypto crypto;
	uint16_t mux;	/* the mux we accept and send */
	bool mux_fixed; /* false until adopted (anytun: no -r, first packet's mux) */
	bool remote_known;
	struct satpd_peer_addr remote;
	int remote_sock; /* index into satpd_udp */
	struct satpd_seq seq;
	struct satpd_windows windows; /* used only with -w > 0 */
};

/* One packet buffer of a batch. */
struct satpd_pkt {
	uint8_t buf[SATPD_BUF_SIZE];
	size_t len;		      /* rx: datagram length; tx: datagram length after seal */
	struct sockaddr_storage addr; /* rx: source */
	socklen_t addrlen;
	int sock; /* rx: socket index it came on; tx: socket to send from */
};

struct satpd {
	const struct satpd_config *cfg;
	struct satpd_udp udp;
	int dev_fd; /* device queue 0: where received packets are written */
	enum satpd_dev_type dev_type;
	struct satpd_conn conn; /* one connection until anytun's sync adds more */
	struct satpd_counters ctr;
	struct satpd_pkt *rx, *tx; /* SATPD_BATCH each, allocated once */
};

int satpd_conn_init(struct satpd_conn *conn, const struct satpd_conn_config *cfg,
		    const char *state_dir);
void satpd_conn_free(struct satpd_conn *conn);

/* Verify, commit, decrypt and deliver n received datagrams. */
void satpd_rx_batch(struct satpd *d, struct satpd_pkt *pkts, unsigned int n);
/*
 * Seal device packets (inner bytes at buf + SATPD_HEADROOM, length in len)
 * in place; returns how many are ready to send. Dropped ones get len 0.
 */
unsigned int satpd_tx_seal_batch(struct satpd *d, struct satpd_pkt *pkts, unsigned int n);

/* The socket path: read what is there, in batches, until the socket is empty. */
void satpd_udp_receive(struct satpd *d, unsigned int sock);
/* Read the device fd in batches, seal, send with sendmmsg. */
void satpd_dev_receive(struct satpd *d, int fd);

void satpd_counters_dump(const struct satpd *d);

#endif /* SATPD_DATAPATH_H */
