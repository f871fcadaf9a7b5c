// SPDX-License-Identifier: GPL-2.0-only
/*
 * satpd's outgoing sequence-number reservations (user/satpd/seqstate.c) with
 * more than one writer: two objects on one state file (a connection that
 * adopted another mux keeps its file; a new connection of that mux opens it
 * again) must never lower the reservation on disk, so a restart starts past
 * every number either of them took; and a state directory is locked by one
 * daemon at a time.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "satp_test_util.h"
/* satpd's seqstate is not in libsatp: compiled in here, as satpd compiles it. */
#include "../../user/satpd/seqstate.c"

#define MUX 3

/* The daemon's logger, which seqstate.c calls. */
void satpd_log(int level, const char *fmt, ...)
{
	(void)level, (void)fmt;
}

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
	int fd, fd2;

	snprintf(sub, sizeof(sub), "%s/made/by/lock", dir);
	fd = satpd_state_lock(sub); /* creates the directory */
	assert_true(fd >= 0);
	assert_int_equal(satpd_state_lock(sub), -EBUSY);
	close(fd);
	fd2 = satpd_state_lock(sub);
	assert_true(fd2 >= 0);
	close(fd2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_two_writers_one_file, make_dir, remove_dir),
	    cmocka_unit_test_setup_teardown(test_one_writer_moves_up, make_dir, remove_dir),
	    cmocka_unit_test_setup_teardown(test_state_lock, make_dir, remove_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
