// SPDX-License-Identifier: GPL-2.0-only
/* One-line summaries of inner packets (inner.h). */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>

#include "inner.h"
#include "pkt.h"
#include "satp_wire.h"

#define IPV4_OFFSET  0x1fff
#define L4_PORTS_LEN 4 /* source and destination port */
#define ICMP_TC_LEN  2 /* type and code */

/* Append to out at *pos, never past outlen; snprintf keeps it terminated. */
static void __attribute__((format(printf, 4, 5)))
put(char *out, size_t outlen, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= outlen)
		return;
	va_start(ap, fmt);
	n = vsnprintf(out + *pos, outlen - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n;
}

static void l4_summary(uint8_t proto, struct cursor *c, char *out, size_t outlen, size_t *pos)
{
	const uint8_t *h;

	switch (proto) {
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		put(out, outlen, pos, proto == IPPROTO_ICMP_ ? " ICMP" : " ICMPv6");
		h = cur_pull(c, ICMP_TC_LEN);
		if (h)
			put(out, outlen, pos, " type %u code %u", h[0], h[1]);
		else
			put(out, outlen, pos, " (cut)");
		return;
	case IPPROTO_TCP_:
	case IPPROTO_UDP_:
		put(out, outlen, pos, proto == IPPROTO_TCP_ ? " TCP" : " UDP");
		h = cur_pull(c, L4_PORTS_LEN);
		if (h)
			put(out, outlen, pos, " %u -> %u", get_be16(h), get_be16(h + 2));
		else
			put(out, outlen, pos, " (cut)");
		return;
	default:
		put(out, outlen, pos, " proto %u", proto);
	}
}

static void ipv4_summary(struct cursor *c, char *out, size_t outlen, size_t *pos)
{
	char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];
	const uint8_t *h = c->p;
	size_t ihl;

	if (cur_left(c) < IPV4_MIN_HLEN || h[0] >> 4 != 4) {
		put(out, outlen, pos, "IPv4 (malformed, %zu bytes)", cur_left(c));
		return;
	}
	inet_ntop(AF_INET, h + 12, s, sizeof(s));
	inet_ntop(AF_INET, h + 16, d, sizeof(d));
	put(out, outlen, pos, "IPv4 %s -> %s", s, d);
	ihl = (size_t)(h[0] & 0x0f) * 4;
	if (ihl < IPV4_MIN_HLEN || !cur_pull(c, ihl)) {
		put(out, outlen, pos, " (bad header length)");
		return;
	}
	if (get_be16(h + 6) & IPV4_OFFSET) {
		put(out, outlen, pos, " proto %u fragment", h[9]);
		return;
	}
	l4_summary(h[9], c, out, outlen, pos);
}

static void ipv6_summary(struct cursor *c, char *out, size_t outlen, size_t *pos)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	const uint8_t *h = c->p;
	struct ipv6_l4 l4;

	if (cur_left(c) < IPV6_HLEN || h[0] >> 4 != 6) {
		put(out, outlen, pos, "IPv6 (malformed, %zu bytes)", cur_left(c));
		return;
	}
	cur_pull(c, IPV6_HLEN);
	inet_ntop(AF_INET6, h + 8, s, sizeof(s));
	inet_ntop(AF_INET6, h + 24, d, sizeof(d));
	put(out, outlen, pos, "IPv6 %s -> %s", s, d);
	if (!ipv6_walk(c, h[6], &l4)) {
		put(out, outlen, pos, " (bad extension headers)");
		return;
	}
	if (l4.fragment && !l4.first_frag) {
		put(out, outlen, pos, " proto %u fragment", l4.proto);
		return;
	}
	l4_summary(l4.proto, c, out, outlen, pos);
}

static void ether_summary(struct cursor *c, char *out, size_t outlen, size_t *pos)
{
	const uint8_t *h = cur_pull(c, ETH_HLEN_);
	uint16_t type;

	if (!h) {
		put(out, outlen, pos, "Ethernet (malformed, %zu bytes)", cur_left(c));
		return;
	}
	type = get_be16(h + 12);
	put(out, outlen, pos,
	    "Ethernet %02x:%02x:%02x:%02x:%02x:%02x -> %02x:%02x:%02x:%02x:%02x:%02x "
	    "ethertype 0x%04x",
	    h[6], h[7], h[8], h[9], h[10], h[11], h[0], h[1], h[2], h[3], h[4], h[5], type);
	if (type == ETHERTYPE_IPV4) {
		put(out, outlen, pos, " ");
		ipv4_summary(c, out, outlen, pos);
	} else if (type == ETHERTYPE_IPV6) {
		put(out, outlen, pos, " ");
		ipv6_summary(c, out, outlen, pos);
	}
}

void inner_summary(uint16_t ptype, const uint8_t *pkt, size_t len, char *out, size_t outlen)
{
	struct cursor c = {pkt, pkt + len};
	size_t pos = 0;

	if (outlen)
		out[0] = '\0';
	switch (ptype) {
	case SATP_PTYPE_IPV4:
		ipv4_summary(&c, out, outlen, &pos);
		break;
	case SATP_PTYPE_IPV6:
		ipv6_summary(&c, out, outlen, &pos);
		break;
	case SATP_PTYPE_ETHER:
		ether_summary(&c, out, outlen, &pos);
		break;
	default:
		/* tun senders leave a stale or zero type for non-IP packets (satp.md §2) */
		put(out, outlen, &pos, "unknown payload type, %zu bytes", len);
	}
}
