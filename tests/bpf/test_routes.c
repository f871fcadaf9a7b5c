// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pinned route tries (satp_routes4/6, include/satp_xdp.h) against the
 * daemon's lock-free copy (user/satpd/lpm.c): one table of routes goes into
 * both, as satpd's configure() does after a config load, then every lookup row
 * and a sweep of pseudo-random destinations must get the same mux from the
 * kernel's LPM trie and from the copy; routes deleted as del-route and
 * del-conn do (satpd_lpm_filter) leave both equal again. Private maps (no pin).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "satp_xdp_loader.h"
#include "lpm.h"

#define SWEEP 20000 /* random destinations per family */

struct route {
	const char *prefix;
	uint16_t mux;
};

/* Host bits set on purpose in some: both copies must ignore them. */
static const struct route routes[] = {
    {"0.0.0.0/0", 1},	       {"10.0.0.0/8", 2},     {"10.1.0.0/16", 3},
    {"10.1.2.0/24", 4},	       {"10.1.2.128/25", 5},  {"10.1.2.77/32", 6},
    {"192.168.7.9/20", 7},     {"172.16.0.0/12", 8},  {"fd00::/8", 9},
    {"fd00:1::/32", 10},       {"fd00:1:2::/48", 11}, {"fd00:1:2:3::1/128", 12},
    {"2001:db8::ffff/64", 13},
};

struct lookup {
	const char *addr;
	int mux; /* -1: no route */
};

static const struct lookup lookups[] = {
    {"10.1.2.77", 6},	 {"10.1.2.78", 4},	{"10.1.2.200", 5},     {"10.1.3.1", 3},
    {"10.2.0.1", 2},	 {"11.0.0.1", 1},	{"192.168.0.1", 7},    {"192.168.15.255", 7},
    {"192.168.16.0", 1}, {"fd00:1:2:3::1", 12}, {"fd00:1:2:3::2", 11}, {"fd00:1:3::", 10},
    {"fd01::", 9},	 {"fe80::1", -1},	{"2001:db8::1", 13},   {"2001:db8:0:1::", -1},
};

static int failures;

static int parse_prefix(const char *text, int *family, uint8_t addr[16], unsigned int *len)
{
	char buf[64];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", text);
	slash = strchr(buf, '/');
	*len = slash ? (unsigned int)atoi(slash + 1) : 0;
	if (slash)
		*slash = '\0';
	memset(addr, 0, 16);
	*family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(*family, buf, addr) != 1) {
		fprintf(stderr, "bad test prefix '%s'\n", text);
		exit(1);
	}
	if (!slash)
		*len = *family == AF_INET ? 32 : 128;
	return 0;
}

static int trie_lookup(struct satp_xdp *x, int family, const uint8_t *addr)
{
	uint16_t mux;
	int err = satp_xdp_lookup_route(x, family, addr, &mux);

	return err ? -1 : mux;
}

static void expect_same(struct satp_xdp *x, const struct satpd_lpm *l, int family,
			const uint8_t *addr, const char *what)
{
	int k = trie_lookup(x, family, addr), u = satpd_lpm_lookup(l, family, addr);
	char a[INET6_ADDRSTRLEN];

	if (k == u)
		return;
	failures++;
	printf("FAIL %s %s: trie mux %d, userspace copy mux %d\n", what,
	       inet_ntop(family, addr, a, sizeof(a)), k, u);
}

static void sweep(struct satp_xdp *x, const struct satpd_lpm *l, const char *what)
{
	uint8_t addr[16];
	unsigned int i, j;

	srand(7);
	for (i = 0; i < 2 * SWEEP; i++) {
		int family = i < SWEEP ? AF_INET : AF_INET6;

		for (j = 0; j < 16; j++)
			addr[j] = (uint8_t)rand();
		/* near the routes, not only in the empty space around them */
		if (i % 2 && family == AF_INET)
			addr[0] = i % 4 ? 10 : 192;
		else if (i % 2)
			addr[0] = 0xfd, addr[1] = 0, addr[2] = 0, addr[3] = (uint8_t)(i % 3);
		expect_same(x, l, family, addr, what);
	}
}

