// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lpm.h"

/* Node 0 is a sentinel so that 0 can mean "no child". */
static int new_node(struct satpd_lpm *t, uint32_t *out)
{
	struct satpd_lpm_node *n;
	uint32_t cap;

	if (!t->cap || t->n == t->cap) {
		cap = t->cap ? t->cap * 2 : 256;
		n = realloc(t->nodes, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		t->nodes = n;
		t->cap = cap;
		if (!t->n)
			t->n = 1;
	}
	t->nodes[t->n] = (struct satpd_lpm_node){.mux = -1};
	*out = t->n++;
	return 0;
}

static int bit(const uint8_t *addr, unsigned int i)
{
	return addr[i / 8] >> (7 - i % 8) & 1;
}

void satpd_lpm_free(struct satpd_lpm *t)
{
	free(t->nodes);
	*t = (struct satpd_lpm){0};
}

int satpd_lpm_add(struct satpd_lpm *t, int family, const uint8_t *addr, unsigned int len,
		  uint16_t mux, bool replace)
{
	int f = family == AF_INET6;
	uint32_t cur, nx;
	unsigned int i;
	int ret;

	if (len > (f ? 128u : 32u))
		return -EINVAL;
	if (!t->root[f]) {
		ret = new_node(t, &t->root[f]);
		if (ret)
			return ret;
	}
	cur = t->root[f];
	for (i = 0; i < len; i++) {
		int b = bit(addr, i);

		if (!t->nodes[cur].child[b]) {
			ret = new_node(t, &nx);
			if (ret)
				return ret;
			t->nodes[cur].child[b] = nx;
		}
		cur = t->nodes[cur].child[b];
	}
	if (!replace && t->nodes[cur].mux >= 0 && t->nodes[cur].mux != mux)
		return -EEXIST;
	if (t->nodes[cur].mux < 0)
		t->n_routes++;
	t->nodes[cur].mux = mux;
	return 0;
}

int satpd_lpm_clone(const struct satpd_lpm *t, struct satpd_lpm *out)
{
	*out = *t;
	out->nodes = NULL;
	if (!t->cap)
		return 0;
	out->nodes = malloc(t->cap * sizeof(*out->nodes));
	if (!out->nodes)
		return -ENOMEM;
	memcpy(out->nodes, t->nodes, t->n * sizeof(*out->nodes));
	return 0;
}

int satpd_lpm_lookup(const struct satpd_lpm *t, int family, const uint8_t *addr)
{
	int f = family == AF_INET6;
	unsigned int i, max = f ? 128 : 32;
	uint32_t cur = t->root[f];
	int best = -1;

	for (i = 0; cur; i++) {
		if (t->nodes[cur].mux >= 0)
			best = t->nodes[cur].mux;
		if (i == max)
			break;
		cur = t->nodes[cur].child[bit(addr, i)];
	}
	return best;
}

int satpd_lpm_get(const struct satpd_lpm *t, int family, const uint8_t *addr, unsigned int len)
{
	int f = family == AF_INET6;
	uint32_t cur = t->root[f];
	unsigned int i;

	if (len > (f ? 128u : 32u))
		return -1;
	for (i = 0; cur && i < len; i++)
		cur = t->nodes[cur].child[bit(addr, i)];
	return cur ? t->nodes[cur].mux : -1;
}

struct walk {
	const struct satpd_lpm *t;
	int family;
	uint8_t addr[16];
	satpd_lpm_fn fn;
	void *ctx;
};

/* Depth first, 0 before 1: at most 129 frames deep. */
static int walk_node(struct walk *w, uint32_t cur, unsigned int depth)
{
	const struct satpd_lpm_node *n = &w->t->nodes[cur];
	unsigned int b;
	int ret;

	if (n->mux >= 0) {
		ret = w->fn(w->ctx, w->family, w->addr, depth, (uint16_t)n->mux);
		if (ret)
			return ret;
	}
	for (b = 0; b < 2; b++) {
		if (!n->child[b])
			continue;
		if (b)
			w->addr[depth / 8] |= (uint8_t)(0x80 >> depth % 8);
		ret = walk_node(w, n->child[b], depth + 1);
		w->addr[depth / 8] &= (uint8_t) ~(0x80 >> depth % 8);
		if (ret)
			return ret;
	}
	return 0;
}

int satpd_lpm_walk(const struct satpd_lpm *t, satpd_lpm_fn fn, void *ctx)
{
	struct walk w = {.t = t, .fn = fn, .ctx = ctx};
	int f, ret;

	for (f = 0; f < 2; f++) {
		if (!t->root[f])
			continue;
		w.family = f ? AF_INET6 : AF_INET;
		memset(w.addr, 0, sizeof(w.addr));
		ret = walk_node(&w, t->root[f], 0);
		if (ret)
			return ret;
	}
	return 0;
}

struct filter {
	struct satpd_lpm *out;
	satpd_lpm_fn drop;
	void *ctx;
};

static int keep_route(void *ctx, int family, const uint8_t *addr, unsigned int len, uint16_t mux)
{
	struct filter *f = ctx;

	if (f->drop(f->ctx, family, addr, len, mux))
		return 0;
	return satpd_lpm_add(f->out, family, addr, len, mux, false);
}

int satpd_lpm_filter(const struct satpd_lpm *t, struct satpd_lpm *out, satpd_lpm_fn drop, void *ctx)
{
	struct filter f = {.out = out, .drop = drop, .ctx = ctx};
	int ret;

	*out = (struct satpd_lpm){0};
	ret = satpd_lpm_walk(t, keep_route, &f);
	if (ret)
		satpd_lpm_free(out);
	return ret;
}
