/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The replay windows of one daemon: one struct satp_window slot per
 * (mux, sender id), found through an open-addressing index the daemon alone
 * writes. The slots are an array the store does not own: calloc'ed memory on
 * the socket path, the XDP loader's mmapped window map (satp_xdp_windows())
 * on the XDP path, so that XDP pre-filters on exactly what the daemon commits.
 * A slot is taken only for a sender whose packet authenticated; nothing is
 * allocated after init.
 */
#ifndef SATPD_WINDOWS_H
#define SATPD_WINDOWS_H

#include <stdbool.h>
#include <stdint.h>

#include "satp.h"

/* Slots on the socket path: senders sharing a mux in one anycast cluster, with room. */
#define SATPD_WINDOWS_DEFAULT_BITS 8

/* XDP: satp_xdp_bind_window(), so the program reads the new slot. */
typedef int (*satpd_window_bind_fn)(void *ctx, uint16_t mux, uint16_t sender_id, uint32_t slot);

struct satpd_window_index {
	uint32_t key; /* mux << 16 | sender id */
	bool used;
};

struct satpd_windows {
	struct satp_window *slots; /* 1 << bits of them */
	struct satpd_window_index *index;
	unsigned int bits;
	unsigned int n;
	uint32_t size; /* -w of the connection */
	bool own_slots;
	satpd_window_bind_fn bind;
	void *bind_ctx;
};

/*
 * slots NULL: allocate 1 << bits of them. Otherwise use the caller's array of
 * that many (the XDP window map) and call bind for every new slot.
 */
int satpd_windows_init(struct satpd_windows *w, unsigned int bits, uint32_t size,
		       struct satp_window *slots, satpd_window_bind_fn bind, void *bind_ctx);
void satpd_windows_free(struct satpd_windows *w);
/* The window of (mux, sender id); a fresh one if new. NULL when every slot is taken. */
struct satp_window *satpd_windows_get(struct satpd_windows *w, uint16_t mux, uint16_t sender_id);

#endif /* SATPD_WINDOWS_H */
