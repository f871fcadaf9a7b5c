/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The budget of handshake-space datagrams (mux SATP_HS_MUX: the handshake's
 * and an external key exchange's) that satp_rx did not judge: every one on
 * the socket path (--xdp-mode off, or after a fallback), and on the XDP path
 * those the kernel reassembled from IP fragments (satp_rx passes a fragment
 * on, it cannot see the UDP payload of all of them). The rules are satp_rx's
 * (satp_hs_wire.h): a budget per source address, which never drops by itself
 * since the address can be spoofed, and a ceiling of all sources of which
 * half is kept for sources within their budget. Main thread only: no locks.
 */
#ifndef SATPD_HSBUDGET_H
#define SATPD_HSBUDGET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "counters.h"

/* Sources with a budget, direct-mapped by a keyed hash of the address: one
 * that lands on another's entry takes it over and starts full, as an evicted
 * source does in satp_rx's LRU (SATP_XDP_HS_SOURCES). 96 KiB. */
#define SATPD_HS_BUDGET_SOURCES 4096u

/* What its verdicts cost, counted by whoever asks for them (compose.c). */
/* clang-format off */
#define SATPD_HS_BUDGET_COUNTERS(X) \
	X(rx_hs_shared)      /* mux 0xFFFF, satp_rx did not judge it: source over its budget, \
			      * passed on the ceiling's shared half */                    \
	X(rx_hs_over_budget) /* ... dropped: source over its budget, shared half spent */ \
	X(rx_hs_ceiling)     /* ... dropped: the ceiling of all sources spent */
/* clang-format on */

enum satpd_hs_budget_counter {
	SATPD_HS_BUDGET_COUNTERS(SATPD_COUNTER_INDEX)
};
extern const struct satpd_counter_set satpd_hs_budget_counters;

enum satpd_hs_admit {
	SATPD_HS_OWN,	  /* within the source's budget */
	SATPD_HS_SHARED,  /* source over, on the ceiling's shared half */
	SATPD_HS_OVER,	  /* source over, shared half spent: drop */
	SATPD_HS_CEILING, /* the ceiling of all sources spent: drop */
};

/*
 * Times (tat, now_ns) are CLOCK_MONOTONIC ns, one view per table: the
 * _COARSE one on the packet path (satpd_coarse_ns), the precise one in the
 * handshake's table of cookied sources (satpd_mono_ns).
 */
struct satpd_hs_budget_src {
	uint8_t addr[16]; /* IPv6, or IPv4 as ::ffff:a.b.c.d */
	uint64_t tat;	  /* satp_budget.h; 0: full (and an unused entry) */
};

struct satpd_hs_budget {
	uint64_t ceiling_tat; /* the same, for all sources */
	uint64_t seed;	      /* of the entry hash: no one picks addresses that share an entry */
	struct satpd_hs_budget_src src[SATPD_HS_BUDGET_SOURCES];
};

/* Allocated once, full; NULL on failure. */
struct satpd_hs_budget *satpd_hs_budget_new(void);
void satpd_hs_budget_free(struct satpd_hs_budget *b);
/* One datagram from src at now_ns (CLOCK_MONOTONIC): which budget, if any, lets it pass. */
enum satpd_hs_admit satpd_hs_budget_take(struct satpd_hs_budget *b,
					 const struct sockaddr_storage *src, uint64_t now_ns);
/*
 * The source's budget alone, for what only its real owner can send: an
 * initiation with a valid cookie under load (handshake.c), before its DH.
 * false: none left.
 */
bool satpd_hs_budget_source_take(struct satpd_hs_budget *b, const struct sockaddr_storage *src,
				 uint64_t now_ns);

#endif /* SATPD_HSBUDGET_H */
