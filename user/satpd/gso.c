// SPDX-License-Identifier: GPL-2.0-only
/*
 * Segmentation of tun super-packets (gso.h). The checksum is RFC 1071's,
 * summed 32 bits at a time into 64 (2^16 = 1 modulo 2^16 - 1, so wider words
 * fold to the same value).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <netinet/in.h>

#include "gso.h"

#define IPPROTO_TCP_NUM IPPROTO_TCP

#define IPV4_HLEN_MIN 20
#define IPV6_HLEN     40
#define TCP_HLEN_MIN  20
#define TCP_FLAGS_OFF 13
#define TCP_FIN	      0x01
#define TCP_PSH	      0x08
#define TCP_CWR	      0x80
#define TCP_CSUM_OFF  16
#define UDP_CSUM_OFF  6 /* a UDP checksum that sums to 0 is sent as 0xffff (RFC 768) */

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint32_t satp_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	/*
	 * Summed in memory order, byte-swapped once at the end (RFC 1071 2(B)).
	 * 32-bit words into two 64-bit sums: no carry to propagate until 2^32
	 * words, and two chains the CPU runs side by side.
	 */
	uint64_t a0 = 0, a1 = 0, acc;
	uint32_t w[4];
	uint16_t w16 = 0;

	for (; len >= sizeof(w); p += sizeof(w), len -= sizeof(w)) {
		memcpy(w, p, sizeof(w));
		a0 += (uint64_t)w[0] + w[1];
		a1 += (uint64_t)w[2] + w[3];
	}
	acc = a0 + a1;
	if (len >= 8) {
		memcpy(w, p, 8);
		acc += (uint64_t)w[0] + w[1];
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		memcpy(w, p, 4);
		acc += w[0];
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w16, p, sizeof(w16));
		acc += w16;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t last[2] = {p[0], 0};

		memcpy(&w16, last, sizeof(w16));
		acc += w16;
	}
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	return sum + be16toh((uint16_t)acc);
}

uint16_t satp_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static int start_tcp(struct satp_gso *g, unsigned int version, size_t mss)
{
	const uint8_t *p = g->pkt;
	size_t l4;

	if (!g->len || p[0] >> 4 != version)
		return -EINVAL;
	if (version == 4) {
		l4 = (size_t)(p[0] & 0xf) * 4;
		if (l4 < IPV4_HLEN_MIN || g->len < l4 || p[9] != IPPROTO_TCP_NUM)
			return -EINVAL;
	} else {
		l4 = IPV6_HLEN;
		if (g->len < l4 || p[6] != IPPROTO_TCP_NUM)
			return -EINVAL; /* extension headers: the kernel's TSO never adds any */
	}
	if (g->len < l4 + TCP_HLEN_MIN || (p[l4 + 12] >> 4) * 4u < TCP_HLEN_MIN)
		return -EINVAL;
	g->l4_off = l4;
	g->hdr_len = l4 + (p[l4 + 12] >> 4) * 4u;
	if (g->hdr_len >= g->len || !mss)
		return -EINVAL;
	g->mss = mss;
	return 0;
}

int satp_gso_start(struct satp_gso *g, const uint8_t *buf, size_t len)
{
	struct virtio_net_hdr h;

	memset(g, 0, sizeof(*g));
	if (len <= SATP_VNET_HDR_LEN)
		return -EINVAL;
	memcpy(&h, buf, sizeof(h));
	g->pkt = buf + SATP_VNET_HDR_LEN;
	g->len = len - SATP_VNET_HDR_LEN;
	switch (h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		break;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return start_tcp(g, 4, le16toh(h.gso_size));
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return start_tcp(g, 6, le16toh(h.gso_size));
	default:
		return -EINVAL;
	}
	if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		g->csum = true;
		g->csum_start = le16toh(h.csum_start);
		g->csum_offset = le16toh(h.csum_offset);
		if ((size_t)g->csum_start + g->csum_offset + 2 > g->len)
			return -EINVAL;
	}
	return 0;
}

/* Not GSO: the packet as it is, its checksum finished if the kernel left it to us. */
static int next_whole(struct satp_gso *g, uint8_t *out, size_t cap)
{
	uint8_t *field;
	uint16_t c;

	if (g->len > cap)
		return -EMSGSIZE;
	memcpy(out, g->pkt, g->len);
	g->done = true;
	if (!g->csum)
		return (int)g->len;
	/* The field holds the pseudo-header's sum: the rest of the packet adds to it. */
	field = out + g->csum_start + g->csum_offset;
	c = satp_csum_fold(satp_csum_add(0, out + g->csum_start, g->len - g->csum_start));
	if (!c && g->csum_offset == UDP_CSUM_OFF)
		c = 0xffff;
	put_be16(field, c);
	return (int)g->len;
}

