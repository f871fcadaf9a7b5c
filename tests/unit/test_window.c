// SPDX-License-Identifier: GPL-2.0-only
/*
 * The replay window against anytun's/uanytun's seq window (satp.md §7,
 * include/satp_window.h): a table of {seq, verdict} steps in the manner of
 * WireGuard's counter selftest, a comparison with a model of seq_window.c on
 * pseudo-random sequences, and a reader racing the committer.
 */
#include <pthread.h>
#include <sched.h>

#include "satp_test_util.h"

#define RESET UINT32_MAX /* a step that starts a fresh window of `seq` size */

struct step {
	bool reset;
	uint32_t seq; /* the window size for a reset */
	enum satp_verdict want;
	unsigned int line;
};

#define R(size)                                                                                    \
	{                                                                                          \
		true, size, SATP_OK, __LINE__                                                      \
	}
#define T(seq, want)                                                                               \
	{                                                                                          \
		false, seq, SATP_##want, __LINE__                                                  \
	}

/* clang-format off */
static const struct step steps[] = {
	/* in order, duplicates, inside, too old, seq == top */
	R(64),
	T(0, OK), T(1, OK), T(2, OK), T(2, REPLAY), T(1, REPLAY), T(0, REPLAY),
	T(10, OK), T(5, OK), T(5, REPLAY), T(3, OK), T(10, REPLAY),
	T(70, OK), T(6, TOO_OLD), T(7, OK), T(7, REPLAY), T(69, OK), T(68, OK), T(68, REPLAY),
	T(1000, OK), T(937, OK), T(936, TOO_OLD), T(999, OK), T(1000, REPLAY), T(1001, OK),
	/* the first packet is accepted at any seq and becomes top */
	R(64),
	T(0xdeadbeef, OK), T(0xdeadbeef, REPLAY), T(0xdeadbeee, OK), T(0xdeadbeb0, OK),
	T(0xdeadbeaf, TOO_OLD),
	R(64),
	T(5, OK), T(0xffffffff, OK), T(0xffffffc6, OK), T(0xffffffc5, TOO_OLD), T(6, OK),
	/* size 0: protection off, duplicates accepted */
	R(0),
	T(5, OK), T(5, OK), T(5, OK), T(0, OK), T(0xffffffff, OK), T(4, OK), T(5, OK),
	/* size 1: only seq > top */
	R(1),
	T(10, OK), T(10, REPLAY), T(9, TOO_OLD), T(11, OK), T(11, REPLAY), T(13, OK),
	T(12, TOO_OLD), T(14, OK),
	/* size 2 */
	R(2),
	T(10, OK), T(9, OK), T(9, REPLAY), T(8, TOO_OLD), T(12, OK), T(11, OK), T(10, TOO_OLD),
	/* far jump; what fell out of the window is too old, what did not is checked */
	R(128),
	T(1, OK), T(0x40000000, OK), T(1, TOO_OLD), T(0x3fffffff, OK), T(0x3fffffff, REPLAY),
	T(0x40000000, REPLAY), T(0x3fffff81, OK), T(0x3fffff80, TOO_OLD),
	/* wrap at 2^32: the window works across it, both ways */
	R(64),
	T(0xfffffffd, OK), T(0xffffffff, OK), T(0xfffffffe, OK), T(0, OK), T(1, OK),
	T(0xffffffff, REPLAY), T(0xfffffffc, OK), T(0xfffffffd, REPLAY), T(0, REPLAY), T(2, OK),
	T(0xffffffc3, OK), T(0xffffffc2, TOO_OLD), T(1, REPLAY), T(3, OK),
	R(100),
	T(0xffffff00, OK), T(0xffffffff, OK), T(0xffffff9c, OK), T(0xffffff9b, TOO_OLD),
	T(0x62, OK), T(0xffffffff, REPLAY), T(0xfffffffe, TOO_OLD), T(0, OK), T(0, REPLAY),
	T(0x61, OK),
	/* anytun's shift makes a jump back by more than 2^31 look ahead */
	R(64),
	T(100, OK), T(0xfffffff0, OK), T(100, OK), T(100, REPLAY),
	/* size 4096, the whole ring */
	R(4096),
	T(0, OK), T(4095, OK), T(1, OK), T(0, REPLAY), T(4096, OK), T(0, TOO_OLD), T(1, REPLAY),
	T(2, OK), T(8191, OK), T(4096, REPLAY), T(4095, TOO_OLD), T(4097, OK),
	/* a slide of less than the ring keeps what is still inside */
	R(4096),
	T(9000, OK), T(9500, OK), T(13000, OK), T(9000, REPLAY), T(9500, REPLAY), T(9001, OK),
	T(13096, OK), T(9000, TOO_OLD), T(9001, REPLAY), T(8999, TOO_OLD), T(9500, REPLAY),
	T(9499, OK),
	/* a slide of >= 4096 clears the whole ring */
	R(4096),
	T(0, OK), T(1, OK), T(100, OK), T(200, OK), T(5000, OK), T(1000, OK), T(905, OK),
	T(904, TOO_OLD), T(4196, OK), T(4196, REPLAY), T(4296, OK), T(5000, REPLAY),
	T(9096, OK), T(5001, OK), T(5000, TOO_OLD),
	R(4096),
	T(10, OK), T(10 + 4096, OK), T(11, OK), T(10, TOO_OLD), T(12, OK), T(10 + 8192 + 1, OK),
	T(10 + 4096, TOO_OLD), T(12 + 4096, OK),
	/* a size beyond the ring is clamped to it */
	R(100000),
	T(0, OK), T(5000, OK), T(905, OK), T(904, TOO_OLD),
};
/* clang-format on */

