/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An AF_XDP frame as the rx pipeline takes it: where its SATP datagram lies and
 * who sent it. satp_rx says where the headers are (struct satp_xdp_meta,
 * include/satp_xdp.h); a frame that came without that metadata (a driver
 * without XDP metadata support) is parsed here the way satp_rx parses it, by
 * the one parser of the daemon. No state: tests/unit/test_frame.c and
 * tests/bpf/test_xdp.c (both parsers agree on every redirected frame) link it.
 */
#ifndef SATPD_FRAME_H
#define SATPD_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/types.h>

#include "satp_xdp.h"

/* A redirected frame as the rx pipeline takes it. */
struct satpd_rx_frame {
	uint8_t *dg; /* the SATP datagram: the UDP payload */
	size_t dglen;
	uint16_t dport; /* host order: with RAIL, the port names the path's socket */
	struct sockaddr_storage src;
	socklen_t srclen;
};

/*
 * The metadata satp_rx put in the HEADROOM bytes before PKT, if it is there
 * and its headers lie in order inside LEN; its magic is wiped once read.
 */
bool satpd_frame_meta(uint8_t *pkt, size_t headroom, uint32_t len, struct satp_xdp_meta *m);
/* The headers of a frame without metadata, found as satp_rx finds them; false: not IP/UDP. */
bool satpd_frame_parse(const uint8_t *p, uint32_t len, struct satp_xdp_meta *m);
/* The datagram and its source in a frame whose headers m locates; false if it does not fit. */
bool satpd_frame_datagram(uint8_t *p, uint32_t len, const struct satp_xdp_meta *m,
			  struct satpd_rx_frame *f);

#endif /* SATPD_FRAME_H */
