// SPDX-License-Identifier: GPL-2.0-only
/* The loader-free part of the XDP path (xdp_query.h): a mode's name, what an interface runs. */
#include <errno.h>
#include <net/if.h>

#include <linux/if_link.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdp_query.h"

const char *satp_xdp_mode_name(enum satp_xdp_attach_mode mode)
{
	switch (mode) {
	case SATP_XDP_MODE_NATIVE:
		return "native";
	case SATP_XDP_MODE_SKB:
		return "skb";
	default:
		return "none";
	}
}

int satp_xdp_query(const char *ifname, enum satp_xdp_attach_mode *mode, uint32_t *prog_id)
{
	struct bpf_xdp_query_opts q = {.sz = sizeof(q)};
	int ifindex = (int)if_nametoindex(ifname);

	if (!ifindex)
		return -errno;
	if (bpf_xdp_query(ifindex, 0, &q))
		return -errno;
	*mode = q.attach_mode == XDP_ATTACHED_DRV   ? SATP_XDP_MODE_NATIVE
		: q.attach_mode == XDP_ATTACHED_SKB ? SATP_XDP_MODE_SKB
						    : SATP_XDP_MODE_NONE;
	*prog_id = q.prog_id;
	return 0;
}
