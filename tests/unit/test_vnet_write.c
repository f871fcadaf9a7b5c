// SPDX-License-Identifier: GPL-2.0-only
/*
 * The delivery path's writes to a tun with IFF_VNET_HDR (user/satpd/datapath.c
 * dev_write and satpd_dev_flush): delivered TCP segments that continue a flow
 * are merged (satp_gro, gso.h) and written once per receive batch with a GSO
 * virtio_net_hdr; whatever cannot be merged is written at once, with a zero
 * header, after what was merged before it.
 *
 * Each row sends its segments as sealed datagrams from a peer's UDP socket to
 * the daemon's, both real sockets on 127.0.0.1, and lets satpd_udp_receive
 * take them in its batches of SATPD_BATCH; the device fd is one end of a
 * datagram socketpair, so every write is read back whole from the other end.
 * The row names the writes in order: which of its segments each holds, and
 * its virtio header's gso_type. A write of one segment must be that segment
 * byte for byte behind an all-zero header; a merged one must carry the
 * header a kernel's GRO would (gso_size, hdr_len, NEEDS_CSUM at the TCP
 * checksum), the first segment's headers with the lengths fixed and PSH of
 * any segment, the payloads in order, and a TCP checksum that the kernel's
 * completion turns into a valid one.
 *
 * The pure merge rules have their own table in test_gso.c; this one is about
 * what reaches the device and when.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <unistd.h>

#include "datapath.h"
#include "satpd_test_daemon.h"

#define MUX	   1
#define MSS	   1000 /* payload bytes of a full segment */
#define SEGS_MAX   (SATPD_BATCH + 1)
#define WRITES_MAX 4
#define TCP_PSH	   0x08
#define TCP_ACK	   0x10

enum seg_kind {
	TCP4,	  /* TCP over IPv4, flow 0 or 1 */
	TCP6,	  /* TCP over IPv6 */
	UDP4,	  /* not TCP: never merged */
	TCP4_BAD, /* TCP over IPv4 with a wrong checksum: never merged */
};

/* One delivered segment: number k of its flow (TCP seq and IPv4 ID follow it). */
struct seg {
	enum seg_kind kind;
	uint8_t flow;
	uint8_t k;
	uint16_t plen; /* payload bytes; MSS: full */
	bool psh;
};

/* One write to the device: segments first .. first + n - 1 of the row, header of gso_type. */
struct wr {
	unsigned int first, n;
	uint8_t gso_type;
};

struct vnet_row {
	const char *name;
	struct seg segs[SEGS_MAX];
	unsigned int n_segs; /* 0: the row fills SATPD_BATCH + 1 full segments of flow 0 */
	struct wr writes[WRITES_MAX];
	unsigned int n_writes;
	bool dev_gone; /* the device fd is closed: the writes fail */
	unsigned int dev_errors;
	unsigned int lost; /* segments not counted rx_delivered: their own write failed */
};

#define G_NONE VIRTIO_NET_HDR_GSO_NONE
#define G_V4   VIRTIO_NET_HDR_GSO_TCPV4
#define G_V6   VIRTIO_NET_HDR_GSO_TCPV6

