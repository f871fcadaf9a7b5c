// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon's base layer, the header-only part (user/satpd/seqlock.h,
 * endpoint.h, clock.h): the seqlock under a writer and two readers, the
 * endpoint helpers as tables, the clocks' units.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <time.h>

#include "satp_test_util.h"

#include "../../user/satpd/clock.h"
#include "../../user/satpd/endpoint.h"
#include "../../user/satpd/seqlock.h"

/* ---------------------------------------------------------------- seqlock */

#define WRITES	200000u
#define READERS 2
/* Reads per reader while the writer writes: on a loaded machine readers start late. */
#define MIN_READS   20000ul
#define DEADLINE_MS 20000

/* Four words written with one value each time: a torn copy holds two values. */
struct record {
	uint64_t w[4];
};

struct shared {
	struct satpd_seqlock seq;
	struct record r;
	_Atomic bool done;
};

struct reader {
	struct shared *s;
	_Atomic unsigned long reads;
	unsigned long torn;
};

static void *read_loop(void *arg)
{
	struct reader *rd = arg;
	struct record copy;
	uint32_t gen;

	while (!atomic_load_explicit(&rd->s->done, memory_order_relaxed)) {
		do {
			gen = satpd_seqlock_read_begin(&rd->s->seq);
			copy = rd->s->r;
		} while (satpd_seqlock_read_retry(&rd->s->seq, gen));
		atomic_fetch_add_explicit(&rd->reads, 1, memory_order_relaxed);
		if (copy.w[0] != copy.w[1] || copy.w[1] != copy.w[2] || copy.w[2] != copy.w[3])
			rd->torn++;
	}
	return NULL;
}

static bool readers_done(struct reader *rd)
{
	unsigned int i;

	for (i = 0; i < READERS; i++)
		if (atomic_load_explicit(&rd[i].reads, memory_order_relaxed) < MIN_READS)
			return false;
	return true;
}

static void test_seqlock_no_torn_copy(void **state)
{
	int64_t start_ms = satpd_mono_ms();
	struct shared s = {0};
	struct reader rd[READERS];
	pthread_t t[READERS];
	unsigned int i, k, writes = 0;

	(void)state;
	for (i = 0; i < READERS; i++) {
		rd[i] = (struct reader){.s = &s};
		assert_int_equal(pthread_create(&t[i], NULL, read_loop, &rd[i]), 0);
	}
	while (writes < WRITES || !readers_done(rd)) {
		satpd_seqlock_write_begin(&s.seq);
		writes++;
		for (k = 0; k < 4; k++)
			s.r.w[k] = writes;
		satpd_seqlock_write_end(&s.seq);
		if (satpd_mono_ms_since(start_ms) > DEADLINE_MS)
			break; /* the readers' count below fails the test */
	}
	atomic_store(&s.done, true);
	for (i = 0; i < READERS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_true(rd[i].reads >= MIN_READS);
		assert_int_equal(rd[i].torn, 0);
	}
	assert_int_equal(satpd_seqlock_gen(&s.seq), 2 * writes); /* even: no write left open */
}

/* A reader that does not wait (rx_verify) never takes a read begun under an odd gen. */
static void test_seqlock_nowait(void **state)
{
	struct satpd_seqlock s = {0};
	uint32_t gen;

	(void)state;
	satpd_seqlock_write_begin(&s);
	gen = satpd_seqlock_read_begin_nowait(&s);
	assert_true(gen & 1);
	assert_true(satpd_seqlock_read_retry(&s, gen));
	satpd_seqlock_write_end(&s);
	assert_true(satpd_seqlock_read_retry(&s, gen));
	gen = satpd_seqlock_read_begin_nowait(&s);
	assert_false(satpd_seqlock_read_retry(&s, gen));
}

/* ---------------------------------------------------------------- endpoint */

static struct sockaddr_storage ep(const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0xa5, sizeof(ss)); /* bytes no helper may read */
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
	} else {
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
	}
	return ss;
}

