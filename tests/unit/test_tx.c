// SPDX-License-Identifier: GPL-2.0-only
/*
 * The tx pipeline (user/satpd/datapath.c satpd_tx_seal_batch), entered as
 * the socket path enters it: satpd_dev_receive reads the device, seals the
 * batch and sends it by sendmmsg. The device fd is one end of a datagram
 * socketpair (the test writes device packets into the other end); the
 * daemon's UDP socket and every peer's are real sockets on 127.0.0.1, so a
 * sealed datagram is read back where its connection's remote is and opened
 * again with the library's satp_open under the peer's role and keys.
 *
 * Each row writes a batch of device packets and names the counters that move
 * (exactly those: SATPD_COUNTERS and the features' by name) and every
 * datagram a peer gets, in order: which peer, its mux, sender id and seq,
 * and which device packet it carries (payload type and bytes compared).
 * Nothing else may arrive anywhere. The rows run in order: seqs, key sets and
 * the halted sender carry from one row to the next.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <unistd.h>

#include "datapath.h"
#include "satpd_test_daemon.h"

#define MUX_STATIC   1 /* static keys of seed 1, sender 1, routes 10.1.0.0/16, peer 0 */
#define MUX_SESSION  2 /* a kx session (set-session), sender 2, 10.2/16 and fd00:2::/32, peer 1 */
#define MUX_MANAGED  3 /* keys_managed (a handshake's), sender 3, 10.3.0.0/16, peer 2 */
#define MUX_NOREMOTE 4 /* static keys, 10.4.0.0/16, no remote learned yet */
#define MUX_NOSOCK   5 /* static keys, 10.5.0.0/16, a remote no socket has the family of */
#define SEED_S_TX    0x21 /* MUX_SESSION's session: our tx keys (the peer's rx) */
#define SEED_S_RX    0x22
#define SEED_H_TX    0x31 /* MUX_MANAGED's session, as the handshake installs it */
#define SEED_H_RX    0x32
#define H_SEQ_LAST   1 /* the handshake's session may seal seqs 0 and 1 */
#define PEERS	     3
#define PKTS_MAX     4
#define OUT_MAX	     4
#define MOVES_MAX    4
#define NONE	     (-1)

/* What the row does before its batch. */
enum step {
	STEP_NONE,
	STEP_HS_SESSION, /* MUX_MANAGED gets a session with seq_last H_SEQ_LAST */
	STEP_HALT_1,	 /* tx_halted_sender: sender 1 (an anycast twin sends with it) */
	STEP_HALT_2,	 /* sender 2, whose keys are a session's */
	STEP_UNHALT,
	STEP_SEQ_LAST,	  /* MUX_STATIC's next seq is SATPD_SEQ_LAST */
	STEP_DEL_SESSION, /* del-session on MUX_SESSION */
	STEP_LEARN_MAC,	  /* tap: MAC_KNOWN lives behind mux 2 */
};

/* A device packet: tun, IPv4 or IPv6 to net, or no IP; tap, a frame to a MAC. */
enum kind {
	K_V4,	   /* IPv4 to 10.<net>.9.1 */
	K_V6,	   /* IPv6 to fd00:<net>::1 */
	K_NOT_IP,  /* version nibble 5 */
	K_EMPTY,   /* a read of 0 bytes */
	K_BCAST,   /* tap: to ff:ff:ff:ff:ff:ff */
	K_UNKNOWN, /* tap: to a unicast MAC no connection has */
	K_KNOWN,   /* tap: to MAC_KNOWN */
};

struct tx_pkt {
	enum kind kind;
	uint8_t net;
};

/* A datagram a peer gets: from the daemon's socket, header as named, carrying device packet pkt. */
struct tx_out {
	int peer;
	uint16_t mux, sender;
	uint32_t seq;
	unsigned int pkt;
};

enum flag {
	F_NONE = 0,
	F_KEYS_WANTED = 1, /* MUX_MANAGED's keys_wanted set by this row */
	F_TX_SEEN = 2,	   /* MUX_MANAGED's tx_seen set by this row */
};

struct tx_row {
	const char *name;
	enum step step;
	struct tx_pkt pkts[PKTS_MAX];
	unsigned int n_pkts;
	struct tx_out out[OUT_MAX];
	unsigned int n_out;
	const char *moves[MOVES_MAX];
	unsigned int flags;
};

/* clang-format off */
#define SENT {"tx_packets", "tx_bytes"}

