// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mux adoption (anytun without -r): the only connection, its mux not fixed,
 * takes the mux of the first datagram that authenticates under its keys, on
 * the socket path (satpd_rx_datagram's rx_conn, then satpd_conns_adopt on
 * the main thread). Until then a datagram of any mux is tried against it.
 *
 * Each row starts a fresh daemon with that one connection (mux 1, no remote)
 * and sends its datagrams in order; after each it checks the counters that
 * move (exactly those), where the connection is (its mux, the table's slot,
 * mux_fixed, the table's adopter), how often the adoption observer
 * (satpd_conn_hooks.on_adopt, the XDP path's in the daemon) was called, the
 * learned remote, the window slots taken, and what reached the device. A
 * datagram that does not authenticate must move nothing but rx_bad_tag.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <unistd.h>

#include "datapath.h"
#include "satpd_test_daemon.h"

#define MUX_CONF     1	    /* the configuration's mux (-m) */
#define MUX_RESERVED 0xFFFF /* as the handshake space */
#define SEED_GOOD    MUX_CONF
#define SEED_BAD     0x77
#define PKTS_MAX     3

enum where {
	ON_MAIN,       /* the main thread (socket path) */
	ON_XDP_WORKER, /* an AF_XDP worker (id 0) */
};

/* The reserved mux's handler: what it does with a datagram of that mux. */
enum handler {
	H_DECLINES, /* as with neither handshake nor kx: the datagram goes on */
	H_TAKES,    /* as a handshake message */
};

struct adopt_pkt {
	uint16_t mux;
	uint8_t seed; /* keys it is sealed with */
	uint32_t seq;
	enum where where;
	enum handler handler;
	const char *moves[2];
	/* after it: */
	uint16_t conn_mux;    /* the connection's mux and table slot */
	bool fixed;	      /* mux_fixed, and no adopter left */
	unsigned int adopted; /* on_adopt calls so far */
	bool delivered;
	bool remote;	    /* a remote learned so far */
	unsigned int slots; /* window slots taken so far */
};

struct adopt_row {
	const char *name;
	struct adopt_pkt pkts[PKTS_MAX];
	unsigned int n;
};

/* clang-format off */
#define GOOD {"rx_delivered", "remote_changes"}
#define BAD  {"rx_bad_tag"}

static const struct adopt_row rows[] = {
    {"good tag, its own mux: fixed there",
     {{MUX_CONF, SEED_GOOD, 1, ON_MAIN, H_DECLINES, GOOD, MUX_CONF, true, 1, true, true, 1}}, 1},
    {"good tag, another mux: adopted",
     {{7, SEED_GOOD, 1, ON_MAIN, H_DECLINES, GOOD, 7, true, 1, true, true, 1}}, 1},
    {"bad tag: nothing moves",
     {{7, SEED_BAD, 1, ON_MAIN, H_DECLINES, BAD, MUX_CONF, false, 0, false, false, 0}}, 1},
    {"bad tag, then a good one of another mux: that one is adopted",
     {{7, SEED_BAD, 1, ON_MAIN, H_DECLINES, BAD, MUX_CONF, false, 0, false, false, 0},
      {9, SEED_GOOD, 1, ON_MAIN, H_DECLINES, GOOD, 9, true, 1, true, true, 1}}, 2},
    {"a second, different mux after the adoption: unknown",
     {{7, SEED_GOOD, 1, ON_MAIN, H_DECLINES, GOOD, 7, true, 1, true, true, 1},
      {9, SEED_GOOD, 2, ON_MAIN, H_DECLINES, {"rx_wrong_mux"}, 7, true, 1, false, true, 1}}, 2},
    {"the configured mux after another was adopted: unknown",
     {{7, SEED_GOOD, 1, ON_MAIN, H_DECLINES, GOOD, 7, true, 1, true, true, 1},
      {MUX_CONF, SEED_GOOD, 2, ON_MAIN, H_DECLINES, {"rx_wrong_mux"}, 7, true, 1, false, true,
       1}}, 2},
    {"the adopting datagram again: a replay in the adopted mux's window",
     {{7, SEED_GOOD, 5, ON_MAIN, H_DECLINES, GOOD, 7, true, 1, true, true, 1},
      {7, SEED_GOOD, 5, ON_MAIN, H_DECLINES, {"rx_replay"}, 7, true, 1, false, true, 1}}, 2},
    {"the reserved mux, its handler takes it: nothing moves",
     {{MUX_RESERVED, SEED_GOOD, 1, ON_MAIN, H_TAKES, {NULL}, MUX_CONF, false, 0, false, false,
       0}}, 1},
    {"the reserved mux, bad tag, its handler declines: nothing moves",
     {{MUX_RESERVED, SEED_BAD, 1, ON_MAIN, H_DECLINES, BAD, MUX_CONF, false, 0, false, false,
       0}}, 1},
    {"the reserved mux, good tag, its handler declines: adopted as any other",
     {{MUX_RESERVED, SEED_GOOD, 1, ON_MAIN, H_DECLINES, GOOD, MUX_RESERVED, true, 1, true, true,
       1}}, 1},
    {"on an AF_XDP worker: delivered, not adopted; then the main thread adopts",
     {{7, SEED_GOOD, 1, ON_XDP_WORKER, H_DECLINES, GOOD, MUX_CONF, false, 0, true, true, 1},
      {7, SEED_GOOD, 2, ON_MAIN, H_DECLINES, {"rx_delivered"}, 7, true, 1, true, true, 1}}, 2},
};
/* clang-format on */

static struct {
	unsigned int adopted, handler;
	enum handler says;
} seen;

static void on_adopt(void *ctx, const struct satpd_conn *c)
{
	(void)ctx, (void)c;
	seen.adopted++;
}

static bool on_reserved(void *ctx, struct satpd_worker *w, const uint8_t *buf, size_t len,
			const struct sockaddr_storage *src, socklen_t srclen, int sock)
{
	(void)ctx, (void)w, (void)buf, (void)len, (void)src, (void)srclen, (void)sock;
	seen.handler++;
	return seen.says == H_TAKES;
}

struct rig {
	struct satpd *d;
	struct satpd_conn *conn;
	struct satpd_worker xw; /* an AF_XDP worker's id, on the same device fd */
	int dev[2];		/* [0]: the workers' device fd; [1]: what they delivered */
	struct sockaddr_storage peer;
	socklen_t peerlen;
};

static void rig_up(struct rig *g)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&g->peer;
	struct satpd_conn_config c;
	char err[256] = "";

	memset(g, 0, sizeof(*g));
	memset(&seen, 0, sizeof(seen));
	in->sin_family = AF_INET;
	in->sin_port = htons(5000);
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g->peerlen = sizeof(*in);
	g->d = daemon_new(SATPD_DEV_TUN, 0);
	g->d->n_crypto_workers = 1; /* key sets get worker 0's crypto context */
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, g->dev), 0);
	assert_int_equal(fcntl(g->dev[1], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(satpd_worker_init(&g->d->sock_worker, g->d, SATPD_MAIN_WORKER, g->dev[0]),
			 0);
	assert_int_equal(satpd_worker_init(&g->xw, g->d, 0, g->dev[0]), 0);
	assert_int_equal(
	    satpd_conns_add_hooks(g->d, &(struct satpd_conn_hooks){.on_adopt = on_adopt}), 0);
	/* No -r: the mux is not fixed (conn_new), the connection is the table's adopter. */
	conn_config_of(&c, MUX_CONF);
	if (satpd_conns_add(g->d, &c, err, sizeof(err)))
		fail_msg("add: %s", err);
	g->conn = satpd_conns_get(g->d, MUX_CONF);
	assert_false(g->conn->mux_fixed);
	assert_ptr_equal(atomic_load(&g->d->conns->adopt), g->conn);
	satpd_set_mux_handler(g->d, MUX_RESERVED, false, on_reserved, NULL);
}

static void rig_down(struct rig *g)
{
	satpd_worker_free(&g->xw);
	satpd_worker_free(&g->d->sock_worker);
	close(g->dev[0]);
	close(g->dev[1]);
	daemon_free(g->d);
}

static size_t datagram_of(const struct adopt_pkt *p, uint8_t *buf, size_t cap)
{
	/* IPv4, 10.1.0.5 to 10.9.0.1: the only connection routes everything */
	static const uint8_t inner[20] = {0x45, 0, 0,  20, 0, 0, 0,  0, 64, 17,
					  0,	0, 10, 1,  0, 5, 10, 9, 0,  1};
	struct satp_crypto c;
	struct satp_keys k;
	int len;

	keys_of(&k, p->seed);
	k.role = SATP_ROLE_RIGHT;
	assert_int_equal(satp_crypto_init(&c, &k), 0);
	memcpy(buf + SATP_HDR_LEN + SATP_PTYPE_LEN, inner, sizeof(inner));
	len = satp_seal(&c, buf, cap, sizeof(inner), p->seq, 1, p->mux, SATP_PTYPE_IPV4);
	satp_crypto_free(&c);
	assert_true(len > 0);
	return (size_t)len;
}

static const char *const names[] = {
#define X(n) #n,
    SATPD_COUNTERS(X)
#undef X
};
/* check_counters reads the counters as the array they are, in SATPD_COUNTERS order. */
_Static_assert(offsetof(struct satpd_counters, ext) == ARRAY_SIZE(names) * sizeof(uint64_t),
	       "core counters");

static unsigned int check_counters(const char *row, const struct adopt_pkt *p,
				   const struct satpd_counters *before,
				   const struct satpd_counters *after)
{
	unsigned int i, bad = 0;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		bool moved = ((const uint64_t *)after)[i] != ((const uint64_t *)before)[i];
		bool want = (p->moves[0] && !strcmp(p->moves[0], names[i])) ||
			    (p->moves[1] && !strcmp(p->moves[1], names[i]));

		if (moved != want) {
			print_error("%s, mux %u: %s %s\n", row, p->mux, names[i],
				    moved ? "moved" : "did not move");
			bad++;
		}
	}
	return bad;
}