struct same_case {
	const char *a;
	uint16_t a_port;
	const char *b;
	uint16_t b_port;
	bool same_addr, same_host;
};

static const struct same_case same[] = {
    {"10.0.0.1", 4444, "10.0.0.1", 4444, true, true},
    {"10.0.0.1", 4444, "10.0.0.1", 4445, false, true},
    {"10.0.0.1", 4444, "10.0.0.2", 4444, false, false},
    {"fd00::1", 4444, "fd00::1", 4444, true, true},
    {"fd00::1", 4444, "fd00::1", 1, false, true},
    {"fd00::1", 4444, "fd00::2", 4444, false, false},
    {"10.0.0.1", 4444, "::ffff:10.0.0.1", 4444, false, false}, /* families differ */
};

static void test_endpoint_same(void **state)
{
	struct sockaddr_storage a, b;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(same); i++) {
		a = ep(same[i].a, same[i].a_port);
		b = ep(same[i].b, same[i].b_port);
		if (satpd_same_addr(&a, &b) != same[i].same_addr ||
		    satpd_same_addr(&b, &a) != same[i].same_addr ||
		    satpd_same_host(&a, &b) != same[i].same_host)
			fail_msg("row %zu: %s %u vs %s %u", i, same[i].a, same[i].a_port, same[i].b,
				 same[i].b_port);
	}
	memset(&a, 0, sizeof(a));
	a.ss_family = AF_UNIX; /* no endpoint: equal to nothing, not even itself */
	assert_false(satpd_same_addr(&a, &a));
	assert_false(satpd_same_host(&a, &a));
	assert_int_equal(satpd_addr_port(&a), 0);
}

struct form_case {
	const char *addr;
	uint16_t port;
	bool any;
	const char *mapped; /* the 16 bytes, as an IPv6 literal */
};

static const struct form_case forms[] = {
    {"10.0.0.1", 4444, false, "::ffff:10.0.0.1"},
    {"0.0.0.0", 1, true, "::ffff:0.0.0.0"},
    {"fd00::1", 65535, false, "fd00::1"},
    {"::", 4444, true, "::"},
};

static void test_endpoint_forms(void **state)
{
	struct sockaddr_storage a;
	uint8_t mapped[16], want[16];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(forms); i++) {
		a = ep(forms[i].addr, forms[i].port);
		assert_int_equal(satpd_addr_port(&a), forms[i].port);
		assert_int_equal(satpd_addr_is_any(&a), forms[i].any);
		assert_int_equal(satpd_addr_len(&a), a.ss_family == AF_INET ? 4 : 16);
		satpd_addr_v6mapped(&a, mapped);
		assert_int_equal(inet_pton(AF_INET6, forms[i].mapped, want), 1);
		assert_memory_equal(mapped, want, 16);
		satpd_addr_set_port(&a, 7);
		assert_int_equal(satpd_addr_port(&a), 7);
	}
}

/* ---------------------------------------------------------------- clock */

static void test_clock_units(void **state)
{
	int64_t ms = satpd_mono_ms(), s = satpd_mono_s();
	uint64_t ns = satpd_mono_ns();

	(void)state;
	assert_true(satpd_mono_ms_since(ms) >= 0);
	assert_true((int64_t)(ns / SATPD_NS_PER_S) - s <= 1 && (int64_t)(ns / SATPD_NS_PER_S) >= s);
	assert_true((int64_t)(ns / SATPD_NS_PER_MS) >= ms);
	/* now on the monotonic clock is now in Unix seconds, give or take the second turning */
	assert_true(llabs(satpd_mono_ns_to_unix_s(satpd_mono_ns()) - (int64_t)time(NULL)) <= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seqlock_no_torn_copy), cmocka_unit_test(test_seqlock_nowait),
	    cmocka_unit_test(test_endpoint_same),	 cmocka_unit_test(test_endpoint_forms),
	    cmocka_unit_test(test_clock_units),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
