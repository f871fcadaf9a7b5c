/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Bounds-checked reading of captured packet bytes for satp decode: every
 * header is taken through a cursor that refuses to step past the captured
 * end, so malformed or snaplen-cut packets can never be read out of bounds.
 */
#ifndef SATP_TOOL_PKT_H
#define SATP_TOOL_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cursor {
	const uint8_t *p;   /* next unread byte */
	const uint8_t *end; /* one past the last captured byte */
};

static inline size_t cur_left(const struct cursor *c)
{
	return (size_t)(c->end - c->p);
}

/* The next n bytes, consumed; NULL (and nothing consumed) if fewer are left. */
static inline const uint8_t *cur_pull(struct cursor *c, size_t n)
{
	const uint8_t *p = c->p;

	if (cur_left(c) < n)
		return NULL;
	c->p += n;
	return p;
}

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

#define ETH_HLEN_      14
#define VLAN_HLEN_     4
#define IPV4_MIN_HLEN  20
#define IPV6_HLEN      40
#define UDP_HLEN       8
#define IPV6_FRAG_HLEN 8
/* Extension headers walked before giving up: real stacks send a handful. */
#define IPV6_MAX_EXT 8

#define ETHERTYPE_IPV4	   0x0800
#define ETHERTYPE_IPV6	   0x86dd
#define ETHERTYPE_ARP	   0x0806
#define ETHERTYPE_VLAN	   0x8100
#define ETHERTYPE_QINQ	   0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100

#define IPPROTO_ICMP_	1
#define IPPROTO_TCP_	6
#define IPPROTO_UDP_	17
#define IPPROTO_ICMPV6_ 58

/* What ipv6_walk found after the fixed header and any extension headers. */
struct ipv6_l4 {
	uint8_t proto;	 /* the first next-header that is not an extension */
	bool fragment;	 /* a fragment header was present */
	bool first_frag; /* ... and this is the fragment at offset 0 */
};

/*
 * Skip the IPv6 extension headers (hop-by-hop, routing, fragment,
 * destination options) starting at c with next-header nh; on return c points
 * at the upper-layer header. Returns false when a header is cut short or the
 * chain is longer than IPV6_MAX_EXT.
 */
bool ipv6_walk(struct cursor *c, uint8_t nh, struct ipv6_l4 *l4);

#endif /* SATP_TOOL_PKT_H */