/* Where the connection is: its mux, the table's slots, the adopter, the observer's calls. */
static unsigned int check_place(struct rig *g, const char *row, const struct adopt_pkt *p)
{
	struct satpd_conns *t = g->d->conns;
	struct satpd_conn *want_adopter = p->fixed ? NULL : g->conn;
	unsigned int m = 0, n = 0;

	while (satpd_conns_next(g->d, &m))
		n++;
	if (g->conn->mux != p->conn_mux || g->conn->cfg.mux != p->conn_mux ||
	    satpd_conns_get(g->d, p->conn_mux) != g->conn || n != 1 ||
	    g->conn->mux_fixed != p->fixed || atomic_load(&t->adopt) != want_adopter ||
	    seen.adopted != p->adopted) {
		print_error("%s, mux %u: connection at mux %u (%u in the table), fixed %d, "
			    "adopter %s, on_adopt %u; want mux %u, fixed %d, on_adopt %u\n",
			    row, p->mux, g->conn->mux, n, g->conn->mux_fixed,
			    atomic_load(&t->adopt) ? "set" : "none", seen.adopted, p->conn_mux,
			    p->fixed, p->adopted);
		return 1;
	}
	return 0;
}

static unsigned int check_rest(struct rig *g, const char *row, const struct adopt_pkt *p)
{
	struct satpd_remote_view v;
	uint8_t got[SATPD_BUF_SIZE];
	bool delivered = read(g->dev[1], got, sizeof(got)) > 0;
	unsigned int slots = atomic_load(&g->d->windows.n);

	satpd_conn_read_remote(g->conn, &v);
	if (delivered != p->delivered || v.known != p->remote || slots != p->slots) {
		print_error("%s, mux %u: delivered %d, remote %d, %u window slots; want %d %d %u\n",
			    row, p->mux, delivered, v.known, slots, p->delivered, p->remote,
			    p->slots);
		return 1;
	}
	return 0;
}

