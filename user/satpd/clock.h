/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's clocks, each named for its clock and unit, so that a time field
 * says which one it holds (_ns, _ms, _s; "mono" or "unix").
 * - mono: CLOCK_MONOTONIC, for intervals and deadlines: it never jumps.
 * - coarse: CLOCK_MONOTONIC_COARSE, for the packet path (no vDSO clock read,
 *   tick resolution: a few ms), where a per-packet time is wanted.
 * - real: CLOCK_REALTIME, for what leaves the host (edge stamps) or is shown.
 */
#ifndef SATPD_CLOCK_H
#define SATPD_CLOCK_H

#include <stdint.h>
#include <time.h>

#define SATPD_NS_PER_S	1000000000ull
#define SATPD_NS_PER_MS 1000000ull

static inline uint64_t satpd_clock_ns(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return (uint64_t)t.tv_sec * SATPD_NS_PER_S + (uint64_t)t.tv_nsec;
}

/* Whole seconds without the multiply and divide: the packet path reads the coarse clock so. */
static inline int64_t satpd_clock_s(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return (int64_t)t.tv_sec;
}

static inline uint64_t satpd_mono_ns(void)
{
	return satpd_clock_ns(CLOCK_MONOTONIC);
}

static inline int64_t satpd_mono_ms(void)
{
	return (int64_t)(satpd_mono_ns() / SATPD_NS_PER_MS);
}

static inline int64_t satpd_mono_s(void)
{
	return satpd_clock_s(CLOCK_MONOTONIC);
}

/* Milliseconds since then_ms, a satpd_mono_ms() reading. */
static inline int64_t satpd_mono_ms_since(int64_t then_ms)
{
	return satpd_mono_ms() - then_ms;
}

static inline uint64_t satpd_coarse_ns(void)
{
	return satpd_clock_ns(CLOCK_MONOTONIC_COARSE);
}

static inline int64_t satpd_coarse_s(void)
{
	return satpd_clock_s(CLOCK_MONOTONIC_COARSE);
}

static inline uint64_t satpd_real_ns(void)
{
	return satpd_clock_ns(CLOCK_REALTIME);
}

/* A satpd_mono_ns() reading as Unix seconds (for display: the two clocks drift apart). */
static inline int64_t satpd_mono_ns_to_unix_s(uint64_t mono_ns)
{
	int64_t ago = ((int64_t)satpd_mono_ns() - (int64_t)mono_ns) / (int64_t)SATPD_NS_PER_S;

	return (int64_t)(satpd_real_ns() / SATPD_NS_PER_S) - (ago > 0 ? ago : 0);
}

#endif /* SATPD_CLOCK_H */
