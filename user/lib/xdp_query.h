/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What both binaries need to know about an attached XDP program without the
 * loader (user/satpd/satp_xdp_loader.h), which embeds the BPF object: `satp
 * show` and /metrics name the mode, `satp show` asks which program an
 * interface runs, and both find the pins where the loader puts them.
 */
#ifndef SATP_XDP_QUERY_H
#define SATP_XDP_QUERY_H

#include <stdint.h>

#include "satp_xdp.h"

/* Where the loader pins the maps (<root>/satpd/<ifname>/) unless told otherwise. */
#define SATP_XDP_PIN_ROOT_DEFAULT "/sys/fs/bpf"

/* "none" "native" "skb" */
const char *satp_xdp_mode_name(enum satp_xdp_attach_mode mode);

/* Any program on an interface: its mode and id (0 and NONE when there is none). */
int satp_xdp_query(const char *ifname, enum satp_xdp_attach_mode *mode, uint32_t *prog_id);

#endif /* SATP_XDP_QUERY_H */