static void test_table(void **state)
{
	struct satp_window w;
	enum satp_verdict check, got;
	size_t i;

	satp_window_init(&w, 64);
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		if (steps[i].reset) {
			satp_window_init(&w, steps[i].seq);
			continue;
		}
		check = satp_window_check(&w, steps[i].seq);
		got = satp_window_commit(&w, steps[i].seq);
		if (got != steps[i].want || check != got)
			fail_msg("line %u: seq %#x: commit %s, check %s, want %s", steps[i].line,
				 steps[i].seq, satp_verdict_name(got), satp_verdict_name(check),
				 satp_verdict_name(steps[i].want));
	}
}

/* One slot per sender: the same seqs from two senders are each accepted once. */
static void test_slots_independent(void **state)
{
	static const uint32_t seqs[] = {0, 1, 2, 5, 3};
	struct satp_window a, b;
	size_t i;

	satp_window_init(&a, 64);
	satp_window_init(&b, 64);
	for (i = 0; i < ARRAY_SIZE(seqs); i++) {
		assert_int_equal(satp_window_commit(&a, seqs[i]), SATP_OK);
		assert_int_equal(satp_window_commit(&b, seqs[i]), SATP_OK);
	}
	for (i = 0; i < ARRAY_SIZE(seqs); i++) {
		assert_int_equal(satp_window_commit(&a, seqs[i]), SATP_REPLAY);
		assert_int_equal(satp_window_check(&b, seqs[i]), SATP_REPLAY);
	}
}

/* uanytun's seq_window.c: a byte per seq, index max - seq, shifted by memmove. */
struct model {
	uint32_t size;
	bool valid;
	uint32_t max;
	uint8_t win[SATP_WINDOW_BITS];
};

static enum satp_verdict model_check_add(struct model *m, uint32_t seq)
{
	uint32_t max = m->max, min, diff, pos;
	enum satp_verdict v;

	if (!m->size)
		return SATP_OK;
	if (!m->valid) {
		m->valid = true;
		m->max = seq;
		memset(m->win, 0, sizeof(m->win));
		m->win[0] = 1;
		return SATP_OK;
	}
	if (max < m->size) {
		max += SATP_WINDOW_SHIFT;
		seq += SATP_WINDOW_SHIFT;
	} else if (max > UINT32_MAX - m->size) {
		max -= SATP_WINDOW_SHIFT;
		seq -= SATP_WINDOW_SHIFT;
	}
	min = max - m->size + 1;
	if (seq < min)
		return SATP_TOO_OLD;
	if (seq == max)
		return SATP_REPLAY;
	if (seq > max) {
		diff = seq - max;
		if (diff > m->size)
			diff = m->size;
		memmove(m->win + diff, m->win, m->size - diff);
		memset(m->win, 0, diff);
		m->win[0] = 1;
		m->max += seq - max;
		return SATP_OK;
	}
	pos = max - seq;
	v = m->win[pos] ? SATP_REPLAY : SATP_OK;
	m->win[pos] = 1;
	return v;
}

