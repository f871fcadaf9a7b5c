/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Ethernet/IP/UDP headers AF_XDP TX puts in front of a sealed datagram,
 * built from the kernel's tables: the route to the remote (RTM_GETROUTE:
 * output interface, gateway, preferred source) and the next hop's MAC
 * (RTM_GETNEIGH), over rtnetlink with libmnl. The main thread resolves them
 * off the packet path (when the remote moves, and every
 * SATPD_NEXTHOP_REFRESH_MS) and publishes a template the workers copy under a
 * seqlock. While anything is unknown (neighbour not resolved yet, route via
 * another interface) the template is invalid and workers send through the
 * UDP socket, so the kernel resolves the neighbour.
 */
#ifndef SATPD_NEXTHOP_H
#define SATPD_NEXTHOP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "seqlock.h"

/* Re-resolve this often: a neighbour that moves is picked up within a second. */
#define SATPD_NEXTHOP_REFRESH_MS 1000
/* Ethernet (14) + IPv6 (40) + UDP (8); IPv4 uses 42. No VLAN tags on the underlay device. */
#define SATPD_L2_HDR_MAX 62
#define SATPD_ETH_HLEN	 14
#define SATPD_UDP_HLEN	 8

/* What a worker needs to frame one datagram. */
struct satpd_l2_tmpl {
	bool valid;
	uint32_t remote_gen; /* the remote's seqlock generation it was built for */
	int family;	     /* AF_INET or AF_INET6 */
	uint16_t hdr_len;    /* 42 or 62 */
	uint32_t mtu;	     /* of the underlay: longer IP packets go by the socket (fragments) */
	uint32_t pseudo;     /* UDP pseudo-header sum of the addresses and protocol, folded */
	uint8_t hdr[SATPD_L2_HDR_MAX];
};

/* The published template: main thread writes, workers read without a lock. */
struct satpd_l2 {
	struct satpd_seqlock seq;
	struct satpd_l2_tmpl t;
};

/*
 * Resolve the headers for datagrams from local_port (and local address src
 * when bound: AF_UNSPEC family otherwise) to remote, leaving by ifindex.
 * 0 and a valid template, -EAGAIN while the neighbour is unresolved,
 * -ENETUNREACH when the route leaves by another interface, else -errno.
 */
int satpd_nexthop_resolve(const struct sockaddr_storage *remote, const struct sockaddr_storage *src,
			  uint16_t local_port, int ifindex, struct satpd_l2_tmpl *out);

void satpd_l2_publish(struct satpd_l2 *l2, const struct satpd_l2_tmpl *t);
void satpd_l2_read(struct satpd_l2 *l2, struct satpd_l2_tmpl *t);

/*
 * Write the headers for a datagram of len bytes at frame + t->hdr_len into
 * frame: lengths, IPv4 header checksum, UDP checksum over the payload.
 */
void satpd_l2_frame(const struct satpd_l2_tmpl *t, uint8_t *frame, size_t len);

#endif /* SATPD_NEXTHOP_H */
