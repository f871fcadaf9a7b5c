// SPDX-License-Identifier: GPL-2.0-only
/*
 * xsk_rx: attach satp_rx through the loader, configure one connection, open
 * an AF_XDP socket on one queue (libxdp xsk.h, copy mode, no default program)
 * and count the SATP datagrams that reach it until --count arrive, --seconds
 * pass or SIGINT/SIGTERM. Then print what arrived and how far every reason
 * counter moved,
 * detach (unless --keep) and exit: 0 when --count was reached (or none was
 * asked), 1 when not, 77 when the kernel lacks AF_XDP or the XDP mode.
 *
 *   xsk_rx --ifname IF --pin-root DIR [--mode native|skb] [--queue Q]
 *          --port P [--addr A]... --mux M[:TAG[:WINDOW]] [--count N]
 *          [--seconds S] [--ready FILE] [--keep] [--replace] [-v]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "satp_xdp_loader.h"
#include "satp_wire.h"

#define NUM_FRAMES 4096 /* fill ring (2048) twice over: the kernel never starves */
#define FRAME_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE
#define BATCH	   64
#define EXIT_SKIP  77
#define MAX_ADDRS  8

struct rx_opts {
	const char *ifname;
	const char *pin_root;
	const char *ready;
	enum satp_xdp_attach_mode mode;
	unsigned int queue;
	uint16_t port;
	uint16_t mux;
	unsigned int tag_len;
	unsigned int window;
	unsigned long count;
	unsigned int seconds;
	bool keep;
	bool replace;
	bool verbose;
	int naddrs;
	int family[MAX_ADDRS];
	uint8_t addr[MAX_ADDRS][16];
};

