// SPDX-License-Identifier: GPL-2.0-only
/*
 * The floor for `make bench-xdp`: drop everything and count it, the least an
 * XDP program can do per packet. satp_rx's flood drop rate is reported as a
 * fraction of this one's, measured in the same run.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Packets dropped, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drop_count SEC(".maps");

SEC("xdp")
int xdp_drop_all(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&drop_count, &key);

	if (n)
		(*n)++;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