static unsigned int run_row(const struct adopt_row *r)
{
	struct satpd_counters before;
	uint8_t buf[SATPD_BUF_SIZE];
	struct satpd_worker *w;
	unsigned int i, bad = 0, calls;
	struct rig g;
	size_t len;

	rig_up(&g);
	for (i = 0; i < r->n; i++) {
		const struct adopt_pkt *p = &r->pkts[i];

		w = p->where == ON_XDP_WORKER ? &g.xw : &g.d->sock_worker;
		len = datagram_of(p, buf, sizeof(buf));
		seen.says = p->handler;
		calls = seen.handler;
		before = w->ctr;
		satpd_rx_datagram(w, buf, len, &g.peer, g.peerlen, 0);
		bad += check_counters(r->name, p, &before, &w->ctr);
		bad += check_place(&g, r->name, p);
		bad += check_rest(&g, r->name, p);
		if ((seen.handler != calls) != (p->mux == MUX_RESERVED)) {
			print_error("%s: the reserved mux's handler called %u times\n", r->name,
				    seen.handler - calls);
			bad++;
		}
	}
	rig_down(&g);
	return bad;
}

static void test_mux_adopt(void **state)
{
	unsigned int bad = 0;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++)
		bad += run_row(&rows[i]);
	if (bad)
		fail_msg("%u checks wrong", bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mux_adopt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
