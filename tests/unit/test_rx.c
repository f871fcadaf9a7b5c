// SPDX-License-Identifier: GPL-2.0-only
/*
 * The rx pipeline's verdicts (user/satpd/datapath.c satpd_rx_datagram), one
 * table on one daemon with no socket, device or XDP: the worker's device fd
 * is one end of a datagram socketpair, so what it delivers is read back from
 * the other and compared byte for byte. Datagrams are sealed with the
 * library's satp_seal under the peer's role.
 *
 * Each row sends one datagram and names the counters that move (exactly
 * those: SATPD_COUNTERS by name, rx_delivered only for a good row), whether
 * the device got the inner packet, what the rx observer saw (first, a
 * duplicate, or nothing) and whether the reserved mux's handler was called.
 * The rows run in order: the replay window, the key sets and the sender
 * quota carry from one row to the next.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <unistd.h>

#include "datapath.h"
#include "satpd_test_daemon.h"

#define MUX_STATIC   1 /* static keys of seed 1, routes 10.1.0.0/16 */
#define MUX_MANAGED  2 /* keys_managed (a handshake's), routes 10.2.0.0/16 */
#define MUX_NONE     99
#define MUX_RESERVED 0xFFFF /* as the handshake space: any mux a feature reserves */
#define SEED_BAD     0x77
#define SEED_NEW     3 /* set-keys' keys for MUX_STATIC */
#define GRACE_LONG   3600
#define MAX_SENDERS  2
#define PEER_PORT    5000

/* What the row does before its datagram. */
enum step {
	STEP_NONE,
	STEP_SET_KEYS,
	STEP_TICK,
	STEP_FILL_POOL /* every free window slot taken by senders of a mux of no connection */
};

enum inner {
	IN_OK,	     /* IPv4 from the sending connection's routes */
	IN_FOREIGN,  /* IPv4 from the other connection's routes */
	IN_EMPTY,    /* no inner packet: a keepalive */
	IN_ETHER,    /* an Ethernet frame: payload type of a tap */
	IN_RESERVED, /* not sealed: a header of the reserved mux and some bytes */
};

enum obs {
	OBS_NONE,
	OBS_FIRST,
	OBS_DUP
};

/* Which worker receives the datagram, from where, and what its device does. */
enum where {
	ON_MAIN,	 /* the main thread, from the connection's remote */
	ON_XDP_WORKER,	 /* an AF_XDP worker (id 0), from the remote */
	ON_MAIN_MOVED,	 /* the main thread, from another port of the peer */
	ON_MAIN_DEV_GONE /* the main thread, its device fd closed */
};

/* The rx observer's and the reserved mux handler's calls. */
struct seen {
	unsigned int first, dup, reserved;
};

static struct seen seen;

struct rx_row {
	const char *name;
	enum step step;
	enum where where;
	uint16_t mux, sender;
	uint32_t seq;
	uint8_t seed; /* keys it is sealed with */
	enum inner inner;
	int cut; /* > 0: only this many bytes; < 0: flip a bit of the last byte */
	const char *moves[2];
	bool delivered;
	enum obs obs;
	bool reserved; /* the reserved mux's handler was called */
	bool pending_seen;
};

