// SPDX-License-Identifier: GPL-2.0-only
/*
 * satpd's window store (user/satpd/window_store.c) across connection churn: slots
 * of deleted connections are freed (satpd_windows_release_mux) and reused, so
 * add/del cycles far beyond the slot count never run out; a live sender keeps
 * its slot and its committed seqs through everyone else's churn; the unbind
 * callback (XDP's) is called once per freed slot and a reused slot is bound
 * again; a store file with tombstones reopens as it was. Across a restart a
 * slot keeps its own -w (review H1) and an adopted pinned slot stays reachable
 * past a slot freed in the last run (M3). The durable record (review H2,
 * docs/windows.md): two stores merge per (mux, sender id) with top = max and
 * bits OR-ed, the XDP store's commits reach the state file at once (a SIGKILL
 * then a wiped bpffs loses nothing), its write-back is a safety net, and the
 * file remembers a clean close. One connection cannot take the whole pool (the
 * per-connection quota, review M7); a deleted connection's windows come back
 * when it is re-added with the same keys, a key change starts empty and the old
 * keys are refused from then on, also when the pool reclaimed the windows (M6).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "satp_test_util.h"
#include "window_store.h"

#define BITS	 6 /* 64 slots: churn goes far beyond them quickly */
#define CYCLES	 1000
#define PER_CONN 3 /* senders per churned connection */
#define LIVE_MUX 1

struct binds {
	unsigned int bound, unbound;
	uint32_t slot_of[1u << BITS]; /* key bound there, +1; 0: none */
};

static int bind_cb(void *ctx, uint16_t mux, uint16_t sender, uint32_t slot)
{
	struct binds *b = ctx;

	assert_int_equal(b->slot_of[slot], 0); /* never bound twice without an unbind */
	b->slot_of[slot] = ((uint32_t)mux << 16 | sender) + 1;
	b->bound++;
	return 0;
}

static void unbind_cb(void *ctx, uint16_t mux, uint16_t sender, uint32_t slot)
{
	struct binds *b = ctx;

	assert_int_equal(b->slot_of[slot], ((uint32_t)mux << 16 | sender) + 1);
	b->slot_of[slot] = 0;
	b->unbound++;
}

static void test_churn(void **state)
{
	static struct satp_window slots[1u << BITS];
	static struct binds b;
	struct satpd_windows w;
	unsigned int c, s, live_slot;
	uint16_t mux;

	assert_int_equal(satpd_windows_init(&w, BITS, 64, slots, bind_cb, &b), 0);
	w.unbind = unbind_cb;
	assert_int_equal(satpd_windows_commit(&w, LIVE_MUX, 7, 1000), SATP_OK);
	live_slot = (unsigned int)satpd_windows_slot(&w, LIVE_MUX, 7);
	for (c = 0; c < CYCLES; c++) {
		mux = (uint16_t)(100 + c % 5000); /* muxes come back too */
		for (s = 0; s < PER_CONN; s++)
			if (satpd_windows_commit(&w, mux, (uint16_t)s, 5) != SATP_OK)
				fail_msg("cycle %u: mux %u sender %u got no fresh slot", c, mux, s);
		assert_int_equal(satpd_windows_commit(&w, mux, 0, 5), SATP_REPLAY);
		assert_int_equal(satpd_windows_release_mux(&w, mux), PER_CONN);
		assert_int_equal(satpd_windows_release_mux(&w, mux), 0);
		/* the next holder of the mux starts from nothing */
		assert_int_equal(satpd_windows_reset(&w, mux, 0, 64), -ENOENT);
	}
	assert_int_equal(b.bound, 1 + CYCLES * PER_CONN);
	assert_int_equal(b.unbound, CYCLES * PER_CONN);
	assert_int_equal(atomic_load(&w.n), 1);
	/* the live sender never moved and kept its window */
	assert_int_equal(satpd_windows_slot(&w, LIVE_MUX, 7), (int)live_slot);
	assert_int_equal(satpd_windows_commit(&w, LIVE_MUX, 7, 1000), SATP_REPLAY);
	assert_int_equal(satpd_windows_commit(&w, LIVE_MUX, 7, 1001), SATP_OK);
	satpd_windows_free(&w);
}