static uint32_t pseudo_sum(const uint8_t *ip, size_t l4_len)
{
	uint32_t sum = IPPROTO_TCP_NUM + (uint32_t)l4_len;

	if (ip[0] >> 4 == 4)
		return satp_csum_add(sum, ip + 12, 8);
	return satp_csum_add(sum, ip + 8, 32);
}

int satp_gso_next(struct satp_gso *g, uint8_t *out, size_t cap)
{
	size_t payload = g->len - g->hdr_len, seg, l4_len, total;
	uint8_t *tcp = out + g->l4_off;
	uint32_t seq;
	bool last;

	if (g->done)
		return 0;
	if (!g->mss)
		return next_whole(g, out, cap);
	seg = payload - g->off < g->mss ? payload - g->off : g->mss;
	total = g->hdr_len + seg;
	if (total > cap)
		return -EMSGSIZE;
	last = g->off + seg == payload;
	memcpy(out, g->pkt, g->hdr_len);
	memcpy(out + g->hdr_len, g->pkt + g->hdr_len + g->off, seg);
	l4_len = total - g->l4_off;

	if (out[0] >> 4 == 4) {
		put_be16(out + 2, (uint16_t)total);
		put_be16(out + 4, (uint16_t)(get_be16(out + 4) + g->index));
		put_be16(out + 10, 0);
		put_be16(out + 10, satp_csum_fold(satp_csum_add(0, out, g->l4_off)));
	} else {
		put_be16(out + 4, (uint16_t)(total - IPV6_HLEN));
	}
	memcpy(&seq, tcp + 4, sizeof(seq));
	seq = htobe32(be32toh(seq) + (uint32_t)g->off);
	memcpy(tcp + 4, &seq, sizeof(seq));
	if (!last)
		tcp[TCP_FLAGS_OFF] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
	if (g->index)
		tcp[TCP_FLAGS_OFF] &= (uint8_t)~TCP_CWR;
	put_be16(tcp + TCP_CSUM_OFF, 0);
	put_be16(tcp + TCP_CSUM_OFF,
		 satp_csum_fold(satp_csum_add(pseudo_sum(out, l4_len), tcp, l4_len)));

	g->off += seg;
	g->index++;
	g->done = last;
	return (int)total;
}

/* ---------------------------------------------------------------- merge (GRO) */

#define TCP_ACK	     0x10
#define IPV4_DF_MASK 0xbfff /* the flags/fragment field without DF: MF and offset must be 0 */
#define TCP_OPT_OFF  20
#define IP_LEN_MAX   65535 /* IPv4 total length, IPv6 payload length: 16 bits */

static bool tcp_csum_ok(const uint8_t *ip, size_t len, size_t l4)
{
	return satp_csum_fold(satp_csum_add(pseudo_sum(ip, len - l4), ip + l4, len - l4)) == 0;
}

/* The TCP header offset of a segment that may be merged at all, else 0. */
static size_t gro_l4(const uint8_t *p, size_t len)
{
	size_t l4, hdr;

	if (len < IPV4_HLEN_MIN)
		return 0;
	if (p[0] == 0x45) {
		if (p[9] != IPPROTO_TCP_NUM || (get_be16(p + 6) & IPV4_DF_MASK) ||
		    get_be16(p + 2) != len)
			return 0;
		l4 = IPV4_HLEN_MIN;
	} else if (p[0] >> 4 == 6) {
		if (len < IPV6_HLEN || p[6] != IPPROTO_TCP_NUM ||
		    get_be16(p + 4) + (size_t)IPV6_HLEN != len)
			return 0;
		l4 = IPV6_HLEN;
	} else {
		return 0;
	}
	if (len < l4 + TCP_HLEN_MIN)
		return 0;
	hdr = l4 + (p[l4 + 12] >> 4) * 4u;
	/* Data, only ACK (and PSH): no SYN, FIN, RST, URG, ECE, CWR. */
	if (hdr < l4 + TCP_HLEN_MIN || hdr >= len || (p[l4 + 13] & ~TCP_PSH) != TCP_ACK)
		return 0;
	return tcp_csum_ok(p, len, l4) ? l4 : 0;
}