/* clang-format off */
static const struct vnet_row rows[] = {
    {"three full segments of a flow: one GSO write",
     {{TCP4, 0, 0, MSS, false}, {TCP4, 0, 1, MSS, false}, {TCP4, 0, 2, MSS, false}}, 3,
     {{0, 3, G_V4}}, 1, false, 0, 0},
    {"one segment alone: written as it came, at the batch's end",
     {{TCP4, 0, 3, MSS, false}}, 1, {{0, 1, G_NONE}}, 1, false, 0, 0},
    {"full, full, short: merged, the short one last",
     {{TCP4, 0, 4, MSS, false}, {TCP4, 0, 5, MSS, false}, {TCP4, 0, 6, 300, false}}, 3,
     {{0, 3, G_V4}}, 1, false, 0, 0},
    {"a short segment ends a merge: what follows is written apart",
     {{TCP4, 0, 7, 300, false}, {TCP4, 0, 8, MSS, false}}, 2,
     {{0, 1, G_NONE}, {1, 1, G_NONE}}, 2, false, 0, 0},
    {"PSH on the last segment: merged, PSH kept",
     {{TCP4, 0, 9, MSS, false}, {TCP4, 0, 10, MSS, true}}, 2, {{0, 2, G_V4}}, 1, false, 0, 0},
    {"PSH in the middle ends the merge",
     {{TCP4, 0, 11, MSS, true}, {TCP4, 0, 12, MSS, false}, {TCP4, 0, 13, MSS, false}}, 3,
     {{0, 1, G_NONE}, {1, 2, G_V4}}, 2, false, 0, 0},
    {"UDP between segments: what was merged, the UDP at once, then the rest",
     {{TCP4, 0, 14, MSS, false}, {TCP4, 0, 15, MSS, false}, {UDP4, 0, 0, 200, false},
      {TCP4, 0, 16, MSS, false}}, 4,
     {{0, 2, G_V4}, {2, 1, G_NONE}, {3, 1, G_NONE}}, 3, false, 0, 0},
    {"two flows interleaved: each switch writes the other's",
     {{TCP4, 0, 17, MSS, false}, {TCP4, 1, 0, MSS, false}, {TCP4, 0, 18, MSS, false}}, 3,
     {{0, 1, G_NONE}, {1, 1, G_NONE}, {2, 1, G_NONE}}, 3, false, 0, 0},
    {"a segment missing: no merge across the gap",
     {{TCP4, 0, 20, MSS, false}, {TCP4, 0, 22, MSS, false}}, 2,
     {{0, 1, G_NONE}, {1, 1, G_NONE}}, 2, false, 0, 0},
    {"a bad TCP checksum: never merged, the kernel drops it",
     {{TCP4, 0, 23, MSS, false}, {TCP4_BAD, 0, 24, MSS, false}}, 2,
     {{0, 1, G_NONE}, {1, 1, G_NONE}}, 2, false, 0, 0},
    {"IPv6: one GSO write of type TCPV6",
     {{TCP6, 0, 0, MSS, false}, {TCP6, 0, 1, MSS, false}, {TCP6, 0, 2, 10, false}}, 3,
     {{0, 3, G_V6}}, 1, false, 0, 0},
    {"a batch and one more: each batch writes what it merged",
     {{TCP4, 0, 0, 0, false}}, 0,
     {{0, SATPD_BATCH, G_V4}, {SATPD_BATCH, 1, G_NONE}}, 2, false, 0, 0},
    {"the device is gone: one error per write; merged segments count as delivered",
     {{TCP4, 0, 30, MSS, false}, {TCP4, 0, 31, MSS, false}, {UDP4, 0, 0, 200, false}}, 3,
     {{0}}, 0, true, 2, 1},
};
/* clang-format on */

