/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The window exchange between the edges of an anycast cluster
 * (docs/anycast.md §8): every edge tells every other, every Δ, where the
 * replay window of each (mux, sender id) it receives from stands, so that a
 * datagram one edge accepted is refused by all of them. satpd-to-satpd only:
 * anytun's sync carries no window state.
 *
 * One message is one UDP datagram, big endian throughout:
 *
 *   off len field
 *     0   4 magic    SATP_EDGE_MAGIC ("SEWX")
 *     4   1 version  SATP_EDGE_VERSION
 *     5   1 flags    SATP_EDGE_F_*
 *     6   2 edge id  the sender's id in the cluster (its -s); 0 is allowed
 *     8   8 stamp    strictly increasing per sending edge (CLOCK_REALTIME ns,
 *                    bumped by one when the clock did not move on): the
 *                    receiver refuses a stamp not above the last it accepted
 *                    from that edge, and one further than SATP_EDGE_SKEW_NS
 *                    from its own clock
 *    16   2 count    records that follow
 *    18   2 reserved 0
 *    20     records, each:
 *             0  2 mux
 *             2  2 sender id   of the sender whose datagrams the window admits
 *             4  4 top         the highest seq committed
 *             8  2 nbits       bits that follow: the window size - 1, at most
 *                              SATP_WINDOW_BITS - 1 (seq top - nbits is too old
 *                              anyway, and in a full ring it aliases top)
 *            10  2 reserved    0
 *            12    ceil(nbits / 64) words of 8 bytes: bit i (word i / 64, bit
 *                  i % 64 of that word) set = seq top - 1 - i committed; bits
 *                  from nbits on are 0
 *   end  32 tag      HMAC-SHA256 under the cluster's edge key of every byte
 *                    before it
 *
 * The record is relative to top, not a copy of the ring, so edges built with
 * another SATP_WINDOW_BITS, or configured with another -w, understand each
 * other. Anything that does not parse exactly is refused whole, with a reason
 * (enum satp_edge_verdict); nothing of it is applied.
 */
#ifndef SATP_EDGE_PROTO_H
#define SATP_EDGE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "satp.h"

#define SATP_EDGE_MAGIC	  0x53455758u /* "SEWX": satp edge window exchange */
#define SATP_EDGE_VERSION 1
#define SATP_EDGE_HDR_LEN 20
#define SATP_EDGE_REC_HDR 12
#define SATP_EDGE_TAG_LEN 32 /* HMAC-SHA256, not truncated: 10 messages a second cost nothing */
#define SATP_EDGE_KEY_LEN 32
/*
 * Largest message: fits a 1500-byte link under IPv6 + UDP (1452) with room,
 * so the exchange never depends on fragments. A record of the largest window
 * (12 + 512 bytes) always fits.
 */
#define SATP_EDGE_MSG_MAX 1400
/* How far a stamp may be from the receiver's clock: edges run NTP; a minute covers a bad day. */
#define SATP_EDGE_SKEW_NS (60ull * 1000000000ull)
/* Bits a record can carry: the window minus top itself. */
#define SATP_EDGE_BITS_MAX (SATP_WINDOW_BITS - 1)

/* Message flags. */
#define SATP_EDGE_F_FULL  0x01 /* this round carries every window, changed or not */
#define SATP_EDGE_F_HELLO 0x02 /* the sender just started: send it every window */
#define SATP_EDGE_F_FINAL 0x04 /* the sender stops: this is its last round */
#define SATP_EDGE_F_ALL	  (SATP_EDGE_F_FULL | SATP_EDGE_F_HELLO | SATP_EDGE_F_FINAL)

/* Why a message was refused; names in satp_edge_verdict_name(). */
enum satp_edge_verdict {
	SATP_EDGE_OK = 0,
	SATP_EDGE_SHORT,     /* shorter than header + tag */
	SATP_EDGE_BAD_MAGIC, /* not an edge message, or another version */
	SATP_EDGE_BAD_TAG,   /* HMAC did not verify: wrong key or forged */
	SATP_EDGE_MALFORMED, /* authentic but does not parse: counts, lengths, padding, flags */
	SATP_EDGE_VERDICTS,
};

struct satp_edge_hdr {
	uint8_t flags;
	uint16_t edge_id;
	uint64_t stamp;
	uint16_t count;
};

