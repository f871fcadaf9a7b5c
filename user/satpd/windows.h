/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The replay windows of one daemon: one struct satp_window slot per
 * (mux, sender id), found through an open-addressing index. The slots are an
 * array the store does not own: calloc'ed memory on the socket path, the XDP
 * loader's mmapped window map (satp_xdp_windows()) on the XDP path, so that
 * XDP pre-filters on exactly what the daemon commits. A slot is taken only
 * for a sender whose packet authenticated; nothing is allocated after init.
 *
 * Thread-safe for the AF_XDP workers: lookups are lock-free (an index entry
 * is published with a release store once its slot is initialised and bound);
 * a new sender takes a mutex once; commits to one slot are serialised by a
 * per-slot spin flag, so the fetch_or in satp_window_commit is the single
 * decision point even when a duplicate races in on another queue.
 *
 * Freeing (satpd_windows_release_mux, a deleted connection's senders): an
 * entry becomes a tombstone, never 0, so lock-free probes for other senders
 * still walk past it; a new sender takes the first tombstone on its probe
 * path. Entries never move (the slot is the entry's position, and XDP holds
 * it). The caller frees only when nothing can use the slot any more: no
 * worker holds the connection (conns.h: after its retirement epoch) and XDP
 * no longer finds the mux (satp_conns lost it at the delete, an RCU grace
 * period and a tick before); unbind then drops the XDP binding.
 */
#ifndef SATPD_WINDOWS_H
#define SATPD_WINDOWS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "satp.h"

/* Slots on the socket path: senders sharing a mux in one anycast cluster, with room. */
#define SATPD_WINDOWS_DEFAULT_BITS 8
/* The daemon's store on the socket path: (mux, sender id) of a thousand connections. */
#define SATPD_WINDOWS_SOCKET_BITS 12

/* The socket path's windows in the state directory (satpd_windows_open_file). */
#define SATPD_WINDOWS_FILE "rx-windows"

/* XDP: satp_xdp_bind_window(), so the program reads the new slot. */
typedef int (*satpd_window_bind_fn)(void *ctx, uint16_t mux, uint16_t sender_id, uint32_t slot);

/*
 * An index entry: 0 = never used (ends a probe), SATPD_WINDOW_USED | mux << 16 |
 * sender id, or SATPD_WINDOW_FREED (a tombstone: reusable, does not end a probe).
 */
#define SATPD_WINDOW_USED  (1ull << 32)
#define SATPD_WINDOW_FREED (2ull << 32)

/* XDP: satp_xdp_unbind_window() and zeroed sender counters, before the slot is reused. */
typedef void (*satpd_window_unbind_fn)(void *ctx, uint16_t mux, uint16_t sender_id, uint32_t slot);

struct satpd_windows {
	struct satp_window *slots; /* 1 << bits of them */
	_Atomic uint64_t *index;   /* 1 << bits entries, parallel to slots */
	atomic_flag *busy;	   /* per slot: a commit is in progress */
	pthread_mutex_t grow;	   /* taken only to add a sender */
	unsigned int bits;
	_Atomic unsigned int n;
	uint32_t size; /* -w of the connection */
	bool own_slots;
	void *map;	/* the state file's mapping (socket path), else NULL */
	size_t map_len;
	int map_fd;	/* holds the file's flock: one daemon per state directory */
	satpd_window_bind_fn bind;
	satpd_window_unbind_fn unbind;
	void *bind_ctx;
	/* XDP path: the state file's store, written back to (satpd_windows_keep_record). */
	struct satpd_windows *record;
	/* satpd_windows_open_file: the file was not closed cleanly and may lag (a crash). */
	bool unclean;
};

/*
 * slots NULL: allocate 1 << bits of them. Otherwise use the caller's array of
 * that many (the XDP window map) and call bind for every new slot.
 */
int satpd_windows_init(struct satpd_windows *w, unsigned int bits, uint32_t size,
		       struct satp_window *slots, satpd_window_bind_fn bind, void *bind_ctx);
void satpd_windows_free(struct satpd_windows *w);
/*
 * The socket path's store, kept across a restart: index and slots live in
 * dir/SATPD_WINDOWS_FILE mapped MAP_SHARED, so every commit is in the page
 * cache the moment it is made and a SIGKILLed daemon loses nothing (a power
 * cut may: the kernel writes the pages back when it likes). A file of another
 * layout or with a corrupt index is reset, with a log line saying so.
 */
int satpd_windows_open_file(struct satpd_windows *w, unsigned int bits, uint32_t size,
			    const char *dir);
/*
 * Take over a slot a previous run bound (the pinned satp_win_idx): its window
 * keeps what it committed. -EEXIST when the slot holds another sender.
 */
int satpd_windows_adopt(struct satpd_windows *w, uint16_t mux, uint16_t sender_id, uint32_t slot);
/* The slot index of (mux, sender id), a fresh one if new; -ENOSPC when all are taken. */
int satpd_windows_slot(struct satpd_windows *w, uint16_t mux, uint16_t sender_id);
/* The window of (mux, sender id); a fresh one if new. NULL when every slot is taken. */
struct satp_window *satpd_windows_get(struct satpd_windows *w, uint16_t mux, uint16_t sender_id);
/*
 * The replay decision: commit seq in the sender's window, serialised per slot.
 * SATP_OK, SATP_REPLAY, SATP_TOO_OLD; -ENOSPC (as a negative int) when no slot is left.
 */
int satpd_windows_commit(struct satpd_windows *w, uint16_t mux, uint16_t sender_id, uint32_t seq);
/* As satpd_windows_commit; a new sender's window gets size instead of the store's. */
int satpd_windows_commit_sized(struct satpd_windows *w, uint16_t mux, uint16_t sender_id,
			       uint32_t size, uint32_t seq);
/*
 * Forget what (mux, sender id) committed (a peer restarted its sequence
 * numbers): the slot starts over with size, XDP included (it reads the same
 * slot). -ENOENT when the sender has no window.
 */
int satpd_windows_reset(struct satpd_windows *w, uint16_t mux, uint16_t sender_id, uint32_t size);
/*
 * Slot i's window relative to its top, for the other edges (satp_window_export),
 * and the slot's key (mux << 16 | sender id). -ENOENT for a free slot or
 * nothing committed, -EAGAIN when a worker kept sliding it.
 */
int satpd_windows_export(const struct satpd_windows *w, unsigned int i, uint32_t *key,
			 uint32_t *top, uint64_t *bits, uint32_t *nbits);
/*
 * Merge another edge's window of (mux, sender id) (satp_window_merge),
 * serialised with the workers' commits to that slot; a new sender's window
 * gets size. 1 when it changed, 0 when not, -ENOSPC when no slot is left.
 */
int satpd_windows_merge(struct satpd_windows *w, uint16_t mux, uint16_t sender_id, uint32_t size,
			uint32_t top, const uint64_t *bits, uint32_t nbits);
/*
 * As satpd_windows_merge for a window of another store (the state file, the
 * pins of an earlier run): size applies to a new slot only, an existing one
 * keeps its owner's.
 */
int satpd_windows_merge_record(struct satpd_windows *w, uint16_t mux, uint16_t sender_id,
			       uint32_t size, uint32_t top, const uint64_t *bits, uint32_t nbits);
/*
 * Free every slot of mux (a connection deleted) for later senders; the caller
 * vouches nothing uses them (above). Returns how many. Main thread.
 */
unsigned int satpd_windows_release_mux(struct satpd_windows *w, uint16_t mux);
/* Top of the window of (mux, sender id) for the snapshot; false when it has none yet. */
bool satpd_windows_top(const struct satpd_windows *w, unsigned int i, uint32_t *key, uint32_t *top);

/*
 * The durable record. The socket path commits straight into the state file's
 * mapping; the XDP path commits into the pinned map, which a reboot, a
 * `--xdp-mode off` restart or a fallback to the sockets leave behind. So the
 * file stays the record of both: at the XDP start its windows are merged into
 * the map (top = max, bits OR-ed), and from then on satpd_windows_write_back
 * copies what changed back into it (docs/windows.md gives the loss bounds).
 */

/* Move a store (nothing may use it meanwhile); src is left empty. */
void satpd_windows_move(struct satpd_windows *dst, struct satpd_windows *src);
/*
 * Merge every window of src into dst's windows of the same (mux, sender id),
 * new ones taking a slot. Returns how many found no slot (logged).
 */
unsigned int satpd_windows_merge_all(struct satpd_windows *dst, const struct satpd_windows *src);
/*
 * rec (satpd_windows_open_file, heap-allocated) becomes w's record and w's to
 * free: its windows are merged into w, then w's are written back into it.
 * -ENOSPC when some of rec's found no slot in w (logged; they stay in rec).
 */
int satpd_windows_keep_record(struct satpd_windows *w, struct satpd_windows *rec);
/*
 * Write every window of w that moved since the last call into its record;
 * resets and released muxes go there as they happen. Main thread, no
 * syscall: the record is a shared mapping. Returns how many found no slot.
 */
unsigned int satpd_windows_write_back(struct satpd_windows *w);
/*
 * Start writing the state file's dirty pages (the record's, or the store's
 * own on the socket path) to disk, without waiting for them
 * (sync_file_range): a power cut then loses about the last second of commits
 * rather than the kernel's writeback delay. Not a data-integrity operation
 * (disk caches, metadata); satpd_windows_close_clean is. Main loop.
 */
void satpd_windows_start_flush(const struct satpd_windows *w);
/* The record after a last write-back, now the caller's; NULL without one. */
struct satpd_windows *satpd_windows_take_record(struct satpd_windows *w);
/*
 * Mark the state file complete and flush it to disk (msync): the next start
 * knows nothing was lost. Once nothing commits any more; a no-op in memory.
 */
int satpd_windows_close_clean(struct satpd_windows *w);

#endif /* SATPD_WINDOWS_H */