/* clang-format off */
static const struct rx_row rx_rows[] = {
    {"first datagram of sender 1: takes a window slot", STEP_NONE, ON_MAIN, MUX_STATIC, 1, 10, 1,
     IN_OK, 0, {"rx_delivered"}, true, OBS_FIRST, false, false},
    {"the same again: replay", STEP_NONE, ON_MAIN, MUX_STATIC, 1, 10, 1,
     IN_OK, 0, {"rx_replay"}, false, OBS_DUP, false, false},
    {"a later seq", STEP_NONE, ON_MAIN, MUX_STATIC, 1, 500, 1,
     IN_OK, 0, {"rx_delivered"}, true, OBS_FIRST, false, false},
    {"older than the window", STEP_NONE, ON_MAIN, MUX_STATIC, 1, 300, 1,
     IN_OK, 0, {"rx_too_old"}, false, OBS_DUP, false, false},
    {"inside the window, not seen yet", STEP_NONE, ON_MAIN, MUX_STATIC, 1, 450, 1,
     IN_OK, 0, {"rx_delivered"}, true, OBS_FIRST, false, false},
    {"too short for a header", STEP_NONE, ON_MAIN, MUX_STATIC, 1, 501, 1,
     IN_OK, 5, {"rx_too_short"}, false, OBS_NONE, false, false},
    {"a header, no room for the tag", STEP_NONE, ON_MAIN, MUX_STATIC, 1, 501, 1,
     IN_OK, SATP_HDR_LEN + 2, {"rx_too_short"}, false, OBS_NONE, false, false},
    {"unknown mux", STEP_NONE, ON_MAIN, MUX_NONE, 1, 501, 1,
     IN_OK, 0, {"rx_wrong_mux"}, false, OBS_NONE, false, false},
    {"bad tag: other keys", STEP_NONE, ON_MAIN, MUX_STATIC, 1, 501, SEED_BAD,
     IN_OK, 0, {"rx_bad_tag"}, false, OBS_NONE, false, false},
    {"bad tag: a bit flipped", STEP_NONE, ON_MAIN, MUX_STATIC, 1, 501, 1,
     IN_OK, -1, {"rx_bad_tag"}, false, OBS_NONE, false, false},
    {"first datagram of sender 2: a second slot", STEP_NONE, ON_MAIN, MUX_STATIC, 2, 1, 1,
     IN_OK, 0, {"rx_delivered"}, true, OBS_FIRST, false, false},
    {"sender 3: the connection holds its quota of slots", STEP_NONE, ON_MAIN, MUX_STATIC, 3, 1, 1,
     IN_OK, 0, {"rx_senders_quota"}, false, OBS_DUP, false, false},
    {"empty payload, static keys", STEP_NONE, ON_MAIN, MUX_STATIC, 1, 501, 1,
     IN_EMPTY, 0, {"rx_no_payload"}, false, OBS_FIRST, false, false},
    {"empty payload, managed keys: a keepalive", STEP_NONE, ON_MAIN, MUX_MANAGED, 1, 1, MUX_MANAGED,
     IN_EMPTY, 0, {"rx_keepalive"}, false, OBS_FIRST, false, false},
    {"managed keys, data", STEP_NONE, ON_MAIN, MUX_MANAGED, 1, 2, MUX_MANAGED,
     IN_OK, 0, {"rx_delivered"}, true, OBS_FIRST, false, false},
    {"an Ethernet frame on a tun", STEP_NONE, ON_MAIN, MUX_STATIC, 1, 502, 1,
     IN_ETHER, 0, {"rx_bad_ptype"}, false, OBS_FIRST, false, false},
    {"inner source routed to the other connection", STEP_NONE, ON_MAIN, MUX_STATIC, 1, 503, 1,
     IN_FOREIGN, 0, {"rx_foreign_src"}, false, OBS_FIRST, false, false},
    {"set-keys with a grace: the pending keys are accepted", STEP_SET_KEYS, ON_MAIN, MUX_STATIC, 1,
     504, SEED_NEW, IN_OK, 0, {"rx_delivered"}, true, OBS_FIRST, false, true},
    {"after the switch: the old keys in their grace", STEP_TICK, ON_MAIN, MUX_STATIC, 1, 505, 1,
     IN_OK, 0, {"rx_old_keys", "rx_delivered"}, true, OBS_FIRST, false, false},
    {"after the switch: the new keys", STEP_NONE, ON_MAIN, MUX_STATIC, 1, 506, SEED_NEW,
     IN_OK, 0, {"rx_delivered"}, true, OBS_FIRST, false, false},
    {"from another port: the remote moves there", STEP_NONE, ON_MAIN_MOVED, MUX_STATIC, 1, 507,
     SEED_NEW, IN_OK, 0, {"remote_changes", "rx_delivered"}, true, OBS_FIRST, false, false},
    {"from the first port again: it moves back", STEP_NONE, ON_MAIN, MUX_STATIC, 1, 508,
     SEED_NEW, IN_OK, 0, {"remote_changes", "rx_delivered"}, true, OBS_FIRST, false, false},
    {"the device write fails", STEP_NONE, ON_MAIN_DEV_GONE, MUX_STATIC, 1, 509, SEED_NEW,
     IN_OK, 0, {"rx_dev_error"}, false, OBS_FIRST, false, false},
    {"a new sender under its quota, the shared pool full", STEP_FILL_POOL, ON_MAIN, MUX_MANAGED, 2,
     1, MUX_MANAGED, IN_OK, 0, {"rx_senders_full"}, false, OBS_DUP, false, false},
    {"reserved mux: to its handler", STEP_NONE, ON_MAIN, MUX_RESERVED, 0, 1, 0,
     IN_RESERVED, 0, {NULL}, false, OBS_NONE, true, false},
    {"reserved mux on an AF_XDP worker: dropped", STEP_NONE, ON_XDP_WORKER, MUX_RESERVED, 0, 2,
     0, IN_RESERVED, 0, {"rx_handshake_off_main"}, false, OBS_NONE, false, false},
};
/* clang-format on */