/* Full means full: with every slot live a new sender is refused, one release later it fits. */
static void test_full_then_free(void **state)
{
	static struct satp_window slots[1u << BITS];
	struct satpd_windows w;
	unsigned int s;

	assert_int_equal(satpd_windows_init(&w, BITS, 64, slots, NULL, NULL), 0);
	for (s = 0; s < (1u << BITS); s++)
		assert_int_equal(satpd_windows_commit(&w, (uint16_t)(s % 2 + 10), (uint16_t)s, 1),
				 SATP_OK);
	assert_int_equal(satpd_windows_commit(&w, 99, 1, 1), -ENOSPC);
	assert_int_equal(satpd_windows_release_mux(&w, 10), 1u << (BITS - 1));
	for (s = 0; s < (1u << (BITS - 1)); s++)
		assert_int_equal(satpd_windows_commit(&w, 99, (uint16_t)s, 1), SATP_OK);
	assert_int_equal(satpd_windows_commit(&w, 98, 1, 1), -ENOSPC);
	/* mux 11 kept all its windows through it */
	for (s = 1; s < (1u << BITS); s += 2)
		assert_int_equal(satpd_windows_commit(&w, 11, (uint16_t)s, 1), SATP_REPLAY);
	satpd_windows_free(&w);
}

/* The socket path's file keeps tombstones: reopened, freed slots stay free, live ones live. */
static void test_file_tombstones(void **state)
{
	char dir[] = "/tmp/satp-winstore.XXXXXX", path[64];
	struct satpd_windows w;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(satpd_windows_open_file(&w, BITS, 64, dir), 0);
	assert_int_equal(satpd_windows_commit(&w, 1, 1, 50), SATP_OK);
	assert_int_equal(satpd_windows_commit(&w, 2, 1, 60), SATP_OK);
	assert_int_equal(satpd_windows_release_mux(&w, 1), 1);
	satpd_windows_free(&w);
	assert_int_equal(satpd_windows_open_file(&w, BITS, 64, dir), 0);
	assert_int_equal(atomic_load(&w.n), 1);
	assert_int_equal(satpd_windows_commit(&w, 2, 1, 60), SATP_REPLAY);
	assert_int_equal(satpd_windows_commit(&w, 1, 1, 50), SATP_OK); /* a fresh window */
	satpd_windows_free(&w);
	snprintf(path, sizeof(path), "%s/%s", dir, SATPD_WINDOWS_FILE);
	unlink(path);
	rmdir(dir);
}

/* A temporary state directory and its window file, removed by rm_state(). */
static void rm_state(const char *dir)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/%s", dir, SATPD_WINDOWS_FILE);
	unlink(path);
	rmdir(dir);
}

/*
 * Review H1: the store is opened with connection 0's -w (0 here); a slot of
 * another connection (-w 100) keeps its size across a restart, so its replay
 * is still refused. The old adoption wrote 0 over it and accepted everything.
 */
static void test_file_keeps_slot_size(void **state)
{
	char dir[] = "/tmp/satp-winstore.XXXXXX";
	struct satpd_windows w;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(satpd_windows_open_file(&w, BITS, 0, dir), 0);
	assert_int_equal(satpd_windows_commit_sized(&w, 7, 1, 100, 1000), SATP_OK);
	assert_int_equal(satpd_windows_commit_sized(&w, 7, 1, 100, 1000), SATP_REPLAY);
	satpd_windows_free(&w); /* restart */
	assert_int_equal(satpd_windows_open_file(&w, BITS, 0, dir), 0);
	assert_int_equal(satpd_windows_commit_sized(&w, 7, 1, 100, 1000), SATP_REPLAY);
	assert_int_equal(satpd_windows_commit_sized(&w, 7, 1, 100, 900), SATP_TOO_OLD);
	/* the owner's -w changed meanwhile: it applies, the committed bits stay */
	assert_int_equal(satpd_windows_commit_sized(&w, 7, 1, 200, 900), SATP_OK);
	assert_int_equal(satpd_windows_commit_sized(&w, 7, 1, 200, 1000), SATP_REPLAY);
	satpd_windows_free(&w);
	rm_state(dir);
}

/* The same on the XDP path: a pinned slot adopted into a store of size 0 keeps its 100. */
static void test_adopt_keeps_slot_size(void **state)
{
	static struct satp_window slots[1u << BITS];
	struct satpd_windows w;
	int slot;

	assert_int_equal(satpd_windows_init(&w, BITS, 0, slots, NULL, NULL), 0);
	assert_int_equal(satpd_windows_commit_sized(&w, 7, 1, 100, 1000), SATP_OK);
	slot = satpd_windows_slot(&w, 7, 1);
	satpd_windows_free(&w); /* restart; the pinned map keeps slots[] */
	assert_int_equal(satpd_windows_init(&w, BITS, 0, slots, NULL, NULL), 0);
	assert_int_equal(satpd_windows_adopt(&w, 7, 1, (uint32_t)slot), 0);
	assert_int_equal(slots[slot].size, 100);
	assert_int_equal(satpd_windows_commit_sized(&w, 7, 1, 100, 1000), SATP_REPLAY);
	satpd_windows_free(&w);
}

