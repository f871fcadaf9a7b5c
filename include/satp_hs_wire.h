/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * satpd's handshake messages on the wire (docs/handshake.md). Shared by bpf/
 * (which steers them to the daemon) and user/ (which builds and parses them).
 *
 * Handshake messages travel on the UDP address and port of the SATP data.
 * They start with an 8-byte header shaped like an SATP header so that the
 * one field every SATP receiver looks at first, the mux at offset 6, tells
 * them apart: mux SATP_HS_MUX is reserved for handshake and control messages
 * and can never be the mux of a configured connection. anytun and uanytun
 * drop such a datagram as one for an unknown connection (wrong mux).
 *
 *  initiation (type 1, 152 bytes)            response (type 2, 96 bytes)
 *    0  header            8                    0  header            8
 *    8  sender index      4                    8  sender index      4
 *   12  ephemeral        32                   12  receiver index    4
 *   44  static, sealed   32+16                16  ephemeral        32
 *   92  timestamp, sealed 12+16               48  empty, sealed     0+16
 *  120  mac1             16                   64  mac1             16
 *  136  mac2             16                   80  mac2             16
 *
 *  cookie reply (type 3, 56 bytes)
 *    0  header            8
 *    8  receiver index    4
 *   12  nonce            12
 *   24  cookie, sealed   16+16
 *
 * Bytes 12..119 of an initiation and 16..63 of a response are exactly the
 * two Noise_IK_25519_ChaChaPoly_BLAKE2s handshake messages. All integers are
 * big-endian. There is no padding.
 */
#ifndef SATP_HS_WIRE_H
#define SATP_HS_WIRE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/*
 * The reserved mux: the largest, because anytun's and uanytun's default is 0
 * and operators number connections upwards. satpd refuses -m 65535.
 */
#define SATP_HS_MUX	0xFFFF
#define SATP_HS_VERSION 1 /* bumped with any change of this layout or the prologue */

/* Message types (first byte). */
#define SATP_HS_INITIATION   1
#define SATP_HS_RESPONSE     2
#define SATP_HS_COOKIE_REPLY 3 /* responder under load: "come back with this cookie" */
/*
 * Types SATP_HS_EXTERNAL_MIN..0xff belong to an external key-exchange daemon
 * (docs/kx.md): satpd relays them, with their source, to the one client
 * subscribed on its kx socket and sends what that client asks for, but only
 * datagrams that carry this header with mux SATP_HS_MUX and such a type, so
 * the client can never make satpd send SATP data. Bytes 1..5 of the header
 * are the external protocol's own. Types 4..0x7f are for satpd's handshake.
 */
#define SATP_HS_EXTERNAL_MIN 0x80

#define SATP_HS_KEY_LEN	      32 /* X25519 public key, ChaCha20-Poly1305 key */
#define SATP_HS_AEAD_TAG_LEN  16 /* Poly1305 */
#define SATP_HS_TIMESTAMP_LEN 12 /* TAI64N: 8 bytes seconds, 4 bytes nanoseconds */
#define SATP_HS_MAC_LEN	      16 /* keyed BLAKE2s-128, as WireGuard's mac1/mac2 */
#define SATP_HS_NONCE_LEN     12 /* ChaCha20-Poly1305 nonce of a cookie reply, random */
#define SATP_HS_COOKIE_LEN    16 /* keyed BLAKE2s-128 of the source address */

/* The common header: the mux sits where SATP puts it. */
struct satp_hs_hdr {
	__u8 type;	  /* SATP_HS_INITIATION, SATP_HS_RESPONSE */
	__u8 version;	  /* SATP_HS_VERSION */
	__u8 reserved[4]; /* zero; a receiver drops anything else (room to grow) */
	__be16 mux;	  /* SATP_HS_MUX: where an SATP header has its mux */
} __attribute__((packed));

