// SPDX-License-Identifier: GPL-2.0-only
/*
 * RAIL's path bookkeeping (user/satpd/rail.c) without XDP: two paths of -p
 * 4000-4001 -o 5000-5001 with remotes to learn, over two sockets of the
 * local ports. Each row is one authenticated copy: the socket it came on,
 * its source, and whether it won the replay commit; the row is fed as
 * compose.c's rx observer feeds it (satpd_rail_path_of, satpd_rail_seen,
 * satpd_rail_learn for a winner) and states the path it belongs to, every
 * path's counters as `satp show` reads them (satpd_rail_read) and remote
 * afterwards, and whether a path's remote seqlock moved. A copy that lost
 * the commit may be a replay from a spoofed source: it never moves a remote.
 * A second table sends batches through the tx hook (satpd_rail_send_batch)
 * with a fake transport.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "ctl_proto.h"
#include "datapath.h"
#include "rail.h"
#include "satpd_test_daemon.h"

#define PATHS 2
#define LPORT 4000
#define RPORT 5000

struct path_want {
	uint64_t rx, first, dups;
	const char *remote;
};

struct rail_row {
	const char *name;
	int sock; /* index into d->udp: local port LPORT + sock */
	const char *src;
	uint16_t sport;
	bool first;
	int path; /* satpd_rail_path_of; -1: none */
	struct path_want want[PATHS];
};

/* clang-format off */
static const struct rail_row rail_rows[] = {
    {"a winner on socket 0: path 0 learns it", 0, "192.0.2.1", 5000, true, 0,
     {{1, 1, 0, "192.0.2.1:5000"}, {0, 0, 0, ""}}},
    {"its copy again: a duplicate", 0, "192.0.2.1", 5000, false, 0,
     {{2, 1, 1, "192.0.2.1:5000"}, {0, 0, 0, ""}}},
    {"a loser on socket 1: counted, nothing learned", 1, "192.0.2.2", 5001, false, 1,
     {{2, 1, 1, "192.0.2.1:5000"}, {1, 0, 1, ""}}},
    {"a winner on socket 1: path 1 learns it", 1, "192.0.2.2", 5001, true, 1,
     {{2, 1, 1, "192.0.2.1:5000"}, {2, 1, 1, "192.0.2.2:5001"}}},
    {"path 1's peer moved: the local port names the path", 1, "198.51.100.9", 6000, true, 1,
     {{2, 1, 1, "192.0.2.1:5000"}, {3, 2, 1, "198.51.100.9:6000"}}},
    {"a loser from path 1's remote on socket 0: path 0, no move", 0, "198.51.100.9", 6000, false,
     0, {{3, 1, 2, "192.0.2.1:5000"}, {3, 2, 1, "198.51.100.9:6000"}}},
    {"a winner from path 0's remote on socket 0: no move", 0, "192.0.2.1", 5000, true, 0,
     {{4, 2, 2, "192.0.2.1:5000"}, {3, 2, 1, "198.51.100.9:6000"}}},
    {"no socket: no path", -1, "192.0.2.1", 5000, true, -1,
     {{4, 2, 2, "192.0.2.1:5000"}, {3, 2, 1, "198.51.100.9:6000"}}},
    {"a socket index past the sockets: no path", 7, "192.0.2.1", 5000, true, -1,
     {{4, 2, 2, "192.0.2.1:5000"}, {3, 2, 1, "198.51.100.9:6000"}}},
};
/* clang-format on */

static void addr_of(struct sockaddr_storage *ss, const char *host, uint16_t port)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, host, &in->sin_addr), 1);
}

/* The paths of the daemon rail_daemon() made last. */
static struct satpd_rail *rail;

static struct satpd *rail_daemon(void)
{
	struct satpd *d = daemon_new(SATPD_DEV_TUN, 0);
	unsigned int i;

	fx.cfg->rail = true;
	fx.cfg->local.port_lo = LPORT;
	fx.cfg->local.port_hi = LPORT + PATHS - 1;
	fx.cfg->n_conns = 1;
	fx.cfg->conns[0].remote.port_lo = RPORT;
	fx.cfg->conns[0].remote.port_hi = RPORT + PATHS - 1;
	d->udp.n = PATHS; /* never read or written here: only their ports */
	for (i = 0; i < PATHS; i++) {
		d->udp.fds[i] = -1;
		d->udp.family[i] = AF_INET;
		d->udp.port[i] = (uint16_t)(LPORT + i);
	}
	assert_int_equal(satpd_rail_init(d, &rail), 0);
	assert_int_equal(rail->n, PATHS);
	return d;
}

/* What compose.c's rail_committed does with a copy. */
static int feed(const struct rail_row *r)
{
	struct sockaddr_storage src;
	int path;

	addr_of(&src, r->src, r->sport);
	path = satpd_rail_path_of(rail, r->sock, &src);
	satpd_rail_seen(rail, path, r->first);
	if (r->first)
		satpd_rail_learn(rail, path, &src, sizeof(struct sockaddr_in), r->sock);
	return path;
}