/* A sender of mux 2 whose key hashes to the same home as (1, 1) at BITS. */
static uint16_t colliding_sender(struct satpd_windows *w)
{
	uint32_t s;

	for (s = 0; s < 0x10000; s++)
		if (s != 1 && satpd_windows_home(w, 2, (uint16_t)s) == satpd_windows_home(w, 1, 1))
			return (uint16_t)s;
	fail_msg("no sender of mux 2 collides with (1, 1)");
	return 0;
}

/*
 * Review M3: K1 = (1, 1) takes its home slot h, K2 collides and takes h + 1;
 * mux 1 is deleted, then a restart adopts only K2 from the pinned index (which
 * has no tombstones). K2 must still find its window at h + 1, not get a fresh
 * one at h that accepts its replays.
 */
static void test_adopt_past_freed(void **state)
{
	static struct satp_window slots[1u << BITS];
	struct satpd_windows w;
	uint16_t s2;
	int k1, k2;

	assert_int_equal(satpd_windows_init(&w, BITS, 64, slots, NULL, NULL), 0);
	s2 = colliding_sender(&w);
	assert_int_equal(satpd_windows_commit(&w, 1, 1, 500), SATP_OK);
	assert_int_equal(satpd_windows_commit(&w, 2, s2, 1000), SATP_OK);
	k1 = satpd_windows_slot(&w, 1, 1);
	k2 = satpd_windows_slot(&w, 2, s2);
	assert_int_equal(k2, (k1 + 1) % (1 << BITS));
	assert_int_equal(satpd_windows_release_mux(&w, 1), 1);
	satpd_windows_free(&w); /* restart: the pinned index holds K2 -> k2 only */
	assert_int_equal(satpd_windows_init(&w, BITS, 64, slots, NULL, NULL), 0);
	assert_int_equal(satpd_windows_adopt(&w, 2, s2, (uint32_t)k2), 0);
	assert_int_equal(satpd_windows_commit(&w, 2, s2, 1000), SATP_REPLAY);
	assert_int_equal(satpd_windows_slot(&w, 2, s2), k2);
	/* the freed home is reusable: K1 comes back to a fresh window there */
	assert_int_equal(satpd_windows_commit(&w, 1, 1, 500), SATP_OK);
	assert_int_equal(satpd_windows_slot(&w, 1, 1), k1);
	satpd_windows_free(&w);
}

/*
 * satpd_windows_merge_all, the start's merge of the state file and the pinned
 * map: per (mux, sender id) top = max and bits OR-ed, whichever slot each
 * store keeps it in. Each row commits seqs into two stores (-w 100), merges
 * src into dst and probes dst; the probes' verdicts are what one store
 * holding both histories gives. Rows near 0 and 2^32 cross the shifted layout.
 */
#define MAX_SEQS 6
struct merge_row {
	const char *name;
	uint32_t src[MAX_SEQS], dst[MAX_SEQS]; /* committed, 0-terminated (seq 0 unused) */
	struct {
		uint32_t seq;
		int verdict;
	} probe[MAX_SEQS];
};

/* clang-format off */
static const struct merge_row merge_rows[] = {
    {"dst empty: src's window",
     {1000, 990, 0},
     {0},
     {{1000, SATP_REPLAY}, {990, SATP_REPLAY}, {995, SATP_OK}, {900, SATP_TOO_OLD}, {1001, SATP_OK}}},
    {"src ahead: top moves, dst's bits inside stay",
     {1050, 0},
     {1000, 980, 0},
     {{1050, SATP_REPLAY}, {1000, SATP_REPLAY}, {980, SATP_REPLAY}, {1020, SATP_OK}, {950, SATP_TOO_OLD}}},
    {"src behind: top stays, src's bits inside join",
     {990, 970, 0},
     {1000, 0},
     {{1000, SATP_REPLAY}, {990, SATP_REPLAY}, {970, SATP_REPLAY}, {980, SATP_OK}}},
    {"src far behind: nothing of it is inside",
     {500, 0},
     {1000, 0},
     {{1000, SATP_REPLAY}, {500, SATP_TOO_OLD}, {999, SATP_OK}}},
    {"across the wrap: src past 2^32-1, dst before it",
     {5, 0xfffffff0u, 0},
     {0xffffffe0u, 0},
     {{5, SATP_REPLAY}, {0xfffffff0u, SATP_REPLAY}, {0xffffffe0u, SATP_REPLAY}, {0xffffffe8u, SATP_OK}, {6, SATP_OK}}},
    {"near 0: tops below the window size",
     {40, 0},
     {60, 30, 0},
     {{60, SATP_REPLAY}, {40, SATP_REPLAY}, {30, SATP_REPLAY}, {50, SATP_OK}}},
};
/* clang-format on */