struct rig {
	struct satpd *d;
	int dev[2]; /* [0]: the worker's device fd; [1]: what it wrote */
	int peer;
	struct sockaddr_in local, peer_addr;
	struct satp_crypto peer_c;
	uint32_t seq; /* the peer's next SATP seq */
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The one's-complement sum of the pseudo-header: addresses, protocol, L4 length. */
static uint32_t pseudo(const uint8_t *ip, size_t l4_len, uint8_t proto)
{
	uint32_t sum = proto + (uint32_t)l4_len;

	if (ip[0] >> 4 == 4)
		return satp_csum_add(sum, ip + 12, 8);
	return satp_csum_add(sum, ip + 8, 32);
}

/* The segment's IP packet with valid checksums (but TCP4_BAD's); returns its length. */
static size_t seg_of(const struct seg *s, uint8_t *b)
{
	bool v6 = s->kind == TCP6;
	size_t l4 = v6 ? 40 : 20, hdr = l4 + (s->kind == UDP4 ? 8 : 20), len = hdr + s->plen, i;
	uint8_t proto = s->kind == UDP4 ? 17 : 6;

	memset(b, 0, hdr);
	if (v6) {
		b[0] = 0x60;
		put16(b + 4, (uint16_t)(len - l4));
		b[6] = proto;
		b[7] = 64;
		b[8] = 0xfd, b[23] = 2;	 /* fd00::2, the peer's side */
		b[24] = 0xfd, b[39] = 1; /* fd00::1 */
	} else {
		b[0] = 0x45;
		put16(b + 2, (uint16_t)len);
		put16(b + 4, (uint16_t)(100 + s->k));
		b[8] = 64;
		b[9] = proto;
		b[12] = 10, b[13] = 1, b[15] = 2;
		b[16] = 10, b[17] = 1, b[19] = 1;
		put16(b + 10, satp_csum_fold(satp_csum_add(0, b, l4)));
	}
	put16(b + l4, (uint16_t)(40000 + s->flow));
	put16(b + l4 + 2, 80);
	for (i = hdr; i < len; i++)
		b[i] = (uint8_t)(s->k * 7 + i);
	if (s->kind == UDP4) {
		put16(b + l4 + 4, (uint16_t)(len - l4));
		return len;
	}
	put32(b + l4 + 4, 1000 + s->k * MSS); /* seq: full segments before it */
	put32(b + l4 + 8, 1);		      /* ack */
	b[l4 + 12] = 5 << 4;
	b[l4 + 13] = TCP_ACK | (s->psh ? TCP_PSH : 0);
	put16(b + l4 + 14, 512);
	put16(b + l4 + 16, satp_csum_fold(satp_csum_add(pseudo(b, len - l4, 6), b + l4, len - l4)));
	if (s->kind == TCP4_BAD)
		b[l4 + 17] ^= 1;
	return len;
}

/* Segment i of row r (the long row: full segments of flow 0, numbered from 40). */
static struct seg seg_at(const struct vnet_row *r, unsigned int i)
{
	if (r->n_segs)
		return r->segs[i];
	return (struct seg){TCP4, 0, (uint8_t)(40 + i), MSS, false};
}

static unsigned int segs_in(const struct vnet_row *r)
{
	return r->n_segs ? r->n_segs : SATPD_BATCH + 1;
}

static void rig_up(struct rig *g)
{
	struct satpd_worker *w;
	struct satpd_peer_addr a;
	struct satp_keys k;

	memset(g, 0, sizeof(*g));
	g->d = daemon_new(SATPD_DEV_TUN, 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, g->dev), 0);
	assert_int_equal(fcntl(g->dev[1], F_SETFL, O_NONBLOCK), 0);
	w = &g->d->sock_worker;
	assert_int_equal(satpd_worker_init(w, g->d, SATPD_MAIN_WORKER, g->dev[0]), 0);
	/*
	 * satpd_worker_init sets this for a tun fd opened with IFF_VNET_HDR
	 * (TUNGETIFF), which a socketpair is not: the same buffers, by hand.
	 */
	assert_false(w->vnet);
	w->vnet = true;
	w->gso_buf = malloc(SATP_GSO_MAX_LEN);
	w->gro.buf = malloc(SATP_GSO_MAX_LEN);
	assert_true(w->gso_buf && w->gro.buf);
	g->d->udp.n = 1;
	g->d->udp.fds[0] = udp_on_loopback(&g->local);
	g->d->udp.family[0] = AF_INET;
	g->peer = udp_on_loopback(&g->peer_addr);
	/* One connection without routes: it has them all, any inner source fits. */
	add_conn(g->d, MUX);
	satpd_conns_get(g->d, MUX)->mux_fixed = true;
	memset(&a, 0, sizeof(a));
	memcpy(&a.sa, &g->peer_addr, sizeof(g->peer_addr));
	a.len = sizeof(g->peer_addr);
	satpd_conn_set_remote(g->d, satpd_conns_get(g->d, MUX), &a, 0);
	keys_of(&k, MUX);
	k.role = SATP_ROLE_RIGHT;
	assert_int_equal(satp_crypto_init(&g->peer_c, &k), 0);
	g->seq = 1;
}