/*
 * A tap with two connections: a source MAC is learned behind the first that
 * delivers it and held there (SATPD_MAC_HOLD_S); IP payload types do not fit.
 */
/* clang-format off */
static const struct rx_row tap_rows[] = {
    {"tap: a frame from a new MAC over mux 2: learned, delivered", STEP_NONE, ON_MAIN, MUX_MANAGED,
     1, 1, MUX_MANAGED, IN_ETHER, 0, {"rx_delivered"}, true, OBS_FIRST, false, false},
    {"tap: the same MAC over mux 1: held by mux 2", STEP_NONE, ON_MAIN, MUX_STATIC, 1, 1, 1,
     IN_ETHER, 0, {"rx_foreign_mac"}, false, OBS_FIRST, false, false},
    {"tap: an IPv4 payload type", STEP_NONE, ON_MAIN, MUX_STATIC, 1, 2, 1,
     IN_OK, 0, {"rx_bad_ptype"}, false, OBS_FIRST, false, false},
    {"tap: mux 2 again", STEP_NONE, ON_MAIN, MUX_MANAGED, 1, 2, MUX_MANAGED,
     IN_ETHER, 0, {"rx_delivered"}, true, OBS_FIRST, false, false},
};
/* clang-format on */

static const struct {
	const char *name;
	size_t off;
} counters[] = {
#define X(n) {#n, offsetof(struct satpd_counters, n)},
    SATPD_COUNTERS(X)
#undef X
};

static uint64_t counter(const struct satpd_counters *c, size_t i)
{
	return *(const uint64_t *)((const uint8_t *)c + counters[i].off);
}

static bool named(const char *const moves[2], const char *name)
{
	return (moves[0] && !strcmp(moves[0], name)) || (moves[1] && !strcmp(moves[1], name));
}

static void on_committed(void *ctx, int sock, const struct sockaddr_storage *src, socklen_t srclen,
			 bool first)
{
	(void)ctx, (void)sock, (void)src, (void)srclen;
	if (first)
		seen.first++;
	else
		seen.dup++;
}

static bool on_reserved(void *ctx, struct satpd_worker *w, const uint8_t *buf, size_t len,
			const struct sockaddr_storage *src, socklen_t srclen, int sock)
{
	(void)ctx, (void)w, (void)buf, (void)len, (void)src, (void)srclen, (void)sock;
	seen.reserved++;
	return true;
}

