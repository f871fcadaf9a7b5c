/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The replay window, shared by the XDP program (read-only pre-filter) and the
 * daemon (the only writer, after the tag verified). One slot per
 * (mux, sender id). Semantics are anytun's/uanytun's seq window exactly:
 *
 *  - size 0: replay protection off, every authenticated packet is accepted;
 *  - the first packet from a sender is accepted and its seq becomes top;
 *  - seq > top is accepted and slides the window (any distance);
 *  - seq == top is a replay; seq <= top - size is too old;
 *  - inside the window each seq is accepted once;
 *  - near the ends of the uint32 range (top < size or top > 2^32-1-size)
 *    top and seq are both shifted by 2^31-1 before comparing, so the window
 *    works across the wrap.
 *
 * The bitmap is a ring of SATP_WINDOW_BITS bits indexed by the real
 * (unshifted) seq modulo its size, so any size up to SATP_WINDOW_BITS can
 * share one slot layout.
 */
#ifndef SATP_WINDOW_H
#define SATP_WINDOW_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Largest -w satpd supports: the ring size. A power of two, so that
 * seq % SATP_WINDOW_BITS is a mask; 4096 bits = 512 bytes a slot. */
#define SATP_WINDOW_BITS  4096u
#define SATP_WINDOW_WORDS (SATP_WINDOW_BITS / 64)

/* anytun's SEQ_NR_MAX/2: how far top and seq are shifted near the wrap. */
#define SATP_WINDOW_SHIFT 0x7fffffffu

/* satp_window.flags */
#define SATP_WINDOW_VALID 1u /* a packet from this sender has been committed */

struct satp_window {
	__u32 gen;   /* seqlock: odd while the daemon moves top and clears bits */
	__u32 top;   /* highest committed seq (anytun's "max"); host order */
	__u32 size;  /* the connection's -w; 0 = protection off; <= SATP_WINDOW_BITS */
	__u32 flags; /* SATP_WINDOW_* */
	__u64 bits[SATP_WINDOW_WORDS]; /* bit seq % SATP_WINDOW_BITS: seq committed */
};

/* Where a seq stands relative to a valid window. */
enum satp_window_pos {
	SATP_WINDOW_AHEAD = 0, /* seq > top: new, slides the window */
	SATP_WINDOW_INSIDE,    /* top - size < seq < top: look at its bit */
	SATP_WINDOW_TOP,       /* seq == top: always a replay */
	SATP_WINDOW_TOO_OLD,   /* seq <= top - size */
};

/* Pure, branch-only classification usable in BPF and userspace alike. */
static inline enum satp_window_pos satp_window_classify(__u32 top, __u32 size, __u32 seq)
{
	__u32 shift = 0;

	if (top < size)
		shift = SATP_WINDOW_SHIFT;
	else if (top > 0xffffffffu - size)
		shift = 0u - SATP_WINDOW_SHIFT;
	top += shift;
	seq += shift;
	if (seq > top)
		return SATP_WINDOW_AHEAD;
	if (seq == top)
		return SATP_WINDOW_TOP;
	if (seq < top - size + 1)
		return SATP_WINDOW_TOO_OLD;
	return SATP_WINDOW_INSIDE;
}

static inline __u32 satp_window_word(__u32 seq)
{
	return (seq % SATP_WINDOW_BITS) / 64;
}

static inline __u64 satp_window_mask(__u32 seq)
{
	return 1ull << (seq % 64);
}

#endif /* SATP_WINDOW_H */