static void rig_down(struct rig *g)
{
	satp_crypto_free(&g->peer_c);
	satpd_worker_free(&g->d->sock_worker);
	close(g->dev[0]);
	close(g->dev[1]);
	close(g->d->udp.fds[0]);
	close(g->peer);
	daemon_free(g->d);
}

static void send_seg(struct rig *g, const struct seg *s)
{
	uint8_t buf[SATPD_BUF_SIZE];
	size_t len = seg_of(s, buf + SATP_HDR_LEN + SATP_PTYPE_LEN);
	int n = satp_seal(&g->peer_c, buf, sizeof(buf), len, g->seq++, 1, MUX,
			  s->kind == TCP6 ? SATP_PTYPE_IPV6 : SATP_PTYPE_IPV4);

	assert_true(n > 0);
	assert_int_equal(
	    sendto(g->peer, buf, (size_t)n, 0, (struct sockaddr *)&g->local, sizeof(g->local)), n);
}

/* A write of one segment: a zero header, then the segment as it came. */
static unsigned int check_plain(const char *name, const uint8_t *got, size_t n, const uint8_t *seg,
				size_t seg_len)
{
	static const uint8_t zero[SATP_VNET_HDR_LEN];

	if (n != SATP_VNET_HDR_LEN + seg_len || memcmp(got, zero, SATP_VNET_HDR_LEN) ||
	    memcmp(got + SATP_VNET_HDR_LEN, seg, seg_len)) {
		print_error("%s: a write of %zu bytes, want a zero header and %zu bytes\n", name, n,
			    seg_len);
		return 1;
	}
	return 0;
}

/* What the kernel does with NEEDS_CSUM: the sum from csum_start on, stored at csum_offset. */
static bool csum_completes(uint8_t *ip, size_t len, size_t l4)
{
	put16(ip + l4 + 16, satp_csum_fold(satp_csum_add(0, ip + l4, len - l4)));
	return satp_csum_fold(satp_csum_add(pseudo(ip, len - l4, 6), ip + l4, len - l4)) == 0;
}

/* A merged write of segments first..first+n-1, as the kernel's GRO would have built it. */
static unsigned int check_merged(const struct vnet_row *r, const struct wr *wr, uint8_t *got,
				 size_t n)
{
	struct virtio_net_hdr h;
	struct seg s0 = seg_at(r, wr->first);
	uint8_t first[SATPD_BUF_SIZE], seg[SATPD_BUF_SIZE], *ip = got + SATP_VNET_HDR_LEN;
	size_t l4 = s0.kind == TCP6 ? 40 : 20, hdr = l4 + 20, len = hdr, seg_len;
	uint8_t psh = 0;
	unsigned int i;

	seg_of(&s0, first);
	memcpy(&h, got, sizeof(h));
	if (h.flags != VIRTIO_NET_HDR_F_NEEDS_CSUM || h.gso_type != wr->gso_type ||
	    le16toh(h.hdr_len) != hdr || le16toh(h.gso_size) != s0.plen ||
	    le16toh(h.csum_start) != l4 || le16toh(h.csum_offset) != 16) {
		print_error("%s: header flags %u gso_type %u hdr_len %u gso_size %u csum %u+%u\n",
			    r->name, h.flags, h.gso_type, le16toh(h.hdr_len), le16toh(h.gso_size),
			    le16toh(h.csum_start), le16toh(h.csum_offset));
		return 1;
	}
	for (i = 0; i < wr->n; i++) {
		struct seg s = seg_at(r, wr->first + i);

		seg_len = seg_of(&s, seg);
		psh |= seg[l4 + 13] & TCP_PSH;
		if (n < SATP_VNET_HDR_LEN + len + seg_len - hdr ||
		    memcmp(ip + len, seg + hdr, seg_len - hdr)) {
			print_error("%s: segment %u's payload is not where it belongs\n", r->name,
				    wr->first + i);
			return 1;
		}
		len += seg_len - hdr;
	}
	if (n != SATP_VNET_HDR_LEN + len) {
		print_error("%s: a write of %zu bytes, want %zu\n", r->name, n,
			    SATP_VNET_HDR_LEN + len);
		return 1;
	}
	/* The first segment's headers, but the lengths, checksums and PSH. */
	if (l4 == 20) {
		put16(first + 2, (uint16_t)len);
		if (satp_csum_fold(satp_csum_add(0, ip, l4))) {
			print_error("%s: the IPv4 header checksum is wrong\n", r->name);
			return 1;
		}
		put16(first + 10, get16(ip + 10));
	} else {
		put16(first + 4, (uint16_t)(len - l4));
	}
	first[l4 + 13] |= psh;
	put16(first + l4 + 16, get16(ip + l4 + 16));
	if (memcmp(ip, first, hdr) || !csum_completes(ip, len, l4)) {
		print_error("%s: the merged headers or the TCP checksum are wrong\n", r->name);
		return 1;
	}
	return 0;
}