static const struct tx_row tun_rows[] = {
    {"static keys: seqs from the state file's start, in order", STEP_NONE,
     {{K_V4, 1}, {K_V4, 1}, {K_V4, 1}}, 3,
     {{0, MUX_STATIC, 1, 0, 0}, {0, MUX_STATIC, 1, 1, 1}, {0, MUX_STATIC, 1, 2, 2}}, 3,
     SENT, F_NONE},
    {"the next batch continues the seqs", STEP_NONE, {{K_V4, 1}}, 1,
     {{0, MUX_STATIC, 1, 3, 0}}, 1, SENT, F_NONE},
    {"a session's keys: its own seqs from 0", STEP_NONE, {{K_V4, 2}, {K_V4, 2}}, 2,
     {{1, MUX_SESSION, 2, 0, 0}, {1, MUX_SESSION, 2, 1, 1}}, 2, SENT, F_NONE},
    {"IPv6 by its route", STEP_NONE, {{K_V6, 2}}, 1,
     {{1, MUX_SESSION, 2, 2, 0}}, 1, SENT, F_NONE},
    {"one batch, two connections, a drop between", STEP_NONE,
     {{K_V4, 2}, {K_V4, 9}, {K_V4, 1}}, 3,
     {{1, MUX_SESSION, 2, 3, 0}, {0, MUX_STATIC, 1, 4, 2}}, 2,
     {"tx_packets", "tx_bytes", "tx_no_route"}, F_NONE},
    {"no route for the destination", STEP_NONE, {{K_V4, 9}}, 1, {{0}}, 0,
     {"tx_no_route"}, F_NONE},
    {"neither IPv4 nor IPv6", STEP_NONE, {{K_NOT_IP, 1}}, 1, {{0}}, 0,
     {"tx_bad_inner"}, F_NONE},
    {"an empty read", STEP_NONE, {{K_EMPTY, 1}}, 1, {{0}}, 0, {"tx_bad_inner"}, F_NONE},
    {"no remote learned yet", STEP_NONE, {{K_V4, 4}}, 1, {{0}}, 0, {"tx_no_remote"}, F_NONE},
    {"a remote of a family no socket has", STEP_NONE, {{K_V4, 5}}, 1, {{0}}, 0,
     {"tx_send_error"}, F_NONE},
    {"managed keys, no session yet: keys wanted", STEP_NONE, {{K_V4, 3}}, 1, {{0}}, 0,
     {"tx_no_keys"}, F_KEYS_WANTED},
    {"the handshake's session: seqs from 0 to its seq_last", STEP_HS_SESSION,
     {{K_V4, 3}, {K_V4, 3}}, 2,
     {{2, MUX_MANAGED, 3, 0, 0}, {2, MUX_MANAGED, 3, 1, 1}}, 2, SENT, F_TX_SEEN},
    {"past the session's seq_last", STEP_NONE, {{K_V4, 3}}, 1, {{0}}, 0,
     {"tx_seq_exhausted"}, F_NONE},
    {"sender 1 halted: its static keys send nothing", STEP_HALT_1, {{K_V4, 1}}, 1, {{0}}, 0,
     {"tx_halted"}, F_NONE},
    {"sender 2 halted: a session's keys still send", STEP_HALT_2, {{K_V4, 2}}, 1,
     {{1, MUX_SESSION, 2, 4, 0}}, 1, SENT, F_NONE},
    {"halt over: the halted packets took no seq", STEP_UNHALT, {{K_V4, 1}}, 1,
     {{0, MUX_STATIC, 1, 5, 0}}, 1, SENT, F_NONE},
    {"the key's last seq is sent", STEP_SEQ_LAST, {{K_V4, 1}}, 1,
     {{0, MUX_STATIC, 1, SATPD_SEQ_LAST, 0}}, 1, SENT, F_NONE},
    {"then none is left: nothing wraps", STEP_NONE, {{K_V4, 1}}, 1, {{0}}, 0,
     {"tx_seq_exhausted"}, F_NONE},
    {"del-session: nothing is sent", STEP_DEL_SESSION, {{K_V4, 2}}, 1, {{0}}, 0,
     {"tx_no_keys"}, F_NONE},
};

/*
 * A tap with three connections (1 and 2 with remotes and static keys, 4 with
 * no remote): a frame to a MAC no connection holds, or a broadcast, goes to
 * each by the socket.
 */