static void commit_all(struct satpd_windows *w, const uint32_t *seqs)
{
	for (; *seqs; seqs++)
		assert_int_equal(satpd_windows_commit_sized(w, 3, 9, 100, *seqs), SATP_OK);
}

static void test_merge_table(void **state)
{
	struct satpd_windows src, dst;
	size_t r, k;

	for (r = 0; r < sizeof(merge_rows) / sizeof(merge_rows[0]); r++) {
		const struct merge_row *row = &merge_rows[r];

		/* different store sizes, as the file (12 bits) and the map (10) */
		assert_int_equal(satpd_windows_init(&src, BITS + 2, 0, NULL, NULL, NULL), 0);
		assert_int_equal(satpd_windows_init(&dst, BITS, 0, NULL, NULL, NULL), 0);
		commit_all(&src, row->src);
		commit_all(&dst, row->dst);
		assert_int_equal(satpd_windows_merge_all(&dst, &src), 0);
		for (k = 0; k < MAX_SEQS && row->probe[k].seq; k++)
			if (satpd_windows_commit_sized(&dst, 3, 9, 100, row->probe[k].seq) !=
			    row->probe[k].verdict)
				fail_msg("%s: seq %u is not %d", row->name, row->probe[k].seq,
					 row->probe[k].verdict);
		satpd_windows_free(&src);
		satpd_windows_free(&dst);
	}
}

/* A record's window of an earlier -w merges in without changing the live slot's size. */
static void test_merge_keeps_owner_size(void **state)
{
	struct satpd_windows src, dst;
	int slot;

	assert_int_equal(satpd_windows_init(&src, BITS, 0, NULL, NULL, NULL), 0);
	assert_int_equal(satpd_windows_init(&dst, BITS, 0, NULL, NULL, NULL), 0);
	assert_int_equal(satpd_windows_commit_sized(&src, 5, 5, 20, 1000), SATP_OK);
	assert_int_equal(satpd_windows_commit_sized(&dst, 5, 5, 100, 990), SATP_OK);
	assert_int_equal(satpd_windows_merge_all(&dst, &src), 0);
	slot = satpd_windows_slot(&dst, 5, 5);
	assert_int_equal(dst.slots[slot].size, 100);
	assert_int_equal(dst.slots[slot].top, 1000);
	/* a sender only the record knows gets the record's size until its owner commits */
	assert_int_equal(satpd_windows_commit_sized(&src, 5, 6, 20, 7), SATP_OK);
	assert_int_equal(satpd_windows_merge_all(&dst, &src), 0);
	assert_int_equal(dst.slots[satpd_windows_slot(&dst, 5, 6)].size, 20);
	satpd_windows_free(&src);
	satpd_windows_free(&dst);
}

/*
 * The XDP path's record: the state file is merged into the map at the start,
 * the map's commits go back to the file by write-back, a released mux leaves
 * a tombstone there; a "reboot" (the map gone) reopens the file with all of it.
 */
static void test_record_write_back(void **state)
{
	static struct satp_window map[1u << BITS];
	char dir[] = "/tmp/satp-winstore.XXXXXX";
	struct satpd_windows live, *rec;

	assert_non_null(mkdtemp(dir));
	/* run 1, socket path: (1, 1) up to 500 in the file */
	assert_int_equal(satpd_windows_open_file(&live, BITS + 2, 64, dir), 0);
	assert_int_equal(satpd_windows_commit(&live, 1, 1, 500), SATP_OK);
	satpd_windows_free(&live);
	/* run 2, XDP: the file's window reaches the map, new commits go back */
	rec = malloc(sizeof(*rec));
	assert_non_null(rec);
	assert_int_equal(satpd_windows_open_file(rec, BITS + 2, 64, dir), 0);
	assert_int_equal(satpd_windows_init(&live, BITS, 64, map, NULL, NULL), 0);
	assert_int_equal(satpd_windows_keep_record(&live, rec), 0);
	assert_int_equal(satpd_windows_commit(&live, 1, 1, 500), SATP_REPLAY);
	assert_int_equal(satpd_windows_commit(&live, 1, 1, 510), SATP_OK);
	assert_int_equal(satpd_windows_commit(&live, 2, 7, 77), SATP_OK);
	assert_int_equal(satpd_windows_commit(&live, 3, 1, 30), SATP_OK);
	assert_int_equal(satpd_windows_write_back(&live), 0);
	assert_int_equal(satpd_windows_release_mux(&live, 3), 1);
	assert_int_equal(satpd_windows_commit(&live, 1, 1, 520), SATP_OK); /* not written back */
	satpd_windows_free(&live); /* SIGKILL, then reboot */
	memset(map, 0, sizeof(map));
	/* run 3, socket path: all that was written back; mux 3 freed */
	assert_int_equal(satpd_windows_open_file(&live, BITS + 2, 64, dir), 0);
	assert_true(live.unclean);
	assert_int_equal(atomic_load(&live.n), 2);
	assert_int_equal(satpd_windows_commit(&live, 1, 1, 510), SATP_REPLAY);
	assert_int_equal(satpd_windows_commit(&live, 1, 1, 500), SATP_REPLAY);
	assert_int_equal(satpd_windows_commit(&live, 2, 7, 77), SATP_REPLAY);
	assert_int_equal(satpd_windows_commit(&live, 3, 1, 30), SATP_OK);
	satpd_windows_free(&live);
	rm_state(dir);
}