/* The inner packet of a row: a header naming its source, then the seq as a marker. */
static size_t inner_of(const struct rx_row *r, uint8_t *p)
{
	uint8_t net = r->mux == MUX_MANAGED ? 2 : 1;

	memset(p, 0, 40);
	if (r->inner == IN_EMPTY)
		return 0;
	if (r->inner == IN_ETHER) {
		memset(p, 0xff, 6);
		p[6] = 0x02;
		p[12] = 0x08;
		return 34;
	}
	if (r->inner == IN_FOREIGN)
		net = net == 1 ? 2 : 1;
	p[0] = 0x45;
	p[12] = 10;
	p[13] = net;
	p[15] = 5;
	p[16] = 10;
	p[17] = 9;
	p[19] = 1;
	memcpy(p + 20, &r->seq, sizeof(r->seq));
	return 40;
}

/* The row's datagram as the peer (the opposite role) sends it; returns its length. */
static size_t datagram_of(const struct rx_row *r, uint8_t *buf, size_t cap, uint8_t *inner,
			  size_t *inner_len)
{
	struct satp_crypto c;
	struct satp_keys k;
	uint16_t ptype = r->inner == IN_ETHER ? SATP_PTYPE_ETHER : SATP_PTYPE_IPV4;
	int len;

	*inner_len = inner_of(r, inner);
	if (r->inner == IN_RESERVED) {
		uint32_t seq = htonl(r->seq);
		uint16_t mux = htons(r->mux), sender = htons(r->sender);

		memcpy(buf, &seq, 4);
		memcpy(buf + 4, &sender, 2);
		memcpy(buf + 6, &mux, 2);
		memset(buf + SATP_HDR_LEN, 0xab, 24);
		return SATP_HDR_LEN + 24;
	}
	keys_of(&k, r->seed);
	k.role = SATP_ROLE_RIGHT;
	assert_int_equal(satp_crypto_init(&c, &k), 0);
	memcpy(buf + SATP_HDR_LEN + SATP_PTYPE_LEN, inner, *inner_len);
	len = satp_seal(&c, buf, cap, *inner_len, r->seq, r->sender, r->mux, ptype);
	satp_crypto_free(&c);
	assert_true(len > 0);
	if (r->cut > 0)
		return (size_t)r->cut;
	if (r->cut < 0)
		buf[len - 1] ^= 1;
	return (size_t)len;
}

struct rig {
	struct satpd *d;
	struct satpd_worker xw; /* an AF_XDP worker's id, on the socket path's device fd */
	int dev[2];		/* [0]: the worker's device fd; [1]: what it delivered */
	struct sockaddr_storage peer;
	socklen_t peerlen;
};

static void add_routed(struct rig *g, uint16_t mux, const char *prefix)
{
	struct satpd_conn_config c;
	struct satpd_peer_addr a;
	struct satpd_prefix p;
	char err[256] = "";

	conn_config_of(&c, mux);
	if (satpd_conns_add(g->d, &c, err, sizeof(err)))
		fail_msg("add mux %u: %s", mux, err);
	/* as with -r (which needs sockets to resolve): the mux is fixed, none is adopted */
	satpd_conns_get(g->d, mux)->mux_fixed = true;
	assert_int_equal(satpd_parse_prefix(prefix, &p, err, sizeof(err)), 0);
	assert_int_equal(satpd_conns_add_route(g->d, p.family, (const uint8_t *)&p.addr, p.len, mux,
					       err, sizeof(err)),
			 0);
	/* the peer's address is the remote already: a good row moves no remote_changes */
	memset(&a, 0, sizeof(a));
	memcpy(&a.sa, &g->peer, g->peerlen);
	a.len = g->peerlen;
	satpd_conn_set_remote(g->d, satpd_conns_get(g->d, mux), &a, 0);
}

