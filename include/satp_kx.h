/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kx socket: how an external key-exchange daemon sends and receives its
 * messages through satpd's UDP port (docs/kx.md). Userspace only; this is
 * the ABI for such daemons (scripts/kx-example.py speaks it).
 *
 * The socket is a unix SOCK_SEQPACKET socket next to the control socket
 * (/run/satpd/<dev>.kx.sock; for --ctl-socket P: P with ".sock" replaced by
 * ".kx.sock", or ".kx" appended), with the control socket's mode and group.
 * One client at a time is the subscriber; a second is told so and closed.
 *
 * Every record, either way, is one struct satp_kx_rec followed by its
 * payload; one record per send/recv (SEQPACKET keeps the boundaries):
 *
 *   satpd -> client  SATP_KX_RX     payload: a datagram that arrived on the
 *                                   SATP port with mux SATP_HS_MUX and an
 *                                   external type; addr/port: its source
 *   client -> satpd  SATP_KX_TX     payload: a datagram to send from satpd's
 *                                   port to addr/port; it must start with a
 *                                   struct satp_hs_hdr with mux SATP_HS_MUX
 *                                   and type >= SATP_HS_EXTERNAL_MIN
 *   satpd -> client  SATP_KX_ERROR  a TX was refused or failed: value is the
 *                                   errno, the payload a text saying why
 *                                   (quoting the offending bytes)
 *   satpd -> client  SATP_KX_HELLO  the first record after connecting: value
 *                                   is SATP_KX_VERSION, no payload
 *
 * A TX that is sent gets no answer (datagrams are fire and forget, as UDP).
 */
#ifndef SATP_KX_H
#define SATP_KX_H

#include <linux/types.h>

#define SATP_KX_VERSION 1

/* The kx socket's name ends so; satp tells it from control sockets by it. */
#define SATP_KX_SOCK_SUFFIX ".kx.sock"

enum satp_kx_kind {
	SATP_KX_HELLO = 1,
	SATP_KX_RX = 2,
	SATP_KX_TX = 3,
	SATP_KX_ERROR = 4,
};

/*
 * The largest payload: a datagram that fits a 1500-byte IPv6 path without
 * fragmenting (1500 - 40 - 8). Key-exchange messages are a few hundred bytes.
 */
#define SATP_KX_PAYLOAD_MAX 1452

struct satp_kx_rec {
	__u8 kind;     /* enum satp_kx_kind */
	__u8 version;  /* SATP_KX_VERSION; a TX of another version is refused */
	__be16 port;   /* peer UDP port, network order; 0 for HELLO and ERROR */
	__u8 addr[16]; /* peer IPv6 address, or IPv4 as ::ffff:a.b.c.d; zero for HELLO/ERROR */
	__be32 value;  /* RX: datagrams dropped since the previous RX (the client was slow);
			* ERROR: the errno; HELLO: SATP_KX_VERSION */
} __attribute__((packed));

#define SATP_KX_REC_LEN 24 /* sizeof(struct satp_kx_rec) */

#endif /* SATP_KX_H */