/* The last write-back, taken with the record, reaches the file; a clean close is remembered. */
static void test_record_take_clean(void **state)
{
	static struct satp_window map[1u << BITS];
	char dir[] = "/tmp/satp-winstore.XXXXXX";
	struct satpd_windows live, file, *rec;

	assert_non_null(mkdtemp(dir));
	rec = malloc(sizeof(*rec));
	assert_non_null(rec);
	assert_int_equal(satpd_windows_open_file(rec, BITS + 2, 64, dir), 0);
	assert_false(rec->unclean); /* a new file lags nothing */
	assert_int_equal(satpd_windows_init(&live, BITS, 64, map, NULL, NULL), 0);
	assert_int_equal(satpd_windows_keep_record(&live, rec), 0);
	assert_int_equal(satpd_windows_commit(&live, 4, 2, 4000), SATP_OK);
	assert_ptr_equal(satpd_windows_take_record(&live), rec);
	satpd_windows_free(&live);
	satpd_windows_move(&file, rec);
	free(rec);
	assert_int_equal(satpd_windows_close_clean(&file), 0);
	satpd_windows_free(&file);
	assert_int_equal(satpd_windows_open_file(&file, BITS + 2, 64, dir), 0);
	assert_false(file.unclean);
	assert_int_equal(satpd_windows_commit(&file, 4, 2, 4000), SATP_REPLAY);
	satpd_windows_free(&file); /* no clean close this time */
	assert_int_equal(satpd_windows_open_file(&file, BITS + 2, 64, dir), 0);
	assert_true(file.unclean);
	satpd_windows_free(&file);
	rm_state(dir);
}

/* What the state file holds after the XDP run, as (mux, sender, seq) -> verdict of a commit. */
struct rec_row {
	const char *what;
	uint16_t mux, sender;
	uint32_t seq;
	int verdict;
};

static const struct rec_row rec_rows[] = {
    {"pinned window, its new commit", 1, 1, 101, SATP_REPLAY},
    {"pinned window, the pins' own", 1, 1, 100, SATP_REPLAY},
    {"new sender, quota commit", 2, 1, 200, SATP_REPLAY},
    {"second sender of a mux", 3, 2, 50, SATP_REPLAY},
    {"reset, then a restarted peer's seq", 3, 1, 5, SATP_REPLAY},
    {"reset: the seq before it is forgotten", 3, 1, 300, SATP_OK},
    {"edge merge: its top", 4, 1, 900, SATP_REPLAY},
    {"edge merge: a bit below", 4, 1, 897, SATP_REPLAY},
    {"edge merge: a seq it lacks", 4, 1, 898, SATP_OK},
    {"released mux: freed in the file", 5, 1, 10, SATP_OK},
    {"its slot's next sender: its own record slot", 6, 1, 60, SATP_REPLAY},
};

/*
 * A SIGKILL, then the pins wiped: every commit of the XDP store reached the
 * state file with no write-back between, pinned (adopted) and new slots
 * alike, through each commit entry point and an edge merge; a reset and a
 * released mux (whose live slot drops its record link) too. A write-back when
 * both agree changes nothing.
 */
