// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon core's connection table (user/satpd/conns.c), linked from
 * libsatpd.a with a struct satpd that has no socket, device or XDP: what the
 * setup code fills in before any of those exist.
 *
 * Epoch reclaim: a table of what two workers do around a key set's retirement
 * (quiescent, in the batch they entered before it, left, entered again) and
 * whether the next tick may free it. Freeing while a worker that entered
 * before the retirement is still in its batch is a use after free on the
 * packet path; keeping it after every such worker passed a quiescent point
 * leaks one object per key change.
 *
 * Key sets: set-keys with and without a grace period, step by step, and which
 * set sends, which is tried first and which is still accepted after each.
 * Sessions (set-session, del-session): the same, plus which keys are refused
 * as installed before (a session's seqs restart at 0).
 *
 * Routes: a table of prefixes given to three connections (the control
 * socket's add-route and del-route rules), then of inner packets and the
 * connection satpd_conns_pick chooses for each, and whether
 * satpd_conns_src_fits lets a connection deliver a packet from that source.
 *
 * These drive conns.h as it is at issue 15's start; the core/feature seam of
 * that issue may move them (struct satpd), and the setup
 * (satpd_test_daemon.h) with them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <unistd.h>

#include "satpd_test_daemon.h"

#define WORKERS 2

/* A retired key set: nothing publishes it, as after a key switch. */
static void retire_one(struct satpd *d)
{
	struct satpd_keyset *k;
	struct satp_keys tx, rx;

	keys_of(&tx, 1);
	keys_of(&rx, 2);
	k = satpd_keyset_new_session(d, &tx, &rx, 1, 0, 1);
	assert_non_null(k);
	satpd_conns_retire_keyset(d, k);
}

static void tick(struct satpd *d)
{
	d->conns->last_tick_ns = 0; /* the tick's own rate limit is not under test */
	satpd_conns_tick(d);
}

/* ---------------------------------------------------------------- epoch reclaim */

enum act {
	QUIET,	 /* not in a batch (epoch 0) */
	ENTER,	 /* satpd_worker_enter */
	STAY,	 /* still in the batch entered before */
	LEAVE,	 /* satpd_worker_leave */
	REENTER, /* leave, then a new batch */
};

struct reclaim_row {
	const char *name;
	unsigned int workers; /* 0: the socket path, no worker but the main thread */
	enum act before[WORKERS], after[WORKERS];
	bool freed; /* by the first tick after the retirement (socket path: at once) */
};

/* clang-format off */
static const struct reclaim_row reclaim_rows[] = {
    {"no worker in a batch", WORKERS, {QUIET, QUIET}, {QUIET, QUIET}, true},
    {"a worker still in the batch it entered before", WORKERS, {ENTER, QUIET}, {STAY, QUIET}, false},
    {"that worker went back to poll", WORKERS, {ENTER, QUIET}, {LEAVE, QUIET}, true},
    {"that worker entered a new batch since", WORKERS, {ENTER, QUIET}, {REENTER, QUIET}, true},
    {"a worker entered only after the retirement", WORKERS, {QUIET, QUIET}, {ENTER, QUIET}, true},
    {"one of two workers still in", WORKERS, {ENTER, ENTER}, {LEAVE, STAY}, false},
    {"both workers still in", WORKERS, {ENTER, ENTER}, {STAY, STAY}, false},
    {"both left, one entered again", WORKERS, {ENTER, ENTER}, {LEAVE, REENTER}, true},
    {"socket path: freed at once", 0, {QUIET, QUIET}, {QUIET, QUIET}, true},
};
/* clang-format on */

static void act(struct satpd *d, unsigned int i, enum act a)
{
	if (i >= d->n_workers)
		return;
	if (a == LEAVE || a == REENTER)
		satpd_worker_leave(&d->workers[i]);
	if (a == ENTER || a == REENTER)
		satpd_worker_enter(&d->workers[i]);
}

/* Every row's objects are freed once no worker is in a batch: nothing leaks. */
static bool run_reclaim_row(const struct reclaim_row *r)
{
	struct satpd *d = daemon_new(SATPD_DEV_TUN, r->workers);
	bool ok = true;
	unsigned int i;

	for (i = 0; i < WORKERS; i++)
		act(d, i, r->before[i]);
	retire_one(d);
	if (!r->workers && d->conns->retired) {
		print_error("%s: kept past the retirement, nothing can hold it\n", r->name);
		ok = false;
	}
	for (i = 0; i < WORKERS; i++)
		act(d, i, r->after[i]);
	tick(d);
	if ((d->conns->retired == NULL) != r->freed) {
		print_error("%s: %s at the tick, want %s\n", r->name,
			    d->conns->retired ? "kept" : "freed", r->freed ? "freed" : "kept");
		ok = false;
	}
	for (i = 0; i < d->n_workers; i++)
		satpd_worker_leave(&d->workers[i]);
	tick(d);
	if (d->conns->retired) {
		print_error("%s: still kept with every worker quiescent\n", r->name);
		ok = false;
	}
	daemon_free(d);
	return ok;
}

static void test_reclaim_table(void **state)
{
	unsigned int bad = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(reclaim_rows); i++)
		bad += !run_reclaim_row(&reclaim_rows[i]);
	if (bad)
		fail_msg("%u of %zu rows wrong", bad, ARRAY_SIZE(reclaim_rows));
}

/* ---------------------------------------------------------------- key sets */

/*
 * set-keys and its grace period, step by step on one connection: which key set
 * sends (keys), which receiving tries first (pending) and which is still
 * accepted (old), each named by the seed of its key. Grace periods are 0 or
 * long enough that no step reaches their half: the clock is not under test.
 */
enum key_step {
	SET_KEYS,
	TICK,
	PEER_USES,
	DONE
};

struct key_row {
	const char *what;
	enum key_step step;
	uint8_t seed;		    /* SET_KEYS */
	uint32_t grace;		    /* SET_KEYS, seconds */
	uint8_t keys, pending, old; /* expected after the step; 0: none */
};

#define GRACE_LONG 3600

/* clang-format off */
static const struct key_row key_rows[] = {
    {"grace 0: sends with the new keys at once", SET_KEYS, 2, 0, 2, 0, 1},
    {"grace 0: the old ones go at the next tick", TICK, 0, 0, 2, 0, 0},
    {"staged: received with, not sent with", SET_KEYS, 3, GRACE_LONG, 2, 3, 0},
    {"staged: a tick before half the grace changes nothing", TICK, 0, 0, 2, 3, 0},
    {"staged again: the unused set is replaced", SET_KEYS, 4, GRACE_LONG, 2, 4, 0},
    {"the peer sends with them: still not before the tick", PEER_USES, 0, 0, 2, 4, 0},
    {"the tick switches; the old keys stay for the grace", TICK, 0, 0, 4, 0, 2},
    {"the grace is not over: old stays", TICK, 0, 0, 4, 0, 2},
    {"grace 0 again: the old set before it is dropped", SET_KEYS, 5, 0, 5, 0, 4},
    {"", DONE, 0, 0, 0, 0, 0},
};
/* clang-format on */

static uint8_t seed_of(struct satpd_keyset *k)
{
	return k ? k->keys.master_key[0] : 0;
}

static void test_keys_table(void **state)
{
	struct satpd *d = daemon_new(SATPD_DEV_TUN, 0);
	const struct key_row *r;
	struct satpd_conn *c;
	struct satp_keys k;
	unsigned int bad = 0;
	char err[256];

	add_conn(d, 1); /* seed 1 */
	c = satpd_conns_get(d, 1);
	for (r = key_rows; r->step != DONE; r++) {
		if (r->step == SET_KEYS) {
			keys_of(&k, r->seed);
			if (satpd_conns_set_keys(d, c, &k, r->grace, err, sizeof(err)))
				fail_msg("%s: %s", r->what, err);
		} else if (r->step == TICK) {
			tick(d);
		} else {
			atomic_store(&c->pending_seen, true);
		}
		if (seed_of(atomic_load(&c->keys)) != r->keys ||
		    seed_of(atomic_load(&c->pending)) != r->pending ||
		    seed_of(atomic_load(&c->old)) != r->old) {
			print_error("%s: keys %u pending %u old %u, want %u %u %u\n", r->what,
				    seed_of(atomic_load(&c->keys)),
				    seed_of(atomic_load(&c->pending)),
				    seed_of(atomic_load(&c->old)), r->keys, r->pending, r->old);
			bad++;
		}
		if (satpd_seqlock_gen(&c->keys_seq) & 1) {
			print_error("%s: keys_seq left odd\n", r->what);
			bad++;
		}
	}
	daemon_free(d);
	if (bad)
		fail_msg("%u steps wrong", bad);
}

/* ---------------------------------------------------------------- sessions */

/*
 * set-session and del-session (docs/kx.md) on a connection of static keys
 * (seed 1): each step's answer, then which set sends, is tried first and is
 * still accepted, named by session id (STATIC: the static keys, NONE:
 * del-session's set that verifies nothing), and whether the refusal counter
 * moved. A session's seqs restart at 0, so keys installed before are refused.
 */
enum sess_step {
	SET_SESSION,
	DEL_SESSION,
	SESS_TICK,
	SESS_DONE
};

#define STATIC 1000
#define NONE   1001

struct sess_row {
	const char *what;
	enum sess_step step;
	uint64_t id;
	uint8_t tx, rx; /* seeds of the session's keys */
	uint32_t grace;
	int ret;
	uint64_t keys, pending, old; /* expected after the step; 0: none */
};

/* clang-format off */
static const struct sess_row sess_rows[] = {
    {"session 7, grace 0: sends at once", SET_SESSION, 7, 0x10, 0x11, 0, 0, 7, 0, STATIC},
    {"the tick drops the static keys", SESS_TICK, 0, 0, 0, 0, 0, 7, 0, 0},
    {"session 8 with 7's tx key: refused", SET_SESSION, 8, 0x10, 0x12, 0, -EKEYREJECTED, 7, 0, 0},
    {"session 8 with 7's rx key: refused", SET_SESSION, 8, 0x13, 0x11, 0, -EKEYREJECTED, 7, 0, 0},
    {"session 9 with a grace: staged", SET_SESSION, 9, 0x20, 0x21, GRACE_LONG, 0, 7, 9, 0},
    {"del-session: nothing sends, nothing is accepted", DEL_SESSION, 0, 0, 0, 0, 0, NONE, 0, 0},
    {"session 10 with 9's keys, gone now: still refused", SET_SESSION, 10, 0x20, 0x21, 0,
     -EKEYREJECTED, NONE, 0, 0},
    {"session 11 with a grace after del-session: sends at once, keeps no old",
     SET_SESSION, 11, 0x30, 0x31, GRACE_LONG, 0, 11, 0, 0},
    {"the tick", SESS_TICK, 0, 0, 0, 0, 0, 11, 0, 0},
    {"", SESS_DONE, 0, 0, 0, 0, 0, 0, 0, 0},
};
/* clang-format on */

static uint64_t session_of(struct satpd_keyset *k)
{
	if (!k)
		return 0;
	if (k->none)
		return NONE;
	return k->session ? k->session_id : STATIC;
}

static int sess_step(struct satpd *d, struct satpd_conn *c, const struct sess_row *r)
{
	struct satp_keys tx, rx;
	char err[256] = "";

	if (r->step == SESS_TICK) {
		tick(d);
		return 0;
	}
	if (r->step == DEL_SESSION)
		return satpd_conns_del_session(d, c);
	keys_of(&tx, r->tx);
	keys_of(&rx, r->rx);
	return satpd_conns_set_session(d, c, &tx, &rx, r->id, r->grace, err, sizeof(err));
}

static void test_sessions_table(void **state)
{
	struct satpd *d = daemon_new(SATPD_DEV_TUN, 0);
	const struct sess_row *r;
	struct satpd_conn *c;
	unsigned int bad = 0;
	int ret;

	add_conn(d, 1);
	c = satpd_conns_get(d, 1);
	for (r = sess_rows; r->step != SESS_DONE; r++) {
		ret = sess_step(d, c, r);
		if (ret != r->ret) {
			print_error("%s: %d, want %d\n", r->what, ret, r->ret);
			bad++;
		}
		if (session_of(atomic_load(&c->keys)) != r->keys ||
		    session_of(atomic_load(&c->pending)) != r->pending ||
		    session_of(atomic_load(&c->old)) != r->old) {
			print_error("%s: keys %" PRIu64 " pending %" PRIu64 " old %" PRIu64
				    ", want %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
				    r->what, session_of(atomic_load(&c->keys)),
				    session_of(atomic_load(&c->pending)),
				    session_of(atomic_load(&c->old)), r->keys, r->pending, r->old);
			bad++;
		}
		if (satpd_seqlock_gen(&c->keys_seq) & 1) {
			print_error("%s: keys_seq left odd\n", r->what);
			bad++;
		}
		/* the socket path: nothing else can hold a replaced set */
		if (d->conns->retired) {
			print_error("%s: a replaced key set kept\n", r->what);
			bad++;
		}
	}
	daemon_free(d);
	if (bad)
		fail_msg("%u steps wrong", bad);
}

/* ---------------------------------------------------------------- routes */

struct route_op {
	const char *prefix; /* ADDRESS/LENGTH */
	int mux;	    /* add to this mux; -1: del-route of whichever mux has it */
	int ret;	    /* what the control socket answers */
};

/* clang-format off */
static const struct route_op route_ops[] = {
    {"10.0.0.0/8", 1, 0},
    {"10.1.0.0/16", 2, 0},
    {"10.1.2.3/32", 3, 0},
    {"10.1.2.3/32", 3, 0},		/* the same again: a no-op */
    {"10.1.2.3/32", 2, -EEXIST},	/* another mux's prefix is refused */
    {"fd00::/8", 1, 0},
    {"fd00:1::/32", 2, 0},
    {"10.9.0.0/16", 2, 0},
    {"10.9.0.0/16", -1, 0},		/* deleted again */
    {"10.8.0.0/16", -1, -ENOENT},	/* nobody has it */
};
/* clang-format on */

struct pick_row {
	const char *dst, *src;
	int mux;      /* the connection picked; 0: none (dropped) */
	int src_fits; /* the connection of mux that may deliver from src; 0: none */
};

/* clang-format off */
static const struct pick_row pick_rows[] = {
    {"10.200.0.1", "10.1.9.9", 1, 2},
    {"10.1.200.1", "10.0.0.1", 2, 1},
    {"10.1.2.3", "10.1.2.3", 3, 3},	/* a host route beats its /16 */
    {"10.1.2.4", "10.1.2.4", 2, 2},
    {"10.9.1.1", "10.9.1.1", 1, 1},	/* the deleted /16: back to the /8 */
    {"192.0.2.1", "192.0.2.1", 0, 0},	/* no route: dropped */
    {"fd00::1", "fd00:1::1", 1, 2},
    {"fd00:1:2::3", "fd00::5", 2, 1},
    {"2001:db8::1", "2001:db8::1", 0, 0},
};
/* clang-format on */

static size_t inner_packet(uint8_t *p, const char *dst, const char *src)
{
	memset(p, 0, 40);
	if (strchr(dst, ':')) {
		p[0] = 0x60;
		assert_int_equal(inet_pton(AF_INET6, src, p + 8), 1);
		assert_int_equal(inet_pton(AF_INET6, dst, p + 24), 1);
		return 40;
	}
	p[0] = 0x45;
	assert_int_equal(inet_pton(AF_INET, src, p + 12), 1);
	assert_int_equal(inet_pton(AF_INET, dst, p + 16), 1);
	return 20;
}

static int route_op(struct satpd *d, const struct route_op *op)
{
	struct satpd_prefix p;
	char err[256] = "";

	assert_int_equal(satpd_parse_prefix(op->prefix, &p, err, sizeof(err)), 0);
	if (op->mux < 0)
		return satpd_conns_del_route(d, p.family, (const uint8_t *)&p.addr, p.len, -1, err,
					     sizeof(err));
	return satpd_conns_add_route(d, p.family, (const uint8_t *)&p.addr, p.len,
				     (uint16_t)op->mux, err, sizeof(err));
}

static void test_pick_table(void **state)
{
	struct satpd *d = daemon_new(SATPD_DEV_TUN, 0);
	unsigned int bad = 0, m;
	struct satpd_conn *c;
	uint8_t pkt[40];
	size_t i, len;
	bool flood;
	int ret, fits;

	for (m = 1; m <= 3; m++)
		add_conn(d, (uint16_t)m);
	for (i = 0; i < ARRAY_SIZE(route_ops); i++) {
		ret = route_op(d, &route_ops[i]);
		if (ret != route_ops[i].ret)
			fail_msg("route %s mux %d: %d, want %d", route_ops[i].prefix,
				 route_ops[i].mux, ret, route_ops[i].ret);
	}
	for (i = 0; i < ARRAY_SIZE(pick_rows); i++) {
		const struct pick_row *r = &pick_rows[i];

		len = inner_packet(pkt, r->dst, r->src);
		c = satpd_conns_pick(d, pkt, len, &flood);
		if ((c ? c->mux : 0) != r->mux || flood) {
			print_error("to %s: mux %d%s, want %d\n", r->dst, c ? c->mux : 0,
				    flood ? " (flood)" : "", r->mux);
			bad++;
		}
		for (fits = 0, m = 1; m <= 3; m++)
			if (satpd_conns_src_fits(d, satpd_conns_get(d, (uint16_t)m), pkt, len))
				fits = fits ? -1 : (int)m;
		if (fits != r->src_fits) {
			print_error("from %s: delivered by mux %d, want %d\n", r->src, fits,
				    r->src_fits);
			bad++;
		}
	}
	/* del-conn takes its routes along: 10.1.2.3 falls back to mux 2's /16 */
	assert_int_equal(satpd_conns_del(d, 3), 0);
	len = inner_packet(pkt, "10.1.2.3", "10.1.2.3");
	c = satpd_conns_pick(d, pkt, len, &flood);
	if (!c || c->mux != 2) {
		print_error("to 10.1.2.3 after del-conn 3: mux %d, want 2\n", c ? c->mux : 0);
		bad++;
	}
	daemon_free(d);
	if (bad)
		fail_msg("%u wrong", bad);
}

/* anytun's single connection without -R: every packet, every source, whatever the address. */
static void test_pick_sole(void **state)
{
	struct satpd *d = daemon_new(SATPD_DEV_TUN, 0);
	uint8_t pkt[40];
	bool flood;
	size_t len;

	add_conn(d, 5);
	fx.cfg->n_conns = 1;
	fx.cfg->conns[0].mux = 5;
	assert_int_equal(satpd_conns_add_routes(d, fx.cfg), 0);
	len = inner_packet(pkt, "192.0.2.1", "198.51.100.7");
	assert_ptr_equal(satpd_conns_pick(d, pkt, len, &flood), satpd_conns_get(d, 5));
	assert_false(flood);
	assert_true(satpd_conns_src_fits(d, satpd_conns_get(d, 5), pkt, len));
	len = inner_packet(pkt, "2001:db8::1", "2001:db8::2");
	assert_ptr_equal(satpd_conns_pick(d, pkt, len, &flood), satpd_conns_get(d, 5));
	/* a second connection needs routes of its own: the first keeps the defaults */
	add_conn(d, 6);
	assert_ptr_equal(satpd_conns_pick(d, pkt, len, &flood), satpd_conns_get(d, 5));
	assert_false(satpd_conns_src_fits(d, satpd_conns_get(d, 6), pkt, len));
	daemon_free(d);
}

/* Tap: learned MACs pick, unknown and group destinations flood, a held MAC does not move. */
static void test_pick_tap(void **state)
{
	static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0xa},
			     bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct satpd *d = daemon_new(SATPD_DEV_TAP, 0);
	uint8_t frame[60] = {0};
	struct satpd_conn *c;
	bool flood;

	add_conn(d, 1);
	add_conn(d, 2);
	memcpy(frame, mac_a, 6); /* to A, not learned yet */
	assert_null(satpd_conns_pick(d, frame, sizeof(frame), &flood));
	assert_true(flood);
	memcpy(frame + 6, mac_a, 6); /* a frame from A arrives on mux 2 */
	assert_true(satpd_conns_learn_mac(d, frame, sizeof(frame), 2));
	c = satpd_conns_pick(d, frame, sizeof(frame), &flood);
	assert_non_null(c);
	assert_int_equal(c->mux, 2);
	assert_false(flood);
	/* A's MAC from mux 1 within the hold time: refused, A stays behind mux 2 */
	assert_false(satpd_conns_learn_mac(d, frame, sizeof(frame), 1));
	c = satpd_conns_pick(d, frame, sizeof(frame), &flood);
	assert_non_null(c);
	assert_int_equal(c->mux, 2);
	memcpy(frame, bcast, 6);
	assert_null(satpd_conns_pick(d, frame, sizeof(frame), &flood));
	assert_true(flood);
	daemon_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reclaim_table),  cmocka_unit_test(test_keys_table),
	    cmocka_unit_test(test_sessions_table), cmocka_unit_test(test_pick_table),
	    cmocka_unit_test(test_pick_sole),	   cmocka_unit_test(test_pick_tap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