static const struct tx_row tap_rows[] = {
    {"tap: a broadcast: a copy to each connection, none without a remote", STEP_NONE,
     {{K_BCAST, 0}}, 1,
     {{0, MUX_STATIC, 1, 0, 0}, {1, MUX_SESSION, 2, 0, 0}}, 2,
     {"tx_packets", "tx_bytes", "tx_flooded", "tx_no_remote"}, F_NONE},
    {"tap: an unknown MAC: flooded too, the seqs go on", STEP_NONE, {{K_UNKNOWN, 0}}, 1,
     {{0, MUX_STATIC, 1, 1, 0}, {1, MUX_SESSION, 2, 1, 0}}, 2,
     {"tx_packets", "tx_bytes", "tx_flooded", "tx_no_remote"}, F_NONE},
    {"tap: a MAC learned behind mux 2: only there", STEP_LEARN_MAC, {{K_KNOWN, 0}}, 1,
     {{1, MUX_SESSION, 2, 2, 0}}, 1, SENT, F_NONE},
    {"tap: an empty read", STEP_NONE, {{K_EMPTY, 0}}, 1, {{0}}, 0, {"tx_bad_inner"}, F_NONE},
};
/* clang-format on */

static const uint8_t MAC_KNOWN[6] = {0x02, 0, 0, 0, 0, 0x42};

/* Where a halted sender's packets count: as the edge exchange registers its set. */
static const char *const halt_names[] = {"tx_halted"};
static const struct satpd_counter_set halt_set = {halt_names, 1};

struct rig {
	struct satpd *d;
	enum satpd_dev_type type;
	int dev[2]; /* [0]: the worker's device fd; [1]: where the test writes */
	int peer[PEERS];
	struct sockaddr_in peer_addr[PEERS], local;
};

/* The device packet of row r's packet i: headers as its kind, then a marker of row and index. */
static size_t pkt_of(const struct tx_pkt *p, unsigned int row, unsigned int i, uint8_t *b)
{
	memset(b, 0, 80);
	switch (p->kind) {
	case K_EMPTY:
		return 0;
	case K_V4:
	case K_NOT_IP:
		b[0] = p->kind == K_V4 ? 0x45 : 0x55;
		b[3] = 60;
		b[8] = 64;
		b[9] = 17;
		b[12] = 10, b[13] = p->net, b[15] = 5;
		b[16] = 10, b[17] = p->net, b[18] = 9, b[19] = 1;
		break;
	case K_V6:
		b[0] = 0x60;
		b[5] = 40;
		b[6] = 17;
		b[7] = 64;
		b[24] = 0xfd, b[27] = p->net, b[39] = 1;
		break;
	case K_BCAST:
	case K_UNKNOWN:
	case K_KNOWN:
		if (p->kind == K_BCAST)
			memset(b, 0xff, 6);
		else if (p->kind == K_KNOWN)
			memcpy(b, MAC_KNOWN, 6);
		else
			b[0] = 0x02, b[5] = 0x99;
		b[6] = 0x02, b[11] = 0x01;
		b[12] = 0x08;
		break;
	}
	b[60] = (uint8_t)row;
	b[61] = (uint8_t)i;
	return 80;
}

static uint16_t ptype_of(enum kind k)
{
	if (k == K_V4)
		return SATP_PTYPE_IPV4;
	if (k == K_V6)
		return SATP_PTYPE_IPV6;
	return SATP_PTYPE_ETHER;
}

/* The peer's view of mux's keys now: it opens what we seal (the opposite role). */
static void peer_crypto(struct rig *g, uint16_t mux, struct satp_crypto *c)
{
	struct satp_keys tx, rx;

	if (g->type == SATPD_DEV_TUN && (mux == MUX_SESSION || mux == MUX_MANAGED)) {
		keys_of(&rx, mux == MUX_SESSION ? SEED_S_TX : SEED_H_TX);
		keys_of(&tx, mux == MUX_SESSION ? SEED_S_RX : SEED_H_RX);
		tx.role = rx.role = SATP_ROLE_RIGHT;
		assert_int_equal(satp_crypto_init_split(c, &tx, &rx), 0);
		return;
	}
	keys_of(&tx, (uint8_t)mux);
	tx.role = SATP_ROLE_RIGHT;
	assert_int_equal(satp_crypto_init(c, &tx), 0);
}