/* Initiator -> responder: Noise IK message 1 plus WireGuard-like framing. */
struct satp_hs_initiation {
	struct satp_hs_hdr hdr;
	__be32 sender_index;		 /* initiator's local handle, echoed in the response */
	__u8 ephemeral[SATP_HS_KEY_LEN]; /* e, cleartext */
	__u8 enc_static[SATP_HS_KEY_LEN + SATP_HS_AEAD_TAG_LEN];	  /* s, sealed */
	__u8 enc_timestamp[SATP_HS_TIMESTAMP_LEN + SATP_HS_AEAD_TAG_LEN]; /* payload */
	__u8 mac1[SATP_HS_MAC_LEN]; /* over bytes 0..119, keyed by the responder's public key */
	__u8 mac2[SATP_HS_MAC_LEN]; /* zero, or keyed by a cookie over bytes 0..135 */
} __attribute__((packed));

/* Responder -> initiator: Noise IK message 2 plus framing. */
struct satp_hs_response {
	struct satp_hs_hdr hdr;
	__be32 sender_index;   /* responder's local handle */
	__be32 receiver_index; /* the initiation's sender_index */
	__u8 ephemeral[SATP_HS_KEY_LEN];
	__u8 enc_empty[SATP_HS_AEAD_TAG_LEN]; /* empty payload: key confirmation */
	__u8 mac1[SATP_HS_MAC_LEN]; /* over bytes 0..63, keyed by the initiator's public key */
	__u8 mac2[SATP_HS_MAC_LEN];
} __attribute__((packed));

/*
 * Responder under load -> initiator, instead of a response: a cookie bound to
 * the initiation's source address, sealed so that only the initiator that
 * sent that initiation (its mac1 is the AD) can read it and put it in mac2.
 */
struct satp_hs_cookie_reply {
	struct satp_hs_hdr hdr;
	__be32 receiver_index; /* the initiation's sender_index */
	__u8 nonce[SATP_HS_NONCE_LEN];
	__u8 enc_cookie[SATP_HS_COOKIE_LEN + SATP_HS_AEAD_TAG_LEN];
} __attribute__((packed));

#define SATP_HS_COOKIE_REPLY_LEN 56  /* sizeof(struct satp_hs_cookie_reply) */
#define SATP_HS_INITIATION_LEN	 152 /* sizeof(struct satp_hs_initiation) */
#define SATP_HS_RESPONSE_LEN	 96  /* sizeof(struct satp_hs_response) */
#define SATP_HS_HDR_LEN		 8
/* The smallest message: a shorter datagram to mux SATP_HS_MUX is junk, and
 * the XDP program drops it before it costs the daemon anything. */
#define SATP_HS_MIN_LEN SATP_HS_COOKIE_REPLY_LEN

/*
 * The XDP program's default budget of handshake datagrams per source address
 * (a token bucket, include/satp_xdp.h): enough for a peer's retries and
 * rekeys many times over. A source address is spoofable, so an empty budget
 * never drops by itself: the datagram then needs a token of the shared
 * ceiling below beyond the half kept for sources within their budget. A
 * spoofed flood of a peer's address thus competes with that peer only for
 * the shared half, never for the reserve of everyone else, and the daemon's
 * mac1 check and cookies (docs/handshake.md §6) decide among what passes.
 * satp_cfg can override both.
 */
#define SATP_HS_RATELIMIT_PPS	20
#define SATP_HS_RATELIMIT_BURST 5
/*
 * The budget of all sources together: it bounds what handshake traffic costs
 * the daemon whatever the sources (a flood of random ones starts each with a
 * full burst). A junk datagram costs the daemon a recvmmsg slot and one
 * BLAKE2s (mac1); a mac1-valid initiation under load a cookie reply; DH only
 * with a valid cookie or below SATPD_HS_LOAD_PER_S. 5000/s of the dearest of
 * those is a few percent of one core (make bench-hs).
 */
#define SATP_HS_CEILING_PPS   5000
#define SATP_HS_CEILING_BURST 500

#endif /* SATP_HS_WIRE_H */