/* A small deterministic generator, so a failure replays. */
static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static uint32_t next_seq(uint32_t *rng, uint32_t prev, uint32_t size)
{
	uint32_t r = xorshift(rng), span = 2 * size + 8;

	switch (r % 16) {
	case 0:
		return xorshift(rng); /* anywhere */
	case 1:
		return prev + size + (xorshift(rng) % (2 * SATP_WINDOW_BITS)); /* far ahead */
	case 2:
		return prev; /* duplicate */
	default:
		return prev + (xorshift(rng) % span) - span * 3 / 4; /* around top */
	}
}

static void run_model(uint32_t size, uint32_t start, uint32_t *rng)
{
	static struct model m;
	struct satp_window w;
	enum satp_verdict want, got, check;
	uint32_t seq = start;
	int i;

	memset(&m, 0, sizeof(m));
	m.size = size;
	satp_window_init(&w, size);
	for (i = 0; i < 20000; i++) {
		seq = next_seq(rng, seq, size);
		want = model_check_add(&m, seq);
		check = satp_window_check(&w, seq);
		got = satp_window_commit(&w, seq);
		if (got != want || check != got)
			fail_msg("size %u start %#x step %d seq %#x: commit %s check %s, model %s",
				 size, start, i, seq, satp_verdict_name(got),
				 satp_verdict_name(check), satp_verdict_name(want));
	}
}

static void test_against_model(void **state)
{
	static const uint32_t sizes[] = {1, 2, 3, 63, 64, 65, 100, 1000, 4095, 4096};
	static const uint32_t starts[] = {0, 5, 0x7ffffff0, 0xffffff00, 0xfffffff0, 0xffffffff};
	uint32_t rng = 0x5a7b1234;
	size_t s, t;

	for (s = 0; s < ARRAY_SIZE(sizes); s++)
		for (t = 0; t < ARRAY_SIZE(starts); t++)
			run_model(sizes[s], starts[t], &rng);
}

/*
 * The XDP-side view while the daemon commits: a reader checking seqs that are
 * never committed must never see them as replays, even while top moves and
 * ring words holding older aliases are recycled.
 */
#define RACE_COMMITS 400000u
#define RACE_SIZE    SATP_WINDOW_BITS

static bool committed(uint32_t seq)
{
	return (seq / 7) % 2 == 0;
}

struct race {
	struct satp_window w;
	bool started;
	bool done;
	unsigned long false_replays;
	unsigned long checks;
};

static void *race_reader(void *arg)
{
	struct race *r = arg;
	uint32_t rng = 99, top, seq;

	__atomic_store_n(&r->started, true, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
		top = __atomic_load_n(&r->w.top, __ATOMIC_RELAXED);
		seq = top - xorshift(&rng) % RACE_SIZE + 64;
		if (committed(seq))
			continue;
		r->checks++;
		if (satp_window_check(&r->w, seq) == SATP_REPLAY)
			r->false_replays++;
	}
	return NULL;
}

static void test_reader_race(void **state)
{
	static struct race r;
	pthread_t reader;
	uint32_t seq = 0, rng = 7, i;

	satp_window_init(&r.w, RACE_SIZE);
	assert_int_equal(pthread_create(&reader, NULL, race_reader, &r), 0);
	while (!__atomic_load_n(&r.started, __ATOMIC_ACQUIRE))
		sched_yield();
	for (i = 0; i < RACE_COMMITS; i++) {
		seq += 1 + xorshift(&rng) % 97;
		if (committed(seq))
			assert_int_equal(satp_window_commit(&r.w, seq), SATP_OK);
	}
	__atomic_store_n(&r.done, true, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(reader, NULL), 0);
	assert_int_equal(r.false_replays, 0);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_slots_independent),
		cmocka_unit_test(test_against_model),
		cmocka_unit_test(test_reader_race),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