/* Connection mux with sender id mux, routed by prefixes (NULL: none), remote at peer (NONE: none). */
static void add_tx_conn(struct rig *g, uint16_t mux, const char *const prefixes[2], int peer,
			int sock)
{
	struct satpd_conn_config c;
	struct satpd_peer_addr a;
	struct satpd_prefix p;
	char err[256] = "";
	unsigned int i;

	conn_config_of(&c, mux);
	c.sender_id = mux;
	c.handshake = mux == MUX_MANAGED && g->type == SATPD_DEV_TUN;
	if (satpd_conns_add(g->d, &c, err, sizeof(err)))
		fail_msg("add mux %u: %s", mux, err);
	satpd_conns_get(g->d, mux)->mux_fixed = true; /* as with -r */
	for (i = 0; prefixes && i < 2 && prefixes[i]; i++) {
		assert_int_equal(satpd_parse_prefix(prefixes[i], &p, err, sizeof(err)), 0);
		assert_int_equal(satpd_conns_add_route(g->d, p.family, (const uint8_t *)&p.addr,
						       p.len, mux, err, sizeof(err)),
				 0);
	}
	if (peer == NONE)
		return;
	memset(&a, 0, sizeof(a));
	memcpy(&a.sa, &g->peer_addr[peer], sizeof(g->peer_addr[peer]));
	a.len = sizeof(g->peer_addr[peer]);
	satpd_conn_set_remote(g->d, satpd_conns_get(g->d, mux), &a, sock);
}

static void set_session(struct rig *g, uint16_t mux, uint8_t seed_tx, uint8_t seed_rx)
{
	struct satp_keys tx, rx;
	char err[256] = "";

	keys_of(&tx, seed_tx);
	keys_of(&rx, seed_rx);
	if (satpd_conns_set_session(g->d, satpd_conns_get(g->d, mux), &tx, &rx, seed_tx, 0, err,
				    sizeof(err)))
		fail_msg("set-session mux %u: %s", mux, err);
}

