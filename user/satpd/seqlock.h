/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The seqlock the daemon publishes small records with (the learned remote,
 * a RAIL path's remote, the next-hop template, a connection's three key-set
 * pointers): one writer at a time (its caller serialises writers), readers on
 * the packet path take no lock and read again when a write overlapped.
 *
 * The ordering argument, once (Boehm, "Can seqlocks get along with
 * programming language memory models?", 2012):
 * - The writer makes gen odd, then a release fence, then stores the record,
 *   then makes gen even again with a release store. The fence keeps the record
 *   stores after the odd gen; the release keeps them before the even one.
 * - The reader loads gen with acquire (so its copy comes after it), copies,
 *   then an acquire fence, then loads gen again. If the copy saw any store of
 *   a write, that write's release fence synchronises with the reader's acquire
 *   fence, so the second load sees that write's odd gen or later: a changed
 *   gen, and the reader copies again. An even, unchanged gen means no write
 *   overlapped the copy.
 * The odd increment is a read-modify-write with acq_rel as well: on x86 and
 * arm64 it is a full barrier either way, and it costs nothing off the packet
 * path, where every writer runs.
 *
 * satp_window.gen (include/satp_window.h) is another seqlock: shared with XDP,
 * with a reader that gives up rather than waits (user/lib/window.c); it keeps
 * its own code.
 */
#ifndef SATPD_SEQLOCK_H
#define SATPD_SEQLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct satpd_seqlock {
	_Atomic uint32_t gen; /* odd while a write is in progress */
};

static inline void satpd_seqlock_write_begin(struct satpd_seqlock *s)
{
	atomic_fetch_add_explicit(&s->gen, 1, memory_order_acq_rel);
	atomic_thread_fence(memory_order_release);
}

static inline void satpd_seqlock_write_end(struct satpd_seqlock *s)
{
	atomic_fetch_add_explicit(&s->gen, 1, memory_order_release);
}

/* The generation to copy under; waits out a writer (a few stores, never a syscall). */
static inline uint32_t satpd_seqlock_read_begin(const struct satpd_seqlock *s)
{
	uint32_t gen;

	while ((gen = atomic_load_explicit(&s->gen, memory_order_acquire)) & 1)
		;
	return gen;
}

/*
 * The generation as it is, odd or not, for a reader with better to do than
 * wait: its read then counts only if read_retry says so.
 */
static inline uint32_t satpd_seqlock_read_begin_nowait(const struct satpd_seqlock *s)
{
	return atomic_load_explicit(&s->gen, memory_order_acquire);
}

/* True when a write overlapped the reads made since read_begin returned gen: read again. */
static inline bool satpd_seqlock_read_retry(const struct satpd_seqlock *s, uint32_t gen)
{
	atomic_thread_fence(memory_order_acquire);
	return (gen & 1) || atomic_load_explicit(&s->gen, memory_order_relaxed) != gen;
}

/* The generation now, to tell a cached copy is still current (no ordering: a hint). */
static inline uint32_t satpd_seqlock_gen(const struct satpd_seqlock *s)
{
	return atomic_load_explicit(&s->gen, memory_order_relaxed);
}

#endif /* SATPD_SEQLOCK_H */