struct rx {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fq;
	struct xsk_ring_cons cq;
	struct xsk_ring_cons rxr;
	void *area;
	unsigned long satp, other;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static void usage(void)
{
	fprintf(stderr, "usage: xsk_rx --ifname IF --pin-root DIR [--mode native|skb] [--queue Q]\n"
			"              --port P [--addr A]... --mux M[:TAG[:WINDOW]] [--count N]\n"
			"              [--seconds S] [--ready FILE] [--keep] [--replace] [-v]\n");
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max || *s == '-') {
		fprintf(stderr, "xsk_rx: invalid %s '%s'\n", what, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_mux(const char *s, struct rx_opts *o)
{
	unsigned long v[3] = {0, SATP_TAG_DEFAULT, 0};
	char buf[64], *tok, *save = NULL;
	int i = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ":", &save); tok && i < 3; tok = strtok_r(NULL, ":", &save), i++) {
		unsigned long max = i == 0 ? 0xffff : (i == 1 ? SATP_TAG_MAX : SATP_WINDOW_BITS);

		if (parse_ulong(tok, max, &v[i], "--mux"))
			return -EINVAL;
	}
	if (!i || tok) {
		fprintf(stderr, "xsk_rx: invalid --mux '%s'\n", s);
		return -EINVAL;
	}
	o->mux = (uint16_t)v[0];
	o->tag_len = (unsigned int)v[1];
	o->window = (unsigned int)v[2];
	return 0;
}

static int parse_addr(const char *s, struct rx_opts *o)
{
	int n = o->naddrs;

	if (n == MAX_ADDRS) {
		fprintf(stderr, "xsk_rx: more than %d --addr\n", MAX_ADDRS);
		return -EINVAL;
	}
	if (inet_pton(AF_INET, s, o->addr[n]) == 1)
		o->family[n] = AF_INET;
	else if (inet_pton(AF_INET6, s, o->addr[n]) == 1)
		o->family[n] = AF_INET6;
	else {
		fprintf(stderr, "xsk_rx: invalid address '%s'\n", s);
		return -EINVAL;
	}
	o->naddrs++;
	return 0;
}

static int parse_opts(int argc, char **argv, struct rx_opts *o)
{
	static const struct option lo[] = {
	    {"ifname", required_argument, NULL, 'i'},  {"pin-root", required_argument, NULL, 'P'},
	    {"mode", required_argument, NULL, 'M'},    {"queue", required_argument, NULL, 'q'},
	    {"port", required_argument, NULL, 'p'},    {"addr", required_argument, NULL, 'a'},
	    {"mux", required_argument, NULL, 'm'},     {"count", required_argument, NULL, 'c'},
	    {"seconds", required_argument, NULL, 's'}, {"ready", required_argument, NULL, 'r'},
	    {"keep", no_argument, NULL, 'k'},	       {"replace", no_argument, NULL, 'R'},
	    {"verbose", no_argument, NULL, 'v'},       {NULL, 0, NULL, 0},
	};
	unsigned long v;
	bool have_mux = false, have_port = false;
	int c;

	o->seconds = 10;
	while ((c = getopt_long(argc, argv, "v", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->ifname = optarg;
			break;
		case 'P':
			o->pin_root = optarg;
			break;
		case 'M':
			if (!strcmp(optarg, "native"))
				o->mode = SATP_XDP_MODE_NATIVE;
			else if (!strcmp(optarg, "skb"))
				o->mode = SATP_XDP_MODE_SKB;
			else {
				fprintf(stderr, "xsk_rx: invalid --mode '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'q':
			if (parse_ulong(optarg, SATP_XDP_MAX_QUEUES - 1, &v, "--queue"))
				return -EINVAL;
			o->queue = (unsigned int)v;
			break;
		case 'p':
			if (parse_ulong(optarg, 0xffff, &v, "--port"))
				return -EINVAL;
			o->port = (uint16_t)v;
			have_port = true;
			break;
		case 'a':
			if (parse_addr(optarg, o))
				return -EINVAL;
			break;
		case 'm':
			if (parse_mux(optarg, o))
				return -EINVAL;
			have_mux = true;
			break;
		case 'c':
			if (parse_ulong(optarg, 1ul << 40, &o->count, "--count"))
				return -EINVAL;
			break;
		case 's':
			if (parse_ulong(optarg, 3600, &v, "--seconds"))
				return -EINVAL;
			o->seconds = (unsigned int)v;
			break;
		case 'r':
			o->ready = optarg;
			break;
		case 'k':
			o->keep = true;
			break;
		case 'R':
			o->replace = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		default:
			usage();
			return -EINVAL;
		}
	}
	if (optind != argc || !o->ifname || !have_mux || !have_port) {
		usage();
		return -EINVAL;
	}
	return 0;
}

static int configure(struct satp_xdp *x, const struct rx_opts *o)
{
	int err, i;

	err = satp_xdp_set_port(x, o->port, true);
	if (!err)
		err = satp_xdp_set_conn(x, o->mux, o->tag_len, o->window);
	if (!err && !o->naddrs)
		err = satp_xdp_set_flags(x, SATP_XDP_ANY_ADDR4 | SATP_XDP_ANY_ADDR6);
	for (i = 0; !err && i < o->naddrs; i++)
		err = satp_xdp_set_addr(x, o->family[i], o->addr[i], true);
	return err;
}

static int open_xsk(struct rx *r, const struct rx_opts *o)
{
	struct xsk_socket_config cfg = {
	    .rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS,
	    .tx_size = 0,
	    .libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
	    .bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP,
	};
	size_t size = (size_t)NUM_FRAMES * FRAME_SIZE;
	__u32 idx, i;
	int err;

	r->area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->area == MAP_FAILED) {
		r->area = NULL;
		return -errno;
	}
	err = xsk_umem__create(&r->umem, r->area, size, &r->fq, &r->cq, NULL);
	if (err)
		return err;
	err = xsk_socket__create(&r->xsk, o->ifname, o->queue, r->umem, &r->rxr, NULL, &cfg);
	if (err)
		return err;
	if (xsk_ring_prod__reserve(&r->fq, XSK_RING_PROD__DEFAULT_NUM_DESCS, &idx) !=
	    XSK_RING_PROD__DEFAULT_NUM_DESCS)
		return -ENOMEM;
	for (i = 0; i < XSK_RING_PROD__DEFAULT_NUM_DESCS; i++)
		*xsk_ring_prod__fill_addr(&r->fq, idx + i) = (__u64)i * FRAME_SIZE;
	xsk_ring_prod__submit(&r->fq, XSK_RING_PROD__DEFAULT_NUM_DESCS);
	return 0;
}

static void close_xsk(struct rx *r)
{
	xsk_socket__delete(r->xsk);
	xsk_umem__delete(r->umem);
	if (r->area)
		munmap(r->area, (size_t)NUM_FRAMES * FRAME_SIZE);
}

/* Is this frame a SATP datagram of our connection? (The program already said so.) */
static bool is_ours(const uint8_t *p, uint32_t len, const struct rx_opts *o)
{
	uint32_t off = 12, l4;
	uint16_t type;

	if (len < 14)
		return false;
	type = (uint16_t)(p[off] << 8 | p[off + 1]);
	while ((type == 0x8100 || type == 0x88A8) && off + 6 <= len) {
		off += 4;
		type = (uint16_t)(p[off] << 8 | p[off + 1]);
	}
	off += 2;
	if (type == 0x0800 && off + 20 <= len && p[off + 9] == 17)
		l4 = off + (p[off] & 0xf) * 4u;
	else if (type == 0x86DD && off + 40 <= len && p[off + 6] == 17)
		l4 = off + 40;
	else
		return false;
	if (l4 + 8 + SATP_HDR_LEN > len)
		return false;
	return (uint16_t)(p[l4 + 2] << 8 | p[l4 + 3]) == o->port &&
	       (uint16_t)(p[l4 + 8 + 6] << 8 | p[l4 + 8 + 7]) == o->mux;
}

static void rx_batch(struct rx *r, const struct rx_opts *o)
{
	__u32 idx_rx = 0, idx_fq = 0, n, i;

	n = xsk_ring_cons__peek(&r->rxr, BATCH, &idx_rx);
	if (!n)
		return;
	while (xsk_ring_prod__reserve(&r->fq, n, &idx_fq) != n)
		; /* the fill ring has room for every frame we own */
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&r->rxr, idx_rx + i);
		const uint8_t *pkt = xsk_umem__get_data(r->area, d->addr);

		if (is_ours(pkt, d->len, o))
			r->satp++;
		else
			r->other++;
		*xsk_ring_prod__fill_addr(&r->fq, idx_fq + i) = xsk_umem__extract_addr(d->addr);
	}
	xsk_ring_prod__submit(&r->fq, n);
	xsk_ring_cons__release(&r->rxr, n);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void receive(struct rx *r, const struct rx_opts *o)
{
	struct pollfd pfd = {.fd = xsk_socket__fd(r->xsk), .events = POLLIN};
	double end = now() + o->seconds;

	while (!stop && now() < end && (!o->count || r->satp < o->count)) {
		if (xsk_ring_prod__needs_wakeup(&r->fq))
			poll(&pfd, 1, 100);
		rx_batch(r, o);
	}
}

/* The pinned counters outlive us: report what moved while we ran. */
static void print_counters(struct satp_xdp *x, const struct satp_xdp_counter *start)
{
	struct satp_xdp_counter c[SATP_XDP_REASON_MAX];
	int i;

	if (satp_xdp_read_counters(x, c))
		return;
	for (i = 0; i < SATP_XDP_REASON_MAX; i++)
		printf("counter %s %llu\n", satp_xdp_reason_names[i],
		       (unsigned long long)(c[i].packets - start[i].packets));
}

static void log_to_stderr(enum satp_xdp_log_level level, const char *fmt, va_list ap)
{
	vfprintf(stderr, fmt, ap);
}

static int touch(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	struct satp_xdp_counter start[SATP_XDP_REASON_MAX] = {0};
	enum satp_xdp_attach_mode kmode;
	uint32_t kid;
	struct satp_xdp_opts xo = {0};
	struct rx_opts o = {0};
	struct satp_xdp *x = NULL;
	struct rx r = {0};
	int err, rc = 1;

	if (parse_opts(argc, argv, &o))
		return 2;
	satp_xdp_set_log(log_to_stderr, o.verbose ? SATP_XDP_LOG_DEBUG : SATP_XDP_LOG_INFO);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	xo.ifname = o.ifname;
	xo.pin_root = o.pin_root;
	xo.mode = o.mode;
	xo.replace = o.replace;
	err = satp_xdp_open(&xo, &x);
	if (!err)
		err = configure(x, &o);
	if (!err)
		err = satp_xdp_read_counters(x, start);
	if (!err)
		err = satp_xdp_attach(x);
	if (err == -EOPNOTSUPP) {
		printf("SKIP: %s XDP is not available on %s\n",
		       o.mode == SATP_XDP_MODE_SKB ? "skb" : "native", o.ifname);
		rc = EXIT_SKIP;
		goto out;
	}
	if (err)
		goto out;
	printf("attached: mode %s dispatcher %s prog_id %u pins %s\n",
	       satp_xdp_mode_name(satp_xdp_mode(x)), satp_xdp_dispatcher(x) ? "yes" : "no",
	       satp_xdp_prog_id(x), satp_xdp_pin_dir(x));
	if (!satp_xdp_query(o.ifname, &kmode, &kid))
		printf("kernel: mode %s prog_id %u\n", satp_xdp_mode_name(kmode), kid);

	err = open_xsk(&r, &o);
	if (err == -EAFNOSUPPORT || err == -EOPNOTSUPP || err == -EPROTONOSUPPORT) {
		printf("SKIP: AF_XDP socket on %s queue %u: %s\n", o.ifname, o.queue,
		       strerror(-err));
		rc = EXIT_SKIP;
		goto out;
	}
	if (!err)
		err = satp_xdp_register_xsk(x, o.queue, xsk_socket__fd(r.xsk));
	if (err) {
		fprintf(stderr, "xsk_rx: AF_XDP socket on %s queue %u: %s\n", o.ifname, o.queue,
			strerror(-err));
		goto out;
	}
	if (o.ready && touch(o.ready)) {
		fprintf(stderr, "xsk_rx: cannot create '%s'\n", o.ready);
		goto out;
	}
	fflush(stdout);
	receive(&r, &o);
	printf("received: satp %lu other %lu\n", r.satp, r.other);
	print_counters(x, start);
	rc = (!o.count || r.satp >= o.count) ? 0 : 1;
out:
	if (x && satp_xdp_mode(x) != SATP_XDP_MODE_NONE) {
		if (r.xsk)
			satp_xdp_unregister_xsk(x, o.queue);
		if (!o.keep && satp_xdp_detach(x))
			rc = 1;
	}
	close_xsk(&r);
	satp_xdp_close(x);
	if (err && rc != EXIT_SKIP)
		fprintf(stderr, "xsk_rx: %s\n", strerror(-err));
	return rc;
}
