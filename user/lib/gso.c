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
	uint64_t acc = sum;
	uint32_t w;

	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w, p, sizeof(w));
		acc += be32toh(w);
	}
	if (len >= 2) {
		acc += get_be16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)p[0] << 8;
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)((acc & 0xffff) + (acc >> 16));
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
		tcp[TCP_FLAGS_OFF] &= (uint8_t)~(TCP_FIN | TCP_PSH);
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
