// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where a redirected frame's SATP datagram lies (frame.h).
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <linux/if_ether.h>

#include "frame.h"

/* An 802.1Q or 802.1ad tag: TPID and TCI; the EtherType it carries follows (satp_parse.h). */
#define VLAN_TAG_LEN 4u
/* IPv6 extension header lengths count 8-octet units, not counting the first (RFC 8200). */
#define IP6_EXT_UNIT 8u

static uint16_t be16_at(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The least IP header satp_rx accepts for a family; 0 for a family it never redirects. */
static size_t ip_hdr_min(unsigned int family)
{
	if (family == AF_INET)
		return sizeof(struct iphdr);
	return family == AF_INET6 ? sizeof(struct ip6_hdr) : 0;
}

/*
 * The metadata satp_rx put before the frame (struct satp_xdp_meta), when it is
 * there and its headers lie in order inside this frame. Its magic is wiped
 * once read: the umem frame is filled again, maybe by a driver that puts none.
 */
bool satpd_frame_meta(uint8_t *pkt, size_t headroom, uint32_t len, struct satp_xdp_meta *m)
{
	size_t ip_min;

	if (headroom < sizeof(*m)) /* no room for it before the frame */
		return false;
	memcpy(m, pkt - sizeof(*m), sizeof(*m));
	if (m->magic != SATP_XDP_META_MAGIC)
		return false;
	memset(pkt - sizeof(*m), 0, sizeof(m->magic));
	ip_min = ip_hdr_min(m->family);
	return ip_min && m->l3_off >= ETH_HLEN && m->l3_off + ip_min <= m->l4_off &&
	       m->l4_off <= len;
}

/*
 * The one parser of a frame that came without metadata (a driver without XDP
 * metadata support): it finds the headers the way satp_rx did (satp_parse.h),
 * within its limits, and says so in the same struct.
 */
bool satpd_frame_parse(const uint8_t *p, uint32_t len, struct satp_xdp_meta *m)
{
	uint32_t off = offsetof(struct ethhdr, h_proto), l4, n;
	uint16_t type;
	uint8_t next;

	if (len < ETH_HLEN)
		return false;
	type = be16_at(p + off);
	for (n = 0; (type == ETH_P_8021Q || type == ETH_P_8021AD) && n < SATP_XDP_MAX_VLANS &&
		    off + VLAN_TAG_LEN + sizeof(type) <= len;
	     n++) {
		off += VLAN_TAG_LEN;
		type = be16_at(p + off);
	}
	off += sizeof(type);
	if (type == ETH_P_IP) {
		struct iphdr ip;

		if (off + sizeof(ip) > len)
			return false;
		memcpy(&ip, p + off, sizeof(ip));
		if (ip.protocol != IPPROTO_UDP || ip.ihl * 4u < sizeof(ip))
			return false;
		m->family = AF_INET;
		l4 = off + ip.ihl * 4u;
	} else if (type == ETH_P_IPV6) {
		struct ip6_hdr ip6;
		struct ip6_ext ext;

		if (off + sizeof(ip6) > len)
			return false;
		memcpy(&ip6, p + off, sizeof(ip6));
		m->family = AF_INET6;
		next = ip6.ip6_nxt;
		l4 = off + sizeof(ip6);
		for (n = 0; n < SATP_XDP_MAX_EXTHDRS &&
			    (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING ||
			     next == IPPROTO_DSTOPTS);
		     n++) {
			if (l4 + IP6_EXT_UNIT > len)
				return false;
			memcpy(&ext, p + l4, sizeof(ext));
			next = ext.ip6e_nxt;
			l4 += (ext.ip6e_len + 1u) * IP6_EXT_UNIT;
		}
		if (next != IPPROTO_UDP)
			return false;
	} else {
		return false;
	}
	m->l3_off = (uint16_t)off;
	m->l4_off = (uint16_t)l4;
	return l4 <= len;
}

/* The datagram of a frame whose headers m locates, and its source; false if it does not fit. */
bool satpd_frame_datagram(uint8_t *p, uint32_t len, const struct satp_xdp_meta *m,
			  struct satpd_rx_frame *f)
{
	struct udphdr udp;
	uint32_t ulen;

	if (m->l4_off + sizeof(udp) > len)
		return false;
	memcpy(&udp, p + m->l4_off, sizeof(udp));
	ulen = ntohs(udp.len);
	if (ulen < sizeof(udp) || m->l4_off + ulen > len)
		return false;
	memset(&f->src, 0, sizeof(f->src));
	if (m->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&f->src;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, p + m->l3_off + offsetof(struct iphdr, saddr), 4);
		s4->sin_port = udp.source;
		f->srclen = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&f->src;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, p + m->l3_off + offsetof(struct ip6_hdr, ip6_src), 16);
		s6->sin6_port = udp.source;
		f->srclen = sizeof(*s6);
	}
	f->dport = ntohs(udp.dest);
	f->dg = p + m->l4_off + sizeof(udp);
	f->dglen = ulen - sizeof(udp);
	return true;
}
