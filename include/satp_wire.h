/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SATP on the wire, as anytun 0.3.8 and uanytun 0.3.7 put it there.
 * Shared by bpf/ and user/: the one definition of the header and its sizes.
 *
 *  0       4        6     8            10               10+n      10+n+T
 *  | seq   | sender | mux | payload type | inner packet |  auth tag |
 *  |<------ authenticated: header + ciphertext -------->|
 *                         |<------ encrypted ---------->|
 *
 * All fields are big-endian. There is no padding, pad count or MKI.
 */
#ifndef SATP_WIRE_H
#define SATP_WIRE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* The 8-byte cleartext header that starts every SATP datagram. */
struct satp_hdr {
	__be32 seq;	  /* per-sender counter; anytun/uanytun start at 0 */
	__be16 sender_id; /* -s: tells anycast nodes sharing an address apart */
	__be16 mux;	  /* -m: selects the connection on the receiver */
} __attribute__((packed));

#define SATP_HDR_LEN	  8  /* sizeof(struct satp_hdr) */
#define SATP_PTYPE_LEN	  2  /* encrypted EtherType before the inner packet */
#define SATP_TAG_MAX	  20 /* HMAC-SHA1 output; longer -b is clamped */
#define SATP_TAG_DEFAULT  10 /* -b default of both reference daemons */
#define SATP_SALT_LEN	  14 /* master and session salt, as in SRTP */
#define SATP_KEY_MAX	  32 /* AES-256 */
#define SATP_AUTH_KEY_LEN 20 /* HMAC-SHA1 key derived per packet */
#define SATP_DEFAULT_PORT 4444
/* The reference daemons read into 1600-byte buffers; longer datagrams are cut. */
#define SATP_PACKET_MAX 1600

/* Payload types (EtherTypes) the reference daemons send. */
#define SATP_PTYPE_IPV4	 0x0800
#define SATP_PTYPE_IPV6	 0x86DD
#define SATP_PTYPE_ETHER 0x6558 /* Transparent Ethernet Bridging: tap */

/* The smallest datagram a receiver looks at: header and tag (satp.md §2). */
#define SATP_MIN_LEN(tag_len) (SATP_HDR_LEN + (tag_len))

#endif /* SATP_WIRE_H */