static void rig_up(struct rig *g, enum satpd_dev_type type)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&g->peer;

	memset(g, 0, sizeof(*g));
	in->sin_family = AF_INET;
	in->sin_port = htons(PEER_PORT);
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g->peerlen = sizeof(*in);
	g->d = daemon_new(type, 0);
	fx.cfg->max_senders = MAX_SENDERS;
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, g->dev), 0);
	assert_int_equal(fcntl(g->dev[1], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(satpd_worker_init(&g->d->sock_worker, g->d, SATPD_MAIN_WORKER, g->dev[0]),
			 0);
	assert_int_equal(satpd_worker_init(&g->xw, g->d, 0, g->dev[0]), 0);
	add_routed(g, MUX_STATIC, "10.1.0.0/16");
	add_routed(g, MUX_MANAGED, "10.2.0.0/16");
	satpd_conns_get(g->d, MUX_MANAGED)->keys_managed = true;
	satpd_set_mux_handler(g->d, MUX_RESERVED, true, on_reserved, NULL);
	satpd_set_rx_observer(g->d, &(struct satpd_rx_observer){.committed = on_committed});
}

static void rig_down(struct rig *g)
{
	satpd_worker_free(&g->xw);
	satpd_worker_free(&g->d->sock_worker);
	close(g->dev[0]);
	close(g->dev[1]);
	daemon_free(g->d);
}

static void step(struct rig *g, enum step s)
{
	struct satp_keys k;
	char err[256] = "";

	if (s == STEP_SET_KEYS) {
		keys_of(&k, SEED_NEW);
		if (satpd_conns_set_keys(g->d, satpd_conns_get(g->d, MUX_STATIC), &k, GRACE_LONG,
					 err, sizeof(err)))
			fail_msg("set-keys: %s", err);
	} else if (s == STEP_TICK) {
		g->d->conns->last_tick_ns = 0;
		satpd_conns_tick(g->d);
	} else if (s == STEP_FILL_POOL) {
		uint16_t sender = 1;

		while (satpd_windows_commit(&g->d->windows, MUX_NONE, sender, 1) == SATP_OK)
			sender++;
		assert_true(sender > 1);
	}
}

/* Which counters moved, other than the row's; and the row's that did not. */
static unsigned int check_counters(const struct rx_row *r, const struct satpd_counters *before,
				   const struct satpd_counters *after)
{
	unsigned int bad = 0;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(counters); i++) {
		bool moved = counter(after, i) != counter(before, i);
		bool want = named(r->moves, counters[i].name);

		if (moved != want) {
			print_error("%s: %s %s\n", r->name, counters[i].name,
				    moved ? "moved" : "did not move");
			bad++;
		}
	}
	for (i = 0; i < 2; i++) {
		size_t j;

		for (j = 0; r->moves[i] && j < ARRAY_SIZE(counters); j++)
			if (!strcmp(counters[j].name, r->moves[i]))
				break;
		if (r->moves[i] && j == ARRAY_SIZE(counters)) {
			print_error("%s: no counter named %s\n", r->name, r->moves[i]);
			bad++;
		}
	}
	return bad;
}

/* The device got the inner packet byte for byte, or nothing. */
static unsigned int check_device(const struct rx_row *r, struct rig *g, const uint8_t *inner,
				 size_t inner_len)
{
	uint8_t got[SATPD_BUF_SIZE];
	ssize_t n = read(g->dev[1], got, sizeof(got));

	if (!r->delivered && n >= 0) {
		print_error("%s: the device got %zd bytes\n", r->name, n);
		return 1;
	}
	if (r->delivered && (n != (ssize_t)inner_len || memcmp(got, inner, inner_len))) {
		print_error("%s: the device got %zd bytes, want the %zu of the inner packet\n",
			    r->name, n, inner_len);
		return 1;
	}
	return 0;
}

static unsigned int check_seen(const struct rx_row *r, const struct seen *s)
{
	unsigned int want_first = r->obs == OBS_FIRST, want_dup = r->obs == OBS_DUP;

	if (s->first != want_first || s->dup != want_dup || s->reserved != r->reserved) {
		print_error("%s: observer first %u dup %u, handler %u; want %u %u %u\n", r->name,
			    s->first, s->dup, s->reserved, want_first, want_dup, r->reserved);
		return 1;
	}
	return 0;
}

