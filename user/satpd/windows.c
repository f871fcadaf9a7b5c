// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "windows.h"

int satpd_windows_init(struct satpd_windows *w, unsigned int bits, uint32_t size,
		       struct satp_window *slots, satpd_window_bind_fn bind, void *bind_ctx)
{
	size_t cap = (size_t)1 << bits;

	memset(w, 0, sizeof(*w));
	if (bits == 0 || bits > 16)
		return -EINVAL;
	w->bits = bits;
	w->size = size;
	w->bind = bind;
	w->bind_ctx = bind_ctx;
	w->index = calloc(cap, sizeof(*w->index));
	if (!w->index)
		return -ENOMEM;
	w->slots = slots;
	if (!slots) {
		w->slots = calloc(cap, sizeof(*w->slots));
		w->own_slots = true;
		if (!w->slots) {
			free(w->index);
			w->index = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

void satpd_windows_free(struct satpd_windows *w)
{
	if (w->own_slots)
		free(w->slots);
	free(w->index);
	memset(w, 0, sizeof(*w));
}

struct satp_window *satpd_windows_get(struct satpd_windows *w, uint16_t mux, uint16_t sender_id)
{
	uint32_t key = (uint32_t)mux << 16 | sender_id;
	uint32_t mask = (1u << w->bits) - 1;
	/* Fibonacci hashing: consecutive sender ids land far apart. */
	uint32_t i = (key * 2654435761u) >> (32 - w->bits);
	uint32_t probe;

	for (probe = 0; probe <= mask; probe++, i = (i + 1) & mask) {
		struct satpd_window_index *e = &w->index[i];

		if (e->used && e->key == key)
			return &w->slots[i];
		if (e->used)
			continue;
		satp_window_init(&w->slots[i], w->size);
		if (w->bind && w->bind(w->bind_ctx, mux, sender_id, i))
			return NULL;
		e->key = key;
		e->used = true;
		w->n++;
		return &w->slots[i];
	}
	return NULL;
}
