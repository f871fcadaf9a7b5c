// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a restart hands the window store (user/satpd/window_store.c), as a
 * table: a slot the last run left (its -w and the seqs it committed), the new
 * run's store size (connection 0's -w, which opens the store), the owner's -w
 * in the new run, and where the window comes back from: the socket path's
 * state file (satpd_windows_open_file), the pinned XDP map
 * (satpd_windows_adopt) or, with the pins gone, the state file merged into an
 * empty map as its record (satpd_windows_keep_record). Each row states the
 * slot's size right after adoption and the verdicts of probe seqs committed
 * with the owner's -w.
 *
 * Issue 11's first item (review H1): adoption wrote the store's size over every
 * slot, so a -w 0 first connection turned every other window off after a
 * restart and its replays were delivered. Review M3: the pinned index has no
 * tombstones, so a sender past a slot freed in the last run got a fresh window.
 */
#include <errno.h>
#include <stdbool.h>
#include <unistd.h>

#include "satp_test_util.h"
#include "window_store.h"

#define BITS	   6 /* 64 slots */
#define MUX	   7
#define SENDER	   1
#define OTHER_MUX  8 /* M3: the sender freed ahead of ours on its probe path */
#define MAX_SEQS   4
#define MAX_PROBES 5

enum adopt_source {
	FROM_FILE,   /* the socket path's rx-windows file */
	FROM_PINS,   /* the XDP path's pinned map and index */
	FROM_RECORD, /* the XDP path after a reboot: the file merged into an empty map */
};

struct adopt_row {
	const char *name;
	enum adopt_source source;
	uint32_t last_size;	      /* the slot's -w in the last run */
	uint32_t committed[MAX_SEQS]; /* by the last run, 0-terminated */
	bool freed_ahead;	      /* a sender on our probe path was freed in the last run */
	uint32_t store_size;	      /* the new run's store: connection 0's -w */
	uint32_t owner_size;	      /* the slot owner's -w in the new run */
	uint32_t size_adopted;	      /* the slot's size before the owner commits */
	struct {
		uint32_t seq;
		int verdict;
	} probe[MAX_PROBES]; /* in order, committed with owner_size; 0-terminated */
};

#define REFUSED(seq)                                                                               \
	{                                                                                          \
		seq, SATP_REPLAY                                                                   \
	}
#define TOO_OLD(seq)                                                                               \
	{                                                                                          \
		seq, SATP_TOO_OLD                                                                  \
	}
#define FRESH(seq)                                                                                 \
	{                                                                                          \
		seq, SATP_OK                                                                       \
	}

/* clang-format off */
static const struct adopt_row rows[] = {
    /* H1: the store of size 0 must not switch another connection's window off */
    {"file: store -w 0, slot -w 100", FROM_FILE, 100, {1000, 990}, false, 0, 100, 100,
     {REFUSED(1000), REFUSED(990), TOO_OLD(900), FRESH(995), FRESH(1001)}},
    {"pins: store -w 0, slot -w 100", FROM_PINS, 100, {1000, 990}, false, 0, 100, 100,
     {REFUSED(1000), REFUSED(990), TOO_OLD(900), FRESH(995), FRESH(1001)}},
    {"record: store -w 0, slot -w 100", FROM_RECORD, 100, {1000, 990}, false, 0, 100, 100,
     {REFUSED(1000), REFUSED(990), TOO_OLD(900), FRESH(995), FRESH(1001)}},
    /* nor a larger store size widen it before its owner says so */
    {"file: store -w 1000, slot -w 100", FROM_FILE, 100, {1000}, false, 1000, 100, 100,
     {REFUSED(1000), TOO_OLD(800), FRESH(950)}},
    {"pins: store -w 1000, slot -w 100", FROM_PINS, 100, {1000}, false, 1000, 100, 100,
     {REFUSED(1000), TOO_OLD(800), FRESH(950)}},
    /* a slot whose owner had protection off keeps it off: the store's 100 is not its */
    {"file: store -w 100, slot -w 0", FROM_FILE, 0, {1000}, false, 100, 0, 0,
     {FRESH(1000), FRESH(1000)}},
    {"pins: store -w 100, slot -w 0", FROM_PINS, 0, {1000}, false, 100, 0, 0,
     {FRESH(1000), FRESH(1000)}},
    /* the owner's -w changed across the restart: it applies at its first commit, bits stay */
    {"file: owner -w 100 -> 300", FROM_FILE, 100, {850, 1000}, false, 100, 300, 100,
     {REFUSED(1000), REFUSED(850), FRESH(800), TOO_OLD(600)}},
    {"pins: owner -w 100 -> 10", FROM_PINS, 100, {1000, 995}, false, 100, 10, 100,
     {REFUSED(995), TOO_OLD(985), FRESH(996)}},
    /* M3: a slot freed on the probe path in the last run ends no probe */
    {"pins: a freed slot ahead on the probe path", FROM_PINS, 64, {1000}, true, 64, 64, 64,
     {REFUSED(1000), FRESH(1001)}},
    {"file: a freed slot ahead on the probe path", FROM_FILE, 64, {1000}, true, 64, 64, 64,
     {REFUSED(1000), FRESH(1001)}},
};
/* clang-format on */

/* The pinned map: what survives the daemon on the XDP path. */
static struct satp_window pins[1u << BITS];

static void rm_state(const char *dir)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, SATPD_WINDOWS_FILE);
	unlink(path);
	rmdir(dir);
}

/* A sender of OTHER_MUX whose probe starts where ours does. */
static uint16_t colliding_sender(const struct satpd_windows *w)
{
	uint32_t s;

	for (s = 0; s < 0x10000; s++)
		if (satpd_windows_home(w, OTHER_MUX, (uint16_t)s) ==
		    satpd_windows_home(w, MUX, SENDER))
			return (uint16_t)s;
	fail_msg("no sender of mux %d collides with (%d, %d)", OTHER_MUX, MUX, SENDER);
	return 0;
}

