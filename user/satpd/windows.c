// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "windows.h"

int satpd_windows_init(struct satpd_windows *w, unsigned int bits, uint32_t size,
		       struct satp_window *slots, satpd_window_bind_fn bind, void *bind_ctx)
{
	size_t cap = (size_t)1 << bits, i;

	memset(w, 0, sizeof(*w));
	if (bits == 0 || bits > 16)
		return -EINVAL;
	w->bits = bits;
	w->size = size;
	w->bind = bind;
	w->bind_ctx = bind_ctx;
	w->index = calloc(cap, sizeof(*w->index));
	w->busy = calloc(cap, sizeof(*w->busy));
	w->slots = slots;
	if (!slots) {
		w->slots = calloc(cap, sizeof(*w->slots));
		w->own_slots = true;
	}
	if (!w->index || !w->busy || !w->slots) {
		satpd_windows_free(w);
		return -ENOMEM;
	}
	for (i = 0; i < cap; i++)
		atomic_flag_clear(&w->busy[i]);
	pthread_mutex_init(&w->grow, NULL);
	return 0;
}

void satpd_windows_free(struct satpd_windows *w)
{
	if (w->own_slots)
		free(w->slots);
	if (w->index)
		pthread_mutex_destroy(&w->grow);
	free(w->index);
	free(w->busy);
	memset(w, 0, sizeof(*w));
}

/* Fibonacci hashing: consecutive sender ids land far apart. */
static uint32_t home(const struct satpd_windows *w, uint32_t key)
{
	return (key * 2654435761u) >> (32 - w->bits);
}

/* The entry of key, or the free entry where it would go; -ENOSPC when full. */
static int probe(struct satpd_windows *w, uint32_t key, bool *found)
{
	uint32_t mask = (1u << w->bits) - 1, i = home(w, key), n;
	uint64_t e;

	for (n = 0; n <= mask; n++, i = (i + 1) & mask) {
		e = atomic_load_explicit(&w->index[i], memory_order_acquire);
		if (!e) {
			*found = false;
			return (int)i;
		}
		if (e == (SATPD_WINDOW_USED | key)) {
			*found = true;
			return (int)i;
		}
	}
	return -ENOSPC;
}

static int slot_sized(struct satpd_windows *w, uint16_t mux, uint16_t sender_id, uint32_t size);

int satpd_windows_slot(struct satpd_windows *w, uint16_t mux, uint16_t sender_id)
{
	return slot_sized(w, mux, sender_id, w->size);
}

static int slot_sized(struct satpd_windows *w, uint16_t mux, uint16_t sender_id, uint32_t size)
{
	uint32_t key = (uint32_t)mux << 16 | sender_id;
	bool found;
	int i;

	i = probe(w, key, &found);
	if (i >= 0 && found)
		return i;
	pthread_mutex_lock(&w->grow);
	i = probe(w, key, &found); /* another worker may have added it meanwhile */
	if (i >= 0 && !found) {
		satp_window_init(&w->slots[i], size);
		if (w->bind && w->bind(w->bind_ctx, mux, sender_id, (uint32_t)i)) {
			i = -EIO;
		} else {
			atomic_store_explicit(&w->index[i], SATPD_WINDOW_USED | key,
					      memory_order_release);
			atomic_fetch_add(&w->n, 1);
		}
	}
	pthread_mutex_unlock(&w->grow);
	return i;
}

int satpd_windows_adopt(struct satpd_windows *w, uint16_t mux, uint16_t sender_id, uint32_t slot)
{
	uint32_t key = (uint32_t)mux << 16 | sender_id;
	uint64_t e;

	if (slot >> w->bits)
		return -ERANGE;
	e = atomic_load(&w->index[slot]);
	if (e == (SATPD_WINDOW_USED | key))
		return 0;
	if (e)
		return -EEXIST;
	atomic_store(&w->index[slot], SATPD_WINDOW_USED | key);
	atomic_fetch_add(&w->n, 1);
	return 0;
}

struct satp_window *satpd_windows_get(struct satpd_windows *w, uint16_t mux, uint16_t sender_id)
{
	int i = satpd_windows_slot(w, mux, sender_id);

	return i < 0 ? NULL : &w->slots[i];
}

int satpd_windows_commit(struct satpd_windows *w, uint16_t mux, uint16_t sender_id, uint32_t seq)
{
	return satpd_windows_commit_sized(w, mux, sender_id, w->size, seq);
}

int satpd_windows_reset(struct satpd_windows *w, uint16_t mux, uint16_t sender_id, uint32_t size)
{
	uint32_t key = (uint32_t)mux << 16 | sender_id;
	bool found;
	int i;

	if (!w->index)
		return -ENOENT;
	i = probe(w, key, &found);
	if (i < 0 || !found)
		return -ENOENT;
	while (atomic_flag_test_and_set_explicit(&w->busy[i], memory_order_acquire))
		;
	satp_window_init(&w->slots[i], size);
	atomic_flag_clear_explicit(&w->busy[i], memory_order_release);
	return 0;
}

int satpd_windows_commit_sized(struct satpd_windows *w, uint16_t mux, uint16_t sender_id,
			       uint32_t size, uint32_t seq)
{
	enum satp_verdict v;
	int i = slot_sized(w, mux, sender_id, size);

	if (i < 0)
		return -ENOSPC;
	while (atomic_flag_test_and_set_explicit(&w->busy[i], memory_order_acquire))
		; /* another queue commits to this sender: a few hundred ns at most */
	v = satp_window_commit(&w->slots[i], seq);
	atomic_flag_clear_explicit(&w->busy[i], memory_order_release);
	return (int)v;
}

bool satpd_windows_top(const struct satpd_windows *w, unsigned int i, uint32_t *key, uint32_t *top)
{
	uint64_t e;

	if (i >> w->bits)
		return false;
	e = atomic_load((_Atomic uint64_t *)&w->index[i]);
	if (!e || !(w->slots[i].flags & SATP_WINDOW_VALID))
		return false;
	*key = (uint32_t)e;
	*top = w->slots[i].top;
	return true;
}