static void test_record_commits_at_once(void **state)
{
	static struct satp_window map[1u << BITS];
	char dir[] = "/tmp/satp-winstore.XXXXXX";
	uint64_t bits[SATP_WINDOW_WORDS] = {0x5}; /* 899 and 897 below top 900 */
	struct satpd_windows live, *rec;
	struct satp_window *before;
	size_t n, i;

	assert_non_null(mkdtemp(dir));
	memset(map, 0, sizeof(map));
	satp_window_init(&map[5], 64); /* (1, 1) pinned in slot 5 by the last run */
	assert_int_equal(satp_window_commit(&map[5], 100), SATP_OK);
	rec = malloc(sizeof(*rec));
	assert_non_null(rec);
	assert_int_equal(satpd_windows_open_file(rec, BITS + 2, 64, dir), 0);
	assert_int_equal(satpd_windows_init(&live, BITS, 64, map, NULL, NULL), 0);
	assert_int_equal(satpd_windows_adopt(&live, 1, 1, 5), 0);
	assert_int_equal(satpd_windows_keep_record(&live, rec), 0);
	assert_int_equal(satpd_windows_commit(&live, 1, 1, 101), SATP_OK);
	assert_int_equal(satpd_windows_commit_quota(&live, 2, 1, 64, 4, 200), SATP_OK);
	assert_int_equal(satpd_windows_commit_sized(&live, 3, 1, 64, 300), SATP_OK);
	assert_int_equal(satpd_windows_commit(&live, 3, 2, 50), SATP_OK);
	assert_int_equal(satpd_windows_reset(&live, 3, 1, 64), 0);
	assert_int_equal(satpd_windows_commit(&live, 3, 1, 5), SATP_OK);
	assert_int_equal(satpd_windows_merge(&live, 4, 1, 64, 900, bits, 63), 1);
	assert_int_equal(satpd_windows_commit(&live, 5, 1, 10), SATP_OK);
	assert_int_equal(satpd_windows_release_mux(&live, 5), 1);
	assert_int_equal(satpd_windows_commit(&live, 6, 1, 60), SATP_OK);
	/* The safety net, with nothing left to do. */
	n = ((size_t)1 << (BITS + 2)) * sizeof(*before);
	before = malloc(n);
	assert_non_null(before);
	memcpy(before, rec->slots, n);
	assert_int_equal(satpd_windows_write_back(&live), 0);
	assert_memory_equal(before, rec->slots, n);
	free(before);
	satpd_windows_free(&live); /* SIGKILL: no last write-back; then the pins are wiped */
	memset(map, 0, sizeof(map));
	assert_int_equal(satpd_windows_open_file(&live, BITS + 2, 64, dir), 0);
	for (i = 0; i < sizeof(rec_rows) / sizeof(rec_rows[0]); i++) {
		print_message("%s\n", rec_rows[i].what);
		assert_int_equal(satpd_windows_commit(&live, rec_rows[i].mux, rec_rows[i].sender,
						      rec_rows[i].seq),
				 rec_rows[i].verdict);
	}
	satpd_windows_free(&live);
	rm_state(dir);
}

#define POOL_BITS 10 /* XDP's SATP_XDP_WINDOW_SLOTS */

/*
 * M7: one key holder commits 1024 sender ids on mux 1; with the quota the
 * daemon gives (the pool over connections + 1, two connections here) it is
 * stopped at its share, and mux 2's new sender still gets a slot.
 */
static void test_quota(void **state)
{
	static struct satp_window slots[1u << POOL_BITS];
	const unsigned int quota = (1u << POOL_BITS) / 3;
	struct satpd_windows w;
	unsigned int s, ok = 0, over = 0;
	int v;

	assert_int_equal(satpd_windows_init(&w, POOL_BITS, 64, slots, NULL, NULL), 0);
	for (s = 0; s < (1u << POOL_BITS); s++) {
		v = satpd_windows_commit_quota(&w, 1, (uint16_t)s, 64, quota, 1);
		ok += v == SATP_OK;
		over += v == -EDQUOT;
	}
	assert_int_equal(ok, quota);
	assert_int_equal(over, (1u << POOL_BITS) - quota);
	assert_int_equal(satpd_windows_commit_quota(&w, 2, 1, 64, quota, 1), SATP_OK);
	/* the senders it has keep working; quota 0 is no cap */
	assert_int_equal(satpd_windows_commit_quota(&w, 1, 0, 64, quota, 2), SATP_OK);
	assert_int_equal(satpd_windows_commit_quota(&w, 1, 0, 64, quota, 2), SATP_REPLAY);
	assert_int_equal(satpd_windows_commit_quota(&w, 1, 2000, 64, 0, 1), SATP_OK);
	assert_int_equal(satpd_windows_mux_slots(&w, 1), quota + 1);
	satpd_windows_free(&w);
}

