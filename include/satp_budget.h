/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The token bucket of every budget satpd keeps, in XDP (satp_hs_budget,
 * satp_hs_ceiling, satp_unv_budget: include/satp_xdp.h) and in the daemon
 * (user/satpd/hsbudget.h): one step of GCRA, written once. A bucket is the
 * time it is next empty, tat ("theoretical arrival time"), in ns of one
 * clock: with t = 1 s / rate, a datagram at now may pass when max(tat, now)
 * + t is at most limit_ns past now (burst * t for the whole bucket, less to
 * keep a reserve), and then tat moves there. tat 0: a full bucket.
 */
#ifndef SATP_BUDGET_H
#define SATP_BUDGET_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SATP_BUDGET_NS_PER_S 1000000000ull

/* The refill interval of a budget of pps a second, def when pps is 0 (the configured default). */
static inline __u64 satp_budget_interval(__u32 pps, __u32 def)
{
	return SATP_BUDGET_NS_PER_S / (pps ? pps : def);
}

/* 1 and the new tat in *next when a datagram at now fits; 0 when the bucket is empty. */
static inline int satp_budget_step(__u64 tat, __u64 now, __u64 t, __u64 limit_ns, __u64 *next)
{
	__u64 n = (tat > now ? tat : now) + t;

	if (n - now > limit_ns)
		return 0;
	*next = n;
	return 1;
}

#endif /* SATP_BUDGET_H */
