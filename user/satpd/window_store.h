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
#ifndef SATPD_WINDOW_STORE_H
#define SATPD_WINDOW_STORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "satp.h"
#include "seqstate.h" /* the state directory and its file names */

/* Slots on the socket path: senders sharing a mux in one anycast cluster, with room. */
#define SATPD_WINDOWS_DEFAULT_BITS 8
/* The daemon's store on the socket path: (mux, sender id) of a thousand connections. */
#define SATPD_WINDOWS_SOCKET_BITS 12

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
	_Atomic bool full; /* a new sender found no slot: reclaim a parked mux (main thread) */
	uint32_t size;	   /* -w of the connection */
	bool own_slots;
	void *map; /* the state file's mapping (socket path), else NULL */
	size_t map_len;
	int map_fd; /* holds the file's flock: one daemon per state directory */
	satpd_window_bind_fn bind;
	satpd_window_unbind_fn unbind;
	void *bind_ctx;
	/* XDP path: the state file's store, written back to (satpd_windows_keep_record). */
	struct satpd_windows *record;
	/*
	 * Per slot: the record's slot of the same (mux, sender id), -1 = none.
	 * Set before the slot's index entry is published (under grow), dropped
	 * when it is freed; a commit goes there too, so a SIGKILL loses nothing.
	 */
	int32_t *rec_slot;
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
/* The slot where the probe for (mux, sender id) starts: tests build collisions with it. */
uint32_t satpd_windows_home(const struct satpd_windows *w, uint16_t mux, uint16_t sender_id);
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
 * the map (top = max, bits OR-ed), and from then on every commit, edge merge
 * and reset of a map slot is made in the record's slot of the same sender as
 * well, by the same thread under the slot's busy flag (w->rec_slot), so a
 * SIGKILL loses nothing even when the pins go with it. satpd_windows_write_back
 * stays as a safety net: it merges what changed into the record (a sender the
 * record had no room for, a commit made before the link). docs/windows.md
 * gives the loss bounds.
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
 * Merge every window of w that differs from its record's into it (the record
 * never goes back); commits, resets and released muxes go there as they
 * happen. Main thread, no syscall: the record is a shared mapping. Returns
 * how many found no slot.
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

/*
 * Key fingerprints: windows across a connection's delete and re-add (docs/kx.md
 * "Deleting a connection"). A deleted connection's slots are kept (its mux is
 * "parked"), tagged with the fingerprints of the keys their windows were
 * committed under; a re-add on that mux with one of those keys binds them
 * again, one with other keys is a real key change and starts empty. Whenever
 * a mux's kept windows are dropped (a key change, or reclaimed when the pool
 * is full), their fingerprints are remembered as lost: re-adding such keys on
 * that mux is refused, since nothing would stop their recorded traffic.
 *
 * A fingerprint is HMAC-SHA256 of the master key and salt under a random
 * secret of the store (never the key, and not comparable across daemons),
 * truncated: a collision takes 2^64 work and only keeps or refuses windows.
 *
 * Main thread only. Plain data (secret, entries, parked muxes, sessions),
 * kept across restarts in dir/SATPD_KEYMEM_FILE (satpd_keymem_open): the
 * windows outlive the process, so must what they were committed under.
 */
#define SATPD_KEY_FP_LEN 16
/* Static keys remembered per daemon: a few per connection, more than SATPD_CONNS_MAX needs. */
#define SATPD_WINKEYS_MAX 4096
/* kx sessions remembered (L3): installing one of these again is refused. */
#define SATPD_SESSIONS_SEEN_MAX 1024

struct satpd_key_fp {
	uint8_t b[SATPD_KEY_FP_LEN];
};

enum satpd_winkey_state {
	SATPD_WINKEY_FREE = 0,
	SATPD_WINKEY_KEPT, /* mux's windows hold what these keys committed */
	SATPD_WINKEY_LOST, /* they did, and were dropped: these keys are refused on mux */
};

struct satpd_winkey {
	struct satpd_key_fp fp;
	uint16_t mux;
	uint8_t state; /* enum satpd_winkey_state */
	uint8_t pad;
	uint32_t age; /* satpd_keymem.clock when written: the oldest is evicted first */
};

struct satpd_keymem {
	uint8_t secret[32];
	uint32_t clock;
	struct satpd_winkey e[SATPD_WINKEYS_MAX];
	uint64_t parked[(UINT16_MAX + 1) / 64]; /* mux deleted, its slots kept */
	/* Fingerprints of every kx session key installed (tx and rx), a ring. */
	struct satpd_key_fp sessions[SATPD_SESSIONS_SEEN_MAX];
	unsigned int n_sessions, next_session;
	/* Not saved (the file holds what is above): */
	int fd;	    /* dir/SATPD_KEYMEM_FILE, flock'ed; -1: memory only */
	bool dirty; /* changed since the last save */
};

/* A fresh random secret, nothing remembered, memory only. */
int satpd_keymem_init(struct satpd_keymem *m);
/*
 * satpd_keymem_init, then what dir/SATPD_KEYMEM_FILE holds (kept in step from
 * then on). A file of another layout or torn is replaced, with a log line;
 * held by another satpd: memory only, as the window file (window_store.h).
 */
int satpd_keymem_open(struct satpd_keymem *m, const char *dir);
void satpd_keymem_close(struct satpd_keymem *m);
/*
 * Write what changed (the tick, and exit). Changes that make keys refused
 * (lost windows, a session installed) are written at once, before they act.
 */
void satpd_keymem_sync(struct satpd_keymem *m);
void satpd_key_fp(const struct satpd_keymem *m, const struct satp_keys *k, struct satpd_key_fp *fp);
/*
 * Connection (static keys fp) on mux: add, re-add, change-conn, set-keys.
 * Refused (-EKEYREJECTED, err says why) when the keys lost their windows on
 * mux; a parked mux's slots are freed if fp is none of its kept keys, or
 * -EAGAIN when !may_free (something may still use them: window_store.h's top).
 */
int satpd_windows_admit_keys(struct satpd_windows *w, struct satpd_keymem *m, uint16_t mux,
			     const struct satpd_key_fp *fp, bool may_free, char *err,
			     size_t errlen);
/* mux's connection is deleted: keep its slots for the keys fp[0..n). */
void satpd_windows_park(struct satpd_windows *w, struct satpd_keymem *m, uint16_t mux,
			const struct satpd_key_fp *fp, unsigned int n);
bool satpd_windows_parked(const struct satpd_keymem *m, uint16_t mux);
/*
 * The pool is full: free the slots of one parked mux whose keys are
 * remembered (they become lost). Returns how many slots, 0 when none.
 */
unsigned int satpd_windows_reclaim_parked(struct satpd_windows *w, struct satpd_keymem *m);
/* kx: was this session key installed before (then refuse it)? / remember it. */
bool satpd_keymem_session_seen(const struct satpd_keymem *m, const struct satpd_key_fp *fp);
void satpd_keymem_session_add(struct satpd_keymem *m, const struct satpd_key_fp *fp);

/*
 * The per-connection cap on window slots (M7): satpd_windows_commit_sized,
 * but a new sender of a mux that holds quota slots already gets -EDQUOT
 * (quota 0: no cap). The pool is shared: one key holder must not fill it.
 */
int satpd_windows_commit_quota(struct satpd_windows *w, uint16_t mux, uint16_t sender_id,
			       uint32_t size, unsigned int quota, uint32_t seq);
/* Slots mux holds. */
unsigned int satpd_windows_mux_slots(const struct satpd_windows *w, uint16_t mux);

#endif /* SATPD_WINDOW_STORE_H */
