// SPDX-License-Identifier: GPL-2.0-only
/*
 * LOG_RATELIMITED's state (user/satpd/log.h) under several threads, as the
 * AF_XDP workers share a call site: at most one pass a second, and no call
 * lost (every call either passes or is counted as held back).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "satp_test_util.h"

#include "clock.h"
#include "log.h"

#define THREADS 4
#define CALLS	200000ul

struct caller {
	struct satpd_ratelimit *rl;
	unsigned long passes;
	uint64_t held; /* the counts the passes reported */
};

static void *call_many(void *arg)
{
	struct caller *c = arg;
	uint64_t held;
	unsigned long i;

	for (i = 0; i < CALLS; i++) {
		if (satpd_ratelimit_pass(c->rl, &held)) {
			c->passes++;
			c->held += held;
		}
	}
	return NULL;
}

static void test_ratelimit_threads(void **state)
{
	static struct satpd_ratelimit rl; /* zero, as a call site's static */
	struct caller c[THREADS];
	pthread_t t[THREADS];
	unsigned long passes = 0;
	uint64_t held = 0;
	int64_t start_s, end_s;
	unsigned int i;

	(void)state;
	memset(c, 0, sizeof(c));
	start_s = satpd_coarse_s();
	for (i = 0; i < THREADS; i++) {
		c[i].rl = &rl;
		assert_int_equal(pthread_create(&t[i], NULL, call_many, &c[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		passes += c[i].passes;
		held += c[i].held;
	}
	end_s = satpd_coarse_s();
	/* what no pass has reported yet is still in the state */
	held += atomic_load(&rl.suppressed);
	assert_int_equal(passes + held, THREADS * CALLS);
	assert_true(passes >= 1);
	if (passes > (unsigned long)(end_s - start_s + 1))
		fail_msg("%lu passes in %lld seconds", passes, (long long)(end_s - start_s + 1));
}

/* The first call at a site passes and reports nothing held back. */
static void test_ratelimit_first(void **state)
{
	struct satpd_ratelimit rl = {0};
	uint64_t held = 99;

	(void)state;
	assert_int_equal(satpd_ratelimit_pass(&rl, &held), 1);
	assert_int_equal(held, 0);
}

/*
 * A caller whose clock read is older than the second another caller stored
 * (preempted across the boundary) is held, and leaves last_s where it was:
 * else the next caller in the newer second would pass again.
 */
static void test_ratelimit_late_reader(void **state)
{
	struct satpd_ratelimit rl = {0};
	int64_t ahead = satpd_coarse_s() + 5;
	uint64_t held = 99;

	(void)state;
	atomic_store(&rl.last_s, ahead);
	assert_int_equal(satpd_ratelimit_pass(&rl, &held), 0);
	assert_int_equal(atomic_load(&rl.last_s), ahead);
	assert_int_equal(atomic_load(&rl.suppressed), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ratelimit_threads),
	    cmocka_unit_test(test_ratelimit_first),
	    cmocka_unit_test(test_ratelimit_late_reader),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