static void rig_up(struct rig *g, enum satpd_dev_type type)
{
	static const char *const r1[2] = {"10.1.0.0/16"}, *const r2[2] = {"10.2.0.0/16",
									  "fd00:2::/32"};
	static const char *const r3[2] = {"10.3.0.0/16"}, *const r4[2] = {"10.4.0.0/16"};
	static const char *const r5[2] = {"10.5.0.0/16"};
	struct satpd_peer_addr v6 = {0};
	unsigned int i;

	memset(g, 0, sizeof(*g));
	g->type = type;
	g->d = daemon_new(type, 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, g->dev), 0);
	assert_int_equal(fcntl(g->dev[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(satpd_worker_init(&g->d->sock_worker, g->d, SATPD_MAIN_WORKER, g->dev[0]),
			 0);
	g->d->udp.n = 1;
	g->d->udp.fds[0] = udp_on_loopback(&g->local);
	g->d->udp.family[0] = AF_INET;
	g->d->udp.port[0] = ntohs(g->local.sin_port);
	for (i = 0; i < PEERS; i++)
		g->peer[i] = udp_on_loopback(&g->peer_addr[i]);
	assert_int_equal(satpd_add_counters(g->d, &halt_set), 0);
	satpd_set_tx_halt_counter(g->d, &halt_set, 0);
	add_tx_conn(g, MUX_STATIC, type == SATPD_DEV_TUN ? r1 : NULL, 0, 0);
	add_tx_conn(g, MUX_SESSION, type == SATPD_DEV_TUN ? r2 : NULL, 1, 0);
	add_tx_conn(g, MUX_NOREMOTE, type == SATPD_DEV_TUN ? r4 : NULL, NONE, 0);
	if (type == SATPD_DEV_TAP)
		return;
	set_session(g, MUX_SESSION, SEED_S_TX, SEED_S_RX);
	add_tx_conn(g, MUX_MANAGED, r3, 2, 0);
	satpd_conns_get(g->d, MUX_MANAGED)->keys_managed = true;
	add_tx_conn(g, MUX_NOSOCK, r5, NONE, 0);
	v6.sa.ss_family = AF_INET6;
	v6.len = sizeof(struct sockaddr_in6);
	satpd_conn_set_remote(g->d, satpd_conns_get(g->d, MUX_NOSOCK), &v6, -1);
}

static void rig_down(struct rig *g)
{
	unsigned int i;

	satpd_worker_free(&g->d->sock_worker);
	close(g->dev[0]);
	close(g->dev[1]);
	close(g->d->udp.fds[0]);
	for (i = 0; i < PEERS; i++)
		close(g->peer[i]);
	daemon_free(g->d);
}

/* MUX_MANAGED's session, as the handshake installs one (main thread): seqs up to seq_last. */
static void hs_session(struct rig *g)
{
	struct satpd_conn *c = satpd_conns_get(g->d, MUX_MANAGED);
	struct satp_keys tx, rx;
	struct satpd_keyset *k;

	keys_of(&tx, SEED_H_TX);
	keys_of(&rx, SEED_H_RX);
	k = satpd_keyset_new_session(g->d, &tx, &rx, 1, c->cfg.window, MUX_MANAGED);
	assert_non_null(k);
	k->seq_last = H_SEQ_LAST;
	satpd_conn_keys_write_begin(c);
	atomic_store(&c->keys, k);
	satpd_conn_keys_write_end(c);
}

static void step(struct rig *g, enum step s)
{
	switch (s) {
	case STEP_NONE:
		break;
	case STEP_HS_SESSION:
		hs_session(g);
		break;
	case STEP_HALT_1:
	case STEP_HALT_2:
		atomic_store(&g->d->tx_halted_sender, (s == STEP_HALT_1 ? 1u : 2u) + 1);
		break;
	case STEP_UNHALT:
		atomic_store(&g->d->tx_halted_sender, 0);
		break;
	case STEP_SEQ_LAST:
		atomic_store(&satpd_conns_get(g->d, MUX_STATIC)->seq->next, SATPD_SEQ_LAST);
		break;
	case STEP_DEL_SESSION:
		assert_int_equal(satpd_conns_del_session(g->d, satpd_conns_get(g->d, MUX_SESSION)),
				 0);
		break;
	case STEP_LEARN_MAC: {
		uint8_t f[14] = {0};

		memcpy(f + 6, MAC_KNOWN, 6);
		assert_true(satpd_conns_learn_mac(g->d, f, sizeof(f), MUX_SESSION));
		break;
	}
	}
}

static const char *const core_names[] = {
#define X(n) #n,
    SATPD_COUNTERS(X)
#undef X
};
#define N_CORE ARRAY_SIZE(core_names)
/* counter() reads the core's counters as the array they are, in SATPD_COUNTERS order. */
_Static_assert(offsetof(struct satpd_counters, ext) == N_CORE * sizeof(uint64_t), "core counters");

/* The core's counters by name, then the features' (ext[], as registered). */
static unsigned int n_counters(const struct satpd *d)
{
	return (unsigned int)N_CORE + d->counter_sets.n;
}

static const char *counter_name(const struct satpd *d, unsigned int i)
{
	return i < N_CORE ? core_names[i] : d->counter_sets.name[i - N_CORE];
}

static uint64_t counter(const struct satpd_counters *c, unsigned int i)
{
	return i < N_CORE ? ((const uint64_t *)c)[i] : c->ext[i - N_CORE];
}

static bool named(const char *const moves[MOVES_MAX], const char *name)
{
	unsigned int i;

	for (i = 0; i < MOVES_MAX; i++)
		if (moves[i] && !strcmp(moves[i], name))
			return true;
	return false;
}

static unsigned int check_counters(const struct satpd *d, const struct tx_row *r,
				   const struct satpd_counters *before,
				   const struct satpd_counters *after)
{
	unsigned int i, bad = 0, named_found = 0;

	for (i = 0; i < n_counters(d); i++) {
		bool moved = counter(after, i) != counter(before, i);
		bool want = named(r->moves, counter_name(d, i));

		named_found += want;
		if (moved != want) {
			print_error("%s: %s %s\n", r->name, counter_name(d, i),
				    moved ? "moved" : "did not move");
			bad++;
		}
	}
	for (i = 0; i < MOVES_MAX; i++)
		named_found -= r->moves[i] != NULL;
	if (named_found) {
		print_error("%s: a counter it names does not exist\n", r->name);
		bad++;
	}
	if (after->tx_packets - before->tx_packets != r->n_out) {
		print_error("%s: tx_packets moved by %" PRIu64 ", want %u\n", r->name,
			    after->tx_packets - before->tx_packets, r->n_out);
		bad++;
	}
	return bad;
}

/* The next datagram on peer o->peer: from our socket, opens under the mux's keys as o says. */
static unsigned int check_out(struct rig *g, const struct tx_row *r, unsigned int row,
			      const struct tx_out *o)
{
	uint8_t buf[SATPD_BUF_SIZE], want[80];
	struct sockaddr_in from;
	socklen_t fromlen = sizeof(from);
	struct satp_crypto c;
	struct satp_header h;
	struct satp_plain p;
	size_t want_len = pkt_of(&r->pkts[o->pkt], row, o->pkt, want);
	struct pollfd pfd = {.fd = g->peer[o->peer], .events = POLLIN};
	ssize_t n = -1;
	int v;

	/* Loopback queues a datagram as it is sent here; a second where it does not. */
	if (poll(&pfd, 1, 1000) == 1)
		n = recvfrom(g->peer[o->peer], buf, sizeof(buf), 0, (struct sockaddr *)&from,
			     &fromlen);
	if (n < 0) {
		print_error("%s: peer %d got nothing, want seq %u\n", r->name, o->peer, o->seq);
		return 1;
	}
	if (from.sin_port != g->local.sin_port ||
	    from.sin_addr.s_addr != g->local.sin_addr.s_addr) {
		print_error("%s: peer %d got a datagram from another socket\n", r->name, o->peer);
		return 1;
	}
	peer_crypto(g, o->mux, &c);
	v = satp_open(&c, buf, (size_t)n, &h, &p);
	satp_crypto_free(&c);
	if (v != SATP_OK) {
		print_error("%s: peer %d cannot open the datagram: %s\n", r->name, o->peer,
			    satp_verdict_name((enum satp_verdict)v));
		return 1;
	}
	if (h.mux != o->mux || h.sender_id != o->sender || h.seq != o->seq ||
	    p.ptype != ptype_of(r->pkts[o->pkt].kind) || p.inner_len != want_len ||
	    memcmp(p.inner, want, want_len)) {
		print_error("%s: peer %d got mux %u sender %u seq %u ptype %#x, %zu bytes; want "
			    "mux %u sender %u seq %u, packet %u\n",
			    r->name, o->peer, h.mux, h.sender_id, h.seq, p.ptype, p.inner_len,
			    o->mux, o->sender, o->seq, o->pkt);
		return 1;
	}
	return 0;
}

static unsigned int check_peers_empty(struct rig *g, const struct tx_row *r)
{
	uint8_t buf[SATPD_BUF_SIZE];
	unsigned int i, bad = 0;

	for (i = 0; i < PEERS; i++)
		while (recv(g->peer[i], buf, sizeof(buf), 0) >= 0) {
			print_error("%s: peer %u got a datagram more\n", r->name, i);
			bad++;
		}
	return bad;
}

static unsigned int check_flags(struct rig *g, const struct tx_row *r)
{
	struct satpd_conn *c = satpd_conns_get(g->d, MUX_MANAGED);
	bool wanted, seen;

	if (!c)
		return 0;
	wanted = atomic_exchange(&c->keys_wanted, false);
	seen = atomic_exchange(&c->tx_seen, false);
	if (wanted != !!(r->flags & F_KEYS_WANTED) || seen != !!(r->flags & F_TX_SEEN)) {
		print_error("%s: keys_wanted %d tx_seen %d\n", r->name, wanted, seen);
		return 1;
	}
	return 0;
}

static unsigned int run_row(struct rig *g, const struct tx_row *r, unsigned int row)
{
	struct satpd_worker *w = &g->d->sock_worker;
	struct satpd_counters before;
	uint8_t pkt[80];
	unsigned int i, bad;
	size_t len;

	step(g, r->step);
	for (i = 0; i < r->n_pkts; i++) {
		len = pkt_of(&r->pkts[i], row, i, pkt);
		assert_int_equal(write(g->dev[1], pkt, len), (ssize_t)len);
	}
	before = w->ctr;
	satpd_dev_receive(w, g->dev[0]);
	bad = check_counters(g->d, r, &before, &w->ctr);
	for (i = 0; i < r->n_out; i++)
		bad += check_out(g, r, row, &r->out[i]);
	bad += check_peers_empty(g, r);
	bad += check_flags(g, r);
	return bad;
}

static void run_table(enum satpd_dev_type type, const struct tx_row *rows, size_t n)
{
	struct rig g;
	unsigned int bad = 0;
	size_t i;

	rig_up(&g, type);
	for (i = 0; i < n; i++)
		bad += run_row(&g, &rows[i], (unsigned int)i);
	rig_down(&g);
	if (bad)
		fail_msg("%u checks wrong", bad);
}

static void test_tx_tun(void **state)
{
	(void)state;
	run_table(SATPD_DEV_TUN, tun_rows, ARRAY_SIZE(tun_rows));
}

static void test_tx_tap(void **state)
{
	(void)state;
	run_table(SATPD_DEV_TAP, tap_rows, ARRAY_SIZE(tap_rows));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tx_tun),
	    cmocka_unit_test(test_tx_tap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
