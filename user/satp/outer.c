// SPDX-License-Identifier: GPL-2.0-only
/* Link layer -> IP -> UDP for capture records (outer.h). */
#include <pcap/dlt.h>
#include <string.h>
#include <sys/socket.h>

#include "outer.h"
#include "pkt.h"

/* libpcap maps LINKTYPE_RAW (101) to DLT_RAW, but not every writer does. */
#define LINKTYPE_RAW_  101
#define SLL_HLEN       16
#define SLL_PROTO_OFF  14
#define SLL2_HLEN      20
#define SLL2_PROTO_OFF 0

#define IPV4_MF	    0x2000
#define IPV4_OFFSET 0x1fff

static enum outer_result udp_parse(struct cursor *c, size_t ip_payload_wire, bool first_frag,
				   struct outer_udp *u)
{
	const uint8_t *h = cur_pull(c, UDP_HLEN);
	size_t ulen;

	if (!h)
		return OUTER_MALFORMED;
	u->sport = get_be16(h);
	u->dport = get_be16(h + 2);
	if (first_frag)
		return OUTER_FRAGMENT;
	ulen = get_be16(h + 4);
	if (ulen < UDP_HLEN || ulen > ip_payload_wire)
		return OUTER_MALFORMED;
	u->wire_len = ulen - UDP_HLEN;
	u->payload = c->p;
	u->payload_len = cur_left(c) < u->wire_len ? cur_left(c) : u->wire_len;
	return OUTER_UDP;
}

static enum outer_result ipv4_parse(struct cursor *c, struct outer_udp *u)
{
	const uint8_t *h = c->p;
	size_t ihl, tot;
	uint16_t frag;

	if (cur_left(c) < IPV4_MIN_HLEN || h[0] >> 4 != 4)
		return OUTER_MALFORMED;
	ihl = (size_t)(h[0] & 0x0f) * 4;
	tot = get_be16(h + 2);
	if (ihl < IPV4_MIN_HLEN || tot < ihl || !cur_pull(c, ihl))
		return OUTER_MALFORMED;
	if (h[9] != IPPROTO_UDP_)
		return OUTER_OTHER;
	frag = get_be16(h + 6);
	if (frag & IPV4_OFFSET)
		return OUTER_OTHER; /* no UDP header in this piece */
	/* Ethernet pads short frames: the IP length says where the packet ends. */
	if ((size_t)(c->end - h) > tot)
		c->end = h + tot;
	u->family = AF_INET;
	memcpy(u->src, h + 12, 4);
	memcpy(u->dst, h + 16, 4);
	return udp_parse(c, tot - ihl, frag & IPV4_MF, u);
}

static enum outer_result ipv6_parse(struct cursor *c, struct outer_udp *u)
{
	const uint8_t *h = cur_pull(c, IPV6_HLEN);
	struct ipv6_l4 l4;
	size_t plen, ext;

	if (!h || h[0] >> 4 != 6)
		return OUTER_MALFORMED;
	plen = get_be16(h + 4);
	if (plen == 0)
		return OUTER_OTHER; /* a jumbogram: not something SATP sends */
	if (cur_left(c) > plen)
		c->end = c->p + plen;
	if (!ipv6_walk(c, h[6], &l4))
		return OUTER_MALFORMED;
	if (l4.proto != IPPROTO_UDP_ || (l4.fragment && !l4.first_frag))
		return OUTER_OTHER;
	ext = (size_t)(c->p - (h + IPV6_HLEN));
	if (ext > plen)
		return OUTER_MALFORMED;
	u->family = AF_INET6;
	memcpy(u->src, h + 8, 16);
	memcpy(u->dst, h + 24, 16);
	return udp_parse(c, plen - ext, l4.fragment, u);
}

static enum outer_result l3_parse(struct cursor *c, uint16_t ethertype, struct outer_udp *u)
{
	switch (ethertype) {
	case ETHERTYPE_IPV4:
		return ipv4_parse(c, u);
	case ETHERTYPE_IPV6:
		return ipv6_parse(c, u);
	default:
		return OUTER_OTHER;
	}
}

static enum outer_result ether_parse(struct cursor *c, struct outer_udp *u)
{
	const uint8_t *h = cur_pull(c, ETH_HLEN_);
	uint16_t type;

	if (!h)
		return OUTER_MALFORMED;
	type = get_be16(h + 12);
	while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD) {
		h = cur_pull(c, VLAN_HLEN_);
		if (!h)
			return OUTER_MALFORMED;
		type = get_be16(h + 2);
	}
	return l3_parse(c, type, u);
}

static enum outer_result cooked_parse(struct cursor *c, size_t hlen, size_t proto_off,
				      struct outer_udp *u)
{
	const uint8_t *h = cur_pull(c, hlen);

	if (!h)
		return OUTER_MALFORMED;
	return l3_parse(c, get_be16(h + proto_off), u);
}

static enum outer_result raw_parse(struct cursor *c, struct outer_udp *u)
{
	if (cur_left(c) < 1)
		return OUTER_MALFORMED;
	switch (c->p[0] >> 4) {
	case 4:
		return ipv4_parse(c, u);
	case 6:
		return ipv6_parse(c, u);
	default:
		return OUTER_OTHER;
	}
}

enum outer_result outer_parse(int dlt, const uint8_t *pkt, size_t caplen, struct outer_udp *u)
{
	struct cursor c = {pkt, pkt + caplen};

	memset(u, 0, sizeof(*u));
	switch (dlt) {
	case DLT_EN10MB:
		return ether_parse(&c, u);
	case DLT_LINUX_SLL:
		return cooked_parse(&c, SLL_HLEN, SLL_PROTO_OFF, u);
	case DLT_LINUX_SLL2:
		return cooked_parse(&c, SLL2_HLEN, SLL2_PROTO_OFF, u);
	case DLT_RAW:
	case LINKTYPE_RAW_:
		return raw_parse(&c, u);
	case DLT_IPV4:
		return ipv4_parse(&c, u);
	case DLT_IPV6:
		return ipv6_parse(&c, u);
	default:
		return OUTER_LINKTYPE;
	}
}