static void fp_of(const struct satpd_keymem *m, uint8_t id, struct satpd_key_fp *fp)
{
	struct satp_keys k = {.master_key_len = 16};

	memset(k.master_key, id, 16);
	memset(k.master_salt, id, SATP_SALT_LEN);
	satpd_key_fp(m, &k, fp);
}

/* A table: each step acts on mux 5 and says what the store does. */
enum step_op {
	ADD,
	DEL,
	COMMIT,
	RECLAIM
};
struct readd_step {
	const char *what;
	enum step_op op;
	uint8_t key;  /* ADD: the connection's keys */
	uint32_t seq; /* COMMIT */
	int want;     /* ADD: 0 or -EKEYREJECTED; COMMIT: the verdict */
	bool busy;    /* ADD: -EAGAIN while the deleted connection may be in use */
};

static const struct readd_step readd_steps[] = {
    {"first add with keys A", ADD, 'A', 0, 0, false},
    {"traffic", COMMIT, 0, 100, SATP_OK, false},
    {"deleted", DEL, 0, 0, 0, false},
    {"re-added with keys A", ADD, 'A', 0, 0, false},
    {"a replay of before the delete", COMMIT, 0, 100, SATP_REPLAY, false},
    {"new traffic", COMMIT, 0, 101, SATP_OK, false},
    {"deleted again", DEL, 0, 0, 0, false},
    {"re-added with keys B: a key change", ADD, 'B', 0, 0, true},
    {"B's seqs start over", COMMIT, 0, 1, SATP_OK, false},
    {"deleted under B", DEL, 0, 0, 0, false},
    {"A again: its windows are gone", ADD, 'A', 0, -EKEYREJECTED, false},
    {"B again: kept", ADD, 'B', 0, 0, false},
    {"B's replay", COMMIT, 0, 1, SATP_REPLAY, false},
    {"deleted under B", DEL, 0, 0, 0, false},
    {"pool full: mux 5 reclaimed", RECLAIM, 0, 0, 0, false},
    {"B again: its windows were reclaimed", ADD, 'B', 0, -EKEYREJECTED, false},
    {"C: new keys", ADD, 'C', 0, 0, false},
    {"C's traffic", COMMIT, 0, 1, SATP_OK, false},
};

static void test_readd(void **state)
{
	static struct satpd_keymem m;
	static struct satp_window slots[1u << BITS];
	struct satpd_windows w;
	struct satpd_key_fp fp, cur;
	char err[256];
	unsigned int i;
	int v;

	assert_int_equal(satpd_keymem_init(&m), 0);
	assert_int_equal(satpd_windows_init(&w, BITS, 64, slots, NULL, NULL), 0);
	for (i = 0; i < sizeof(readd_steps) / sizeof(readd_steps[0]); i++) {
		const struct readd_step *t = &readd_steps[i];

		switch (t->op) {
		case ADD:
			fp_of(&m, t->key, &fp);
			err[0] = '\0';
			/* while the deleted connection may be in use, a key change waits */
			v = satpd_windows_admit_keys(&w, &m, 5, &fp, false, err, sizeof(err));
			if ((v == -EAGAIN) != t->busy)
				fail_msg("step %u (%s): admit %d while busy (%s)", i, t->what, v,
					 err);
			if (v == -EAGAIN)
				v = satpd_windows_admit_keys(&w, &m, 5, &fp, true, err,
							     sizeof(err));
			if (v != t->want)
				fail_msg("step %u (%s): admit %d, want %d (%s)", i, t->what, v,
					 t->want, err);
			if (!v)
				cur = fp;
			else
				assert_non_null(strstr(err, "use new keys"));
			break;
		case DEL:
			satpd_windows_park(&w, &m, 5, &cur, 1);
			break;
		case COMMIT:
			v = satpd_windows_commit(&w, 5, 1, t->seq);
			if (v != t->want)
				fail_msg("step %u (%s): verdict %d, want %d", i, t->what, v,
					 t->want);
			break;
		case RECLAIM:
			/* other muxes take the rest, the next one finds none */
			for (v = 0; satpd_windows_commit(&w, 9, (uint16_t)v, 1) == SATP_OK; v++)
				;
			assert_true(atomic_load(&w.full));
			if (satpd_windows_reclaim_parked(&w, &m) != 1)
				fail_msg("step %u (%s): nothing reclaimed", i, t->what);
			assert_int_equal(satpd_windows_commit(&w, 9, (uint16_t)v, 1), SATP_OK);
			satpd_windows_release_mux(&w, 9);
			break;
		}
	}
	satpd_windows_free(&w);
}

