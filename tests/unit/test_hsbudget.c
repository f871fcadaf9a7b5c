// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon's handshake budget (user/satpd/hsbudget.c), for what satp_rx did
 * not judge (the socket path, reassembled fragments): a table of datagrams,
 * each from a source at a time, and the budget that must let it pass or not.
 * A spoofed flood with a real peer's address leaves the peer the ceiling's
 * shared half, never locks it out, and never takes the reserve of others.
 */
#include <arpa/inet.h>

#include "satp_test_util.h"
#include "satp_hs_wire.h"
#include "hsbudget.h"

#define MS    1000000ull
#define T0    (1000 * 1000 * MS) /* a monotonic clock well past 0 */
#define BURST SATP_HS_RATELIMIT_BURST
#define HALF  (SATP_HS_CEILING_BURST / 2)

struct step {
	const char *what;
	const char *src; /* IPv4 or IPv6 literal */
	uint64_t at_ms;	 /* since T0 */
	unsigned int n;	 /* this many datagrams at once */
	enum satpd_hs_admit want;
};

static struct sockaddr_storage addr_of(const char *s)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *a4 = (void *)&ss;
	struct sockaddr_in6 *a6 = (void *)&ss;

	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1)
		a4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1)
		a6->sin6_family = AF_INET6;
	return ss;
}

static void run_steps(const struct step *st, size_t n)
{
	struct satpd_hs_budget *b = satpd_hs_budget_new();
	struct sockaddr_storage src;
	enum satpd_hs_admit got;
	size_t i;
	unsigned int k;

	assert_non_null(b);
	for (i = 0; i < n; i++) {
		src = addr_of(st[i].src);
		assert_int_not_equal(src.ss_family, 0);
		for (k = 0; k < st[i].n; k++) {
			got = satpd_hs_budget_take(b, &src, T0 + st[i].at_ms * MS);
			if (got != st[i].want)
				fail_msg("%s (#%u of %u): %d, want %d", st[i].what, k + 1, st[i].n,
					 got, st[i].want);
		}
	}
	satpd_hs_budget_free(b);
}

/* review M2: junk with the peer's address past its budget, then the peer's own initiation */
static void test_spoofed_peer(void **state)
{
	static const struct step st[] = {
	    {"junk with the peer's address: its burst", "10.0.0.2", 0, BURST, SATPD_HS_OWN},
	    {"more junk: the shared half", "10.0.0.2", 0, 1, SATPD_HS_SHARED},
	    {"the peer's initiation still passes", "10.0.0.2", 0, 1, SATPD_HS_SHARED},
	    {"junk spends the shared half", "10.0.0.2", 0, HALF - BURST - 2, SATPD_HS_SHARED},
	    {"then more of it is over", "10.0.0.2", 0, 3, SATPD_HS_OVER},
	    {"::ffff:10.0.0.2 is that source", "::ffff:10.0.0.2", 0, 1, SATPD_HS_OVER},
	    {"another source: the reserve", "10.0.0.3", 0, BURST, SATPD_HS_OWN},
	    {"an ipv6 source: the reserve", "fd00::3", 0, BURST, SATPD_HS_OWN},
	    /* nothing refills within one instant; at 52 ms the ceiling has 260 more (5000/s),
	     * the peer one (20/s) */
	    {"later: the peer's own budget refilled one", "10.0.0.2", 52, 1, SATPD_HS_OWN},
	    {"and the shared half again", "10.0.0.2", 52, 1, SATPD_HS_SHARED},
	};

	(void)state;
	run_steps(st, sizeof(st) / sizeof(st[0]));
}

/* A flood from ever new sources (each starts full) meets the ceiling of all. */
static void test_ceiling(void **state)
{
	struct satpd_hs_budget *b = satpd_hs_budget_new();
	struct sockaddr_storage src = addr_of("198.18.0.0");
	struct sockaddr_in *a4 = (void *)&src;
	unsigned int i, own = 0, ceiling = 0;

	(void)state;
	assert_non_null(b);
	for (i = 0; i < 2 * SATP_HS_CEILING_BURST; i++) {
		a4->sin_addr.s_addr = htonl(0xc6120000u + i); /* 198.18.x.y */
		switch (satpd_hs_budget_take(b, &src, T0)) {
		case SATPD_HS_OWN:
			own++;
			break;
		case SATPD_HS_CEILING:
			ceiling++;
			break;
		default:
			fail_msg("a new source's first datagram is on its own budget or dropped");
		}
	}
	assert_int_equal(own, SATP_HS_CEILING_BURST);
	assert_int_equal(ceiling, SATP_HS_CEILING_BURST);
	satpd_hs_budget_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spoofed_peer),
	    cmocka_unit_test(test_ceiling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