static unsigned int check_path(const struct rail_row *r, unsigned int i, uint32_t gen_before,
			       const char *remote_before)
{
	const struct path_want *want = &r->want[i];
	struct satp_ctl_path got;
	struct satpd_peer_addr a;
	unsigned int bad = 0;
	uint32_t gen;
	int sock;

	satpd_rail_read(rail, i, &got);
	gen = satpd_rail_remote(rail, i, &a, &sock);
	if (got.rx != want->rx || got.first != want->first || got.dups != want->dups ||
	    strcmp(got.remote, want->remote)) {
		print_error("%s: path %u rx %" PRIu64 " first %" PRIu64 " dups %" PRIu64
			    " remote '%s'; want %" PRIu64 " %" PRIu64 " %" PRIu64 " '%s'\n",
			    r->name, i, got.rx, got.first, got.dups, got.remote, want->rx,
			    want->first, want->dups, want->remote);
		bad++;
	}
	if (got.local_port != LPORT + i) {
		print_error("%s: path %u local port %u\n", r->name, i, got.local_port);
		bad++;
	}
	/* the seqlock is even at rest, and moves exactly when the remote does */
	if ((gen & 1) || (gen != gen_before) != (strcmp(remote_before, want->remote) != 0)) {
		print_error("%s: path %u seqlock %u -> %u\n", r->name, i, gen_before, gen);
		bad++;
	}
	if (want->remote[0] && sock != (int)i) {
		print_error("%s: path %u learned on socket %d\n", r->name, i, sock);
		bad++;
	}
	if (got.last_seen == 0 && want->rx) {
		print_error("%s: path %u never seen\n", r->name, i);
		bad++;
	}
	return bad;
}

static void test_rail_table(void **state)
{
	struct satpd *d = rail_daemon();
	char remote[PATHS][SATP_CTL_ADDR_MAX];
	struct satpd_peer_addr a;
	uint32_t gen[PATHS];
	unsigned int bad = 0, i;
	size_t n;
	int sock, path;

	(void)state;
	for (n = 0; n < ARRAY_SIZE(rail_rows); n++) {
		const struct rail_row *r = &rail_rows[n];

		for (i = 0; i < PATHS; i++) {
			gen[i] = satpd_rail_remote(rail, i, &a, &sock);
			satpd_rail_remote_str(rail, i, remote[i], sizeof(remote[i]));
		}
		path = feed(r);
		if (path != r->path) {
			print_error("%s: path %d, want %d\n", r->name, path, r->path);
			bad++;
		}
		for (i = 0; i < PATHS; i++)
			bad += check_path(r, i, gen[i], remote[i]);
	}
	satpd_rail_free(rail);
	daemon_free(d);
	if (bad)
		fail_msg("%u checks wrong", bad);
}

/*
 * The path remote's seqlock under a writer: a reader never sees one remote's
 * address with the other's port or socket. Bounded: LEARNS moves, each read
 * back by the main thread as it goes.
 */
#define LEARNS 20000

struct flip {
	struct satpd *d;
	struct satpd_rail *rail;
	struct sockaddr_storage src[2];
};

static void *flipper(void *arg)
{
	struct flip *f = arg;
	unsigned int i;

	for (i = 0; i < LEARNS; i++)
		satpd_rail_learn(f->rail, 0, &f->src[i & 1], sizeof(struct sockaddr_in),
				 (int)(i & 1));
	return NULL;
}

static void test_rail_remote_seqlock(void **state)
{
	struct flip f = {.d = rail_daemon()};
	struct satpd_peer_addr a;
	unsigned int torn = 0, reads = 0;
	pthread_t t;
	int sock;

	(void)state;
	f.rail = rail;
	addr_of(&f.src[0], "192.0.2.1", 1111);
	addr_of(&f.src[1], "198.51.100.2", 2222);
	assert_int_equal(pthread_create(&t, NULL, flipper, &f), 0);
	do
		satpd_rail_remote(f.rail, 0, &a, &sock);
	while (sock < 0);
	do {
		uint32_t gen = satpd_rail_remote(f.rail, 0, &a, &sock);

		if (gen & 1 || sock < 0 || sock > 1 || !satpd_same_addr(&a.sa, &f.src[sock]))
			torn++;
		reads++;
	} while (pthread_tryjoin_np(t, NULL) == EBUSY);
	satpd_rail_free(f.rail);
	daemon_free(f.d);
	if (torn)
		fail_msg("%u of %u reads torn", torn, reads);
}

/*
 * RAIL's tx hook through the transport it is given (core.h): every path with
 * a known remote gets one send_to per batch, as destination i with the remote
 * it has now; what the transport reports sent is the path's tx; the batch is
 * consumed. The fake transport records its calls.
 */
#define BATCH 4

