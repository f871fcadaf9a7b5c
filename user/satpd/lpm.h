/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Longest-prefix match of an inner destination to a mux: a binary trie per
 * family over one node array, built once at start and read lock-free by the
 * workers (at most 32 or 128 steps, no allocation per lookup).
 */
#ifndef SATPD_LPM_H
#define SATPD_LPM_H

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
int satpd_lpm_add(struct satpd_lpm *t, int family, const uint8_t *addr, unsigned int len,
		  uint16_t mux);
/* The mux of the longest prefix holding addr, or -1. */
int satpd_lpm_lookup(const struct satpd_lpm *t, int family, const uint8_t *addr);

#endif /* SATPD_LPM_H */
