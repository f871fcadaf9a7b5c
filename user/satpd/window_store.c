// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "log.h"
#include "seqstate.h"
#include "window_store.h"

/* The store over index and slots: the caller's, a mapping's (w->map), or calloc'ed. */
static int init_store(struct satpd_windows *w, unsigned int bits, uint32_t size,
		      struct satp_window *slots, satpd_window_bind_fn bind, void *bind_ctx)
{
	size_t cap = (size_t)1 << bits, i;

	w->bits = bits;
	w->size = size;
	w->bind = bind;
	w->bind_ctx = bind_ctx;
	w->index = w->map ? w->index : calloc(cap, sizeof(*w->index));
	w->busy = calloc(cap, sizeof(*w->busy));
	w->rec_slot = malloc(cap * sizeof(*w->rec_slot));
	w->slots = slots;
	if (!slots) {
		w->slots = calloc(cap, sizeof(*w->slots));
		w->own_slots = true;
	}
	if (!w->index || !w->busy || !w->rec_slot || !w->slots) {
		satpd_windows_free(w);
		return -ENOMEM;
	}
	for (i = 0; i < cap; i++) {
		atomic_flag_clear(&w->busy[i]);
		w->rec_slot[i] = -1;
	}
	pthread_mutex_init(&w->grow, NULL);
	return 0;
}

int satpd_windows_init(struct satpd_windows *w, unsigned int bits, uint32_t size,
		       struct satp_window *slots, satpd_window_bind_fn bind, void *bind_ctx)
{
	memset(w, 0, sizeof(*w));
	w->map_fd = -1;
	if (bits == 0 || bits > 16)
		return -EINVAL;
	return init_store(w, bits, size, slots, bind, bind_ctx);
}

void satpd_windows_free(struct satpd_windows *w)
{
	if (w->record) {
		satpd_windows_free(w->record);
		free(w->record);
	}
	if (w->own_slots)
		free(w->slots);
	if (w->index)
		pthread_mutex_destroy(&w->grow);
	if (w->map)
		munmap(w->map, w->map_len);
	else
		free(w->index);
	if (w->map_fd >= 0)
		close(w->map_fd); /* releases the flock */
	free(w->busy);
	free(w->rec_slot);
	memset(w, 0, sizeof(*w));
	w->map_fd = -1;
}

/*
 * The state file: this header, then 1 << bits index entries, then as many
 * slots. The header pins down everything the layout depends on, so a file
 * from another build or another store size is recognised and not misread.
 */
#define SATPD_WINDOWS_MAGIC   0x4e495750544153ull /* "SATPWIN" */
#define SATPD_WINDOWS_VERSION 1

struct satpd_windows_file {
	uint64_t magic;
	uint32_t version;
	uint32_t bits;
	uint32_t slot_size; /* sizeof(struct satp_window): changes with SATP_WINDOW_BITS */
	uint32_t flags;	    /* SATPD_WINDOWS_CLEAN; 0 in files of older satpd */
	uint64_t index[];   /* then struct satp_window slots[] */
};

/* Set once the last write is in (satpd_windows_close_clean), cleared at open. */
#define SATPD_WINDOWS_CLEAN 1u

static size_t file_len(unsigned int bits)
{
	return sizeof(struct satpd_windows_file) +
	       ((size_t)1 << bits) * (sizeof(uint64_t) + sizeof(struct satp_window));
}

/* Why the mapped file cannot be used as it is, or NULL when it can. */
static const char *file_mismatch(const struct satpd_windows_file *f, unsigned int bits)
{
	size_t i, cap = (size_t)1 << bits;

	if (f->magic != SATPD_WINDOWS_MAGIC)
		return "not a satpd window file";
	if (f->version != SATPD_WINDOWS_VERSION || f->bits != bits ||
	    f->slot_size != sizeof(struct satp_window))
		return "written by a satpd with another layout";
	for (i = 0; i < cap; i++)
		if (f->index[i] && (f->index[i] >> 32) != (SATPD_WINDOW_USED >> 32) &&
		    f->index[i] != SATPD_WINDOW_FREED)
			return "corrupt index";
	return NULL;
}

static uint32_t clamp_size(uint32_t size)
{
	return size < SATP_WINDOW_BITS ? size : SATP_WINDOW_BITS;
}

/*
 * An adopted slot keeps the size its owner gave it: the store's size is one
 * connection's -w, and writing it over another's window (0 turns protection
 * off) would accept that sender's replays. Only a size no ring can hold is cut.
 */
static void keep_size(struct satp_window *win)
{
	win->size = clamp_size(win->size);
}

/* Count what the last run bound, and close a seqlock a SIGKILL left open mid-slide. */
static void adopt_file(struct satpd_windows *w)
{
	size_t i, cap = (size_t)1 << w->bits;

	for (i = 0; i < cap; i++) {
		if (!(w->index[i] & SATPD_WINDOW_USED))
			continue;
		atomic_fetch_add(&w->n, 1);
		if (w->slots[i].gen & 1)
			w->slots[i].gen++;
		keep_size(&w->slots[i]);
	}
}

