/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Outgoing sequence numbers that survive restarts. anytun and uanytun start
 * at 0 on every start, so a restart with the same static key reuses AES-CTR
 * keystream. satpd reserves ahead: before it sends with numbers up to L it
 * has L on disk (written, fsynced, renamed), and a restart continues at the
 * stored L. A crash loses at most SATPD_SEQ_RESERVE numbers, never reuses one.
 */
#ifndef SATPD_SEQSTATE_H
#define SATPD_SEQSTATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Numbers reserved per write: 2^20 costs one fsync per million packets and
 * wastes at most 2^20 of 2^32 numbers per restart (4096 restarts per key).
 */
#define SATPD_SEQ_RESERVE (1u << 20)
/* Reserve again when this few reserved numbers are left, before running out. */
#define SATPD_SEQ_REFILL (SATPD_SEQ_RESERVE / 2)
/* The last number usable with one key: refuse to wrap (keystream reuse). */
#define SATPD_SEQ_LAST UINT32_MAX

struct satpd_seq {
	_Atomic uint64_t next;	   /* 64 bits so that running past 2^32-1 is visible */
	_Atomic uint64_t reserved; /* numbers < reserved are on disk as used */
	pthread_mutex_t refill;	   /* one writer of the file; taken once per reservation */
	int dirfd;
	char name[64];
	uint64_t start; /* next when opened: what the state file said (0: none, a fresh start) */
};

/*
 * One daemon per state directory: satpd holds an flock on this file in it
 * for its lifetime, so a second one on the same directory (same device name
 * in another namespace, a copied unit) refuses to start instead of sending
 * with the same sequence numbers.
 */
#define SATPD_STATE_LOCK "satpd.lock"
/* The replay windows' durable record and their keys' fingerprints (window_store.h). */
#define SATPD_WINDOWS_FILE "rx-windows"
#define SATPD_KEYMEM_FILE  "rx-window-keys"

/*
 * Create dir if needed (*created: this call made it) and lock it: the lock
 * file's fd (keep it open; closing it unlocks), -EBUSY when another process
 * holds it, -errno. Logs why.
 */
int satpd_state_lock(const char *dir, bool *created);
/*
 * -u/-g, before the privileges drop: reservations are renewed and connections
 * added as uid/gid later. A directory this start created becomes theirs (mode
 * 0700); one that existed must be writable by them already (-EACCES, logged
 * with the fix: satpd does not take over a directory it did not make).
 * satpd's files in it (tx-seq.mux*, rx-windows, the lock) become theirs.
 */
int satpd_state_dir_give(const char *dir, bool created, uid_t uid, gid_t gid);
/* Load or create the state of one connection (file "tx-seq.mux<M>" in dir). */
int satpd_seq_open(struct satpd_seq *s, const char *dir, uint16_t mux);
/*
 * The same in the directory open at dirfd (dir only names it in messages):
 * works after the privileges drop or a chroot, where the path may not.
 */
int satpd_seq_open_at(struct satpd_seq *s, int dirfd, const char *dir, uint16_t mux);
/* mkdir -p with mode 0700: the state directory and its parents. */
int satpd_mkdir_p(const char *path);
/*
 * Take the next number; safe from several workers at once (an atomic
 * fetch-add; the worker that reaches the refill mark writes the file). -ENOSPC when the key's numbers are exhausted, -errno
 * when a reservation cannot be written (nothing is sent then).
 */
int satpd_seq_take(struct satpd_seq *s, uint32_t *seq);
void satpd_seq_close(struct satpd_seq *s);

#endif /* SATPD_SEQSTATE_H */
