// SPDX-License-Identifier: GPL-2.0-only
/* The daemon's handshake budget: see hsbudget.h. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "endpoint.h"
#include "satp_budget.h"
#include "satp_hs_wire.h"
#include "hsbudget.h"

static const char *const budget_counter_names[] = {SATPD_HS_BUDGET_COUNTERS(SATPD_COUNTER_NAME)};
const struct satpd_counter_set satpd_hs_budget_counters = {
    budget_counter_names, sizeof(budget_counter_names) / sizeof(budget_counter_names[0])};

struct satpd_hs_budget *satpd_hs_budget_new(void)
{
	struct satpd_hs_budget *b = calloc(1, sizeof(*b));

	if (b && RAND_bytes((unsigned char *)&b->seed, sizeof(b->seed)) != 1) {
		free(b);
		return NULL;
	}
	return b;
}

void satpd_hs_budget_free(struct satpd_hs_budget *b)
{
	free(b);
}

static void source_addr(const struct sockaddr_storage *src, uint8_t addr[16])
{
	satpd_addr_v6mapped(src, addr); /* ::ffff:a.b.c.d, as satp_rx keys it */
}

/* splitmix64 over the address's two words, keyed by the seed */
static uint32_t entry_of(const struct satpd_hs_budget *b, const uint8_t addr[16])
{
	uint64_t w[2], x;

	memcpy(w, addr, sizeof(w));
	x = b->seed ^ w[0];
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x ^= w[1];
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (uint32_t)(x % SATPD_HS_BUDGET_SOURCES);
}

static int take(uint64_t *tat, uint64_t now, uint64_t t, uint64_t limit)
{
	__u64 next;

	if (!satp_budget_step(*tat, now, t, limit, &next))
		return 0;
	*tat = next;
	return 1;
}

bool satpd_hs_budget_source_take(struct satpd_hs_budget *b, const struct sockaddr_storage *src,
				 uint64_t now_ns)
{
	const uint64_t t = satp_budget_interval(0, SATP_HS_RATELIMIT_PPS);
	struct satpd_hs_budget_src *e;
	uint8_t addr[16];

	source_addr(src, addr);
	e = &b->src[entry_of(b, addr)];
	if (memcmp(e->addr, addr, sizeof(addr))) {
		memcpy(e->addr, addr, sizeof(addr));
		e->tat = 0; /* another source's entry, or none: this one starts full */
	}
	return take(&e->tat, now_ns, t, SATP_HS_RATELIMIT_BURST * t);
}

enum satpd_hs_admit satpd_hs_budget_take(struct satpd_hs_budget *b,
					 const struct sockaddr_storage *src, uint64_t now_ns)
{
	const uint64_t ct = satp_budget_interval(0, SATP_HS_CEILING_PPS);
	const uint64_t cburst = SATP_HS_CEILING_BURST;
	bool own = satpd_hs_budget_source_take(b, src, now_ns);

	if (take(&b->ceiling_tat, now_ns, ct, (own ? cburst : cburst - cburst / 2) * ct))
		return own ? SATPD_HS_OWN : SATPD_HS_SHARED;
	return own ? SATPD_HS_CEILING : SATPD_HS_OVER;
}