static uint32_t tcp_seq(const uint8_t *tcp)
{
	return (uint32_t)get_be16(tcp + 4) << 16 | get_be16(tcp + 6);
}

/* Does seg (headers hdr bytes, payload plen) continue the flow g holds? */
static bool gro_fits(const struct satp_gro *g, const uint8_t *seg, size_t hdr, size_t plen)
{
	const uint8_t *first = g->buf + SATP_VNET_HDR_LEN, *t1 = first + g->l4_off;
	const uint8_t *t2 = seg + g->l4_off;

	if (g->closed || hdr != g->hdr_len || plen > g->mss ||
	    g->len + plen - (first[0] >> 4 == 6 ? IPV6_HLEN : 0) > IP_LEN_MAX ||
	    tcp_seq(t2) != g->next_seq)
		return false;
	if (first[0] == 0x45) {
		/* TOS, TTL, protocol, addresses alike; IDs counting up, as segmentation makes them. */
		if (seg[0] != first[0] || seg[1] != first[1] || seg[8] != first[8] ||
		    memcmp(seg + 12, first + 12, 8) ||
		    get_be16(seg + 4) != (uint16_t)(get_be16(first + 4) + g->segs))
			return false;
	} else if (seg[0] >> 4 != 6 || memcmp(seg, first, 4) || seg[7] != first[7] ||
		   memcmp(seg + 8, first + 8, 32)) {
		return false;
	}
	/* Ports, ack, window, options alike; flags alike but for PSH. */
	return !memcmp(t2, t1, 4) && !memcmp(t2 + 8, t1 + 8, 5) &&
	       ((t2[13] ^ t1[13]) & ~TCP_PSH) == 0 && !memcmp(t2 + 14, t1 + 14, 2) &&
	       !memcmp(t2 + TCP_OPT_OFF, t1 + TCP_OPT_OFF, hdr - g->l4_off - TCP_OPT_OFF);
}

bool satp_gro_add(struct satp_gro *g, const uint8_t *pkt, size_t len)
{
	uint8_t *ip = g->buf + SATP_VNET_HDR_LEN;
	size_t l4 = gro_l4(pkt, len), hdr, plen;

	if (!l4 || (g->len && l4 != g->l4_off))
		return false;
	hdr = l4 + (pkt[l4 + 12] >> 4) * 4u;
	plen = len - hdr;
	if (!g->len) {
		memcpy(ip, pkt, len);
		g->len = len;
		g->l4_off = l4;
		g->hdr_len = hdr;
		g->mss = plen;
		g->segs = 1;
	} else {
		if (!gro_fits(g, pkt, hdr, plen))
			return false;
		memcpy(ip + g->len, pkt + hdr, plen);
		g->len += plen;
		g->segs++;
		ip[l4 + 13] |= pkt[l4 + 13] & TCP_PSH;
	}
	g->next_seq = tcp_seq(pkt + l4) + (uint32_t)plen;
	g->closed = plen < g->mss || (pkt[l4 + 13] & TCP_PSH);
	return true;
}

size_t satp_gro_finish(struct satp_gro *g)
{
	struct virtio_net_hdr h = {0};
	uint8_t *ip = g->buf + SATP_VNET_HDR_LEN, *tcp = ip + g->l4_off;
	size_t len = g->len;

	if (!len)
		return 0;
	g->len = 0;
	if (g->segs > 1) {
		if (ip[0] >> 4 == 4) {
			put_be16(ip + 2, (uint16_t)len);
			put_be16(ip + 10, 0);
			put_be16(ip + 10, satp_csum_fold(satp_csum_add(0, ip, g->l4_off)));
			h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		} else {
			put_be16(ip + 4, (uint16_t)(len - IPV6_HLEN));
			h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
		}
		/* Left partial, as the kernel's own GRO output: the pseudo-header's sum. */
		put_be16(tcp + TCP_CSUM_OFF,
			 (uint16_t)~satp_csum_fold(pseudo_sum(ip, len - g->l4_off)));
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.hdr_len = htole16((uint16_t)g->hdr_len);
		h.gso_size = htole16((uint16_t)g->mss);
		h.csum_start = htole16((uint16_t)g->l4_off);
		h.csum_offset = htole16(TCP_CSUM_OFF);
	}
	memcpy(g->buf, &h, sizeof(h));
	return SATP_VNET_HDR_LEN + len;
}