static unsigned int run_row(struct rig *g, const struct rx_row *r)
{
	struct satpd_worker *w = r->where == ON_XDP_WORKER ? &g->xw : &g->d->sock_worker;
	struct sockaddr_storage src = g->peer;
	uint8_t buf[SATPD_BUF_SIZE], inner[40];
	struct satpd_counters before;
	struct satpd_conn *c;
	unsigned int bad;
	size_t len, inner_len;

	step(g, r->step);
	len = datagram_of(r, buf, sizeof(buf), inner, &inner_len);
	before = w->ctr;
	memset(&seen, 0, sizeof(seen));
	if (r->where == ON_MAIN_MOVED)
		((struct sockaddr_in *)&src)->sin_port = htons(PEER_PORT + 1);
	if (r->where == ON_MAIN_DEV_GONE)
		w->dev_fd = -1;
	satpd_rx_datagram(w, buf, len, &src, g->peerlen, 0);
	satpd_dev_flush(w);
	w->dev_fd = g->dev[0];
	bad = check_counters(r, &before, &w->ctr);
	bad += check_device(r, g, inner, inner_len);
	bad += check_seen(r, &seen);
	c = satpd_conns_get(g->d, MUX_STATIC);
	if (r->pending_seen && !atomic_load(&c->pending_seen)) {
		print_error("%s: pending keys not marked seen\n", r->name);
		bad++;
	}
	return bad;
}

static void test_rx_table(void **state)
{
	struct rig g;
	unsigned int bad = 0;
	size_t i;

	(void)state;
	rig_up(&g, SATPD_DEV_TUN);
	for (i = 0; i < ARRAY_SIZE(rx_rows); i++)
		bad += run_row(&g, &rx_rows[i]);
	rig_down(&g);
	if (bad)
		fail_msg("%u checks wrong", bad);
}

static void test_rx_tap(void **state)
{
	struct rig g;
	unsigned int bad = 0;
	size_t i;

	(void)state;
	rig_up(&g, SATPD_DEV_TAP);
	for (i = 0; i < ARRAY_SIZE(tap_rows); i++)
		bad += run_row(&g, &tap_rows[i]);
	rig_down(&g);
	if (bad)
		fail_msg("%u checks wrong", bad);
}

/*
 * rx_truncated is the socket path's (satpd_udp_receive: MSG_TRUNC), before
 * the pipeline: a datagram longer than SATPD_BUF_SIZE on a loopback socket.
 */
static void test_rx_truncated(void **state)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	socklen_t tolen = sizeof(to);
	static uint8_t big[SATPD_BUF_SIZE + 64];
	struct satpd_counters before;
	struct satpd_worker *w;
	struct rig g;
	int tx;
	size_t i;

	(void)state;
	rig_up(&g, SATPD_DEV_TUN);
	w = &g.d->sock_worker;
	g.d->udp.n = 1;
	g.d->udp.fds[0] = socket(AF_INET, SOCK_DGRAM, 0);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(g.d->udp.fds[0] >= 0 && tx >= 0);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(g.d->udp.fds[0], (struct sockaddr *)&to, sizeof(to)), 0);
	assert_int_equal(getsockname(g.d->udp.fds[0], (struct sockaddr *)&to, &tolen), 0);
	assert_int_equal(sendto(tx, big, sizeof(big), 0, (struct sockaddr *)&to, tolen),
			 (ssize_t)sizeof(big));
	before = w->ctr;
	memset(&seen, 0, sizeof(seen));
	satpd_udp_receive(w, 0);
	for (i = 0; i < ARRAY_SIZE(counters); i++) {
		const char *n = counters[i].name;
		bool want = !strcmp(n, "rx_truncated") || !strcmp(n, "rx_datagrams") ||
			    !strcmp(n, "rx_bytes");

		if ((counter(&w->ctr, i) != counter(&before, i)) != want)
			fail_msg("truncated: %s %s", n, want ? "did not move" : "moved");
	}
	assert_int_equal(w->ctr.rx_truncated - before.rx_truncated, 1);
	assert_true(read(g.dev[1], big, sizeof(big)) < 0);
	assert_int_equal(seen.first + seen.dup, 0);
	close(tx);
	close(g.d->udp.fds[0]);
	rig_down(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rx_table),
	    cmocka_unit_test(test_rx_tap),
	    cmocka_unit_test(test_rx_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
