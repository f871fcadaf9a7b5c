/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Builds Ethernet frames carrying SATP-shaped UDP datagrams (and the
 * deliberately wrong variants the XDP tests need) for the BPF test table, the
 * benchmarks and the veth senders. Header-only: tests link nothing extra.
 * The SATP part is a header and filler: the XDP program never looks further.
 */
#ifndef SATP_FRAME_H
#define SATP_FRAME_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "satp_wire.h"

#define SATP_FRAME_MAX 2048

struct satp_frame_spec {
	int family;	    /* AF_INET, AF_INET6; 0: just Ethernet with `ethertype` */
	uint16_t ethertype; /* with family 0 */
	int vlans;	    /* tags before the EtherType; the outer one is 802.1ad when > 1 */
	int ip4_opt_len;    /* IPv4 options, a multiple of 4, <= 40 */
	int ip6_exts;	    /* IPv6 hop-by-hop, destination options, routing, ... (<= 6) */
	int frag;	    /* 0 none; 1 first fragment (MF); 2 a later one (offset); v6: header */
	uint8_t proto;	    /* 0: UDP */
	int ihl_override;   /* IPv4 IHL field when non-zero (a lie) */
	int udp_len_adj;    /* added to the UDP length field (a lie) */
	uint8_t src_mac[6], dst_mac[6];
	uint8_t src[16], dst[16]; /* network order; IPv4 in the first 4 bytes */
	uint16_t sport, dport;
	uint32_t seq;
	uint16_t sender_id, mux;
	size_t satp_len; /* SATP datagram bytes (UDP payload) */
	size_t pad_to;	 /* Ethernet padding after the IP packet up to this frame length */
};

/*
 * The valid IPv4 SATP frame the BPF tests and benchmarks start from: from
 * 02:..:01 / 10.99.0.1:4444 to 02:..:02 / dst:dport, a SATP datagram of len bytes.
 */
static inline struct satp_frame_spec satp_frame_v4(const uint8_t dst[4], uint16_t dport,
						   uint16_t mux, uint16_t sid, uint32_t seq,
						   size_t len)
{
	struct satp_frame_spec s = {
	    .family = AF_INET,
	    .src_mac = {2, 0, 0, 0, 0, 1},
	    .dst_mac = {2, 0, 0, 0, 0, 2},
	    .src = {10, 99, 0, 1},
	    .sport = 4444,
	    .dport = dport,
	    .seq = seq,
	    .sender_id = sid,
	    .mux = mux,
	    .satp_len = len,
	};

	memcpy(s.dst, dst, 4);
	return s;
}

static inline uint16_t satp_frame_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline void satp_frame_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Returns the frame length, or 0 when it would not fit in cap. */
static inline size_t satp_frame_build(const struct satp_frame_spec *s, uint8_t *buf, size_t cap)
{
	static const uint8_t ext_types[] = {0, 60, 43, 60, 60, 60}; /* hop, dst, routing, dst.. */
	size_t off = 12, l3, l4, ip_hdr, ext_len = 0, udp_len = 8 + s->satp_len;
	uint8_t next = s->proto ? s->proto : 17;
	int i;

	if (cap < SATP_FRAME_MAX || s->satp_len > 1500 || s->vlans > 3 || s->ip6_exts > 6)
		return 0;
	memset(buf, 0, SATP_FRAME_MAX);
	memcpy(buf, s->dst_mac, 6);
	memcpy(buf + 6, s->src_mac, 6);
	for (i = 0; i < s->vlans; i++) {
		satp_frame_put16(buf + off, (i == 0 && s->vlans > 1) ? 0x88A8 : 0x8100);
		satp_frame_put16(buf + off + 2, (uint16_t)(100 + i)); /* VLAN id */
		off += 4;
	}
	if (!s->family) {
		satp_frame_put16(buf + off, s->ethertype);
		off += 2;
		memset(buf + off, 0xa5, 46); /* an ARP-sized body */
		return off + 46;
	}
	satp_frame_put16(buf + off, s->family == AF_INET ? 0x0800 : 0x86DD);
	l3 = off + 2;

	if (s->family == AF_INET) {
		ip_hdr = 20 + (size_t)s->ip4_opt_len;
		l4 = l3 + ip_hdr;
		buf[l3] =
		    (uint8_t)(0x40 | (s->ihl_override ? (size_t)s->ihl_override : ip_hdr / 4));
		satp_frame_put16(buf + l3 + 2, (uint16_t)(ip_hdr + udp_len));
		satp_frame_put16(buf + l3 + 4, 0x5341); /* id */
		if (s->frag == 1)
			satp_frame_put16(buf + l3 + 6, 0x2000);
		else if (s->frag == 2)
			satp_frame_put16(buf + l3 + 6, 185); /* offset 1480 */
		else
			satp_frame_put16(buf + l3 + 6, 0x4000); /* DF */
		buf[l3 + 8] = 64;
		buf[l3 + 9] = next;
		memcpy(buf + l3 + 12, s->src, 4);
		memcpy(buf + l3 + 16, s->dst, 4);
		for (i = 0; i < s->ip4_opt_len; i++)
			buf[l3 + 20 + i] = 1; /* NOP options */
		satp_frame_put16(buf + l3 + 10, satp_frame_csum(buf + l3, ip_hdr));
	} else {
		uint8_t *prev = &buf[l3 + 6];

		l4 = l3 + 40;
		buf[l3] = 0x60;
		buf[l3 + 7] = 64;
		memcpy(buf + l3 + 8, s->src, 16);
		memcpy(buf + l3 + 24, s->dst, 16);
		for (i = 0; i < s->ip6_exts; i++) {
			*prev = ext_types[i];
			prev = &buf[l4];
			buf[l4 + 1] = (uint8_t)(i & 1); /* 8 or 16 bytes, PadN filled */
			buf[l4 + 2] = 1;
			buf[l4 + 3] = (uint8_t)(8 * (i & 1) + 4);
			l4 += 8 * (size_t)(1 + (i & 1));
		}
		if (s->frag) {
			*prev = 44;
			prev = &buf[l4];
			if (s->frag == 1)
				satp_frame_put16(buf + l4 + 2, 0x0001); /* M */
			else
				satp_frame_put16(buf + l4 + 2, 1480);
			buf[l4 + 7] = 0x41; /* identification */
			l4 += 8;
		}
		*prev = next;
		ext_len = l4 - (l3 + 40);
		satp_frame_put16(buf + l3 + 4, (uint16_t)(ext_len + udp_len));
	}

	satp_frame_put16(buf + l4, s->sport);
	satp_frame_put16(buf + l4 + 2, s->dport);
	satp_frame_put16(buf + l4 + 4, (uint16_t)((int)udp_len + s->udp_len_adj));
	{
		uint8_t *d = buf + l4 + 8;
		size_t k;

		for (k = 0; k < s->satp_len; k++)
			d[k] = (uint8_t)(0x30 + k % 64);
		if (s->satp_len >= 4) {
			d[0] = (uint8_t)(s->seq >> 24);
			d[1] = (uint8_t)(s->seq >> 16);
			d[2] = (uint8_t)(s->seq >> 8);
			d[3] = (uint8_t)s->seq;
		}
		if (s->satp_len >= 6)
			satp_frame_put16(d + 4, s->sender_id);
		if (s->satp_len >= 8)
			satp_frame_put16(d + 6, s->mux);
	}
	off = l4 + udp_len;
	if (s->pad_to > off && s->pad_to <= SATP_FRAME_MAX)
		off = s->pad_to;
	return off;
}

#endif /* SATP_FRAME_H */