struct send_call {
	unsigned int index, live; /* live: packets of len != 0 it was handed */
	int sock;
	uint32_t gen;
	char addr[SATP_CTL_ADDR_MAX];
};

static struct {
	struct send_call call[PATHS + 1];
	unsigned int n;
	unsigned int sent; /* what each call reports */
} tr;

static unsigned int fake_send_to(void *ctx, struct satpd_worker *w, const struct satpd_tx_dest *dst,
				 struct satpd_pkt *pkts, unsigned int n)
{
	struct send_call *c = &tr.call[tr.n < PATHS ? tr.n : PATHS];
	unsigned int i;

	(void)ctx;
	(void)w;
	c->index = dst->index;
	c->sock = dst->sock;
	c->gen = dst->gen;
	satpd_addr_str(&dst->addr.sa, c->addr, sizeof(c->addr));
	for (c->live = 0, i = 0; i < n; i++)
		c->live += pkts[i].len != 0;
	tr.n++;
	return tr.sent;
}

struct send_row {
	const char *name;
	bool learned[PATHS]; /* path i learned a remote (on socket i) before the batch */
	unsigned int sent;
	unsigned int calls; /* one per learned path, in path order */
	uint64_t tx[PATHS];
};

/* clang-format off */
static const struct send_row send_rows[] = {
    {"no path knows its remote: nothing sent", {false, false}, 3, 0, {0, 0}},
    {"path 1 learned: one call, its tx", {false, true}, 3, 1, {0, 3}},
    {"both learned: a call each, in path order", {true, true}, 2, 2, {2, 2}},
    {"the transport sent none: tx stays", {true, false}, 0, 1, {0, 0}},
};
/* clang-format on */

/* Call k of the fake transport was path i's, with the remote the path has. */
static unsigned int check_call(const struct send_row *r, unsigned int k, unsigned int i)
{
	const struct send_call *c = &tr.call[k];
	char remote[SATP_CTL_ADDR_MAX];
	struct satpd_peer_addr a;
	uint32_t gen;
	int sock;

	gen = satpd_rail_remote(rail, i, &a, &sock);
	satpd_rail_remote_str(rail, i, remote, sizeof(remote));
	if (c->index == i && c->sock == (int)i && c->gen == gen && !strcmp(c->addr, remote) &&
	    c->live == BATCH - 1)
		return 0;
	print_error("%s: call %u: dest %u sock %d gen %u '%s' live %u; want %u %u %u '%s' %u\n",
		    r->name, k, c->index, c->sock, c->gen, c->addr, c->live, i, i, gen, remote,
		    BATCH - 1);
	return 1;
}

static unsigned int check_send(const struct send_row *r, struct satpd_pkt *pkts)
{
	const struct satpd_transport t = {.send_to = fake_send_to};
	struct satpd *d = rail_daemon();
	struct sockaddr_storage src;
	struct satp_ctl_path got;
	unsigned int bad = 0, i, k = 0;

	for (i = 0; i < PATHS; i++) {
		if (!r->learned[i])
			continue;
		addr_of(&src, i ? "198.51.100.9" : "192.0.2.1", (uint16_t)(RPORT + i));
		satpd_rail_learn(rail, (int)i, &src, sizeof(struct sockaddr_in), (int)i);
	}
	memset(&tr, 0, sizeof(tr));
	tr.sent = r->sent;
	for (i = 0; i < BATCH; i++)
		pkts[i].len = i == 1 ? 0 : 20 + i; /* one already consumed: 3 live */
	satpd_rail_send_batch(rail, &d->sock_worker, &t, pkts, BATCH);
	if (tr.n != r->calls) {
		print_error("%s: %u send_to calls, want %u\n", r->name, tr.n, r->calls);
		bad++;
	}
	for (i = 0; i < PATHS; i++) {
		if (r->learned[i] && k < tr.n)
			bad += check_call(r, k++, i);
		satpd_rail_read(rail, i, &got);
		if (got.tx != r->tx[i]) {
			print_error("%s: path %u tx %" PRIu64 ", want %" PRIu64 "\n", r->name, i,
				    got.tx, r->tx[i]);
			bad++;
		}
	}
	for (i = 0; i < BATCH; i++)
		if (pkts[i].len) {
			print_error("%s: packet %u left unsent (len %zu)\n", r->name, i,
				    pkts[i].len);
			bad++;
		}
	satpd_rail_free(rail);
	daemon_free(d);
	return bad;
}

static void test_rail_send_table(void **state)
{
	struct satpd_pkt *pkts = calloc(BATCH, sizeof(*pkts));
	unsigned int bad = 0;
	size_t n;

	(void)state;
	assert_non_null(pkts);
	for (n = 0; n < ARRAY_SIZE(send_rows); n++)
		bad += check_send(&send_rows[n], pkts);
	free(pkts);
	if (bad)
		fail_msg("%u checks wrong", bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rail_table),
	    cmocka_unit_test(test_rail_send_table),
	    cmocka_unit_test(test_rail_remote_seqlock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
