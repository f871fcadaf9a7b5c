/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The outer packet of a capture record: link layer -> IPv4/IPv6 -> UDP.
 * Link types: Ethernet (with 802.1Q/802.1ad tags), Linux cooked v1 and v2,
 * raw IP. Used by satp decode only; the daemon's packets come from sockets
 * and XDP, not from captures.
 */
#ifndef SATP_TOOL_OUTER_H
#define SATP_TOOL_OUTER_H

#include <stddef.h>
#include <stdint.h>

enum outer_result {
	OUTER_UDP = 0,	 /* a UDP datagram: every field of struct outer_udp is set */
	OUTER_FRAGMENT,	 /* the first fragment of a UDP datagram: addresses and ports set */
	OUTER_OTHER,	 /* not UDP, or a fragment without the UDP header: not ours */
	OUTER_MALFORMED, /* cut short or inconsistent below UDP */
	OUTER_LINKTYPE,	 /* a link type the parser does not know */
};

struct outer_udp {
	int family;	 /* AF_INET or AF_INET6 */
	uint8_t src[16]; /* network order; IPv4 in the first 4 bytes */
	uint8_t dst[16];
	uint16_t sport; /* host order */
	uint16_t dport;
	const uint8_t *payload; /* into the record */
	size_t payload_len;	/* captured bytes of the payload */
	size_t wire_len;	/* payload length per the UDP header; > payload_len when cut */
};

/* dlt: pcap_datalink(); pkt/caplen: the captured record. */
enum outer_result outer_parse(int dlt, const uint8_t *pkt, size_t caplen, struct outer_udp *u);

#endif /* SATP_TOOL_OUTER_H */