static void check_lookups(struct satp_xdp *x, const struct satpd_lpm *l)
{
	uint8_t addr[16];
	unsigned int i, len;
	int family, k;

	for (i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++) {
		parse_prefix(lookups[i].addr, &family, addr, &len);
		k = trie_lookup(x, family, addr);
		if (k != lookups[i].mux) {
			failures++;
			printf("FAIL lookup %s: trie mux %d, want %d\n", lookups[i].addr, k,
			       lookups[i].mux);
		}
		expect_same(x, l, family, addr, "lookup");
	}
}

/* What satpd_conns_del_route / satpd_conns_del do: both copies lose the route. */
struct drop {
	struct satp_xdp *x;
	int mux;
};

static int drop_mux(void *ctx, int family, const uint8_t *addr, unsigned int len, uint16_t mux)
{
	struct drop *d = ctx;

	if (mux != d->mux)
		return 0;
	if (satp_xdp_del_route(d->x, family, addr, len)) {
		failures++;
		printf("FAIL del mux %u's route: not in the trie\n", mux);
	}
	return 1;
}

static int count(void *ctx, int family, const uint8_t *addr, unsigned int len, uint16_t mux)
{
	(void)family, (void)addr, (void)len, (void)mux;
	(*(unsigned int *)ctx)++;
	return 0;
}

static void check_bad_input(struct satp_xdp *x)
{
	static const uint8_t any[16];

	if (satp_xdp_set_route(x, AF_INET, any, 33, 1) != -EINVAL ||
	    satp_xdp_set_route(x, AF_INET6, any, 129, 1) != -EINVAL ||
	    satp_xdp_set_route(x, AF_UNIX, any, 8, 1) != -EINVAL) {
		failures++;
		printf("FAIL a prefix length beyond the family or an unknown family accepted\n");
	}
}

int main(void)
{
	struct satp_xdp_opts o = {.no_pin = true};
	struct satpd_lpm l = {0}, f;
	struct satp_xdp *x;
	struct drop d;
	uint8_t addr[16];
	unsigned int i, len, n = 0;
	int family, err;

	satp_xdp_set_log(NULL, SATP_XDP_LOG_WARN);
	err = satp_xdp_open(&o, &x);
	if (err) {
		fprintf(stderr, "cannot load satp_rx: %s\n", strerror(-err));
		return 1;
	}
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		parse_prefix(routes[i].prefix, &family, addr, &len);
		if (satpd_lpm_add(&l, family, addr, len, routes[i].mux, false) ||
		    satp_xdp_set_route(x, family, addr, len, routes[i].mux)) {
			printf("FAIL cannot add %s\n", routes[i].prefix);
			failures++;
		}
	}
	satpd_lpm_walk(&l, count, &n);
	if (n != sizeof(routes) / sizeof(routes[0])) {
		failures++;
		printf("FAIL the copy walks %u routes, %zu added\n", n,
		       sizeof(routes) / sizeof(routes[0]));
	}
	check_lookups(x, &l);
	sweep(x, &l, "sweep");
	check_bad_input(x);

	/* del-conn of mux 4 and of mux 1 (the default route): both copies follow */
	for (d = (struct drop){x, 4}; d.mux >= 0; d.mux = d.mux == 4 ? 1 : -1) {
		if (satpd_lpm_filter(&l, &f, drop_mux, &d)) {
			failures++;
			printf("FAIL filter\n");
			break;
		}
		satpd_lpm_free(&l);
		l = f;
		sweep(x, &l, d.mux == 4 ? "after del mux 4" : "after del mux 1");
	}
	parse_prefix("10.1.2.78", &family, addr, &len);
	if (trie_lookup(x, family, addr) != 3 ||
	    satpd_lpm_get(&l, AF_INET, (const uint8_t[4]){10, 1, 2, 0}, 24) != -1) {
		failures++;
		printf("FAIL 10.1.2.78 after deleting 10.1.2.0/24: want mux 3\n");
	}
	satpd_lpm_free(&l);
	satp_xdp_close(x);
	printf("%s: %zu routes, %zu lookups, %u swept destinations, %d failures\n",
	       failures ? "FAIL" : "PASS", sizeof(routes) / sizeof(routes[0]),
	       sizeof(lookups) / sizeof(lookups[0]), 2 * SWEEP, failures);
	return failures ? 1 : 0;
}