static int map_file(struct satpd_windows *w, int fd, unsigned int bits, const char *path)
{
	size_t len = file_len(bits);
	struct satpd_windows_file *f;
	const char *why = NULL;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size && (size_t)st.st_size != len)
		why = "of another size";
	if ((size_t)st.st_size != len && (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)len) < 0))
		return -errno;
	f = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (f == MAP_FAILED)
		return -errno;
	if (st.st_size && !why)
		why = file_mismatch(f, bits);
	/* Written while a satpd ran, and no clean close since: it may miss the last writes. */
	w->unclean = st.st_size && !why && !(f->flags & SATPD_WINDOWS_CLEAN);
	f->flags &= ~SATPD_WINDOWS_CLEAN;
	if (why || !st.st_size) {
		if (why)
			log_warn("replay window file '%s' is %s: starting with empty windows", path,
				 why);
		memset(f, 0, len);
		f->magic = SATPD_WINDOWS_MAGIC;
		f->version = SATPD_WINDOWS_VERSION;
		f->bits = bits;
		f->slot_size = sizeof(struct satp_window);
	}
	w->map = f;
	w->map_len = len;
	w->index = (_Atomic uint64_t *)f->index;
	return 0;
}

int satpd_windows_open_file(struct satpd_windows *w, unsigned int bits, uint32_t size,
			    const char *dir)
{
	struct satpd_windows tmp = {.map_fd = -1};
	char path[SATPD_PATH_MAX + sizeof(SATPD_WINDOWS_FILE) + 1];
	int ret;

	memset(w, 0, sizeof(*w));
	w->map_fd = -1;
	if (bits == 0 || bits > 16)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s", dir, SATPD_WINDOWS_FILE);
	ret = satpd_mkdir_p(dir);
	if (ret)
		goto err;
	tmp.map_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (tmp.map_fd < 0) {
		ret = -errno;
		goto err;
	}
	if (flock(tmp.map_fd, LOCK_EX | LOCK_NB) < 0) {
		/*
		 * Another satpd runs on this state directory (same device name, no
		 * --state-dir). Sharing the file would mix two daemons' windows, and
		 * refusing to start would break what runs today: keep them in memory.
		 */
		log_warn("replay window file '%s' is held by another satpd: replay windows kept "
			 "in memory only, not across a restart (give each daemon its own "
			 "--state-dir)",
			 path);
		close(tmp.map_fd);
		return satpd_windows_init(w, bits, size, NULL, NULL, NULL);
	}
	ret = map_file(&tmp, tmp.map_fd, bits, path);
	if (ret)
		goto err;
	/* The slots follow the index in the file. */
	*w = tmp;
	ret = init_store(w, bits, size, (struct satp_window *)(w->index + ((size_t)1 << bits)),
			 NULL, NULL);
	if (ret)
		return ret; /* init_store freed w, the mapping and the lock included */
	adopt_file(w);
	if (atomic_load(&w->n))
		log_notice("%u replay window%s kept from the last run (%s)", atomic_load(&w->n),
			   atomic_load(&w->n) == 1 ? "" : "s", path);
	return 0;
err:
	log_err("replay window file '%s': %s", path, strerror(-ret));
	if (tmp.map)
		munmap(tmp.map, tmp.map_len);
	if (tmp.map_fd >= 0)
		close(tmp.map_fd);
	return ret;
}

/* Fibonacci hashing: consecutive sender ids land far apart. */
static uint32_t home(const struct satpd_windows *w, uint32_t key)
{
	return (key * 2654435761u) >> (32 - w->bits);
}

/*
 * The entry of key, or where it would go: the first tombstone on its probe
 * path, else the never-used entry ending it; -ENOSPC when neither.
 */
static int probe(struct satpd_windows *w, uint32_t key, bool *found)
{
	uint32_t mask = (1u << w->bits) - 1, i = home(w, key), n;
	int reuse = -ENOSPC;
	uint64_t e;

	*found = false;
	for (n = 0; n <= mask; n++, i = (i + 1) & mask) {
		e = atomic_load_explicit(&w->index[i], memory_order_acquire);
		if (!e)
			return reuse >= 0 ? reuse : (int)i;
		if (e == (SATPD_WINDOW_USED | key)) {
			*found = true;
			return (int)i;
		}
		if (e == SATPD_WINDOW_FREED && reuse < 0)
			reuse = (int)i;
	}
	return reuse;
}

static int slot_sized(struct satpd_windows *w, uint16_t mux, uint16_t sender_id, uint32_t size);

int satpd_windows_slot(struct satpd_windows *w, uint16_t mux, uint16_t sender_id)
{
	return slot_sized(w, mux, sender_id, w->size);
}

uint32_t satpd_windows_home(const struct satpd_windows *w, uint16_t mux, uint16_t sender_id)
{
	return home(w, (uint32_t)mux << 16 | sender_id);
}

