// SPDX-License-Identifier: GPL-2.0-only
/*
 * satpd's outgoing sequence-number reservations (user/satpd/seqstate.c) with
 * more than one writer: two objects on one state file (a connection that
 * adopted another mux keeps its file; a new connection of that mux opens it
 * again) must never lower the reservation on disk, so a restart starts past
 * every number either of them took; a state directory is locked by one
 * daemon at a time; and with -u it is the user's when satpd made it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "satp_test_util.h"
#include "seqstate.h"

#define MUX 3u

static char dir[64];

static int make_dir(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/satp-seqstate.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* Take n numbers; the last one taken. */
static uint32_t take(struct satpd_seq *s, unsigned int n)
{
	uint32_t seq = 0;

	while (n--)
		assert_int_equal(satpd_seq_take(s, &seq), 0);
	return seq;
}

/*
 * a opens first (numbers from 0), b opens the same file (from a's
 * reservation); b sends more than half a reservation, then a reaches its
 * refill mark and reserves again from its own, lower, numbers. Reopened, the
 * file must start past everything b took.
 */
static void test_two_writers_one_file(void **state)
{
	struct satpd_seq a, b, again;
	uint32_t a_top, b_top;

	assert_int_equal(satpd_seq_open(&a, dir, MUX), 0);
	assert_int_equal(a.start, 0);
	assert_int_equal(satpd_seq_open(&b, dir, MUX), 0);
	assert_int_equal(b.start, SATPD_SEQ_RESERVE);
	b_top = take(&b, SATPD_SEQ_REFILL + SATPD_SEQ_REFILL / 2);
	a_top = take(&a, SATPD_SEQ_REFILL + 1); /* past a's mark: a writes */
	assert_true(atomic_load(&a.reserved) > (uint64_t)a_top);
	satpd_seq_close(&a);
	satpd_seq_close(&b);

	assert_int_equal(satpd_seq_open(&again, dir, MUX), 0);
	if (again.start <= b_top)
		fail_msg("restart at %" PRIu64 " reuses numbers up to %u that b sent", again.start,
			 b_top);
	satpd_seq_close(&again);
}

/* The same object's reservations still move up as before. */
static void test_one_writer_moves_up(void **state)
{
	struct satpd_seq s;
	uint32_t top;

	assert_int_equal(satpd_seq_open(&s, dir, MUX), 0);
	top = take(&s, SATPD_SEQ_RESERVE + 10); /* two refills */
	assert_int_equal(top, SATPD_SEQ_RESERVE + 9);
	satpd_seq_close(&s);
	assert_int_equal(satpd_seq_open(&s, dir, MUX), 0);
	assert_true(s.start > top);
	satpd_seq_close(&s);
}

/* A second lock on a held directory is refused; released, it can be taken again. */
static void test_state_lock(void **state)
{
	char sub[128];
	bool created;
	int fd, fd2;

	snprintf(sub, sizeof(sub), "%s/made/by/lock", dir);
	fd = satpd_state_lock(sub, &created);
	assert_true(fd >= 0);
	assert_true(created);
	assert_int_equal(satpd_state_lock(sub, &created), -EBUSY);
	assert_false(created);
	close(fd);
	fd2 = satpd_state_lock(sub, &created);
	assert_true(fd2 >= 0);
	close(fd2);
}

#define NOBODY 65534

static uid_t owner_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_uid;
}

/*
 * -u: a directory this start made becomes the user's with satpd's files in
 * it; one that existed is never taken over: refused unless already writable.
 */
static void test_state_dir_give(void **state)
{
	char sub[128], file[160];
	struct satpd_seq s;
	bool created;
	int fd;

	if (geteuid())
		skip(); /* chown needs root: reported as skipped, not passed */
	snprintf(sub, sizeof(sub), "%s/st", dir);
	fd = satpd_state_lock(sub, &created);
	assert_true(fd >= 0 && created);
	assert_int_equal(satpd_seq_open(&s, sub, MUX), 0);
	satpd_seq_close(&s);
	/* existing, root's 0700: refused, nothing changed */
	assert_int_equal(satpd_state_dir_give(sub, false, NOBODY, NOBODY), -EACCES);
	assert_int_equal(owner_of(sub), 0);
	/* made by this start: the user's, and the files in it */
	assert_int_equal(satpd_state_dir_give(sub, true, NOBODY, NOBODY), 0);
	assert_int_equal(owner_of(sub), NOBODY);
	snprintf(file, sizeof(file), "%s/tx-seq.mux%u", sub, MUX);
	assert_int_equal(owner_of(file), NOBODY);
	snprintf(file, sizeof(file), "%s/%s", sub, SATPD_STATE_LOCK);
	assert_int_equal(owner_of(file), NOBODY);
	/* the next start finds it the user's already: fine */
	assert_int_equal(satpd_state_dir_give(sub, false, NOBODY, NOBODY), 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_two_writers_one_file, make_dir, remove_dir),
	    cmocka_unit_test_setup_teardown(test_one_writer_moves_up, make_dir, remove_dir),
	    cmocka_unit_test_setup_teardown(test_state_lock, make_dir, remove_dir),
	    cmocka_unit_test_setup_teardown(test_state_dir_give, make_dir, remove_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