/* L3: a session key is remembered; the ring forgets the oldest only past its size. */
static void test_sessions_seen(void **state)
{
	static struct satpd_keymem m;
	struct satpd_key_fp a, b;
	unsigned int i;

	assert_int_equal(satpd_keymem_init(&m), 0);
	fp_of(&m, 1, &a);
	fp_of(&m, 2, &b);
	assert_memory_not_equal(&a, &b, sizeof(a));
	assert_false(satpd_keymem_session_seen(&m, &a));
	satpd_keymem_session_add(&m, &a);
	assert_true(satpd_keymem_session_seen(&m, &a));
	assert_false(satpd_keymem_session_seen(&m, &b));
	for (i = 0; i < SATPD_SESSIONS_SEEN_MAX - 1; i++)
		satpd_keymem_session_add(&m, &b);
	assert_true(satpd_keymem_session_seen(&m, &a));
	satpd_keymem_session_add(&m, &b);
	assert_false(satpd_keymem_session_seen(&m, &a));
}

/*
 * Across a restart: parked muxes, kept and lost keys, sessions and the secret
 * (so that fingerprints compare) come back from the state file; a torn file
 * is replaced, and one held by another daemon is not shared.
 */
static void test_keymem_file(void **state)
{
	static struct satpd_keymem m, other;
	static struct satp_window slots[1u << BITS];
	char dir[] = "/tmp/satp-keymem.XXXXXX", path[64], err[256];
	struct satpd_windows w;
	struct satpd_key_fp a, b;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, SATPD_KEYMEM_FILE);
	assert_int_equal(satpd_windows_init(&w, BITS, 64, slots, NULL, NULL), 0);
	assert_int_equal(satpd_keymem_open(&m, dir), 0);
	fp_of(&m, 'A', &a);
	fp_of(&m, 'B', &b);
	assert_int_equal(satpd_windows_admit_keys(&w, &m, 5, &a, true, err, sizeof(err)), 0);
	assert_int_equal(satpd_windows_commit(&w, 5, 1, 10), SATP_OK);
	satpd_windows_park(&w, &m, 5, &a, 1);
	assert_int_equal(satpd_windows_admit_keys(&w, &m, 6, &b, true, err, sizeof(err)), 0);
	satpd_windows_park(&w, &m, 6, &b, 1);
	assert_int_equal(satpd_windows_admit_keys(&w, &m, 6, &a, true, err, sizeof(err)), 0);
	satpd_keymem_session_add(&m, &b);
	/* a second daemon on the same directory: memory only, the file untouched */
	assert_int_equal(satpd_keymem_open(&other, dir), 0);
	assert_int_equal(other.fd, -1);
	assert_false(satpd_windows_parked(&other, 5));
	satpd_keymem_close(&m);

	assert_int_equal(satpd_keymem_open(&m, dir), 0);
	fp_of(&m, 'A', &a);
	fp_of(&m, 'B', &b);
	assert_true(satpd_windows_parked(&m, 5));
	assert_true(satpd_keymem_session_seen(&m, &b));
	assert_int_equal(satpd_windows_admit_keys(&w, &m, 6, &b, true, err, sizeof(err)),
			 -EKEYREJECTED);
	assert_int_equal(satpd_windows_admit_keys(&w, &m, 5, &a, true, err, sizeof(err)), 0);
	assert_int_equal(satpd_windows_commit(&w, 5, 1, 10), SATP_REPLAY);
	satpd_keymem_close(&m);

	/* torn: a fresh table, written again */
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "x", 1, 100), 1);
	close(fd);
	assert_int_equal(satpd_keymem_open(&m, dir), 0);
	assert_false(satpd_windows_parked(&m, 5));
	satpd_keymem_close(&m);
	assert_int_equal(satpd_keymem_open(&m, dir), 0);
	assert_int_equal(m.n_sessions, 0);
	satpd_keymem_close(&m);
	satpd_windows_free(&w);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_churn),
	    cmocka_unit_test(test_full_then_free),
	    cmocka_unit_test(test_file_tombstones),
	    cmocka_unit_test(test_file_keeps_slot_size),
	    cmocka_unit_test(test_adopt_keeps_slot_size),
	    cmocka_unit_test(test_adopt_past_freed),
	    cmocka_unit_test(test_merge_table),
	    cmocka_unit_test(test_merge_keeps_owner_size),
	    cmocka_unit_test(test_record_write_back),
	    cmocka_unit_test(test_record_take_clean),
	    cmocka_unit_test(test_record_commits_at_once),
	    cmocka_unit_test(test_quota),
	    cmocka_unit_test(test_readd),
	    cmocka_unit_test(test_sessions_seen),
	    cmocka_unit_test(test_keymem_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
