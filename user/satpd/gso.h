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
/*
 * Room for the largest packet such a tun hands over, or a merge builds: the
 * virtio header, an IPv6 header and 64 KB of payload (IPv4's total length
 * stays below that).
 */
#define SATP_GSO_MAX_LEN (SATP_VNET_HDR_LEN + 40u + 65535u)

/* Where one super-packet is in its segmentation. */
struct satp_gso {
	const uint8_t *pkt; /* the IP packet, after the virtio header */
	size_t len;
	size_t l4_off;	/* start of the TCP header (GSO) */
	size_t hdr_len; /* IP + TCP headers, repeated in every segment */
	size_t mss;	/* payload bytes per segment; 0: not GSO, one packet */
	size_t off;	/* payload bytes of pkt already emitted */
	bool csum;	/* NEEDS_CSUM, not GSO: finish the checksum at csum_start/offset */
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

/*
 * The other way, for writes to such a tun: consecutive in-order TCP segments
 * of one flow (same addresses, ports, ack, window and options; full-sized
 * but for the last; only ACK and a final PSH) are merged into one
 * super-packet with a GSO virtio header, so the kernel's TCP receives ~45
 * segments in one skb, as its own GRO would have built it. A segment whose
 * checksum does not verify is never merged, so the kernel still drops it.
 */
struct satp_gro {
	uint8_t *buf; /* SATP_GSO_MAX_LEN: virtio header + merged packet */
	size_t len;   /* IP bytes after the virtio header; 0: empty */
	size_t l4_off, hdr_len, mss;
	unsigned int segs;
	uint32_t next_seq;
	bool closed; /* the last segment was short or pushed: nothing may follow */
};

/* Append the IP packet pkt if it continues what g holds (or starts it, g empty). */
bool satp_gro_add(struct satp_gro *g, const uint8_t *pkt, size_t len);
/*
 * Complete the headers of what g holds; returns the bytes to write from
 * g->buf (virtio header included), 0 if empty. Leaves g empty.
 */
size_t satp_gro_finish(struct satp_gro *g);

/* The Internet checksum's one's-complement sum of len bytes (not folded, not inverted). */
uint32_t satp_csum_add(uint32_t sum, const uint8_t *p, size_t len);
/* Fold a sum to 16 bits and invert it: the value stored in a header. */
uint16_t satp_csum_fold(uint32_t sum);

#endif /* SATP_GSO_H */