static int slot_capped(struct satpd_windows *w, uint16_t mux, uint16_t sender_id, uint32_t size,
		       unsigned int quota);

/*
 * Slot i of (mux, sender id) gets its record's slot, found or made (XDP
 * path). Under w->grow, or before any worker runs; rec->grow nests inside it.
 */
static void link_record(struct satpd_windows *w, uint32_t i, uint16_t mux, uint16_t sender_id,
			uint32_t size)
{
	int j = w->record ? slot_sized(w->record, mux, sender_id, size) : -1;

	__atomic_store_n(&w->rec_slot[i], j < 0 ? -1 : j, __ATOMIC_RELAXED);
}

static int slot_sized(struct satpd_windows *w, uint16_t mux, uint16_t sender_id, uint32_t size)
{
	return slot_capped(w, mux, sender_id, size, 0);
}

/* A new sender's slot; quota (if not 0) caps the slots of mux: -EDQUOT past it. */
static int slot_capped(struct satpd_windows *w, uint16_t mux, uint16_t sender_id, uint32_t size,
		       unsigned int quota)
{
	uint32_t key = (uint32_t)mux << 16 | sender_id;
	bool found;
	int i;

	i = probe(w, key, &found);
	if (i >= 0 && found)
		return i;
	pthread_mutex_lock(&w->grow);
	i = probe(w, key, &found); /* another worker may have added it meanwhile */
	if (i >= 0 && !found && quota && satpd_windows_mux_slots(w, mux) >= quota)
		i = -EDQUOT;
	else if (i < 0)
		atomic_store_explicit(&w->full, true, memory_order_relaxed);
	if (i >= 0 && !found) {
		satp_window_init(&w->slots[i], size);
		/* Before the entry is published: a worker that finds it finds the link. */
		link_record(w, (uint32_t)i, mux, sender_id, size);
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

/*
 * The pinned index a slot is adopted from has no tombstones: an entry the last
 * run freed on key's probe path reads as never used and would end the probe
 * short of slot, so the sender got a fresh window. Mark them freed instead.
 */
static void tombstone_path(struct satpd_windows *w, uint32_t key, uint32_t slot)
{
	uint32_t mask = (1u << w->bits) - 1, i;
	uint64_t zero;

	for (i = home(w, key); i != slot; i = (i + 1) & mask) {
		zero = 0;
		atomic_compare_exchange_strong(&w->index[i], &zero, SATPD_WINDOW_FREED);
	}
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
	if (e & SATPD_WINDOW_USED)
		return -EEXIST;
	keep_size(&w->slots[slot]);
	tombstone_path(w, key, slot);
	link_record(w, slot, mux, sender_id, w->slots[slot].size);
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
	/*
	 * The operator's "forget" holds across a restart too. Under the slot's
	 * flag: a worker's commit reaches both windows or neither before it.
	 */
	if (w->record)
		satpd_windows_reset(w->record, mux, sender_id, size);
	atomic_flag_clear_explicit(&w->busy[i], memory_order_release);
	return 0;
}

/*
 * The owner's -w, which may have changed across a restart (an adopted slot
 * keeps the last run's): the bit ring does not depend on it, so it can change
 * under a live window. Under the slot's busy flag; XDP reads it racily.
 */
static void resize(struct satp_window *win, uint32_t size)
{
	size = clamp_size(size);
	if (win->size != size)
		__atomic_store_n(&win->size, size, __ATOMIC_RELAXED);
}

/* The record's slot linked to slot i, busy-flagged, or NULL. Under slot i's busy flag. */
static struct satp_window *record_lock(struct satpd_windows *w, int i, int *j)
{
	struct satpd_windows *rec = w->record;

	if (!rec)
		return NULL;
	*j = __atomic_load_n(&w->rec_slot[i], __ATOMIC_RELAXED);
	if (*j < 0)
		return NULL;
	while (atomic_flag_test_and_set_explicit(&rec->busy[*j], memory_order_acquire))
		; /* the main loop's write-back or reset: as the live slot's flag */
	return &rec->slots[*j];
}

static void record_unlock(struct satpd_windows *w, int j)
{
	atomic_flag_clear_explicit(&w->record->busy[j], memory_order_release);
}

/*
 * A new seq in slot i (under its busy flag) goes to the record too: a store
 * into the state file's shared mapping, which a SIGKILL cannot take back.
 * Its verdict is the live window's; the record only gains the bit.
 */
static void record_commit(struct satpd_windows *w, int i, uint32_t seq)
{
	struct satp_window *r;
	int j;

	r = record_lock(w, i, &j);
	if (!r)
		return;
	resize(r, w->slots[i].size);
	satp_window_commit(r, seq);
	record_unlock(w, j);
}

/* The live slot's commit, and the record's when it was new. */
static enum satp_verdict commit_slot(struct satpd_windows *w, int i, uint32_t seq)
{
	enum satp_verdict v = satp_window_commit(&w->slots[i], seq);

	if (v == SATP_OK)
		record_commit(w, i, seq);
	return v;
}

int satpd_windows_commit_sized(struct satpd_windows *w, uint16_t mux, uint16_t sender_id,
			       uint32_t size, uint32_t seq)
{
	return satpd_windows_commit_quota(w, mux, sender_id, size, 0, seq);
}

unsigned int satpd_windows_release_mux(struct satpd_windows *w, uint16_t mux)
{
	size_t i, cap;
	unsigned int n = 0;
	uint64_t e;

	if (!w->index)
		return 0;
	cap = (size_t)1 << w->bits;
	pthread_mutex_lock(&w->grow); /* no sender is added while entries change */
	for (i = 0; i < cap; i++) {
		e = atomic_load_explicit(&w->index[i], memory_order_relaxed);
		if (!(e & SATPD_WINDOW_USED) || (uint16_t)(e >> 16) != mux)
			continue;
		if (w->unbind)
			w->unbind(w->bind_ctx, mux, (uint16_t)e, (uint32_t)i);
		/* An empty window until reused: a stale reader sees nothing committed. */
		satp_window_init(&w->slots[i], 0);
		/* Its record slot is released below; a reused slot links anew. */
		__atomic_store_n(&w->rec_slot[i], -1, __ATOMIC_RELAXED);
		atomic_store_explicit(&w->index[i], SATPD_WINDOW_FREED, memory_order_release);
		atomic_fetch_sub(&w->n, 1);
		n++;
	}
	pthread_mutex_unlock(&w->grow);
	if (w->record)
		satpd_windows_release_mux(w->record, mux);
	return n;
}

bool satpd_windows_top(const struct satpd_windows *w, unsigned int i, uint32_t *key, uint32_t *top)
{
	uint64_t e;

	if (i >> w->bits)
		return false;
	e = atomic_load((_Atomic uint64_t *)&w->index[i]);
	if (!(e & SATPD_WINDOW_USED) || !(w->slots[i].flags & SATP_WINDOW_VALID))
		return false;
	*key = (uint32_t)e;
	*top = w->slots[i].top;
	return true;
}

int satpd_windows_export(const struct satpd_windows *w, unsigned int i, uint32_t *key,
			 uint32_t *top, uint64_t *bits, uint32_t *nbits)
{
	uint64_t e;

	if (i >> w->bits)
		return -ERANGE;
	e = atomic_load((_Atomic uint64_t *)&w->index[i]);
	if (!(e & SATPD_WINDOW_USED))
		return -ENOENT; /* never used, or freed */
	*key = (uint32_t)e;
	return satp_window_export(&w->slots[i], top, bits, nbits);
}

/* size: the owner's -w (owner_size), or only a new slot's (a record's, of some earlier run). */
static int merge_into(struct satpd_windows *w, uint16_t mux, uint16_t sender_id, uint32_t size,
		      bool owner_size, uint32_t top, const uint64_t *bits, uint32_t nbits)
{
	int i = slot_sized(w, mux, sender_id, size), ret, j;
	struct satp_window *r;

	if (i < 0)
		return -ENOSPC;
	while (atomic_flag_test_and_set_explicit(&w->busy[i], memory_order_acquire))
		; /* a worker commits to this sender: as satpd_windows_commit_sized */
	if (owner_size)
		resize(&w->slots[i], size);
	ret = satp_window_merge(&w->slots[i], top, bits, nbits);
	r = ret > 0 ? record_lock(w, i, &j) : NULL;
	if (r) { /* another edge's window, in the record as a commit would be */
		resize(r, w->slots[i].size);
		satp_window_merge(r, top, bits, nbits);
		record_unlock(w, j);
	}
	atomic_flag_clear_explicit(&w->busy[i], memory_order_release);
	return ret;
}

int satpd_windows_merge(struct satpd_windows *w, uint16_t mux, uint16_t sender_id, uint32_t size,
			uint32_t top, const uint64_t *bits, uint32_t nbits)
{
	return merge_into(w, mux, sender_id, size, true, top, bits, nbits);
}

int satpd_windows_merge_record(struct satpd_windows *w, uint16_t mux, uint16_t sender_id,
			       uint32_t size, uint32_t top, const uint64_t *bits, uint32_t nbits)
{
	return merge_into(w, mux, sender_id, size, false, top, bits, nbits);
}

/* ---------------------------------------------------------------- the durable record */

void satpd_windows_move(struct satpd_windows *dst, struct satpd_windows *src)
{
	*dst = *src;
	pthread_mutex_init(&dst->grow, NULL); /* src's is unlocked: nothing runs yet */
	memset(src, 0, sizeof(*src));
	src->map_fd = -1;
}

int satpd_windows_close_clean(struct satpd_windows *w)
{
	struct satpd_windows_file *f = w->map;

	if (!f)
		return 0;
	f->flags |= SATPD_WINDOWS_CLEAN;
	/* Durable now, not when the kernel gets round to it: the next start trusts it. */
	return msync(w->map, w->map_len, MS_SYNC) ? -errno : 0;
}

void satpd_windows_start_flush(const struct satpd_windows *w)
{
	const struct satpd_windows *f = w->record ? w->record : w;

	/* Starts the writes and returns; a full queue may hold it briefly, never the disk. */
	if (f->map && f->map_fd >= 0)
		sync_file_range(f->map_fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

unsigned int satpd_windows_merge_all(struct satpd_windows *dst, const struct satpd_windows *src)
{
	uint64_t bits[SATP_WINDOW_WORDS];
	unsigned int i, cap = 1u << src->bits, lost = 0;
	uint32_t key, top, nbits;

	for (i = 0; i < cap; i++) {
		if (satpd_windows_export(src, i, &key, &top, bits, &nbits))
			continue; /* free, nothing committed, or -w 0 */
		if (satpd_windows_merge_record(dst, (uint16_t)(key >> 16), (uint16_t)key,
					       src->slots[i].size, top, bits, nbits) < 0)
			lost++;
	}
	if (lost)
		log_warn(
		    "%u replay window%s found no free slot: %s senders start with fresh windows",
		    lost, lost == 1 ? "" : "s", lost == 1 ? "its" : "their");
	return lost;
}

/* A consistent copy of a slot a worker may be committing to; false while it slides. */
static bool read_slot(const struct satp_window *src, struct satp_window *out)
{
	uint32_t gen = __atomic_load_n(&src->gen, __ATOMIC_ACQUIRE), k;

	if (gen & 1)
		return false;
	out->gen = gen;
	out->top = __atomic_load_n(&src->top, __ATOMIC_RELAXED);
	out->size = __atomic_load_n(&src->size, __ATOMIC_RELAXED);
	out->flags = __atomic_load_n(&src->flags, __ATOMIC_RELAXED);
	for (k = 0; k < SATP_WINDOW_WORDS; k++)
		out->bits[k] = __atomic_load_n(&src->bits[k], __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&src->gen, __ATOMIC_RELAXED) == gen;
}

/* Same window, whatever the seqlock counts (each slides on its own). */
static bool same_window(const struct satp_window *a, const struct satp_window *b)
{
	return a->top == b->top && a->size == b->size && a->flags == b->flags &&
	       !memcmp(a->bits, b->bits, sizeof(a->bits));
}

/*
 * rec := max(rec, cur), under rec's busy flag. The workers commit into the
 * record as well, so it may be ahead of the copy cur (read before their last
 * commit): a window that holds something is merged into (top = max, bits
 * OR-ed), never overwritten, and the record never goes back. An empty one
 * takes the copy.
 */
static void record_slot(struct satp_window *rec, const struct satp_window *cur)
{
	uint64_t bits[SATP_WINDOW_WORDS];
	uint32_t top, nbits;

	if (same_window(rec, cur))
		return;
	if ((rec->flags & SATP_WINDOW_VALID) && rec->size) {
		resize(rec, cur->size); /* the owner's -w, as the live slot has it */
		if (!satp_window_export(cur, &top, bits, &nbits))
			satp_window_merge(rec, top, bits, nbits);
		return;
	}
	memcpy(rec, cur, sizeof(*rec));
}

unsigned int satpd_windows_write_back(struct satpd_windows *w)
{
	struct satpd_windows *rec = w->record;
	unsigned int i, cap = 1u << w->bits, lost = 0;
	struct satp_window cur;
	uint64_t e;
	int j;

	if (!rec)
		return 0;
	for (i = 0; i < cap; i++) {
		e = atomic_load_explicit(&w->index[i], memory_order_acquire);
		if (!(e & SATPD_WINDOW_USED) || !read_slot(&w->slots[i], &cur))
			continue; /* free, or sliding: the next round takes it */
		if (!(cur.flags & SATP_WINDOW_VALID))
			continue; /* nothing committed (or -w 0): nothing to keep */
		j = slot_sized(rec, (uint16_t)(e >> 16), (uint16_t)e, cur.size);
		if (j < 0) {
			lost++;
			continue;
		}
		while (atomic_flag_test_and_set_explicit(&rec->busy[j], memory_order_acquire))
			; /* a worker commits into it (record_commit) */
		record_slot(&rec->slots[j], &cur);
		atomic_flag_clear_explicit(&rec->busy[j], memory_order_release);
	}
	return lost;
}

int satpd_windows_keep_record(struct satpd_windows *w, struct satpd_windows *rec)
{
	unsigned int lost = satpd_windows_merge_all(w, rec), i, cap = 1u << w->bits;
	uint64_t e;

	w->record = rec;
	/* Nothing commits yet: each bound slot is linked now, new ones when made. */
	for (i = 0; i < cap; i++) {
		e = atomic_load_explicit(&w->index[i], memory_order_relaxed);
		if (e & SATPD_WINDOW_USED)
			link_record(w, i, (uint16_t)(e >> 16), (uint16_t)e, w->slots[i].size);
	}
	satpd_windows_write_back(w); /* what only the pinned map had is on disk from now */
	return lost ? -ENOSPC : 0;
}

struct satpd_windows *satpd_windows_take_record(struct satpd_windows *w)
{
	struct satpd_windows *rec = w->record;

	if (rec)
		satpd_windows_write_back(w);
	w->record = NULL;
	return rec;
}

/* ---------------------------------------------------------------- per-connection quota */

unsigned int satpd_windows_mux_slots(const struct satpd_windows *w, uint16_t mux)
{
	size_t i, cap = (size_t)1 << w->bits;
	unsigned int n = 0;
	uint64_t e;

	/* Only for a new sender, under w->grow: a pass over 1024..4096 entries. */
	for (i = 0; w->index && i < cap; i++) {
		e = atomic_load_explicit((_Atomic uint64_t *)&w->index[i], memory_order_relaxed);
		n += (e & SATPD_WINDOW_USED) && (uint16_t)(e >> 16) == mux;
	}
	return n;
}

int satpd_windows_commit_quota(struct satpd_windows *w, uint16_t mux, uint16_t sender_id,
			       uint32_t size, unsigned int quota, uint32_t seq)
{
	enum satp_verdict v;
	int i = slot_capped(w, mux, sender_id, size, quota);

	if (i < 0)
		return i == -EDQUOT ? i : -ENOSPC;
	while (atomic_flag_test_and_set_explicit(&w->busy[i], memory_order_acquire))
		; /* another queue commits to this sender: a few hundred ns at most */
	resize(&w->slots[i], size); /* a kept window takes its connection's -w now */
	v = commit_slot(w, i, seq);
	atomic_flag_clear_explicit(&w->busy[i], memory_order_release);
	return (int)v;
}

/* ---------------------------------------------------------------- key fingerprints */

int satpd_keymem_init(struct satpd_keymem *m)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	return RAND_bytes(m->secret, sizeof(m->secret)) == 1 ? 0 : -EIO;
}

/*
 * The file: this header, then struct satpd_keymem up to fd. Rewritten in
 * place under its flock; the checksum tells a torn write from a good one.
 */
#define SATPD_KEYMEM_MAGIC   0x5359454b50544153ull /* "SATPKEYS" */
#define SATPD_KEYMEM_VERSION 1
#define SATPD_KEYMEM_LEN     offsetof(struct satpd_keymem, fd)

struct satpd_keymem_file {
	uint64_t magic;
	uint32_t version;
	uint32_t len;			   /* SATPD_KEYMEM_LEN: changes with the table sizes */
	uint8_t sum[SHA256_DIGEST_LENGTH]; /* of the len bytes that follow */
};

static void keymem_write(struct satpd_keymem *m)
{
	struct satpd_keymem_file h = {
	    SATPD_KEYMEM_MAGIC, SATPD_KEYMEM_VERSION, SATPD_KEYMEM_LEN, {0}};
	struct iovec iov[2] = {{&h, sizeof(h)}, {m, SATPD_KEYMEM_LEN}};
	ssize_t n;

	SHA256((const uint8_t *)m, SATPD_KEYMEM_LEN, h.sum);
	n = pwritev(m->fd, iov, 2, 0);
	if (n != (ssize_t)(sizeof(h) + SATPD_KEYMEM_LEN) || fdatasync(m->fd) < 0) {
		log_warn("replay window key file: cannot write it (%s): kept in memory",
			 n < 0 ? strerror(errno) : "short write");
		return;
	}
	m->dirty = false;
}

void satpd_keymem_sync(struct satpd_keymem *m)
{
	if (m->dirty && m->fd >= 0)
		keymem_write(m);
}

/* Something changed; urgent: it makes keys refused, written before it acts. */
static void keymem_changed(struct satpd_keymem *m, bool urgent)
{
	m->dirty = true;
	if (urgent)
		satpd_keymem_sync(m);
}

/*
 * A file whose checksum holds may still carry values this build never writes
 * (another build's bug, an edit by hand): indexes and states are checked
 * before they are used, since each one indexes an array.
 */
static const char *keymem_bad_field(const struct satpd_keymem *k)
{
	unsigned int i;

	if (k->n_sessions > SATPD_SESSIONS_SEEN_MAX)
		return "unusable (its session count is out of range)";
	if (k->next_session >= SATPD_SESSIONS_SEEN_MAX)
		return "unusable (its next session index is out of range)";
	for (i = 0; i < SATPD_WINKEYS_MAX; i++)
		if (k->e[i].state > SATPD_WINKEY_LOST)
			return "unusable (a key entry has an unknown state)";
	return NULL;
}

/* What the file holds, into m; why it cannot be used, or NULL. */
static const char *keymem_read(struct satpd_keymem *m, int fd)
{
	struct satpd_keymem_file h;
	uint8_t sum[SHA256_DIGEST_LENGTH];
	struct satpd_keymem *tmp = malloc(sizeof(*tmp));
	struct iovec iov[2] = {{&h, sizeof(h)}, {tmp, SATPD_KEYMEM_LEN}};
	const char *why = NULL;
	ssize_t n;

	if (!tmp)
		return "too large to read";
	n = preadv(fd, iov, 2, 0);
	if (n == 0)
		why = ""; /* new */
	else if (n < 0)
		why = "unreadable";
	else if (n != (ssize_t)(sizeof(h) + SATPD_KEYMEM_LEN) || h.magic != SATPD_KEYMEM_MAGIC ||
		 h.version != SATPD_KEYMEM_VERSION || h.len != SATPD_KEYMEM_LEN)
		why = "written by a satpd with another layout";
	if (!why) {
		SHA256((const uint8_t *)tmp, SATPD_KEYMEM_LEN, sum);
		if (memcmp(sum, h.sum, sizeof(sum)))
			why = "torn (its checksum does not match)";
		else
			why = keymem_bad_field(tmp);
	}
	if (!why)
		memcpy(m, tmp, SATPD_KEYMEM_LEN);
	explicit_bzero(tmp, sizeof(*tmp));
	free(tmp);
	return why;
}

int satpd_keymem_open(struct satpd_keymem *m, const char *dir)
{
	char path[SATPD_PATH_MAX + sizeof(SATPD_KEYMEM_FILE) + 1];
	const char *why;
	int ret = satpd_keymem_init(m), fd;

	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/%s", dir, SATPD_KEYMEM_FILE);
	ret = satpd_mkdir_p(dir);
	fd = ret ? -1 : open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = ret ? ret : -errno;
		log_err("replay window key file '%s': %s", path, strerror(-ret));
		return ret;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		log_warn("replay window key file '%s' is held by another satpd: kept in memory "
			 "only, not across a restart",
			 path);
		close(fd);
		return 0;
	}
	why = keymem_read(m, fd);
	if (why && why[0])
		log_warn("replay window key file '%s' is %s: no keys remembered from the last run",
			 path, why);
	m->fd = fd;
	if (why)
		keymem_write(m); /* the secret the fingerprints from now on are made under */
	return 0;
}

void satpd_keymem_close(struct satpd_keymem *m)
{
	satpd_keymem_sync(m);
	if (m->fd >= 0)
		close(m->fd); /* releases the flock */
	m->fd = -1;
}

void satpd_key_fp(const struct satpd_keymem *m, const struct satp_keys *k, struct satpd_key_fp *fp)
{
	uint8_t in[SATP_KEY_MAX + SATP_SALT_LEN + 1], out[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t len = k->master_key_len < SATP_KEY_MAX ? k->master_key_len : SATP_KEY_MAX;

	/* The length first: a key and salt cannot be read as a longer key's prefix. */
	in[0] = (uint8_t)len;
	memcpy(in + 1, k->master_key, len);
	memcpy(in + 1 + len, k->master_salt, SATP_SALT_LEN);
	HMAC(EVP_sha256(), m->secret, sizeof(m->secret), in, 1 + len + SATP_SALT_LEN, out, &n);
	memcpy(fp->b, out, sizeof(fp->b));
	explicit_bzero(in, sizeof(in));
}

static bool parked(const struct satpd_keymem *m, uint16_t mux)
{
	return m->parked[mux / 64] >> (mux % 64) & 1;
}

static void set_parked(struct satpd_keymem *m, uint16_t mux, bool on)
{
	if (parked(m, mux) == on)
		return;
	if (on)
		m->parked[mux / 64] |= 1ull << (mux % 64);
	else
		m->parked[mux / 64] &= ~(1ull << (mux % 64));
	keymem_changed(m, false);
}

bool satpd_windows_parked(const struct satpd_keymem *m, uint16_t mux)
{
	return parked(m, mux);
}

static struct satpd_winkey *winkey_find(struct satpd_keymem *m, uint16_t mux,
					const struct satpd_key_fp *fp)
{
	unsigned int i;

	for (i = 0; i < SATPD_WINKEYS_MAX; i++)
		if (m->e[i].state && m->e[i].mux == mux && !memcmp(&m->e[i].fp, fp, sizeof(*fp)))
			return &m->e[i];
	return NULL;
}

/*
 * A free entry, else the oldest kept one, else the oldest lost one (logged:
 * re-adding its keys is then no longer refused). Bounded, never fails.
 */
static struct satpd_winkey *winkey_new(struct satpd_keymem *m)
{
	struct satpd_winkey *kept = NULL, *lost = NULL, *e;
	unsigned int i;

	for (i = 0; i < SATPD_WINKEYS_MAX; i++) {
		e = &m->e[i];
		if (!e->state)
			return e;
		if (e->state == SATPD_WINKEY_KEPT && (!kept || e->age < kept->age))
			kept = e;
		if (e->state == SATPD_WINKEY_LOST && (!lost || e->age < lost->age))
			lost = e;
	}
	e = kept ? kept : lost;
	log_warn("mux %u: key fingerprint table full (%u): forgetting the oldest %s keys", e->mux,
		 SATPD_WINKEYS_MAX, kept ? "kept" : "lost");
	return e;
}

static void winkey_put(struct satpd_keymem *m, uint16_t mux, const struct satpd_key_fp *fp,
		       enum satpd_winkey_state state)
{
	struct satpd_winkey *e = winkey_find(m, mux, fp);

	if (e && e->state == state)
		return;
	if (!e)
		e = winkey_new(m);
	e->fp = *fp;
	e->mux = mux;
	e->state = (uint8_t)state;
	e->age = ++m->clock;
	keymem_changed(m, false);
}

/*
 * mux's kept windows go: its keys' recorded traffic would replay, so they are
 * refused, on disk before the windows are freed.
 */
static unsigned int drop_parked(struct satpd_windows *w, struct satpd_keymem *m, uint16_t mux)
{
	unsigned int i;

	for (i = 0; i < SATPD_WINKEYS_MAX; i++)
		if (m->e[i].state == SATPD_WINKEY_KEPT && m->e[i].mux == mux)
			m->e[i].state = SATPD_WINKEY_LOST;
	set_parked(m, mux, false);
	keymem_changed(m, true);
	return satpd_windows_release_mux(w, mux);
}

static bool mux_has_kept(const struct satpd_keymem *m, uint16_t mux)
{
	unsigned int i;

	for (i = 0; i < SATPD_WINKEYS_MAX; i++)
		if (m->e[i].state == SATPD_WINKEY_KEPT && m->e[i].mux == mux)
			return true;
	return false;
}

int satpd_windows_admit_keys(struct satpd_windows *w, struct satpd_keymem *m, uint16_t mux,
			     const struct satpd_key_fp *fp, bool may_free, char *err, size_t errlen)
{
	struct satpd_winkey *e = winkey_find(m, mux, fp);
	unsigned int n;

	if (e && e->state == SATPD_WINKEY_LOST) {
		snprintf(err, errlen,
			 "mux %u: these keys were used on this mux before and the replay windows "
			 "that protected them are gone: their recorded traffic would be accepted "
			 "again; use new keys",
			 mux);
		return -EKEYREJECTED;
	}
	/* No kept keys (a restart forgot them): keep the windows, never reset silently. */
	if (parked(m, mux) && !e && mux_has_kept(m, mux) && !may_free) {
		snprintf(err, errlen,
			 "mux %u: deleted a moment ago and its replay windows are still in use: "
			 "new keys can take the mux in a second",
			 mux);
		return -EAGAIN;
	}
	if (parked(m, mux) && !e && mux_has_kept(m, mux)) {
		n = drop_parked(w, m, mux);
		log_notice("mux %u: re-added with new keys: %u replay window slot%s of the old "
			   "keys freed (those keys are refused from now on)",
			   mux, n, n == 1 ? "" : "s");
	} else if (parked(m, mux)) {
		log_notice("mux %u: re-added with the same keys: %u replay window%s kept", mux,
			   satpd_windows_mux_slots(w, mux),
			   satpd_windows_mux_slots(w, mux) == 1 ? "" : "s");
	}
	set_parked(m, mux, false);
	winkey_put(m, mux, fp, SATPD_WINKEY_KEPT);
	return 0;
}

void satpd_windows_park(struct satpd_windows *w, struct satpd_keymem *m, uint16_t mux,
			const struct satpd_key_fp *fp, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		winkey_put(m, mux, &fp[i], SATPD_WINKEY_KEPT);
	set_parked(m, mux, true);
	if (satpd_windows_mux_slots(w, mux))
		log_info("mux %u: %u replay window slot%s kept for a re-add with the same keys",
			 mux, satpd_windows_mux_slots(w, mux),
			 satpd_windows_mux_slots(w, mux) == 1 ? "" : "s");
}

unsigned int satpd_windows_reclaim_parked(struct satpd_windows *w, struct satpd_keymem *m)
{
	unsigned int i, n;
	uint16_t mux;

	for (i = 0; i < SATPD_WINKEYS_MAX; i++) {
		if (m->e[i].state != SATPD_WINKEY_KEPT || !parked(m, m->e[i].mux))
			continue;
		mux = m->e[i].mux;
		if (!satpd_windows_mux_slots(w, mux))
			continue; /* nothing to free there, nothing to refuse later */
		n = drop_parked(w, m, mux);
		log_warn("replay window pool full: %u slot%s of deleted mux %u freed; re-adding "
			 "it with its old keys is refused from now on",
			 n, n == 1 ? "" : "s", mux);
		return n;
	}
	return 0;
}

bool satpd_keymem_session_seen(const struct satpd_keymem *m, const struct satpd_key_fp *fp)
{
	unsigned int i;

	for (i = 0; i < m->n_sessions; i++)
		if (!memcmp(&m->sessions[i], fp, sizeof(*fp)))
			return true;
	return false;
}

void satpd_keymem_session_add(struct satpd_keymem *m, const struct satpd_key_fp *fp)
{
	m->sessions[m->next_session] = *fp;
	m->next_session = (m->next_session + 1) % SATPD_SESSIONS_SEEN_MAX;
	if (m->n_sessions < SATPD_SESSIONS_SEEN_MAX)
		m->n_sessions++;
	keymem_changed(m, true);
}