static unsigned int check_writes(struct rig *g, const struct vnet_row *r)
{
	static uint8_t got[SATP_GSO_MAX_LEN];
	uint8_t seg[SATPD_BUF_SIZE];
	unsigned int i, bad = 0;
	ssize_t n;

	for (i = 0;; i++) {
		n = recv(g->dev[1], got, sizeof(got), MSG_DONTWAIT);
		if (n < 0)
			break;
		if (i >= r->n_writes) {
			print_error("%s: a write more, of %zd bytes\n", r->name, n);
			bad++;
		} else if (r->writes[i].n == 1) {
			struct seg s = seg_at(r, r->writes[i].first);

			bad += check_plain(r->name, got, (size_t)n, seg, seg_of(&s, seg));
			bad += r->writes[i].gso_type != G_NONE;
		} else {
			bad += check_merged(r, &r->writes[i], got, (size_t)n);
		}
	}
	if (i < r->n_writes) {
		print_error("%s: %u writes, want %u\n", r->name, i, r->n_writes);
		bad++;
	}
	return bad;
}

static unsigned int run_row(struct rig *g, const struct vnet_row *r)
{
	struct satpd_worker *w = &g->d->sock_worker;
	uint64_t delivered = w->ctr.rx_delivered, dev_errors = w->ctr.rx_dev_error;
	unsigned int i, bad;

	for (i = 0; i < segs_in(r); i++) {
		struct seg s = seg_at(r, i);

		send_seg(g, &s);
	}
	if (r->dev_gone)
		w->dev_fd = -1;
	satpd_udp_receive(w, 0);
	w->dev_fd = g->dev[0];
	bad = check_writes(g, r);
	if (w->ctr.rx_delivered - delivered != segs_in(r) - r->lost ||
	    w->ctr.rx_dev_error - dev_errors != r->dev_errors) {
		print_error("%s: rx_delivered +%" PRIu64 " rx_dev_error +%" PRIu64
			    ", want +%u +%u\n",
			    r->name, w->ctr.rx_delivered - delivered,
			    w->ctr.rx_dev_error - dev_errors, segs_in(r) - r->lost, r->dev_errors);
		bad++;
	}
	return bad;
}

static void test_vnet_writes(void **state)
{
	struct rig g;
	unsigned int bad = 0;
	size_t i;

	(void)state;
	rig_up(&g);
	for (i = 0; i < ARRAY_SIZE(rows); i++)
		bad += run_row(&g, &rows[i]);
	rig_down(&g);
	if (bad)
		fail_msg("%u checks wrong", bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vnet_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