/* The last run: the row's commits, and the slot they went to (its index stays pinned). */
static int last_run(const struct adopt_row *r, struct satpd_windows *w)
{
	const uint32_t *seq;
	int slot;

	if (r->freed_ahead)
		assert_int_equal(
		    satpd_windows_commit_sized(w, OTHER_MUX, colliding_sender(w), 64, 7), SATP_OK);
	for (seq = r->committed; *seq; seq++)
		assert_int_equal(satpd_windows_commit_sized(w, MUX, SENDER, r->last_size, *seq),
				 SATP_OK);
	slot = satpd_windows_slot(w, MUX, SENDER);
	assert_true(slot >= 0);
	if (r->freed_ahead) {
		assert_int_equal((uint32_t)slot,
				 (satpd_windows_home(w, MUX, SENDER) + 1) & ((1u << BITS) - 1));
		assert_int_equal(satpd_windows_release_mux(w, OTHER_MUX), 1);
	}
	return slot;
}

/* The new run's store with the row's window adopted; the slot it is in. */
static int adopt(const struct adopt_row *r, struct satpd_windows *w, const char *dir)
{
	struct satpd_windows *rec;
	int slot;

	switch (r->source) {
	case FROM_FILE:
		assert_int_equal(satpd_windows_open_file(w, BITS, r->store_size, dir), 0);
		return satpd_windows_slot(w, MUX, SENDER);
	case FROM_PINS:
		memset(pins, 0, sizeof(pins));
		assert_int_equal(satpd_windows_init(w, BITS, r->last_size, pins, NULL, NULL), 0);
		slot = last_run(r, w);
		satpd_windows_free(w); /* the pinned index keeps only live senders */
		assert_int_equal(satpd_windows_init(w, BITS, r->store_size, pins, NULL, NULL), 0);
		assert_int_equal(satpd_windows_adopt(w, MUX, SENDER, (uint32_t)slot), 0);
		return slot;
	case FROM_RECORD:
		rec = malloc(sizeof(*rec));
		assert_non_null(rec);
		assert_int_equal(satpd_windows_open_file(rec, BITS, r->store_size, dir), 0);
		memset(pins, 0, sizeof(pins)); /* a reboot: the pins are gone */
		assert_int_equal(satpd_windows_init(w, BITS, r->store_size, pins, NULL, NULL), 0);
		assert_int_equal(satpd_windows_keep_record(w, rec), 0);
		return satpd_windows_slot(w, MUX, SENDER);
	}
	return -EINVAL;
}

/* FROM_FILE and FROM_RECORD: the last run commits into the state file. */
static void last_run_file(const struct adopt_row *r, const char *dir)
{
	struct satpd_windows w;

	assert_int_equal(satpd_windows_open_file(&w, BITS, r->last_size, dir), 0);
	last_run(r, &w);
	satpd_windows_free(&w);
}

/* Every row runs; each wrong one is named, so a broken rule shows all the rows it breaks. */
static bool run_row(const struct adopt_row *r)
{
	char dir[] = "/tmp/satp-winadopt.XXXXXX";
	struct satpd_windows w;
	bool ok = true;
	size_t k;
	int slot, got;

	assert_non_null(mkdtemp(dir));
	if (r->source != FROM_PINS)
		last_run_file(r, dir);
	slot = adopt(r, &w, dir);
	if (slot < 0) {
		print_error("%s: no slot after adoption (%d)\n", r->name, slot);
		ok = false;
	} else if (w.slots[slot].size != r->size_adopted) {
		print_error("%s: adopted size %u, want %u\n", r->name, w.slots[slot].size,
			    r->size_adopted);
		ok = false;
	}
	for (k = 0; slot >= 0 && k < MAX_PROBES && r->probe[k].seq; k++) {
		got = satpd_windows_commit_sized(&w, MUX, SENDER, r->owner_size, r->probe[k].seq);
		if (got != r->probe[k].verdict) {
			print_error("%s: seq %u gave %d, want %d\n", r->name, r->probe[k].seq, got,
				    r->probe[k].verdict);
			ok = false;
		}
	}
	satpd_windows_free(&w);
	rm_state(dir);
	return ok;
}

static void test_adopt_table(void **state)
{
	unsigned int bad = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rows); i++)
		bad += !run_row(&rows[i]);
	if (bad)
		fail_msg("%u of %zu rows wrong", bad, ARRAY_SIZE(rows));
}

/* A pinned slot that another sender holds in the new run is not taken over. */
static void test_adopt_slot_taken(void **state)
{
	struct satpd_windows w;
	int slot;

	memset(pins, 0, sizeof(pins));
	assert_int_equal(satpd_windows_init(&w, BITS, 100, pins, NULL, NULL), 0);
	assert_int_equal(satpd_windows_commit(&w, MUX, SENDER, 1000), SATP_OK);
	slot = satpd_windows_slot(&w, MUX, SENDER);
	assert_int_equal(satpd_windows_adopt(&w, MUX, SENDER, (uint32_t)slot), 0); /* its own */
	assert_int_equal(satpd_windows_adopt(&w, OTHER_MUX, 1, (uint32_t)slot), -EEXIST);
	assert_int_equal(satpd_windows_adopt(&w, OTHER_MUX, 1, 1u << BITS), -ERANGE);
	assert_int_equal(satpd_windows_commit(&w, MUX, SENDER, 1000), SATP_REPLAY);
	satpd_windows_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_adopt_table),
	    cmocka_unit_test(test_adopt_slot_taken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
