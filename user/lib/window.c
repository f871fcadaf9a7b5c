// SPDX-License-Identifier: GPL-2.0-only
/*
 * The replay window's writer and its userspace reader (include/satp_window.h,
 * design.md "check early, commit only after authentication").
 *
 * The slot is shared with XDP, which reads it without locks: top moves and
 * ring words are recycled inside a seqlock (gen odd), and a seq's bit is set
 * with one atomic fetch-or, which is the single point where a copy of a seq
 * is accepted or found to be a replay.
 */
#include <string.h>

#include "satp.h"

static enum satp_verdict pos_verdict(enum satp_window_pos pos)
{
	switch (pos) {
	case SATP_WINDOW_TOP:
		return SATP_REPLAY;
	case SATP_WINDOW_TOO_OLD:
		return SATP_TOO_OLD;
	case SATP_WINDOW_AHEAD:
	case SATP_WINDOW_INSIDE:
		break;
	}
	return SATP_OK;
}

void satp_window_init(struct satp_window *w, uint32_t size)
{
	memset(w, 0, sizeof(*w));
	/* A larger window would alias seqs in the ring; the daemon rejects it earlier. */
	w->size = size < SATP_WINDOW_BITS ? size : SATP_WINDOW_BITS;
}

enum satp_verdict satp_window_check(const struct satp_window *w, uint32_t seq)
{
	uint32_t gen, top, size;
	enum satp_window_pos pos;
	uint64_t word;

	size = __atomic_load_n(&w->size, __ATOMIC_RELAXED);
	if (!size)
		return SATP_OK;
	gen = __atomic_load_n(&w->gen, __ATOMIC_ACQUIRE);
	/* Being moved, or no packet yet: not certain, so not a replay. */
	if ((gen & 1) || !(__atomic_load_n(&w->flags, __ATOMIC_RELAXED) & SATP_WINDOW_VALID))
		return SATP_OK;
	top = __atomic_load_n(&w->top, __ATOMIC_RELAXED);
	pos = satp_window_classify(top, size, seq);
	if (pos != SATP_WINDOW_INSIDE)
		return pos_verdict(pos);
	word = __atomic_load_n(&w->bits[satp_window_word(seq)], __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&w->gen, __ATOMIC_RELAXED) != gen)
		return SATP_OK;
	return (word & satp_window_mask(seq)) ? SATP_REPLAY : SATP_OK;
}

/* Clear the ring bits of seqs from..to (inclusive, wrapping), at most the whole ring. */
static void clear_range(struct satp_window *w, uint32_t from, uint32_t count)
{
	uint32_t bit, word, n;
	uint64_t mask;

	if (count >= SATP_WINDOW_BITS) {
		for (word = 0; word < SATP_WINDOW_WORDS; word++)
			__atomic_store_n(&w->bits[word], 0, __ATOMIC_RELAXED);
		return;
	}
	while (count) {
		bit = from % 64;
		n = 64 - bit < count ? 64 - bit : count;
		mask = (n == 64 ? ~0ull : ((1ull << n) - 1)) << bit;
		word = satp_window_word(from);
		__atomic_fetch_and(&w->bits[word], ~mask, __ATOMIC_RELAXED);
		from += n;
		count -= n;
	}
}

/* Writer side of the seqlock: readers that overlap see gen odd or changed. */
static void move_top(struct satp_window *w, uint32_t seq, bool first)
{
	uint32_t gen = w->gen;

	__atomic_store_n(&w->gen, gen + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (first)
		clear_range(w, 0, SATP_WINDOW_BITS);
	else
		clear_range(w, w->top + 1, seq - w->top);
	__atomic_store_n(&w->top, seq, __ATOMIC_RELAXED);
	if (first)
		__atomic_store_n(&w->flags, w->flags | SATP_WINDOW_VALID, __ATOMIC_RELAXED);
	__atomic_store_n(&w->gen, gen + 2, __ATOMIC_RELEASE);
}

enum satp_verdict satp_window_commit(struct satp_window *w, uint32_t seq)
{
	enum satp_window_pos pos;
	uint64_t mask = satp_window_mask(seq), old;

	if (!w->size)
		return SATP_OK;
	if (!(w->flags & SATP_WINDOW_VALID)) {
		move_top(w, seq, true);
	} else {
		pos = satp_window_classify(w->top, w->size, seq);
		if (pos == SATP_WINDOW_TOP || pos == SATP_WINDOW_TOO_OLD)
			return pos_verdict(pos);
		if (pos == SATP_WINDOW_AHEAD)
			move_top(w, seq, false);
	}
	old = __atomic_fetch_or(&w->bits[satp_window_word(seq)], mask, __ATOMIC_ACQ_REL);
	return (old & mask) ? SATP_REPLAY : SATP_OK;
}
