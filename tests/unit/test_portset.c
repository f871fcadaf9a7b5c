// SPDX-License-Identifier: GPL-2.0-only
/* Port lists and ranges: the syntax shared by satp --ports and satpd -p/-o. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "portset.h"

#define MAX_MEMBERS 4

struct good_case {
	const char *text;
	unsigned int count;
	int members[MAX_MEMBERS]; /* must be in the set; 0 ends the list */
	int absent[MAX_MEMBERS];  /* must not be; 0 ends the list */
	int first;		  /* satp_portset_next(ps, 0) */
};

/* clang-format off */
static const struct good_case good[] = {
	{ "4444", 1, { 4444 }, { 4443, 4445 }, 4444 },
	{ "1", 1, { 1 }, { 2 }, 1 },
	{ "65535", 1, { 65535 }, { 65534 }, 65535 },
	{ "4444,4446", 2, { 4444, 4446 }, { 4445 }, 4444 },
	{ "4446,4444", 2, { 4444, 4446 }, { 4445 }, 4444 },
	{ "4444:4447", 4, { 4444, 4445, 4447 }, { 4443, 4448 }, 4444 },
	{ "5:5", 1, { 5 }, { 4, 6 }, 5 },
	{ "4444:4445,5000", 3, { 4444, 4445, 5000 }, { 4446 }, 4444 },
	{ "10,10", 1, { 10 }, { 11 }, 10 },
	{ "1:65535", 65535, { 1, 65535 }, { 0 }, 1 },
	{ "04444", 1, { 4444 }, { 0 }, 4444 },
};
/* clang-format on */

struct bad_case {
	const char *text;
	const char *why; /* a piece of the message */
};

/* clang-format off */
static const struct bad_case bad[] = {
	{ "", "empty item" },
	{ "0", "out of range" },
	{ "70000", "out of range" },
	{ "99999999999999999999", "out of range" },
	{ "5:3", "below its start" },
	{ "a", "not a number" },
	{ "1,,2", "empty item" },
	{ "1,", "empty item" },
	{ ",1", "empty item" },
	{ "1:", "not a number" },
	{ ":5", "not a number" },
	{ "1:2:3", "unexpected character" },
	{ "-1", "not a number" },
	{ "+1", "not a number" },
	{ " 1", "not a number" },
	{ "1 ", "not a number" },
	{ "0x10", "not a number" },
	{ "4444;4445", "not a number" },
	{ "70000x", "not a number" },
	{ "1:0", "out of range" },
};
/* clang-format on */

static void test_good(void **state)
{
	struct satp_portset ps;
	char err[256];
	size_t i, j;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const struct good_case *c = &good[i];

		err[0] = '\0';
		if (satp_portset_parse(&ps, c->text, err, sizeof(err)) != 0)
			fail_msg("'%s' rejected: %s", c->text, err);
		assert_int_equal(satp_portset_count(&ps), c->count);
		for (j = 0; j < MAX_MEMBERS && c->members[j]; j++)
			assert_true(satp_portset_has(&ps, (uint16_t)c->members[j]));
		for (j = 0; j < MAX_MEMBERS && c->absent[j]; j++)
			assert_false(satp_portset_has(&ps, (uint16_t)c->absent[j]));
		assert_false(satp_portset_has(&ps, 0));
		assert_int_equal(satp_portset_next(&ps, 0), c->first);
	}
}

static void test_bad(void **state)
{
	struct satp_portset ps;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad_case *c = &bad[i];
		char quoted[64];

		err[0] = '\0';
		if (satp_portset_parse(&ps, c->text, err, sizeof(err)) != -EINVAL)
			fail_msg("'%s' accepted", c->text);
		snprintf(quoted, sizeof(quoted), "'%s'", c->text);
		if (!strstr(err, quoted) || !strstr(err, c->why))
			fail_msg("'%s': message \"%s\" lacks %s or \"%s\"", c->text, err, quoted,
				 c->why);
		/* A failed parse leaves an empty set, never a half-filled one. */
		assert_int_equal(satp_portset_count(&ps), 0);
	}
}

static void test_iterate(void **state)
{
	static const int want[] = {7, 100, 101, 102, 65535};
	struct satp_portset ps;
	unsigned int i = 0;
	int p;

	assert_int_equal(satp_portset_parse(&ps, "65535,100:102,7", NULL, 0), 0);
	for (p = satp_portset_next(&ps, 0); p >= 0; p = satp_portset_next(&ps, (unsigned)p + 1)) {
		assert_true(i < sizeof(want) / sizeof(want[0]));
		assert_int_equal(p, want[i++]);
	}
	assert_int_equal(i, sizeof(want) / sizeof(want[0]));
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_iterate),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
