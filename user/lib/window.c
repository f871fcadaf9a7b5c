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
#include <errno.h>
#include <string.h>

#include "satp.h"

/* An exporter racing a sliding writer retries; past this it gives up until the next round. */
#define SATP_WINDOW_READ_TRIES 8

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

/* Bits of the seqs below t, newest first, into out (bit i = seq t - 1 - i), n of them. */
static void export_bits(const struct satp_window *w, uint32_t t, uint32_t n, uint64_t *out)
{
	uint32_t i = 0, k, run, seq;
	uint64_t word;

	while (i < n) {
		seq = t - 1 - i;
		/* Going down from seq, the ring word holds seq % 64 + 1 of them. */
		run = seq % 64 + 1;
		if (run > n - i)
			run = n - i;
		word = __atomic_load_n(&w->bits[satp_window_word(seq)], __ATOMIC_RELAXED);
		for (k = 0; word && k < run; k++)
			if (word & satp_window_mask(seq - k))
				out[(i + k) / 64] |= 1ull << ((i + k) % 64);
		i += run;
	}
}

int satp_window_export(const struct satp_window *w, uint32_t *top, uint64_t *bits, uint32_t *nbits)
{
	uint32_t gen, size, t, tries;

	size = __atomic_load_n(&w->size, __ATOMIC_RELAXED);
	if (!size)
		return -ENOENT;
	for (tries = 0; tries < SATP_WINDOW_READ_TRIES; tries++) {
		gen = __atomic_load_n(&w->gen, __ATOMIC_ACQUIRE);
		if (gen & 1)
			continue;
		if (!(__atomic_load_n(&w->flags, __ATOMIC_RELAXED) & SATP_WINDOW_VALID))
			return -ENOENT;
		t = __atomic_load_n(&w->top, __ATOMIC_RELAXED);
		memset(bits, 0, SATP_WINDOW_WORDS * sizeof(*bits));
		/* top - (size - 1) is the oldest seq still inside */
		export_bits(w, t, size - 1, bits);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&w->gen, __ATOMIC_RELAXED) == gen) {
			*top = t;
			*nbits = size - 1;
			return 0;
		}
	}
	return -EAGAIN;
}

/* Set seq's bit (a seq inside the window); true when it was not set. */
static bool set_bit(struct satp_window *w, uint32_t seq)
{
	uint64_t mask = satp_window_mask(seq);

	return !(__atomic_fetch_or(&w->bits[satp_window_word(seq)], mask, __ATOMIC_ACQ_REL) & mask);
}

int satp_window_merge(struct satp_window *w, uint32_t top, const uint64_t *bits, uint32_t nbits)
{
	enum satp_window_pos pos;
	bool changed = false;
	uint32_t i, seq, word;
	uint64_t x;

	if (!w->size)
		return 0;
	if (!(w->flags & SATP_WINDOW_VALID)) {
		move_top(w, top, true);
		changed = true;
	} else {
		pos = satp_window_classify(w->top, w->size, top);
		if (pos == SATP_WINDOW_TOO_OLD)
			return 0; /* all of it is older than what we refuse anyway */
		if (pos == SATP_WINDOW_AHEAD) {
			move_top(w, top, false);
			changed = true;
		}
	}
	/* top's own bit, then the record's, as commit sets them: one fetch-or each. */
	if (satp_window_classify(w->top, w->size, top) == SATP_WINDOW_INSIDE || w->top == top)
		changed |= set_bit(w, top);
	if (nbits > SATP_WINDOW_BITS - 1)
		nbits = SATP_WINDOW_BITS - 1;
	for (word = 0; word < (nbits + 63) / 64; word++) {
		for (x = bits[word]; x; x &= x - 1) {
			i = word * 64 + (uint32_t)__builtin_ctzll(x);
			if (i >= nbits)
				break;
			seq = top - 1 - i;
			pos = satp_window_classify(w->top, w->size, seq);
			if (pos == SATP_WINDOW_TOO_OLD)
				return changed; /* and so is every older one */
			if (pos == SATP_WINDOW_INSIDE)
				changed |= set_bit(w, seq);
		}
	}
	return changed;
}
