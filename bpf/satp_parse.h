/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Header parsing for the XDP program: small inline steps on a cursor. Each
 * returns SATP_PARSE_GO_ON or the enum satp_xdp_reason that ends the packet.
 * Nothing here writes to the packet: passed frames leave byte-identical.
 */
#ifndef SATP_PARSE_H
#define SATP_PARSE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "satp_xdp.h"

/* UAPI macros vmlinux.h does not carry. */
#define ETH_P_IP      0x0800
#define ETH_P_IPV6    0x86DD
#define ETH_P_8021Q   0x8100
#define ETH_P_8021AD  0x88A8
#define IP_MF	      0x2000
#define IP_OFFSET     0x1fff
#define AF_INET	      2
#define AF_INET6      10
#define NEXTHDR_HOP   0
#define NEXTHDR_ROUTE 43
#define NEXTHDR_FRAG  44
#define NEXTHDR_DEST  60
#define IPPROTO_UDP_  17

#define SATP_PARSE_GO_ON (-1)

struct cursor {
	void *pos;
	void *end;
};

/* What the parse learned on the way to the UDP payload. */
struct satp_l3 {
	__u64 dst6[2]; /* IPv6 destination, network order */
	__u64 src6[2]; /* IPv6 source, network order: handshake budget, RAIL path */
	__be32 dst4;   /* IPv4 destination, network order */
	__be32 src4;   /* IPv4 source, network order */
	__u32 family;  /* AF_INET or AF_INET6 */
	__u32 l4_len;  /* bytes after the IP header(s), as IP declares */
	__u32 l3_off;  /* frame start -> IP header: struct satp_xdp_meta */
	__u32 l4_off;  /* frame start -> UDP header: struct satp_xdp_meta */
};

/* Ethernet and up to SATP_XDP_MAX_VLANS tags; *proto gets the inner EtherType. */
static __always_inline int parse_eth(struct cursor *c, __be16 *proto)
{
	struct ethhdr *eth = c->pos;
	struct vlan_hdr *vlan;
	__be16 p;
	int i;

	if ((void *)(eth + 1) > c->end)
		return SATP_XDP_PASS_MALFORMED;
	p = eth->h_proto;
	c->pos = eth + 1;

#pragma unroll
	for (i = 0; i < SATP_XDP_MAX_VLANS; i++) {
		if (p != bpf_htons(ETH_P_8021Q) && p != bpf_htons(ETH_P_8021AD))
			break;
		vlan = c->pos;
		if ((void *)(vlan + 1) > c->end)
			return SATP_XDP_PASS_MALFORMED;
		p = vlan->h_vlan_encapsulated_proto;
		c->pos = vlan + 1;
	}
	*proto = p;
	return SATP_PARSE_GO_ON;
}

static __always_inline int parse_ipv4(struct cursor *c, struct satp_l3 *l3)
{
	struct iphdr *ip = c->pos;
	__u32 hlen, tot;

	if ((void *)(ip + 1) > c->end)
		return SATP_XDP_PASS_MALFORMED;
	if (ip->version != 4)
		return SATP_XDP_PASS_MALFORMED;
	hlen = ip->ihl * 4;
	if (hlen < sizeof(*ip))
		return SATP_XDP_PASS_MALFORMED;
	if (c->pos + hlen > c->end)
		return SATP_XDP_PASS_MALFORMED;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < hlen)
		return SATP_XDP_PASS_MALFORMED;
	if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return SATP_XDP_PASS_FRAGMENT;
	if (ip->protocol != IPPROTO_UDP_)
		return SATP_XDP_PASS_NOT_UDP;

	l3->family = AF_INET;
	l3->dst4 = ip->daddr;
	l3->src4 = ip->saddr;
	l3->l4_len = tot - hlen;
	c->pos += hlen;
	return SATP_PARSE_GO_ON;
}

/* IPv6 and the extension headers a SATP datagram may carry before UDP. */
static __always_inline int parse_ipv6(struct cursor *c, struct satp_l3 *l3)
{
	struct ipv6hdr *ip6 = c->pos;
	struct ipv6_opt_hdr *opt;
	__u32 len, l4_len;
	__u8 next;
	int i;

	if ((void *)(ip6 + 1) > c->end)
		return SATP_XDP_PASS_MALFORMED;
	if (ip6->version != 6)
		return SATP_XDP_PASS_MALFORMED;
	next = ip6->nexthdr;
	l4_len = bpf_ntohs(ip6->payload_len);
	l3->family = AF_INET6;
	__builtin_memcpy(l3->dst6, &ip6->daddr, 16);
	__builtin_memcpy(l3->src6, &ip6->saddr, 16);
	c->pos = ip6 + 1;

#pragma unroll
	for (i = 0; i < SATP_XDP_MAX_EXTHDRS; i++) {
		if (next == NEXTHDR_FRAG)
			return SATP_XDP_PASS_FRAGMENT;
		if (next != NEXTHDR_HOP && next != NEXTHDR_ROUTE && next != NEXTHDR_DEST)
			break;
		opt = c->pos;
		if ((void *)(opt + 1) > c->end)
			return SATP_XDP_PASS_MALFORMED;
		len = (opt->hdrlen + 1) * 8;
		if (c->pos + len > c->end || len > l4_len)
			return SATP_XDP_PASS_MALFORMED;
		next = opt->nexthdr;
		l4_len -= len;
		c->pos += len;
	}
	if (next == NEXTHDR_FRAG)
		return SATP_XDP_PASS_FRAGMENT;
	if (next != IPPROTO_UDP_)
		return SATP_XDP_PASS_NOT_UDP;
	l3->l4_len = l4_len;
	return SATP_PARSE_GO_ON;
}

#endif /* SATP_PARSE_H */