/* One record in host order; bits as on the wire, relative to top. */
struct satp_edge_record {
	uint16_t mux;
	uint16_t sender_id;
	uint32_t top;
	uint32_t nbits;
	uint64_t bits[SATP_WINDOW_WORDS];
};

/* The MAC under one key; not thread-safe (one per thread). */
struct satp_edge_mac;

/* 0 or -ENOMEM / -EIO (OpenSSL refused). */
int satp_edge_mac_new(struct satp_edge_mac **m, const uint8_t key[SATP_EDGE_KEY_LEN]);
void satp_edge_mac_free(struct satp_edge_mac *m);

/*
 * The edge key from a connection's master key and salt: HKDF-SHA256 with an
 * info label of its own (SATP_EDGE_KDF_LABEL), so it shares nothing with the
 * SATP keystream or tags derived from the same master key.
 */
#define SATP_EDGE_KDF_LABEL "satpd edge window exchange v1"
int satp_edge_derive_key(const uint8_t *master_key, size_t key_len,
			 const uint8_t salt[SATP_SALT_LEN], uint8_t out[SATP_EDGE_KEY_LEN]);

/* A message being written into a caller's buffer of SATP_EDGE_MSG_MAX bytes. */
struct satp_edge_writer {
	uint8_t *buf;
	size_t len; /* header and records so far */
	uint16_t count;
};

void satp_edge_begin(struct satp_edge_writer *wr, uint8_t buf[SATP_EDGE_MSG_MAX],
		     const struct satp_edge_hdr *h);
/* Append one record; -ENOSPC when the message has no room left for it, -EINVAL when nbits is. */
int satp_edge_add(struct satp_edge_writer *wr, const struct satp_edge_record *r);
/* Write count and tag; returns the message length, or -EIO. */
int satp_edge_seal(struct satp_edge_writer *wr, struct satp_edge_mac *m);

/*
 * Verify and parse a received message. On SATP_EDGE_OK, h is filled and
 * recs/n get every record (n <= cap; a message holds at most
 * SATP_EDGE_MSG_MAX / SATP_EDGE_REC_HDR of them).
 */
#define SATP_EDGE_RECS_MAX ((SATP_EDGE_MSG_MAX - SATP_EDGE_HDR_LEN) / SATP_EDGE_REC_HDR)
enum satp_edge_verdict satp_edge_open(struct satp_edge_mac *m, const uint8_t *buf, size_t len,
				      struct satp_edge_hdr *h, struct satp_edge_record *recs,
				      unsigned int cap, unsigned int *n);

const char *satp_edge_verdict_name(enum satp_edge_verdict v);

/*
 * The stamps of the messages this edge sent lately (its stamps only grow). A
 * message with this edge's own id and one of them is a reflection of ours,
 * harmless; one with a stamp we never sent comes from another edge with the
 * same id, under the same exchange key: with the same keys, mux and sender id
 * both send AES-CTR keystream twice (docs/anycast.md §6). Kept: the last
 * SATP_EDGE_SENT_MAX, more than a minute (SATP_EDGE_SKEW_NS) of rounds at any
 * --edge-interval of 15 ms or more with one message a round.
 */
#define SATP_EDGE_SENT_MAX 4096

struct satp_edge_sent {
	uint64_t stamp[SATP_EDGE_SENT_MAX]; /* a ring, oldest at head - n */
	unsigned int n, head;
};

enum satp_edge_self {
	SATP_EDGE_SELF_OURS,	/* a stamp we sent: reflected */
	SATP_EDGE_SELF_UNKNOWN, /* older than what is kept (or a previous run's): cannot tell */
	SATP_EDGE_SELF_TWIN,	/* never sent by us: another edge has our id */
};

/* Record a stamp just sent (greater than every one before). */
void satp_edge_sent_add(struct satp_edge_sent *s, uint64_t stamp);
/* Whose is a message that carries our id and stamp? */
enum satp_edge_self satp_edge_self_check(const struct satp_edge_sent *s, uint64_t stamp);

/* Bytes a record of nbits takes on the wire. */
static inline size_t satp_edge_record_len(uint32_t nbits)
{
	return SATP_EDGE_REC_HDR + (size_t)(nbits + 63) / 64 * 8;
}

#endif /* SATP_EDGE_PROTO_H */
