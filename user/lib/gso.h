/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Packets read from a tun opened with IFF_VNET_HDR and TUN_F_CSUM/TSO4/TSO6:
 * each comes behind a struct virtio_net_hdr and may be a TCP super-packet of
 * up to 64 KB (gso_type TCPV4/TCPV6, segments of gso_size payload bytes) or
 * carry a checksum left for us to finish (VIRTIO_NET_HDR_F_NEEDS_CSUM). This
 * turns one into the MSS-sized, fully checksummed IP packets a peer expects,
 * one at a time, the way the kernel's TCP segmentation does: per segment the
 * IPv4 total length, ID (+1 each) and header checksum, the IPv6 payload
 * length, the TCP seq (+payload before it) and checksum; FIN and PSH only on
 * the last segment, CWR only on the first. Pure: no syscalls, no allocation.
 */
#ifndef SATP_GSO_H
#define SATP_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_net.h>

/* The header a tun with IFF_VNET_HDR puts in front of every packet (TUNSETVNETHDRSZ unset). */
#define SATP_VNET_HDR_LEN sizeof(struct virtio_net_hdr)
/* The largest packet such a tun hands over: a 64 KB IP packet plus its header. */
#define SATP_GSO_MAX_LEN (65535u + SATP_VNET_HDR_LEN)

/* Where one super-packet is in its segmentation. */
struct satp_gso {
	const uint8_t *pkt; /* the IP packet, after the virtio header */
	size_t len;
	size_t l4_off;	 /* start of the TCP header (GSO) */
	size_t hdr_len;	 /* IP + TCP headers, repeated in every segment */
	size_t mss;	 /* payload bytes per segment; 0: not GSO, one packet */
	size_t off;	 /* payload bytes of pkt already emitted */
	bool csum;	 /* NEEDS_CSUM, not GSO: finish the checksum at csum_start/offset */
	uint16_t csum_start, csum_offset;
	unsigned int index; /* segments emitted */
	bool done;
};

/*
 * Take the packet buf (virtio header + IP packet, len bytes as read) apart.
 * 0, or -EINVAL for what cannot be segmented: too short, an unknown or
 * inconsistent gso_type, not TCP, a checksum offset outside the packet.
 */
int satp_gso_start(struct satp_gso *g, const uint8_t *buf, size_t len);
/*
 * Write the next packet into out (cap bytes): returns its length, 0 when
 * there is none left, -EMSGSIZE if it does not fit.
 */
int satp_gso_next(struct satp_gso *g, uint8_t *out, size_t cap);

/* The Internet checksum's one's-complement sum of len bytes (not folded, not inverted). */
uint32_t satp_csum_add(uint32_t sum, const uint8_t *p, size_t len);
/* Fold a sum to 16 bits and invert it: the value stored in a header. */
uint16_t satp_csum_fold(uint32_t sum);

#endif /* SATP_GSO_H */
