// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "seqstate.h"
#include "windows.h"

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
	if (w->record) /* the operator's "forget" holds across a restart too */
		satpd_windows_reset(w->record, mux, sender_id, size);
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

int satpd_windows_commit_sized(struct satpd_windows *w, uint16_t mux, uint16_t sender_id,
			       uint32_t size, uint32_t seq)
{
	enum satp_verdict v;
	int i = slot_sized(w, mux, sender_id, size);

	if (i < 0)
		return -ENOSPC;
	while (atomic_flag_test_and_set_explicit(&w->busy[i], memory_order_acquire))
		; /* another queue commits to this sender: a few hundred ns at most */
	resize(&w->slots[i], size);
	v = satp_window_commit(&w->slots[i], seq);
	atomic_flag_clear_explicit(&w->busy[i], memory_order_release);
	return (int)v;
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
	int i = slot_sized(w, mux, sender_id, size), ret;

	if (i < 0)
		return -ENOSPC;
	while (atomic_flag_test_and_set_explicit(&w->busy[i], memory_order_acquire))
		; /* a worker commits to this sender: as satpd_windows_commit_sized */
	if (owner_size)
		resize(&w->slots[i], size);
	ret = satp_window_merge(&w->slots[i], top, bits, nbits);
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

/*
 * rec := max(rec, cur). After the start's merge the live window holds all the
 * record had and only grows, so a copy is the max; a live window behind the
 * record (a sender that found no slot at the start and began afresh) is merged
 * instead, so the record never goes back.
 */
static void record_slot(struct satp_window *rec, const struct satp_window *cur)
{
	uint64_t bits[SATP_WINDOW_WORDS];
	uint32_t top, nbits;

	if (!memcmp(rec, cur, sizeof(*rec)))
		return;
	if ((rec->flags & SATP_WINDOW_VALID) && rec->size && rec->top != cur->top &&
	    satp_window_classify(rec->top, rec->size, cur->top) != SATP_WINDOW_AHEAD) {
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
		if (j < 0)
			lost++;
		else
			record_slot(&rec->slots[j], &cur);
	}
	return lost;
}

int satpd_windows_keep_record(struct satpd_windows *w, struct satpd_windows *rec)
{
	unsigned int lost = satpd_windows_merge_all(w, rec);

	w->record = rec;
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
