/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Longest-prefix match of an inner destination to a mux: a binary trie per
 * family over one node array, read lock-free by the workers (at most 32 or
 * 128 steps, no allocation per lookup). Never changed while published: a
 * change is made on a clone that replaces it (conns.h).
 */
#ifndef SATPD_LPM_H
#define SATPD_LPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct satpd_lpm_node {
	uint32_t child[2]; /* node index; 0 = none (node 0 is never a child) */
	int32_t mux;	   /* -1: no route ends here */
};

struct satpd_lpm {
	struct satpd_lpm_node *nodes;
	uint32_t n, cap;
	uint32_t root[2]; /* [0] IPv4, [1] IPv6; 0 = empty */
	unsigned int n_routes;
};

void satpd_lpm_free(struct satpd_lpm *t);
/* addr: 4 or 16 bytes in network order. -EEXIST when the prefix has another mux. */
/* mux replaces the prefix's mux when replace, else -EEXIST when it differs. */
int satpd_lpm_add(struct satpd_lpm *t, int family, const uint8_t *addr, unsigned int len,
		  uint16_t mux, bool replace);
/* A copy to change while readers use t (routes added at run time). */
int satpd_lpm_clone(const struct satpd_lpm *t, struct satpd_lpm *out);
/* The mux of the longest prefix holding addr, or -1. */
int satpd_lpm_lookup(const struct satpd_lpm *t, int family, const uint8_t *addr);
/* The mux of exactly this prefix, or -1. */
int satpd_lpm_get(const struct satpd_lpm *t, int family, const uint8_t *addr, unsigned int len);

/* Every route, IPv4 first, each family in address order; a non-zero return stops the walk. */
typedef int (*satpd_lpm_fn)(void *ctx, int family, const uint8_t *addr, unsigned int len,
			    uint16_t mux);
int satpd_lpm_walk(const struct satpd_lpm *t, satpd_lpm_fn fn, void *ctx);
/*
 * A compact copy of t without the routes drop() says yes to (deleting in place
 * would leave dead nodes that every later clone copies).
 */
int satpd_lpm_filter(const struct satpd_lpm *t, struct satpd_lpm *out, satpd_lpm_fn drop,
		     void *ctx);

#endif /* SATPD_LPM_H */
