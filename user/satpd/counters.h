/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Base layer: the counters a feature adds to the daemon's.
 *
 * The core's counters are the fields of SATPD_COUNTERS (core.h). A
 * feature names its own once, in an X-macro of its header (SATPD_KX_COUNTERS,
 * ...), which gives an enum of indexes (SATPD_COUNTER_INDEX) and the table of
 * names of a struct satpd_counter_set (SATPD_COUNTER_NAME). The composer
 * (compose.c) registers every set before the first datagram, whether the
 * feature is configured or not, so that the names printed do not depend on the
 * configuration. Each worker keeps them after the core's (struct
 * satpd_counters' ext[]), and what prints the core's (the SIGUSR1 dump, the
 * snapshot: satp show, --json, /metrics) prints them next, by these names.
 *
 * A bump finds its set's place by the set's address (a few compares, on paths
 * that count drops or control datagrams): no feature keeps an index of its
 * own, and a set that was never registered (a test's daemon) counts nothing.
 */
#ifndef SATPD_COUNTERS_H
#define SATPD_COUNTERS_H

#include <errno.h>

/* X-macro helpers: X(name) to the index SATPD_CTR_name, and to the name. */
#define SATPD_COUNTER_INDEX(n) SATPD_CTR_##n,
#define SATPD_COUNTER_NAME(n)  #n,

struct satpd_counter_set {
	const char *const *names;
	unsigned int n;
};

/* Every feature's counters together: kx 7, the handshake 1, its budget 3, sync 1, edge 1. */
#define SATPD_EXT_COUNTERS_MAX 16
/* One set per feature that counts. */
#define SATPD_COUNTER_SETS_MAX 8

struct satpd_counter_registry {
	const struct satpd_counter_set *set[SATPD_COUNTER_SETS_MAX];
	unsigned int base[SATPD_COUNTER_SETS_MAX]; /* set[j]'s first counter in ext[] */
	unsigned int n_sets;
	const char *name[SATPD_EXT_COUNTERS_MAX]; /* of ext[k], in registration order */
	unsigned int n;
};

/* Once per set, on the main thread before the first datagram: 0, -EEXIST or -ENOSPC. */
static inline int satpd_counter_registry_add(struct satpd_counter_registry *r,
					     const struct satpd_counter_set *s)
{
	unsigned int j;

	for (j = 0; j < r->n_sets; j++)
		if (r->set[j] == s)
			return -EEXIST;
	if (r->n_sets == SATPD_COUNTER_SETS_MAX || s->n > SATPD_EXT_COUNTERS_MAX - r->n)
		return -ENOSPC;
	r->set[r->n_sets] = s;
	r->base[r->n_sets++] = r->n;
	for (j = 0; j < s->n; j++)
		r->name[r->n++] = s->names[j];
	return 0;
}

/* Where counter i of s is in ext[]; -1 when s is not registered. */
static inline int satpd_counter_slot(const struct satpd_counter_registry *r,
				     const struct satpd_counter_set *s, unsigned int i)
{
	unsigned int j;

	for (j = 0; j < r->n_sets; j++)
		if (r->set[j] == s)
			return i < s->n ? (int)(r->base[j] + i) : -1;
	return -1;
}

#endif /* SATPD_COUNTERS_H */
